//! Structure-aware mutations of TOML and YAML documents, and plain text mutations.
//!
//! A document is parsed into a `serde_json::Value` tree (one mutator serves both formats), a few
//! operations change the tree (scalars replaced by odd values, keys dropped, renamed or
//! duplicated, subtrees swapped, nested deeply or grafted from another file), and the tree is
//! written back in its format. What does not parse, or cannot be written back, is mutated as
//! text instead, so every case still differs from its seed.

use serde_json::{Map, Number, Value};

use crate::rng::Rng;

/// Odd strings: what Kubernetes, Compose, Handlebars, HCL, YAML 1.1 and shells interpret, paths
/// that leave the project, unicode, and values of the wrong kind spelled as strings.
const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "UPPER",
    "with space",
    "-leading-dash",
    "trailing-",
    "a.b.c",
    "a/b",
    "*",
    "?",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "off",
    "0x1F",
    "1e3",
    "0777",
    "12:30",
    "2026-01-01",
    "latest",
    "redis:latest",
    "redis@sha256:xyz",
    "redis@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "registry.example:5000/a/b:1.2.3",
    "UPPER/Case:Tag",
    "${",
    "}",
    "${services}",
    "${services.postgres}",
    "${services.postgres.host}",
    "${services.postgres.port}",
    "${services.nope.url}",
    "${secrets.nope}",
    "${secret.postgres-password}",
    "${mode.name}",
    "${env.HOME}",
    "$${x}",
    "$$",
    "$",
    "${${x}}",
    "%{ if true }x%{ endif }",
    "{{",
    "}}",
    "{{nope}}",
    "{{#each services}}{{this}}{{/each}}",
    "{{> partial}}",
    "../../etc/passwd",
    "/etc/hostname",
    "./",
    ".",
    "..",
    "C:\\Windows",
    "100m",
    "0m",
    "-100m",
    "1Gi",
    "0Gi",
    "-1Gi",
    "1.5Gi",
    "99999999999999999999Ki",
    "1e308",
    "1Ei",
    "0.0001m",
    "10s",
    "0s",
    "-5s",
    "1h30m",
    "99999999999h",
    "*/5 * * * *",
    "@hourly",
    "61 25 32 13 8",
    "TZ=Europe/Paris 0 0 * * *",
    "Europe/Paris",
    "Mars/Olympus",
    "TCP",
    "UDP",
    "SCTP",
    "http://user:pass@host:1/path",
    "CMD-SHELL exit 1",
    "sh -c 'echo $HOME'",
    "ünïcødé",
    "日本語のサービス",
    "\u{202e}rtl-override",
    "emoji-🚀",
    "zero\u{200b}width",
    "tab\tseparated",
    "line\nbreak",
    "carriage\rreturn",
    "nul\u{0}byte",
    "quote\"double",
    "quote'single",
    "back\\slash",
    "# not a comment",
    "key: value",
    "- item",
    "&anchor",
    "*alias",
    "!!binary",
    "---",
    "...",
    "= [ ] { }",
];

/// Keys that exist somewhere in envc's model (so a mutation can put them where they do not
/// belong), and a few that exist nowhere.
const KEYS: &[&str] = &[
    "image",
    "build",
    "context",
    "command",
    "args",
    "env",
    "ports",
    "port",
    "node_port",
    "host_port",
    "protocol",
    "expose",
    "ingress",
    "host",
    "path",
    "secrets",
    "files",
    "template",
    "content",
    "volumes",
    "volume",
    "source",
    "mount",
    "size",
    "resources",
    "requests",
    "limits",
    "cpu",
    "memory",
    "replicas",
    "autoscaling",
    "min",
    "max",
    "probes",
    "readiness",
    "liveness",
    "startup",
    "http",
    "tcp",
    "exec",
    "depends_on",
    "security",
    "run_as_user",
    "run_as_group",
    "read_only_root_filesystem",
    "namespace",
    "namespaces",
    "labels",
    "annotations",
    "enabled",
    "kind",
    "schedule",
    "time_zone",
    "run",
    "init",
    "sidecars",
    "extends",
    "templates",
    "profile",
    "backend",
    "tier",
    "kubernetes",
    "version",
    "cloud",
    "node_pools",
    "managed",
    "promotion",
    "from",
    "services",
    "environment",
    "environments",
    "name",
    "description",
    "dev_value",
    "x",
    "",
    "UPPER",
    "with space",
    "ünï",
    "a.b",
    "${x}",
];

