//! Loading a mode through its release lock: a prod mode with a lock is built from the locked
//! services, images, templates and environment-wide settings, with its profile overlaid as
//! usual; dev modes, and prod modes without a lock, follow the model.
//!
//! The result is an ordinary [`LoadedMode`] whose sources include the lock, so compiling it is
//! `envc_core::resolve::compile` like any other mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::{IndexMap, IndexSet};
use sha2::{Digest, Sha256};

use envc_model::load::LoadedMode;
use envc_model::node::Entry;
use envc_model::profile::Tier;
use envc_model::{
    Diagnostic, Diagnostics, FileId, Node, NodeValue, Origin, Project, SourceFile, Span,
};

use crate::lock::{self, Lock};
use crate::release::{self, Change, Release, SHARED_KEYS, ServiceRelease, SharedRelease};

/// Which lock a mode is loaded with.
#[derive(Debug, Clone, Copy)]
pub enum LockSource<'a> {
    /// The lock file on disk, if there is one (`envc build`).
    Disk,
    /// A lock not written yet (a promotion plan), with its text.
    Planned(&'a str),
}

/// A lock applied to a mode.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Display path of the lock (`locks/<env>/<mode>.toml`).
    pub name: String,
    /// The lock.
    pub lock: Lock,
    /// How the model differs from the lock: changes waiting for promotion.
    pub pending: Vec<Change>,
}

/// A mode, loaded (through its lock when it has one).
#[derive(Debug, Clone)]
pub struct Mode {
    /// The loaded mode; a locked mode lists its lock among its source files, after the
    /// profiles (it is read after them), so every generated file's header names it.
    pub loaded: LoadedMode,
    /// The lock, when one applies.
    pub lock: Option<Applied>,
    /// Warnings (a lock next to a dev mode).
    pub warnings: Diagnostics,
}

/// The release an environment's own file describes, templates read from disk (a template
/// that cannot be read counts as empty: the model's own build reports it).
pub fn model_release(project: &mut Project, env: &str) -> Release {
    let Some(parsed) = project.environments.get(env) else {
        return Release::default();
    };
    // The templates are read first, in the order the release names them, so that the tree
    // is read in place (reading registers sources, which needs the project mutably).
    let mut paths: IndexSet<String> = IndexSet::new();
    for (_, entry) in parsed
        .node
        .get("services")
        .and_then(Node::as_table)
        .into_iter()
        .flatten()
    {
        paths.extend(release::template_paths(&entry.node));
    }
    let dir = env_dir(project, parsed.file);
    let texts: HashMap<String, String> = paths
        .into_iter()
        .map(|t| {
            let text = project
                .read_aux(&dir, &t)
                .map(|id| project.sources.get(id).text.clone())
                .unwrap_or_default();
            (t, text)
        })
        .collect();
    let Some(parsed) = project.environments.get(env) else {
        return Release::default();
    };
    Release::from_tree(&parsed.node, |t| {
        Ok(texts.get(t).cloned().unwrap_or_default())
    })
    .unwrap_or_default()
}

fn env_dir(project: &Project, file: FileId) -> PathBuf {
    project
        .sources
        .get(file)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| project.root.join(envc_model::load::ENVIRONMENTS_DIR))
}

