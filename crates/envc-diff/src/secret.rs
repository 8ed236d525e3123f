//! Secrets in diff output: found wherever an input spells one, compared by a keyed hash whose
//! key is random per process, printed only as labels (`<secret 1>`) numbered within one report.
//!
//! Found: values of credential names (environment, `NAME=value` in strings and scripts,
//! `--flag value` and `--flag=value`, `name: value` lines of config files), URL userinfo
//! passwords, `-pPASSWORD` of MySQL clients and `-a PASSWORD` of `redis-cli`, private keys in
//! files, and the whole content of files whose name is a credential's. A digest of a value would
//! let anyone confirm a guessed password offline; a hash keyed by a random key that never leaves
//! the process cannot be checked against guesses, and the labels hide even that.

use std::collections::HashMap;
use std::sync::OnceLock;

use envc_model::model::names_credential;
use sha2::{Digest, Sha256};

/// How a hidden value is spelled inside fact values until a report relabels it.
pub(crate) const OPEN: &str = "<secret:";

/// The per-process key: four words from the standard library's randomly seeded hasher state.
fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut k = [0u8; 32];
        for (i, chunk) in k.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
        k
    })
}

/// HMAC-SHA256 of `value` under the per-process key, as 12 hex digits: equal values give equal
/// ids within one run, and nothing outside the process can recompute one.
pub fn id(value: &[u8]) -> String {
    // A value hidden already keeps its id (a Compose variable substituted by its marker).
    if let Some(inner) = std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.strip_prefix(OPEN))
        .and_then(|v| v.strip_suffix('>'))
        .filter(|v| v.len() == 12 && v.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return inner.to_string();
    }
    let [inner, outer] = keyed();
    let inner = inner.clone().chain_update(value).finalize();
    let mac = outer.clone().chain_update(inner).finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(12);
    for b in mac.iter().take(6) {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    id
}

/// HMAC's inner and outer hashes with their padded key blocks taken in, made once per process:
/// each id then hashes only its value and the inner digest (half the compressions).
fn keyed() -> &'static [Sha256; 2] {
    static KEYED: OnceLock<[Sha256; 2]> = OnceLock::new();
    KEYED.get_or_init(|| {
        let mut inner_key = [0x36u8; 64];
        let mut outer_key = [0x5cu8; 64];
        for (i, b) in key().iter().enumerate() {
            inner_key[i] ^= b;
            outer_key[i] ^= b;
        }
        [
            Sha256::new().chain_update(inner_key),
            Sha256::new().chain_update(outer_key),
        ]
    })
}

/// How a hidden value is written inside a fact value: `<secret:ID>`.
pub fn marker(value: &[u8]) -> String {
    marker_of(&id(value))
}

/// The marker of a value whose [`id`] is `id`.
pub fn marker_of(id: &str) -> String {
    format!("{OPEN}{id}>")
}

/// Programs whose `-pVALUE` is a password.
const MYSQL_CLIENTS: [&str; 5] = [
    "mysql",
    "mysqladmin",
    "mysqldump",
    "mariadb",
    "mariadb-admin",
];

/// Byte ranges of `s` that hold secrets.
pub(crate) fn secret_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    userinfo(s, &mut out);
    assignments(s, &mut out);
    flags(s, &mut out);
    out.sort_unstable();
    // Overlaps merge (a URL inside `password=...`).
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Passwords in `scheme://user:password@host`.
fn userinfo(s: &str, out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(i) = s[from..].find("://") {
        let start = from + i + 3;
        let end = s[start..]
            .find(|c: char| c.is_whitespace() || "/?#'\"`,;".contains(c))
            .map_or(s.len(), |e| start + e);
        let authority = &s[start..end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
            && !is_reference(&authority[colon + 1..at])
        {
            out.push((start + colon + 1, start + at));
        }
        from = end.max(start);
    }
}

/// A value that is only a variable reference (`$DB_PASSWORD`, `${X}`, `$(X)`, `{{ .x }}`)
/// names a secret rather than holding one.
fn is_reference(v: &str) -> bool {
    let v = v.trim_matches(|c| c == '"' || c == '\'');
    v.is_empty() || v.starts_with('$') || v.starts_with("{{") || v.starts_with(OPEN)
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.".contains(c)
}

/// Where a value starting at `start` ends: at the matching quote when quoted, else at white
/// space or a separator.
fn value_end(s: &str, start: usize) -> (usize, usize) {
    let rest = &s[start..];
    if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = rest[1..].find(q).map_or(s.len(), |e| start + 1 + e);
        return (start + 1, close);
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || ";&,'\"`)".contains(c))
        .map_or(s.len(), |e| start + e);
    (start, end)
}

