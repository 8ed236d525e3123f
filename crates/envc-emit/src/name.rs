//! Names and keys every backend agrees on: how a secret reaches a container, how config files
//! are fingerprinted. Kept below the backends so that Compose, Kubernetes and Helm (and the
//! diff, which reads their artifacts back) spell them one way.

use envc_core::ir::Service;
use sha2::{Digest, Sha256};

/// The files of a Kubernetes set (manifests, chart templates) that hold the whole
/// environment, by stem, with what they hold: no service may be named like one (services are
/// written to `<service>.yaml` beside them).
pub const ENVIRONMENT_FILES: [(&str, &str); 6] = [
    (
        "kustomization",
        "the list of manifests `kubectl apply -k` applies",
    ),
    ("namespaces", "the namespaces and their quotas"),
    ("secrets", "the dev-tier Secrets"),
    ("volumes", "the claims of volumes several services mount"),
    ("ingress", "the Ingresses"),
    ("network-policies", "the NetworkPolicies"),
];

/// Key under which a secret's value is stored in its Kubernetes Secret.
pub const SECRET_KEY: &str = "value";

/// Annotation on pod templates (a label in Compose) with the hash of the service's config
/// files, so changing a file rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "envc.dev/config-hash";

/// Prefix of the helper variables that carry secrets into composite values.
pub const SECRET_VAR_PREFIX: &str = "ENVC_SECRET_";

/// Name of the pod volume that mounts a service's config files from its ConfigMap.
pub const FILES_VOLUME: &str = "envc-files";

/// Name of the init container that waits for a job to complete (the diff recognises it).
pub fn wait_container_name(job: &str) -> String {
    format!("{}{job}", envc_core::workload::WAIT_PREFIX)
}

/// Name of the Role (and its binding) that lets the services waiting for a job read it.
pub fn waiters_name(job: &str) -> String {
    format!("{job}-waiters")
}

/// Label of a Compose service that is an init step of another (its value names it).
pub const INIT_OF_LABEL: &str = "envc.dev/init-of";

/// Label of a Compose service that is a sidecar of another (its value names it).
pub const SIDECAR_OF_LABEL: &str = "envc.dev/sidecar-of";

/// Label of a Compose service that is a job (`job`), so a job nothing waits for is still read
/// back as one.
pub const WORKLOAD_LABEL: &str = "envc.dev/workload";

/// Label of a Compose service that Kubernetes runs on a schedule (its value is the schedule).
pub const SCHEDULE_LABEL: &str = "envc.dev/schedule";

/// Name of the ConfigMap that holds a service's config files.
pub fn config_map_name(service: &str) -> String {
    format!("{service}-files")
}

/// Name of a Deployment's claim for one of its persistent volumes (a StatefulSet's claims are
/// named by Kubernetes from the claim template: `<volume>-<service>-<ordinal>`).
pub fn claim_name(service: &str, volume: &str) -> String {
    format!("{service}-{volume}")
}

/// Name of the headless Service that gives a StatefulSet's pods their stable DNS names.
pub fn headless_name(service: &str) -> String {
    format!("{service}-headless")
}

/// Name of the helper variable that carries a secret into a composite value.
pub fn secret_var(secret: &str) -> String {
    format!(
        "{SECRET_VAR_PREFIX}{}",
        secret.to_ascii_uppercase().replace('-', "_")
    )
}

/// The Terraform variable that carries a secret (`TF_VAR_<name>` at apply time).
pub fn tf_secret_variable(secret: &str) -> String {
    secret.replace('-', "_")
}

/// The hash of a service's config files, for the pod template annotation.
pub fn config_hash(s: &Service) -> Option<String> {
    if s.files.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    for f in &s.files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.content.as_bytes());
        h.update([0]);
    }
    Some(
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// Whether `s` is a DNS subdomain name, as Kubernetes requires of most object names (Secrets,
/// issuers): lower-case alphanumerics, `-` and `.`, at most 253 characters, starting and ending
/// with an alphanumeric.
pub fn is_dns_subdomain(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.len() <= 253
        && s.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && s.starts_with(alnum)
        && s.ends_with(alnum)
}
