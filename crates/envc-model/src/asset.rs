//! The files a loaded mode names besides its TOML files: template files, read into the
//! project's sources, and build contexts, checked to be directories.
//!
//! This is the only disk access between loading and emission. It runs once per mode, before
//! resolution, so that resolution (references, the graph, templates, the IR) is a pure
//! function of memory and can be called with templates that never were files (a release
//! lock's promoted copies are registered in [`Sources`](crate::Sources) under their own paths
//! first, and [`Project::read_aux`] finds those before looking on disk).

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

/// Reads every template the enabled services of `m` name (relative to the environment file's
/// directory, each file once per project) and checks their build contexts. Disabled services
/// are skipped: a mode that leaves a service out does not need its files.
pub fn read(project: &mut Project, m: &LoadedMode) -> Assets {
    let mut assets = Assets::default();
    for (name, svc) in m.model.services.iter().filter(|(_, s)| s.enabled) {
        for (fname, f) in &svc.files {
            let Some(t) = &f.template else { continue };
            match project.read_aux(&m.env_dir, t) {
                Ok(id) => {
                    assets.templates.insert((name.clone(), fname.clone()), id);
                }
                Err(e) => assets.diagnostics.push(
                    Diagnostic::error("E-missing-file", e)
                        .at(
                            m.tree
                                .origin_of(&["services", name, "files", fname, "template"]),
                            "here",
                        )
                        .hint("template paths are relative to the environment file's directory"),
                ),
            }
        }
        if let Some(b) = &svc.build {
            let dir = m.env_dir.join(&b.context);
            if !dir.is_dir() {
                assets.diagnostics.push(
                    Diagnostic::error(
                        "E-missing-file",
                        format!("build context {} is not a directory", dir.display()),
                    )
                    .at(
                        m.tree.origin_of(&["services", name, "build", "context"]),
                        "here",
                    )
                    .hint("build contexts are relative to the environment file's directory"),
                );
            }
        }
    }
    assets
}
