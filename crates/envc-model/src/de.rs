//! Decoding a [`Node`] tree into serde types, with errors that point at the offending value.
//!
//! Unknown keys do not stop decoding: every one is collected (with a did-you-mean hint) so a
//! file's mistakes are reported together. A wrong type or value stops decoding of that file at
//! the first one, at its exact location.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::node::{Entry, Node, NodeValue};
use crate::source::Origin;

/// A decoding error, located at the node being decoded when it happened.
#[derive(Debug, Clone)]
pub struct DeError {
    message: String,
    origin: Option<Origin>,
    path: Vec<String>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            origin: None,
            path: Vec::new(),
        }
    }
}

/// The start of a custom decoding error that refuses a credential written in a file: the rest
/// is the message, a newline, and the hint.
pub(crate) const SECRET_VALUE: &str = "\u{0}secret-value:";

impl DeError {
    fn locate(mut self, origin: Origin) -> Self {
        self.origin.get_or_insert(origin);
        self
    }

    fn within(mut self, seg: &str) -> Self {
        if self.origin.is_some() {
            self.path.push(seg.to_string());
        }
        self
    }

    /// Turns the error into a diagnostic.
    pub fn into_diagnostic(self, fallback: Origin) -> Diagnostic {
        let path: Vec<String> = self.path.iter().rev().cloned().collect();
        // A value type that refused a credential says so: the diagnostic is `E-inline-secret`,
        // whose excerpt the renderer masks, and the message never holds the value.
        if let Some(rest) = self.message.strip_prefix(SECRET_VALUE) {
            let (message, hint) = rest.split_once('\n').unwrap_or((rest, ""));
            let mut d = Diagnostic::error("E-inline-secret", message).at(
                self.origin.unwrap_or(fallback),
                "a credential, written here",
            );
            if !hint.is_empty() {
                d = d.hint(hint);
            }
            if !path.is_empty() {
                d = d.path(path.join("."));
            }
            return d;
        }
        let (message, hint) = humanize(&self.message);
        let mut d = Diagnostic::error("E-invalid-value", message)
            .at(self.origin.unwrap_or(fallback), "here");
        if let Some(h) = hint {
            d = d.hint(h);
        }
        if !path.is_empty() {
            d = d.path(path.join("."));
        }
        d
    }
}

/// Rewrites serde's messages in our style and derives a hint.
fn humanize(msg: &str) -> (String, Option<String>) {
    let msg = &plain_types(msg);
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return (
            format!("wrong type: found {found}, expected {expected}"),
            Some(format!("write {expected} here (see docs/model.md)")),
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return (
            format!("missing key {rest}"),
            Some(format!("add {rest} to this table (see docs/model.md)")),
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            format!("unknown value {found}"),
            (!expected.is_empty()).then(|| format!("expected {expected}")),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            format!("invalid value: {found}"),
            (!expected.is_empty()).then(|| format!("expected {expected}")),
        );
    }
    (msg.to_string(), None)
}

/// Replaces Rust type names in serde's messages with what a TOML author writes.
fn plain_types(msg: &str) -> String {
    let mut out = msg.to_string();
    for (rust, plain) in [
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected a boolean", "expected true or false"),
        ("invalid type: string ", "invalid type: the string "),
        ("invalid value: string ", "invalid value: the string "),
        ("invalid type: integer ", "invalid type: the integer "),
        ("invalid type: floating point ", "invalid type: the number "),
        ("invalid type: boolean ", "invalid type: "),
    ] {
        if out.contains(rust) && !out.contains(plain) {
            out = out.replace(rust, plain);
        }
    }
    out
}

/// Decodes a node into `T`. Unknown keys are collected into the returned diagnostics;
/// the first type or value error ends decoding and is returned too.
pub fn decode<T: serde::de::DeserializeOwned>(node: &Node) -> (Option<T>, Diagnostics) {
    let sink = RefCell::new(Diagnostics::new());
    let result = T::deserialize(NodeDe { node, sink: &sink });
    let mut diags = sink.into_inner();
    let value = match result {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(e.into_diagnostic(node.origin));
            None
        }
    };
    (value, diags)
}

/// A deserializer over one node.
#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
    sink: &'a RefCell<Diagnostics>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node) -> NodeDe<'a> {
        NodeDe {
            node,
            sink: self.sink,
        }
    }
}

