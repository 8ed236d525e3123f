//! Normalisation before comparison: service renames, and host names and ports that each
//! format spells its own way (`postgres` in Compose is `postgres.<ns>.svc.cluster.local:5432`
//! through a Service in Kubernetes), and Compose restart policies as Kubernetes spells them.

use std::collections::{BTreeMap, HashMap};

use crate::facts::{Facts, FileFacts, Format, ServiceFacts};

/// Renames services: `map[from] = to`.
pub fn rename(facts: &mut Facts, map: &BTreeMap<String, String>) {
    if map.is_empty() {
        return;
    }
    let old = std::mem::take(&mut facts.services);
    for (name, mut f) in old {
        let new = map.get(&name).cloned().unwrap_or(name);
        f.name = new.clone();
        f.depends_on = f
            .depends_on
            .into_iter()
            .map(|(d, c)| (map.get(&d).cloned().unwrap_or(d), c))
            .collect();
        // A route names the Service it leads to, which is the workload's name as a rule.
        for r in f.exposure.values_mut() {
            if let Some(to) = map.get(&r.service) {
                r.service = to.clone();
            }
        }
        facts.services.insert(new, f);
    }
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

/// The text rewrite that maps every service's spellings onto its bare name (and Service ports
/// onto container ports), for one fact set. Host names are found as whole tokens and looked
/// up in a map, so the cost is linear in the text, not in the number of services.
pub fn host_rewriter(
    facts: &Facts,
    renames: &BTreeMap<String, String>,
) -> impl Fn(&str) -> String + use<> {
    let mut hosts: HashMap<String, String> = HashMap::new();
    let kubernetes = facts.format == crate::facts::Format::Kubernetes;
    for (name, f) in &facts.services {
        let original = renames
            .iter()
            .find(|(_, to)| *to == name)
            .map(|(from, _)| from.clone())
            .unwrap_or_else(|| name.clone());
        if let (true, Some(ns)) = (kubernetes, &f.namespace) {
            for suffix in [".svc.cluster.local", ".svc", ""] {
                hosts.insert(format!("{original}.{ns}{suffix}"), name.clone());
            }
        }
        if original != *name {
            hosts.insert(original.clone(), name.clone());
        }
    }
    // Services without a workload here (aliases of managed databases, say) are still hosts.
    if kubernetes {
        for (name, ns) in &facts.endpoints {
            if facts.services.contains_key(name) {
                continue;
            }
            let target = renames.get(name).cloned().unwrap_or_else(|| name.clone());
            for suffix in [".svc.cluster.local", ".svc", ""] {
                hosts
                    .entry(format!("{name}.{ns}{suffix}"))
                    .or_insert_with(|| target.clone());
            }
        }
    }
    let mut ports: HashMap<(String, String), String> = HashMap::new();
    for (name, f) in &facts.services {
        for (port, p) in &f.ports {
            if let Some(s) = p.service
                && s != port.number
            {
                ports.insert((name.clone(), s.to_string()), port.number.to_string());
            }
        }
    }
    move |s: &str| rewrite_hosts(s, &hosts, &ports)
}

/// One pass over `s`: every maximal run of host characters that names a known spelling is
/// replaced (a trailing dot ends a sentence and is kept), and a `host:port` whose port is a
/// Service port becomes the container port.
fn rewrite_hosts(
    s: &str,
    hosts: &HashMap<String, String>,
    ports: &HashMap<(String, String), String>,
) -> String {
    if hosts.is_empty() && ports.is_empty() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let run_len = rest.find(|c: char| !is_host_char(c)).unwrap_or(rest.len());
        if run_len == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let run = &rest[..run_len];
        let (token, dot) = match run.strip_suffix('.') {
            Some(t) if !hosts.contains_key(run) => (t, "."),
            _ => (run, ""),
        };
        let before = &s[..s.len() - rest.len()];
        let after = &rest[run_len..];
        let host = match hosts.get(token) {
            Some(h) if host_position(token, before, after, s) => h.as_str(),
            _ => token,
        };
        out.push_str(host);
        out.push_str(dot);
        rest = &rest[run_len..];
        // `host:port`
        if dot.is_empty()
            && let Some(after) = rest.strip_prefix(':')
        {
            let digits_len = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            if digits_len > 0
                && let Some(container) =
                    ports.get(&(host.to_string(), after[..digits_len].to_string()))
            {
                out.push(':');
                out.push_str(container);
                rest = &after[digits_len..];
            }
        }
    }
    out
}

/// Whether a token stands where a host name goes: a cluster DNS name (`x.ns.svc...`) anywhere;
/// any other spelling (a bare or renamed service name) only as a URL's host (after `://` or
/// `@`), before `:<port>`, or as the whole value. A service name elsewhere (a telemetry
/// attribute, a probe path, a word in a script) is the file's own text and is never rewritten.
fn host_position(token: &str, before: &str, after: &str, whole: &str) -> bool {
    if token.contains(".svc") {
        return true;
    }
    before.ends_with("://")
        || before.ends_with('@')
        || after
            .strip_prefix(':')
            .is_some_and(|p| p.starts_with(|c: char| c.is_ascii_digit()))
        || whole == token
}

