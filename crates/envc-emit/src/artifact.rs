//! Artifacts (files a backend produces) and backend errors.

use std::fmt;

use envc_model::profile::Backend;

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
    /// The backend does not exist yet.
    Unsupported(Backend),
    /// The IR holds something the backend cannot express (model path, reason).
    NotRepresentable(String, String),
    /// Serialisation failed (a bug: the IR was already validated).
    Serialize(String),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Unsupported(b) => {
                write!(f, "the {} backend is not implemented yet", b.as_str())
            }
            EmitError::NotRepresentable(path, why) => write!(f, "{path}: {why}"),
            EmitError::Serialize(e) => write!(f, "failed to serialise an artifact: {e}"),
        }
    }
}

impl std::error::Error for EmitError {}