/// Tokens inserted by text mutations: TOML, YAML and Handlebars syntax, and bytes that break
/// UTF-8.
const TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"{",
    b"}",
    b"=",
    b"\"",
    b"'",
    b"'''",
    b"\"\"\"",
    b"\\",
    b",",
    b".",
    b"#",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b":",
    b"- ",
    b"---\n",
    b"&a ",
    b"*a",
    b"!!str ",
    b"? ",
    b"|\n",
    b">-\n",
    b"${",
    b"$$",
    b"{{",
    b"}}",
    b"{{#if x}}",
    b"{{/if}}",
    b"{{else}}",
    b"0",
    b"-",
    b"9999999999999999999999",
    b"nan",
    b"inf",
    b"1979-05-27T07:32:00Z",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\xae",
    b"\x00",
];

/// Replaces some scalars, drops, renames, duplicates, swaps, nests or grafts subtrees of a TOML
/// document; `donors` are other parsed documents whose subtrees may be grafted in.
pub fn toml_document(rng: &mut Rng, text: &str, donors: &[Value]) -> Vec<u8> {
    if rng.chance(1, 6) {
        return bytes(rng, text.as_bytes());
    }
    let Ok(table) = text.parse::<toml::Table>() else {
        return bytes(rng, text.as_bytes());
    };
    let Ok(mut tree) = serde_json::to_value(&table) else {
        return bytes(rng, text.as_bytes());
    };
    for _ in 0..=rng.below(3) {
        tree_op(rng, &mut tree, donors);
    }
    strip_nulls(&mut tree);
    match toml::to_string(&tree) {
        Ok(s) => s.into_bytes(),
        Err(_) => bytes(rng, text.as_bytes()),
    }
}

/// Parses a TOML document into the tree the mutator works on (for donors).
pub fn toml_tree(text: &str) -> Option<Value> {
    let table = text.parse::<toml::Table>().ok()?;
    serde_json::to_value(&table).ok()
}

/// Parses every document of a YAML stream into the tree the mutator works on.
pub fn yaml_trees(text: &str) -> Vec<Value> {
    use serde::Deserialize;
    yaml_serde::Deserializer::from_str(text)
        .map_while(|d| yaml_serde::Value::deserialize(d).ok())
        .filter_map(|v| serde_json::to_value(v).ok())
        .collect()
}

/// Like [`toml_document`] for a YAML stream: one of its documents is mutated (or a document
/// dropped or duplicated) and the stream written back.
pub fn yaml_document(rng: &mut Rng, text: &str, donors: &[Value]) -> Vec<u8> {
    if rng.chance(1, 5) {
        return bytes(rng, text.as_bytes());
    }
    let mut docs = yaml_trees(text);
    if docs.is_empty() {
        return bytes(rng, text.as_bytes());
    }
    match rng.below(10) {
        0 if docs.len() > 1 => {
            docs.remove(rng.below(docs.len()));
        }
        1 => {
            let i = rng.below(docs.len());
            let copy = docs[i].clone();
            docs.insert(i, copy);
        }
        _ => {
            let i = rng.below(docs.len());
            for _ in 0..=rng.below(3) {
                tree_op(rng, &mut docs[i], donors);
            }
        }
    }
    let mut out = String::new();
    for d in &docs {
        match yaml_serde::to_string(d) {
            Ok(s) => {
                out.push_str("---\n");
                out.push_str(&s);
            }
            Err(_) => return bytes(rng, text.as_bytes()),
        }
    }
    out.into_bytes()
}

/// Byte-level mutations: truncation, tokens inserted or overwritten, lines deleted or
/// duplicated, a span repeated.
pub fn bytes(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 => b.truncate(at),
            1 | 2 => {
                let t = rng.pick(TOKENS).copied().unwrap_or(b"");
                b.splice(at..at, t.iter().copied());
            }
            3 => {
                let t = rng.pick(TOKENS).copied().unwrap_or(b"");
                let end = (at + t.len()).min(b.len());
                b.splice(at..end, t.iter().copied());
            }
            4 => {
                let (start, end) = line_around(&b, at);
                b.drain(start..end);
            }
            5 => {
                let (start, end) = line_around(&b, at);
                let line = b[start..end].to_vec();
                b.splice(start..start, line);
            }
            _ => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                let span = b[at.min(end)..end].to_vec();
                for _ in 0..rng.below(4) {
                    b.splice(at..at, span.iter().copied());
                }
            }
        }
    }
    b
}

fn line_around(b: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(b.len());
    let start = b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let end = b[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| at + p + 1);
    (start, end)
}

