//! envc's backends: pure functions from the IR to an ordered list of artifact files.
//!
//! No backend touches the disk or prints; the CLI writes what they return.

pub mod artifact;
pub mod compose;
pub mod helm;
pub mod k8s;
pub mod labels;
pub mod terraform;
pub mod yaml;

pub use artifact::{Artifact, EmitError};

use envc_core::Ir;
use envc_model::profile::Backend;

/// Whether envc can compile modes of this backend yet.
pub fn supports(backend: Backend) -> bool {
    match backend {
        Backend::Kubernetes | Backend::Compose | Backend::Helm => true,
    }
}

/// Compiles the IR of one mode into its artifact set (paths relative to `out/<env>/<mode>/`).
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    match ir.backend {
        Backend::Kubernetes => k8s::emit(ir),
        Backend::Compose => compose::emit(ir),
        Backend::Helm => helm::emit(ir),
    }
}
