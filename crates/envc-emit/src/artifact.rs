//! Artifacts (files a backend produces) and backend errors.

use std::fmt;

use envc_model::Diagnostics;

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to the artifact set's directory, `/` separated.
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

impl Artifact {
    /// A text artifact.
    pub fn text(path: impl Into<String>, text: impl Into<String>) -> Self {
        Artifact {
            path: path.into(),
            bytes: text.into().into_bytes(),
        }
    }
}

/// Why a backend could not produce artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmitError {
    /// The backend's checks ([`crate::check`]) refused the IR: the user's mistakes, each with
    /// the model path the caller locates in the loaded tree.
    Invalid(Diagnostics),
    /// The IR breaks an invariant that validation or the checks guarantee (model path, what):
    /// a bug in envc, never the answer to a user's mistake.
    NotRepresentable(String, String),
    /// Serialisation failed (a bug: the IR was already validated).
    Serialize(String),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Invalid(d) => {
                let all: Vec<String> = d
                    .iter()
                    .filter(|x| x.is_error())
                    .map(|x| match &x.path {
                        Some(p) => format!("{p}: {}", x.message),
                        None => x.message.clone(),
                    })
                    .collect();
                f.write_str(&all.join("; "))
            }
            EmitError::NotRepresentable(path, why) => write!(f, "{path}: {why}"),
            EmitError::Serialize(e) => write!(f, "failed to serialise an artifact: {e}"),
        }
    }
}

impl std::error::Error for EmitError {}