/// Six bytes of SHA-256 in hex: names registered sources by content, so that two versions of
/// a lock (the current one and a planned one) never share one.
fn content_tag(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Registers the lock's text as a source, or `None` when the mode has no lock.
fn lock_file(
    project: &mut Project,
    rel: &str,
    source: LockSource<'_>,
) -> Result<Option<FileId>, Diagnostics> {
    let disk = project.root.join(rel);
    match source {
        LockSource::Disk if !disk.is_file() => Ok(None),
        LockSource::Disk => project
            .read_aux(&project.root.clone(), rel)
            .map(Some)
            .map_err(|e| {
                Diagnostics(vec![Diagnostic::error("E-io", e).path(rel).hint(
                    "a release lock is UTF-8 TOML written by `envc promote --write`: restore it from git",
                )])
            }),
        LockSource::Planned(text) => {
            let path = PathBuf::from(format!("{}#planned-{}", disk.display(), content_tag(text)));
            Ok(Some(project.sources.add(SourceFile::new(rel, path, text))))
        }
    }
}

fn ignored_in_dev(mode: &str, rel: &str, file: FileId) -> Diagnostic {
    Diagnostic::warning(
        "W-lock-ignored",
        format!("mode `{mode}` is a dev mode: it follows the model and ignores {rel}"),
    )
    .at(
        Origin {
            file,
            span: Span::default(),
            via: None,
        },
        "ignored",
    )
    .hint("release locks pin prod modes only; remove the file, or make the mode `tier = \"prod\"`")
}

/// The model's releases computed so far, by environment: every prod mode of an environment
/// compares its lock with the same one, so a build of several modes computes it once (it
/// hashes every service's definition and templates).
#[derive(Debug, Default)]
pub struct Releases(HashMap<String, Release>);

impl Releases {
    /// The release of `env`'s own file ([`model_release`]), computed on first use.
    pub fn of(&mut self, project: &mut Project, env: &str) -> &Release {
        self.0
            .entry(env.to_string())
            .or_insert_with(|| model_release(project, env))
    }
}

/// Loads `env` in `mode`; a prod mode goes through its lock (per `source`).
pub fn load(
    project: &mut Project,
    env: &str,
    mode: &str,
    source: LockSource<'_>,
) -> Result<Mode, Diagnostics> {
    load_with(project, env, mode, source, &mut Releases::default())
}

/// [`load`], with the model's releases shared by the modes of one build.
pub fn load_with(
    project: &mut Project,
    env: &str,
    mode: &str,
    source: LockSource<'_>,
    releases: &mut Releases,
) -> Result<Mode, Diagnostics> {
    let plain = project.mode(env, mode);
    load_decoded(project, env, mode, plain, source, releases)
}

/// [`load_with`] given the mode's plain load, `project.mode(env, mode)` (its profile chain
/// overlaid on the environment and decoded, most of the work, which only reads the project):
/// the plain loads of several modes can run at once.
pub fn load_decoded(
    project: &mut Project,
    env: &str,
    mode: &str,
    plain: Result<LoadedMode, Diagnostics>,
    source: LockSource<'_>,
    releases: &mut Releases,
) -> Result<Mode, Diagnostics> {
    let plain = plain?;
    let rel = lock::lock_path(env, mode);
    let mut warnings = Diagnostics::new();
    let file = match lock_file(project, &rel, source)? {
        Some(f) if plain.profile.profile.tier == Tier::Prod => f,
        Some(f) => {
            warnings.push(ignored_in_dev(mode, &rel, f));
            return Ok(Mode {
                loaded: plain,
                lock: None,
                warnings,
            });
        }
        None => {
            return Ok(Mode {
                loaded: plain,
                lock: None,
                warnings,
            });
        }
    };
    let (tree, parse_diags) = Node::parse(file, &project.sources.get(file).text);
    if parse_diags.has_errors() {
        return Err(parse_diags);
    }
    let lock = lock::parse(file, &tree, env, mode)?;
    let loaded = load_locked(project, env, mode, &plain.env_dir, &lock, &rel)?;
    let model = releases.of(project, env);
    // A service the mode leaves out waits for no promotion there. (A managed service's
    // definition still counts: other services read its env through references.)
    let deployed = |unit: &str| plain.model.services.get(unit).is_none_or(|s| s.enabled);
    let pending = release::pending(&lock.release, model)
        .into_iter()
        .filter(|c| c.action == release::Action::Remove || deployed(&c.unit))
        .collect();
    Ok(Mode {
        loaded,
        lock: Some(Applied {
            name: rel,
            lock,
            pending,
        }),
        warnings,
    })
}

/// The mode loaded on the environment tree with the lock substituted.
fn load_locked(
    project: &mut Project,
    env: &str,
    mode: &str,
    env_dir: &Path,
    lock: &Lock,
    rel: &str,
) -> Result<LoadedMode, Diagnostics> {
    let env_tree = project
        .environments
        .get(env)
        .map(|p| p.node.clone())
        .unwrap_or_else(|| Node::empty_table(whole(lock)));
    let applied = apply(&env_tree, lock, rel, env_dir);
    // A locked template keeps the name the model's template has (what rendered files and
    // headers cite), so the same template renders the same in every mode; the lock that holds
    // its promoted text is among the sources too.
    for t in applied.templates {
        let real = env_dir.join(&t.model_path);
        let name = real
            .strip_prefix(&project.root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| real.to_string_lossy().to_string());
        project.sources.add(SourceFile::new(name, t.path, t.text));
    }
    let mut loaded = project.mode_with_base(env, mode, &applied.tree)?;
    // A service the lock does not hold has never been promoted: the mode does not run it,
    // whatever its profile says.
    for name in &applied.unlocked {
        if let Some(s) = loaded.model.services.get_mut(name) {
            s.enabled = false;
        }
    }
    loaded.source_files.push(lock.file);
    loaded.release = lock.release_number();
    Ok(loaded)
}

/// A locked template, registered as a source under a path that is never on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedTemplate {
    /// The path it is registered under (what the substituted definition names).
    pub path: PathBuf,
    /// The template path the model names.
    pub model_path: String,
    /// The locked text.
    pub text: String,
}

