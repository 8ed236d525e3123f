//! A direct YAML writer that produces, byte for byte, what yaml_serde (libyaml's emitter)
//! followed by the YAML 1.1 quoting pass writes, without either: no event stream, no
//! per-character state machine, no re-parsing of scalars.
//!
//! It covers the shapes envc writes: block mappings and sequences, `{}` and `[]` for empty
//! ones, plain and single-quoted scalars, and literal block scalars (`|`, `|-`). Whatever
//! libyaml would write another way (double-quoted scalars for control or astral characters,
//! `|+` with its document end marker, complex keys, tags, floats it formats itself) is
//! [`Unsupported`], and the caller falls back to yaml_serde for that document, so the output
//! never depends on which path wrote it. The rules below are libyaml 0.2.5's
//! (`yaml_emitter_analyze_scalar`, `yaml_emitter_select_scalar_style`, the block emitters) and
//! yaml_serde's scalar style inference (`serialize_str`), restated.

use serde::ser::{self, Serialize};

/// A value or key the writer leaves to yaml_serde.
#[derive(Debug)]
pub struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to yaml_serde")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

/// Writes one value as a YAML document body, or says it cannot.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Unsupported> {
    let tree = value.serialize(TreeSer)?;
    document(&tree)
}

/// [`to_string`] for a JSON value, read in place: most of envc's objects are built as one.
pub fn value_to_string(value: &serde_json::Value) -> Result<String, Unsupported> {
    document(value)
}

fn document<T: Tree>(tree: &T) -> Result<String, Unsupported> {
    let mut out = String::with_capacity(1024);
    match tree.view() {
        View::Map(0) => out.push_str("{}\n"),
        View::Map(_) => write_map(tree, 0, false, &mut out)?,
        View::Seq([]) => out.push_str("[]\n"),
        View::Seq(items) => write_seq(items, 0, false, &mut out)?,
        // A root scalar: rare, and libyaml indents a root block scalar its own way.
        View::Str(s) if s.contains('\n') => return Err(Unsupported),
        scalar => {
            write_scalar(scalar, 0, false, &mut out)?;
            out.push('\n');
        }
    }
    // Documents live as long as the build: keep no spare capacity.
    out.shrink_to_fit();
    Ok(out)
}

/// The serialised value, as libyaml would receive it in events.
enum Y {
    Null,
    Bool(bool),
    /// An integer, formatted.
    Int(String),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(Y, Y)>),
}

/// One node of a tree the writer reads: [`Y`] or a JSON value.
enum View<'a, T> {
    Null,
    Bool(bool),
    /// A formatted number.
    Num(&'a str),
    I64(i64),
    U64(u64),
    Str(&'a str),
    Seq(&'a [T]),
    /// A mapping of this many entries ([`Tree::entries`]).
    Map(usize),
    /// Anything libyaml would write its own way (a float).
    Other,
}

/// A mapping key: a string, or (in [`Y`]) any node.
enum Key<'a, T> {
    Str(&'a str),
    Node(&'a T),
}

trait Tree: Sized {
    fn view(&self) -> View<'_, Self>;
    /// The entries of a mapping (none for anything else).
    fn entries(&self) -> impl Iterator<Item = (Key<'_, Self>, &Self)>;
}

impl Tree for Y {
    fn view(&self) -> View<'_, Y> {
        match self {
            Y::Null => View::Null,
            Y::Bool(b) => View::Bool(*b),
            Y::Int(i) => View::Num(i),
            Y::Str(s) => View::Str(s),
            Y::Seq(items) => View::Seq(items),
            Y::Map(m) => View::Map(m.len()),
        }
    }
    fn entries(&self) -> impl Iterator<Item = (Key<'_, Y>, &Y)> {
        let m: &[(Y, Y)] = match self {
            Y::Map(m) => m,
            _ => &[],
        };
        m.iter().map(|(k, v)| (Key::Node(k), v))
    }
}

impl Tree for serde_json::Value {
    fn view(&self) -> View<'_, serde_json::Value> {
        use serde_json::Value as J;
        match self {
            J::Null => View::Null,
            J::Bool(b) => View::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => View::I64(i),
                (None, Some(u)) => View::U64(u),
                _ => View::Other,
            },
            J::String(s) => View::Str(s),
            J::Array(items) => View::Seq(items),
            J::Object(m) => View::Map(m.len()),
        }
    }
    fn entries(&self) -> impl Iterator<Item = (Key<'_, serde_json::Value>, &serde_json::Value)> {
        self.as_object()
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (Key::Str(k.as_str()), v)))
    }
}

