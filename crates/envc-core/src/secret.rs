//! Lowering of secrets: dev values (declared or derived), the secrets enabled services use
//! with the namespaces that need them, and warnings for secrets nothing uses and for dev values
//! a prod mode ignores.

use envc_model::load::LoadedMode;
use envc_model::model::EnvValue as ModelEnv;
use envc_model::profile::Tier;
use envc_model::{Diagnostic, Diagnostics};
use sha2::{Digest, Sha256};

use indexmap::IndexMap;

use crate::ir::{self, EnvValue, Segment};

/// Dev values of every secret, by name.
pub(crate) type SecretValues<'a> = IndexMap<&'a str, ir::SecretValue>;

/// Dev values of every secret: used as values in dev tiers, and for leak checks in every tier.
pub(crate) fn dev_values(m: &LoadedMode) -> SecretValues<'_> {
    m.model
        .secrets
        .iter()
        .map(|(n, s)| {
            let v = match &s.dev_value {
                Some(v) => ir::SecretValue {
                    value: v.clone(),
                    derived: false,
                },
                None => ir::SecretValue {
                    value: derived_secret(&m.env, n),
                    derived: true,
                },
            };
            (n.as_str(), v)
        })
        .collect()
}

/// The dev value of a secret without `dev_value`: derived from the names, so it is the same
/// on every machine and run, and never random.
pub fn derived_secret(env: &str, secret: &str) -> String {
    let h = Sha256::digest(format!("envc-dev-secret:{env}:{secret}").as_bytes());
    let hex: String = h.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("dev-{hex}")
}

/// The secrets the lowered `services` use, in declaration order, with their values in dev
/// tiers only; warnings go to `d`.
pub(crate) fn lower(
    m: &LoadedMode,
    services: &[ir::Service],
    values: &SecretValues<'_>,
    d: &mut Diagnostics,
) -> Vec<ir::Secret> {
    let tier = m.profile.profile.tier;
    let mut secrets = Vec::new();
    for (sname, s) in &m.model.secrets {
        let users: Vec<&ir::Service> = services
            .iter()
            .filter(|svc| svc.all_env().any(|e| uses_secret(&e.value, sname)))
            .collect();
        if users.is_empty() {
            continue;
        }
        let mut namespaces: Vec<String> = Vec::new();
        for u in &users {
            if !namespaces.contains(&u.namespace) {
                namespaces.push(u.namespace.clone());
            }
        }
        secrets.push(ir::Secret {
            name: sname.clone(),
            description: s.description.clone(),
            value: (tier == Tier::Dev)
                .then(|| values.get(sname.as_str()).cloned())
                .flatten(),
            namespaces,
            used_by: users.iter().map(|u| u.name.clone()).collect(),
        });
    }
    warn_unused(m, &secrets, d);
    if tier == Tier::Prod {
        warn_dev_values(m, &secrets, d);
    }
    secrets
}

/// A secret no service names, enabled in this mode or not, is probably left over.
fn warn_unused(m: &LoadedMode, used: &[ir::Secret], d: &mut Diagnostics) {
    for sname in m.model.secrets.keys() {
        if !used.iter().any(|s| &s.name == sname)
            && !m.model.services.values().any(|s| {
                s.env
                    .values()
                    .any(|v| matches!(v, ModelEnv::Secret(r) if &r.secret == sname))
            })
        {
            d.push(
                Diagnostic::warning(
                    "W-unused-secret",
                    format!("secret `{sname}` is not used by any service"),
                )
                .at(m.tree.key_origin_of(&["secrets", sname]), "unused")
                .hint("remove it, or reference it with { secret = \"…\" } or ${secret.…}"),
            );
        }
    }
}

/// Prod artifacts never carry secret values: a dev value there is ignored, say so.
fn warn_dev_values(m: &LoadedMode, used: &[ir::Secret], d: &mut Diagnostics) {
    for (sname, s) in &m.model.secrets {
        if s.dev_value.is_some() && used.iter().any(|u| &u.name == sname) {
            d.push(
                Diagnostic::warning(
                    "W-dev-secret-in-prod",
                    format!(
                        "secret `{sname}` has a dev value; prod mode `{}` ignores it",
                        m.mode
                    ),
                )
                .at(
                    m.tree.origin_of(&["secrets", sname, "dev_value"]),
                    "ignored in prod",
                )
                .hint("prod artifacts reference a Secret that you create at deploy time"),
            );
        }
    }
}

fn uses_secret(v: &EnvValue, name: &str) -> bool {
    match v {
        EnvValue::Secret(s) => s == name,
        EnvValue::Template(segs) => segs
            .iter()
            .any(|s| matches!(s, Segment::Secret(x) if x == name)),
        EnvValue::Text(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_secrets_are_stable() {
        assert_eq!(derived_secret("a", "b"), derived_secret("a", "b"));
        assert_ne!(derived_secret("a", "b"), derived_secret("a", "c"));
    }
}
