//! Secrets from a cloud store (`[secrets_store]` of a prod profile): the External Secrets
//! Operator objects that fill each Secret the chart references from AWS Secrets Manager or
//! Google Secret Manager, and the names every part agrees on (the store, its ServiceAccount
//! and cloud identity, each secret's name in the store). The chart, the Terraform root module
//! and the README read [`plan`], so a name is decided once.
//!
//! The store authenticates as a Kubernetes ServiceAccount bound to a cloud identity (IRSA on
//! EKS, Workload Identity on GKE) that Terraform creates with read access to exactly the
//! mode's secrets: no static credential exists anywhere.

use envc_core::Ir;
use envc_model::profile::{Backend, CloudSettings, Provider};
use envc_model::secrets_store::{SecretsStore, StoreProvider, StoreScope};
use envc_model::{Diagnostic, Diagnostics};
use serde_json::{Value, json};

use crate::cloud::identity_annotation;
use crate::labels::{self, Flavour};
use crate::name;

/// The API version of the External Secrets Operator kinds envc writes (ESO v0.17 and later).
pub const API_VERSION: &str = "external-secrets.io/v1";

/// Shortest refresh interval: each refresh is one read per secret, billed by the store.
const MIN_REFRESH_SECONDS: u32 = 60;

/// The store of a mode, with every name decided.
#[derive(Debug, Clone)]
pub struct Store<'a> {
    /// The profile's settings.
    pub settings: &'a SecretsStore,
    /// The mode's cloud.
    pub cloud: &'a CloudSettings,
    /// `ClusterSecretStore` or `SecretStore`.
    pub kind: &'static str,
    /// Name of the store object(s).
    pub name: String,
    /// Name of the ServiceAccount the store authenticates as.
    pub service_account: String,
    /// The cloud identity (IAM role name, Google service account id).
    pub identity: String,
    /// Namespaces holding that ServiceAccount (and, for `SecretStore`s, a store each).
    pub account_namespaces: Vec<String>,
    /// Namespaces with ExternalSecrets, in first-use order.
    pub namespaces: Vec<String>,
    /// The secrets the chart references, in declaration order.
    pub secrets: Vec<StoreSecret>,
}

/// One secret as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSecret {
    /// The model's name (and the Secret's, by default).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its name in the cloud store.
    pub remote_key: String,
    /// Namespaces whose pods read it.
    pub namespaces: Vec<String>,
}

impl Store<'_> {
    /// The ExternalSecrets' refresh interval as a Go duration, in its largest whole unit
    /// (`1h`, `90m`, `45s`).
    pub fn refresh(&self) -> String {
        let s = self.settings.refresh.seconds;
        match s {
            _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
            _ if s.is_multiple_of(60) => format!("{}m", s / 60),
            _ => format!("{s}s"),
        }
    }

    /// The store product.
    pub fn provider(&self) -> StoreProvider {
        self.settings.provider
    }

    /// `<namespace>:<service account>` of every ServiceAccount the identity trusts.
    pub fn trusted(&self) -> Vec<(String, String)> {
        self.account_namespaces
            .iter()
            .map(|ns| (ns.clone(), self.service_account.clone()))
            .collect()
    }
}

/// The cloud a store belongs to.
pub fn cloud_of(store: StoreProvider) -> Provider {
    match store {
        StoreProvider::AwsSecretsManager => Provider::Aws,
        StoreProvider::GcpSecretManager => Provider::Gcp,
    }
}

/// The store of a cloud.
pub fn store_of(cloud: Provider) -> StoreProvider {
    match cloud {
        Provider::Aws => StoreProvider::AwsSecretsManager,
        Provider::Gcp => StoreProvider::GcpSecretManager,
    }
}

/// The prefix of the mode's names in the store: the profile's, else one that names the
/// environment and mode in the store's own alphabet.
pub fn prefix(ir: &Ir, s: &SecretsStore) -> String {
    s.prefix.clone().unwrap_or_else(|| match s.provider {
        StoreProvider::AwsSecretsManager => format!("{}/{}/", ir.env, ir.mode),
        StoreProvider::GcpSecretManager => format!("{}-{}-", ir.env, ir.mode),
    })
}

fn store_name(ir: &Ir, s: &SecretsStore) -> String {
    s.name.clone().unwrap_or_else(|| ir.env.clone())
}

fn identity(ir: &Ir, s: &SecretsStore) -> String {
    s.identity
        .clone()
        .unwrap_or_else(|| format!("{}-{}-secrets", ir.env, ir.mode))
}

