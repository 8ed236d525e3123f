//! Renders diagnostics (data from the libraries) for people, with source excerpts.

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label as CsLabel, Severity as CsSeverity,
};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use codespan_reporting::term::{self, Config, Styles, StylesWriter};
use envc_model::{Diagnostic, Diagnostics, Severity, Sources};

/// Renders diagnostics to a string (no color): used by tests and when stderr is not a tty.
pub fn to_string(sources: &Sources, diags: &Diagnostics) -> String {
    let (files, list) = convert(sources, diags);
    let config = Config::default();
    let mut out = String::new();
    for d in &list {
        if let Ok(s) = term::emit_into_string(&config, &files, d) {
            out.push_str(&s);
        }
    }
    out
}

/// Renders diagnostics to stderr.
pub fn emit(sources: &Sources, diags: &Diagnostics, color: bool) {
    if !color {
        eprint!("{}", to_string(sources, diags));
        return;
    }
    let (files, list) = convert(sources, diags);
    let config = Config::default();
    let styles = Styles::default();
    let mut stream = StandardStream::stderr(ColorChoice::Always);
    let mut writer = StylesWriter::new(&mut stream, &styles);
    for d in &list {
        let _ = term::emit_to_write_style(&mut writer, &config, &files, d);
    }
}

type Files = SimpleFiles<String, String>;

/// Diagnostics whose labels point at a secret value written in the model: their excerpts
/// show the value masked, so that CI logs do not carry it.
const SENSITIVE: [&str; 2] = ["E-inline-secret", "W-weak-dev-value"];

/// `text` with every byte range in `ranges` masked: each character becomes `*` (as many as
/// its UTF-8 bytes, so every span and column stays where it was); a range's enclosing quotes
/// are kept, so the excerpt still reads as a string.
fn masked(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut bytes: Vec<bool> = vec![false; text.len()];
    for r in ranges {
        let (mut start, mut end) = (r.start.min(text.len()), r.end.min(text.len()));
        let quoted = |i: usize| matches!(text.as_bytes().get(i), Some(b'"' | b'\''));
        if end > start + 1 && quoted(start) && quoted(end - 1) {
            start += 1;
            end -= 1;
        }
        for b in &mut bytes[start..end] {
            *b = true;
        }
    }
    text.char_indices()
        .map(|(i, c)| {
            if bytes[i] && !matches!(c, '\n' | '\r') {
                "*".repeat(c.len_utf8())
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn convert(sources: &Sources, diags: &Diagnostics) -> (Files, Vec<CsDiagnostic<usize>>) {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .iter()
        .map(|(id, f)| {
            let ranges: Vec<std::ops::Range<usize>> = diags
                .iter()
                .filter(|d| SENSITIVE.contains(&d.code))
                .flat_map(|d| d.labels.iter())
                .filter(|l| l.origin.file == id)
                .map(|l| l.origin.span.range())
                .collect();
            let text = if ranges.is_empty() {
                f.text.clone()
            } else {
                masked(&f.text, &ranges)
            };
            files.add(f.name.clone(), text)
        })
        .collect();
    let list = diags.iter().map(|d| convert_one(&ids, d)).collect();
    (files, list)
}

fn convert_one(ids: &[usize], d: &Diagnostic) -> CsDiagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let mut labels: Vec<CsLabel<usize>> = d
        .labels
        .iter()
        .map(|l| {
            let id = ids[l.origin.file.0 as usize];
            let range = l.origin.span.range();
            let label = if l.primary {
                CsLabel::primary(id, range)
            } else {
                CsLabel::secondary(id, range)
            };
            label.with_message(l.message.clone())
        })
        .collect();
    // A value taken from a template: name the service's `extends` entry too, once.
    let mut vias: Vec<envc_model::Origin> = Vec::new();
    for via in d.labels.iter().filter_map(|l| l.origin.via_origin()) {
        if !vias.contains(&via) {
            vias.push(via);
            labels.push(
                CsLabel::secondary(ids[via.file.0 as usize], via.span.range())
                    .with_message("the service extends the template here"),
            );
        }
    }
    let mut notes: Vec<String> = d.hints.iter().map(|h| format!("hint: {h}")).collect();
    if let Some(p) = &d.path
        && d.labels.is_empty()
    {
        notes.insert(0, format!("at: {p}"));
    }
    CsDiagnostic::new(severity)
        .with_code(d.code)
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_keeping_quotes_and_columns() {
        let text = "A = \"hunter2\"\nB = \"é1\"\nC = 1\n";
        let m = masked(text, &[4..13, 18..23]);
        assert_eq!(m, "A = \"*******\"\nB = \"***\"\nC = 1\n");
        assert_eq!(m.len(), text.len());
    }
}
