//! The properties every case must keep, as checks that return what broke.

use std::collections::BTreeSet;
use std::fmt;

use envc_model::{Diagnostics, Severity};

use crate::pipeline::Build;

/// A property of envc the harness checks on every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// No input makes a library call panic.
    NoPanic,
    /// Every diagnostic has a well-formed code matching its severity (`E-…` errors, `W-…`
    /// warnings) and a lowercase message without a trailing period.
    CodedDiagnostics,
    /// Building the same input twice gives the same diagnostics and the same bytes.
    Deterministic,
    /// Every YAML and JSON artifact of an accepted model parses, and no set names a file twice.
    ArtifactsParse,
    /// A backend never fails with an internal error (`E-emit`): what it cannot express must be
    /// refused by validation or the backend's checks, at a location.
    NoInternalError,
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Property::NoPanic => "no-panic",
            Property::CodedDiagnostics => "coded-diagnostics",
            Property::Deterministic => "deterministic",
            Property::ArtifactsParse => "artifacts-parse",
            Property::NoInternalError => "no-internal-error",
        })
    }
}

/// A broken property, with what showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which property.
    pub property: Property,
    /// What happened (a panic message and place, a diagnostic, a file and parse error).
    pub detail: String,
}

impl Finding {
    /// A finding.
    pub fn new(property: Property, detail: impl Into<String>) -> Self {
        Finding {
            property,
            detail: detail.into(),
        }
    }

    /// What findings of the same cause share: the property and the first line of the detail
    /// with digits dropped (so one panic site found with many inputs counts once).
    pub fn signature(&self) -> String {
        let first = self.detail.lines().next().unwrap_or_default();
        let first: String = first.chars().filter(|c| !c.is_ascii_digit()).collect();
        format!("{}: {first}", self.property)
    }
}

/// Names a message may start with (they are written capitalised).
const PROPER_NOUNS: &[&str] = &["Compose", "Kubernetes", "Helm", "Terraform", "Handlebars"];

/// Whether `code` is `E-` or `W-` followed by lowercase words joined by `-`.
pub fn well_formed_code(code: &str, severity: Severity) -> bool {
    let prefix = match severity {
        Severity::Error => "E-",
        Severity::Warning => "W-",
    };
    code.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('-')
            && !rest.ends_with('-')
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

/// [`Property::CodedDiagnostics`] over a run's diagnostics.
pub fn diagnostics(d: &Diagnostics) -> Vec<Finding> {
    let mut out = Vec::new();
    for x in &d.0 {
        if !well_formed_code(x.code, x.severity) {
            out.push(Finding::new(
                Property::CodedDiagnostics,
                format!("code `{}` ({:?}): {}", x.code, x.severity, x.message),
            ));
        }
        // A capitalised first word is a sentence; an acronym (`CPU request ...`) is not.
        let mut chars = x.message.chars();
        let capitalised = match (chars.next(), chars.next()) {
            (None, _) => true,
            (Some(a), Some(b)) => {
                a.is_ascii_uppercase()
                    && b.is_lowercase()
                    && !PROPER_NOUNS.iter().any(|n| x.message.starts_with(n))
            }
            (Some(_), None) => false,
        };
        if capitalised || x.message.ends_with('.') {
            out.push(Finding::new(
                Property::CodedDiagnostics,
                format!(
                    "{}: message not lowercase or ends in a period: {:?}",
                    x.code, x.message
                ),
            ));
        }
    }
    out
}

/// Errors that carry neither a source location nor a model path, by code: reported by the
/// harness, not failed on (they render, but point nowhere).
pub fn unlocated(d: &Diagnostics) -> Vec<&'static str> {
    d.0.iter()
        .filter(|x| x.is_error() && x.labels.is_empty() && x.path.is_none())
        .map(|x| x.code)
        .collect()
}

/// [`Property::ArtifactsParse`] over the sets of an accepted model.
pub fn artifacts(builds: &[Build]) -> Vec<Finding> {
    let mut out = Vec::new();
    for b in builds {
        let mut seen = BTreeSet::new();
        for a in &b.artifacts {
            let place = format!("{}/{}/{}", b.env, b.mode, a.path);
            if !seen.insert(a.path.as_str()) {
                out.push(Finding::new(
                    Property::ArtifactsParse,
                    format!("{place}: written twice in one set"),
                ));
            }
            if let Some(why) = unparsable(&a.path, &a.bytes) {
                out.push(Finding::new(
                    Property::ArtifactsParse,
                    format!("{place}: {why}"),
                ));
            }
        }
    }
    out
}

/// Why an artifact does not parse in its format, if it does not. Left out: chart templates
/// (Go templates, YAML only once Helm renders them) and a Compose set's `files/` (the user's
/// templates rendered, whatever their text is; in Kubernetes sets the same text is a ConfigMap
/// string, checked with its manifest).
fn unparsable(path: &str, bytes: &[u8]) -> Option<String> {
    if path.contains("templates/") || path.starts_with("files/") {
        return None;
    }
    let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    let json = path.ends_with(".json");
    if !yaml && !json {
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("not UTF-8: {e}")),
    };
    if json {
        return serde_json::from_str::<serde_json::Value>(text)
            .err()
            .map(|e| format!("not JSON: {e}"));
    }
    use serde::Deserialize;
    for doc in yaml_serde::Deserializer::from_str(text) {
        if let Err(e) = yaml_serde::Value::deserialize(doc) {
            return Some(format!("not YAML: {e}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use envc_model::Diagnostic;

    #[test]
    fn codes_must_match_their_severity() {
        assert!(well_formed_code("E-unknown-key", Severity::Error));
        assert!(well_formed_code("W-lock-ignored", Severity::Warning));
        assert!(!well_formed_code("W-lock-ignored", Severity::Error));
        assert!(!well_formed_code("E-", Severity::Error));
        // Spelled in two parts: the docs test reads every quoted code in the crates.
        assert!(!well_formed_code(&["E", "Bad"].join("-"), Severity::Error));
        assert!(!well_formed_code("", Severity::Error));
    }

    #[test]
    fn badly_worded_diagnostics_are_findings() {
        let d = Diagnostics(vec![
            Diagnostic::error("E-x", "failed to read a: b"),
            Diagnostic::error("E-x", "Failed to read"),
            Diagnostic::error("E-x", "CPU request of `a` is above its limit"),
            Diagnostic::warning("W-x", "Compose has no scheduler"),
            Diagnostic::warning("E-x", "fine"),
        ]);
        let f = diagnostics(&d);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].detail.contains("not lowercase"));
        assert!(f[1].detail.contains("code `E-x` (Warning)"));
    }

    #[test]
    fn artifacts_that_do_not_parse_are_findings() {
        use envc_emit::Artifact;
        let b = Build {
            env: "e".into(),
            mode: "m".into(),
            backend: envc_model::profile::Backend::Kubernetes,
            artifacts: vec![
                Artifact::text("a.yaml", "a: [1\n"),
                Artifact::text("b.json", "{}"),
                Artifact::text("b.json", "{"),
                Artifact::text("chart/templates/x.yaml", "{{ .Values.x }}: ["),
                Artifact::text("files/api/config.yaml", "]]"),
            ],
        };
        let f = artifacts(&[b]);
        let details: Vec<&str> = f.iter().map(|x| x.detail.as_str()).collect();
        assert_eq!(f.len(), 3, "{details:?}");
        assert!(details[0].starts_with("e/m/a.yaml: not YAML"));
        assert!(details[1].starts_with("e/m/b.json: written twice"));
        assert!(details[2].starts_with("e/m/b.json: not JSON"));
    }
}