/// `NAME=value` (and `--name=value`) whose name is a credential's.
fn assignments(s: &str, out: &mut Vec<(usize, usize)>) {
    for (i, _) in s.match_indices('=') {
        let before = &s[..i];
        let name_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !name_char(*c))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let name = &before[name_start..];
        if name.is_empty() || !names_credential(name) {
            continue;
        }
        let (a, b) = value_end(s, i + 1);
        if a < b && !is_reference(&s[a..b]) {
            out.push((a, b));
        }
    }
}

/// Whitespace-separated words of `s` with their byte offsets.
fn words(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// `--password VALUE` (a long flag with a credential's name and no `=`), a MySQL client's
/// `-pVALUE` and `redis-cli`'s `-a VALUE`. A bare `-p` is a port to most clients (`psql`,
/// `pg_isready`, `redis-cli`) and is left alone.
fn flags(s: &str, out: &mut Vec<(usize, usize)>) {
    let ws = words(s);
    let program = |name: &str| {
        ws.iter().any(|(_, w)| {
            let w = w.trim_matches(|c| c == '\'' || c == '"');
            w.rsplit('/').next() == Some(name)
        })
    };
    let mysql = MYSQL_CLIENTS.iter().any(|p| program(p));
    let redis = program("redis-cli");
    for (k, (at, w)) in ws.iter().enumerate() {
        let bare = w.trim_matches(|c| c == '\'' || c == '"');
        let next = ws.get(k + 1);
        let takes_next = (bare.starts_with("--") && !bare.contains('=') && names_credential(bare))
            || (redis && bare == "-a");
        if takes_next && let Some((nat, nw)) = next {
            let trimmed = nw.trim_matches(|c| c == '\'' || c == '"');
            if !trimmed.starts_with('-') && !is_reference(trimmed) {
                let off = nw.find(trimmed).unwrap_or(0);
                out.push((nat + off, nat + off + trimmed.len()));
            }
        }
        if mysql && bare.len() > 2 && bare.starts_with("-p") && !is_reference(&bare[2..]) {
            let off = w.find(bare).unwrap_or(0);
            out.push((at + off + 2, at + off + bare.len()));
        }
    }
}

/// `s` with each secret replaced by its marker.
pub fn hide_text(s: &str) -> String {
    let ranges = secret_ranges(s);
    if ranges.is_empty() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (a, b) in ranges {
        out.push_str(&s[at..a]);
        out.push_str(&marker(&s.as_bytes()[a..b]));
        at = b;
    }
    out.push_str(&s[at..]);
    out
}

/// A config file's content with secrets hidden: private keys, `name: value` and `name = value`
/// lines with credential names, and everything [`hide_text`] finds. A file whose own name is a
/// credential's (`/run/secrets/db_password`, `api-token`) is hidden whole.
pub fn hide_file(path: &str, content: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let stem = base.split('.').next().unwrap_or(base);
    if names_credential(stem) || names_credential(base) {
        return marker(content.as_bytes());
    }
    let mut out = String::with_capacity(content.len());
    let mut key_block: Option<String> = None;
    for line in content.split_inclusive('\n') {
        if let Some(block) = &mut key_block {
            block.push_str(line);
            if line.contains("-----END") {
                out.push_str(&marker(block.as_bytes()));
                out.push('\n');
                key_block = None;
            }
            continue;
        }
        if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
            key_block = Some(line.to_string());
            continue;
        }
        out.push_str(&hide_line(line));
    }
    if let Some(block) = key_block {
        out.push_str(&marker(block.as_bytes()));
    }
    out
}

/// One config line: `name: value`, `name = value`, `"name": "value",`.
fn hide_line(line: &str) -> String {
    let body = line.trim_start_matches(|c: char| c.is_whitespace() || "{[,-".contains(c));
    let name_end = body
        .find(|c: char| !(name_char(c) || c == '"' || c == '\''))
        .unwrap_or(body.len());
    let name = body[..name_end].trim_matches(|c| c == '"' || c == '\'');
    let after = body[name_end..].trim_start();
    if !name.is_empty()
        && names_credential(name)
        && let Some(sep) = after.chars().next().filter(|c| *c == ':' || *c == '=')
    {
        let value_at = line.len() - after.len() + sep.len_utf8();
        let raw = line[value_at..].trim_end();
        let value = raw
            .trim()
            .trim_end_matches(',')
            .trim_matches(|c| c == '"' || c == '\'');
        if !is_reference(value)
            && let Some(rel) = line[value_at..].find(value)
        {
            let a = value_at + rel;
            let b = a + value.len();
            return format!(
                "{}{}{}",
                &line[..a],
                marker(&line.as_bytes()[a..b]),
                &line[b..]
            );
        }
    }
    hide_text(line)
}

/// Numbers hidden values in order of first appearance: `<secret:ID>` becomes `<secret N>`, the
/// same N for the same value within one report.
#[derive(Debug, Default)]
pub struct Labels {
    seen: HashMap<String, usize>,
}

