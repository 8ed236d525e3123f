//! Validation, the dependency graph, reference resolution, and the per-mode IR.
//!
//! [`compile`] takes a loaded mode (model plus profile) and returns the [`ir::Ir`] every backend
//! consumes, or every diagnostic found. [`resolve::resolve`] is the same without the file
//! reading step, for callers that read the mode's templates themselves.
//!
//! Phases, in the order [`resolve::resolve`] runs them (each module imports only those above it
//! in this list's lower part: `reference`, `scope`, `template`, `graph`, `ir`, `value`):
//! [`validate`] (static checks), `edge` (references checked, graph edges collected), `check`
//! (checks across services), [`graph`], `service` (lowering of services, with `file` for files
//! and templates and `value` for references), `secret` (lowering of secrets).

mod check;
mod edge;
mod file;
pub mod graph;
pub mod ir;
pub mod reference;
pub mod resolve;
mod scope;
mod secret;
mod service;
pub mod template;
pub mod validate;
mod value;

pub use ir::Ir;
pub use resolve::{compile, cross_environment_checks};
