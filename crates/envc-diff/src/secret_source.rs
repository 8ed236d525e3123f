//! Secrets as named facts, whatever fills them: a Secret written in the set (a dev mode's
//! value), an External Secrets Operator `ExternalSecret` that fills it from a cloud store (a
//! prod mode with `[secrets_store]`), or nothing in the set (a Secret created at deploy time).
//! Each becomes one object `secret/<namespace>/<name>` with the lines `keys`, `consumers`
//! (the workloads that read it) and `source`, so a Secret fed by an ExternalSecret compares
//! as the same secret as a dev mode's, and only its source differs. No value is ever read
//! into them: the keys and the store's names are what is compared.

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value as Y;

use crate::docs::{at, ns, text};
use crate::facts::{Facts, ObjectFacts, Scope, Value};

/// The kind of the objects this module adds (`secret/<ns>/<name>`).
pub const KIND: &str = "secret";

/// What [`fold`] learns of one secret.
#[derive(Default)]
struct Seen {
    /// Keys the set defines (Secret data, ExternalSecret `secretKey`s).
    keys: BTreeSet<String>,
    /// Keys the workloads read, for a Secret the set does not define.
    read: BTreeSet<String>,
    consumers: BTreeSet<String>,
    /// Where the value comes from; `None`: nothing in the set writes it.
    source: Option<String>,
}

fn items<'a>(v: &'a Y, path: &[&str]) -> impl Iterator<Item = &'a Y> {
    at(v, path).and_then(Y::as_sequence).into_iter().flatten()
}

fn map_keys(v: &Y, path: &[&str]) -> Vec<String> {
    at(v, path)
        .and_then(Y::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.as_str().map(String::from))
        .collect()
}

/// The store product a store object reads, as people name it.
fn product(store: Option<&Y>) -> String {
    let Some(p) = store.and_then(|s| at(s, &["spec", "provider"]).and_then(Y::as_mapping)) else {
        return "an external store".into();
    };
    match p.iter().next().and_then(|(k, _)| k.as_str()) {
        Some("aws") => match store.and_then(|s| text(s, &["spec", "provider", "aws", "service"])) {
            Some("ParameterStore") => "AWS Systems Manager Parameter Store".into(),
            _ => "AWS Secrets Manager".into(),
        },
        Some("gcpsm") => "Google Secret Manager".into(),
        Some("azurekv") => "Azure Key Vault".into(),
        Some("vault") => "HashiCorp Vault".into(),
        Some(other) => format!("the `{other}` store"),
        None => "an external store".into(),
    }
}

/// Whether objects of `kind` have a pod spec ([`pod_spec`]), whose secrets they read.
pub(crate) fn has_pod_spec(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "CronJob"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
    )
}

/// The pod spec of a workload, if the object is one.
fn pod_spec(o: &Y) -> Option<&Y> {
    match text(o, &["kind"])? {
        "Pod" => at(o, &["spec"]),
        "CronJob" => at(o, &["spec", "jobTemplate", "spec", "template", "spec"]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => at(o, &["spec", "template", "spec"]),
        _ => None,
    }
}

/// The (secret, key) pairs a pod spec reads; a key of `None` reads every key.
fn reads(spec: &Y) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for list in ["containers", "initContainers"] {
        for c in items(spec, &[list]) {
            for e in items(c, &["env"]) {
                if let Some(n) = text(e, &["valueFrom", "secretKeyRef", "name"]) {
                    let k = text(e, &["valueFrom", "secretKeyRef", "key"]).map(String::from);
                    out.push((n.to_string(), k));
                }
            }
            for e in items(c, &["envFrom"]) {
                if let Some(n) = text(e, &["secretRef", "name"]) {
                    out.push((n.to_string(), None));
                }
            }
        }
    }
    for v in items(spec, &["volumes"]) {
        if let Some(n) = text(v, &["secret", "secretName"]) {
            out.push((n.to_string(), None));
        }
        for s in items(v, &["projected", "sources"]) {
            if let Some(n) = text(s, &["secret", "name"]) {
                out.push((n.to_string(), None));
            }
        }
    }
    out
}

/// A workload's read of a secret.
pub(crate) struct Consumer {
    namespace: String,
    workload: String,
    secret: String,
    /// The key read; `None` reads every key.
    key: Option<String>,
}

/// The secrets a workload reads (none for an object without a pod spec).
pub(crate) fn consumers(o: &Y) -> Vec<Consumer> {
    let Some(spec) = pod_spec(o) else {
        return Vec::new();
    };
    let workload = text(o, &["metadata", "name"]).unwrap_or_default();
    reads(spec)
        .into_iter()
        .map(|(secret, key)| Consumer {
            namespace: ns(o),
            workload: workload.to_string(),
            secret,
            key,
        })
        .collect()
}