/// Applies a text rewrite to every value of a service that can hold a host name.
fn rewrite(s: &mut ServiceFacts, f: &dyn Fn(&str) -> String) {
    for v in s.env.values_mut() {
        *v = v.map_text(f);
    }
    if let Some(c) = &mut s.command {
        *c = c.iter().map(|w| f(w)).collect();
    }
    if let Some(a) = &mut s.args {
        *a = a.iter().map(|w| f(w)).collect();
    }
    for file in s.files.values_mut() {
        if !file.content.is_empty() {
            *file = FileFacts::text(f(&file.content));
        }
    }
    for p in s.probes.values_mut() {
        p.target = f(&p.target);
    }
    for step in s.init.values_mut().chain(s.sidecars.values_mut()) {
        for v in step.env.values_mut() {
            *v = v.map_text(f);
        }
        for words in [&mut step.command, &mut step.args].into_iter().flatten() {
            *words = words.iter().map(|w| f(w)).collect();
        }
    }
}

/// A Compose restart policy as Kubernetes would spell it, for comparing a Compose set with a
/// Kubernetes one: a long-running Kubernetes workload always restarts, and `unless-stopped`
/// differs from `always` only when the Docker daemon itself restarts, which Kubernetes has no
/// counterpart of.
fn restart_as_kubernetes(s: &mut ServiceFacts) {
    if s.restart.as_deref() == Some("unless-stopped") {
        s.restart = Some("always".into());
    }
}

/// Security settings each runtime defaults, for comparing a Compose service with a Kubernetes
/// one: Docker confines every container with its default seccomp profile unless told
/// otherwise, so a Compose service with no `seccomp` option runs what Kubernetes calls
/// `RuntimeDefault`. Only the side that leaves the setting out takes the other side's value,
/// so an explicit difference stays one. (`privileged: false`, the default of both, is read as
/// unset by both readers.)
fn security_defaults(compose: &mut ServiceFacts, kube: &ServiceFacts) {
    if compose.security.seccomp.is_none()
        && kube.security.seccomp.as_deref() == Some("runtime-default")
    {
        compose.security.seccomp = kube.security.seccomp.clone();
    }
}

/// How the services of two sets (B's already renamed) are normalised before they are
/// compared: each pair of services of one name on its own, so that a large set is normalised
/// as it is compared, in two halves, and no copy of either whole set is held to show the
/// values as they were.
pub struct Normalizer<A, B> {
    formats: (Format, Format),
    /// A's and B's host rewrites ([`host_rewriter`]).
    hosts: (A, B),
}

/// The [`Normalizer`] of sets `a` and `b` (B's services renamed with `renames`).
pub fn normalizer(
    a: &Facts,
    b: &Facts,
    renames: &BTreeMap<String, String>,
) -> Normalizer<impl Fn(&str) -> String + Sync + use<>, impl Fn(&str) -> String + Sync + use<>> {
    Normalizer {
        formats: (a.format, b.format),
        hosts: (
            host_rewriter(a, &BTreeMap::new()),
            host_rewriter(b, renames),
        ),
    }
}

impl<A: Fn(&str) -> String, B: Fn(&str) -> String> Normalizer<A, B> {
    /// Normalises A's and B's services of one name (either may be missing): between formats,
    /// Compose restart policies and security defaults as Kubernetes spells them; then each
    /// side's host names and ports.
    pub fn pair(&self, a: Option<&mut ServiceFacts>, b: Option<&mut ServiceFacts>) {
        let (mut a, mut b) = (a, b);
        let (fa, fb) = self.formats;
        if fa != fb {
            for (format, s) in [(fa, a.as_deref_mut()), (fb, b.as_deref_mut())] {
                if let (Format::Compose, Some(s)) = (format, s) {
                    restart_as_kubernetes(s);
                }
            }
            if let (Some(sa), Some(sb)) = (a.as_deref_mut(), b.as_deref_mut()) {
                match (fa, fb) {
                    (Format::Compose, Format::Kubernetes) => security_defaults(sa, sb),
                    (Format::Kubernetes, Format::Compose) => security_defaults(sb, sa),
                    _ => {}
                }
            }
        }
        if let Some(s) = a {
            rewrite(s, &self.hosts.0);
        }
        if let Some(s) = b {
            rewrite(s, &self.hosts.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_host_names_only() {
        let hosts = HashMap::from([
            ("db.shop.svc.cluster.local".to_string(), "db".to_string()),
            ("db.shop".to_string(), "db".to_string()),
        ]);
        let ports = HashMap::from([(("db".to_string(), "80".to_string()), "8080".to_string())]);
        let r = |s: &str| rewrite_hosts(s, &hosts, &ports);
        assert_eq!(
            r("http://db.shop.svc.cluster.local:5432/x"),
            "http://db:5432/x"
        );
        assert_eq!(r("mydb.shop"), "mydb.shop");
        assert_eq!(r("to db.shop."), "to db.shop.");
        assert_eq!(
            r("db.shop:80/v1 and db.shop:8000"),
            "db:8080/v1 and db:8000"
        );
        assert_eq!(r("ünïcode db.shop"), "ünïcode db.shop");
        assert_eq!(r("db.shop"), "db");
        assert_eq!(r("postgres://u@db.shop/x"), "postgres://u@db/x");
    }

    /// A renamed service's old name is rewritten only where a host goes.
    #[test]
    fn only_host_positions() {
        let hosts = HashMap::from([("minio-local".to_string(), "minio".to_string())]);
        let ports = HashMap::new();
        let r = |s: &str| rewrite_hosts(s, &hosts, &ports);
        assert_eq!(r("http://minio-local:9000/x"), "http://minio:9000/x");
        assert_eq!(r("minio-local:9000"), "minio:9000");
        assert_eq!(r("minio-local"), "minio");
        assert_eq!(
            r("service.name=minio-local,env=dev"),
            "service.name=minio-local,env=dev"
        );
        assert_eq!(r("/health/minio-local"), "/health/minio-local");
        assert_eq!(r("echo minio-local is up"), "echo minio-local is up");
    }
}
