//! Limits Kubernetes and Compose put on values, checked at the model so that a value they
//! would reject (or silently wrap) is an error at its file, line and column: user and group
//! ids, label and annotation keys and values, image references, namespace names given twice,
//! counts that Kubernetes stores as 32-bit integers. Every mode checks them, whatever its
//! backend: a model that one backend cannot carry is wrong for all.

use envc_model::load::LoadedMode;
use envc_model::model::Security;
use envc_model::{Diagnostic, Diagnostics, Node, Origin};

/// The largest user or group id Kubernetes accepts (`runAsUser`, `runAsGroup`, `fsGroup`
/// are validated to 0..=2147483647).
pub const MAX_ID: i64 = i32::MAX as i64;

/// Every limit of this module, for one loaded mode.
pub fn check(m: &LoadedMode) -> Diagnostics {
    let mut d = Diagnostics::new();
    let at = |path: &str| m.origin_of_path(path);
    for (name, svc) in &m.model.services {
        let base = format!("services.{name}");
        ids(&svc.security, &format!("{base}.security"), &at, &mut d);
        let counts = [
            ("replicas", svc.replicas),
            ("autoscaling.min", svc.autoscaling.as_ref().map(|a| a.min)),
            ("autoscaling.max", svc.autoscaling.as_ref().map(|a| a.max)),
            ("job.retries", svc.job.as_ref().and_then(|j| j.retries)),
            (
                "job.parallelism",
                svc.job.as_ref().and_then(|j| j.parallelism),
            ),
            (
                "job.successful_history",
                svc.job.as_ref().and_then(|j| j.successful_history),
            ),
            (
                "job.failed_history",
                svc.job.as_ref().and_then(|j| j.failed_history),
            ),
        ];
        for (field, v) in counts {
            if let Some(v) = v.filter(|v| i32::try_from(*v).is_err()) {
                d.push(
                    Diagnostic::error(
                        "E-out-of-range",
                        format!("`{field}` of `{name}` is {v}, more than Kubernetes can hold"),
                    )
                    .at(at(&format!("{base}.{field}")), "here")
                    .hint(format!(
                        "Kubernetes stores it as a 32-bit integer: at most {}",
                        i32::MAX
                    )),
                );
            }
        }
    }
    // Keys may hold dots (`example.com/team`): located by segments, not dotted paths.
    for (key, value) in &m.model.environment.labels {
        let path = ["environment", "labels", key.as_str()];
        label(key, Some(value), &m.tree, &path, &mut d);
    }
    if let Some(cloud) = &m.profile.cloud {
        for (pool, p) in &cloud.node_pools {
            for (key, value) in &p.labels {
                let path = ["cloud", "node_pools", pool.as_str(), "labels", key.as_str()];
                label(key, Some(value), &m.profile_tree, &path, &mut d);
            }
        }
    }
    for key in m.profile.kubernetes.ingress_annotations.keys() {
        let path = ["kubernetes", "ingress_annotations", key.as_str()];
        label(key, None, &m.profile_tree, &path, &mut d);
    }
    unique_namespaces(m, &mut d);
    d
}

fn ids(sec: &Security, base: &str, at: &dyn Fn(&str) -> Origin, d: &mut Diagnostics) {
    for (field, v) in [
        ("run_as_user", sec.run_as_user),
        ("run_as_group", sec.run_as_group),
        ("fs_group", sec.fs_group),
    ] {
        let Some(v) = v.filter(|v| !(0..=MAX_ID).contains(v)) else {
            continue;
        };
        d.push(
            Diagnostic::error(
                "E-out-of-range",
                format!("`{field}` {v} is not a user or group id"),
            )
            .at(at(&format!("{base}.{field}")), "here")
            .hint(format!("Kubernetes accepts ids from 0 to {MAX_ID}")),
        );
    }
}

/// Why a label or annotation key is not one Kubernetes accepts, if it is not.
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty() || p.len() > 253 || !p.split('.').all(envc_model::load::is_dns_label))
    {
        return Some(format!(
            "its prefix `{p}` is not a DNS subdomain (lowercase labels separated by dots, at most 253 characters)"
        ));
    }
    if name.is_empty() || name.len() > 63 {
        return Some("its name must have 1 to 63 characters".into());
    }
    if !is_label_text(name) {
        return Some(
            "its name must be letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
                .into(),
        );
    }
    None
}

/// Why a label value is not one Kubernetes accepts, if it is not.
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.len() > 63 {
        return Some("a label value has at most 63 characters".into());
    }
    if !value.is_empty() && !is_label_text(value) {
        return Some("a label value is empty, or letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit".into());
    }
    None
}

fn is_label_text(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(inner)
}

/// A label (with its value) or an annotation key (`value` is `None`: annotation values are
/// free text).
fn label(key: &str, value: Option<&str>, tree: &Node, path: &[&str], d: &mut Diagnostics) {
    let what = if value.is_some() {
        "label"
    } else {
        "annotation"
    };
    if let Some(why) = label_key_problem(key) {
        d.push(
            Diagnostic::error(
                "E-bad-label",
                format!("`{key}` is not a valid {what} key: {why}"),
            )
            .at(tree.key_origin_of(path), "here")
            .hint("write `name` or `prefix/name`, such as `team` or `example.com/team`"),
        );
    }
    if let Some(why) = value.and_then(label_value_problem) {
        let value = value.unwrap_or_default();
        d.push(
            Diagnostic::error("E-bad-label", format!("`{value}` is not a valid value of label `{key}`: {why}"))
                .at(tree.origin_of(path), "here")
                .hint("use a short token such as `data-platform`; put free text in an annotation or a description"),
        );
    }
}

