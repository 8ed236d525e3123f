//! Release lock files, `locks/<env>/<mode>.toml`: what a prod mode runs.
//!
//! The file's layout is the typed [`LockFile`], decoded from the span-keeping [`Node`] tree by
//! envc-model's serde layer (unknown keys collected with did-you-mean hints, type errors at the
//! value). What serde cannot say is checked after: the lock belongs to this environment and
//! mode, every entry matches its hash, every template a file names is held, and `[lock]
//! services` lists exactly the entries present. Definitions stay located subtrees of the lock
//! (the profile overlays them, and provenance, errors and `envc diff` point into the lock).

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use envc_model::de::decode;
use envc_model::{Diagnostic, Diagnostics, FileId, Node, NodeValue, Origin};

use crate::release::{Release, SHARED_UNIT, ServiceRelease, SharedRelease, is_digest};

/// Directory of release locks, relative to the project root.
pub const LOCKS_DIR: &str = "locks";

/// Version of the lock format this envc reads and writes.
pub const FORMAT: i64 = 1;

/// What every lock error suggests: locks are not edited by hand.
const RESTORE_HINT: &str =
    "locks are written by `envc promote --write`; restore this one from git, or promote again";

/// Display path of a mode's lock: `locks/<env>/<mode>.toml`.
pub fn lock_path(env: &str, mode: &str) -> String {
    format!("{LOCKS_DIR}/{env}/{mode}.toml")
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
    /// `[lock] release`: how many promotions made this lock (absent in a lock written before
    /// releases were numbered; the next promotion numbers it).
    pub number: Option<u64>,
}

impl Lock {
    /// The numbered release the lock builds, with the revision of its newest promotion (the
    /// unit promoted last: every unit of one promotion carries its revision).
    pub fn release_number(&self) -> Option<envc_model::release::ReleaseNumber> {
        let number = self.number?;
        let newest = self
            .meta
            .values()
            .max_by(|a, b| a.promoted.cmp(&b.promoted));
        Some(envc_model::release::ReleaseNumber {
            number,
            revision: newest.and_then(|m| m.revision.clone()),
        })
    }
}

/// The layout of a lock file.
#[derive(Debug, Deserialize)]
pub struct LockFile {
    /// `[lock]`: what the file is.
    pub lock: Header,
    /// `[shared]`: the environment-wide unit, once promoted.
    pub shared: Option<SharedEntry>,
    /// `[services.<name>]`, in release order.
    #[serde(default)]
    pub services: IndexMap<String, ServiceEntry>,
}

/// `[lock]`.
#[derive(Debug, Deserialize)]
pub struct Header {
    /// Format version ([`FORMAT`]).
    pub format: i64,
    /// The environment the lock belongs to.
    pub environment: String,
    /// The mode it pins.
    pub mode: String,
    /// The release number: 1 for the first promotion, incremented by every one after.
    #[serde(default)]
    pub release: Option<u64>,
    /// Every service entry, so that a lost entry (a truncated file, a bad merge) is noticed
    /// rather than silently no longer deployed.
    pub services: Vec<String>,
}

/// `[shared]`.
#[derive(Debug, Deserialize)]
pub struct SharedEntry {
    /// Hash of the definition.
    pub config: String,
    /// Where it was promoted from.
    pub from: Option<String>,
    /// Git revision when promoted.
    pub revision: Option<String>,
    /// When (a TOML datetime, or a string).
    pub promoted: Option<String>,
    /// `[shared.definition]`.
    pub definition: SharedDefinition,
}

/// `[shared.definition]`: the environment file's environment-wide tables.
#[derive(Debug, Deserialize)]
pub struct SharedDefinition {
    /// `[environment]`.
    pub environment: Option<Table>,
    /// `[namespaces]`.
    pub namespaces: Option<Table>,
    /// `[secrets]`, without dev values.
    pub secrets: Option<Table>,
}

/// `[services.<name>]`.
#[derive(Debug, Deserialize)]
pub struct ServiceEntry {
    /// Image reference without digest.
    pub image: String,
    /// `sha256:…`, when pinned.
    pub digest: Option<String>,
    /// Hash of definition and templates.
    pub config: String,
    /// Where it was promoted from.
    pub from: Option<String>,
    /// Git revision when promoted.
    pub revision: Option<String>,
    /// When (a TOML datetime, or a string).
    pub promoted: Option<String>,
    /// The service's table as the model wrote it, without `image`.
    pub definition: Table,
    /// Template texts by the path the model names.
    #[serde(default)]
    pub templates: IndexMap<String, String>,
}

