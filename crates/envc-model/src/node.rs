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
    ///
    /// A large document (a generated environment of a thousand services is 640 KB, and its
    /// parse a fifth of a `diff`) is parsed in two halves at once and the halves joined, when
    /// that is sure to give the tree the whole would ([`parse_halves`]); else, and whenever it
    /// has errors, as a whole.
    pub fn parse(file: FileId, text: &str) -> (Node, Diagnostics) {
        if text.len() >= PARALLEL_BYTES
            && let Some(node) = parse_halves(file, text)
        {
            return (node, Diagnostics::new());
        }
        Self::parse_whole(file, text)
    }

    /// [`Node::parse`] in one pass.
    fn parse_whole(file: FileId, text: &str) -> (Node, Diagnostics) {
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
        let node = convert_table(file, table.get_ref(), origin, 0);
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

/// From this size on a document is parsed in two halves ([`parse_halves`]): below it a thread
/// costs more than it saves.
const PARALLEL_BYTES: usize = 128 * 1024;

/// The tree of `text` from its two halves parsed at once, split at the first line after the
/// middle that starts with `[`, or `None` when either half has an error or the join cannot be
/// sure to give what parsing the whole would: the caller then parses the whole, which reports
/// the errors as they are.
///
/// The split is sound when the first half parses without error: a half that ends inside a
/// string, an array, an inline table or a header is an error, so the second half starts at a
/// top-level line, and a top-level line starting with `[` is a table header. Everything in
/// the second half then belongs to its own headers. See [`join_tables`] for the join.
fn parse_halves(file: FileId, text: &str) -> Option<Node> {
    let mid = text.len() / 2;
    let at = mid
        + text.as_bytes()[mid..]
            .windows(2)
            .position(|w| w == b"\n[")?
        + 1;
    parse_split_at(file, text, at)
}

/// [`parse_halves`] with the second half starting at byte `at`, the start of a line.
fn parse_split_at(file: FileId, text: &str, at: usize) -> Option<Node> {
    let (first, second) = text.split_at_checked(at)?;
    let (a, b) = std::thread::scope(|scope| {
        let b = scope.spawn(|| parse_clean(file, second, at));
        let a = parse_clean(file, first, 0);
        let b = b
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    });
    let (mut a, b) = (a?, b?);
    let (NodeValue::Table(ta), NodeValue::Table(tb)) = (&mut a.value, b.value) else {
        return None;
    };
    join_tables(
        text.as_bytes(),
        std::sync::Arc::make_mut(ta),
        std::sync::Arc::unwrap_or_clone(tb),
    )
    .then_some(a)
}

/// The tree of one half of a document that starts at byte `offset` (its spans are the
/// whole's), if it has no error.
fn parse_clean(file: FileId, text: &str, offset: usize) -> Option<Node> {
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return None;
    }
    let origin = Origin {
        file,
        span: at_offset(table.span(), offset),
        via: None,
    };
    Some(convert_table(file, table.get_ref(), origin, offset))
}

/// Joins `b`, a table as the second half of `text` has it, into `a`, the same table as the
/// first half has it, as parsing the whole would: a key only `b` has is added after `a`'s
/// keys, in `b`'s order, as the whole's parse adds a key its headers name the first time.
/// A key both have joins when `b`'s table is only a prefix of longer headers there (its
/// origin is the key in a header, not a `[` or `{`) and `a`'s is a table such headers may
/// extend (not inline). Anything else (a table `b` defines that `a` has too, an array of
/// tables both extend, a value) is, or may be, an error or a different tree in the whole,
/// and gives false: the caller then parses the whole.
fn join_tables(text: &[u8], a: &mut IndexMap<String, Entry>, b: IndexMap<String, Entry>) -> bool {
    let first = |o: &Origin| text.get(o.span.start).copied();
    for (key, eb) in b {
        let Some(ea) = a.get_mut(&key) else {
            a.insert(key, eb);
            continue;
        };
        let (NodeValue::Table(ta), NodeValue::Table(tb)) = (&mut ea.node.value, eb.node.value)
        else {
            return false;
        };
        if matches!(first(&eb.node.origin), Some(b'[' | b'{'))
            || first(&ea.node.origin) == Some(b'{')
        {
            return false;
        }
        let tb = std::sync::Arc::unwrap_or_clone(tb);
        if !join_tables(text, std::sync::Arc::make_mut(ta), tb) {
            return false;
        }
    }
    true
}