/// An environment tree with a lock substituted.
#[derive(Debug, Clone)]
pub struct AppliedTree {
    /// The tree the profile is overlaid on.
    pub tree: Node,
    /// Template sources to register.
    pub templates: Vec<LockedTemplate>,
    /// Services the model has and the lock does not (disabled).
    pub unlocked: Vec<String>,
}

fn whole(lock: &Lock) -> Origin {
    Origin {
        file: lock.file,
        span: Span::default(),
        via: None,
    }
}

fn entry(node: Node, key_origin: Origin) -> Entry {
    Entry { key_origin, node }
}

/// The environment tree with the lock substituted: environment-wide tables from the lock,
/// services from the lock (with their locked images), services the lock does not hold kept
/// but disabled (so profile overrides of them still apply), and template paths pointing at the
/// lock's copies.
pub fn apply(env_tree: &Node, lock: &Lock, lock_name: &str, env_dir: &Path) -> AppliedTree {
    let mut tree = env_tree.clone();
    if let (Some(shared), NodeValue::Table(top)) = (&lock.release.shared, &mut tree.value) {
        substitute_shared(std::sync::Arc::make_mut(top), shared);
    }
    let mut templates = Vec::new();
    let mut services = IndexMap::new();
    for (name, s) in &lock.release.services {
        let image_origin = lock.image_origins.get(name).copied().unwrap_or(whole(lock));
        let node = locked_service(s, image_origin, lock_name, env_dir, &mut templates);
        let key_origin = lock.unit_origins.get(name).copied().unwrap_or(whole(lock));
        services.insert(name.clone(), entry(node, key_origin));
    }
    let mut unlocked = Vec::new();
    for (name, e) in env_tree
        .get("services")
        .and_then(Node::as_table)
        .into_iter()
        .flatten()
    {
        if !services.contains_key(name) {
            unlocked.push(name.clone());
            services.insert(name.clone(), disabled(e, whole(lock)));
        }
    }
    if let NodeValue::Table(top) = &mut tree.value {
        let top = std::sync::Arc::make_mut(top);
        let origin = top.get("services").map_or(whole(lock), |e| e.key_origin);
        let node = Node {
            value: NodeValue::Table(services.into()),
            origin,
        };
        top.insert("services".into(), entry(node, origin));
    }
    AppliedTree {
        tree,
        templates,
        unlocked,
    }
}

/// Replaces the environment-wide tables with the lock's.
fn substitute_shared(top: &mut IndexMap<String, Entry>, shared: &SharedRelease) {
    for key in SHARED_KEYS {
        let model = top.shift_remove(key);
        let Some(mut locked) = shared.definition.entry(key).cloned() else {
            if let Some(m) = model.filter(|_| key != "environment") {
                top.insert(key.to_string(), m);
            }
            continue;
        };
        // Namespaces and secrets the model added since stay available to services not
        // promoted yet (and to profile overrides of them); locked services cannot use
        // them, and unused namespaces and secrets produce nothing.
        if key != "environment"
            && let (Some(model), NodeValue::Table(t)) = (model, &mut locked.node.value)
        {
            let t = std::sync::Arc::make_mut(t);
            for (name, e) in model.node.as_table().into_iter().flatten() {
                if !t.contains_key(name) {
                    t.insert(name.clone(), e.clone());
                }
            }
        }
        top.insert(key.to_string(), locked);
    }
}

