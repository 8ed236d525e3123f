//! Loading the project and compiling the selected environments and modes in memory.

use std::path::Path;

use envc_core::Ir;
use envc_emit::{Artifact, EmitError};
use envc_lock::mode::{self, LockSource};
use envc_lock::release::Change;
use envc_model::diagnostic::unknown_name;
use envc_model::load::Locator;
use envc_model::profile::Backend;
use envc_model::{Diagnostic, Diagnostics, LoadedMode, Project, Sources};

use crate::args::SelectArgs;

/// One environment in one mode, compiled.
pub struct ModeBuild {
    /// Environment.
    pub env: String,
    /// Mode.
    pub mode: String,
    /// The IR.
    pub ir: Ir,
    /// The artifacts, or `None` when the mode's backend does not exist yet.
    pub artifacts: Option<Vec<Artifact>>,
    /// The release lock the mode was built from (prod modes with a lock).
    pub lock: Option<LockInfo>,
}

/// A release lock a mode was built from.
pub struct LockInfo {
    /// Its path (`locks/<env>/<mode>.toml`).
    pub name: String,
    /// How the model differs from it: changes waiting for promotion.
    pub pending: Vec<Change>,
    /// The first mode the profile allows promotions from (`[promotion] from`), for hints.
    pub source: Option<String>,
}

/// Everything compiled, plus warnings.
pub struct Compiled {
    /// The project (for sources).
    pub project: Project,
    /// Builds in environment then mode order.
    pub builds: Vec<ModeBuild>,
    /// Warnings found on the way.
    pub warnings: Diagnostics,
    /// Whether every environment and every mode was selected.
    pub complete: bool,
}

/// Why compilation failed: diagnostics and the sources they point into.
pub struct Failed {
    /// Sources.
    pub sources: Sources,
    /// Errors (and warnings).
    pub diagnostics: Diagnostics,
}

