//! The JSON Schemas of environment and profile files (`envc schema`): derived from the model's
//! types, with the [`crate::correction`]s that make them accept every file envc accepts (a CLI
//! test validates every committed environment and profile against them).

use schemars::Schema;

use crate::model::EnvironmentFile;
use crate::profile::ProfileFile;

/// The schema of environment files (`environments/<env>.toml`).
pub fn environment() -> Schema {
    let mut s = schemars::schema_for!(EnvironmentFile);
    crate::correction::partial_services(&mut s);
    s
}

/// The schema of profile files (`profiles/<mode>.toml`): the mode's settings.
pub fn profile() -> Schema {
    schemars::schema_for!(ProfileFile)
}