/// A locked service's table: its definition with the locked image, its templates pointing at
/// the lock's copies.
fn locked_service(
    s: &ServiceRelease,
    image_origin: Origin,
    lock_name: &str,
    env_dir: &Path,
    templates: &mut Vec<LockedTemplate>,
) -> Node {
    let mut node = s.definition.clone();
    let NodeValue::Table(t) = &mut node.value else {
        return node;
    };
    let t = std::sync::Arc::make_mut(t);
    let image = Node {
        value: NodeValue::String(s.reference()),
        origin: image_origin,
    };
    t.insert("image".into(), entry(image, image_origin));
    let Some(NodeValue::Table(files)) = t.get_mut("files").map(|e| &mut e.node.value) else {
        return node;
    };
    for f in std::sync::Arc::make_mut(files).values_mut() {
        let NodeValue::Table(ft) = &mut f.node.value else {
            continue;
        };
        let ft = std::sync::Arc::make_mut(ft);
        let Some(te) = ft.get_mut("template") else {
            continue;
        };
        let Some(path) = te.node.as_str().map(String::from) else {
            continue;
        };
        let Some(text) = s.templates.get(&path) else {
            continue;
        };
        // The resolver reads templates relative to the environment's directory and finds
        // registered sources by path first: this path is never on disk.
        let rel = format!("{lock_name}#{path}@{}", content_tag(text));
        templates.push(LockedTemplate {
            path: env_dir.join(&rel),
            model_path: path,
            text: text.clone(),
        });
        te.node.value = NodeValue::String(rel);
    }
    node
}

