//! Chart templates made from the Kubernetes objects the manifests are made of: each object
//! is serialised with placeholder scalars where a release's values go, and each placeholder is
//! then replaced by its Helm expression. Everything else is literal text, so the template
//! renders exactly the object envc built, with the release's values in their places.

use serde::Serialize;
use serde_json::Value;

use crate::artifact::EmitError;
use crate::yaml::{to_template, to_yaml};

/// Prefix of the placeholder scalars; `ENVC_HOLE_<n>_` cannot be the prefix of another.
const TOKEN: &str = "ENVC_HOLE_";

/// How a placeholder becomes template text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A scalar value: `{{ expr }}`.
    Scalar,
    /// A scalar whose key is left out when the value is empty.
    OptionalScalar,
    /// A mapping or list, left out when empty: `{{- with expr }}` and `toYaml`.
    OptionalBlock,
}

/// The placeholders of one template file and their Helm expressions.
#[derive(Debug, Default)]
pub struct Holes {
    exprs: Vec<(String, Shape)>,
}

impl Holes {
    fn hole(&mut self, expr: &str, shape: Shape) -> Value {
        self.exprs.push((expr.to_string(), shape));
        Value::String(format!("{TOKEN}{}_", self.exprs.len() - 1))
    }

    /// A placeholder for a scalar (`$svc.image | quote`).
    pub fn scalar(&mut self, expr: &str) -> Value {
        self.hole(expr, Shape::Scalar)
    }

    /// A placeholder for a scalar whose key is omitted when the value is empty.
    pub fn optional_scalar(&mut self, expr: &str) -> Value {
        self.hole(expr, Shape::OptionalScalar)
    }

    /// A placeholder for a mapping, omitted with its key when empty.
    pub fn optional_block(&mut self, expr: &str) -> Value {
        self.hole(expr, Shape::OptionalBlock)
    }

    /// One YAML document of the template: `---` and the object, placeholders replaced.
    pub fn document<T: Serialize + ?Sized>(&self, object: &T) -> Result<String, EmitError> {
        let mut out = String::new();
        self.document_into(object, &mut out)?;
        Ok(out)
    }

    /// [`Holes::document`], appended to a template's text.
    ///
    /// The writer makes the text literal as it writes it and says which lines hold a
    /// placeholder, so only those are read again. A document it leaves to yaml_serde is made
    /// literal and read line by line afterwards, with the same result.
    pub fn document_into<T: Serialize + ?Sized>(
        &self,
        object: &T,
        out: &mut String,
    ) -> Result<(), EmitError> {
        let Some((text, marks)) = to_template(object, TOKEN) else {
            return self.by_lines_into(&literal(&to_yaml(object)?), out);
        };
        out.reserve(4 + text.len() + 64 * marks.len());
        out.push_str("---\n");
        // Text before `done` is in `out`; it always ends a line.
        let mut done = 0;
        for (line, end) in marks {
            if end <= done {
                continue;
            }
            let from = line.max(done);
            out.push_str(&text[done..from]);
            let to = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            for l in text[from..to].split_inclusive('\n') {
                self.line_into(l, out)?;
            }
            done = to;
        }
        out.push_str(&text[done..]);
        Ok(())
    }

    /// [`Holes::document_into`] of a text already literal, reading every line for placeholders.
    fn by_lines_into(&self, yaml: &str, out: &mut String) -> Result<(), EmitError> {
        out.push_str("---\n");
        for line in yaml.split_inclusive('\n') {
            self.line_into(line, out)?;
        }
        Ok(())
    }

    #[cfg(test)]
    fn by_lines(&self, yaml: &str) -> Result<String, EmitError> {
        let mut out = String::new();
        self.by_lines_into(yaml, &mut out)?;
        Ok(out)
    }

    /// One line of the text, its placeholder (the first on the line) replaced.
    fn line_into(&self, line: &str, out: &mut String) -> Result<(), EmitError> {
        let Some(at) = line.find(TOKEN) else {
            out.push_str(line);
            return Ok(());
        };
        let after = &line[at + TOKEN.len()..];
        let digits = &after[..after.bytes().take_while(u8::is_ascii_digit).count()];
        let token = format!("{TOKEN}{digits}_");
        let Some((expr, shape)) = digits.parse::<usize>().ok().and_then(|i| self.exprs.get(i))
        else {
            return Err(EmitError::Serialize(format!(
                "chart template placeholder `{token}` has no expression"
            )));
        };
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        // Only `key: <token>` can be left out with its key: not a list item, not mid-text.
        let key = body
            .trim_start()
            .strip_suffix(token.as_str())
            .and_then(|k| k.strip_suffix(' '))
            .filter(|k| k.ends_with(':') && !k.starts_with('-'));
        let spaces = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
        match (shape, key) {
            (Shape::Scalar, _) => {
                for (i, piece) in line.split(token.as_str()).enumerate() {
                    if i > 0 {
                        out.push_str("{{ ");
                        out.push_str(expr);
                        out.push_str(" }}");
                    }
                    out.push_str(piece);
                }
            }
            (Shape::OptionalScalar, Some(key)) => {
                for l in [
                    &["{{- with ", expr, " }}\n"][..],
                    &[key, " {{ . | quote }}\n"],
                    &["{{- end }}\n"],
                ] {
                    spaces(indent, out);
                    l.iter().for_each(|p| out.push_str(p));
                }
            }
            (Shape::OptionalBlock, Some(key)) => {
                let nindent = (indent + 2).to_string();
                for l in [
                    &["{{- with ", expr, " }}\n"][..],
                    &[key, "\n"],
                    &["  {{- toYaml . | nindent ", &nindent, " }}\n"],
                    &["{{- end }}\n"],
                ] {
                    spaces(indent, out);
                    l.iter().for_each(|p| out.push_str(p));
                }
            }
            _ => {
                return Err(EmitError::Serialize(format!(
                    "chart template placeholder `{token}` is not the value of a key: {body}"
                )));
            }
        }
        Ok(())
    }
}

