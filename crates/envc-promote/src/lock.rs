//! Release lock files, `locks/<env>/<mode>.toml`: what a prod mode runs. Parsed from the
//! span-keeping [`Node`] tree so that errors, provenance and `envc diff` point into the lock;
//! every entry's hash is checked against its content.

use indexmap::IndexMap;

use envc_model::diagnostic::did_you_mean;
use envc_model::{Diagnostic, Diagnostics, FileId, Node, NodeValue, Origin};

use crate::release::{
    Release, ServiceRelease, SharedRelease, config_hash, is_digest, template_paths,
};

/// Directory of release locks, relative to the project root.
pub const LOCKS_DIR: &str = "locks";

/// Version of the lock format this envc reads and writes.
pub const FORMAT: i64 = 1;

/// Display path of a mode's lock: `locks/<env>/<mode>.toml`.
pub fn lock_path(env: &str, mode: &str) -> String {
    format!("{LOCKS_DIR}/{env}/{mode}.toml")
}

/// Display path of a mode's promotion log: `locks/<env>/<mode>.log.toml`.
pub fn log_path(env: &str, mode: &str) -> String {
    format!("{LOCKS_DIR}/{env}/{mode}.log.toml")
}

/// Where a unit's locked version came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The mode (or lock file) it was promoted from.
    pub from: Option<String>,
    /// Git revision of the model when it was promoted.
    pub revision: Option<String>,
    /// When it was promoted (RFC 3339).
    pub promoted: Option<String>,
}

/// A parsed, verified lock.
#[derive(Debug, Clone)]
pub struct Lock {
    /// The lock's source file.
    pub file: FileId,
    /// What the mode runs.
    pub release: Release,
    /// Promotion metadata per unit.
    pub meta: IndexMap<String, Meta>,
    /// Origin of each service's `image` value (provenance of the deployed image).
    pub image_origins: IndexMap<String, Origin>,
    /// Origin of each unit's table header, for messages.
    pub unit_origins: IndexMap<String, Origin>,
}

const LOCK_KEYS: [&str; 4] = ["format", "environment", "mode", "services"];
const SHARED_KEYS: [&str; 5] = ["config", "from", "revision", "promoted", "definition"];
const SERVICE_KEYS: [&str; 8] = [
    "image",
    "digest",
    "config",
    "from",
    "revision",
    "promoted",
    "definition",
    "templates",
];

fn err(o: Origin, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error("E-lock", msg).at(o, "here").hint(
        "locks are written by `envc promote --write`; restore this one from git, or promote again",
    )
}

fn unknown_keys(node: &Node, allowed: &[&str], what: &str, d: &mut Diagnostics) {
    for (k, e) in node.as_table().into_iter().flatten() {
        if !allowed.contains(&k.as_str()) {
            let mut diag = Diagnostic::error("E-lock", format!("unknown key `{k}` in {what}"))
                .at(e.key_origin, "not a lock key");
            if let Some(s) = did_you_mean(k, allowed.iter().copied()) {
                diag = diag.hint(format!("did you mean `{s}`?"));
            }
            d.push(diag);
        }
    }
}

fn string(node: &Node, key: &str, d: &mut Diagnostics, required: bool) -> Option<String> {
    match node.get(key) {
        Some(n) => match &n.value {
            NodeValue::String(s) => Some(s.clone()),
            NodeValue::Datetime(s) if key == "promoted" => Some(s.clone()),
            v => {
                d.push(err(
                    n.origin,
                    format!(
                        "wrong type of `{key}`: found {}, expected a string",
                        v.type_name()
                    ),
                ));
                None
            }
        },
        None if required => {
            d.push(err(node.origin, format!("missing `{key}`")));
            None
        }
        None => None,
    }
}

fn meta(node: &Node, d: &mut Diagnostics) -> Meta {
    Meta {
        from: string(node, "from", d, false),
        revision: string(node, "revision", d, false),
        promoted: string(node, "promoted", d, false),
    }
}

fn table<'a>(node: &'a Node, key: &str, d: &mut Diagnostics, required: bool) -> Option<&'a Node> {
    match node.get(key) {
        Some(n) if n.as_table().is_some() => Some(n),
        Some(n) => {
            d.push(err(
                n.origin,
                format!(
                    "wrong type of `{key}`: found {}, expected a table",
                    n.value.type_name()
                ),
            ));
            None
        }
        None if required => {
            d.push(err(node.origin, format!("missing table `{key}`")));
            None
        }
        None => None,
    }
}