/// A span of a document's half that starts at byte `offset`, in the whole document.
fn at_offset(r: std::ops::Range<usize>, offset: usize) -> Span {
    Span::new(r.start + offset, r.end + offset)
}

fn convert_table(file: FileId, table: &DeTable<'_>, origin: Origin, offset: usize) -> Node {
    let mut out = IndexMap::with_capacity(table.len());
    for (k, v) in table.iter() {
        let key_origin = Origin {
            file,
            span: at_offset(k.span(), offset),
            via: None,
        };
        let node = convert_value(
            file,
            v.get_ref(),
            Origin {
                file,
                span: at_offset(v.span(), offset),
                via: None,
            },
            offset,
        );
        out.insert(k.get_ref().to_string(), Entry { key_origin, node });
    }
    Node {
        value: NodeValue::Table(out.into()),
        origin,
    }
}

fn convert_value(file: FileId, value: &DeValue<'_>, origin: Origin, offset: usize) -> Node {
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
                            span: at_offset(v.span(), offset),
                            via: None,
                        },
                        offset,
                    )
                })
                .collect(),
        ),
        DeValue::Table(t) => return convert_table(file, t, origin, offset),
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

    /// Every line start of `text` that begins with `[`: where [`parse_halves`] may split.
    fn header_lines(text: &str) -> Vec<usize> {
        text.match_indices("\n[").map(|(i, _)| i + 1).collect()
    }

    /// Splitting `text` at `at` gives the whole's tree, or declines (then the whole is parsed).
    fn split_is_the_whole(text: &str, at: usize) -> bool {
        let Some(halves) = parse_split_at(FileId(3), text, at) else {
            return false;
        };
        let (whole, diags) = Node::parse_whole(FileId(3), text);
        assert!(
            diags.is_empty(),
            "halves at {at} accepted a document with errors: {diags:?}\n{text}"
        );
        assert_eq!(
            halves, whole,
            "halves at {at} differ from the whole:\n{text}"
        );
        true
    }

    const SERVICES: &str = "[environment]\nname = \"x\"\n\n[services.a]\nimage = \"a:1\"\nports = { http = { container = 80 } }\n\n[services.a.env]\nX = \"1\"\n\n[services.b]\nimage = \"b:1\"\n\n[services.b.env]\nY = { secret = \"s\" }\n\n[services.b.volumes.data]\npath = \"/d\"\n\n[secrets.s]\ndescription = \"d\"\n";

    #[test]
    fn halves_of_an_environment_join_as_the_whole() {
        let lines = header_lines(SERVICES);
        assert!(lines.len() >= 6);
        for at in lines {
            assert!(split_is_the_whole(SERVICES, at), "split at {at} declined");
        }
    }

    #[test]
    fn the_repositorys_environments_split_anywhere_as_the_whole() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../environments");
        let mut seen = 0;
        for e in std::fs::read_dir(dir).expect("environments/") {
            let path = e.expect("entry").path();
            if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path).expect("environment");
                for at in header_lines(&text) {
                    assert!(split_is_the_whole(&text, at), "{path:?} at {at} declined");
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "{seen} split points");
    }

    /// Where the second half would extend or redefine what the first half defined in a way
    /// the join cannot tell from the whole's parse, the halves decline, whether the whole is
    /// valid or not.
    #[test]
    fn halves_decline_what_only_the_whole_can_tell() {
        let cases = [
            // A header line inside a multi-line string or array of the first half.
            ("a = \"\"\"\n", "[not.a.table]\n\"\"\"\n[b]\nx = 1\n"),
            ("a = [\n  1,\n", "[2],\n]\n[b]\nx = 1\n"),
            // The same table defined in both halves (an error in the whole).
            ("[a]\nx = 1\n", "[a]\ny = 2\n"),
            // A table made implicitly first and defined later (valid; the whole moves it last).
            ("[a.b]\nx = 1\n[c]\n", "[a]\ny = 2\n"),
            // An inline table extended by a header (an error in the whole).
            ("a = { b = 1 }\n", "[a.c]\nx = 1\n"),
            // An array of tables in both halves (valid: the second appends).
            ("[[a]]\nx = 1\n", "[[a]]\nx = 2\n"),
            ("[[a]]\nx = 1\n", "[a.b]\nx = 2\n"),
            // A value the second half's header would need to be a table.
            ("a = 1\n", "[a.b]\nx = 2\n"),
            // A dotted key redefining a table in the first half.
            ("[a.b]\nx = 1\n", "[a]\nb.y = 2\n"),
        ];
        for (first, second) in cases {
            let text = format!("{first}{second}");
            let at = first.len();
            assert!(!split_is_the_whole(&text, at), "split accepted:\n{text}");
        }
    }

    #[test]
    fn halves_join_below_tables_defined_or_dotted_in_the_first() {
        for (first, second) in [
            ("[services.a]\nx = 1\n", "[services.a.ports]\nhttp = 80\n"),
            // Sub-tables may be added to a table dotted keys defined (TOML 1.0, "Table").
            (
                "[fruit]\napple.color = \"red\"\n",
                "[fruit.apple.texture]\nsmooth = true\n",
            ),
            ("[a]\n[a.b]\n", "[a.c.d]\n[a.e]\nk = 'v'\n"),
        ] {
            let text = format!("{first}{second}");
            assert!(split_is_the_whole(&text, first.len()), "declined:\n{text}");
        }
    }

    /// Deterministic line mutations (drop, repeat, swap) of tricky documents, split at every
    /// header line: a split either declines or gives exactly the whole's tree.
    #[test]
    fn mutated_documents_split_as_the_whole_or_not_at_all() {
        let seeds = [
            SERVICES,
            "[a]\nx = 1\n[a.b]\ny = [\n  1,\n  2,\n]\n[[a.c]]\nz = 1\n[[a.c]]\nz = 2\n[a.c.d]\nw = 3\n[e]\nf.g = 1\n[e.h]\ni = 'j'\n",
            "t = \"\"\"\n[x]\n\"\"\"\n[p]\nq = { r = 1 }\n[p.s]\nu = 1\n[\"quoted.key\".v]\nw = 1\n[ spaced . key ]\nz = 1\n",
            "[a.b.c]\n[a]\nd = 1\n[a.b]\ne = 2\n[f]\ng = [[1], [2]]\n[h]\n",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) as usize) % n.max(1)
        };
        let mut accepted = 0;
        for seed in seeds {
            for _ in 0..150 {
                let mut lines: Vec<&str> = seed.lines().collect();
                for _ in 0..1 + next(3) {
                    let i = next(lines.len());
                    match next(3) {
                        0 => {
                            lines.remove(i);
                        }
                        1 => lines.insert(i, lines[next(lines.len())]),
                        _ => {
                            let j = next(lines.len());
                            lines.swap(i, j);
                        }
                    }
                    if lines.is_empty() {
                        lines.push("[a]");
                    }
                }
                let text = lines.join("\n") + "\n";
                for at in header_lines(&text) {
                    accepted += usize::from(split_is_the_whole(&text, at));
                }
            }
        }
        assert!(accepted > 500, "only {accepted} splits accepted");
    }

    #[test]
    fn a_large_document_parses_in_halves_with_the_whole_errors_when_it_has_any() {
        let mut text = String::new();
        for i in 0..4000 {
            text.push_str(&format!(
                "[services.s{i}]\nimage = \"s{i}:1\"\n[services.s{i}.env]\nI = \"{i}\"\n"
            ));
        }
        assert!(text.len() >= PARALLEL_BYTES);
        let (halves, d) = Node::parse(FileId(1), &text);
        assert!(d.is_empty());
        assert!(parse_halves(FileId(1), &text).is_some());
        assert_eq!(halves, Node::parse_whole(FileId(1), &text).0);
        // An error in either half: the whole's diagnostics, with their spans.
        for broken in [
            text.replacen("I = \"1\"", "I = ", 1),
            text.replace("I = \"3999\"", "I = "),
        ] {
            let (_, d) = Node::parse(FileId(1), &broken);
            let (_, whole) = Node::parse_whole(FileId(1), &broken);
            assert_eq!(d.len(), 1);
            assert_eq!(format!("{d:?}"), format!("{whole:?}"));
        }
    }
}
