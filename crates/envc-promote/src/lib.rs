//! Release locks of prod modes, promotion plans, gates and the promotion log.
//!
//! A prod mode with a lock (`locks/<env>/<mode>.toml`) is built from what was promoted into it
//! ([`mode`]), not from the current model; [`release`] says what a mode runs and how two
//! releases differ; [`gate`] refuses unsafe promotions; [`plan`] shows what a promotion changes;
//! [`edit`] writes locks and log entries keeping comments and layout.

pub mod edit;
pub mod gate;
pub mod lock;
pub mod mode;
pub mod plan;
pub mod release;

pub use lock::Lock;
pub use mode::{LockSource, Mode};
pub use release::{Change, Release, Selection};
