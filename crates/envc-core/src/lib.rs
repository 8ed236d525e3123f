//! Validation, the dependency graph, reference resolution, and the per-mode IR.
//!
//! [`compile`] takes a loaded mode (model plus profile) and returns the [`ir::Ir`] every backend
//! consumes, or every diagnostic found.

pub mod graph;
pub mod ir;
pub mod reference;
pub mod resolve;
pub mod template;
pub mod validate;

pub use ir::Ir;
pub use resolve::{compile, cross_environment_checks};
