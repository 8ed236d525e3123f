//! Promotion plans, gates and the promotion log of prod modes.
//!
//! What a lock holds, and building a mode through it, live below in `envc-lock`; this crate
//! decides what a promotion takes ([`selection`]), refuses unsafe ones ([`gate`]), shows what
//! it changes ([`plan`]) and writes locks and log entries keeping comments and layout
//! ([`edit`]).

pub mod edit;
pub mod gate;
pub mod plan;
pub mod selection;
pub mod store;

pub use plan::Plan;
pub use selection::Selection;
