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

fn convert(sources: &Sources, diags: &Diagnostics) -> (Files, Vec<CsDiagnostic<usize>>) {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .iter()
        .map(|(_, f)| files.add(f.name.clone(), f.text.clone()))
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