impl Labels {
    /// `s` with every marker replaced by its label.
    pub fn relabel(&mut self, s: &str) -> String {
        if !s.contains(OPEN) {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find(OPEN) {
            out.push_str(&rest[..i]);
            let after = &rest[i + OPEN.len()..];
            let Some(end) = after.find('>') else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let n = self.label(&after[..end]);
            out.push_str(&format!("<secret {n}>"));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The number of a hidden value or of a file's content hash.
    pub fn label(&mut self, id: &str) -> usize {
        let next = self.seen.len() + 1;
        *self.seen.entry(id.to_string()).or_insert(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        Labels::default().relabel(&hide_text(s))
    }

    #[test]
    fn url_userinfo_hides_the_password_only() {
        assert_eq!(
            shown("postgres://user:pw@db.example:5432/app?x=1"),
            "postgres://user:<secret 1>@db.example:5432/app?x=1"
        );
        assert_eq!(shown("redis://:@redis:6379/0"), "redis://:@redis:6379/0");
        assert_eq!(
            shown("redis://:hunter2@redis:6379/0 and http://a:b@c"),
            "redis://:<secret 1>@redis:6379/0 and http://a:<secret 2>@c"
        );
        assert_eq!(
            shown("postgres://u:${DB_PASSWORD}@db/x"),
            "postgres://u:${DB_PASSWORD}@db/x"
        );
        assert_eq!(shown("http://example.test/a@b"), "http://example.test/a@b");
    }

    #[test]
    fn flags_and_assignments() {
        assert_eq!(
            shown("app --password hunter2 --port 80"),
            "app --password <secret 1> --port 80"
        );
        assert_eq!(shown("app --password=hunter2"), "app --password=<secret 1>");
        assert_eq!(
            shown("start-notebook.sh --NotebookApp.token='tok' --NotebookApp.password=''"),
            "start-notebook.sh --NotebookApp.token='<secret 1>' --NotebookApp.password=''"
        );
        assert_eq!(
            shown("host=db password=hunter2 user=app"),
            "host=db password=<secret 1> user=app"
        );
        assert_eq!(
            shown("mysqladmin ping -uroot -phunter2"),
            "mysqladmin ping -uroot -p<secret 1>"
        );
        assert_eq!(
            shown("redis-cli -a hunter2 ping"),
            "redis-cli -a <secret 1> ping"
        );
        // A port, to psql.
        assert_eq!(shown("psql -h db -p 5432"), "psql -h db -p 5432");
        assert_eq!(shown("BYPASS=1 PASSTHROUGH=x"), "BYPASS=1 PASSTHROUGH=x");
        assert_eq!(shown("--password-file /run/x"), "--password-file /run/x");
    }

    #[test]
    fn config_files() {
        let text = "db:\n  host: db\n  password: \"hunter2\"\napi_key = abc123\n{\"secret\": \"s3\",\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nend\n";
        let out = Labels::default().relabel(&hide_file("/etc/app.yaml", text));
        for v in ["hunter2", "abc123", "s3\"", "MIIE"] {
            assert!(!out.contains(v), "{v} in {out}");
        }
        assert!(out.contains("host: db") && out.contains("end\n"), "{out}");
        assert!(out.contains("password: \"<secret 1>\""), "{out}");
        let whole = hide_file("/run/secrets/db_password", "hunter2\n");
        assert!(!whole.contains("hunter2"));
    }

    /// The ids are HMAC-SHA256 (RFC 2104) of the value under the process key, spelled out.
    #[test]
    fn ids_are_the_hmac_of_the_value() {
        let hmac = |value: &[u8]| -> String {
            let (mut inner, mut outer) = ([0x36u8; 64], [0x5cu8; 64]);
            for (i, b) in key().iter().enumerate() {
                inner[i] ^= b;
                outer[i] ^= b;
            }
            let inner = Sha256::new()
                .chain_update(inner)
                .chain_update(value)
                .finalize();
            let mac = Sha256::new()
                .chain_update(outer)
                .chain_update(inner)
                .finalize();
            mac.iter().take(6).map(|b| format!("{b:02x}")).collect()
        };
        for value in [&b""[..], b"a", b"hunter2", &[0xffu8; 200]] {
            assert_eq!(id(value), hmac(value));
        }
    }

    #[test]
    fn ids_are_keyed_not_digests() {
        assert_eq!(id(b"a"), id(b"a"));
        assert_ne!(id(b"a"), id(b"b"));
        let digest: String = Sha256::digest(b"a")
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(id(b"a"), digest);
        let mut l = Labels::default();
        assert_eq!(
            l.relabel(&format!(
                "{} {} {}",
                marker(b"x"),
                marker(b"y"),
                marker(b"x")
            )),
            "<secret 1> <secret 2> <secret 1>"
        );
    }
}