/// The relative path from `from` to `to` (both relative to the current directory or
/// absolute), `/` separated, computed lexically.
pub fn relative(from: &Path, to: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &Path| -> Vec<String> {
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        let mut parts: Vec<String> = Vec::new();
        for c in full.components() {
            match c {
                std::path::Component::Normal(x) => parts.push(x.to_string_lossy().to_string()),
                std::path::Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        parts
    };
    let (f, t) = (abs(from), abs(to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_string(); f.len() - common];
    out.extend(t[common..].iter().cloned());
    if out.is_empty() {
        ".".to_string()
    } else {
        out.join("/")
    }
}

/// Loads the project and compiles the selection for artifact sets under `out_dir`. Nothing is
/// written.
pub fn compile(root: &Path, select: &SelectArgs, out_dir: &Path) -> Result<Compiled, Failed> {
    let mut project = match Project::load(root) {
        Ok(p) => p,
        Err(f) => {
            return Err(Failed {
                sources: f.sources,
                diagnostics: f.diagnostics,
            });
        }
    };
    let mut diags = Diagnostics::new();
    let envs: Vec<String> = match &select.env {
        Some(e) if project.environments.contains_key(e) => vec![e.clone()],
        Some(e) => {
            let d = unknown_name(
                "E-unknown-environment",
                "environment",
                e,
                project.environments.keys().map(String::as_str),
                "environments",
            );
            return Err(Failed {
                sources: project.sources,
                diagnostics: Diagnostics(vec![d]),
            });
        }
        None => project.environments.keys().cloned().collect(),
    };
    let modes: Vec<String> = if select.target == "all" {
        project.profiles.keys().cloned().collect()
    } else if project.profiles.contains_key(&select.target) {
        vec![select.target.clone()]
    } else {
        let d = unknown_name(
            "E-unknown-mode",
            "mode",
            &select.target,
            project.profiles.keys().map(String::as_str),
            "modes are the files in profiles/, or `all`",
        );
        return Err(Failed {
            sources: project.sources,
            diagnostics: Diagnostics(vec![d]),
        });
    };
    if modes.is_empty() {
        let d = Diagnostic::error("E-no-modes", "no profiles in profiles/")
            .hint("describe a mode in profiles/<mode>.toml (see docs/model.md#profiles)");
        return Err(Failed {
            sources: project.sources,
            diagnostics: Diagnostics(vec![d]),
        });
    }

    for env in &envs {
        if let Some(parsed) = project.environments.get(env) {
            diags.extend(parsed.warnings.clone());
        }
    }
    let pairs: Vec<(&String, &String)> = envs
        .iter()
        .flat_map(|e| modes.iter().map(move |m| (e, m)))
        .collect();
    let builds = build_all(&mut project, &pairs, root, out_dir, &mut diags);
    let irs: Vec<&Ir> = builds.iter().map(|b| &b.ir).collect();
    diags.extend(envc_core::cross_environment_checks(&irs));
    diags.sort();
    if diags.has_errors() {
        return Err(Failed {
            sources: project.sources,
            diagnostics: diags,
        });
    }
    let complete = select.env.is_none() && select.target == "all";
    Ok(Compiled {
        project,
        builds,
        warnings: diags,
        complete,
    })
}

/// One environment in one mode, loaded and compiled, before emission: the decoded model is
/// dropped (the IR holds what emission reads), the trees kept to locate the backends' errors.
struct CompiledMode {
    env: String,
    mode: String,
    locator: Locator,
    ir: Ir,
    lock: Option<LockInfo>,
}

/// One environment in one mode, loaded through its lock (prod modes with one) and compiled;
/// `None` when it failed (the errors are in `diags`). Reading files (templates) needs the
/// project, so modes are compiled one after the other; emission, most of the work, is not.
fn compile_mode(
    project: &mut Project,
    env: &str,
    mode: &str,
    releases: &mut mode::Releases,
    diags: &mut Diagnostics,
) -> Option<CompiledMode> {
    let loaded = match mode::load_with(project, env, mode, LockSource::Disk, releases) {
        Ok(l) => l,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    diags.extend(loaded.warnings.clone());
    let lock = loaded.lock.as_ref().map(|l| LockInfo {
        name: l.name.clone(),
        pending: l.pending.clone(),
        source: loaded.loaded.profile.promotion.from.first().cloned(),
    });
    let c = match envc_core::resolve::compile(project, &loaded.loaded) {
        Ok(c) => c,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    diags.extend(c.warnings);
    Some(CompiledMode {
        env: env.to_string(),
        mode: mode.to_string(),
        locator: loaded.loaded.into_locator(),
        ir: c.ir,
        lock,
    })
}

/// Compiles every mode on this thread (reading templates needs the project) and emits each on
/// worker threads as soon as it is compiled, so emission, most of the work, overlaps the next
/// compilation; the hand-off is bounded, so compiled modes do not pile up ahead of the
/// workers. Builds and their diagnostics come back in the order of `pairs`, whatever the
/// scheduling.
fn build_all(
    project: &mut Project,
    pairs: &[(&String, &String)],
    root: &Path,
    out_dir: &Path,
    diags: &mut Diagnostics,
) -> Vec<ModeBuild> {
    type Emitted = (ModeBuild, Option<Diagnostics>);
    let emit_one = |c: CompiledMode| -> Emitted {
        let result = if envc_emit::supports(c.ir.backend) {
            let opts = envc_emit::Options {
                project_root: relative(&out_dir.join(&c.env).join(&c.mode), root),
            };
            envc_emit::emit_with(&c.ir, &opts)
                .map(Some)
                .map_err(|e| located(&c.ir, |d| c.locator.locate(d), e))
        } else {
            Ok(None)
        };
        let (artifacts, failed) = match result {
            Ok(a) => (a, None),
            Err(d) => (None, Some(d)),
        };
        let build = ModeBuild {
            env: c.env,
            mode: c.mode,
            ir: c.ir,
            artifacts,
            lock: c.lock,
        };
        (build, failed)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pairs.len());
    let mut slots: Vec<Option<Emitted>> = (0..pairs.len()).map(|_| None).collect();
    let mut releases = mode::Releases::default();
    if workers <= 1 {
        for (i, (env, mode)) in pairs.iter().enumerate() {
            if let Some(c) = compile_mode(project, env, mode, &mut releases, diags) {
                slots[i] = Some(emit_one(c));
            }
        }
    } else {
        // A rendezvous: the next mode is compiled while the workers emit, but no compiled mode
        // waits in a queue (each holds its IR and trees), so at most `workers + 1` modes are
        // in memory before emission whatever their number.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<(usize, CompiledMode)>(0);
        let queue = std::sync::Mutex::new(queue);
        let (done, results) = std::sync::mpsc::channel::<(usize, Emitted)>();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (queue, done, emit_one) = (&queue, done.clone(), &emit_one);
                scope.spawn(move || {
                    loop {
                        // The lock is held only to take the next job.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        let Ok((i, c)) = job else { return };
                        if done.send((i, emit_one(c))).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done);
            for (i, (env, mode)) in pairs.iter().enumerate() {
                if let Some(c) = compile_mode(project, env, mode, &mut releases, diags) {
                    // Workers outlive this loop; a send fails only if all of them panicked,
                    // and the scope re-raises that panic.
                    let _ = jobs.send((i, c));
                }
            }
            drop(jobs);
            for (i, e) in results {
                slots[i] = Some(e);
            }
        });
    }
    let mut builds = Vec::with_capacity(pairs.len());
    for (build, failed) in slots.into_iter().flatten() {
        if let Some(d) = failed {
            diags.extend(d);
        }
        builds.push(build);
    }
    builds
}

/// Backends not implemented yet among the builds, with their modes.
pub fn skipped(builds: &[ModeBuild]) -> Vec<(Backend, Vec<String>)> {
    let mut out: Vec<(Backend, Vec<String>)> = Vec::new();
    for b in builds.iter().filter(|b| b.artifacts.is_none()) {
        match out.iter_mut().find(|(k, _)| *k == b.ir.backend) {
            Some((_, modes)) => {
                if !modes.contains(&b.mode) {
                    modes.push(b.mode.clone());
                }
            }
            None => out.push((b.ir.backend, vec![b.mode.clone()])),
        }
    }
    out
}

/// Emits a mode's artifacts. The backend's checks refuse the user's mistakes with model
/// paths, located here in the loaded tree (file, line, column); anything else is envc's own
/// failure (`E-emit`).
pub fn emit(
    ir: &Ir,
    loaded: &LoadedMode,
    opts: &envc_emit::Options,
) -> Result<Vec<Artifact>, Diagnostics> {
    envc_emit::emit_with(ir, opts).map_err(|e| located(ir, |d| loaded.locate(d), e))
}

/// The facts of a Kubernetes mode from the emitter's documents, without writing and parsing
/// back its YAML (`envc diff` of two modes); `None` for a mode of another backend. Errors are
/// those of [`emit`].
pub fn kubernetes_facts(
    ir: &Ir,
    loaded: &LoadedMode,
    label: &str,
) -> Result<Option<envc_diff::Facts>, Diagnostics> {
    let files =
        envc_emit::kubernetes_values(ir).map_err(|e| located(ir, |d| loaded.locate(d), e))?;
    Ok(files.map(|f| envc_diff::memory::kubernetes(label, f)))
}

/// The facts of a Compose mode from the emitter's document of its main file, without writing
/// and parsing back its YAML (`envc diff` of two modes); `None` for a mode of another backend,
/// or one whose document reads only from its text (then read the files back). Errors are
/// those of [`emit`].
pub fn compose_facts(
    ir: &Ir,
    loaded: &LoadedMode,
    opts: &envc_emit::Options,
    label: &str,
) -> Result<Option<envc_diff::Facts>, Diagnostics> {
    let given =
        envc_emit::compose_document(ir, opts).map_err(|e| located(ir, |d| loaded.locate(d), e))?;
    Ok(given.and_then(|(doc, rest)| {
        let rest = rest.into_iter().map(|a| (a.path, a.bytes));
        envc_diff::memory::compose(label, envc_emit::compose::COMPOSE_FILE, doc, rest)
    }))
}

/// A backend's error as diagnostics: the model's mistakes located in the loaded tree.
fn located(ir: &Ir, locate: impl Fn(Diagnostic) -> Diagnostic, e: EmitError) -> Diagnostics {
    let mut out = Diagnostics::new();
    match e {
        EmitError::Invalid(found) => {
            for d in found.0 {
                out.push(locate(d));
            }
        }
        e => out.push(
            Diagnostic::error(
                "E-emit",
                format!("failed to compile {} for {}: {e}", ir.env, ir.mode),
            )
            .hint("a model that passed every check should compile: this is envc's bug, not the model's; report it with the model"),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/p/out/e/m"), Path::new("/p")),
            "../../.."
        );
        assert_eq!(
            relative(Path::new("/tmp/x/e/m"), Path::new("/p")),
            "../../../../p"
        );
        assert_eq!(relative(Path::new("/p"), Path::new("/p")), ".");
    }
}
