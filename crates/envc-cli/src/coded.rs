//! Errors of the binary itself (writing `out/`, command-line arguments) with a code and a
//! hint, like the diagnostics of the libraries: they travel in `anyhow` chains and `main`
//! renders them.

use std::fmt;

/// An error with its code and hint.
#[derive(Debug, Clone)]
pub struct Coded {
    /// Stable code (`E-write`), listed in docs/errors.md.
    pub code: &'static str,
    /// What failed: "failed to X: cause".
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// A [`Coded`] error as an `anyhow::Error`.
pub fn coded(
    code: &'static str,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
        hint: hint.into(),
    })
}

/// The code and hint of an error: its own when it is [`Coded`] (anywhere in the chain),
/// else `fallback`'s, which each command gives for what it reads and writes.
pub fn code_of<'a>(e: &'a anyhow::Error, fallback: &'a Coded) -> (&'a str, &'a str) {
    match e.chain().find_map(|c| c.downcast_ref::<Coded>()) {
        Some(c) => (c.code, &c.hint),
        None => (fallback.code, &fallback.hint),
    }
}