/// Text that a Go template renders as itself: only `{{` opens an action.
pub fn literal(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

/// A Go template string literal (`"..."`), for messages and map keys.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

/// Sets the value at a path of object keys and array indices (`spec/template/...`); nothing
/// when the path does not exist, so optional fields stay absent.
pub fn set(object: &mut Value, path: &str, to: Value) -> bool {
    match at_mut(object, path) {
        Some(v) => {
            *v = to;
            true
        }
        None => false,
    }
}

/// What `Value::pointer_mut` finds at a path, without unescaping and allocating each
/// segment (envc's paths have no `~` escapes; one that has goes to serde_json), and with the
/// keys found by scanning the (small) maps instead of hashing.
pub fn at_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    if path.is_empty() {
        return Some(v);
    }
    if path.contains('~') {
        return v.pointer_mut(path);
    }
    path.strip_prefix('/')?
        .split('/')
        .try_fold(v, |v, segment| match v {
            Value::Object(m) => m.iter_mut().find_map(|(k, x)| (k == segment).then_some(x)),
            Value::Array(a) => {
                // serde_json's array indices: no sign, no leading zero.
                if segment.starts_with('+') || (segment.starts_with('0') && segment.len() != 1) {
                    return None;
                }
                segment.parse::<usize>().ok().and_then(|i| a.get_mut(i))
            }
            _ => None,
        })
}

/// Inserts a key into an object at a path (after the existing keys).
pub fn insert(object: &mut Value, path: &str, key: &str, to: Value) {
    if let Some(Value::Object(m)) = at_mut(object, path) {
        m.insert(key.to_string(), to);
    }
}

