//! The JSON documents of `envc build --format json` and `envc check --format json`: one
//! object on stdout with a `format_version`, what each mode produced, and every diagnostic
//! with its file, line and column (docs/cli.md documents the shape, docs/cli.schema.json is
//! its schema).

use envc_model::{Diagnostic, Diagnostics, Severity, Sources};
use serde_json::{Value, json};

/// Version of the shape; bumped on any change that is not an added key.
pub const FORMAT_VERSION: u32 = 1;

/// One diagnostic: code, severity, message, hints, and its labels located.
pub fn diagnostic(sources: &Sources, d: &Diagnostic) -> Value {
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|l| {
            let f = sources.get(l.origin.file);
            let (line, column) = f.line_col(l.origin.span.start);
            json!({
                "file": f.name,
                "line": line,
                "column": column,
                "message": l.message,
                "primary": l.primary,
            })
        })
        .collect();
    json!({
        "code": d.code,
        "severity": match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": d.message,
        "path": d.path,
        "labels": labels,
        "hints": d.hints,
    })
}

/// Every diagnostic.
pub fn diagnostics(sources: &Sources, ds: &Diagnostics) -> Vec<Value> {
    ds.iter().map(|d| diagnostic(sources, d)).collect()
}

/// The document: `{format_version, command, status, <key>: items, diagnostics}`.
pub fn document(
    command: &str,
    status: &str,
    key: &str,
    items: Vec<Value>,
    diags: Vec<Value>,
) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("command".into(), json!(command));
    doc.insert("status".into(), json!(status));
    doc.insert(key.into(), Value::Array(items));
    doc.insert("diagnostics".into(), Value::Array(diags));
    serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default()
}