/// Adds a `secret/<ns>/<name>` object to `facts` for every Secret the objects write, fill
/// through an ExternalSecret or read: the objects' own reads, and `read`, those of the set's
/// workloads that are not among `objs` (read one at a time, [`consumers`]).
pub(crate) fn fold(objs: &[&Y], read: Vec<Consumer>, facts: &mut Facts) {
    let mut seen: BTreeMap<(String, String), Seen> = BTreeMap::new();
    let stores: Vec<&Y> = objs
        .iter()
        .copied()
        .filter(|o| {
            matches!(
                text(o, &["kind"]),
                Some("SecretStore" | "ClusterSecretStore")
            )
        })
        .collect();
    for o in objs {
        let kind = text(o, &["kind"]).unwrap_or_default();
        let name = text(o, &["metadata", "name"]).unwrap_or_default();
        match kind {
            "Secret" => {
                let s = seen.entry((ns(o), name.to_string())).or_default();
                s.keys.extend(map_keys(o, &["data"]));
                s.keys.extend(map_keys(o, &["stringData"]));
                s.keys.extend(map_keys(o, &["binaryData"]));
                s.source.get_or_insert_with(|| "a Secret in the set".into());
            }
            "ExternalSecret" => {
                let target = text(o, &["spec", "target", "name"]).unwrap_or(name);
                let store_kind =
                    text(o, &["spec", "secretStoreRef", "kind"]).unwrap_or("SecretStore");
                let store_name = text(o, &["spec", "secretStoreRef", "name"]).unwrap_or_default();
                let store = stores.iter().copied().find(|s| {
                    text(s, &["kind"]) == Some(store_kind)
                        && text(s, &["metadata", "name"]) == Some(store_name)
                        && (store_kind == "ClusterSecretStore" || ns(s) == ns(o))
                });
                let s = seen.entry((ns(o), target.to_string())).or_default();
                let mut remote = Vec::new();
                for d in items(o, &["spec", "data"]) {
                    if let Some(k) = text(d, &["secretKey"]) {
                        s.keys.insert(k.to_string());
                    }
                    if let Some(r) = text(d, &["remoteRef", "key"]) {
                        remote.push(format!("`{r}`"));
                    }
                }
                s.source = Some(format!(
                    "{} {} through the External Secrets Operator ({store_kind}/{store_name})",
                    product(store),
                    remote.join(", ")
                ));
            }
            _ => {}
        }
    }
    let read = objs.iter().flat_map(|o| consumers(o)).chain(read);
    for Consumer {
        namespace,
        workload,
        secret,
        key,
    } in read
    {
        let s = seen.entry((namespace, secret)).or_default();
        s.consumers.insert(workload);
        s.read.extend(key);
    }
    for ((namespace, name), s) in seen {
        let keys = if s.keys.is_empty() { &s.read } else { &s.keys };
        let mut lines = BTreeMap::new();
        let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
        lines.insert("keys".to_string(), Value::Text(join(keys)));
        lines.insert("consumers".to_string(), Value::Text(join(&s.consumers)));
        lines.insert(
            "source".to_string(),
            Value::Text(
                s.source
                    .unwrap_or_else(|| "none in the set: created at deploy time".into()),
            ),
        );
        facts.objects.insert(
            format!("{KIND}/{namespace}/{name}"),
            ObjectFacts {
                kind: KIND.to_string(),
                scope: Scope::Secret,
                lines: std::sync::Arc::new(lines),
            },
        );
    }
}

/// One side of a comparison of two modes: its name, loaded files and IR.
pub struct Side<'a> {
    /// Mode name.
    pub mode: &'a str,
    /// The loaded mode (for the profile's lines).
    pub loaded: &'a envc_model::LoadedMode,
    /// Its IR (what it deploys, its store).
    pub ir: &'a envc_core::Ir,
}

