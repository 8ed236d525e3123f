//! A direct YAML writer that produces, byte for byte, what yaml_serde (libyaml's emitter)
//! followed by the YAML 1.1 quoting pass writes, without either: no event stream, no
//! per-character state machine, no re-parsing of scalars.
//!
//! It is a serde [`Serializer`](ser::Serializer) that writes the text as serde walks the
//! value: no intermediate tree. The layout decisions that depend on what follows (`{}` or
//! `[]` for an empty collection, a line break or a space before a collection's first entry)
//! are taken lazily: a collection writes its opening when its first entry arrives, and `{}`
//! or `[]` at its end if none did.
//!
//! It covers the shapes envc writes: block mappings and sequences, `{}` and `[]` for empty
//! ones, plain and single-quoted scalars, and literal block scalars (`|`, `|-`). Whatever
//! libyaml would write another way (double-quoted scalars for control or astral characters,
//! `|+` with its document end marker, complex keys, tags, floats it formats itself) is
//! [`Unsupported`], and the caller drops the partial text and falls back to yaml_serde for
//! that document, so the output never depends on which path wrote it. The rules below are
//! libyaml 0.2.5's (`yaml_emitter_analyze_scalar`, `yaml_emitter_select_scalar_style`, the
//! block emitters) and yaml_serde's scalar style inference (`serialize_str`), restated.

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
    let mut w = W::new(None);
    value.serialize(Node {
        w: &mut w,
        at: At::Root,
    })?;
    let mut out = w.out;
    // Documents live as long as the build: keep no spare capacity.
    out.shrink_to_fit();
    Ok(out)
}

/// [`to_string`] for a JSON value (through its `Serialize`, the same code).
pub fn value_to_string(value: &serde_json::Value) -> Result<String, Unsupported> {
    to_string(value)
}

/// A document written as Go template text: what [`to_string`] writes with every `{{` of a
/// key or scalar written as `{{ "{{" }}` (as [`crate::helm`]'s `literal` does to the whole
/// text), and the places of the scalars that contain `token`: for each, the start of its
/// first line and its end, in order. Every line holding a `token` is in one of them.
pub fn to_template<T: Serialize + ?Sized>(
    value: &T,
    token: &'static str,
) -> Result<(String, Vec<(usize, usize)>), Unsupported> {
    let mut w = W::new(Some(token));
    value.serialize(Node {
        w: &mut w,
        at: At::Root,
    })?;
    Ok((w.out, w.marks))
}

/// What `{{` becomes in template text.
pub const LITERAL_BRACES: &str = "{{ \"{{\" }}";

/// The text being written.
struct W {
    out: String,
    /// In template mode, the placeholder prefix whose scalars are marked.
    token: Option<&'static str>,
    marks: Vec<(usize, usize)>,
}

impl W {
    fn new(token: Option<&'static str>) -> W {
        W {
            out: String::with_capacity(1024),
            token,
            marks: Vec::new(),
        }
    }

    /// A key or string scalar is written from `start`: in template mode, its braces become
    /// literal and a placeholder in it is marked.
    fn written(&mut self, s: &str, start: usize) {
        let Some(token) = self.token else {
            return;
        };
        // One pass over the bytes to tell most scalars apart.
        let first = token.as_bytes().first().copied().unwrap_or(b'{');
        if !s.bytes().any(|b| b == b'{' || b == first) {
            return;
        }
        if s.contains("{{") {
            let tail = self.out.split_off(start);
            self.out.push_str(&tail.replace("{{", LITERAL_BRACES));
        }
        if s.contains(token) {
            let line = self.out[..start].rfind('\n').map_or(0, |i| i + 1);
            self.marks.push((line, self.out.len()));
        }
    }

    fn key_str(&mut self, s: &str) -> Result<(), Unsupported> {
        // libyaml writes longer keys as complex keys (`? key`); yaml_serde reads a one-entry
        // mapping with a `!` key as a tag.
        if s.len() > 128 || s.contains('\n') || s.starts_with('!') {
            return Err(Unsupported);
        }
        let start = self.out.len();
        write_str(s, 0, true, &mut self.out)?;
        self.written(s, start);
        Ok(())
    }
}

