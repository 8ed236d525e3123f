//! Loading a mode through its release lock: a prod mode with a lock is built from the locked
//! services, images, templates and environment-wide settings, with its profile overlaid as
//! usual; dev modes, and prod modes without a lock, follow the model.

use std::path::{Path, PathBuf};

use envc_core::resolve::Compiled;
use envc_model::load::LoadedMode;
use envc_model::profile::Tier;
use envc_model::{
    Diagnostic, Diagnostics, FileId, Node, NodeValue, Origin, Project, SourceFile, Span,
};
use sha2::{Digest, Sha256};

use crate::lock::{self, Lock};
use crate::release::{self, Change, Release, SHARED_KEYS};

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
    /// The loaded mode.
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
    let tree = parsed.node.clone();
    let dir = env_dir(project, parsed.file);
    Release::from_tree(&tree, |t| {
        Ok(project
            .read_aux(&dir, t)
            .map(|id| project.sources.get(id).text.clone())
            .unwrap_or_default())
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

/// Loads `env` in `mode`; a prod mode goes through its lock (per `source`).
pub fn load(
    project: &mut Project,
    env: &str,
    mode: &str,
    source: LockSource<'_>,
) -> Result<Mode, Diagnostics> {
    let plain = project.mode(env, mode)?;
    let rel = lock::lock_path(env, mode);
    let disk = project.root.join(&rel);
    let mut warnings = Diagnostics::new();
    let prod = plain.profile.profile.tier == Tier::Prod;
    let text_file = match source {
        LockSource::Disk if !disk.is_file() => None,
        LockSource::Disk => Some(
            project
                .read_aux(&project.root.clone(), &rel)
                .map_err(|e| Diagnostics(vec![Diagnostic::error("E-io", e)]))?,
        ),
        LockSource::Planned(text) => {
            let h = Sha256::digest(text.as_bytes());
            let tag: String = h.iter().take(6).map(|b| format!("{b:02x}")).collect();
            let path = PathBuf::from(format!("{}#planned-{tag}", disk.display()));
            Some(
                project
                    .sources
                    .add(SourceFile::new(rel.clone(), path, text)),
            )
        }
    };
    let Some(file) = text_file else {
        return Ok(Mode {
            loaded: plain,
            lock: None,
            warnings,
        });
    };
    if !prod {
        warnings.push(
            Diagnostic::warning(
                "W-lock-ignored",
                format!("mode `{mode}` is a dev mode: it follows the model and ignores {rel}"),
            )
            .at(
                Origin {
                    file,
                    span: Span::default(),
                },
                "ignored",
            )
            .hint("release locks pin prod modes only; remove the file, or make the mode `tier = \"prod\"`"),
        );
        return Ok(Mode {
            loaded: plain,
            lock: None,
            warnings,
        });
    }
    let (tree, parse_diags) = Node::parse(file, &project.sources.get(file).text);
    if parse_diags.has_errors() {
        return Err(parse_diags);
    }
    let lock = lock::parse(file, &tree, env, mode)?;
    let env_tree = project
        .environments
        .get(env)
        .map(|p| p.node.clone())
        .unwrap_or_else(|| Node::empty_table(tree.origin));
    let (base, templates, unlocked) = apply(&env_tree, &lock, &rel, &plain.env_dir);
    // A locked template keeps the name the model's template has (what rendered files and
    // headers cite), so the same template renders the same in every mode; the lock that holds
    // its promoted text is among the sources too.
    for (disk, path, text) in templates {
        let real = plain.env_dir.join(&path);
        let name = real
            .strip_prefix(&project.root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| real.to_string_lossy().to_string());
        project.sources.add(SourceFile::new(name, disk, text));
    }
    let mut loaded = project.mode_with_base(env, mode, &base)?;
    // A service the lock does not hold has never been promoted: the mode does not run it,
    // whatever its profile says.
    for name in &unlocked {
        if let Some(s) = loaded.model.services.get_mut(name) {
            s.enabled = false;
        }
    }
    let model = model_release(project, env);
    let pending = release::pending(&lock.release, &model);
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

/// The environment tree with the lock substituted: environment-wide tables from the lock,
/// services from the lock (with their locked images), services the lock does not hold kept
/// but disabled (so profile overrides of them still apply), and template paths pointing at the
/// lock's copies. Returns the tree, the template sources to register (the path they are
/// registered under, the template path the model names, the locked text) and the unlocked
/// services.
#[allow(clippy::type_complexity)]
pub fn apply(
    env_tree: &Node,
    lock: &Lock,
    lock_name: &str,
    env_dir: &Path,
) -> (Node, Vec<(PathBuf, String, String)>, Vec<String>) {
    let mut tree = env_tree.clone();
    let whole = Origin {
        file: lock.file,
        span: Span::default(),
    };
    let mut templates = Vec::new();
    let mut unlocked = Vec::new();
    if let Some(shared) = &lock.release.shared
        && let NodeValue::Table(top) = &mut tree.value
    {
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
                for (name, e) in model.node.as_table().into_iter().flatten() {
                    if !t.contains_key(name) {
                        t.insert(name.clone(), e.clone());
                    }
                }
            }
            top.insert(key.to_string(), locked);
        }
    }
    let model_services = env_tree
        .get("services")
        .and_then(Node::as_table)
        .cloned()
        .unwrap_or_default();
    let mut services = indexmap::IndexMap::new();
    for (name, s) in &lock.release.services {
        let mut node = s.definition.clone();
        let image_origin = lock.image_origins.get(name).copied().unwrap_or(whole);
        if let NodeValue::Table(t) = &mut node.value {
            t.insert(
                "image".into(),
                envc_model::node::Entry {
                    key_origin: image_origin,
                    node: Node {
                        value: NodeValue::String(s.reference()),
                        origin: image_origin,
                    },
                },
            );
            if let Some(NodeValue::Table(files)) = t.get_mut("files").map(|e| &mut e.node.value) {
                for f in files.values_mut() {
                    let NodeValue::Table(ft) = &mut f.node.value else {
                        continue;
                    };
                    let Some(te) = ft.get_mut("template") else {
                        continue;
                    };
                    let Some(path) = te.node.as_str().map(String::from) else {
                        continue;
                    };
                    let Some(text) = s.templates.get(&path) else {
                        continue;
                    };
                    let h = Sha256::digest(text.as_bytes());
                    let tag: String = h.iter().take(6).map(|b| format!("{b:02x}")).collect();
                    // The resolver reads templates relative to the environment's directory
                    // and finds registered sources by path first: this path is never on
                    // disk. One path per content, so that two versions of a lock (the
                    // current one and a planned one) never share a registered source.
                    let rel = format!("{lock_name}#{path}@{tag}");
                    templates.push((env_dir.join(&rel), path.clone(), text.clone()));
                    te.node.value = NodeValue::String(rel);
                }
            }
        }
        let key_origin = lock.unit_origins.get(name).copied().unwrap_or(whole);
        services.insert(name.clone(), envc_model::node::Entry { key_origin, node });
    }
    for (name, e) in &model_services {
        if services.contains_key(name) {
            continue;
        }
        let mut e = e.clone();
        if let NodeValue::Table(t) = &mut e.node.value {
            t.insert(
                "enabled".into(),
                envc_model::node::Entry {
                    key_origin: whole,
                    node: Node {
                        value: NodeValue::Bool(false),
                        origin: whole,
                    },
                },
            );
        }
        unlocked.push(name.clone());
        services.insert(name.clone(), e);
    }
    if let NodeValue::Table(top) = &mut tree.value {
        let origin = top.get("services").map_or(whole, |e| e.key_origin);
        top.insert(
            "services".into(),
            envc_model::node::Entry {
                key_origin: origin,
                node: Node {
                    value: NodeValue::Table(services),
                    origin,
                },
            },
        );
    }
    (tree, templates, unlocked)
}

/// Compiles a loaded mode; a locked mode lists its lock among the sources in every generated
/// file's header (after the profiles: it is read after them).
pub fn compile(project: &mut Project, mode: &Mode) -> Result<Compiled, Diagnostics> {
    let mut c = envc_core::resolve::compile(project, &mode.loaded)?;
    if let Some(l) = &mode.lock {
        let at = (1 + mode.loaded.chain.len()).min(c.ir.sources.len());
        c.ir.sources.insert(at, l.name.clone());
    }
    Ok(c)
}
