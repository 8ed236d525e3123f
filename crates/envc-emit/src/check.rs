//! The checks a backend needs before it emits: what the IR can hold but the mode's backend
//! cannot express. Each problem is a diagnostic with the model path of the value to change
//! (no span: the IR has none); the caller locates it in the loaded tree
//! (`envc_model::LoadedMode::locate`), so it renders with file, line and column.

use envc_core::Ir;
use envc_model::Diagnostics;
use envc_model::profile::Backend;

use crate::{cloud, compose};

/// Every problem the mode's backend finds in the IR; empty when emission will succeed.
pub fn check(ir: &Ir) -> Diagnostics {
    match ir.backend {
        // Validation already refuses what plain manifests cannot hold (managed services).
        Backend::Kubernetes => Diagnostics::new(),
        Backend::Compose => compose::check(ir),
        Backend::Helm => cloud::check(ir),
    }
}
