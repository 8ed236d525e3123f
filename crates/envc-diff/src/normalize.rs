//! Normalisation before comparison: service renames, and host names and ports that each
//! format spells its own way (`postgres` in Compose is `postgres.<ns>.svc.cluster.local:5432`
//! through a Service in Kubernetes).

use std::collections::BTreeMap;

use crate::facts::{Facts, FileFacts, secret_hash};

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
            .map(|d| map.get(&d).cloned().unwrap_or(d))
            .collect();
        facts.services.insert(new, f);
    }
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

/// Replaces `from` with `to` where it stands as a whole host name.
fn replace_host(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() || !s.contains(from) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(pos) = s[i..].find(from) {
        let start = i + pos;
        let end = start + from.len();
        let before_ok = s[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_host_char(c));
        let after = s[end..].chars().next();
        // A trailing dot ends a sentence, not a host name.
        let after_ok = after.is_none_or(|c| {
            !is_host_char(c)
                || (c == '.' && s[end + 1..].chars().next().is_none_or(|d| !is_host_char(d)))
        });
        out.push_str(&s[i..start]);
        out.push_str(if before_ok && after_ok { to } else { from });
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

/// The text rewrite that maps every service's spellings onto its bare name (and Service ports
/// onto container ports), for one fact set.
pub fn host_rewriter(
    facts: &Facts,
    renames: &BTreeMap<String, String>,
) -> impl Fn(&str) -> String + use<> {
    let mut rules: Vec<(String, String)> = Vec::new();
    let kubernetes = facts.format == crate::facts::Format::Kubernetes;
    for (name, f) in &facts.services {
        let original = renames
            .iter()
            .find(|(_, to)| *to == name)
            .map(|(from, _)| from.clone())
            .unwrap_or_else(|| name.clone());
        if let (true, Some(ns)) = (kubernetes, &f.namespace) {
            for suffix in [".svc.cluster.local", ".svc", ""] {
                rules.push((format!("{original}.{ns}{suffix}"), name.clone()));
            }
        }
        if original != *name {
            rules.push((original.clone(), name.clone()));
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
                rules.push((format!("{name}.{ns}{suffix}"), target.clone()));
            }
        }
    }
    // Longest first, so `x.ns.svc.cluster.local` wins over `x.ns`.
    rules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    let mut ports: Vec<(String, String)> = Vec::new();
    for (name, f) in &facts.services {
        for (key, p) in &f.ports {
            let container = key.split('/').next().unwrap_or_default();
            if let Some(s) = p.service
                && s.to_string() != container
            {
                ports.push((format!("{name}:{s}"), format!("{name}:{container}")));
            }
        }
    }
    move |s: &str| {
        let mut out = s.to_string();
        for (from, to) in &rules {
            out = replace_host(&out, from, to);
        }
        for (from, to) in &ports {
            out = replace_host(&out, from, to);
        }
        out
    }
}

/// Applies a text rewrite to every value that can hold a host name.
pub fn rewrite(facts: &mut Facts, f: &dyn Fn(&str) -> String) {
    for s in facts.services.values_mut() {
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
                let content = f(&file.content);
                *file = FileFacts {
                    hash: secret_hash(content.as_bytes()),
                    content,
                };
            }
        }
        for p in s.probes.values_mut() {
            p.target = f(&p.target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_host_names_only() {
        assert_eq!(
            replace_host(
                "http://db.shop.svc.cluster.local:5432/x",
                "db.shop.svc.cluster.local",
                "db"
            ),
            "http://db:5432/x"
        );
        assert_eq!(replace_host("mydb.shop", "db.shop", "db"), "mydb.shop");
        assert_eq!(replace_host("to db.shop.", "db.shop", "db"), "to db.");
    }
}