/// Every object in a value tree, depth first, for substitutions wherever a field occurs
/// (secret references, labels).
pub fn each_object(v: &mut Value, f: &mut dyn FnMut(&mut serde_json::Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            f(m);
            for (_, x) in m.iter_mut() {
                each_object(x, f);
            }
        }
        Value::Array(a) => {
            for x in a {
                each_object(x, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_become_expressions() {
        let mut h = Holes::default();
        let image = h.scalar("$svc.image | quote");
        let res = h.optional_block("$svc.resources");
        let pull = h.optional_scalar("$.Values.global.imagePullPolicy");
        let doc = json!({"containers": [{"image": image, "imagePullPolicy": pull, "resources": res}], "x": "{{ a }}"});
        let out = h.document(&doc).unwrap_or_default();
        assert_eq!(
            out,
            "---\ncontainers:\n- image: {{ $svc.image | quote }}\n  {{- with $.Values.global.imagePullPolicy }}\n  imagePullPolicy: {{ . | quote }}\n  {{- end }}\n  {{- with $svc.resources }}\n  resources:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}\nx: '{{ \"{{\" }} a }}'\n"
        );
    }

    #[test]
    fn placeholders_marked_by_the_writer_give_what_reading_every_line_gives() {
        let mut h = Holes::default();
        let a = h.scalar("$a | quote");
        let b = h.optional_scalar("$b");
        let c = h.optional_block("$c");
        let d = h.scalar("$d");
        let (at, bt, ct, dt) = (
            a.as_str().unwrap_or_default().to_string(),
            b.as_str().unwrap_or_default().to_string(),
            c.as_str().unwrap_or_default().to_string(),
            d.as_str().unwrap_or_default().to_string(),
        );
        let docs = [
            json!({"a": a, "b": b, "c": c}),
            json!({"m": {"n": [{"x": a, "y": b, "z": {"w": c}}]}, "{{k": "{{v}}"}),
            // Placeholders inside text, twice on a line, as keys, in blocks, next to braces.
            json!({
                "host": format!("{at}:5432"),
                "twice": format!("{at} {dt}"),
                "block": format!("line {at}\n{{{{ {dt} }}}}\nlast\n"),
                "strip": format!("{dt}\n{{{{x"),
                dt.clone(): "key",
                "list": [a, format!("{{{at}"), [d, {}], []],
                "empty": {},
            }),
            // Optional placeholders that are not a key's whole value: errors both ways.
            json!({"x": 1, "q": format!("'{bt}'")}),
            json!({"x": 1, "r": [ct]}),
            json!([[a], {"k": d}]),
            json!({}),
            json!(a),
        ];
        for doc in &docs {
            let expected = h.by_lines(&literal(&to_yaml(doc).unwrap_or_default()));
            let marked = h.document(doc);
            assert_eq!(marked.is_ok(), expected.is_ok(), "for {doc}");
            assert_eq!(marked.ok(), expected.ok(), "for {doc}");
        }
        // yaml_serde's documents (here a float) are read line by line: the same either way.
        let float = json!({"a": a, "f": 1.5, "x": "{{ y }}"});
        assert_eq!(
            h.document(&float).unwrap_or_default(),
            "---\na: {{ $a | quote }}\nf: 1.5\nx: '{{ \"{{\" }} y }}'\n"
        );
    }

    /// The line substitution as it was written first, with `format!` and `replace`.
    fn line_as_before(h: &Holes, line: &str) -> Option<String> {
        let Some(at) = line.find(TOKEN) else {
            return Some(line.to_string());
        };
        let digits: String = line[at + TOKEN.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let token = format!("{TOKEN}{digits}_");
        let (expr, shape) = digits.parse::<usize>().ok().and_then(|i| h.exprs.get(i))?;
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        let pad = " ".repeat(indent);
        let key = body
            .trim_start()
            .strip_suffix(&format!(" {token}"))
            .filter(|k| k.ends_with(':') && !k.starts_with('-'));
        match (shape, key) {
            (Shape::Scalar, _) => Some(line.replace(&token, &format!("{{{{ {expr} }}}}"))),
            (Shape::OptionalScalar, Some(key)) => Some(format!(
                "{pad}{{{{- with {expr} }}}}\n{pad}{key} {{{{ . | quote }}}}\n{pad}{{{{- end }}}}\n"
            )),
            (Shape::OptionalBlock, Some(key)) => Some(format!(
                "{pad}{{{{- with {expr} }}}}\n{pad}{key}\n{pad}  {{{{- toYaml . | nindent {} }}}}\n{pad}{{{{- end }}}}\n",
                indent + 2
            )),
            _ => None,
        }
    }

    #[test]
    fn lines_are_substituted_as_before() {
        let mut h = Holes::default();
        h.scalar("$a | quote");
        h.optional_scalar("$b");
        h.optional_block("$c");
        for line in [
            "x: 1\n",
            "  image: ENVC_HOLE_0_\n",
            "- ENVC_HOLE_0_\n",
            "  url: http://ENVC_HOLE_0_:80/ENVC_HOLE_0_ ENVC_HOLE_1_\n",
            "    imagePullPolicy: ENVC_HOLE_1_\n",
            "    resources: ENVC_HOLE_2_\n",
            "  resources: ENVC_HOLE_2_",
            "- resources: ENVC_HOLE_2_\n",
            "  resources: x ENVC_HOLE_2_\n",
            "  ENVC_HOLE_0_: v\n",
            "  a: ENVC_HOLE_9_\n",
            "  a: ENVC_HOLE_\n",
            "  a: ENVC_HOLE_0\n",
            "  a: 'ENVC_HOLE_1_'\n",
        ] {
            let mut out = String::new();
            let now = h.line_into(line, &mut out).ok().map(|()| out);
            assert_eq!(now, line_as_before(&h, line), "for {line:?}");
        }
    }

    #[test]
    fn paths_are_found_as_serde_json_finds_them() {
        let v = json!({
            "spec": {"template": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}},
            "a/b": 1, "m~n": 2, "": {"": 3}, "x": [[0, 1], 2],
        });
        for path in [
            "",
            "/",
            "//",
            "/spec/template/spec/containers/0/image",
            "/spec/template/spec/containers/1",
            "/spec/template/spec/containers/2",
            "/spec/template/spec/containers/01",
            "/spec/template/spec/containers/+1",
            "/spec/template/spec/containers/-1",
            "/spec/nope",
            "spec",
            "/a~1b",
            "/m~0n",
            "/x/0/1",
            "/x/1/0",
            "/x/",
        ] {
            let (mut a, mut b) = (v.clone(), v.clone());
            assert_eq!(
                at_mut(&mut a, path).map(|x| x.clone()),
                b.pointer_mut(path).map(|x| x.clone()),
                "for {path:?}"
            );
        }
    }

    #[test]
    fn a_block_placeholder_must_be_a_value() {
        let mut h = Holes::default();
        let res = h.optional_block("$svc.resources");
        assert!(h.document(&json!([res])).is_err());
    }
}
