//! Compose projects and Kubernetes manifests read into an envc model (an environment file, its
//! config files and profiles), with a report of everything that did not map.
//!
//! The library reads its inputs and returns text; it writes nothing and prints nothing. The
//! CLI (`envc import`) writes the files atomically and prints the report.

mod compose;
mod draft;
mod factor;
mod k8s;
mod name;
mod report;
mod secrets;

pub use compose::{ComposeOptions, compose};
pub use draft::{Import, ImportError, OutFile};
pub use k8s::{K8sOptions, k8s};
pub use report::{Item, Report};
