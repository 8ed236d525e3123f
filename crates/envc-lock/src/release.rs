//! What a mode runs, as the unit of promotion: per service its image and its model-level
//! definition (with the templates its files use), plus the environment-wide settings; the
//! hashes that identify them; and the changes between two releases.

use indexmap::IndexMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use envc_model::{Node, NodeValue};

/// The unit name of the environment-wide settings (`[environment]`, `[namespaces]`,
/// `[secrets]`): `--only environment` promotes them. It is reserved, so no service has it.
pub const SHARED_UNIT: &str = "environment";

/// Top-level tables of an environment file that form the environment-wide unit.
pub const SHARED_KEYS: [&str; 3] = ["environment", "namespaces", "secrets"];

/// One service as a release carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRelease {
    /// Image reference without digest (`postgres:17.11-alpine`).
    pub image: String,
    /// Image digest (`sha256:…`), when known.
    pub digest: Option<String>,
    /// The service's table as the environment file defines it, without `image`.
    pub definition: Node,
    /// Text of the templates its files use, by the path written in `files.<f>.template`.
    pub templates: IndexMap<String, String>,
    /// Hash of definition and templates: `sha256:<64 hex>`, what "configuration changed"
    /// means in changes, plans and promotion logs.
    pub config: String,
    /// Hash of image, digest, definition and templates ([`service_hash`]): what the lock
    /// records in the entry's `config` and every build verifies.
    pub hash: String,
}

impl ServiceRelease {
    /// A service release from its definition (with or without `image`) and template texts.
    pub fn new(
        mut definition: Node,
        image: Option<String>,
        templates: IndexMap<String, String>,
    ) -> Self {
        let written = definition
            .remove("image")
            .and_then(|e| e.node.as_str().map(String::from));
        let (image, digest) = split_digest(&image.or(written).unwrap_or_default());
        Self::locked(image, digest, definition, templates)
    }

    /// A service release as a lock holds it: image and digest apart, definition without
    /// `image`; the hash is computed from the content, for checking against the recorded one.
    pub fn locked(
        image: String,
        digest: Option<String>,
        definition: Node,
        templates: IndexMap<String, String>,
    ) -> Self {
        // One canonical document for both hashes: building it was most of a lock's cost.
        let mut doc = config_doc(&definition, &templates);
        let config = hash(&doc);
        with_image(&mut doc, &image, digest.as_deref());
        let hash = hash(&doc);
        ServiceRelease {
            image,
            digest,
            definition,
            templates,
            config,
            hash,
        }
    }

    /// Pins (or unpins) the image by digest; the hash follows.
    pub fn set_digest(&mut self, digest: Option<String>) {
        self.digest = digest;
        self.hash = service_hash(
            &self.image,
            self.digest.as_deref(),
            &self.definition,
            &self.templates,
        );
    }

    /// The image reference a mode deploys: `image@digest`, or `image` without a digest.
    pub fn reference(&self) -> String {
        reference(&self.image, &self.digest)
    }
}

/// The environment-wide settings a release carries.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRelease {
    /// A table with `environment`, `namespaces` and `secrets` (without dev values).
    pub definition: Node,
    /// Hash of the definition.
    pub config: String,
}

impl SharedRelease {
    /// Environment-wide settings from a definition table.
    pub fn new(definition: Node) -> Self {
        let config = config_hash(&definition, &IndexMap::new());
        SharedRelease { definition, config }
    }
}

/// What a mode runs, or would run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Release {
    /// Environment-wide settings (absent in a lock written before they were locked, or when
    /// the environment file has none).
    pub shared: Option<SharedRelease>,
    /// Services in order.
    pub services: IndexMap<String, ServiceRelease>,
}

impl Release {
    /// The release an environment tree describes: every service of `tree` (an environment
    /// file's tree, or one a lock was applied to), with template texts from `read` (given the
    /// path written in the model; an error message when it cannot be read).
    pub fn from_tree(
        tree: &Node,
        mut read: impl FnMut(&str) -> Result<String, String>,
    ) -> Result<Release, Vec<String>> {
        let mut errors = Vec::new();
        let mut services = IndexMap::new();
        for (name, entry) in tree
            .get("services")
            .and_then(Node::as_table)
            .into_iter()
            .flatten()
        {
            let mut templates = IndexMap::new();
            for t in template_paths(&entry.node) {
                match read(&t) {
                    Ok(text) => {
                        templates.insert(t, text);
                    }
                    Err(e) => errors.push(e),
                }
            }
            services.insert(
                name.clone(),
                ServiceRelease::new(entry.node.clone(), None, templates),
            );
        }
        let shared = shared_of(tree).map(SharedRelease::new);
        if errors.is_empty() {
            Ok(Release { shared, services })
        } else {
            Err(errors)
        }
    }