/// The mode's store, when its profile names one and the chart references secrets; `None`
/// otherwise (and for every mode that is not a Helm mode with a cloud, which [`check`]
/// refuses).
pub fn plan(ir: &Ir) -> Option<Store<'_>> {
    let settings = ir.secrets_store.as_ref()?;
    let cloud = ir.cloud.as_ref()?;
    if ir.backend != Backend::Helm {
        return None;
    }
    let prefix = prefix(ir, settings);
    let mut namespaces: Vec<String> = Vec::new();
    let mut secrets = Vec::new();
    for sec in &ir.secrets {
        let used_in: Vec<String> = ir
            .secret_namespaces(sec)
            .into_iter()
            .map(str::to_string)
            .collect();
        if used_in.is_empty() {
            continue;
        }
        for ns in &used_in {
            if !namespaces.contains(ns) {
                namespaces.push(ns.clone());
            }
        }
        secrets.push(StoreSecret {
            name: sec.name.clone(),
            description: sec.description.clone(),
            remote_key: format!("{prefix}{}", sec.name),
            namespaces: used_in,
        });
    }
    if secrets.is_empty() {
        return None;
    }
    let name = store_name(ir, settings);
    let account_namespaces = match settings.scope {
        StoreScope::Cluster => namespaces.iter().take(1).cloned().collect(),
        StoreScope::Namespace => namespaces.clone(),
    };
    Some(Store {
        settings,
        cloud,
        kind: settings.scope.kind(),
        service_account: format!("{name}-secrets-store"),
        name,
        identity: identity(ir, settings),
        account_namespaces,
        namespaces,
        secrets,
    })
}

/// What is wrong with the mode's `[secrets_store]`, each at the value to change.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(s) = &ir.secrets_store else {
        return d;
    };
    let err = |message: String, path: &str, hint: &str| {
        Diagnostic::error("E-secrets-store", message)
            .path(path)
            .hint(hint.to_string())
    };
    let cloud = ir.cloud.as_ref().filter(|_| ir.backend == Backend::Helm);
    let Some(cloud) = cloud else {
        d.push(err(
            format!(
                "`secrets_store` needs a helm mode with a [cloud]; mode `{}` is a {} mode",
                ir.mode,
                ir.backend.as_str()
            ),
            "secrets_store",
            "the store's entries and the identity that reads them are created by a helm mode's Terraform; dev modes keep their dev values in the Secrets envc writes, so remove `[secrets_store]` here",
        ));
        return d;
    };
    if cloud_of(s.provider) != cloud.provider {
        let right = store_of(cloud.provider);
        d.push(err(
            format!(
                "`{}` is not a store of the mode's cloud (`{}`)",
                s.provider.as_str(),
                cloud.provider.as_str()
            ),
            "secrets_store.provider",
            &format!(
                "the cluster reads the store with its own cloud identity: use `provider = \"{}\"` ({})",
                right.as_str(),
                right.title()
            ),
        ));
    }
    if s.refresh.seconds < MIN_REFRESH_SECONDS {
        d.push(err(
            format!(
                "a refresh every {} is too often",
                s.refresh
            ),
            "secrets_store.refresh",
            "each refresh reads every secret from the store, which bills and rate-limits reads; give at least `1m` (`1h` is usual: a rotated value reaches the pods at their next start anyway)",
        ));
    }
    if let Some(n) = &s.name
        && !name::is_dns_subdomain(n)
    {
        d.push(err(
            format!("`{n}` is not a Kubernetes object name"),
            "secrets_store.name",
            "lower-case letters, digits, `-` and `.`, at most 253 characters, starting and ending with a letter or digit",
        ));
    }
    d.extend(check_names(ir, s));
    d
}

/// The names the cloud accepts: secret names (prefix and key) and the identity.
fn check_names(ir: &Ir, s: &SecretsStore) -> Diagnostics {
    let mut d = Diagnostics::new();
    let prefix = prefix(ir, s);
    let (allowed, max, alphabet): (fn(char) -> bool, usize, &str) = match s.provider {
        StoreProvider::AwsSecretsManager => (
            |c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c),
            512,
            "letters, digits and `/_+=.@-`, at most 512 characters",
        ),
        StoreProvider::GcpSecretManager => (
            |c| c.is_ascii_alphanumeric() || "_-".contains(c),
            255,
            "letters, digits, `_` and `-` (no `/`), at most 255 characters",
        ),
    };
    let longest = ir.secrets.iter().map(|x| x.name.len()).max().unwrap_or(0);
    if !prefix.chars().all(allowed) || prefix.len() + longest > max {
        d.push(
            Diagnostic::error(
                "E-secrets-store",
                format!(
                    "secret names with prefix `{prefix}` are not names {} accepts",
                    s.provider.title()
                ),
            )
            .path(if s.prefix.is_some() {
                "secrets_store.prefix"
            } else {
                "secrets_store"
            })
            .hint(format!(
                "{} secret names are {alphabet}",
                s.provider.title()
            )),
        );
    }
    let id = identity(ir, s);
    let (ok, rule) = match s.provider {
        StoreProvider::AwsSecretsManager => (
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
            "an IAM role name is 1 to 64 letters, digits and `+=,.@_-`",
        ),
        StoreProvider::GcpSecretManager => (
            (6..=30).contains(&id.len())
                && id.starts_with(|c: char| c.is_ascii_lowercase())
                && id.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "a Google service account id is 6 to 30 lower-case letters, digits and `-`, starting with a letter",
        ),
    };
    if !ok {
        let (path, hint) = if s.identity.is_some() {
            ("secrets_store.identity", rule.to_string())
        } else {
            (
                "secrets_store",
                format!("{rule}: set `identity` to a shorter name"),
            )
        };
        d.push(
            Diagnostic::error(
                "E-secrets-store",
                format!("`{id}` cannot name the store's cloud identity"),
            )
            .path(path)
            .hint(hint),
        );
    }
    d
}