/// A table whose content is the model's, not the lock format's: decoding only checks it is a
/// table; its content is taken from the tree as it is, with its origins.
#[derive(Debug, Clone, Copy)]
pub struct Table;

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TableVisitor;
        impl<'de> Visitor<'de> for TableVisitor {
            type Value = Table;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Table)
            }
        }
        d.deserialize_map(TableVisitor)
    }
}

fn err(o: Origin, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error("E-lock", msg)
        .at(o, "here")
        .hint(RESTORE_HINT)
}

/// Decoder diagnostics in a lock are lock errors: the model's docs do not describe the file,
/// so only did-you-mean and known-key hints are kept.
fn as_lock_error(mut d: Diagnostic) -> Diagnostic {
    if d.code != "E-unknown-key" {
        d.hints.clear();
    }
    d.code = "E-lock";
    d.hint(RESTORE_HINT)
}

/// A lock another envc wrote is not decoded at all: its layout may differ in any way.
fn check_format(tree: &Node) -> Result<(), Diagnostic> {
    match tree.lookup(&["lock", "format"]) {
        Some(Node {
            value: NodeValue::Integer(f),
            origin,
        }) if *f != FORMAT => Err(Diagnostic::error(
            "E-lock",
            format!("unsupported lock format (this envc reads format {FORMAT})"),
        )
        .at(*origin, "here")
        .hint("a newer envc wrote this lock: upgrade envc")),
        _ => Ok(()),
    }
}

/// Parses a lock file's tree and checks it belongs to `env` and `mode` and that every entry
/// matches its hash.
pub fn parse(file: FileId, tree: &Node, env: &str, mode: &str) -> Result<Lock, Diagnostics> {
    check_format(tree).map_err(|d| Diagnostics(vec![d]))?;
    let (decoded, found) = decode::<LockFile>(tree);
    let mut d = Diagnostics(found.into_iter().map(as_lock_error).collect());
    let Some(decoded) = decoded else {
        d.sort();
        return Err(d);
    };
    check_target(tree, &decoded.lock, env, mode, &mut d);
    check_listing(tree, &decoded, &mut d);
    if decoded.lock.release == Some(0) {
        d.push(err(
            tree.origin_of(&["lock", "release"]),
            "release numbers start at 1",
        ));
    }
    let number = decoded.lock.release;
    let mut lock = verify(file, tree, decoded, &Target { env, mode }, &mut d);
    lock.number = number;
    if d.has_errors() {
        d.sort();
        return Err(d);
    }
    Ok(lock)
}

fn check_target(tree: &Node, header: &Header, env: &str, mode: &str, d: &mut Diagnostics) {
    for (key, found, want) in [
        ("environment", &header.environment, env),
        ("mode", &header.mode, mode),
    ] {
        if found != want {
            d.push(
                Diagnostic::error(
                    "E-lock",
                    format!("this lock is for {key} `{found}`, not `{want}`"),
                )
                .at(tree.origin_of(&["lock", key]), "here")
                .hint(format!(
                    "the lock of {env} in mode {mode} lives in {}",
                    lock_path(env, mode)
                )),
            );
        }
    }
}

/// Entries are hashed one by one; the list guards against losing whole entries (a truncated
/// file, a bad merge), which would silently stop deploying a service.
fn check_listing(tree: &Node, decoded: &LockFile, d: &mut Diagnostics) {
    let listed = &decoded.lock.services;
    for name in listed.iter().filter(|n| !decoded.services.contains_key(*n)) {
        d.push(
            Diagnostic::error(
                "E-lock",
                format!("the lock lists service `{name}` but has no [services.{name}]"),
            )
            .at(tree.origin_of(&["lock", "services"]), "listed here")
            .hint("the file was truncated or merged badly: restore it from git, or promote again"),
        );
    }
    for name in decoded.services.keys().filter(|n| !listed.contains(n)) {
        d.push(
            Diagnostic::error(
                "E-lock",
                format!("[services.{name}] is not listed in `[lock] services`"),
            )
            .at(
                tree.key_origin_of(&["services", name.as_str()]),
                "not listed",
            )
            .hint("the file was edited or merged by hand: restore it from git, or promote again"),
        );
    }
}