    /// Names of every unit: the environment-wide one (when present), then the services.
    pub fn units(&self) -> Vec<String> {
        let mut u: Vec<String> = self
            .shared
            .iter()
            .map(|_| SHARED_UNIT.to_string())
            .collect();
        u.extend(self.services.keys().cloned());
        u
    }
}

/// The environment-wide table of a tree: `environment`, `namespaces`, `secrets`, with secrets'
/// dev values left out (they never reach a prod mode, so changing them is no release).
pub fn shared_of(tree: &Node) -> Option<Node> {
    let table = tree.as_table()?;
    let mut out = Node::empty_table(tree.origin);
    let NodeValue::Table(t) = &mut out.value else {
        return None;
    };
    let t = std::sync::Arc::make_mut(t);
    for key in SHARED_KEYS {
        if let Some(e) = table.get(key) {
            let mut e = e.clone();
            if key == "secrets"
                && let NodeValue::Table(secrets) = &mut e.node.value
            {
                for s in std::sync::Arc::make_mut(secrets).values_mut() {
                    s.node.remove("dev_value");
                }
            }
            t.insert(key.to_string(), e);
        }
    }
    Some(out)
}

/// Template paths a service's files name (`files.<f>.template`), in order.
pub fn template_paths(service: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for (_, f) in service
        .get("files")
        .and_then(Node::as_table)
        .into_iter()
        .flatten()
    {
        if let Some(t) = f.node.get("template").and_then(Node::as_str)
            && !out.iter().any(|x| x == t)
        {
            out.push(t.to_string());
        }
    }
    out
}

/// `image@digest`, or `image` without a digest.
fn reference(image: &str, digest: &Option<String>) -> String {
    match digest {
        Some(d) => format!("{image}@{d}"),
        None => image.to_string(),
    }
}

/// Splits `repo:tag@sha256:…` into the reference and the digest.
pub fn split_digest(image: &str) -> (String, Option<String>) {
    match image.split_once('@') {
        Some((r, d)) if !d.is_empty() => (r.to_string(), Some(d.to_string())),
        _ => (image.to_string(), None),
    }
}

/// Whether a digest is `sha256:` and 64 lowercase hex digits.
pub fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `sha256:<hex>` of a definition and template texts, independent of key order, formatting
/// and comments: the same configuration always has the same hash. The environment-wide
/// unit's hash; a service's also covers its image ([`service_hash`]).
pub fn config_hash(definition: &Node, templates: &IndexMap<String, String>) -> String {
    hash(&config_doc(definition, templates))
}

/// `sha256:<hex>` of what a locked service deploys: its image and digest with its definition
/// and template texts, so that a lock edited by hand (an image changed in the file) no
/// longer matches its hash.
pub fn service_hash(
    image: &str,
    digest: Option<&str>,
    definition: &Node,
    templates: &IndexMap<String, String>,
) -> String {
    let mut doc = config_doc(definition, templates);
    with_image(&mut doc, image, digest);
    hash(&doc)
}

/// A configuration document with what a service deploys added ([`service_hash`]).
fn with_image(doc: &mut serde_json::Value, image: &str, digest: Option<&str>) {
    doc["image"] = serde_json::Value::from(image);
    doc["digest"] = serde_json::Value::from(digest);
}

fn config_doc(definition: &Node, templates: &IndexMap<String, String>) -> serde_json::Value {
    let mut t: Vec<(&String, &String)> = templates.iter().collect();
    t.sort();
    let mut tm = serde_json::Map::new();
    for (k, v) in t {
        tm.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    serde_json::json!({
        "definition": canonical(definition),
        "templates": tm,
    })
}

fn hash(doc: &serde_json::Value) -> String {
    let h = Sha256::digest(doc.to_string().as_bytes());
    format!(
        "sha256:{}",
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A JSON value of a node with tables' keys sorted, floats and datetimes tagged so that no
/// two different TOML values map to the same JSON.
pub fn canonical(n: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &n.value {
        NodeValue::String(s) => Value::String(s.clone()),
        NodeValue::Integer(i) => Value::from(*i),
        NodeValue::Float(f) => serde_json::json!({ "float": f.to_string() }),
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Datetime(d) => serde_json::json!({ "datetime": d }),
        NodeValue::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        NodeValue::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort();
            let mut m = serde_json::Map::new();
            for k in keys {
                m.insert(k.clone(), canonical(&t[k.as_str()].node));
            }
            Value::Object(m)
        }
    }
}

/// What happens to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Not in the old release.
    Add,
    /// In both, different.
    Update,
    /// Not in the new release.
    Remove,
}

impl Action {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Update => "update",
            Action::Remove => "remove",
        }
    }
}