/// Why a secret's line differs between two modes built from the model, with the profile
/// line that decides it: the source when a mode fills its Secrets from a store
/// (`[secrets_store]`) or the tiers differ, the consumers when a mode does not deploy a
/// service that reads it. `None` for any other difference.
pub fn expected(
    sides: [&Side<'_>; 2],
    sources: Option<&envc_model::Sources>,
    d: &crate::compare::Difference,
) -> Option<(String, Option<String>)> {
    use crate::key::Key;
    let object = d.service.strip_prefix(KIND)?.strip_prefix('/')?;
    let [a, b] = sides;
    let at = |side: &Side<'_>, path: &str| {
        sources.map(|s| s.file_line(side.loaded.origin_of_path(path)))
    };
    match &d.key {
        Key::ObjectField(line) if line == "source" => {
            let stores: Vec<_> = [a, b]
                .into_iter()
                .filter_map(|side| Some((side, side.ir.secrets_store.as_ref()?)))
                .collect();
            if let Some((side, store)) = stores.first() {
                let reason = if stores.len() == 2 {
                    "each mode fills its Secrets from its own store (secrets_store)".to_string()
                } else {
                    format!(
                        "the {} profile fills Secrets from {} (secrets_store)",
                        side.mode,
                        store.provider.title()
                    )
                };
                return Some((reason, at(side, "secrets_store.provider")));
            }
            let prod = [a, b]
                .into_iter()
                .find(|s| s.loaded.profile.profile.tier == envc_model::profile::Tier::Prod)?;
            (a.loaded.profile.profile.tier != b.loaded.profile.profile.tier).then(|| {
                (
                    format!(
                        "a secret: dev modes carry a dev value, prod modes ({}) a Secret created at deploy time",
                        prod.mode
                    ),
                    None,
                )
            })
        }
        Key::ObjectField(line) if line == "consumers" => {
            let list = |v: &Option<String>| -> BTreeSet<String> {
                v.as_deref()
                    .unwrap_or_default()
                    .split(", ")
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            };
            let (la, lb) = (list(&d.a), list(&d.b));
            let namespace = object.split('/').next().unwrap_or_default();
            // Every service read on one side only is one the other mode does not deploy there.
            let missing: Vec<(&String, &Side<'_>)> = la
                .difference(&lb)
                .map(|x| (x, b))
                .chain(lb.difference(&la).map(|x| (x, a)))
                .collect();
            let not_deployed = missing.iter().all(|(svc, side)| {
                side.ir
                    .service(svc)
                    .is_none_or(|s| !s.is_deployed() || s.namespace != namespace)
            });
            (!missing.is_empty() && not_deployed).then(|| {
                let names: Vec<String> = missing
                    .iter()
                    .map(|(svc, side)| format!("{svc} (not deployed in {})", side.mode))
                    .collect();
                (
                    format!(
                        "the readers follow what each mode deploys: {}",
                        names.join(", ")
                    ),
                    None,
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Format;

    fn facts(yaml: &str) -> Facts {
        let objs: Vec<Y> = yaml
            .split("\n---\n")
            .map(|d| yaml_serde::from_str(d).unwrap_or(Y::Null))
            .collect();
        let mut f = Facts::new("t", Format::Kubernetes);
        fold(&objs.iter().collect::<Vec<_>>(), Vec::new(), &mut f);
        f
    }

    fn line(f: &Facts, key: &str, line: &str) -> String {
        f.objects[key].lines[line].display()
    }

    const POD: &str = "kind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        env:\n        - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db-password, key: value}}\n";

    #[test]
    fn a_secret_filled_from_a_store_is_the_same_secret_with_another_source() {
        let dev = facts(&format!(
            "kind: Secret\nmetadata: {{name: db-password, namespace: shop}}\nstringData: {{value: hunter2}}\n---\n{POD}"
        ));
        let prod = facts(&format!(
            "kind: ClusterSecretStore\nmetadata: {{name: shop}}\nspec: {{provider: {{aws: {{service: SecretsManager, region: eu-west-1}}}}}}\n---\nkind: ExternalSecret\nmetadata: {{name: db-password, namespace: shop}}\nspec:\n  secretStoreRef: {{kind: ClusterSecretStore, name: shop}}\n  target: {{name: db-password}}\n  data:\n  - secretKey: value\n    remoteRef: {{key: shop/prod/db-password}}\n---\n{POD}"
        ));
        let k = "secret/shop/db-password";
        for l in ["keys", "consumers"] {
            assert_eq!(line(&dev, k, l), line(&prod, k, l), "{l}");
        }
        assert_eq!(line(&dev, k, "consumers"), "web");
        assert_eq!(line(&dev, k, "source"), "a Secret in the set");
        assert_eq!(
            line(&prod, k, "source"),
            "AWS Secrets Manager `shop/prod/db-password` through the External Secrets Operator (ClusterSecretStore/shop)"
        );
        // No value of the dev Secret is in any line.
        assert!(
            dev.objects[k]
                .lines
                .values()
                .all(|v| !v.display().contains("hunter2"))
        );
    }

    #[test]
    fn a_secret_only_read_is_created_at_deploy_time() {
        let f = facts(POD);
        let k = "secret/shop/db-password";
        assert_eq!(line(&f, k, "keys"), "value");
        assert_eq!(
            line(&f, k, "source"),
            "none in the set: created at deploy time"
        );
    }
}
