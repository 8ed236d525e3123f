//! `${...}` references inside strings: parsing, and the typed [`Reference`] each path is
//! read into once, which checking and resolution both consume.
//!
//! ```text
//! ${postgres.host}            host name of a service, per mode
//! ${postgres.port}            its only port (or ${postgres.port.<name>}); the Service port in
//!                             Kubernetes, the container port in Compose
//! ${postgres.address.<name>}  host:port
//! ${postgres.env.POSTGRES_DB} another service's literal env value
//! ${secret.postgres-password} a secret's value (env values only; never written inline)
//! ${environment.name} ${environment.ingress_host} ${environment.ingress_scheme} ${namespace.<key>} ${mode.name} ${mode.tier}
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
        /// The dotted path inside `${}`, as written (for messages).
        path: Vec<String>,
        /// The path read as a reference, or the family it failed to be one of.
        reference: Result<Reference, Malformed>,
        /// Offset of `$` in the string.
        offset: usize,
        /// Length of `${...}`.
        len: usize,
    },
}

/// What a `${...}` path names, read once from the path's segments. Whether the things it
/// names exist in a model is for the checker to say; this is the grammar only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `${secret.<name>}`: a secret's value.
    Secret(String),
    /// `${environment.name}`.
    EnvironmentName,
    /// `${environment.ingress_host}`.
    IngressHost,
    /// `${environment.ingress_scheme}`: `https` in modes whose Ingresses serve TLS (or whose
    /// Gateway listener does, `kubernetes.gateway.https`)
    /// (`kubernetes.tls`), `http` elsewhere (Compose modes, Ingresses without TLS).
    IngressScheme,
    /// `${mode.name}`, `${mode.tier}` or `${mode.backend}`.
    Mode(ModeField),
    /// `${namespace.<key>}`: the Kubernetes name of a namespace, by its key in the model.
    Namespace(String),
    /// An attribute of a service.
    Service {
        /// Which service.
        service: Subject,
        /// What of it.
        attribute: Attribute,
    },
}

/// The service a service reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `self`: the service whose string holds the reference.
    Own,
    /// A service by name.
    Named(String),
}

impl Subject {
    /// The service's name, `owner` standing for `self`.
    pub fn name<'a>(&'a self, owner: &'a str) -> &'a str {
        match self {
            Subject::Own => owner,
            Subject::Named(n) => n,
        }
    }
}

/// What a service reference reads from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `.host`: its host name in the mode.
    Host,
    /// `.name`: its name.
    Name,
    /// `.port` (its only port) or `.port.<name>`.
    Port(Option<String>),
    /// `.address` (its only port) or `.address.<name>`: `host:port`.
    Address(Option<String>),
    /// `.env.<NAME>`: another env value of the service.
    Env(String),
}

/// A field of `${mode.…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeField {
    /// The mode's name.
    Name,
    /// Its tier.
    Tier,
    /// Its backend.
    Backend,
}

/// A path that starts a reference family but is none of its references; the family decides
/// the message and hint the checker gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Starts with `secret`.
    Secret,
    /// Starts with `environment`.
    Environment,
    /// Starts with `mode`.
    Mode,
    /// Starts with `namespace`.
    Namespace,
    /// Starts with a service name (or `self`): the service must exist before the shape matters.
    Service(Subject),
}

impl Reference {
    /// Reads a dotted path (as split by [`parse`], never empty) into a reference.
    pub fn from_path(path: &[String]) -> Result<Reference, Malformed> {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        let head = parts.first().copied().unwrap_or_default();
        let rest = parts.get(1..).unwrap_or_default();
        match head {
            "secret" => match rest {
                [name] => Ok(Reference::Secret((*name).to_string())),
                _ => Err(Malformed::Secret),
            },
            "environment" => match rest {
                ["name"] => Ok(Reference::EnvironmentName),
                ["ingress_host"] => Ok(Reference::IngressHost),
                ["ingress_scheme"] => Ok(Reference::IngressScheme),
                _ => Err(Malformed::Environment),
            },
            "mode" => match rest {
                ["name"] => Ok(Reference::Mode(ModeField::Name)),
                ["tier"] => Ok(Reference::Mode(ModeField::Tier)),
                ["backend"] => Ok(Reference::Mode(ModeField::Backend)),
                _ => Err(Malformed::Mode),
            },
            "namespace" => match rest {
                [key] => Ok(Reference::Namespace((*key).to_string())),
                _ => Err(Malformed::Namespace),
            },
            _ => {
                let service = if head == "self" {
                    Subject::Own
                } else {
                    Subject::Named(head.to_string())
                };
                let named = |p: &str| Some(p.to_string());
                let attribute = match rest {
                    ["host"] => Attribute::Host,
                    ["name"] => Attribute::Name,
                    ["port"] => Attribute::Port(None),
                    ["port", p] => Attribute::Port(named(p)),
                    ["address"] => Attribute::Address(None),
                    ["address", p] => Attribute::Address(named(p)),
                    ["env", k] => Attribute::Env((*k).to_string()),
                    _ => return Err(Malformed::Service(service)),
                };
                Ok(Reference::Service { service, attribute })
            }
        }
    }
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
            reference: Reference::from_path(&path),
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
        let path: Vec<String> = p.split('.').map(str::to_string).collect();
        Piece::Ref {
            reference: Reference::from_path(&path),
            path,
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

    fn typed(p: &str) -> Result<Reference, Malformed> {
        let path: Vec<String> = p.split('.').map(str::to_string).collect();
        Reference::from_path(&path)
    }

    #[test]
    fn reads_paths_into_typed_references() {
        let svc = |s: Subject, attribute| {
            Ok(Reference::Service {
                service: s,
                attribute,
            })
        };
        let named = |n: &str| Subject::Named(n.to_string());
        assert_eq!(typed("secret.pw"), Ok(Reference::Secret("pw".into())));
        assert_eq!(typed("secret"), Err(Malformed::Secret));
        assert_eq!(
            typed("environment.ingress_host"),
            Ok(Reference::IngressHost)
        );
        assert_eq!(
            typed("environment.ingress_scheme"),
            Ok(Reference::IngressScheme)
        );
        assert_eq!(typed("environment.host"), Err(Malformed::Environment));
        assert_eq!(typed("mode.tier"), Ok(Reference::Mode(ModeField::Tier)));
        assert_eq!(typed("mode.tier.x"), Err(Malformed::Mode));
        assert_eq!(
            typed("namespace.app"),
            Ok(Reference::Namespace("app".into()))
        );
        assert_eq!(typed("namespace"), Err(Malformed::Namespace));
        assert_eq!(typed("minio.host"), svc(named("minio"), Attribute::Host));
        assert_eq!(typed("self.port"), svc(Subject::Own, Attribute::Port(None)));
        assert_eq!(
            typed("minio.address.api"),
            svc(named("minio"), Attribute::Address(Some("api".into())))
        );
        assert_eq!(
            typed("postgres.env.POSTGRES_DB"),
            svc(named("postgres"), Attribute::Env("POSTGRES_DB".into()))
        );
        assert_eq!(typed("minio.env"), Err(Malformed::Service(named("minio"))));
        assert_eq!(typed("self"), Err(Malformed::Service(Subject::Own)));
    }
}