/// A unit that differs between two releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Service name, or [`SHARED_UNIT`].
    pub unit: String,
    /// What happens to it.
    pub action: Action,
    /// Image reference before (services only).
    pub old_image: Option<String>,
    /// Image reference after.
    pub new_image: Option<String>,
    /// Configuration hash before.
    pub old_config: Option<String>,
    /// Configuration hash after.
    pub new_config: Option<String>,
}

impl Change {
    /// Whether the image reference changes.
    pub fn image_changed(&self) -> bool {
        self.old_image != self.new_image
    }

    /// Whether the configuration changes.
    pub fn config_changed(&self) -> bool {
        self.old_config != self.new_config
    }

    /// A short description: `a -> b`, `configuration changed`, `new service`, ...
    pub fn describe(&self) -> String {
        let img = |i: &Option<String>| i.clone().unwrap_or_else(|| "(none)".into());
        match self.action {
            Action::Add if self.unit == SHARED_UNIT => "environment settings added".into(),
            Action::Add => format!("new service, image {}", img(&self.new_image)),
            Action::Remove if self.unit == SHARED_UNIT => "environment settings removed".into(),
            Action::Remove => format!(
                "removed from the model; still runs {}",
                img(&self.old_image)
            ),
            Action::Update if self.unit == SHARED_UNIT => "environment settings changed".into(),
            Action::Update => match (self.image_changed(), self.config_changed()) {
                (true, true) => format!(
                    "{} -> {}; configuration changed",
                    img(&self.old_image),
                    img(&self.new_image)
                ),
                (true, false) => format!("{} -> {}", img(&self.old_image), img(&self.new_image)),
                _ => format!(
                    "configuration changed; image {} unchanged",
                    img(&self.new_image)
                ),
            },
        }
    }
}

/// Units that differ from `old` to `new`: the environment-wide unit first, then services in
/// `new`'s order, then services only `old` has.
pub fn changes(old: &Release, new: &Release) -> Vec<Change> {
    changes_with(old, new, |_, n| n.reference())
}

/// [`changes`], with the new services' image references given by `new_reference`.
fn changes_with(
    old: &Release,
    new: &Release,
    new_reference: impl Fn(&str, &ServiceRelease) -> String,
) -> Vec<Change> {
    let mut out = Vec::new();
    let shared_hash = |r: &Release| r.shared.as_ref().map(|s| s.config.clone());
    let (a, b) = (shared_hash(old), shared_hash(new));
    if a != b {
        out.push(Change {
            unit: SHARED_UNIT.into(),
            action: match (&a, &b) {
                (None, _) => Action::Add,
                (_, None) => Action::Remove,
                _ => Action::Update,
            },
            old_image: None,
            new_image: None,
            old_config: a,
            new_config: b,
        });
    }
    for (name, n) in &new.services {
        match old.services.get(name) {
            None => out.push(Change {
                unit: name.clone(),
                action: Action::Add,
                old_image: None,
                new_image: Some(new_reference(name, n)),
                old_config: None,
                new_config: Some(n.config.clone()),
            }),
            Some(o) if o.reference() != new_reference(name, n) || o.config != n.config => {
                out.push(Change {
                    unit: name.clone(),
                    action: Action::Update,
                    old_image: Some(o.reference()),
                    new_image: Some(new_reference(name, n)),
                    old_config: Some(o.config.clone()),
                    new_config: Some(n.config.clone()),
                })
            }
            Some(_) => {}
        }
    }
    for (name, o) in &old.services {
        if !new.services.contains_key(name) {
            out.push(Change {
                unit: name.clone(),
                action: Action::Remove,
                old_image: Some(o.reference()),
                new_image: None,
                old_config: Some(o.config.clone()),
                new_config: None,
            });
        }
    }
    out
}