fn spaces(n: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// Entries of a non-empty mapping whose keys sit at column `indent`; with `inline`, the first
/// key continues the current line (after `- `).
fn write_map<T: Tree>(
    m: &T,
    indent: usize,
    inline: bool,
    out: &mut String,
) -> Result<(), Unsupported> {
    for (i, (k, v)) in m.entries().enumerate() {
        if i > 0 || !inline {
            spaces(indent, out);
        }
        write_key(k, out)?;
        out.push(':');
        write_after(v, indent, false, out)?;
    }
    Ok(())
}

/// Items of a non-empty sequence whose dashes sit at column `indent`.
fn write_seq<T: Tree>(
    s: &[T],
    indent: usize,
    inline: bool,
    out: &mut String,
) -> Result<(), Unsupported> {
    for (i, v) in s.iter().enumerate() {
        if i > 0 || !inline {
            spaces(indent, out);
        }
        out.push('-');
        write_after(v, indent, true, out)?;
    }
    Ok(())
}

/// A node after `key:` or `-` at column `indent`, through the end of its last line.
fn write_after<T: Tree>(
    v: &T,
    indent: usize,
    item: bool,
    out: &mut String,
) -> Result<(), Unsupported> {
    match v.view() {
        View::Map(0) => out.push_str(" {}\n"),
        View::Seq([]) => out.push_str(" []\n"),
        View::Map(_) if item => {
            out.push(' ');
            write_map(v, indent + 2, true, out)?;
        }
        View::Map(_) => {
            out.push('\n');
            write_map(v, indent + 2, false, out)?;
        }
        View::Seq(items) if item => {
            out.push(' ');
            write_seq(items, indent + 2, true, out)?;
        }
        // libyaml writes a sequence in a mapping without indenting it.
        View::Seq(items) => {
            out.push('\n');
            write_seq(items, indent, false, out)?;
        }
        scalar => {
            out.push(' ');
            write_scalar(scalar, indent + 2, false, out)?;
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    Ok(())
}

fn write_key<T: Tree>(k: Key<'_, T>, out: &mut String) -> Result<(), Unsupported> {
    let view = match k {
        Key::Str(s) => View::Str(s),
        Key::Node(n) => n.view(),
    };
    match view {
        // libyaml writes longer keys as complex keys (`? key`).
        View::Str(s) if s.len() > 128 || s.contains('\n') => Err(Unsupported),
        // yaml_serde reads a one-entry mapping with a `!` key as a tag.
        View::Str(s) if s.starts_with('!') => Err(Unsupported),
        View::Seq(_) | View::Map(_) => Err(Unsupported),
        k => write_scalar(k, 0, true, out),
    }
}

/// A scalar; a literal block's lines go at column `block_indent`.
fn write_scalar<T>(
    v: View<'_, T>,
    block_indent: usize,
    key: bool,
    out: &mut String,
) -> Result<(), Unsupported> {
    use std::fmt::Write as _;
    match v {
        View::Null => out.push_str("null"),
        View::Bool(true) => out.push_str("true"),
        View::Bool(false) => out.push_str("false"),
        View::Num(i) => out.push_str(i),
        View::I64(i) => {
            let _ = write!(out, "{i}");
        }
        View::U64(u) => {
            let _ = write!(out, "{u}");
        }
        View::Str(s) => write_str(s, block_indent, key, out)?,
        View::Seq(_) | View::Map(_) | View::Other => return Err(Unsupported),
    }
    Ok(())
}

fn write_str(s: &str, block_indent: usize, key: bool, out: &mut String) -> Result<(), Unsupported> {
    let a = analyze(s)?;
    if s.contains('\n') {
        // yaml_serde asks for a literal block; libyaml writes one only where allowed.
        if key || !a.block_allowed {
            return Err(Unsupported);
        }
        return write_literal(s, block_indent, out);
    }
    let single = !a.block_plain_allowed || yaml12_non_string(s) || super::yaml11_non_string(s);
    if !single {
        out.push_str(s);
        return Ok(());
    }
    if !a.single_quoted_allowed {
        return Err(Unsupported);
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    Ok(())
}

fn write_literal(s: &str, indent: usize, out: &mut String) -> Result<(), Unsupported> {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        // `|+`: libyaml then marks the document's end (`...`).
        return Err(Unsupported);
    }
    out.push('\n');
    let mut line_start = true;
    for c in s.chars() {
        if c == '\n' {
            out.push('\n');
            line_start = true;
        } else {
            if line_start {
                spaces(indent, out);
                line_start = false;
            }
            out.push(c);
        }
    }
    Ok(())
}

/// What libyaml's scalar analysis allows, for the block context.
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar` (unicode output on), for scalars without the
/// characters that make it choose double quotes, which are [`Unsupported`].
fn analyze(s: &str) -> Result<Analysis, Unsupported> {
    if s.is_empty() {
        return Ok(Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        });
    }
    // Most scalars are names, paths and versions: nothing to find in them.
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_/=".contains(&b))
        || (s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=".contains(&b)))
    {
        return Ok(Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
        });
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut leading, mut trailing, mut break_space, mut space_break, mut line_breaks) =
        (false, false, false, false, false);
    let mut previous_space = false;
    let mut previous_break = false;
    let mut preceded_by_whitespace = true;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        if !(c == '\n' || (' '..='~').contains(&c) || printable_unicode(c)) {
            return Err(Unsupported);
        }
        let next = chars.peek().copied();
        let followed_by_whitespace = next.is_none_or(|n| matches!(n, ' ' | '\n'));
        let last = next.is_none();
        if first {
            if "#,[]{}&*!|>'\"%@`".contains(c) || (c == '-' && followed_by_whitespace) {
                block_indicators = true;
            }
            if matches!(c, '?' | ':') && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if c == ' ' {
            leading |= first;
            trailing |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if c == '\n' {
            line_breaks = true;
            leading |= first;
            trailing |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\n');
        first = false;
    }
    let trailing_space = s.ends_with(' ');
    let mut a = Analysis {
        block_plain_allowed: !(leading || trailing),
        single_quoted_allowed: true,
        block_allowed: !trailing_space,
    };
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    Ok(a)
}

/// Non-ASCII characters libyaml writes as they are (`IS_PRINTABLE`); line and paragraph
/// separators are breaks to it, so they are left out too.
fn printable_unicode(c: char) -> bool {
    matches!(c, '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// yaml_serde's `serialize_str` quotes a string that its own parser would read back as
/// something else (null, a boolean, an integer or a float), or that is digits with a
/// leading zero.
fn yaml12_non_string(s: &str) -> bool {
    if matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    ) {
        return true;
    }
    // Everything below starts with a digit or `.`, after an optional sign.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return false;
    }
    digits_but_not_number(s) || int(s) || float(s)
}

fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// yaml_serde's integer parsing (`visit_int`: `parse_unsigned_int` and `parse_negative_int`,
/// up to 128 bits), as a yes or no.
fn int(s: &str) -> bool {
    const PREFIXES: [(&str, u32); 3] = [("0x", 16), ("0o", 8), ("0b", 2)];
    let unsigned = || {
        let u = s.strip_prefix('+').unwrap_or(s);
        for (p, r) in PREFIXES {
            if let Some(rest) = u.strip_prefix(p) {
                if rest.starts_with(['+', '-']) {
                    return false;
                }
                if u128::from_str_radix(rest, r).is_ok() {
                    return true;
                }
            }
        }
        !u.starts_with(['+', '-']) && !digits_but_not_number(s) && u.parse::<u128>().is_ok()
    };
    let negative = || {
        if let Some(rest) = s.strip_prefix('-') {
            for (p, r) in PREFIXES {
                if let Some(digits) = rest.strip_prefix(p)
                    && i128::from_str_radix(&format!("-{digits}"), r).is_ok()
                {
                    return true;
                }
            }
        }
        !digits_but_not_number(s) && s.parse::<i128>().is_ok()
    };
    unsigned() || negative()
}

/// yaml_serde's `parse_f64`, as a yes or no.
fn float(s: &str) -> bool {
    let unpositive = match s.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return false,
        Some(u) => u,
        None => s,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return true;
    }
    unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Serialises into [`Y`].
struct TreeSer;

struct SeqSer(Vec<Y>);
struct MapSer(Vec<(Y, Y)>, Option<Y>);

impl ser::Serializer for TreeSer {
    type Ok = Y;
    type Error = Unsupported;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = ser::Impossible<Y, Unsupported>;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = ser::Impossible<Y, Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<Y, Unsupported> {
        Ok(Y::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_i128(self, v: i128) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    fn serialize_u128(self, v: u128) -> Result<Y, Unsupported> {
        Ok(Y::Int(v.to_string()))
    }
    // Floats (yaml_serde formats them with ryu), chars (always single-quoted), bytes, tagged
    // enum variants: not in envc's documents; yaml_serde writes them.
    fn serialize_f32(self, _: f32) -> Result<Y, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<Y, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, _: char) -> Result<Y, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_str(self, v: &str) -> Result<Y, Unsupported> {
        Ok(Y::Str(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Y, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<Y, Unsupported> {
        Ok(Y::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Y, Unsupported> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Y, Unsupported> {
        Ok(Y::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Y, Unsupported> {
        Ok(Y::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Y, Unsupported> {
        Ok(Y::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Y, Unsupported> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Y, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, Unsupported> {
        Ok(SeqSer(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer, Unsupported> {
        Ok(MapSer(Vec::with_capacity(len.unwrap_or(0)), None))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapSer, Unsupported> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for SeqSer {
    type Ok = Y;
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.0.push(v.serialize(TreeSer)?);
        Ok(())
    }
    fn end(self) -> Result<Y, Unsupported> {
        Ok(Y::Seq(self.0))
    }
}

impl ser::SerializeTuple for SeqSer {
    type Ok = Y;
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Y, Unsupported> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSer {
    type Ok = Y;
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Y, Unsupported> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapSer {
    type Ok = Y;
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Unsupported> {
        self.1 = Some(k.serialize(TreeSer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        let k = self.1.take().ok_or(Unsupported)?;
        self.0.push((k, v.serialize(TreeSer)?));
        Ok(())
    }
    fn end(self) -> Result<Y, Unsupported> {
        Ok(Y::Map(self.0))
    }
}

impl ser::SerializeStruct for MapSer {
    type Ok = Y;
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.0
            .push((Y::Str(key.to_string()), v.serialize(TreeSer)?));
        Ok(())
    }
    fn end(self) -> Result<Y, Unsupported> {
        Ok(Y::Map(self.0))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    /// The writer either declines or writes exactly what yaml_serde plus the quoting pass write.
    fn same(v: &Value) -> bool {
        let reference = super::super::by_yaml_serde(v).expect("yaml_serde writes it");
        // Serialised through the tree, and read in place: the same text or the same refusal.
        let direct = super::value_to_string(v).ok();
        match super::to_string(v) {
            Ok(text) => {
                assert_eq!(text, reference, "for {v}");
                assert_eq!(
                    direct.as_deref(),
                    Some(reference.as_str()),
                    "in place, for {v}"
                );
                true
            }
            Err(super::Unsupported) => {
                assert_eq!(direct, None, "in place, for {v}");
                false
            }
        }
    }

    #[test]
    fn envc_shapes_are_written_as_yaml_serde_writes_them() {
        let doc = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": "x", "labels": {}, "annotations": { "a/b": "yes" } },
            "data": {
                "clip": "line 1\n\n  indented\nlast\n",
                "strip": "no newline at the end",
                "strip2": "two\nlines",
                "lead": " leading space\nx\n",
                "leadbreak": "\nx\n",
            },
            "list": [[], {}, [1, [2, 3]], [{ "a": 1, "b": [true, null] }], "- x", "a: b", "#c"],
            "empty": "",
            "nested": { "seq": [{ "k": "v", "l": ["x", { "m": "n" }] }], "map": {} },
            "numbers": ["0", "007", "0x1F", "1e3", "1.5", "-0", "+1", ".5", "1_000", "12.4.11"],
            "words": ["on", "Off", "y", "N", "~", "null", "True", "tRue", "2025-09-07", "1:30"],
            "quotes": ["it's", "'x'", "\"y\"", "a #b", "a#b", "a:b", "a: b", "x:", ":x", "? x", "-x"],
            "unicode": ["é", "naïve – dash", "日本"],
        });
        assert!(same(&doc));
    }

    #[test]
    fn random_scalars_agree_with_yaml_serde() {
        const ALPHABET: [&str; 30] = [
            " ",
            "\n",
            ":",
            "#",
            "-",
            "'",
            "\"",
            "0",
            "1",
            ".",
            "x",
            "y",
            "e",
            "+",
            "!",
            "{",
            "é",
            "\t",
            "~",
            "?",
            "|",
            ">",
            "%",
            "@",
            ",",
            "[",
            "n",
            "o",
            "_",
            "\u{1F600}",
        ];
        // A fixed linear congruential sequence: the same strings on every run.
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        let (mut written, mut declined) = (0, 0);
        for _ in 0..20_000 {
            let len = next(9);
            let s: String = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
            let mut map = BTreeMap::new();
            map.insert(s.clone(), json!([s.clone(), { "k": s.clone() }]));
            let v = json!({ "value": s, "in": map });
            if same(&v) {
                written += 1;
            } else {
                declined += 1;
            }
        }
        // Most strings are written directly; the rest (tabs, astral characters, `|+`) go
        // through yaml_serde.
        eprintln!("written {written}, declined {declined}");
        assert!(written > declined, "written {written}, declined {declined}");
    }
}