/// Where a node goes.
#[derive(Clone, Copy)]
enum At {
    /// The document's root.
    Root,
    /// After `key:` whose key is at this column.
    Value(usize),
    /// After `-` at this column.
    Item(usize),
}

impl At {
    /// The column of a literal block's lines.
    fn block_indent(self) -> usize {
        match self {
            At::Root => 0,
            At::Value(i) | At::Item(i) => i + 2,
        }
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

fn push_u64(n: u64, out: &mut String) {
    out.push_str(itoa::Buffer::new().format(n));
}

fn push_i64(n: i64, out: &mut String) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Serialises one node at a place.
struct Node<'a> {
    w: &'a mut W,
    at: At,
}

impl Node<'_> {
    /// A scalar other than a string (no line break, nothing to quote).
    fn plain(self, f: impl FnOnce(&mut String)) -> Result<(), Unsupported> {
        let out = &mut self.w.out;
        if !matches!(self.at, At::Root) {
            out.push(' ');
        }
        f(out);
        out.push('\n');
        Ok(())
    }

    fn str(self, s: &str) -> Result<(), Unsupported> {
        // A root scalar: rare, and libyaml indents a root block scalar its own way.
        if matches!(self.at, At::Root) {
            if s.contains('\n') {
                return Err(Unsupported);
            }
        } else {
            self.w.out.push(' ');
        }
        let start = self.w.out.len();
        write_str(s, self.at.block_indent(), false, &mut self.w.out)?;
        self.w.written(s, start);
        if !self.w.out.ends_with('\n') {
            self.w.out.push('\n');
        }
        Ok(())
    }
}

/// A mapping being written; its keys at column `col`.
struct MapW<'a> {
    w: &'a mut W,
    at: At,
    col: usize,
    entries: usize,
}

impl MapW<'_> {
    fn new(w: &mut W, at: At) -> MapW<'_> {
        let col = match at {
            At::Root => 0,
            At::Value(i) | At::Item(i) => i + 2,
        };
        MapW {
            w,
            at,
            col,
            entries: 0,
        }
    }

    /// Before a key: the mapping's opening for the first, the indentation.
    fn entry(&mut self) {
        let out = &mut self.w.out;
        if self.entries == 0 {
            match self.at {
                At::Root => {}
                At::Value(_) => out.push('\n'),
                // The first key continues the line after `- `.
                At::Item(_) => {
                    out.push(' ');
                    self.entries = 1;
                    return;
                }
            }
        }
        self.entries += 1;
        spaces(self.col, out);
    }

    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.w.out.push(':');
        v.serialize(Node {
            w: self.w,
            at: At::Value(self.col),
        })
    }

    fn end(self) -> Result<(), Unsupported> {
        if self.entries == 0 {
            self.w.out.push_str(match self.at {
                At::Root => "{}\n",
                _ => " {}\n",
            });
        }
        Ok(())
    }
}

/// A sequence being written; its dashes at column `col`.
struct SeqW<'a> {
    w: &'a mut W,
    at: At,
    col: usize,
    items: usize,
}

