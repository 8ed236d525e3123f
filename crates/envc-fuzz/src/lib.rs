//! A property and mutation fuzz harness for envc, on stable Rust.
//!
//! Seeds are the repository's own projects and artifacts ([`corpus`]); [`mutate`] changes
//! TOML and YAML as trees (odd scalars, dropped, renamed and duplicated keys, deep nesting,
//! subtrees grafted from other files) or as bytes; [`driver`] runs each case through the whole
//! model pipeline ([`pipeline`]: load, overlay, locks, validation, every backend) and the diff
//! extractors under `catch_unwind`, and checks each [`property`].

pub mod corpus;
pub mod driver;
pub mod mutate;
pub mod pipeline;
pub mod property;
pub mod rng;

pub use driver::{CaseFinding, Config, Report, run};
pub use property::{Finding, Property};
