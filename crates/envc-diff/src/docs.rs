//! Documents of an input file: a YAML stream (`---` separated) or, for `.json` files, one JSON
//! value; a syntax error is located at its file, line and column.

use std::collections::BTreeMap;

use yaml_serde::Value as Y;

/// A file that could not be read as documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocError {
    /// The file as the user named it (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl DocError {
    /// An error with no position in the file.
    pub fn at_file(file: impl Into<String>, message: impl Into<String>) -> DocError {
        DocError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl std::error::Error for DocError {}

impl std::fmt::Display for DocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Whether a path names a JSON file.
pub fn is_json(path: &str) -> bool {
    path.ends_with(".json")
}

/// Whether a file of a set may hold manifests: YAML, JSON, standard input, or no extension.
pub fn is_manifest_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".yaml")
        || path.ends_with(".yml")
        || is_json(path)
        || path == "-"
        || !base.contains('.')
}

/// The documents of one file; empty documents (`---` alone, comments) are left out.
pub fn parse(file: &str, text: &str) -> Result<Vec<Y>, DocError> {
    if is_json(file) {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| DocError {
            file: file.to_string(),
            line: Some(e.line()),
            column: Some(e.column()),
            message: format!("not valid JSON: {e}"),
        })?;
        let y = yaml_serde::to_value(&v).map_err(|e| DocError {
            file: file.to_string(),
            line: None,
            column: None,
            message: e.to_string(),
        })?;
        return Ok(vec![y]);
    }
    let mut out = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(text) {
        match <Y as serde::Deserialize>::deserialize(doc) {
            Ok(Y::Null) => {}
            Ok(v) => out.push(v),
            Err(e) => {
                let loc = e.location();
                let message = e.to_string();
                // The library appends " at line L column C"; the location is given separately.
                let message = match message.find(" at line ") {
                    Some(i) => message[..i].to_string(),
                    None => message,
                };
                return Err(DocError {
                    file: file.to_string(),
                    line: loc.as_ref().map(|l| l.line()),
                    column: loc.as_ref().map(|l| l.column()),
                    message: format!("not valid YAML: {message}"),
                });
            }
        }
    }
    Ok(out)
}

/// Standard base64 as Secret `data` holds it: padding optional, line breaks and spaces (from
/// hand-written or wrapped manifests) ignored.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = s.split_ascii_whitespace().collect();
    LENIENT.decode(compact).ok()
}

/// The value at `path` in a YAML value (mapping keys), if there is one.
pub fn at<'a>(v: &'a Y, path: &[&str]) -> Option<&'a Y> {
    path.iter().try_fold(v, |cur, k| get(cur, k))
}

/// What `v.get(key)` gives (the value at a string key of a mapping, through any tags): for
/// the small mappings manifests are made of by comparing the key with each, which costs less
/// than hashing it (a mapping's keys are distinct, so the first equal one is the one).
pub fn get<'a>(mut v: &'a Y, key: &str) -> Option<&'a Y> {
    while let Y::Tagged(t) = v {
        v = &t.value;
    }
    match v {
        Y::Mapping(m) if m.len() <= SCANNED_KEYS => m
            .iter()
            .find_map(|(k, x)| matches!(k, Y::String(s) if s == key).then_some(x)),
        Y::Mapping(m) => m.get(key),
        _ => None,
    }
}

/// Keys up to which [`get`] compares rather than hashes.
const SCANNED_KEYS: usize = 32;

/// The string at `path`, if it is one.
pub fn text<'a>(v: &'a Y, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Y::as_str)
}

/// The items of the sequence at `path`, none when there is none.
pub(crate) fn seq<'a>(v: &'a Y, path: &[&str]) -> impl Iterator<Item = &'a Y> {
    at(v, path).and_then(Y::as_sequence).into_iter().flatten()
}

/// The string-keyed scalars of the mapping at `path` (labels, a selector), as text.
pub(crate) fn labels(v: &Y, path: &[&str]) -> BTreeMap<String, String> {
    at(v, path)
        .and_then(Y::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A Kubernetes object's namespace, `default` when none is written.
pub(crate) fn ns(v: &Y) -> String {
    text(v, &["metadata", "namespace"])
        .unwrap_or("default")
        .to_string()
}

/// A Kubernetes object's name, empty when none is written.
pub(crate) fn name(v: &Y) -> String {
    text(v, &["metadata", "name"])
        .unwrap_or_default()
        .to_string()
}

/// A scalar as text (numbers and booleans too).
pub fn scalar(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_finds_what_the_mapping_lookup_finds() {
        // Mappings below and above the scanned size, with keys that are not strings, a tagged
        // mapping, and keys that are prefixes of one another.
        for n in [0usize, 1, 5, 31, 32, 33, 80] {
            let mut m = yaml_serde::Mapping::new();
            for i in 0..n {
                m.insert(Y::String(format!("k{i}")), Y::Number(i.into()));
            }
            m.insert(Y::Number(7.into()), Y::String("seven".into()));
            m.insert(Y::Bool(true), Y::String("yes".into()));
            let plain = Y::Mapping(m);
            let tagged = Y::Tagged(Box::new(yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new("thing"),
                value: plain.clone(),
            }));
            for v in [&plain, &tagged] {
                for key in [
                    "k0", "k1", "k3", "k31", "k32", "k79", "k", "7", "true", "", "k00",
                ] {
                    assert_eq!(get(v, key), v.get(key), "{n} keys, {key}");
                }
            }
        }
        assert_eq!(get(&Y::String("k0".into()), "k0"), None);
        assert_eq!(get(&Y::Null, "k0"), None);
    }

    #[test]
    fn errors_are_located() {
        let e = parse("a.yaml", "services:\n  web:\n    image: [x\n").unwrap_err();
        assert_eq!(e.file, "a.yaml");
        assert!(e.line.is_some() && e.column.is_some(), "{e}");
        assert!(e.to_string().starts_with("a.yaml:"), "{e}");
        let e = parse("m.json", "{\n  \"kind\": }\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(11)));
    }

    #[test]
    fn json_and_streams() {
        let v = parse("m.json", r#"{"kind": "List", "items": []}"#).unwrap_or_default();
        assert_eq!(v.len(), 1);
        assert_eq!(
            parse("-", "---\n# only a comment\n---\na: 1\n")
                .unwrap_or_default()
                .len(),
            1
        );
    }
}
