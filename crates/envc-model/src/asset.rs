//! The files a loaded mode names besides its TOML files: template files, read into the
//! project's sources, and build contexts, checked to be directories.
//!
//! This is the only disk access between loading and emission. It runs once per mode, before
//! resolution, so that resolution (references, the graph, templates, the IR) is a pure
//! function of memory and can be called with templates that never were files (a release
//! lock's promoted copies are registered in [`Sources`](crate::Sources) under their own paths
//! first, and [`Project::read_aux`] finds those before looking on disk).

use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::{LoadedMode, Project};
use crate::source::FileId;

/// What [`read`] found: the template file of every file entry that names one, and a
/// diagnostic for every template or build context that is not there.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    /// Template file of each `(service, file)` whose template could be read, in model order
    /// (enabled services only).
    pub templates: IndexMap<(String, String), FileId>,
    /// `E-missing-file` errors, each at the model value that names the missing path.
    pub diagnostics: Diagnostics,
}

impl Assets {
    /// The template file of `service`'s file entry `file`, if it was read.
    pub fn template(&self, service: &str, file: &str) -> Option<FileId> {
        self.templates
            .get(&(service.to_string(), file.to_string()))
            .copied()
    }
}

/// Why a path the model names cannot be used: it is not confined to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// An absolute path (`/etc/hostname`).
    Absolute,
    /// `..` segments lead out of the project.
    Parent,
    /// The path is inside the project, but a symlink on it resolves outside, to this path.
    Symlink(PathBuf),
}

impl Escape {
    /// What is wrong, for a message about `what` (`template ../x`).
    pub fn describe(&self, what: &str) -> String {
        match self {
            Escape::Absolute => format!("{what} is an absolute path"),
            Escape::Parent => format!("{what} leads outside the project"),
            Escape::Symlink(to) => format!(
                "{what} is a symlink to {}, outside the project",
                to.display()
            ),
        }
    }
}