/// Where a lock came from, for the command that writes a valid one.
struct Target<'a> {
    env: &'a str,
    mode: &'a str,
}

fn check_hash(
    tree: &Node,
    at: &[&str],
    (recorded, actual): (&str, &str),
    unit: &str,
    from: Option<&str>,
    target: &Target<'_>,
) -> Diagnostics {
    let mut d = Diagnostics::new();
    if recorded != actual {
        let (env, mode) = (target.env, target.mode);
        let from = from.unwrap_or("FROM");
        d.push(
            Diagnostic::error(
                "E-lock-tampered",
                format!("the locked release of `{unit}` does not match its recorded hash"),
            )
            .at(tree.origin_of(at), "recorded hash")
            .hint(format!(
                "the lock was edited by hand (what it holds now hashes to {actual}), so {mode} would deploy what no promotion checked; restore it from git (`git checkout -- {}`), or make a valid lock through the gates: `envc promote --env {env} {from} {mode} --write`",
                lock_path(env, mode)
            )),
        );
    }
    d
}

/// The located definition a decoded entry's `definition` stands for.
fn definition(tree: &Node, unit: &[&str]) -> Node {
    let path: Vec<&str> = unit.iter().copied().chain(["definition"]).collect();
    tree.lookup(&path)
        .cloned()
        .unwrap_or_else(|| Node::empty_table(tree.origin))
}

/// The release a decoded lock holds, its hashes checked, with metadata and origins.
fn verify(
    file: FileId,
    tree: &Node,
    decoded: LockFile,
    target: &Target<'_>,
    d: &mut Diagnostics,
) -> Lock {
    let mut lock = Lock {
        file,
        release: Release::default(),
        meta: IndexMap::new(),
        image_origins: IndexMap::new(),
        unit_origins: IndexMap::new(),
        number: None,
    };
    if let Some(s) = decoded.shared {
        let shared = SharedRelease::new(definition(tree, &["shared"]));
        d.extend(check_hash(
            tree,
            &["shared", "config"],
            (&s.config, &shared.config),
            SHARED_UNIT,
            s.from.as_deref(),
            target,
        ));
        lock.release.shared = Some(shared);
        let meta = Meta {
            from: s.from,
            revision: s.revision,
            promoted: s.promoted,
        };
        lock.meta.insert(SHARED_UNIT.to_string(), meta);
        let origin = tree.lookup(&["shared"]).map_or(tree.origin, |n| n.origin);
        lock.unit_origins.insert(SHARED_UNIT.to_string(), origin);
    }
    for (name, s) in decoded.services {
        let at = ["services", name.as_str()];
        if let Some(svc) = service(tree, &at, &name, &s, d) {
            d.extend(check_hash(
                tree,
                &["services", &name, "config"],
                (&s.config, &svc.hash),
                &name,
                s.from.as_deref(),
                target,
            ));
            let meta = Meta {
                from: s.from,
                revision: s.revision,
                promoted: s.promoted,
            };
            lock.meta.insert(name.clone(), meta);
            lock.unit_origins
                .insert(name.clone(), tree.key_origin_of(&at));
            lock.image_origins
                .insert(name.clone(), tree.origin_of(&["services", &name, "image"]));
            lock.release.services.insert(name, svc);
        }
    }
    lock
}

