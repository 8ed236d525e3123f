//! Rendering a classified comparison for people (grouped by service, colored when asked) and
//! for machines (JSON, format version 2, documented in docs/diff.md).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use envc_model::style::{Role, Stylesheet};

use crate::classify::Accept;
use crate::compare::{Class, Comparison, Difference};
use crate::facts::Format;
use crate::key::Key;
use crate::secret::Labels;

/// A unified diff for a terminal: every line indented, additions and removals styled when
/// `color` is set.
pub fn unified_diff_text(diff: &str, color: bool, indent: &str) -> String {
    let style = Stylesheet::new(color);
    let mut out = String::new();
    for l in diff.lines() {
        let role = if l.starts_with('+') && !l.starts_with("+++") {
            Some(Role::Added)
        } else if l.starts_with('-') && !l.starts_with("---") {
            Some(Role::Removed)
        } else {
            None
        };
        match role {
            Some(r) => out.push_str(&format!("{indent}{}\n", style.paint(r, l))),
            None => out.push_str(&format!("{indent}{l}\n")),
        }
    }
    out
}

/// JSON format version; bump on any incompatible change (docs/diff.md).
pub const FORMAT_VERSION: u32 = 2;

/// A side of the comparison, as reported.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Side {
    /// What was compared: `mode docker` or a path.
    pub label: String,
    /// The format its facts were read from.
    pub format: Format,
    /// Mode name: present when the side is a mode built from the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub mode: Option<String>,
}

/// Counts by class.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Summary {
    /// Services present on both sides.
    pub services: usize,
    /// Differences in total.
    pub differences: usize,
    /// Drift.
    pub drift: usize,
    /// Expected.
    pub expected: usize,
    /// Not representable.
    pub not_representable: usize,
    /// Accepted.
    pub accepted: usize,
    /// The same value, plain on one side and a secret on the other.
    pub moved_into_secret: usize,
    /// Values equal once host names, ports and restart policies are resolved per format.
    pub normalized: usize,
    /// Accepted differences that no longer occur.
    pub stale_accepted: usize,
}

/// envc diff report, format version 2.
///
/// The JSON output of `envc diff --format json` (docs/diff.md). Fields are only ever added
/// within a format version; anything else bumps `format_version`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(
    deny_unknown_fields,
    title = "envc diff report, format version 2",
    extend("$id" = "https://envc.dev/schemas/diff-v2.json")
)]
pub struct Report {
    /// Format version of this JSON.
    #[schemars(extend("const" = 2))]
    pub format_version: u32,
    /// Side A.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// Counts.
    pub summary: Summary,
    /// Every difference.
    pub differences: Vec<Difference>,
    /// Accepted differences that matched nothing.
    pub stale_accepted: Vec<Accept>,
    /// What the extractors could not read.
    pub notes: Vec<String>,
}

impl Report {
    /// Assembles a report.
    pub fn new(a: Side, b: Side, c: Comparison, stale: Vec<Accept>, notes: Vec<String>) -> Report {
        let count = |k: Class| c.differences.iter().filter(|d| d.class == k).count();
        let summary = Summary {
            services: c.services,
            differences: c
                .differences
                .iter()
                .filter(|d| d.class != Class::Normalized)
                .count(),
            drift: count(Class::Drift),
            expected: count(Class::Expected),
            not_representable: count(Class::NotRepresentable),
            accepted: count(Class::Accepted),
            moved_into_secret: count(Class::MovedIntoSecret),
            normalized: c.normalized,
            stale_accepted: stale.len(),
        };
        let mut differences = c.differences;
        relabel(&mut differences);
        Report {
            format_version: FORMAT_VERSION,
            a,
            b,
            summary,
            differences,
            stale_accepted: stale,
            notes,
        }
    }

    /// Whether anything is drift.
    pub fn has_drift(&self) -> bool {
        self.summary.drift > 0
    }

    /// The JSON Schema of [`Report`] (draft-07), as committed in docs/diff.schema.json.
    pub fn schema() -> serde_json::Value {
        let generator = schemars::generate::SchemaSettings::draft07()
            .with(|s| s.contract = schemars::generate::Contract::Serialize)
            .into_generator();
        generator.into_root_schema_for::<Report>().to_value()
    }