/// `base/rel` folded lexically (`.` and `..` segments removed), or why it escapes `root`:
/// absolute paths, paths whose `..` segments climb above `root`, and (for paths that exist)
/// paths whose symlinks resolve outside `root`. `root` and `base` are the project root and a
/// folder inside it; the result is the path to read, inside `root`.
pub fn confine(root: &Path, base: &Path, rel: &str) -> Result<PathBuf, Escape> {
    let p = Path::new(rel);
    if p.is_absolute() || p.has_root() || rel.starts_with('/') || rel.starts_with('\\') {
        return Err(Escape::Absolute);
    }
    let rel_base = base.strip_prefix(root).unwrap_or(Path::new(""));
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for c in rel_base.components().chain(p.components()) {
        match c {
            Component::Normal(x) => parts.push(x.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(Escape::Parent);
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(Escape::Absolute),
        }
    }
    let mut path = root.to_path_buf();
    path.extend(&parts);
    if let (Ok(real), Ok(real_root)) = (path.canonicalize(), root.canonicalize())
        && !real.starts_with(&real_root)
    {
        return Err(Escape::Symlink(real));
    }
    Ok(path)
}

fn escape_error(e: &Escape, what: &str, origin: crate::source::Origin, hint: &str) -> Diagnostic {
    Diagnostic::error("E-path-outside", e.describe(what))
        .at(origin, "here")
        .hint(format!(
            "{hint}; paths the model names stay inside the project, so that a model cannot read or hand out files of the machine that builds it"
        ))
}

/// Reads every template the enabled services of `m` name (relative to the environment file's
/// directory, each file once per project, never outside the project: see [`confine`]), and
/// checks their build contexts and bind-mount sources. Disabled services are skipped: a mode
/// that leaves a service out does not need its files.
pub fn read(project: &mut Project, m: &LoadedMode) -> Assets {
    let mut assets = Assets::default();
    let root = project.root.clone();
    for (name, svc) in m.model.services.iter().filter(|(_, s)| s.enabled) {
        for (fname, f) in &svc.files {
            let Some(t) = &f.template else { continue };
            let origin = m
                .tree
                .origin_of(&["services", name, "files", fname, "template"]);
            const HINT: &str = "template paths are relative to the environment file's directory";
            // A release lock's copy of a template is registered under its model path.
            let registered = project.sources.find(&m.env_dir.join(t));
            if registered.is_none()
                && let Err(e) = confine(&root, &m.env_dir, t)
            {
                let what = format!("template `{t}`");
                assets
                    .diagnostics
                    .push(escape_error(&e, &what, origin, HINT));
                continue;
            }
            match project.read_aux(&m.env_dir, t) {
                Ok(id) => {
                    assets.templates.insert((name.clone(), fname.clone()), id);
                }
                Err(e) => assets.diagnostics.push(
                    Diagnostic::error("E-missing-file", e)
                        .at(origin, "here")
                        .hint(HINT),
                ),
            }
        }
        if let Some(b) = &svc.build {
            let origin = m.tree.origin_of(&["services", name, "build", "context"]);
            const HINT: &str = "build contexts are relative to the environment file's directory";
            match confine(&root, &m.env_dir, &b.context) {
                Err(e) => {
                    let what = format!("build context `{}`", b.context);
                    assets
                        .diagnostics
                        .push(escape_error(&e, &what, origin, HINT));
                }
                Ok(dir) if !dir.is_dir() => assets.diagnostics.push(
                    Diagnostic::error(
                        "E-missing-file",
                        format!("build context {} is not a directory", dir.display()),
                    )
                    .at(origin, "here")
                    .hint(HINT),
                ),
                Ok(dir) => {
                    // The Dockerfile is relative to the context, and stays in the project too.
                    if let Some(df) = &b.dockerfile
                        && let Err(e) = confine(&root, &dir, df)
                    {
                        let origin = m.tree.origin_of(&["services", name, "build", "dockerfile"]);
                        let what = format!("Dockerfile `{df}`");
                        let hint = "a Dockerfile path is relative to the build context";
                        assets
                            .diagnostics
                            .push(escape_error(&e, &what, origin, hint));
                    }
                }
            }
        }
        for (key, v) in &svc.volumes {
            let Some(source) = &v.source else { continue };
            // Lexical escapes are reported by validation (`E-path-outside` there too); only
            // what the disk shows is checked here: a symlink that leads out.
            if let Err(e @ Escape::Symlink(_)) = confine(&root, &m.env_dir, source) {
                let origin = m
                    .tree
                    .origin_of(&["services", name, "volumes", key, "source"]);
                let what = format!("bind mount `{source}`");
                assets.diagnostics.push(escape_error(
                    &e,
                    &what,
                    origin,
                    "bind-mount sources are folders of the project, relative to the environment file's directory",
                ));
            }
        }
    }
    assets
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_stay_inside_the_project() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let env = root.join("environments");
        std::fs::create_dir_all(env.join("x")).unwrap();
        assert_eq!(confine(root, &env, "x/a.conf"), Ok(env.join("x/a.conf")));
        assert_eq!(confine(root, &env, "./x/../a"), Ok(env.join("a")));
        assert_eq!(confine(root, &env, "../a"), Ok(root.join("a")));
        assert_eq!(confine(root, &env, "../../a"), Err(Escape::Parent));
        assert_eq!(
            confine(root, &env, "../../../../etc/passwd"),
            Err(Escape::Parent)
        );
        assert_eq!(confine(root, &env, "/etc/hostname"), Err(Escape::Absolute));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_project_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let root = t.path();
        let env = root.join("environments");
        std::fs::create_dir_all(&env).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), env.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), env.join("dir")).unwrap();
        std::fs::write(env.join("inside"), "i").unwrap();
        std::os::unix::fs::symlink(env.join("inside"), env.join("ok")).unwrap();
        let real = outside.path().canonicalize().unwrap();
        assert_eq!(
            confine(root, &env, "link"),
            Err(Escape::Symlink(real.join("secret")))
        );
        assert_eq!(
            confine(root, &env, "dir/secret"),
            Err(Escape::Symlink(real.join("secret")))
        );
        assert_eq!(confine(root, &env, "ok"), Ok(env.join("ok")));
    }
}