/// A locked service's release, after the checks of its entry that need the definition.
fn service(
    tree: &Node,
    at: &[&str],
    name: &str,
    entry: &ServiceEntry,
    d: &mut Diagnostics,
) -> Option<ServiceRelease> {
    let def = definition(tree, at);
    let mut ok = true;
    if let Some(dg) = entry.digest.as_deref().filter(|dg| !is_digest(dg)) {
        ok = false;
        d.push(
            Diagnostic::error("E-lock", format!("`{dg}` is not an image digest"))
                .at(tree.origin_of(&[at[0], at[1], "digest"]), "here")
                .hint("a digest is `sha256:` followed by 64 lowercase hex digits"),
        );
    }
    if def.get("image").is_some() {
        ok = false;
        d.push(err(
            def.origin_of(&["image"]),
            "the image of a locked service is `services.<name>.image`, not part of its definition",
        ));
    }
    for p in crate::release::template_paths(&def) {
        if !entry.templates.contains_key(&p) {
            ok = false;
            d.push(err(
                def.origin,
                format!("`{name}` uses template {p}, which the lock does not hold"),
            ));
        }
    }
    ok.then(|| {
        ServiceRelease::locked(
            entry.image.clone(),
            entry.digest.clone(),
            def,
            entry.templates.clone(),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::release::service_hash;

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

    fn messages(r: Result<Lock, Diagnostics>) -> Vec<(String, usize, Vec<String>)> {
        r.err()
            .map(|d| {
                d.iter()
                    .map(|x| {
                        let at = x.primary().map_or(usize::MAX, |o| o.span.start);
                        (x.message.clone(), at, x.hints.clone())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ok_lock() -> String {
        let def = "[services.api.definition]\nargs = [\"a\"]\n";
        let (n, _) = Node::parse(FileId(0), def);
        let hash = service_hash(
            "api:1.0.0",
            None,
            n.lookup(&["services", "api", "definition"]).unwrap(),
            &IndexMap::new(),
        );
        format!(
            "[lock]\nformat = 1\nenvironment = \"e\"\nmode = \"prod\"\nservices = [\"api\"]\n[services.api]\nimage = \"api:1.0.0\"\nconfig = \"{hash}\"\npromoted = 2026-11-27T10:15:00Z\n{def}"
        )
    }

    #[test]
    fn checks_format_target_and_hashes() {
        let ok = ok_lock();
        let lock = parse_text(&ok).unwrap();
        assert_eq!(lock.release.services["api"].reference(), "api:1.0.0");
        assert_eq!(
            lock.meta["api"].promoted.as_deref(),
            Some("2026-11-27T10:15:00Z")
        );
        assert_eq!(
            codes(parse_text(&ok.replace("args = [\"a\"]", "args = [\"b\"]"))),
            ["E-lock-tampered"]
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

    #[test]
    fn errors_point_at_the_value_with_hints() {
        let ok = ok_lock();
        let typo = ok.replace("image =", "imag =");
        let m = messages(parse_text(&typo));
        let texts: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(texts, ["missing key `image`", "unknown key `imag`"]);
        assert_eq!(m[1].1, typo.find("imag =").unwrap());
        assert_eq!(m[1].2, ["did you mean `image`?", RESTORE_HINT]);

        let wrong = ok.replace("image = \"api:1.0.0\"", "image = 1");
        let m = messages(parse_text(&wrong));
        assert_eq!(
            m,
            [(
                "wrong type: found the integer `1`, expected a string".to_string(),
                wrong.find("image = 1").unwrap() + "image = ".len(),
                vec![RESTORE_HINT.to_string()]
            )]
        );

        let table = ok.replace(
            "[services.api.definition]\nargs = [\"a\"]\n",
            "definition = 3\n",
        );
        let m = messages(parse_text(&table));
        assert!(m[0].0.ends_with("expected a table"), "{m:?}");

        let digest = ok.replace("config =", "digest = \"sha256:abc\"\nconfig =");
        let m = messages(parse_text(&digest));
        assert_eq!(m[0].0, "`sha256:abc` is not an image digest");
        assert_eq!(m[0].1, digest.find("\"sha256:abc\"").unwrap());

        let shared = format!("{ok}[shared]\nconfig = \"x\"\n[shared.definition.environmnt]\n");
        let m = messages(parse_text(&shared));
        let typo = m.iter().find(|x| x.0 == "unknown key `environmnt`");
        assert_eq!(
            typo.map(|x| x.2[0].as_str()),
            Some("did you mean `environment`?"),
            "{m:?}"
        );
    }

    #[test]
    fn templates_a_definition_names_must_be_held() {
        let ok = ok_lock().replace(
            "args = [\"a\"]",
            "args = [\"a\"]\nfiles = { c = { path = \"/c\", template = \"e/c.hbs\" } }",
        );
        let m = messages(parse_text(&ok));
        assert!(
            m.iter()
                .any(|x| x.0 == "`api` uses template e/c.hbs, which the lock does not hold"),
            "{m:?}"
        );
    }
}
