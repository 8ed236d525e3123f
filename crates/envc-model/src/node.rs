//! A TOML value tree whose every node remembers where it came from.
//!
//! Profiles are overlaid onto environments at this level, so that every resolved value keeps
//! the origin (file and span) of the file that set it: that is the provenance that errors and
//! `envc diff` cite.

use indexmap::IndexMap;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{FileId, Origin, Span};

/// A value with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where it was written.
    pub origin: Origin,
}

/// A table entry: the key's own origin and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where the key was written (the last file that set it).
    pub key_origin: Origin,
    /// The value.
    pub node: Node,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date or time, kept as written.
    Datetime(String),
    /// An array.
    Array(Vec<Node>),
    /// A table, in source order. Shared: every mode of a build starts from the same parsed
    /// environment, and a clone copies only what an overlay then changes
    /// ([`std::sync::Arc::make_mut`]).
    Table(std::sync::Arc<IndexMap<String, Entry>>),
}

impl NodeValue {
    /// The TOML type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeValue::String(_) => "a string",
            NodeValue::Integer(_) => "an integer",
            NodeValue::Float(_) => "a float",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Datetime(_) => "a datetime",
            NodeValue::Array(_) => "an array",
            NodeValue::Table(_) => "a table",
        }
    }
}

impl Node {
    /// An empty table at an origin.
    pub fn empty_table(origin: Origin) -> Self {
        Node {
            value: NodeValue::Table(Default::default()),
            origin,
        }
    }

    /// Parses a TOML document. Syntax errors are all reported; the tree holds what could be
    /// recovered, but callers should not use it when errors were returned.
    pub fn parse(file: FileId, text: &str) -> (Node, Diagnostics) {
        let (table, errors) = DeTable::parse_recoverable(text);
        let mut diags = Diagnostics::new();
        for e in errors {
            let span = e.span().map(Span::from).unwrap_or_default();
            let message = e.message().trim().trim_end_matches('.').to_string();
            diags.push(
                Diagnostic::error("E-toml-syntax", format!("invalid TOML: {message}"))
                    .at(
                        Origin {
                            file,
                            span,
                            via: None,
                        },
                        "here",
                    )
                    .hint("see https://toml.io/en/v1.0.0 for the syntax"),
            );
        }
        let origin = Origin {
            file,
            span: Span::from(table.span()),
            via: None,
        };
        let node = convert_table(file, table.get_ref(), origin);
        (node, diags)
    }

    /// The table entries, if this is a table.
    pub fn as_table(&self) -> Option<&IndexMap<String, Entry>> {
        match &self.value {
            NodeValue::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// A child by key, if this is a table that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_table()?.get(key).map(|e| &e.node)
    }

    /// The entry (with key origin) by key.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_table()?.get(key)
    }

    /// Follows a path of table keys and array indexes (as decimal strings).
    pub fn lookup<S: AsRef<str>>(&self, path: &[S]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            let seg = seg.as_ref();
            node = match &node.value {
                NodeValue::Table(t) => &t.get(seg)?.node,
                NodeValue::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The origin of the deepest node on a path that exists: the value itself when it exists,
    /// else its closest existing parent.
    pub fn origin_of<S: AsRef<str>>(&self, path: &[S]) -> Origin {
        let mut node = self;
        let mut origin = self.origin;
        for seg in path {
            let seg = seg.as_ref();
            let next = match &node.value {
                NodeValue::Table(t) => t.get(seg).map(|e| (&e.node, e.key_origin)),
                NodeValue::Array(a) => seg
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i))
                    .map(|n| (n, n.origin)),
                _ => None,
            };
            match next {
                Some((n, _)) => {
                    node = n;
                    origin = n.origin;
                }
                None => break,
            }
        }
        origin
    }

    /// The origin of a table key on a path (the key itself, not its value), falling back to
    /// [`Node::origin_of`].
    pub fn key_origin_of<S: AsRef<str>>(&self, path: &[S]) -> Origin {
        if let Some((last, parent)) = path.split_last()
            && let Some(entry) = self.lookup(parent).and_then(|p| p.entry(last.as_ref()))
        {
            return entry.key_origin;
        }
        self.origin_of(path)
    }

