//! `${...}` references inside strings: parsing and the grammar of reference paths.
//!
//! ```text
//! ${postgres.host}            host name of a service, per mode
//! ${postgres.port}            its only port (or ${postgres.port.<name>}); the Service port in
//!                             Kubernetes, the container port in Compose
//! ${postgres.address.<name>}  host:port
//! ${postgres.env.POSTGRES_DB} another service's literal env value
//! ${secret.postgres-password} a secret's value (env values only; never written inline)
//! ${environment.name} ${environment.ingress_host} ${namespace.<key>} ${mode.name} ${mode.tier}
//! ${self.host} ...            the service itself
//! $${                         a literal `${`
//! ```

/// Names that cannot be services, because they start other reference paths.
pub const RESERVED: [&str; 5] = ["secret", "environment", "namespace", "mode", "self"];

/// A piece of a string with references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A reference, with its byte offset in the string (at the `$`) and its length.
    Ref {
        /// The dotted path inside `${}`.
        path: Vec<String>,
        /// Offset of `$` in the string.
        offset: usize,
        /// Length of `${...}`.
        len: usize,
    },
}

/// A parse error: message and byte offset in the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Where in the string.
    pub offset: usize,
}

/// Splits a string into text and references.
pub fn parse(s: &str) -> Result<Vec<Piece>, ParseError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    let mut pos = 0;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(r) = after.strip_prefix("$${") {
            text.push_str("${");
            rest = r;
            pos += i + 3;
            continue;
        }
        if !after.starts_with("${") {
            text.push('$');
            rest = &after[1..];
            pos += i + 1;
            continue;
        }
        let Some(end) = after.find('}') else {
            return Err(ParseError {
                message:
                    "unclosed `${`: a reference ends with `}` (write `$${` for a literal `${`)"
                        .into(),
                offset: pos + i,
            });
        };
        let inner = after[2..end].trim();
        let path: Vec<String> = inner.split('.').map(str::to_string).collect();
        if inner.is_empty() || path.iter().any(|p| p.is_empty()) {
            return Err(ParseError {
                message: format!("empty or malformed reference `{}`", &after[..=end]),
                offset: pos + i,
            });
        }
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        out.push(Piece::Ref {
            path,
            offset: pos + i,
            len: end + 1,
        });
        rest = &after[end + 1..];
        pos += i + end + 1;
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str, offset: usize, len: usize) -> Piece {
        Piece::Ref {
            path: p.split('.').map(str::to_string).collect(),
            offset,
            len,
        }
    }

    #[test]
    fn splits_text_and_references() {
        assert_eq!(
            parse("http://${minio.host}:${minio.port.api}/x").ok(),
            Some(vec![
                Piece::Text("http://".into()),
                r("minio.host", 7, 13),
                Piece::Text(":".into()),
                r("minio.port.api", 21, 17),
                Piece::Text("/x".into()),
            ])
        );
    }

    #[test]
    fn escapes_and_lone_dollars_are_text() {
        assert_eq!(
            parse("a$${b} $5").ok(),
            Some(vec![Piece::Text("a${b} $5".into())])
        );
    }

    #[test]
    fn reports_unclosed_and_empty_references() {
        assert_eq!(parse("x ${a.b").map_err(|e| e.offset), Err(2));
        assert!(parse("${}").is_err());
        assert!(parse("${a..b}").is_err());
    }
}