fn check_hash(node: &Node, expected: &str, actual: &str, unit: &str, d: &mut Diagnostics) {
    if expected != actual {
        let o = node.get("config").map_or(node.origin, |n| n.origin);
        d.push(
            Diagnostic::error(
                "E-lock-hash",
                format!("the locked configuration of `{unit}` does not match its hash"),
            )
            .at(o, "recorded hash")
            .hint(format!(
                "the lock was edited by hand (its content hashes to {actual}); locks change only through `envc promote --write`, and a rollback restores a whole earlier lock from git"
            )),
        );
    }
}

/// Parses a lock file's tree and checks it belongs to `env` and `mode` and that every entry
/// matches its hash.
pub fn parse(file: FileId, tree: &Node, env: &str, mode: &str) -> Result<Lock, Diagnostics> {
    let mut d = Diagnostics::new();
    unknown_keys(tree, &["lock", "shared", "services"], "a lock file", &mut d);
    if let Some(l) = table(tree, "lock", &mut d, true) {
        unknown_keys(l, &LOCK_KEYS, "[lock]", &mut d);
        match l.get("format") {
            Some(Node {
                value: NodeValue::Integer(FORMAT),
                ..
            }) => {}
            Some(n) => d.push(
                Diagnostic::error(
                    "E-lock",
                    format!("unsupported lock format (this envc reads format {FORMAT})"),
                )
                .at(n.origin, "here")
                .hint("a newer envc wrote this lock: upgrade envc"),
            ),
            None => d.push(err(l.origin, "missing `format`")),
        }
        for (key, want) in [("environment", env), ("mode", mode)] {
            if let Some(v) = string(l, key, &mut d, true)
                && v != want
            {
                d.push(
                    Diagnostic::error(
                        "E-lock",
                        format!("this lock is for {key} `{v}`, not `{want}`"),
                    )
                    .at(l.origin_of(&[key]), "here")
                    .hint(format!(
                        "the lock of {env} in mode {mode} lives in {}",
                        lock_path(env, mode)
                    )),
                );
            }
        }
    }
    let listed: Option<(Vec<String>, Origin)> = tree.get("lock").and_then(|l| {
        let n = l.get("services");
        let list = n.and_then(|n| match &n.value {
            NodeValue::Array(a) => a.iter().map(|x| x.as_str().map(String::from)).collect(),
            _ => None,
        });
        match (n, list) {
            (Some(n), Some(list)) => Some((list, n.origin)),
            (Some(n), None) => {
                d.push(err(
                    n.origin,
                    "`services` must be an array of service names",
                ));
                None
            }
            (None, _) => {
                d.push(err(l.origin, "missing `services`"));
                None
            }
        }
    });
    let mut release = Release::default();
    let mut metas = IndexMap::new();
    let mut unit_origins = IndexMap::new();
    let mut image_origins = IndexMap::new();
    if let Some(s) = table(tree, "shared", &mut d, false) {
        unknown_keys(s, &SHARED_KEYS, "[shared]", &mut d);
        let config = string(s, "config", &mut d, true);
        if let Some(def) = table(s, "definition", &mut d, true) {
            unknown_keys(
                def,
                &crate::release::SHARED_KEYS,
                "[shared.definition]",
                &mut d,
            );
            let shared = SharedRelease::new(def.clone());
            if let Some(c) = &config {
                check_hash(s, c, &shared.config, crate::release::SHARED_UNIT, &mut d);
            }
            release.shared = Some(shared);
        }
        metas.insert(crate::release::SHARED_UNIT.to_string(), meta(s, &mut d));
        unit_origins.insert(crate::release::SHARED_UNIT.to_string(), s.origin);
    }
    for (name, e) in tree
        .get("services")
        .and_then(Node::as_table)
        .into_iter()
        .flatten()
    {
        let s = &e.node;
        if s.as_table().is_none() {
            d.push(err(s.origin, format!("`services.{name}` must be a table")));
            continue;
        }
        unknown_keys(s, &SERVICE_KEYS, &format!("[services.{name}]"), &mut d);
        let image = string(s, "image", &mut d, true);
        let digest = string(s, "digest", &mut d, false);
        if let Some(dg) = &digest
            && !is_digest(dg)
        {
            d.push(
                Diagnostic::error("E-lock", format!("`{dg}` is not an image digest"))
                    .at(s.origin_of(&["digest"]), "here")
                    .hint("a digest is `sha256:` followed by 64 lowercase hex digits"),
            );
        }
        let config = string(s, "config", &mut d, true);
        let Some(def) = table(s, "definition", &mut d, true) else {
            continue;
        };
        if def.get("image").is_some() {
            d.push(err(
                def.origin_of(&["image"]),
                "the image of a locked service is `services.<name>.image`, not part of its definition",
            ));
        }
        let mut templates = IndexMap::new();
        if let Some(t) = table(s, "templates", &mut d, false) {
            for (path, te) in t.as_table().into_iter().flatten() {
                match te.node.as_str() {
                    Some(text) => {
                        templates.insert(path.clone(), text.to_string());
                    }
                    None => d.push(err(te.node.origin, "a locked template is a string")),
                }
            }
        }
        for p in template_paths(def) {
            if !templates.contains_key(&p) {
                d.push(err(
                    def.origin,
                    format!("`{name}` uses template {p}, which the lock does not hold"),
                ));
            }
        }
        let (Some(image), Some(config)) = (image, config) else {
            continue;
        };
        let svc = ServiceRelease {
            image,
            digest,
            config: config_hash(def, &templates),
            definition: def.clone(),
            templates,
        };
        check_hash(s, &config, &svc.config, name, &mut d);
        metas.insert(name.clone(), meta(s, &mut d));
        unit_origins.insert(name.clone(), e.key_origin);
        image_origins.insert(name.clone(), s.origin_of(&["image"]));
        release.services.insert(name.clone(), svc);
    }
    // Entries are hashed one by one; the list guards against losing whole entries (a
    // truncated file, a bad merge), which would silently stop deploying a service.
    if let Some((list, origin)) = &listed {
        let present: Vec<&String> = tree
            .get("services")
            .and_then(Node::as_table)
            .map(|t| t.keys().collect())
            .unwrap_or_default();
        for name in list.iter().filter(|n| !present.contains(n)) {
            d.push(
                Diagnostic::error(
                    "E-lock",
                    format!("the lock lists service `{name}` but has no [services.{name}]"),
                )
                .at(*origin, "listed here")
                .hint(
                    "the file was truncated or merged badly: restore it from git, or promote again",
                ),
            );
        }
        for name in present.iter().filter(|n| !list.contains(n)) {
            d.push(
                Diagnostic::error(
                    "E-lock",
                    format!("[services.{name}] is not listed in `[lock] services`"),
                )
                .at(
                    tree.key_origin_of(&["services", name.as_str()]),
                    "not listed",
                )
                .hint(
                    "the file was edited or merged by hand: restore it from git, or promote again",
                ),
            );
        }
    }
    if d.has_errors() {
        d.sort();
        return Err(d);
    }
    Ok(Lock {
        file,
        release,
        meta: metas,
        image_origins,
        unit_origins,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse_text(text: &str) -> Result<Lock, Diagnostics> {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        parse(FileId(0), &n, "e", "prod")
    }

    fn codes(r: Result<Lock, Diagnostics>) -> Vec<&'static str> {
        r.err()
            .map(|d| d.iter().map(|x| x.code).collect())
            .unwrap_or_default()
    }

    #[test]
    fn checks_format_target_and_hashes() {
        let def = "[services.api.definition]\nargs = [\"a\"]\n";
        let (n, _) = Node::parse(FileId(0), def);
        let hash = config_hash(
            n.lookup(&["services", "api", "definition"]).unwrap(),
            &IndexMap::new(),
        );
        let ok = format!(
            "[lock]\nformat = 1\nenvironment = \"e\"\nmode = \"prod\"\nservices = [\"api\"]\n[services.api]\nimage = \"api:1.0.0\"\nconfig = \"{hash}\"\n{def}"
        );
        let lock = parse_text(&ok).unwrap();
        assert_eq!(lock.release.services["api"].reference(), "api:1.0.0");
        assert_eq!(
            codes(parse_text(&ok.replace("args = [\"a\"]", "args = [\"b\"]"))),
            ["E-lock-hash"]
        );
        assert_eq!(
            codes(parse_text(&ok.replace("format = 1", "format = 2"))),
            ["E-lock"]
        );
        assert_eq!(
            codes(parse_text(&ok.replace("mode = \"prod\"", "mode = \"dev\""))),
            ["E-lock"]
        );
        assert_eq!(
            codes(parse_text(&ok.replace("config =", "confg ="))),
            ["E-lock", "E-lock"]
        );
        assert_eq!(
            codes(parse_text(&ok.replace("[\"api\"]", "[\"api\", \"db\"]"))),
            ["E-lock"]
        );
        assert_eq!(
            codes(parse_text(&ok.replace("[\"api\"]", "[]"))),
            ["E-lock"]
        );
    }
}