    /// JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Text for people; `drift_only` hides the explained differences.
    pub fn text(&self, color: bool, drift_only: bool) -> String {
        let style = Stylesheet::new(color);
        let paint = |role: Role, s: &str| style.paint(role, s);
        let mut out = String::new();
        out.push_str(&format!(
            "{} {} ({}) vs {} ({})\n",
            paint(Role::Heading, "envc diff:"),
            self.a.label,
            self.a.format.as_str(),
            self.b.label,
            self.b.format.as_str()
        ));
        let mut current = "";
        // Written into `out` as it goes (a 1,000-service report is 6,000 lines; a string per
        // part of each was a sixth of what follows the comparison).
        for d in &self.differences {
            if drift_only && d.class != Class::Drift {
                continue;
            }
            if d.service != current {
                current = &d.service;
                let _ = write!(out, "\n{}\n", paint(Role::Heading, &d.service));
            }
            let role = match d.class {
                Class::Drift => Role::Error,
                Class::Expected => Role::Success,
                Class::NotRepresentable => Role::Info,
                Class::Accepted => Role::Changed,
                Class::MovedIntoSecret => Role::Changed,
                Class::Normalized => Role::Info,
            };
            fn show(v: &Option<String>) -> &str {
                v.as_deref().unwrap_or("(none)")
            }
            // Padded before painting, so escape codes do not count towards the width.
            let class = format!("{:<18}", d.class.as_str());
            let _ = write!(
                out,
                "  {} {}: {} -> {}",
                paint(role, &class),
                d.key,
                show(&d.a),
                show(&d.b)
            );
            if !d.reason.is_empty() {
                let _ = write!(out, "  ({}", d.reason);
                if let Some(at) = &d.at {
                    let _ = write!(out, ", {at}");
                }
                out.push(')');
            }
            out.push('\n');
            if let Some(t) = &d.text_diff {
                out.push_str(&unified_diff_text(t, color, "      "));
            }
        }
        if !self.stale_accepted.is_empty() {
            out.push_str(&format!(
                "\n{}\n",
                paint(
                    Role::Warning,
                    "stale accepted differences (no longer occur; remove them)"
                )
            ));
            for s in &self.stale_accepted {
                out.push_str(&format!(
                    "  {} {}: {} ({})\n",
                    s.service, s.key, s.reason, s.at
                ));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        let s = &self.summary;
        out.push_str(&format!(
            "\n{} services compared: {} drift, {} expected, {} not representable, {} accepted{}; {} values equal once host names, ports and restart policies resolve per format\n",
            s.services,
            if s.drift > 0 { paint(Role::Error, &s.drift.to_string()) } else { s.drift.to_string() },
            s.expected,
            s.not_representable,
            s.accepted,
            if s.moved_into_secret > 0 {
                format!(", {} moved into a secret", s.moved_into_secret)
            } else {
                String::new()
            },
            s.normalized
        ));
        out
    }
}

/// Hidden values become labels numbered within the report (`<secret 1>`), and a file's
/// content id `<content N>`: what is printed says same or differs, never a digest.
fn relabel(differences: &mut [Difference]) {
    let mut secrets = Labels::default();
    let mut contents = Labels::default();
    for d in differences {
        let file = matches!(d.key, Key::File(_));
        for v in [&mut d.a, &mut d.b].into_iter().flatten() {
            *v = if file && !v.contains('<') {
                // A binary file's value is `<hash> binary <n> bytes`: labelled by its hash,
                // shown with its size.
                match v.split_once(' ') {
                    Some((hash, rest)) => {
                        let size = rest.strip_prefix(crate::facts::BINARY).unwrap_or(rest);
                        format!("<content {}, binary,{size}>", contents.label(hash))
                    }
                    None => format!("<content {}>", contents.label(v)),
                }
            } else {
                secrets.relabel(v)
            };
        }
        if let Some(t) = &mut d.text_diff {
            *t = secrets.relabel(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/diff.schema.json is generated from the report types; `ENVC_BLESS=1` rewrites it
    /// (docs/testing.md), and the diff of the file is the change to review.
    #[test]
    fn committed_schema_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/diff.schema.json");
        let generated = format!(
            "{}\n",
            serde_json::to_string_pretty(&Report::schema()).unwrap_or_default()
        );
        if std::env::var_os("ENVC_BLESS").is_some() {
            std::fs::write(path, &generated).unwrap_or_else(|e| panic!("write {path}: {e}"));
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/diff.schema.json is not the schema of render::Report; regenerate it with \
             ENVC_BLESS=1 cargo test -p envc-diff and review the diff"
        );
    }
}
