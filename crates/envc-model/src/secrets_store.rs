//! `[secrets_store]` of a prod profile: the cloud secret store (AWS Secrets Manager, Google
//! Secret Manager) the External Secrets Operator fills the mode's Secrets from. The backend
//! checks what depends on the rest of the mode (the cloud it names, the names the cloud
//! accepts); decoding checks each value alone.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::quantity::Duration;

/// Where the secret values of a prod mode live, and how the cluster reads them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct SecretsStore {
    /// The cloud's secret store: it must be the store of `cloud.provider`.
    pub provider: StoreProvider,
    /// `cluster`: one `ClusterSecretStore` that only the environment's namespaces may use;
    /// `namespace`: a `SecretStore` in every namespace that has secrets.
    #[serde(default)]
    pub scope: StoreScope,
    /// Prefix of every secret's name in the store (`crypto-lakehouse/prod/`); by default
    /// `<env>/<mode>/` in AWS Secrets Manager and `<env>-<mode>-` in Google Secret Manager
    /// (whose names cannot hold `/`). Set outside `[environments.<env>]`, it is shared by
    /// every environment of the mode.
    #[serde(default)]
    pub prefix: Option<String>,
    /// How often the operator reads the store again, so a rotated value reaches the Secret
    /// (the pods read it at their next start).
    #[serde(default = "hour")]
    pub refresh: Duration,
    /// Name of the store object (and of its ServiceAccount, with `-secrets-store`); the
    /// environment's name by default.
    #[serde(default)]
    pub name: Option<String>,
    /// The cloud identity the store authenticates as, created by Terraform: the IAM role
    /// name (IRSA) or the Google service account id (Workload Identity); by default
    /// `<env>-<mode>-secrets`.
    #[serde(default)]
    pub identity: Option<String>,
}

fn hour() -> Duration {
    Duration { seconds: 3600 }
}

/// A cloud secret store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StoreProvider {
    /// AWS Secrets Manager, read through IRSA.
    AwsSecretsManager,
    /// Google Secret Manager, read through GKE Workload Identity.
    GcpSecretManager,
}

impl StoreProvider {
    /// The name used in profiles and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreProvider::AwsSecretsManager => "aws-secrets-manager",
            StoreProvider::GcpSecretManager => "gcp-secret-manager",
        }
    }

    /// The product's name, for people.
    pub fn title(self) -> &'static str {
        match self {
            StoreProvider::AwsSecretsManager => "AWS Secrets Manager",
            StoreProvider::GcpSecretManager => "Google Secret Manager",
        }
    }
}

/// Which store object the operator reads through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreScope {
    /// One `ClusterSecretStore`, restricted to the environment's namespaces.
    Cluster,
    /// A `SecretStore` in each namespace that has secrets.
    #[default]
    Namespace,
}

impl StoreScope {
    /// The External Secrets Operator kind of the store.
    pub fn kind(self) -> &'static str {
        match self {
            StoreScope::Cluster => "ClusterSecretStore",
            StoreScope::Namespace => "SecretStore",
        }
    }
}