impl SeqW<'_> {
    fn new(w: &mut W, at: At) -> SeqW<'_> {
        let col = match at {
            At::Root => 0,
            // libyaml writes a sequence in a mapping without indenting it.
            At::Value(i) => i,
            At::Item(i) => i + 2,
        };
        SeqW {
            w,
            at,
            col,
            items: 0,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        let out = &mut self.w.out;
        let inline = self.items == 0 && matches!(self.at, At::Item(_));
        if self.items == 0 {
            match self.at {
                At::Root => {}
                At::Value(_) => out.push('\n'),
                At::Item(_) => out.push(' '),
            }
        }
        if !inline {
            spaces(self.col, out);
        }
        self.items += 1;
        out.push('-');
        v.serialize(Node {
            w: self.w,
            at: At::Item(self.col),
        })
    }

    fn end(self) -> Result<(), Unsupported> {
        if self.items == 0 {
            self.w.out.push_str(match self.at {
                At::Root => "[]\n",
                _ => " []\n",
            });
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Node<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = SeqW<'a>;
    type SerializeTuple = SeqW<'a>;
    type SerializeTupleStruct = SeqW<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = MapW<'a>;
    type SerializeStruct = MapW<'a>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.plain(|o| o.push_str(if v { "true" } else { "false" }))
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.plain(|o| push_i64(v, o))
    }
    fn serialize_i128(self, v: i128) -> Result<(), Unsupported> {
        self.plain(|o| o.push_str(&v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.plain(|o| push_u64(v, o))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Unsupported> {
        self.plain(|o| o.push_str(&v.to_string()))
    }
    // Floats (yaml_serde formats them with ryu), chars (always single-quoted), bytes, tagged
    // enum variants: not in envc's documents; yaml_serde writes them.
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, _: char) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.str(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Unsupported> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.plain(|o| o.push_str("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqW<'a>, Unsupported> {
        Ok(SeqW::new(self.w, self.at))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqW<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqW<'a>, Unsupported> {
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
    fn serialize_map(self, _: Option<usize>) -> Result<MapW<'a>, Unsupported> {
        Ok(MapW::new(self.w, self.at))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapW<'a>, Unsupported> {
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

impl ser::SerializeSeq for SeqW<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.item(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        SeqW::end(self)
    }
}

impl ser::SerializeTuple for SeqW<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.item(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        SeqW::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqW<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.item(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        SeqW::end(self)
    }
}

impl ser::SerializeMap for MapW<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Unsupported> {
        self.entry();
        k.serialize(KeySer(self.w))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.value(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        MapW::end(self)
    }
}

impl ser::SerializeStruct for MapW<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.entry();
        self.w.key_str(key)?;
        self.value(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        MapW::end(self)
    }
}

/// Serialises a mapping key: a scalar, on the key's line.
struct KeySer<'a>(&'a mut W);

type NoKey = ser::Impossible<(), Unsupported>;

impl ser::Serializer for KeySer<'_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = NoKey;
    type SerializeTuple = NoKey;
    type SerializeTupleStruct = NoKey;
    type SerializeTupleVariant = NoKey;
    type SerializeMap = NoKey;
    type SerializeStruct = NoKey;
    type SerializeStructVariant = NoKey;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.0.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        push_i64(v, &mut self.0.out);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Unsupported> {
        self.0.out.push_str(&v.to_string());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        push_u64(v, &mut self.0.out);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Unsupported> {
        self.0.out.push_str(&v.to_string());
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, _: char) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.0.key_str(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Unsupported> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.0.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.0.key_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    // Complex keys: libyaml writes them with `?`.
    fn serialize_seq(self, _: Option<usize>) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _: usize) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<NoKey, Unsupported> {
        Err(Unsupported)
    }
}

/// Bytes of a [`simple`] scalar: ASCII letters, digits and `-_./=`.
const SIMPLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b'=');
        b += 1;
    }
    t
};

/// Most keys and scalars: a letter, then letters, digits and `-_./=`. libyaml writes one
/// plain (see [`analyze`]'s first case), and it looks like a number or date to neither YAML
/// 1.1 nor 1.2 (those start with a digit, a sign or `.`, and take `:` or `+`): only the
/// words are quoted.
fn simple(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.bytes().all(|b| SIMPLE[usize::from(b)])
}

/// The YAML 1.1 and 1.2 words for booleans and null (yaml_serde's are a subset).
fn yaml_word(s: &str) -> bool {
    s.len() <= 5
        && matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "true"
                | "True"
                | "TRUE"
                | "false"
                | "False"
                | "FALSE"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
                | "null"
                | "Null"
                | "NULL"
        )
}

