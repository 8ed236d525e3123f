//! Source files, spans, diagnostics, and the serde model of environments and profiles.
//!
//! The loader parses TOML into a [`node::Node`] tree that keeps the origin (file and byte span)
//! of every value, overlays the profile chain onto the environment while keeping those origins
//! (provenance), and decodes the merged tree into the typed [`model`].

pub mod asset;
pub mod correction;
pub mod cron;
pub mod de;
pub mod diagnostic;
pub mod extends;
pub mod gateway;
pub mod load;
pub mod model;
pub mod monitoring;
pub mod node;
pub mod profile;
pub mod quantity;
pub mod release;
pub mod schema;
pub mod secrets_store;
pub mod source;
pub mod style;

pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use load::{Failure, LoadedMode, Project};
pub use node::{Node, NodeValue};
pub use source::{FileId, Origin, SourceFile, Sources, Span};
