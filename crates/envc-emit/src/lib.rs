//! envc's backends: pure functions from the IR to an ordered list of artifact files.
//!
//! No backend touches the disk or prints; the CLI writes what they return. Backends (`k8s`,
//! `compose`, `helm`, `terraform`, `readme`, `gitops`) never import one another: what several need lives
//! in the modules below them (`check`, `cloud`, `header`, `labels`, `name`, `yaml`).

pub mod artifact;
pub mod check;
pub mod cloud;
pub mod compose;
pub mod external_secrets;
pub mod gateway;
pub mod gitops;
pub mod header;
pub mod healthcheck;
pub mod helm;
pub mod k8s;
pub mod labels;
pub mod manifest;
pub mod monitoring;
pub mod name;
pub mod object;
pub mod pod;
pub mod readme;
pub mod terraform;
pub mod to_value;
pub mod yaml;

pub use artifact::{Artifact, EmitError};
pub use check::check;

use envc_core::Ir;
use envc_model::profile::Backend;

/// Whether envc can compile modes of this backend yet.
pub fn supports(backend: Backend) -> bool {
    match backend {
        Backend::Kubernetes | Backend::Compose | Backend::Helm => true,
    }
}

/// Where the artifact set will live, for backends whose output points back into the project
/// (Compose build contexts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Path from the artifact set's directory to the project root, `/` separated.
    pub project_root: String,
}

impl Default for Options {
    /// The set lives at `<root>/out/<env>/<mode>/`.
    fn default() -> Self {
        Options {
            project_root: "../../..".into(),
        }
    }
}

/// Compiles the IR of one mode into its artifact set (paths relative to `out/<env>/<mode>/`),
/// for a set written to the default place.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    emit_with(ir, &Options::default())
}

/// Compiles the IR of one mode into its artifact set, for a set written where `opts` says.
/// The backend's checks ([`check`]) run first: what they refuse is
/// [`EmitError::Invalid`], with the model paths to locate.
pub fn emit_with(ir: &Ir, opts: &Options) -> Result<Vec<Artifact>, EmitError> {
    let problems = check(ir);
    if problems.has_errors() {
        return Err(EmitError::Invalid(problems));
    }
    let out = match ir.backend {
        Backend::Kubernetes => {
            let mut out = k8s::emit(ir)?;
            out.extend(gitops::emit(ir)?);
            out
        }
        Backend::Compose => compose::emit_with(ir, &opts.project_root)?,
        // A prod mode: the chart, its README, the cluster's Terraform variables.
        Backend::Helm => {
            let mut out = helm::emit(ir)?;
            out.push(readme::emit(ir));
            out.extend(terraform::emit(ir)?);
            out.extend(gitops::emit(ir)?);
            out
        }
    };
    let clashes = check::duplicates(&out);
    if clashes.has_errors() {
        return Err(EmitError::Invalid(clashes));
    }
    Ok(out)
}

/// The documents of a Kubernetes mode's artifact set by file, in memory rather than as YAML
/// text ([`k8s::documents`]: objects typed, their values made when asked for), after the same
/// checks as [`emit_with`]: for a caller that reads the set in memory. `None` for a mode of
/// another backend.
pub fn kubernetes_documents(ir: &Ir) -> Result<Option<k8s::Documents<manifest::Doc>>, EmitError> {
    if ir.backend != Backend::Kubernetes {
        return Ok(None);
    }
    let problems = check(ir);
    if problems.has_errors() {
        return Err(EmitError::Invalid(problems));
    }
    let mut files = k8s::documents(ir)?;
    for (path, docs) in gitops::documents(ir) {
        let docs = docs
            .iter()
            .map(|d| manifest::value_of(d).map(manifest::Doc::Value))
            .collect::<Result<Vec<_>, _>>()?;
        files.push((path, docs));
    }
    let clashes = check::duplicate_paths(files.iter().map(|(p, _)| p.as_str()));
    if clashes.has_errors() {
        return Err(EmitError::Invalid(clashes));
    }
    Ok(Some(files))
}

/// A Compose mode's main file as a document and its other files ([`compose::document_with`]),
/// after the same checks as [`emit_with`]: for a caller that reads the set in memory. `None`
/// for a mode of another backend.
pub fn compose_document(
    ir: &Ir,
    opts: &Options,
) -> Result<Option<(yaml_serde::Value, Vec<Artifact>)>, EmitError> {
    if ir.backend != Backend::Compose {
        return Ok(None);
    }
    let problems = check(ir);
    if problems.has_errors() {
        return Err(EmitError::Invalid(problems));
    }
    let (doc, rest) = compose::document_with(ir, &opts.project_root)?;
    let paths = std::iter::once(compose::COMPOSE_FILE).chain(rest.iter().map(|a| a.path.as_str()));
    let clashes = check::duplicate_paths(paths);
    if clashes.has_errors() {
        return Err(EmitError::Invalid(clashes));
    }
    Ok(Some((doc, rest)))
}