fn write_str(s: &str, block_indent: usize, key: bool, out: &mut String) -> Result<(), Unsupported> {
    if simple(s) {
        if yaml_word(s) {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        } else {
            out.push_str(s);
        }
        return Ok(());
    }
    write_str_analysed(s, block_indent, key, out)
}

/// [`write_str`] by the full rules.
fn write_str_analysed(
    s: &str,
    block_indent: usize,
    key: bool,
    out: &mut String,
) -> Result<(), Unsupported> {
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

    /// Typed values (derived `Serialize`, as k8s-openapi's and envc's objects are) through
    /// the streaming writer: the same text as yaml_serde, or a refusal.
    fn typed<T: serde::Serialize>(v: &T) -> Option<String> {
        let reference = super::super::by_yaml_serde(v).expect("yaml_serde writes it");
        let direct = super::to_string(v).ok();
        if let Some(d) = &direct {
            assert_eq!(d, &reference);
        }
        // The fallback gives the reference either way.
        assert_eq!(
            super::super::to_yaml(v).ok().as_deref(),
            Some(reference.as_str())
        );
        direct
    }

    #[derive(serde::Serialize)]
    enum Policy {
        Always,
        #[serde(rename = "on")]
        On,
    }

    #[derive(serde::Serialize)]
    struct Port(u16);

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Object {
        name: String,
        missing: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        policy: Policy,
        policies: Vec<Policy>,
        port: Port,
        negative: i32,
        big: u64,
        flag: bool,
        unit: (),
        empty_map: BTreeMap<String, String>,
        empty_seq: Vec<String>,
        nested: Vec<Vec<BTreeMap<String, Vec<String>>>>,
        items: Vec<Item>,
        by_number: BTreeMap<i64, bool>,
        by_flag: BTreeMap<bool, Vec<u8>>,
        tuple: (u8, String, Vec<u8>),
    }

    #[derive(serde::Serialize)]
    struct Item {
        script: String,
        #[serde(rename = "yes")]
        quoted_key: BTreeMap<String, String>,
        list: Vec<String>,
        inner: Vec<Item>,
    }

    fn item(script: &str, inner: Vec<Item>) -> Item {
        Item {
            script: script.into(),
            quoted_key: BTreeMap::from([
                ("on".into(), "off".into()),
                ("1:30".into(), "a: b".into()),
                ("-x".into(), "- x".into()),
                ("it's".into(), "#no".into()),
                ("{{ x }}".into(), "".into()),
            ]),
            list: vec!["".into(), "~".into(), "0755".into(), "|".into()],
            inner,
        }
    }

    #[test]
    fn typed_values_stream_as_yaml_serde_writes_them() {
        let o = Object {
            name: "api".into(),
            missing: None,
            skipped: None,
            policy: Policy::Always,
            policies: vec![Policy::On, Policy::Always],
            port: Port(8080),
            negative: -42,
            big: u64::MAX,
            flag: false,
            unit: (),
            empty_map: BTreeMap::new(),
            empty_seq: Vec::new(),
            nested: vec![
                vec![],
                vec![BTreeMap::new()],
                vec![BTreeMap::from([
                    ("a".into(), vec![]),
                    ("b".into(), vec!["x".into()]),
                ])],
            ],
            items: vec![
                item("set -e\nrun\n", vec![]),
                item(" two\n  lines", vec![item("x\ny\n", vec![])]),
            ],
            by_number: BTreeMap::from([(-1, true), (7, false)]),
            by_flag: BTreeMap::from([(true, vec![]), (false, vec![1, 2])]),
            tuple: (1, "x".into(), vec![]),
        };
        assert!(typed(&o).is_some());
        // Empty collections and scalars at the root, and in sequences at every depth.
        let empty: Vec<Vec<Vec<String>>> = vec![vec![], vec![vec![]], vec![vec!["x".into()]]];
        assert!(typed(&empty).is_some());
        assert!(typed(&Vec::<u8>::new()).is_some());
        assert!(typed(&BTreeMap::<String, u8>::new()).is_some());
        assert!(typed(&vec![BTreeMap::<String, u8>::new()]).is_some());
        assert!(typed(&"yes").is_some());
        assert!(typed(&Port(1)).is_some());
        assert!(typed(&Option::<u8>::None).is_some());
        assert!(typed(&vec![vec![BTreeMap::from([("k", vec![vec!["v"]])])]]).is_some());
    }

    #[test]
    fn what_the_writer_declines_yaml_serde_writes() {
        #[derive(serde::Serialize)]
        enum Tagged {
            Newtype(u8),
        }
        // Floats, chars, tagged variants, complex and long keys, tags, double-quoted and `|+`
        // scalars, a root block scalar; nested deep, after text was written.
        let long = "k".repeat(129);
        assert!(typed(&BTreeMap::from([("a", vec![1.5])])).is_none());
        assert!(typed(&vec![vec!['c']]).is_none());
        assert!(typed(&BTreeMap::from([("a", Tagged::Newtype(1))])).is_none());
        assert!(typed(&BTreeMap::from([(vec![1], 2)])).is_none());
        assert!(typed(&BTreeMap::from([(long.as_str(), 2)])).is_none());
        assert!(typed(&BTreeMap::from([("!tag", 2)])).is_none());
        assert!(typed(&BTreeMap::from([("a", vec!["tab\there"])])).is_none());
        assert!(typed(&BTreeMap::from([("a", vec!["\u{1F600}"])])).is_none());
        assert!(typed(&BTreeMap::from([("a", "kept\n\n")])).is_none());
        assert!(typed(&"root\nblock\n").is_none());
        assert!(typed(&BTreeMap::from([("a\nb", 1)])).is_none());
    }

    #[test]
    fn template_text_is_the_text_made_literal_with_its_placeholders_marked() {
        const TOKEN: &str = "HOLE_";
        let v = json!({
            "a{{b": "{{ x }} and {{{y",
            "HOLE_1_": { "k": ["HOLE_2_", "x HOLE_3_ y", "{{HOLE_4_"] },
            "block": "one\nHOLE_5_ two\n{{ three }}\n",
            "plain": ["no", { "m": "HOLE_6_" }],
        });
        let plain = super::to_string(&v).expect("written");
        let (text, marks) = super::to_template(&v, TOKEN).expect("written");
        assert_eq!(text, plain.replace("{{", super::LITERAL_BRACES));
        // Every line with a placeholder is covered by a mark: from its line's start through
        // the line its scalar ends on (a block's mark may cover one more line).
        let covered = |at: usize| {
            marks.iter().any(|&(from, end)| {
                let to = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
                from <= at && at < to
            })
        };
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            assert!(!line.contains(TOKEN) || covered(at), "{line:?} in\n{text}");
            at += line.len();
        }
        assert_eq!(marks.len(), 6, "{marks:?}");
        assert!(marks.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn simple_scalars_are_written_as_the_full_rules_write_them() {
        const ALPHABET: &[u8] = b"aeflnorstuyAEFLNORSTUYx0123456789-_./=";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        let words = [
            "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
            "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null",
            "NULL", "tRue", "nul", "e1", "e", "a.e5", "x0x1", "o", "yess", "Nan", "nan", "inf",
        ];
        let mut simple = 0;
        let random = (0..50_000).map(|_| {
            let len = 1 + next(7);
            (0..len)
                .map(|_| char::from(ALPHABET[next(ALPHABET.len())]))
                .collect::<String>()
        });
        for s in words.iter().map(|w| w.to_string()).chain(random) {
            for key in [false, true] {
                let mut fast = String::new();
                let mut full = String::new();
                let a = super::write_str(&s, 2, key, &mut fast).is_ok();
                let b = super::write_str_analysed(&s, 2, key, &mut full).is_ok();
                assert_eq!((a, &fast), (b, &full), "for {s:?}");
            }
            simple += usize::from(super::simple(&s));
        }
        assert!(simple > 20_000, "{simple}");
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
