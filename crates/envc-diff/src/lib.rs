//! Facts extracted from artifact sets of any format, and their semantic comparison.
//!
//! An extractor reads what an artifact set deploys (a Compose file, Kubernetes manifests, a
//! rendered Helm chart) into backend-neutral [`facts::Facts`]; [`compare`] matches services and
//! compares them facet by facet; the caller classifies each difference and renders it.

pub mod classify;
pub mod compare;
pub mod compose;
pub mod docs;
pub mod facts;
pub mod fileset;
pub mod flat;
pub mod k8s;
pub mod key;
pub mod memory;
pub mod monitor;
pub mod normalize;
pub mod redact;
pub mod render;
pub mod route;
pub mod secret;
pub mod secret_source;
pub(crate) mod service;
pub mod shell;
pub(crate) mod split;
pub mod structure;

pub use compare::{Difference, compare, compare_modes, compare_modes_owned};
pub use facts::{Facts, Lines, ServiceFacts};
pub use fileset::FileSet;
