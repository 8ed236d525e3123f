//! Release locks of prod modes: the lock format, releases and their hashes, and loading a mode
//! through its lock.
//!
//! A prod mode with a lock (`locks/<env>/<mode>.toml`) is built from what was promoted into it,
//! not from the current model. [`lock`] decodes and verifies lock files through envc-model's
//! located serde layer; [`release`] says what a mode runs and how two releases differ;
//! [`mode`] loads a mode through its lock, the step between loading the model and overlaying
//! the profile. Building (`envc build`, `check`, `list`, `diff`) and promotion
//! (`envc-promote`) both stand on this crate; it stands on envc-model alone.

pub mod lock;
pub mod mode;
pub mod release;

pub use lock::Lock;
pub use mode::{Applied, LockSource, Mode};
pub use release::{Change, Release};