/// A step from a node to one of its children.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                here.push(Step::Key(k.clone()));
                paths(c, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                here.push(Step::Index(i));
                paths(c, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn node<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn random_path(rng: &mut Rng, v: &Value) -> Vec<Step> {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    rng.pick(&all).cloned().unwrap_or_default()
}

/// Every string anywhere in the tree (service names, ports spelled as strings, images), so a
/// mutation can move a meaningful value to a place where it means something else.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Object(m) => {
            for (k, c) in m {
                out.push(k.clone());
                strings(c, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| strings(c, out)),
        _ => {}
    }
}

fn odd_scalar(rng: &mut Rng, tree: &Value) -> Value {
    match rng.below(12) {
        0 => Value::Bool(rng.chance(1, 2)),
        1 => odd_number(rng),
        2 => Number::from_f64(
            *rng.pick(&[0.5, -0.0, 1e308, -1e308, 1e-308, 0.1, 2.5e9])
                .unwrap_or(&0.5),
        )
        .map_or(Value::Null, Value::Number),
        3 => Value::Number(Number::from(u64::MAX)),
        4 => Value::String("x".repeat(1 + rng.below(600))),
        5 | 6 => {
            let mut all = Vec::new();
            strings(tree, &mut all);
            let base = rng.pick(&all).cloned().unwrap_or_default();
            Value::String(tweak(rng, &base))
        }
        7 => Value::Array(Vec::new()),
        8 => Value::Object(Map::new()),
        _ => Value::String(rng.pick(STRINGS).copied().unwrap_or("").to_string()),
    }
}

fn same_kind(rng: &mut Rng, old: &Value, tree: &Value) -> Value {
    match old {
        Value::Number(n) => {
            let base = n.as_i64().unwrap_or(0);
            let v = match rng.below(4) {
                0 => base.wrapping_neg(),
                1 => base.wrapping_add(1),
                2 => base.wrapping_mul(1 << (1 + rng.below(40))),
                _ => return odd_number(rng),
            };
            Value::Number(Number::from(v))
        }
        Value::String(s) if rng.chance(1, 2) => Value::String(tweak(rng, s)),
        Value::String(_) => Value::String(rng.pick(STRINGS).copied().unwrap_or("").to_string()),
        Value::Bool(b) => Value::Bool(!b),
        _ => odd_scalar(rng, tree),
    }
}

fn odd_number(rng: &mut Rng) -> Value {
    Value::Number(Number::from(
        *rng.pick(&[
            0i64,
            -1,
            1,
            65535,
            65536,
            30000,
            32767,
            32768,
            -2147483648,
            2147483647,
            2147483648,
            4294967295,
            4294967296,
            3000000000,
            i64::MAX,
            i64::MIN,
        ])
        .unwrap_or(&0),
    ))
}

/// A string changed a little: a character appended, dropped, doubled, or an odd one added.
fn tweak(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    match rng.below(6) {
        0 => chars.push(
            *rng.pick(&['-', '.', '_', 'A', '0', 'é', '/', ':', '$'])
                .unwrap_or(&'-'),
        ),
        1 if !chars.is_empty() => {
            chars.remove(rng.below(chars.len()));
        }
        2 => return format!("{s}{s}"),
        3 => return s.to_uppercase(),
        4 => return format!("{s}-{}", rng.below(100)),
        _ => {}
    }
    chars.into_iter().collect()
}

/// One mutation of the tree.
fn tree_op(rng: &mut Rng, tree: &mut Value, donors: &[Value]) {
    let path = random_path(rng, tree);
    match rng.below(11) {
        // Replace the node by an odd scalar (or an empty container).
        0..=2 => {
            // Mostly a value of the same kind, which validation must range-check (a port of
            // 65536, a replica count of 3000000000, an image one character off); sometimes one
            // of another kind, which decoding must refuse.
            let same = rng.chance(2, 3);
            let v = match node(tree, &path) {
                Some(old) if same => same_kind(rng, old, tree),
                _ => odd_scalar(rng, tree),
            };
            if let Some(n) = node_mut(tree, &path) {
                *n = v;
            }
        }
        // Drop it.
        3 => remove(tree, &path),
        // Duplicate it beside itself (a second service, a repeated array element).
        4 => duplicate(rng, tree, &path),
        // Rename it (a map key).
        5 => rename(rng, tree, &path),
        // Add a key, with a value taken from elsewhere in this tree or a donor.
        6 => {
            let key = rng.pick(KEYS).copied().unwrap_or("x").to_string();
            let value = graft(rng, tree, donors);
            if let Some(Value::Object(m)) = node_mut(tree, &path) {
                m.insert(key, value);
            } else if let Some(Value::Array(a)) = node_mut(tree, &path) {
                a.push(value);
            }
        }
        // Replace it with a subtree of a donor (another environment's service, another
        // profile's settings).
        7 | 8 => {
            let value = graft(rng, tree, donors);
            if let Some(n) = node_mut(tree, &path) {
                *n = value;
            }
        }
        // Nest it deeply.
        9 => {
            if let Some(n) = node_mut(tree, &path) {
                let deep = rng.chance(1, 4);
                let depth = 1 + rng.below(if deep { 200 } else { 8 });
                let mut v = n.take();
                for i in 0..depth {
                    v = if i % 2 == 0 {
                        Value::Array(vec![v])
                    } else {
                        let mut m = Map::new();
                        m.insert("x".into(), v);
                        Value::Object(m)
                    };
                }
                *n = v;
            }
        }
        // Swap it with another node.
        _ => {
            let other = random_path(rng, tree);
            let a = node(tree, &path).cloned();
            let b = node(tree, &other).cloned();
            if let (Some(a), Some(b)) = (a, b) {
                if let Some(n) = node_mut(tree, &path) {
                    *n = b;
                }
                if let Some(n) = node_mut(tree, &other) {
                    *n = a;
                }
            }
        }
    }
}

fn graft(rng: &mut Rng, tree: &Value, donors: &[Value]) -> Value {
    let from = if donors.is_empty() || rng.chance(1, 3) {
        tree
    } else {
        rng.pick(donors).unwrap_or(tree)
    };
    let p = random_path(rng, from);
    node(from, &p).cloned().unwrap_or(Value::Null)
}

fn remove(tree: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (node_mut(tree, parent), last) {
        (Some(Value::Object(m)), Step::Key(k)) => {
            m.shift_remove(k);
        }
        (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

fn duplicate(rng: &mut Rng, tree: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let suffix = rng
        .pick(&["-2", "2", "-copy", "", "_b"])
        .copied()
        .unwrap_or("-2");
    match (node_mut(tree, parent), last) {
        (Some(Value::Object(m)), Step::Key(k)) => {
            if let Some(v) = m.get(k).cloned() {
                m.insert(format!("{k}{suffix}"), v);
            }
        }
        (Some(Value::Array(a)), Step::Index(i)) => {
            if let Some(v) = a.get(*i).cloned() {
                a.insert(*i, v);
            }
        }
        _ => {}
    }
}

fn rename(rng: &mut Rng, tree: &mut Value, path: &[Step]) {
    let Some((Step::Key(k), parent)) = path.split_last() else {
        return;
    };
    let mut names = Vec::new();
    strings(tree, &mut names);
    let new = if rng.chance(1, 2) {
        rng.pick(&names).cloned().unwrap_or_default()
    } else if rng.chance(1, 2) {
        tweak(rng, k)
    } else {
        rng.pick(KEYS).copied().unwrap_or("x").to_string()
    };
    if let Some(Value::Object(m)) = node_mut(tree, parent)
        && let Some(v) = m.shift_remove(k)
    {
        m.insert(new, v);
    }
}

/// TOML has no null: a null left by a mutation becomes an empty string (in maps) or goes.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for c in m.values_mut() {
                if c.is_null() {
                    *c = Value::String(String::new());
                }
                strip_nulls(c);
            }
        }
        Value::Array(a) => {
            a.retain(|c| !c.is_null());
            a.iter_mut().for_each(strip_nulls);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_mutations_change_the_document_and_are_deterministic() {
        let seed = "[services.api]\nimage = \"nginx:1.27\"\nports = { http = 80 }\n";
        let mut changed = 0;
        for case in 0..50 {
            let a = toml_document(&mut Rng::for_case(1, case), seed, &[]);
            let b = toml_document(&mut Rng::for_case(1, case), seed, &[]);
            assert_eq!(a, b, "case {case} is not a function of its seed");
            if a != seed.as_bytes() {
                changed += 1;
            }
        }
        assert!(
            changed > 40,
            "only {changed} of 50 mutations changed the input"
        );
    }

    #[test]
    fn yaml_mutations_keep_a_stream_of_documents() {
        let seed = "a: 1\n---\nb: [x, y]\n";
        assert_eq!(yaml_trees(seed).len(), 2);
        let mut parsed = 0;
        for case in 0..40 {
            let out = yaml_document(&mut Rng::for_case(2, case), seed, &[]);
            if !yaml_trees(&String::from_utf8_lossy(&out)).is_empty() {
                parsed += 1;
            }
        }
        assert!(
            parsed > 20,
            "structural mutations should mostly stay YAML: {parsed}"
        );
    }

    #[test]
    fn deep_nesting_and_removal_reach_the_tree() {
        let mut v: Value = serde_json::json!({"a": {"b": [1, 2]}});
        remove(&mut v, &[Step::Key("a".into()), Step::Key("b".into())]);
        assert_eq!(v, serde_json::json!({"a": {}}));
        let mut w: Value = serde_json::json!({"a": [1]});
        duplicate(
            &mut Rng::for_case(0, 0),
            &mut w,
            &[Step::Key("a".into()), Step::Index(0)],
        );
        assert_eq!(w, serde_json::json!({"a": [1, 1]}));
    }
}
