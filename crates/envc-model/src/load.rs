//! Loading a project: environment files, profiles, profile chains, and the overlay of a mode's
//! profile chain onto an environment, with provenance kept in the merged [`Node`] tree.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::de::decode;
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::model::EnvironmentFile;
use crate::node::{Node, NodeValue};
use crate::profile::{OVERLAY_KEYS, ProfileFile, SCOPED_OVERLAY_KEY};
use crate::source::{FileId, Origin, SourceFile, Sources, Span};

/// Directory of environment files, relative to the project root.
pub const ENVIRONMENTS_DIR: &str = "environments";
/// Directory of profiles, relative to the project root.
pub const PROFILES_DIR: &str = "profiles";

/// One parsed TOML file.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The file.
    pub file: FileId,
    /// Its tree (empty table when it did not parse).
    pub node: Node,
    /// Warnings found while reading it (templates no service extends), reported by every
    /// command that compiles the environment.
    pub warnings: Diagnostics,
}

/// A project: every environment and profile file, parsed.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project root.
    pub root: PathBuf,
    /// Every file read so far.
    pub sources: Sources,
    /// Environments by name, sorted.
    pub environments: IndexMap<String, Parsed>,
    /// Profiles (modes) by name, sorted.
    pub profiles: IndexMap<String, Parsed>,
}

/// Why a project could not be loaded: the diagnostics, and the files they point into.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Files read so far.
    pub sources: Sources,
    /// What is wrong.
    pub diagnostics: Diagnostics,
}

/// An environment with one mode's profile chain applied, decoded.
#[derive(Debug, Clone)]
pub struct LoadedMode {
    /// Environment name.
    pub env: String,
    /// Mode name.
    pub mode: String,
    /// The decoded, merged model.
    pub model: EnvironmentFile,
    /// The merged tree, for provenance (`tree.origin_of(path)`).
    pub tree: Node,
    /// The mode's settings.
    pub profile: ProfileFile,
    /// The merged profile tree, for provenance of settings.
    pub profile_tree: Node,
    /// Profile names from the root of the `extends` chain to the mode itself.
    pub chain: Vec<String>,
    /// Files this mode was built from: the environment file then the profiles, as shown to
    /// users (templates are added by the resolver).
    pub source_files: Vec<FileId>,
    /// Directory holding the environment file (templates and build contexts are relative to
    /// it).
    pub env_dir: PathBuf,
    /// The numbered release a locked prod mode builds (set by its lock, `None` otherwise).
    pub release: Option<crate::release::ReleaseNumber>,
}

impl LoadedMode {
    /// Where the value at a dotted model path was set: the environment tree (with the
    /// profile's overlays and their origins) for the overlay keys (`services.api.replicas`),
    /// the merged profile for the mode's settings (`cloud.node_pools.general.cpu`). A path
    /// that does not exist resolves to its closest existing parent.
    pub fn origin_of_path(&self, path: &str) -> Origin {
        origin_in(&self.tree, &self.profile_tree, path)
    }

    /// Gives a diagnostic that carries only a model path (a backend's check) the location of
    /// that path, so it renders with its file, line and column.
    pub fn locate(&self, d: Diagnostic) -> Diagnostic {
        locate_in(&self.tree, &self.profile_tree, d)
    }

    /// What locating a model path needs (the two trees), with the decoded model and profile
    /// dropped: a compiled mode waiting for emission keeps only this.
    pub fn into_locator(self) -> Locator {
        Locator {
            tree: self.tree,
            profile_tree: self.profile_tree,
        }
    }
}

/// A mode's merged trees, kept after the decoded model is dropped, to locate the model paths
/// a backend's checks name ([`LoadedMode::locate`]).
#[derive(Debug, Clone)]
pub struct Locator {
    tree: Node,
    profile_tree: Node,
}

impl Locator {
    /// As [`LoadedMode::locate`].
    pub fn locate(&self, d: Diagnostic) -> Diagnostic {
        locate_in(&self.tree, &self.profile_tree, d)
    }
}

fn origin_in(tree: &Node, profile_tree: &Node, path: &str) -> Origin {
    let segments: Vec<&str> = path.split('.').collect();
    let first = segments.first().copied().unwrap_or_default();
    if OVERLAY_KEYS.contains(&first) {
        tree.origin_of(&segments)
    } else {
        profile_tree.origin_of(&segments)
    }
}

fn locate_in(tree: &Node, profile_tree: &Node, d: Diagnostic) -> Diagnostic {
    match d.path.clone() {
        Some(path) if d.labels.is_empty() => {
            let origin = origin_in(tree, profile_tree, &path);
            d.at(origin, "here")
        }
        _ => d,
    }
}

