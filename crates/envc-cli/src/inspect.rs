//! Loading one environment in one mode for the commands that look at it rather than write it
//! (`explain`, `graph`, `endpoints`): the loaded model (with its provenance), the release lock
//! it was built from, the IR and the dependency graph.

use anyhow::{Result, bail};
use envc_core::resolve::Compiled;
use envc_lock::mode::{self, Applied, LockSource};
use envc_model::diagnostic::did_you_mean;
use envc_model::{LoadedMode, Project};

use crate::Status;
use crate::output::Output;
use crate::render;

/// One environment compiled in one mode.
pub struct View {
    /// The mode.
    pub mode: String,
    /// The merged model and profile, with origins.
    pub loaded: LoadedMode,
    /// The release lock the mode is built from (prod modes with one).
    pub lock: Option<Applied>,
    /// The IR and the graph.
    pub compiled: Compiled,
}

/// The modes to look at: `only` (which must exist) or every profile.
pub fn modes(p: &Project, only: Option<&str>) -> Result<Vec<String>> {
    match only {
        Some(m) if p.profiles.contains_key(m) => Ok(vec![m.to_string()]),
        Some(m) => {
            let hint = did_you_mean(m, p.profiles.keys().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            bail!("unknown mode `{m}`{hint}")
        }
        None => Ok(p.profiles.keys().cloned().collect()),
    }
}

/// Compiles `env` in `mode`, or reports the model's errors (stderr) and returns the status.
pub fn compile(
    p: &mut Project,
    env: &str,
    mode: &str,
    out: &Output,
) -> std::result::Result<View, Status> {
    let loaded = match mode::load(p, env, mode, LockSource::Disk) {
        Ok(l) => l,
        Err(d) => return Err(failed(p, &d, out)),
    };
    match envc_core::compile(p, &loaded.loaded) {
        Ok(compiled) => Ok(View {
            mode: mode.to_string(),
            loaded: loaded.loaded,
            lock: loaded.lock,
            compiled,
        }),
        Err(d) => Err(failed(p, &d, out)),
    }
}

fn failed(p: &Project, d: &envc_model::Diagnostics, out: &Output) -> Status {
    render::emit(&p.sources, d, out.color);
    out.error("the model is invalid; `envc check` lists every error");
    Status::Invalid
}
