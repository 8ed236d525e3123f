//! Config files rendered from Handlebars templates, in strict mode: a variable the context does
//! not have is an error at the template's file, line and column, never an empty string; and
//! the services a template mentions, which become edges of the graph.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use envc_model::{Diagnostic, FileId, Origin, SourceFile, Span};
use handlebars::{Handlebars, RenderErrorReason, TemplateError};

/// A registry holding one compiled template.
type Compiled = Arc<Handlebars<'static>>;

/// Templates compiled so far in this process, by name and text. A build of every mode renders
/// each template once per mode, and compiling one (pest's parse, which computes a line and
/// column for every element) was a quarter of a lakehouse build.
static COMPILED: OnceLock<Mutex<HashMap<(String, String), Compiled>>> = OnceLock::new();

/// Entries kept at most: a long-running caller that renders ever new texts (the fuzz harness)
/// starts afresh past it.
const COMPILED_LIMIT: usize = 256;

/// The registry of `source`, compiled once per name and text.
fn compiled(source: &SourceFile) -> Result<Compiled, TemplateError> {
    let cache = COMPILED.get_or_init(Mutex::default);
    let key = (source.name.clone(), source.text.clone());
    // A panic elsewhere while the lock was held leaves whole entries: the map stays usable.
    if let Some(hb) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(hb.clone());
    }
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    // Config files are YAML, INI, JSON...: never HTML-escape.
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper("json", Box::new(json_helper));
    hb.register_template_string(&source.name, &source.text)?;
    let hb = Arc::new(hb);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= COMPILED_LIMIT {
        map.clear();
    }
    map.insert(key, hb.clone());
    Ok(hb)
}

/// Renders a template file with a context (built once per mode: `Context::from` a JSON value
/// takes it without copying, where rendering a value would copy all of it every time).
pub fn render(
    file: FileId,
    source: &SourceFile,
    context: &handlebars::Context,
) -> Result<String, Diagnostic> {
    let name = source.name.clone();
    let hb = match compiled(source) {
        Ok(hb) => hb,
        Err(e) => {
            let origin = origin_at(file, source, e.pos());
            return Err(Diagnostic::error(
                "E-template",
                format!("invalid template {name}: {}", e.reason()),
            )
            .at(origin, "here")
            .hint("see https://handlebarsjs.com/guide/ for the syntax"));
        }
    };
    hb.render_with_context(&name, context).map_err(|e| {
        let origin = origin_at(file, source, e.line_no.zip(e.column_no));
        let (message, hint) = match e.reason() {
            RenderErrorReason::MissingVariable(Some(var)) => (
                format!("template {name} uses undefined variable `{var}`"),
                "the context holds environment, mode, namespaces, services.<name> (name, host, namespace, ports.<port>.port/address, metrics), self and scrape_targets; see docs/model.md#templates".to_string(),
            ),
            RenderErrorReason::MissingVariable(None) => (
                format!("template {name} uses an undefined variable"),
                "see docs/model.md#templates for the variables a template can use".to_string(),
            ),
            other => (format!("failed to render template {name}: {other}"), "check the template".to_string()),
        };
        Diagnostic::error("E-template", message).at(origin, "here").hint(hint)
    })
}

/// Services a template mentions as `services.<name>` (and the port, for
/// `services.<name>.ports.<port>`).
pub fn mentioned_services(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    };
    let mut rest = text;
    while let Some(i) = rest.find("services.") {
        let after = &rest[i + "services.".len()..];
        let (name, tail) = if let Some(stripped) = after.strip_prefix('[') {
            let n: String = stripped.chars().take_while(|c| *c != ']').collect();
            let tail = stripped.get(n.len() + 1..).unwrap_or("");
            (n, tail)
        } else {
            let n = ident(after);
            let tail = after.get(n.len()..).unwrap_or("");
            (n, tail)
        };
        let port = tail.strip_prefix(".ports.").map(|t| {
            let t = t.strip_prefix('[').unwrap_or(t);
            ident(t)
        });
        if !name.is_empty() {
            out.push((name, port.filter(|p| !p.is_empty())));
        }
        rest = &rest[i + "services.".len()..];
    }
    out
}

/// `{{json value}}`: the value as JSON (a quoted, escaped string for strings).
fn json_helper(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let v = h
        .param(0)
        .map(|p| p.value().clone())
        .unwrap_or(serde_json::Value::Null);
    out.write(&v.to_string())?;
    Ok(())
}