/// The text of a file, or why not: "failed to read <path>: <cause>", where a file that is
/// not UTF-8 names the line and column of its first invalid byte.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let text = String::from_utf8_lossy(valid);
        let line = text.matches('\n').count() + 1;
        let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(
            "failed to read {}: it is not UTF-8 text (line {line}, column {column})",
            path.display()
        )
    })
}

impl Project {
    /// Reads every `environments/*.toml` and `profiles/*.toml` under `root`.
    pub fn load(root: &Path) -> Result<Project, Failure> {
        let mut files = Vec::new();
        let mut diags = Diagnostics::new();
        let mut not_utf8: Vec<(PathBuf, usize)> = Vec::new();
        for dir in [ENVIRONMENTS_DIR, PROFILES_DIR] {
            let path = root.join(dir);
            let entries = match std::fs::read_dir(&path) {
                Ok(e) => e,
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            "E-io",
                            format!("failed to read directory {}: {e}", path.display()),
                        )
                        .hint(format!(
                            "run envc from the project root, which holds `{dir}/`, or pass --root"
                        )),
                    );
                    continue;
                }
            };
            let mut names: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            names.sort();
            for p in names {
                let rel = format!(
                    "{dir}/{}",
                    p.file_name()
                        .map(|f| f.to_string_lossy())
                        .unwrap_or_default()
                );
                match std::fs::read(&p).map(String::from_utf8) {
                    Ok(Err(e)) => {
                        // Kept (lossily) so the error can point at the byte's line and column.
                        let at = e.utf8_error().valid_up_to();
                        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                        not_utf8.push((p.clone(), at));
                        files.push((rel, p, text));
                    }
                    Ok(Ok(text)) => files.push((rel, p, text)),
                    Err(e) => diags.push(
                        Diagnostic::error("E-io", format!("failed to read {}: {e}", p.display()))
                            .path(rel)
                            .hint("check that the file is readable by this user"),
                    ),
                }
            }
        }
        if diags.has_errors() {
            return Err(Failure {
                sources: Sources::new(),
                diagnostics: diags,
            });
        }
        let loaded = Project::from_files(root, files);
        if not_utf8.is_empty() {
            return loaded;
        }
        let (sources, mut diagnostics) = match loaded {
            Ok(p) => (p.sources, Diagnostics::new()),
            Err(f) => (f.sources, f.diagnostics),
        };
        for (path, at) in not_utf8 {
            let Some(file) = sources.find(&path) else {
                continue;
            };
            // The lossy text holds U+FFFD (3 bytes) where the first invalid byte was.
            let span = Span::new(at, (at + 3).min(sources.get(file).text.len()));
            diagnostics.push(
                Diagnostic::error("E-encoding", "the file is not UTF-8 text")
                    .at(Origin::new(file, span), "this byte is not UTF-8")
                    .hint("TOML files are UTF-8: save the file as UTF-8 (`iconv -f latin1 -t utf-8` converts Latin-1)"),
            );
        }
        diagnostics.sort();
        Err(Failure {
            sources,
            diagnostics,
        })
    }

    /// Builds a project from files already in memory: `(display name, disk path, text)`, where
    /// the display name starts with `environments/` or `profiles/`.
    pub fn from_files(
        root: &Path,
        files: Vec<(String, PathBuf, String)>,
    ) -> Result<Project, Failure> {
        let mut sources = Sources::new();
        let mut environments = IndexMap::new();
        let mut profiles = IndexMap::new();
        let mut diags = Diagnostics::new();
        for (name, path, text) in files {
            let (dir, stem) = match name.split_once('/') {
                Some((d, f)) => (d.to_string(), f.trim_end_matches(".toml").to_string()),
                None => continue,
            };
            let id = sources.add(SourceFile::new(name.clone(), path, text));
            let (node, parse_diags) = Node::parse(id, &sources.get(id).text);
            let whole = Origin {
                file: id,
                span: Span::new(0, 0),
                via: None,
            };
            if !is_dns_label(&stem) {
                diags.push(
                    Diagnostic::error("E-bad-name", format!("file name `{stem}` is not a valid {} name", if dir == ENVIRONMENTS_DIR { "environment" } else { "mode" }))
                        .at(whole, "in this file")
                        .hint("use lowercase letters, digits and `-`, starting with a letter (at most 63 characters)"),
                );
            }
            let failed = parse_diags.has_errors();
            diags.extend(parse_diags);
            let node = if failed {
                Node::empty_table(whole)
            } else {
                node
            };
            let mut node = node;
            let mut warnings = Diagnostics::new();
            if dir == ENVIRONMENTS_DIR {
                for d in crate::extends::expand(&mut node).0 {
                    if d.is_error() {
                        diags.push(d);
                    } else {
                        warnings.push(d);
                    }
                }
            }
            let parsed = Parsed {
                file: id,
                node,
                warnings,
            };
            if dir == ENVIRONMENTS_DIR {
                environments.insert(stem, parsed);
            } else if dir == PROFILES_DIR {
                profiles.insert(stem, parsed);
            }
        }
        environments.sort_keys();
        profiles.sort_keys();
        if diags.has_errors() {
            return Err(Failure {
                sources,
                diagnostics: with_sources_sorted(diags),
            });
        }
        if environments.is_empty() {
            diags.push(
                Diagnostic::error(
                    "E-no-environments",
                    format!(
                        "no environment files in {}/",
                        root.join(ENVIRONMENTS_DIR).display()
                    ),
                )
                .hint("describe an environment in environments/<name>.toml (see docs/model.md)"),
            );
            return Err(Failure {
                sources,
                diagnostics: diags,
            });
        }
        Ok(Project {
            root: root.to_path_buf(),
            sources,
            environments,
            profiles,
        })
    }

    /// Reads (once) a file referenced by the model, such as a template, relative to `dir`.
    /// Returns its id, or an error message.
    pub fn read_aux(&mut self, dir: &Path, rel: &str) -> Result<FileId, String> {
        let path = dir.join(rel);
        if let Some(id) = self.sources.find(&path) {
            return Ok(id);
        }
        let text = read_text(&path)?;
        let name = path
            .strip_prefix(&self.root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| path.to_string_lossy().to_string());
        Ok(self.sources.add(SourceFile::new(name, path, text)))
    }

    /// Merges a profile's `extends` chain: returns the chain (root first) and the merged tree.
    pub fn profile_chain(&self, mode: &str) -> Result<(Vec<String>, Node), Diagnostics> {
        let mut chain: Vec<String> = Vec::new();
        let mut current = mode.to_string();
        let mut via: Option<Origin> = None;
        loop {
            let Some(p) = self.profiles.get(&current) else {
                let mut d =
                    Diagnostic::error("E-unknown-mode", format!("unknown mode `{current}`"));
                if let Some(o) = via {
                    d = d.at(o, "extends this mode");
                }
                d = match did_you_mean(&current, self.profiles.keys().map(String::as_str)) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint(format!(
                        "modes are the files in profiles/: {}",
                        self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                };
                return Err(Diagnostics(vec![d]));
            };
            if chain.contains(&current) {
                chain.push(current.clone());
                let d = Diagnostic::error(
                    "E-profile-cycle",
                    format!(
                        "profiles extend each other in a cycle: {}",
                        chain.join(" -> ")
                    ),
                )
                .at_opt(via, "closes the cycle")
                .hint("remove one of the `extends` keys");
                return Err(Diagnostics(vec![d]));
            }
            chain.push(current.clone());
            match p.node.lookup(&["profile", "extends"]) {
                Some(n) => match n.as_str() {
                    Some(s) => {
                        via = Some(n.origin);
                        current = s.to_string();
                    }
                    None => {
                        let d = Diagnostic::error(
                            "E-invalid-value",
                            format!(
                                "wrong type: found {}, expected a profile name",
                                n.value.type_name()
                            ),
                        )
                        .at(n.origin, "here");
                        return Err(Diagnostics(vec![d]));
                    }
                },
                None => break,
            }
        }
        chain.reverse();
        let mut merged: Option<Node> = None;
        for name in &chain {
            let node = &self.profiles[name.as_str()].node;
            match &mut merged {
                None => merged = Some(node.clone()),
                Some(m) => m.overlay(node),
            }
        }
        let whole = Origin {
            file: self.profiles[mode].file,
            span: Span::default(),
            via: None,
        };
        let merged = merged.unwrap_or_else(|| Node::empty_table(whole));
        Ok((chain, merged))
    }

    /// Loads one environment in one mode: overlays the mode's profile chain and decodes both.
    pub fn mode(&self, env: &str, mode: &str) -> Result<LoadedMode, Diagnostics> {
        self.mode_on(env, mode, None)
    }

    /// Like [`Project::mode`], but overlays the profile chain onto `base` instead of the
    /// environment file's own tree: a release lock substitutes the promoted definitions this
    /// way, keeping their origins (the lock file) as provenance.
    pub fn mode_with_base(
        &self,
        env: &str,
        mode: &str,
        base: &Node,
    ) -> Result<LoadedMode, Diagnostics> {
        self.mode_on(env, mode, Some(base))
    }

    fn mode_on(
        &self,
        env: &str,
        mode: &str,
        base: Option<&Node>,
    ) -> Result<LoadedMode, Diagnostics> {
        let Some(parsed) = self.environments.get(env) else {
            let mut d = Diagnostic::error(
                "E-unknown-environment",
                format!("unknown environment `{env}`"),
            );
            d = match did_you_mean(env, self.environments.keys().map(String::as_str)) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint(format!(
                    "environments are the files in environments/: {}",
                    self.environments
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            return Err(Diagnostics(vec![d]));
        };
        let (chain, mut profile_tree) = self.profile_chain(mode)?;
        let mut diags = Diagnostics::new();

        // Split the merged profile into settings and overlays.
        let mut settings = profile_tree.clone();
        let mut overlay = Node::empty_table(profile_tree.origin);
        for key in OVERLAY_KEYS {
            if let Some(e) = settings.remove(key)
                && let NodeValue::Table(t) = &mut overlay.value
            {
                std::sync::Arc::make_mut(t).insert(key.to_string(), e);
            }
        }
        let mut scoped = None;
        if let Some(e) = settings.remove(SCOPED_OVERLAY_KEY) {
            match e.node.as_table() {
                Some(t) => {
                    for (name, entry) in t {
                        if !self.environments.contains_key(name) {
                            let mut d = Diagnostic::error(
                                "E-unknown-environment",
                                format!("profile overlay for unknown environment `{name}`"),
                            )
                            .at(entry.key_origin, "no such environment");
                            if let Some(s) =
                                did_you_mean(name, self.environments.keys().map(String::as_str))
                            {
                                d = d.hint(format!("did you mean `{s}`?"));
                            }
                            diags.push(d);
                        }
                    }
                    scoped = t.get(env).map(|e| e.node.clone());
                }
                None => diags.push(
                    Diagnostic::error(
                        "E-invalid-value",
                        "`environments` must be a table of environment names",
                    )
                    .at(e.node.origin, "here"),
                ),
            }
        }

        // An environment's scoped block may also set the mode's settings (`cloud`,
        // `kubernetes`, `promotion`, ...) for that environment alone: node pools, identities
        // and promotion rules name its services.
        let scoped = scoped.map(|mut s| {
            let mut own = Node::empty_table(s.origin);
            if let (NodeValue::Table(from), NodeValue::Table(to)) = (&mut s.value, &mut own.value) {
                let (from, to) = (std::sync::Arc::make_mut(from), std::sync::Arc::make_mut(to));
                let keys: Vec<String> = from
                    .keys()
                    .filter(|k| !OVERLAY_KEYS.contains(&k.as_str()))
                    .cloned()
                    .collect();
                for k in keys {
                    if let Some(e) = from.shift_remove(&k) {
                        to.insert(k, e);
                    }
                }
            }
            settings.overlay(&own);
            profile_tree.overlay(&own);
            s
        });
        let (profile, d) = decode::<ProfileFile>(&settings);
        diags.extend(d);

        let mut tree = base.unwrap_or(&parsed.node).clone();
        refuse_profile_extends(&overlay, &mut diags);
        if let Some(s) = &scoped {
            refuse_profile_extends(s, &mut diags);
        }
        check_overlay_targets(&tree, &mut overlay, &mut diags);
        tree.overlay(&overlay);
        if let Some(mut s) = scoped {
            check_overlay_targets(&tree, &mut s, &mut diags);
            tree.overlay(&s);
        }
        let (model, d) = decode::<EnvironmentFile>(&tree);
        diags.extend(d);

        if let Some(m) = &model
            && m.environment.name != env
        {
            let o = tree.origin_of(&["environment", "name"]);
            diags.push(
                Diagnostic::error(
                    "E-env-name",
                    format!(
                        "environment name `{}` does not match its file name `{env}`",
                        m.environment.name
                    ),
                )
                .at(o, "declared here")
                .hint(format!("set `name = \"{env}\"` or rename the file")),
            );
        }
        if diags.has_errors() {
            diags.sort();
            return Err(diags);
        }
        let (Some(model), Some(profile)) = (model, profile) else {
            return Err(diags);
        };
        let mut source_files = vec![parsed.file];
        source_files.extend(chain.iter().map(|c| self.profiles[c.as_str()].file));
        let env_dir = self
            .sources
            .get(parsed.file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.join(ENVIRONMENTS_DIR));
        Ok(LoadedMode {
            env: env.to_string(),
            mode: mode.to_string(),
            model,
            tree,
            profile,
            profile_tree,
            chain,
            source_files,
            env_dir,
            release: None,
        })
    }
}

/// Templates are expanded when the environment file is read, before any profile applies, so an
/// `extends` in a profile's service override would do nothing: it is an error instead.
fn refuse_profile_extends(overlay: &Node, diags: &mut Diagnostics) {
    let Some(services) = overlay.get("services").and_then(Node::as_table) else {
        return;
    };
    for (name, e) in services {
        if let Some(x) = e
            .node
            .as_table()
            .and_then(|t| t.get(crate::extends::EXTENDS_KEY))
        {
            diags.push(
                Diagnostic::error(
                    "E-bad-template",
                    format!("a profile cannot make service `{name}` extend templates"),
                )
                .at(x.key_origin, "here")
                .hint("templates apply in the environment file; override the keys themselves here"),
            );
        }
    }
}

/// A profile may only override services and secrets the environment defines: a typo there
/// would otherwise add a half-defined service. Unknown targets are reported and dropped from
/// the overlay, so they cause no follow-on errors.
fn check_overlay_targets(base: &Node, overlay: &mut Node, diags: &mut Diagnostics) {
    for key in ["services", "secrets", "namespaces", "volumes"] {
        let mut unknown: Vec<String> = Vec::new();
        let Some(over) = overlay.get(key).and_then(Node::as_table) else {
            continue;
        };
        let known: Vec<&str> = base
            .get(key)
            .and_then(Node::as_table)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for (name, e) in over {
            if !known.contains(&name.as_str()) {
                let what = key.trim_end_matches('s');
                let mut d = Diagnostic::error(
                    "E-unknown-override",
                    format!(
                        "profile overrides {what} `{name}`, which the environment does not define"
                    ),
                )
                .at(e.key_origin, format!("no such {what}"));
                d = match did_you_mean(name, known.iter().copied()) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint(format!(
                        "define it in the environment file, or scope the override with [{SCOPED_OVERLAY_KEY}.<env>.{key}.{name}] if only some environments have it"
                    )),
                };
                diags.push(d);
                unknown.push(name.clone());
            }
        }
        if let Some(NodeValue::Table(t)) = overlay
            .as_table()
            .and_then(|t| t.get(key))
            .map(|e| &e.node.value)
            .cloned()
        {
            let kept: indexmap::IndexMap<String, crate::node::Entry> = t
                .iter()
                .filter(|(k, _)| !unknown.contains(k))
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect();
            if let NodeValue::Table(top) = &mut overlay.value
                && let Some(e) = std::sync::Arc::make_mut(top).get_mut(key)
            {
                e.node.value = NodeValue::Table(kept.into());
            }
        }
    }
}

/// Diagnostics order: by file, then position.
fn with_sources_sorted(mut d: Diagnostics) -> Diagnostics {
    d.sort();
    d
}

/// Whether a name is a DNS-1123 label (what Kubernetes requires of most names).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_paths_resolve_in_the_tree_that_set_them() {
        let files = vec![
            (
                "environments/shop.toml".to_string(),
                PathBuf::from("environments/shop.toml"),
                "[environment]\nname = \"shop\"\n\n[namespaces.app]\nname = \"shop\"\n\n[services.api]\nimage = \"example/api:1.2.3\"\nreplicas = 1\n".to_string(),
            ),
            (
                "profiles/docker.toml".to_string(),
                PathBuf::from("profiles/docker.toml"),
                "[profile]\nbackend = \"compose\"\ntier = \"dev\"\n\n[compose]\nrestart = \"always\"\n\n[services.api]\nreplicas = 2\n".to_string(),
            ),
        ];
        let Ok(project) = Project::from_files(Path::new("."), files) else {
            panic!("the project loads");
        };
        let Ok(m) = project.mode("shop", "docker") else {
            panic!("the mode loads");
        };
        let at = |path: &str| project.sources.location(m.origin_of_path(path));
        // A profile's overlay keeps its own origin; the model's values theirs.
        assert_eq!(at("services.api.replicas"), "profiles/docker.toml:9:12");
        assert_eq!(at("services.api.image"), "environments/shop.toml:8:9");
        // Settings live in the profile tree; a missing key falls back to its parent.
        assert_eq!(at("compose.restart"), "profiles/docker.toml:6:11");
        assert_eq!(
            at("compose.project_name"),
            project
                .sources
                .location(m.profile_tree.origin_of(&["compose"]))
        );
        let d = m.locate(Diagnostic::error("E-x", "x").path("services.api.replicas"));
        assert_eq!(
            d.primary().map(|o| project.sources.location(o)).as_deref(),
            Some("profiles/docker.toml:9:12")
        );
    }
}