macro_rules! forward_to_any {
    ($($m:ident)*) => {$(
        fn $m<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let origin = self.node.origin;
        let r = match &self.node.value {
            NodeValue::String(s) => visitor.visit_borrowed_str(s),
            NodeValue::Integer(i) => visitor.visit_i64(*i),
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Datetime(s) => visitor.visit_borrowed_str(s),
            NodeValue::Array(a) => visitor.visit_seq(SeqAccess {
                de: self,
                iter: a.iter(),
                index: 0,
            }),
            NodeValue::Table(t) => visitor.visit_map(MapAccess {
                de: self,
                iter: t.iter(),
                fields: None,
                current: None,
            }),
        };
        r.map_err(|e| e.locate(origin))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let origin = self.node.origin;
        match &self.node.value {
            NodeValue::Table(t) => visitor
                .visit_map(MapAccess {
                    de: self,
                    iter: t.iter(),
                    fields: Some(fields),
                    current: None,
                })
                .map_err(|e| e.locate(origin)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let origin = self.node.origin;
        let r = match &self.node.value {
            NodeValue::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            NodeValue::Table(t) if t.len() == 1 => {
                let Some((k, e)) = t.iter().next() else {
                    return Err(de::Error::custom("empty table"));
                };
                if !variants.contains(&k.as_str()) {
                    let mut err = <DeError as de::Error>::unknown_variant(k, variants);
                    err.origin = Some(e.key_origin);
                    return Err(err);
                }
                visitor.visit_enum(EnumAccess {
                    de: self,
                    key: k,
                    entry: e,
                })
            }
            other => Err(de::Error::custom(format!(
                "wrong type: found {}, expected one of {} (a string, or a table with one of them as its only key)",
                other.type_name(),
                variants
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        };
        r.map_err(|e| e.locate(origin))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }
}

struct SeqAccess<'a> {
    de: NodeDe<'a>,
    iter: std::slice::Iter<'a, Node>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(node) => {
                let i = self.index;
                self.index += 1;
                // Located at the element even when its type refuses the value only after
                // reading it (a taint, a CPU amount): inner locations win.
                seed.deserialize(self.de.child(node))
                    .map(Some)
                    .map_err(|e| e.locate(node.origin).within(&i.to_string()))
            }
            None => Ok(None),
        }
    }
}

struct MapAccess<'a> {
    de: NodeDe<'a>,
    iter: indexmap::map::Iter<'a, String, Entry>,
    fields: Option<&'static [&'static str]>,
    current: Option<(&'a str, &'a Entry)>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (k, e) in self.iter.by_ref() {
            if let Some(fields) = self.fields
                && !fields.contains(&k.as_str())
            {
                let mut d = Diagnostic::error("E-unknown-key", format!("unknown key `{k}`"))
                    .at(e.key_origin, "not a known key here");
                d = match did_you_mean(k, fields.iter().copied()) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint(format!(
                        "known keys here: {}",
                        fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                self.de.sink.borrow_mut().push(d);
                continue;
            }
            self.current = Some((k.as_str(), e));
            return seed
                .deserialize(k.as_str().into_deserializer())
                .map(Some)
                .map_err(|err: DeError| err.locate(e.key_origin));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((k, e)) = self.current.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        seed.deserialize(self.de.child(&e.node))
            .map_err(|err| err.locate(e.node.origin).within(k))
    }
}

struct EnumAccess<'a> {
    de: NodeDe<'a>,
    key: &'a str,
    entry: &'a Entry,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = DeError;
    type Variant = NodeDe<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let v = seed
            .deserialize(self.key.into_deserializer())
            .map_err(|e: DeError| e.locate(self.entry.key_origin))?;
        Ok((v, self.de.child(&self.entry.node)))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Err(de::Error::custom(
            "this value takes no settings: write it as a plain string",
        ))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Svc {
        image: String,
        #[serde(default)]
        replicas: Option<u32>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Kind {
        Internal,
        NodePort(u16),
    }

    fn node(text: &str) -> Node {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty());
        n
    }

    #[test]
    fn collects_every_unknown_key_with_hints() {
        let n = node("imagee = 'x'\nimage = 'y'\nreplcas = 2\n");
        let (v, d) = decode::<Svc>(&n);
        assert!(v.is_some());
        let msgs: Vec<_> = d
            .iter()
            .map(|d| (d.message.as_str(), d.hints[0].as_str()))
            .collect();
        assert_eq!(
            msgs,
            [
                ("unknown key `imagee`", "did you mean `image`?"),
                ("unknown key `replcas`", "did you mean `replicas`?")
            ]
        );
        assert_eq!(d.0[0].primary().map(|o| o.span.start), Some(0));
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let text = "image = 'y'\nreplicas = 'two'\n";
        let n = node(text);
        let (v, d) = decode::<Svc>(&n);
        assert!(v.is_none());
        let diag = &d.0[0];
        assert_eq!(
            diag.message,
            "wrong type: found the string \"two\", expected a non-negative integer"
        );
        assert_eq!(diag.primary().map(|o| o.span.start), text.find("'two'"));
        assert_eq!(diag.path.as_deref(), Some("replicas"));
    }

    #[test]
    fn enums_accept_strings_and_single_key_tables() {
        let (v, _) = decode::<Svc>(&node("image = 'y'\nkind = { node_port = 30001 }\n"));
        assert!(matches!(
            v.and_then(|s| s.kind),
            Some(Kind::NodePort(30001))
        ));
        let (v, _) = decode::<Svc>(&node("image = 'y'\nkind = 'internal'\n"));
        assert!(matches!(v.and_then(|s| s.kind), Some(Kind::Internal)));
        let (v, d) = decode::<Svc>(&node("image = 'y'\nkind = 'external'\n"));
        assert!(v.is_none());
        assert!(
            d.0[0].message.starts_with("unknown value `external`"),
            "{:?}",
            d.0[0]
        );
    }

    #[test]
    fn missing_fields_point_at_the_table() {
        let (v, d) = decode::<Svc>(&node("replicas = 1\n"));
        assert!(v.is_none());
        assert_eq!(d.0[0].message, "missing key `image`");
    }
}