/// The fields of the objects a release may change: literal values for the rendered objects,
/// template placeholders for the chart.
pub struct Fields<'f> {
    /// The store's name.
    pub store_name: Value,
    /// The store's kind, as the ExternalSecrets name it.
    pub store_kind: Value,
    /// The ExternalSecrets' refresh interval.
    pub refresh: Value,
    /// A secret's (target Secret, key in it, name in the store), by the secret's name.
    pub secret: &'f dyn Fn(&str) -> [Value; 3],
}

/// The ServiceAccount the store authenticates as in `ns`, bound to the cloud identity; it
/// mounts no token (the operator requests one for it).
pub fn service_account(ir: &Ir, st: &Store, ns: &str) -> Value {
    let (k, v) = identity_annotation(st.cloud, &st.identity);
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": st.service_account,
            "namespace": ns,
            "labels": labels::environment_in(ir, Flavour::Chart),
            "annotations": {k: v},
        },
        "automountServiceAccountToken": false,
    })
}

/// The store object: a `ClusterSecretStore` open to the environment's namespaces only, or the
/// `SecretStore` of namespace `ns`.
pub fn store_object(ir: &Ir, st: &Store, ns: Option<&str>, f: &Fields) -> Value {
    let mut account = json!({"name": st.service_account});
    if st.settings.scope == StoreScope::Cluster
        && let Some(home) = st.account_namespaces.first()
    {
        account["namespace"] = json!(home);
    }
    let provider = match st.provider() {
        StoreProvider::AwsSecretsManager => json!({"aws": {
            "service": "SecretsManager",
            "region": st.cloud.region,
            "auth": {"jwt": {"serviceAccountRef": account}},
        }}),
        StoreProvider::GcpSecretManager => json!({"gcpsm": {
            "projectID": st.cloud.account,
            "auth": {"workloadIdentity": {
                "clusterLocation": st.cloud.region,
                "clusterName": st.cloud.cluster_name,
                "clusterProjectID": st.cloud.account,
                "serviceAccountRef": account,
            }},
        }}),
    };
    let mut spec = json!({"provider": provider});
    let mut metadata = json!({
        "name": f.store_name,
        "labels": labels::environment_in(ir, Flavour::Chart),
    });
    match ns {
        Some(ns) => metadata["namespace"] = json!(ns),
        None => spec["conditions"] = json!([{"namespaces": st.namespaces}]),
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": st.kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// The ExternalSecret that fills secret `sec`'s Secret in `ns` (key `value`) from the store.
/// The operator owns the Secret it creates; a secret deleted in the store leaves the last
/// value in place.
pub fn external_secret(ir: &Ir, sec: &StoreSecret, ns: &str, f: &Fields) -> Value {
    let [target, key, remote] = (f.secret)(&sec.name);
    let mut labels = labels::environment_in(ir, Flavour::Chart);
    labels.insert("envc.dev/secret".into(), sec.name.clone());
    json!({
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": sec.name, "namespace": ns, "labels": labels},
        "spec": {
            "refreshInterval": f.refresh,
            "secretStoreRef": {"kind": f.store_kind, "name": f.store_name},
            "target": {"name": target, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [{"secretKey": key, "remoteRef": {"key": remote}}],
        },
    })
}

/// Every object of the store in chart order: the ServiceAccounts, the store(s), then one
/// ExternalSecret per secret and namespace. `with_store` is false when the release uses a
/// store of its own.
pub fn objects(ir: &Ir, st: &Store, f: &Fields, with_store: bool) -> Vec<Value> {
    let mut out = Vec::new();
    if with_store {
        for ns in &st.account_namespaces {
            out.push(service_account(ir, st, ns));
        }
        match st.settings.scope {
            StoreScope::Cluster => out.push(store_object(ir, st, None, f)),
            StoreScope::Namespace => {
                for ns in &st.account_namespaces {
                    out.push(store_object(ir, st, Some(ns), f));
                }
            }
        }
    }
    for sec in &st.secrets {
        for ns in &sec.namespaces {
            out.push(external_secret(ir, sec, ns, f));
        }
    }
    out
}
