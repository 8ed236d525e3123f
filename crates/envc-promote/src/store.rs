//! What a promotion asks of a mode's secret store (`[secrets_store]`): the secrets it adds
//! must hold a value in the store before the pods that read them can start, and nothing in
//! envc can put it there.

use envc_core::Ir;
use envc_emit::external_secrets::plan;

/// One plan note per secret the promotion adds to a mode that fills its Secrets from a cloud
/// store, naming the entry exactly; every secret when the store is new to the mode.
pub fn new_secrets(before: Option<&Ir>, after: &Ir) -> Vec<String> {
    let Some(store) = plan(after) else {
        return Vec::new();
    };
    let had: Vec<String> = before
        .and_then(plan)
        .map(|s| s.secrets.into_iter().map(|x| x.name).collect())
        .unwrap_or_default();
    store
        .secrets
        .iter()
        .filter(|s| !had.contains(&s.name))
        .map(|s| {
            format!(
                "secret `{}` is new to {}'s store: put its value into {} as `{}` before the pods that read it start (the README of out/{}/{} gives the command)",
                s.name,
                after.mode,
                store.provider().title(),
                s.remote_key,
                after.env,
                after.mode
            )
        })
        .collect()
}