    /// Overlays `over` onto `self`: tables merge key by key (recursively), anything else is
    /// replaced, origins included. This is how a profile overrides model values.
    pub fn overlay(&mut self, over: &Node) {
        match (&mut self.value, &over.value) {
            (NodeValue::Table(base), NodeValue::Table(top)) => {
                let base = std::sync::Arc::make_mut(base);
                for (k, e) in top.iter() {
                    match base.get_mut(k) {
                        Some(existing) => {
                            existing.key_origin = e.key_origin;
                            existing.node.overlay(&e.node);
                        }
                        None => {
                            base.insert(k.clone(), e.clone());
                        }
                    }
                }
            }
            _ => *self = over.clone(),
        }
    }

    /// Marks this node and everything under it as taken from a template through the `extends`
    /// entry at `via` (see [`Origin::via`]).
    pub fn mark_via(&mut self, via: Span) {
        self.origin.via = Some(via);
        match &mut self.value {
            NodeValue::Table(t) => {
                for e in std::sync::Arc::make_mut(t).values_mut() {
                    e.key_origin.via = Some(via);
                    e.node.mark_via(via);
                }
            }
            NodeValue::Array(items) => items.iter_mut().for_each(|n| n.mark_via(via)),
            _ => {}
        }
    }

    /// Removes a key from a table node, returning it.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        match &mut self.value {
            NodeValue::Table(t) => std::sync::Arc::make_mut(t).shift_remove(key),
            _ => None,
        }
    }
}

fn convert_table(file: FileId, table: &DeTable<'_>, origin: Origin) -> Node {
    let mut out = IndexMap::with_capacity(table.len());
    for (k, v) in table.iter() {
        let key_origin = Origin {
            file,
            span: Span::from(k.span()),
            via: None,
        };
        let node = convert_value(
            file,
            v.get_ref(),
            Origin {
                file,
                span: Span::from(v.span()),
                via: None,
            },
        );
        out.insert(k.get_ref().to_string(), Entry { key_origin, node });
    }
    Node {
        value: NodeValue::Table(out.into()),
        origin,
    }
}

fn convert_value(file: FileId, value: &DeValue<'_>, origin: Origin) -> Node {
    let value = match value {
        DeValue::String(s) => NodeValue::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => NodeValue::Integer(n),
            // Out of range for i64: keep the text so decoding reports a type error at it.
            Err(_) => NodeValue::String(i.to_string()),
        },
        DeValue::Float(f) => NodeValue::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => NodeValue::Bool(*b),
        DeValue::Datetime(d) => NodeValue::Datetime(d.to_string()),
        DeValue::Array(a) => NodeValue::Array(
            a.iter()
                .map(|v| {
                    convert_value(
                        file,
                        v.get_ref(),
                        Origin {
                            file,
                            span: Span::from(v.span()),
                            via: None,
                        },
                    )
                })
                .collect(),
        ),
        DeValue::Table(t) => return convert_table(file, t, origin),
    };
    Node { value, origin }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(file: u32, text: &str) -> Node {
        let (n, d) = Node::parse(FileId(file), text);
        assert!(d.is_empty(), "{d:?}");
        n
    }

    #[test]
    fn overlay_merges_tables_and_keeps_provenance() {
        let mut base = parse(0, "[a]\nx = 1\ny = [1, 2]\n[b]\nz = 'q'\n");
        let top = parse(1, "[a]\ny = [3]\nw = true\n");
        base.overlay(&top);
        assert_eq!(
            base.lookup(&["a", "x"]).map(|n| n.origin.file),
            Some(FileId(0))
        );
        let y = base.lookup(&["a", "y"]).map(|n| (&n.value, n.origin.file));
        assert!(matches!(y, Some((NodeValue::Array(a), FileId(1))) if a.len() == 1));
        assert_eq!(
            base.lookup(&["a", "w"]).map(|n| n.origin.file),
            Some(FileId(1))
        );
        assert_eq!(base.lookup(&["b", "z"]).and_then(Node::as_str), Some("q"));
    }

    #[test]
    fn reports_every_syntax_error() {
        let (_, d) = Node::parse(FileId(0), "a = \nb = 'x\nc = 1\n");
        assert!(d.len() >= 2, "{d:?}");
    }

    #[test]
    fn origin_of_missing_value_falls_back_to_parent() {
        let n = parse(0, "[a]\nx = 1\n");
        let parent = n.origin_of(&["a"]);
        assert_eq!(n.origin_of(&["a", "nope"]), parent);
    }
}
