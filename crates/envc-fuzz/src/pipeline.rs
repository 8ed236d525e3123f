//! The model pipeline as `envc build --target all` runs it, in memory: load, each environment
//! in each mode through its lock, resolve, the backend's checks and emission, the checks across
//! environments. Nothing is written.

use std::path::Path;

use envc_emit::{Artifact, EmitError};
use envc_lock::mode::{self, LockSource};
use envc_model::profile::Backend;
use envc_model::{Diagnostic, Diagnostics, Project};

/// One environment in one mode, emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Environment.
    pub env: String,
    /// Mode.
    pub mode: String,
    /// Its backend.
    pub backend: Backend,
    /// The artifact set.
    pub artifacts: Vec<Artifact>,
}

/// What one run of the pipeline produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every diagnostic, errors and warnings.
    pub diagnostics: Diagnostics,
    /// The sets that were emitted (all of them when there is no error).
    pub builds: Vec<Build>,
    /// Backend failures that are envc's own bugs, not answers to the input
    /// ([`EmitError::NotRepresentable`], [`EmitError::Serialize`]).
    pub internal: Vec<String>,
}

impl Outcome {
    /// Whether the model was accepted: no error at all.
    pub fn accepted(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

/// Builds every environment of the project at `root` in every mode.
pub fn build_all(root: &Path) -> Outcome {
    let mut out = Outcome::default();
    let mut project = match Project::load(root) {
        Ok(p) => p,
        Err(f) => {
            out.diagnostics = f.diagnostics;
            return out;
        }
    };
    let envs: Vec<String> = project.environments.keys().cloned().collect();
    let modes: Vec<String> = project.profiles.keys().cloned().collect();
    let mut irs = Vec::new();
    for env in &envs {
        for m in &modes {
            if let Some(ir) = build_mode(&mut project, env, m, &mut out) {
                irs.push(ir);
            }
        }
    }
    let refs: Vec<&envc_core::Ir> = irs.iter().collect();
    out.diagnostics
        .extend(envc_core::cross_environment_checks(&refs));
    out
}

fn build_mode(
    project: &mut Project,
    env: &str,
    m: &str,
    out: &mut Outcome,
) -> Option<envc_core::Ir> {
    let loaded = match mode::load(project, env, m, LockSource::Disk) {
        Ok(l) => l,
        Err(d) => {
            out.diagnostics.extend(d);
            return None;
        }
    };
    out.diagnostics.extend(loaded.warnings.clone());
    let c = match envc_core::resolve::compile(project, &loaded.loaded) {
        Ok(c) => c,
        Err(d) => {
            out.diagnostics.extend(d);
            return None;
        }
    };
    out.diagnostics.extend(c.warnings);
    if !envc_emit::supports(c.ir.backend) {
        return Some(c.ir);
    }
    match envc_emit::emit_with(&c.ir, &envc_emit::Options::default()) {
        Ok(artifacts) => out.builds.push(Build {
            env: env.to_string(),
            mode: m.to_string(),
            backend: c.ir.backend,
            artifacts,
        }),
        Err(EmitError::Invalid(found)) => {
            for d in found.0 {
                out.diagnostics.push(loaded.loaded.locate(d));
            }
        }
        Err(e) => {
            out.internal.push(format!("{env}/{m}: {e}"));
            out.diagnostics.push(Diagnostic::error(
                "E-emit",
                format!("failed to compile {env} for {m}: {e}"),
            ));
        }
    }
    Some(c.ir)
}
