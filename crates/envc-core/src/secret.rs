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

/// Characters that end a token when looking for a secret value in a literal: whitespace and
/// the separators of URLs, assignments and lists (`user:pass@host`, `PASSWORD=x`, `a,b`), but
/// not `/`, `.`, `-` or `_`, which join the parts of paths and module names.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ':' | '@' | '=' | ',' | ';' | '&' | '?' | '\'' | '"' | '`'
        )
}

/// Whether a literal holds a secret's value: as the whole text or as a whole token of it, so
/// that a dev value that is a common word (`airflow`) is found in `airflow:airflow@db` but not
/// in `/opt/airflow/dags`. A value with separators inside is looked for anywhere.
pub(crate) fn holds_secret(text: &str, value: &str) -> bool {
    if value.len() < 4 {
        return false;
    }
    if text == value {
        return true;
    }
    if value.chars().any(is_separator) {
        return text.contains(value);
    }
    text.split(is_separator).any(|t| t == value)
}

/// The names of the secrets whose value a text holds ([`holds_secret`] for each), in the
/// order of `values`. A long text is split into its tokens once, not once per secret: rendered
/// files (a dashboard, a scrape configuration) are the longest texts checked.
pub(crate) fn secrets_held<'v>(text: &str, values: &'v SecretValues<'_>) -> Vec<&'v str> {
    const SPLIT_ONCE_FROM: usize = 256;
    if text.len() < SPLIT_ONCE_FROM || values.len() < 2 {
        return values
            .iter()
            .filter(|(_, v)| holds_secret(text, &v.value))
            .map(|(n, _)| *n)
            .collect();
    }
    // The same rules as `holds_secret`: a value with separators is looked for anywhere, any
    // other as a whole token (a text equal to such a value is one of its own tokens).
    let mut found: Vec<bool> = values
        .values()
        .map(|v| v.value.len() >= 4 && v.value.chars().any(is_separator) && text.contains(&v.value))
        .collect();
    let tokens: Vec<(usize, &str)> = values
        .values()
        .enumerate()
        .filter(|(_, v)| v.value.len() >= 4 && !v.value.chars().any(is_separator))
        .map(|(i, v)| (i, v.value.as_str()))
        .collect();
    if !tokens.is_empty() {
        for t in text.split(is_separator) {
            for (i, v) in &tokens {
                if t.len() == v.len() && t == *v {
                    found[*i] = true;
                }
            }
        }
    }
    values
        .keys()
        .zip(found)
        .filter(|(_, f)| *f)
        .map(|(n, _)| *n)
        .collect()
}

/// The shortest dev value that is not reported as weak.
pub const STRONG_DEV_VALUE: usize = 8;

/// A dev value that is short, or that is also a name in the model (the environment, a
/// namespace, a service, a literal env value such as a user name), is easy to guess and, since
/// it is only found as a whole token, hides where it is written inline.
pub(crate) fn warn_weak_dev_values(m: &LoadedMode, d: &mut Diagnostics) {
    if m.profile.profile.tier == Tier::Prod {
        return;
    }
    let model = &m.model;
    for (sname, s) in &model.secrets {
        let Some(v) = &s.dev_value else { continue };
        let named = if v.eq_ignore_ascii_case(&model.environment.name) {
            Some("the environment's name".to_string())
        } else if let Some(n) = model.namespaces.values().find(|n| n.name == *v) {
            Some(format!("the name of namespace `{}`", n.name))
        } else if model.services.contains_key(v) {
            Some(format!("the name of service `{v}`"))
        } else {
            model.services.iter().find_map(|(svc, x)| {
                x.env.iter().find_map(|(k, e)| {
                    matches!(e, ModelEnv::Text(t) if t == v)
                        .then(|| format!("the value of env `{k}` of `{svc}`"))
                })
            })
        };
        let why = match named {
            Some(n) => format!("is also {n}"),
            None if v.chars().count() < STRONG_DEV_VALUE => {
                format!("is shorter than {STRONG_DEV_VALUE} characters")
            }
            None => continue,
        };
        d.push(
            Diagnostic::warning(
                "W-weak-dev-value",
                format!("the dev value of secret `{sname}` {why}"),
            )
            .at(m.tree.origin_of(&["secrets", sname, "dev_value"]), "here")
            .hint("envc finds a secret written inline only where its whole value is a token, and a common or short value is easy to guess: use a longer, distinct dev value, or remove `dev_value` and let envc derive one"),
        );
    }
}

/// A secret no service names, enabled in this mode or not, is probably left over.
fn warn_unused(m: &LoadedMode, used: &[ir::Secret], d: &mut Diagnostics) {
    for sname in m.model.secrets.keys() {
        if !used.iter().any(|s| &s.name == sname)
            && !m.model.services.values().any(|s| {
                let steps = s.init.values().chain(s.sidecars.values());
                std::iter::once(&s.env)
                    .chain(steps.map(|st| &st.env))
                    .flat_map(|env| env.values())
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
    fn secret_values_are_found_as_whole_tokens() {
        assert!(holds_secret("airflow", "airflow"));
        assert!(holds_secret(
            "postgresql://airflow:airflow@db/airflow",
            "airflow"
        ));
        assert!(holds_secret("PASSWORD=hunter22 other", "hunter22"));
        assert!(!holds_secret("/opt/airflow/dags", "airflow"));
        assert!(!holds_secret("airflow.providers.celery", "airflow"));
        assert!(!holds_secret("xairflowx", "airflow"));
        // A value with separators inside is looked for anywhere.
        assert!(holds_secret(
            "say: correct horse battery!",
            "correct horse battery"
        ));
        // Values under 4 characters are never looked for.
        assert!(!holds_secret("a:abc@b", "abc"));
    }

    #[test]
    fn long_texts_find_the_same_secrets_as_one_secret_at_a_time() {
        let value = |v: &str| ir::SecretValue {
            value: v.to_string(),
            derived: false,
        };
        let values: SecretValues<'_> = [
            ("word", value("airflow")),
            ("phrase", value("correct horse battery")),
            ("short", value("abc")),
            ("absent", value("hunter22")),
            ("whole", value("x".repeat(300).as_str())),
        ]
        .into_iter()
        .collect();
        let padding = "/opt/airflow/dags airflow.providers ".repeat(10);
        let texts = [
            format!("{padding} url=airflow:pw@db say: correct horse battery! a:abc@b"),
            format!("{padding} xairflowx"),
            "x".repeat(300),
            "airflow".to_string(),
        ];
        for text in &texts {
            let one_at_a_time: Vec<&str> = values
                .iter()
                .filter(|(_, v)| holds_secret(text, &v.value))
                .map(|(n, _)| *n)
                .collect();
            assert_eq!(secrets_held(text, &values), one_at_a_time, "{text}");
        }
        assert_eq!(secrets_held(&texts[0], &values), ["word", "phrase"]);
        assert_eq!(secrets_held(&texts[1], &values), Vec::<&str>::new());
        assert_eq!(secrets_held(&texts[2], &values), ["whole"]);
    }

    #[test]
    fn derived_secrets_are_stable() {
        assert_eq!(derived_secret("a", "b"), derived_secret("a", "b"));
        assert_ne!(derived_secret("a", "b"), derived_secret("a", "c"));
    }
}
