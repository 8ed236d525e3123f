//! Diagnostics as data: an id, a severity, a message, labelled spans, hints and a model path.
//! Only the binary renders them.

use crate::source::Origin;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something to know; never fails a run.
    Warning,
    /// The input is invalid; the run exits with code 2.
    Error,
}

/// A span with a short message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub origin: Origin,
    /// What is there (may be empty).
    pub message: String,
    /// The primary label is the one the `file:line:column` header names.
    pub primary: bool,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable identifier, such as `E-unknown-key`; documented in `docs/errors.md`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase, no trailing period.
    pub message: String,
    /// Spans, the primary one first.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub hints: Vec<String>,
    /// The model path (`services.minio.ports.api`), for diagnostics about merged values and for
    /// tools that read them.
    pub path: Option<String>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            hints: Vec::new(),
            path: None,
        }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    /// Adds the primary label.
    pub fn at(mut self, origin: Origin, message: impl Into<String>) -> Self {
        self.labels.insert(
            0,
            Label {
                origin,
                message: message.into(),
                primary: true,
            },
        );
        self
    }

    /// Adds the primary label if there is an origin.
    pub fn at_opt(self, origin: Option<Origin>, message: impl Into<String>) -> Self {
        match origin {
            Some(o) => self.at(o, message),
            None => self,
        }
    }

    /// Adds a secondary label.
    pub fn also(mut self, origin: Origin, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            origin,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Sets the model path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The primary origin, if any.
    pub fn primary(&self) -> Option<Origin> {
        self.labels.iter().find(|l| l.primary).map(|l| l.origin)
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds all of another collection.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file and position (errors without a location last), keeping the relative order
    /// of diagnostics at the same place, and drops exact duplicates.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            d.primary()
                .map_or((u32::MAX, usize::MAX), |o| (o.file.0, o.span.start))
        });
        // The same problem is often found once per mode: keep the first.
        let mut kept: Vec<Diagnostic> = Vec::with_capacity(self.0.len());
        for d in self.0.drain(..) {
            if !kept.contains(&d) {
                kept.push(d);
            }
        }
        self.0 = kept;
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// An error for a name that names nothing: `unknown <kind> `name``, with a did-you-mean hint,
/// or else the list of what exists after `listing`.
pub fn unknown_name<'a, I>(
    code: &'static str,
    kind: &str,
    name: &str,
    candidates: I,
    listing: &str,
) -> Diagnostic
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    let d = Diagnostic::error(code, format!("unknown {kind} `{name}`"));
    match did_you_mean(name, candidates.clone()) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None => d.hint(format!(
            "{listing}: {}",
            candidates.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Suggests the closest candidate to a misspelled name, if one is close enough.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("imagee", ["image", "ports"]), Some("image"));
        assert_eq!(did_you_mean("zzz", ["image", "ports"]), None);
    }
}