/// A model service the lock does not hold, with `enabled = false`.
fn disabled(e: &Entry, origin: Origin) -> Entry {
    let mut e = e.clone();
    if let NodeValue::Table(t) = &mut e.node.value {
        let t = std::sync::Arc::make_mut(t);
        let off = Node {
            value: NodeValue::Bool(false),
            origin,
        };
        t.insert("enabled".into(), entry(off, origin));
    }
    e
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::release::{config_hash, service_hash};

    const MODEL: &str = r#"
[environment]
name = "e"
[namespaces.app]
name = "e-app"
[namespaces.new]
name = "e-new"
[services.api]
image = "api:2.0.0"
[services.web]
image = "web:1.0.0"
"#;

    fn lock() -> Lock {
        let def = "[services.api.definition]\nargs = [\"a\"]\nfiles = { c = { path = \"/c\", template = \"e/c.hbs\" } }\n";
        let (n, _) = Node::parse(FileId(1), def);
        let mut templates = IndexMap::new();
        templates.insert("e/c.hbs".to_string(), "locked text".to_string());
        let hash = service_hash(
            "api:1.0.0",
            None,
            n.lookup(&["services", "api", "definition"]).unwrap(),
            &templates,
        );
        let (shared, _) = Node::parse(
            FileId(1),
            "[environment]\nname = \"e\"\n[namespaces.app]\nname = \"e-app\"\n",
        );
        let shared_hash = config_hash(&shared, &IndexMap::new());
        let text = format!(
            "[lock]\nformat = 1\nenvironment = \"e\"\nmode = \"prod\"\nservices = [\"api\"]\n[shared]\nconfig = \"{shared_hash}\"\n[shared.definition.environment]\nname = \"e\"\n[shared.definition.namespaces.app]\nname = \"e-app\"\n[services.api]\nimage = \"api:1.0.0\"\nconfig = \"{hash}\"\n[services.api.templates]\n\"e/c.hbs\" = \"locked text\"\n{def}"
        );
        let (tree, d) = Node::parse(FileId(1), &text);
        assert!(d.is_empty(), "{d:?}");
        lock::parse(FileId(1), &tree, "e", "prod").unwrap()
    }

    #[test]
    fn a_lock_replaces_services_and_settings_and_disables_the_unpromoted() {
        let (model, _) = Node::parse(FileId(0), MODEL);
        let lock = lock();
        let applied = apply(
            &model,
            &lock,
            "locks/e/prod.toml",
            Path::new("/p/environments"),
        );
        let t = &applied.tree;
        assert_eq!(
            t.lookup(&["services", "api", "image"])
                .and_then(Node::as_str),
            Some("api:1.0.0"),
            "the locked image, not the model's"
        );
        assert_eq!(
            t.lookup(&["services", "api", "image"])
                .map(|n| n.origin.file),
            Some(FileId(1)),
            "provenance points into the lock"
        );
        assert_eq!(applied.unlocked, ["web"]);
        assert!(matches!(
            t.lookup(&["services", "web", "enabled"]).map(|n| &n.value),
            Some(NodeValue::Bool(false))
        ));
        assert!(
            t.lookup(&["namespaces", "new"]).is_some(),
            "namespaces the model added stay available"
        );
        let template = t
            .lookup(&["services", "api", "files", "c", "template"])
            .and_then(Node::as_str)
            .unwrap();
        assert!(
            template.starts_with("locks/e/prod.toml#e/c.hbs@"),
            "{template}"
        );
        assert_eq!(applied.templates.len(), 1);
        assert_eq!(applied.templates[0].model_path, "e/c.hbs");
        assert_eq!(applied.templates[0].text, "locked text");
        assert_eq!(
            applied.templates[0].path,
            Path::new("/p/environments").join(template)
        );
    }

    fn project(profile_extra: &str) -> Project {
        let files = vec![
            (
                "environments/e.toml".to_string(),
                PathBuf::from("/p/environments/e.toml"),
                MODEL.to_string(),
            ),
            (
                "profiles/prod.toml".to_string(),
                PathBuf::from("/p/profiles/prod.toml"),
                format!("[profile]\nbackend = \"kubernetes\"\ntier = \"prod\"\n{profile_extra}"),
            ),
            (
                "profiles/dev.toml".to_string(),
                PathBuf::from("/p/profiles/dev.toml"),
                "[profile]\nbackend = \"kubernetes\"\ntier = \"dev\"\n".to_string(),
            ),
        ];
        Project::from_files(Path::new("/p"), files)
            .map_err(|f| f.diagnostics)
            .unwrap()
    }

    const PLANNED: &str =
        "[lock]\nformat = 1\nenvironment = \"e\"\nmode = \"prod\"\nservices = []\n";

    #[test]
    fn a_locked_mode_lists_its_lock_among_its_sources_after_the_profiles() {
        let mut p = project("[services.web]\nenabled = true\n");
        let m = load(&mut p, "e", "prod", LockSource::Planned(PLANNED)).unwrap();
        let names: Vec<&str> = m
            .loaded
            .source_files
            .iter()
            .map(|f| p.sources.get(*f).name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "environments/e.toml",
                "profiles/prod.toml",
                "locks/e/prod.toml"
            ]
        );
        let applied = m.lock.unwrap();
        assert_eq!(applied.name, "locks/e/prod.toml");
        let units: Vec<&str> = applied.pending.iter().map(|c| c.unit.as_str()).collect();
        assert_eq!(units, ["environment", "api", "web"], "everything waits");
        assert!(
            m.loaded.model.services.values().all(|s| !s.enabled),
            "nothing promoted runs, whatever the profile says"
        );
    }

    #[test]
    fn dev_modes_ignore_a_lock_with_a_warning() {
        let mut p = project("");
        let m = load(&mut p, "e", "dev", LockSource::Planned(PLANNED)).unwrap();
        assert!(m.lock.is_none());
        assert_eq!(
            m.warnings.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["W-lock-ignored"]
        );
        assert_eq!(m.loaded.source_files.len(), 2);
        let m = load(&mut p, "e", "prod", LockSource::Disk).unwrap();
        assert!(m.lock.is_none(), "no lock on disk: the model");
    }
}
