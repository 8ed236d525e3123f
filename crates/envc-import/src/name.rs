//! Names the model accepts: DNS labels for services, volumes, secrets and files, IANA service
//! names for ports.

/// `s` as a DNS label: lowercase, `_`, `.` and spaces as `-`, other characters dropped,
/// starting with a letter, at most `max` characters.
pub(crate) fn label(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if matches!(c, '-' | '_' | '.' | ' ' | '/') && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    let mut out = if trimmed.starts_with(|c: char| c.is_ascii_lowercase()) {
        trimmed.to_string()
    } else {
        format!("x-{trimmed}").trim_end_matches('-').to_string()
    };
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// A name not in `taken`: `base`, else `base-2`, `base-3`, ...
pub(crate) fn unique(base: String, taken: &[String]) -> String {
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|c| !taken.contains(c))
        .unwrap_or(base)
}

/// A port's name from its number: the usual protocol's, else `port-<n>`.
pub(crate) fn port(container: u16, protocol: &str) -> String {
    let known = match container {
        80 | 8080 | 8000 | 3000 | 5000 | 8888 | 4200 | 9090 | 5555 => "http",
        443 | 8443 => "https",
        5432 => "postgres",
        3306 => "mysql",
        6379 => "redis",
        27017 => "mongodb",
        9000 => "api",
        9001 => "console",
        _ => "",
    };
    match (known, protocol) {
        ("", "udp") => format!("udp-{container}"),
        ("", _) => format!("port-{container}"),
        (k, _) => k.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_dns_labels() {
        assert_eq!(label("db_data", 63), "db-data");
        assert_eq!(label("POSTGRES_PASSWORD", 63), "postgres-password");
        assert_eq!(label("9lives", 63), "x-9lives");
        assert_eq!(
            label("/var/lib/postgresql/data", 63),
            "var-lib-postgresql-data"
        );
        assert_eq!(unique("http".into(), &["http".into()]), "http-2");
    }
}