/// Changes of a model relative to a lock, where the model's image carries no digest but the
/// lock's does: the digest was pinned at promotion (`--digest`), so the model's tag alone
/// is compared with the lock's.
pub fn pending(locked: &Release, model: &Release) -> Vec<Change> {
    // The model's reference as if its digest were the lock's: only the reference and the
    // configuration hash are compared, so neither a copy of the model's release nor its
    // service hashes recomputed with the digest are needed.
    changes_with(locked, model, |name, s| match locked.services.get(name) {
        Some(l) if s.digest.is_none() && l.image == s.image => reference(&s.image, &l.digest),
        _ => s.reference(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use envc_model::FileId;

    fn tree(text: &str) -> Node {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        n
    }

    fn release(text: &str) -> Release {
        Release::from_tree(&tree(text), |p| Ok(format!("template {p}"))).unwrap()
    }

    const MODEL: &str = r#"
[environment]
name = "e"
[namespaces.app]
name = "e"
[secrets.pw]
dev_value = "dev-pass"
[services.api]
image = "api:1.0.0"
env = { A = "1" }
files = { c = { path = "/c", template = "e/c.hbs" } }
[services.db]
image = "db:2.0.0@sha256:0000000000000000000000000000000000000000000000000000000000000000"
"#;

    #[test]
    fn hashes_ignore_order_formatting_and_dev_values() {
        let a = release(MODEL);
        let b = release(
            &MODEL
                .replace("env = { A = \"1\" }", "env.A = \"1\"")
                .replace("dev-pass", "other"),
        );
        assert!(changes(&a, &b).is_empty());
        assert_eq!(a.services["api"].templates["e/c.hbs"], "template e/c.hbs");
        assert_eq!(a.services["db"].image, "db:2.0.0");
        assert!(a.services["db"].digest.as_deref().is_some_and(is_digest));
        let c = release(&MODEL.replace("A = \"1\"", "A = 1"));
        assert_ne!(
            a.services["api"].config, c.services["api"].config,
            "type matters"
        );
    }

    #[test]
    fn changes_between_releases() {
        let old = release(MODEL);
        let new = release(&MODEL.replace("api:1.0.0", "api:1.1.0").replace(
            "[services.db]",
            "[services.web]\nimage = \"web:1.0.0\"\n[services.db]\ncommand = [\"x\"]",
        ));
        let c = changes(&old, &new);
        let units: Vec<(&str, Action)> = c.iter().map(|c| (c.unit.as_str(), c.action)).collect();
        assert_eq!(
            units,
            [
                ("api", Action::Update),
                ("web", Action::Add),
                ("db", Action::Update)
            ]
        );
        assert_eq!(c[0].describe(), "api:1.0.0 -> api:1.1.0");
        assert!(c[2].describe().starts_with("configuration changed"));

        let gone = release(&MODEL.replace("[services.db]", "[services.gone]"));
        let c = changes(&old, &gone);
        assert!(
            c.iter()
                .any(|c| c.unit == "db" && c.action == Action::Remove)
        );
    }

    #[test]
    fn a_pinned_digest_is_not_a_pending_change() {
        let mut locked = release(MODEL);
        locked
            .services
            .get_mut("api")
            .unwrap()
            .set_digest(Some(format!("sha256:{}", "a".repeat(64))));
        assert!(pending(&locked, &release(MODEL)).is_empty());
        assert_eq!(changes(&locked, &release(MODEL)).len(), 1);
    }

    /// `pending` as it was: a copy of the model's release given the lock's digests (hashes
    /// recomputed), then `changes`.
    fn pending_reference(locked: &Release, model: &Release) -> Vec<Change> {
        let mut model = model.clone();
        for (name, s) in model.services.iter_mut() {
            if s.digest.is_none()
                && let Some(l) = locked.services.get(name)
                && l.image == s.image
            {
                s.set_digest(l.digest.clone());
            }
        }
        changes(locked, &model)
    }

    #[test]
    fn pending_changes_are_those_of_the_model_given_the_locks_digests() {
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let mut locked = release(MODEL);
        locked
            .services
            .get_mut("api")
            .unwrap()
            .set_digest(Some(digest('a')));
        let models = [
            MODEL.to_string(),
            MODEL.replace("api:1.0.0", "api:1.1.0"),
            MODEL.replace("A = \"1\"", "A = \"2\""),
            MODEL.replace("api:1.0.0", &format!("api:1.0.0@{}", digest('b'))),
            MODEL.replace(&"0".repeat(64), &"c".repeat(64)),
            MODEL.replace("db:2.0.0@sha256:", "db:2.0.0@sha256:x"),
            MODEL.replace(
                "[services.db]",
                "[services.web]\nimage = \"web:1\"\n[services.db]",
            ),
            MODEL.replace("[services.db]", "[services.gone]"),
            MODEL.replace("[secrets.pw]", "[secrets.pw]\ndescription = \"x\""),
        ];
        for (i, m) in models.iter().enumerate() {
            let model = release(m);
            for lock in [&locked, &release(MODEL)] {
                let (fast, slow) = (pending(lock, &model), pending_reference(lock, &model));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "model {i}");
            }
        }
        // A service's two hashes, computed from one document, are the ones each function
        // gives on its own.
        for s in locked.services.values() {
            assert_eq!(s.config, config_hash(&s.definition, &s.templates));
            assert_eq!(
                s.hash,
                service_hash(&s.image, s.digest.as_deref(), &s.definition, &s.templates)
            );
            let fresh = ServiceRelease::locked(
                s.image.clone(),
                s.digest.clone(),
                s.definition.clone(),
                s.templates.clone(),
            );
            assert_eq!((&fresh.config, &fresh.hash), (&s.config, &s.hash));
            assert_ne!(
                fresh.config, fresh.hash,
                "the service hash covers the image"
            );
        }
    }
}