/// The origin of a one-based line and column in a file.
fn origin_at(file: FileId, source: &SourceFile, pos: Option<(usize, usize)>) -> Origin {
    let Some((line, col)) = pos else {
        return Origin {
            file,
            span: Span::new(0, 0),
            via: None,
        };
    };
    let mut offset = 0;
    for (i, l) in source.text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            offset += col_bytes;
            return Origin {
                file,
                span: Span::new(offset, offset + 1),
                via: None,
            };
        }
        offset += l.len();
    }
    Origin {
        file,
        span: Span::new(offset, offset),
        via: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_fails_on_undefined_variables_with_their_line() {
        let src = SourceFile::new(
            "t.yaml.hbs",
            "t.yaml.hbs",
            "a: {{x}}\nb: {{services.nope.host}}\n",
        );
        let ctx = handlebars::Context::from(serde_json::json!({"x": 1, "services": {}}));
        let err = render(FileId(0), &src, &ctx).err();
        let (l, _) = err
            .as_ref()
            .and_then(|d| d.primary())
            .map(|o| src.line_col(o.span.start))
            .unwrap_or_default();
        assert_eq!(l, 2);
        assert!(err.is_some_and(|d| d.message.contains("undefined variable")));
        let ok = SourceFile::new("t.hbs", "t.hbs", "a: {{x}} {{json y}}\n");
        let ctx = handlebars::Context::from(serde_json::json!({"x": "<&>", "y": "q\""}));
        assert_eq!(
            render(FileId(0), &ok, &ctx).ok().as_deref(),
            Some("a: <&> \"q\\\"\"\n")
        );
    }

    #[test]
    fn compiled_templates_are_shared_by_name_and_text_only() {
        let ctx = handlebars::Context::from(serde_json::json!({"x": "one"}));
        let a = SourceFile::new("cache-a.hbs", "cache-a.hbs", "a={{x}}\n");
        let first = compiled(&a).ok();
        let again = compiled(&a).ok();
        assert!(
            first.zip(again).is_some_and(|(f, g)| Arc::ptr_eq(&f, &g)),
            "the same name and text compile once"
        );
        // The same name with another text (a lock's promoted version of a template keeps the
        // model's name) renders its own text, and the first one still renders as before.
        let b = SourceFile::new("cache-a.hbs", "locked/cache-a.hbs", "b={{x}}\n");
        assert_eq!(render(FileId(0), &b, &ctx).ok().as_deref(), Some("b=one\n"));
        assert_eq!(render(FileId(0), &a, &ctx).ok().as_deref(), Some("a=one\n"));
        // The same text under another name reports errors under that name.
        let c = SourceFile::new("cache-c.hbs", "cache-c.hbs", "a={{y}}\n");
        let d = SourceFile::new("cache-d.hbs", "cache-d.hbs", "a={{y}}\n");
        for (src, name) in [(&c, "cache-c.hbs"), (&d, "cache-d.hbs")] {
            let err = render(FileId(0), src, &ctx).err();
            assert!(
                err.is_some_and(|e| e.message.contains(name)),
                "error names {name}"
            );
        }
        // An invalid template is an error every time, never cached as a success.
        let bad = SourceFile::new("cache-bad.hbs", "cache-bad.hbs", "a={{#if x}}\n");
        for _ in 0..2 {
            assert!(render(FileId(0), &bad, &ctx).is_err());
        }
        // Past the limit the cache starts afresh and keeps working.
        for i in 0..COMPILED_LIMIT + 3 {
            let t = SourceFile::new("cache-many.hbs", "cache-many.hbs", format!("{i}={{{{x}}}}"));
            assert_eq!(render(FileId(0), &t, &ctx).ok(), Some(format!("{i}=one")));
        }
        let size = COMPILED
            .get()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()).len());
        assert!(size.is_some_and(|n| n <= COMPILED_LIMIT));
    }

    #[test]
    fn finds_services_mentioned_by_templates() {
        let t = "x: {{services.jaeger.ports.otlp-grpc.address}}\ny: {{services.[otel-collector].host}}\n{{#each scrape_targets}}{{/each}}";
        assert_eq!(
            mentioned_services(t),
            vec![
                ("jaeger".to_string(), Some("otlp-grpc".to_string())),
                ("otel-collector".to_string(), None)
            ]
        );
    }
}