fn unique_namespaces(m: &LoadedMode, d: &mut Diagnostics) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (key, ns) in &m.model.namespaces {
        match seen.iter().find(|(_, n)| *n == ns.name) {
            Some((other, _)) => d.push(
                Diagnostic::error(
                    "E-duplicate-namespace",
                    format!(
                        "namespaces `{other}` and `{key}` are both the Kubernetes namespace `{}`",
                        ns.name
                    ),
                )
                .at(m.origin_of_path(&format!("namespaces.{key}.name")), "here")
                .also(m.origin_of_path(&format!("namespaces.{other}.name")), "also here")
                .hint("give each namespace its own name: kustomize and the cluster refuse one namespace declared twice"),
            ),
            None => seen.push((key, &ns.name)),
        }
    }
}

/// Why `r` is not an image reference by the distribution grammar
/// (`[host[:port]/]path[:tag][@algorithm:hex]`, lowercase path components), if it is not.
pub fn image_problem(r: &str) -> Option<String> {
    if r.is_empty() {
        return Some("it is empty".into());
    }
    let (rest, digest) = match r.split_once('@') {
        Some((n, dg)) => (n, Some(dg)),
        None => (r, None),
    };
    if let Some(dg) = digest
        && let Some(why) = digest_problem(dg)
    {
        return Some(why);
    }
    // A tag follows the last `:` after the last `/` (a `:` before it is a registry port).
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let b = t.as_bytes();
        let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
        if b.is_empty()
            || b.len() > 128
            || !word(&b[0])
            || !b.iter().all(|c| word(c) || matches!(c, b'.' | b'-'))
        {
            return Some(format!(
                "its tag `{t}` is not 1 to 128 letters, digits, `_`, `.` and `-` starting with a letter, digit or `_`"
            ));
        }
    }
    if name.len() > 255 {
        return Some("its name is longer than 255 characters".into());
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    if parts.len() > 1
        && (first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()))
    {
        if !is_registry(first) {
            return Some(format!(
                "`{first}` is not a registry host (`host` or `host:port`)"
            ));
        }
        parts.remove(0);
    }
    for p in parts {
        if !is_path_component(p) {
            return Some(format!(
                "its path component `{p}` is not lowercase letters and digits, separated by `.`, `_`, `__` or dashes"
            ));
        }
    }
    None
}

fn digest_problem(dg: &str) -> Option<String> {
    let Some((alg, hex)) = dg.split_once(':') else {
        return Some(format!(
            "its digest `{dg}` is not `algorithm:hex` (`sha256:` and 64 hex digits)"
        ));
    };
    let hex_ok =
        |n: usize| hex.len() == n && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let ok = match alg {
        "sha256" => hex_ok(64),
        "sha384" => hex_ok(96),
        "sha512" => hex_ok(128),
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "its digest `{dg}` is not `sha256:` followed by 64 lowercase hex digits (or sha384, sha512)"
        )
    })
}

fn is_registry(host: &str) -> bool {
    let (h, port) = match host.rsplit_once(':') {
        // `[::1]` alone: the colons are the address's.
        _ if host.starts_with('[') && host.ends_with(']') => (host, None),
        Some((h, p)) => (h, Some(p)),
        None => (host, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    if h.starts_with('[') && h.ends_with(']') {
        return h[1..h.len() - 1].parse::<std::net::Ipv6Addr>().is_ok();
    }
    !h.is_empty()
        && h.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

fn is_path_component(p: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = p.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    // Separators between alphanumeric runs: `.`, `_`, `__`, or any run of `-`.
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_distribution_grammar() {
        for ok in [
            "redis",
            "redis:7.4.11-alpine",
            "library/redis:7",
            "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
            "localhost:5000/app:1.0",
            "registry.example.com:443/team/app_x__y.z-w:v1",
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "redis:7@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "[::1]:5000/app:1",
            "[::1]/app",
        ] {
            assert_eq!(image_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "redis@sha256:xyz",
            "redis@sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
            "redis@md5:0123456789abcdef0123456789abcdef",
            "Redis:7",
            "redis:",
            "redis:-x",
            "redis:7 alpine",
            "a//b",
            "bad_host.io:x/app",
            "app-:1",
            "app.-x:1",
        ] {
            assert!(image_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn label_keys_and_values() {
        assert_eq!(label_key_problem("team"), None);
        assert_eq!(label_key_problem("example.com/team"), None);
        assert_eq!(label_key_problem("app.kubernetes.io/part-of"), None);
        assert!(label_key_problem("data platform").is_some());
        assert!(label_key_problem("/x").is_some());
        assert!(label_key_problem("Example.com/x").is_some());
        assert!(label_key_problem(&"a".repeat(64)).is_some());
        assert_eq!(label_value_problem(""), None);
        assert_eq!(label_value_problem("data-platform"), None);
        assert!(label_value_problem("data platform!").is_some());
        assert!(label_value_problem("-x").is_some());
        assert!(label_value_problem(&"a".repeat(64)).is_some());
    }
}
