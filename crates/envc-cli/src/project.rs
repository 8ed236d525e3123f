//! Loading the project and compiling the selected environments and modes in memory.

use std::path::Path;

use envc_core::Ir;
use envc_emit::{Artifact, EmitError};
use envc_lock::mode::{self, LockSource};
use envc_lock::release::Change;
use envc_model::diagnostic::unknown_name;
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

/// One environment in one mode, loaded (through its lock) with its templates read: what the
/// main thread prepares, since reading files registers them in the project. Resolving and
/// emitting it touch no file, so they run on a worker, against a copy of the project as it was
/// then (a copy shares every file and tree).
struct PreparedMode {
    env: String,
    mode: String,
    loaded: LoadedMode,
    assets: envc_model::asset::Assets,
    lock: Option<LockInfo>,
    project: Project,
}

/// Loads one environment in one mode and reads its templates; `None` when that failed (the
/// errors are in `diags`).
fn prepare_mode(
    project: &mut Project,
    env: &str,
    mode: &str,
    releases: &mut mode::Releases,
    diags: &mut Diagnostics,
) -> Option<PreparedMode> {
    let loaded = match mode::load_with(project, env, mode, LockSource::Disk, releases) {
        Ok(l) => l,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    diags.extend(loaded.warnings);
    let lock = loaded.lock.as_ref().map(|l| LockInfo {
        name: l.name.clone(),
        pending: l.pending.clone(),
        source: loaded.loaded.profile.promotion.from.first().cloned(),
    });
    let assets = envc_model::asset::read(project, &loaded.loaded);
    Some(PreparedMode {
        env: env.to_string(),
        mode: mode.to_string(),
        loaded: loaded.loaded,
        assets,
        lock,
        project: project.clone(),
    })
}

/// A mode's build, or none when it failed, and the diagnostics of resolving and emitting it.
type Emitted = (Option<ModeBuild>, Diagnostics);

/// Resolves a prepared mode into its IR and emits its artifacts. The decoded model is dropped
/// before emission (the IR holds what emission reads); the trees are kept to locate the
/// backends' errors.
fn resolve_and_emit(p: PreparedMode, root: &Path, out_dir: &Path) -> Emitted {
    let mut diags = Diagnostics::new();
    let c = match envc_core::resolve::resolve(&p.project, &p.loaded, &p.assets) {
        Ok(c) => c,
        Err(d) => return (None, d),
    };
    diags.extend(c.warnings);
    let ir = c.ir;
    let locator = p.loaded.into_locator();
    let artifacts = if envc_emit::supports(ir.backend) {
        let opts = envc_emit::Options {
            project_root: relative(&out_dir.join(&p.env).join(&p.mode), root),
        };
        match envc_emit::emit_with(&ir, &opts) {
            Ok(a) => Some(a),
            Err(e) => {
                diags.extend(located(&ir, |d| locator.locate(d), e));
                None
            }
        }
    } else {
        None
    };
    let build = ModeBuild {
        env: p.env,
        mode: p.mode,
        ir,
        artifacts,
        lock: p.lock,
    };
    (Some(build), diags)
}

/// Prepares every mode on this thread (reading templates needs the project) and resolves and
/// emits each on worker threads as soon as it is prepared, so that work, most of a build,
/// overlaps the next preparation; the hand-off is bounded, so prepared modes do not pile up
/// ahead of the workers. Builds and their diagnostics come back in the order of `pairs`,
/// whatever the scheduling.
fn build_all(
    project: &mut Project,
    pairs: &[(&String, &String)],
    root: &Path,
    out_dir: &Path,
    diags: &mut Diagnostics,
) -> Vec<ModeBuild> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pairs.len());
    let mut slots: Vec<Option<Emitted>> = (0..pairs.len()).map(|_| None).collect();
    let mut releases = mode::Releases::default();
    if workers <= 1 {
        for (i, (env, mode)) in pairs.iter().enumerate() {
            if let Some(p) = prepare_mode(project, env, mode, &mut releases, diags) {
                slots[i] = Some(resolve_and_emit(p, root, out_dir));
            }
        }
    } else {
        // A rendezvous: the next mode is prepared while the workers resolve and emit, but no
        // prepared mode waits in a queue (each holds its trees), so at most `workers + 1`
        // modes are in memory whatever their number.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<(usize, PreparedMode)>(0);
        let queue = std::sync::Mutex::new(queue);
        let (done, results) = std::sync::mpsc::channel::<(usize, Emitted)>();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (queue, done) = (&queue, done.clone());
                scope.spawn(move || {
                    loop {
                        // The lock is held only to take the next job.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        let Ok((i, p)) = job else { return };
                        if done.send((i, resolve_and_emit(p, root, out_dir))).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done);
            for (i, (env, mode)) in pairs.iter().enumerate() {
                if let Some(p) = prepare_mode(project, env, mode, &mut releases, diags) {
                    // Workers outlive this loop; a send fails only if all of them panicked,
                    // and the scope re-raises that panic.
                    let _ = jobs.send((i, p));
                }
            }
            drop(jobs);
            for (i, e) in results {
                slots[i] = Some(e);
            }
        });
    }
    let mut builds = Vec::with_capacity(pairs.len());
    for (build, d) in slots.into_iter().flatten() {
        diags.extend(d);
        builds.extend(build);
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
/// back its YAML (`envc diff`), with the structural `lines` the comparison reads; `None` for a
/// mode of another backend. Errors are those of [`emit`].
pub fn kubernetes_facts(
    ir: &Ir,
    loaded: &LoadedMode,
    label: &str,
    lines: envc_diff::Lines,
) -> Result<Option<envc_diff::Facts>, Diagnostics> {
    let files =
        envc_emit::kubernetes_documents(ir).map_err(|e| located(ir, |d| loaded.locate(d), e))?;
    Ok(files.map(|f| envc_diff::memory::kubernetes(label, f, lines)))
}

/// The facts of a Compose mode from the emitter's document of its main file, without writing
/// and parsing back its YAML (`envc diff`), with the structural `lines` the comparison reads;
/// `None` for a mode of another backend, or one whose document reads only from its text (then
/// read the files back). Errors are those of [`emit`].
pub fn compose_facts(
    ir: &Ir,
    loaded: &LoadedMode,
    opts: &envc_emit::Options,
    label: &str,
    lines: envc_diff::Lines,
) -> Result<Option<envc_diff::Facts>, Diagnostics> {
    let given =
        envc_emit::compose_document(ir, opts).map_err(|e| located(ir, |d| loaded.locate(d), e))?;
    Ok(given.and_then(|(doc, rest)| {
        let rest = rest.into_iter().map(|a| (a.path, a.bytes));
        envc_diff::memory::compose(label, envc_emit::compose::COMPOSE_FILE, doc, rest, lines)
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
