//! Validation, the dependency graph, reference resolution, and the per-mode IR.
//!
//! [`compile`] takes a loaded mode (model plus profile) and returns the [`ir::Ir`] every backend
//! consumes, or every diagnostic found: it reads the files the mode names
//! (`envc_model::asset::read`), then runs [`resolve::resolve`], which touches no file. The
//! phases, in the order `resolve` runs them: [`validate`] (static checks), `edge` (references
//! checked, graph edges collected), `check` (checks across services), [`graph`], `service`
//! (lowering of services, with `value` for references and `file` for files and templates),
//! `secret` (lowering of secrets), `check` again over the lowered services. Phases import the
//! modules below them (`scope`, [`reference`], [`template`], [`ir`]), never each other both
//! ways.

pub mod address;
mod check;
mod edge;
mod file;
pub mod graph;
pub mod ir;
pub mod limits;
pub mod reference;
pub mod resolve;
mod scope;
mod secret;
mod service;
pub mod template;
pub mod validate;
mod value;
pub mod workload;

pub use ir::Ir;
pub use resolve::{compile, cross_environment_checks};
