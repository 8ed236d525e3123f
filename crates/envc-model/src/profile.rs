//! Profiles: what a deployment mode is (backend, tier, backend settings) and what it overrides.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::quantity::{Bytes, Cpu, Duration};

/// Keys of a profile file that overlay the environment model (same shape as an environment
/// file). Everything else in a profile is a setting of the mode.
pub const OVERLAY_KEYS: [&str; 5] = [
    "environment",
    "namespaces",
    "secrets",
    "services",
    "volumes",
];

/// Key of a profile file holding overlays scoped to one environment:
/// `[environments.<env>.services.minio]`.
pub const SCOPED_OVERLAY_KEY: &str = "environments";

/// A profile's settings (after its `extends` chain is merged).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct ProfileFile {
    /// What the mode is.
    pub profile: ProfileSettings,
    /// Settings for Kubernetes-based backends (`kubernetes`, `helm`).
    #[serde(default)]
    pub kubernetes: KubernetesSettings,
    /// Settings for the Compose backend.
    #[serde(default)]
    pub compose: ComposeSettings,
    /// The cloud the mode deploys to (prod Helm modes): cluster, zones, node pools, workload
    /// identities. Terraform variables and placement come from it.
    #[serde(default)]
    pub cloud: Option<CloudSettings>,
    /// What a promotion into this (prod) mode must satisfy (`envc promote`).
    #[serde(default)]
    pub promotion: PromotionSettings,
    /// GitOps controllers that deploy this mode's committed artifacts from the repository
    /// (Argo CD, Flux): envc writes their objects under `gitops/`.
    #[serde(default)]
    pub gitops: Option<GitOpsSettings>,
    /// The cloud secret store the mode's Secrets are filled from (External Secrets Operator).
    #[serde(default)]
    pub secrets_store: Option<crate::secrets_store::SecretsStore>,
}

/// Where the controllers find the artifacts, and which controllers to write objects for.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct GitOpsSettings {
    /// Git URL of the repository that holds this project (`https://...`, `ssh://...` or
    /// `git@host:org/repo.git`).
    pub repository: GitUrl,
    /// Branch the controllers follow.
    #[serde(default = "main_branch")]
    pub branch: String,
    /// The project's folder in the repository (the one holding `out/`), relative to its root.
    #[serde(default)]
    pub directory: RepoPath,
    /// Write an Argo CD `Application` for the mode.
    #[serde(default)]
    pub argocd: Option<ArgoCdSettings>,
    /// Write a Flux `GitRepository` and a `Kustomization` (manifests) or `HelmRelease` (chart).
    #[serde(default)]
    pub flux: Option<FluxSettings>,
}

/// The Argo CD `Application`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct ArgoCdSettings {
    /// Namespace Argo CD runs in (where Applications live).
    #[serde(default = "argocd_namespace")]
    pub namespace: String,
    /// Argo CD project.
    #[serde(default = "argocd_project")]
    pub project: String,
    /// Sync on every commit, prune what the artifacts no longer hold, undo hand edits.
    #[serde(default = "yes")]
    pub auto_sync: bool,
}

/// The Flux objects.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct FluxSettings {
    /// Namespace the Flux controllers run in.
    #[serde(default = "flux_namespace")]
    pub namespace: String,
    /// How often Flux fetches the repository and reconciles.
    #[serde(default = "flux_interval")]
    pub interval: Duration,
}

fn main_branch() -> String {
    "main".into()
}

fn argocd_namespace() -> String {
    "argocd".into()
}

fn argocd_project() -> String {
    "default".into()
}

fn flux_namespace() -> String {
    "flux-system".into()
}

fn flux_interval() -> Duration {
    Duration { seconds: 300 }
}

/// A Git repository URL the controllers can clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl(pub String);

const GIT_URL_EXPECTED: &str =
    "a Git URL: https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git";

impl GitUrl {
    /// Whether `text` is a URL Argo CD and Flux clone: https or ssh, a host, a path, no
    /// credentials in it (they belong in the controllers' repository secrets).
    pub fn parse(text: &str) -> Option<GitUrl> {
        if text.contains(char::is_whitespace) {
            return None;
        }
        // (user and host, path): `https://host/path`, `ssh://[user@]host/path`, `user@host:path`.
        let (authority, path, user_allowed) = if let Some(r) = text.strip_prefix("https://") {
            let (a, p) = r.split_once('/')?;
            (a, p, false)
        } else if let Some(r) = text.strip_prefix("ssh://") {
            let (a, p) = r.split_once('/')?;
            (a, p, true)
        } else if text.contains('@') && !text.contains("://") {
            let (a, p) = text.split_once(':')?;
            (a, p, true)
        } else {
            return None;
        };
        let host = match authority.rsplit_once('@') {
            // A user name (`git@`) is how SSH logs in; a password or token never belongs here.
            Some((user, host)) if user_allowed && !user.is_empty() && !user.contains(':') => host,
            Some(_) => return None,
            None => authority,
        };
        let ok = !host.is_empty() && !path.is_empty() && !host.starts_with(':');
        ok.then(|| GitUrl(text.to_string()))
    }
}

impl<'de> Deserialize<'de> for GitUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let authority = text
            .split_once("://")
            .map_or("", |(_, r)| r.split('/').next().unwrap_or(""));
        if authority.contains('@')
            && (text.starts_with("https://")
                || authority.split('@').next().is_some_and(|u| u.contains(':')))
        {
            return Err(serde::de::Error::custom(format!(
                "{}the repository URL holds a password or token\ngive the controllers their credentials in their repository secret (Argo CD) or `secretRef` (Flux), and name the repository without them",
                crate::de::SECRET_VALUE
            )));
        }
        GitUrl::parse(&text).ok_or_else(|| {
            serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &GIT_URL_EXPECTED)
        })
    }
}

impl JsonSchema for GitUrl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GitUrl".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": GIT_URL_EXPECTED,
            "type": "string",
            "pattern": "^(https://[^@/\\s]+/\\S+|ssh://([^:@/\\s]+@)?[^@/\\s]+/\\S+|[^:@/\\s]+@[^:/\\s]+:\\S+)$"
        })
    }
}

/// A folder inside the repository: relative, `/`-separated, never leaving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPath(pub String);

impl Default for RepoPath {
    fn default() -> Self {
        RepoPath(".".into())
    }
}

const REPO_PATH_EXPECTED: &str =
    "a folder relative to the repository's root (`.` or `platform/envc`), without `..`";

impl RepoPath {
    /// The folder, normalised (`./a/` is `a`), if it stays inside the repository.
    pub fn parse(text: &str) -> Option<RepoPath> {
        if text.starts_with('/') || text.contains('\\') {
            return None;
        }
        let parts: Vec<&str> = text
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.contains(&"..") {
            return None;
        }
        Some(RepoPath(if parts.is_empty() {
            ".".into()
        } else {
            parts.join("/")
        }))
    }

    /// `rest` under this folder (`out/x` or `platform/out/x`).
    pub fn join(&self, rest: &str) -> String {
        if self.0 == "." {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.0)
        }
    }
}

impl<'de> Deserialize<'de> for RepoPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        RepoPath::parse(&text).ok_or_else(|| {
            serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &REPO_PATH_EXPECTED)
        })
    }
}

impl JsonSchema for RepoPath {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RepoPath".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": REPO_PATH_EXPECTED,
            "type": "string"
        })
    }
}

/// Conditions `envc promote` checks before it lets a release into a prod mode.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct PromotionSettings {
    /// Modes this one may be promoted from (its path to production); any mode when empty.
    #[serde(default)]
    pub from: Vec<String>,
    /// Fewest replicas (the autoscaling minimum when autoscaled) per service.
    #[serde(default)]
    pub min_replicas: IndexMap<String, u32>,
    /// Services that must be covered by a PodDisruptionBudget.
    #[serde(default)]
    pub require_pdb: Vec<String>,
    /// Whether every deployed service must set CPU and memory limits.
    #[serde(default)]
    pub require_limits: bool,
    /// Whether every namespace must have a ResourceQuota.
    #[serde(default)]
    pub require_quota: bool,
}

/// What the mode is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(transform = crate::correction::profile_settings)]
pub struct ProfileSettings {
    /// One line saying what this mode is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Another profile this one starts from (its settings and overlays apply first).
    #[serde(default)]
    pub extends: Option<String>,
    /// Which backend compiles this mode.
    pub backend: Backend,
    /// `dev` modes follow the model at once and may carry dev secret values; `prod` modes never
    /// carry secret values and refuse unpinned images.
    pub tier: Tier,
}

/// A backend: how a mode's artifacts are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Plain Kubernetes manifests with a `kustomization.yaml` (`kubectl apply -k`).
    Kubernetes,
    /// A Compose file (`docker compose up`).
    Compose,
    /// A Helm chart with values, plus Terraform variables for the cluster.
    Helm,
}

impl Backend {
    /// The name used in profiles and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Kubernetes => "kubernetes",
            Backend::Compose => "compose",
            Backend::Helm => "helm",
        }
    }

    /// Whether the backend targets Kubernetes.
    pub fn is_kubernetes(self) -> bool {
        matches!(self, Backend::Kubernetes | Backend::Helm)
    }
}

/// A tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Development: local, dev secret values allowed.
    Dev,
    /// Production: no secret values, pinned images only.
    Prod,
}

impl Tier {
    /// The name used in profiles and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Dev => "dev",
            Tier::Prod => "prod",
        }
    }
}

/// Settings for Kubernetes-based backends.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct KubernetesSettings {
    /// Kubernetes version the artifacts target (`"1.33"`); validators check against it.
    #[serde(default)]
    pub version: Option<String>,
    /// Storage class for persistent volumes that do not name one.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// `ingressClassName` of Ingresses.
    #[serde(default)]
    pub ingress_class: Option<String>,
    /// Annotations on every Ingress.
    #[serde(default)]
    pub ingress_annotations: IndexMap<String, String>,
    /// Namespace of the ingress controller's pods, allowed in by NetworkPolicies.
    #[serde(default)]
    pub ingress_controller_namespace: Option<String>,
    /// HTTPS on the mode's Ingresses: where the certificate comes from. Without it the
    /// Ingresses serve plain HTTP (dev modes).
    #[serde(default)]
    pub tls: Option<IngressTls>,
    /// Routes as Gateway API `HTTPRoute`s on an existing Gateway, instead of Ingresses.
    #[serde(default)]
    pub gateway: Option<crate::gateway::GatewayRef>,
    /// Whether ports with `node_port` become NodePort Services (else ClusterIP).
    #[serde(default = "yes")]
    pub node_ports: bool,
    /// Lowest and highest NodePort the cluster allows.
    #[serde(default = "node_port_range")]
    pub node_port_range: [u16; 2],
    /// `imagePullPolicy` of containers.
    #[serde(default)]
    pub image_pull_policy: Option<String>,
    /// Access mode of the claims of `access = "shared"` volumes: `ReadWriteMany` (the default,
    /// for clusters of several nodes with a storage class that supports it), or
    /// `ReadWriteOnce` on a single-node cluster, where every pod runs on the one node.
    #[serde(default)]
    pub shared_volume_access: Option<String>,
    /// Where the project's checkout is on the node (`/srv/checkout`), which makes bind mounts
    /// (`source = "./dags"`) `hostPath` volumes under it; without it a Kubernetes mode refuses
    /// them.
    #[serde(default)]
    pub host_path_root: Option<String>,
    /// Image of the init containers that wait for jobs (`kubectl wait`); by default
    /// `registry.k8s.io/kubectl` at the targeted Kubernetes version.
    #[serde(default)]
    pub wait_image: Option<String>,
    /// The cluster runs the Prometheus Operator: envc writes PodMonitors and PrometheusRules
    /// for it ([`crate::monitoring`]).
    #[serde(default)]
    pub prometheus_operator: Option<crate::monitoring::PrometheusOperatorSettings>,
}

/// Where an Ingress's certificate comes from: exactly one of a cert-manager issuer, an
/// existing TLS Secret, or AWS Certificate Manager.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct IngressTls {
    /// A cert-manager issuer that issues a certificate for every host of each Ingress (into the
    /// Secret `<env>-tls` of its namespace).
    #[serde(default)]
    pub cert_manager_issuer: Option<String>,
    /// Whether that issuer is a `ClusterIssuer` (the default) or a namespaced `Issuer`.
    #[serde(default)]
    pub issuer_kind: IssuerKind,
    /// An existing TLS Secret, in every namespace that has an Ingress, that covers its hosts
    /// (a wildcard certificate).
    #[serde(default)]
    pub secret: Option<String>,
    /// AWS Certificate Manager (the `alb` ingress class): Terraform requests one certificate
    /// for every ingress host, and the AWS Load Balancer Controller finds it by host.
    #[serde(default)]
    pub acm: bool,
}

/// The kind of a cert-manager issuer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum IssuerKind {
    /// A cluster-wide `ClusterIssuer`.
    #[default]
    ClusterIssuer,
    /// An `Issuer` in the Ingress's namespace.
    Issuer,
}

/// Kubernetes version assumed when a profile names none.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.34";

impl KubernetesSettings {
    /// The image of the containers that wait for jobs: the profile's, else the kubectl
    /// release image of the targeted version (`registry.k8s.io/kubectl:v1.34.0`).
    pub fn wait_image(&self) -> String {
        self.wait_image.clone().unwrap_or_else(|| {
            let v = self
                .version
                .as_deref()
                .unwrap_or(DEFAULT_KUBERNETES_VERSION);
            format!("registry.k8s.io/kubectl:v{v}.0")
        })
    }
}

impl Default for KubernetesSettings {
    fn default() -> Self {
        KubernetesSettings {
            version: None,
            storage_class: None,
            ingress_class: None,
            ingress_annotations: IndexMap::new(),
            ingress_controller_namespace: None,
            tls: None,
            gateway: None,
            node_ports: true,
            node_port_range: node_port_range(),
            image_pull_policy: None,
            wait_image: None,
            shared_volume_access: None,
            host_path_root: None,
            prometheus_operator: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn node_port_range() -> [u16; 2] {
    [30000, 32767]
}

/// Settings for the Compose backend.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct ComposeSettings {
    /// Compose project name; the environment name when absent.
    #[serde(default)]
    pub project_name: Option<String>,
    /// Restart policy of every service (`unless-stopped` when absent).
    #[serde(default)]
    pub restart: Option<String>,
}

/// A cloud provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Amazon Web Services (EKS, EBS, ALB, RDS, ElastiCache, IRSA).
    Aws,
    /// Google Cloud (GKE, Persistent Disk, GCE ingress, Cloud SQL, Memorystore, Workload
    /// Identity).
    Gcp,
}

impl Provider {
    /// The name used in profiles and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
        }
    }
}

/// The cloud a mode deploys to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct CloudSettings {
    /// Cloud provider.
    pub provider: Provider,
    /// Cluster name.
    pub cluster_name: String,
    /// Region (`eu-west-1`, `europe-west1`).
    pub region: String,
    /// Zones the cluster's nodes run in; replicated services spread over them.
    pub zones: Vec<String>,
    /// AWS account id or GCP project id: workload identities are named in it.
    pub account: String,
    /// Address ranges load balancers reach pods from (the VPC on AWS with `ip` targets,
    /// Google's front ends and health checkers on GCP); NetworkPolicies admit them on ingress
    /// ports.
    #[serde(default)]
    pub load_balancer_cidrs: Vec<String>,
    /// Extra capacity on top of the workloads' requests when sizing node pools, in percent
    /// (rolling updates, DaemonSets, bin-packing loss).
    #[serde(default = "headroom")]
    pub headroom_percent: u32,
    /// Node pools (node groups) by name. Services run on the first unless a pool lists them.
    pub node_pools: IndexMap<String, NodePool>,
    /// Cloud identities of services, by service name: the IAM role (AWS) or Google service
    /// account (GCP) name, created by Terraform and bound to the service's ServiceAccount.
    #[serde(default)]
    pub identities: IndexMap<String, String>,
    /// Whether Terraform creates the default storage class (EKS ships only gp2; GKE has
    /// premium-rwo and standard-rwo already).
    #[serde(default)]
    pub create_storage_class: bool,
}

fn headroom() -> u32 {
    25
}

/// A node pool (EKS managed node group, GKE node pool).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct NodePool {
    /// Instance type (`m6i.xlarge`) or machine type (`e2-standard-4`).
    pub machine_type: String,
    /// CPU a node offers to pods (allocatable: capacity minus what the kubelet and system
    /// DaemonSets reserve).
    pub cpu: Cpu,
    /// Memory a node offers to pods (allocatable).
    pub memory: Bytes,
    /// Root disk size of each node.
    #[serde(default = "disk")]
    pub disk: Bytes,
    /// Fewest nodes; at least one per zone when absent.
    #[serde(default)]
    pub min_nodes: Option<u32>,
    /// Services placed on this pool (node selector, and tolerations for its taints).
    #[serde(default)]
    pub services: Vec<String>,
    /// Node labels.
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// Node taints: `key=value:Effect` (`dedicated=storage:NoSchedule`) or `key:Effect`.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// A node taint, decoded from `key=value:Effect` or `key:Effect`: the one place taints are
/// parsed, so a malformed taint is a decode error at its file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key (`dedicated`).
    pub key: String,
    /// Value (`storage`); `None` for `key:Effect`, which tolerations match with `Exists`.
    pub value: Option<String>,
    /// Effect.
    pub effect: TaintEffect,
}

/// What a taint does to pods that do not tolerate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaintEffect {
    /// New pods are not scheduled on the node.
    NoSchedule,
    /// The scheduler avoids the node.
    PreferNoSchedule,
    /// Running pods are evicted too.
    NoExecute,
}

/// What a taint looks like, for messages and the schema.
const TAINT_EXPECTED: &str = "a taint `key=value:Effect` or `key:Effect` with Effect NoSchedule, PreferNoSchedule or NoExecute";

impl TaintEffect {
    /// The effect as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

impl Taint {
    /// Parses `key=value:Effect` or `key:Effect`; `None` when the text is neither.
    pub fn parse(text: &str) -> Option<Taint> {
        let (kv, effect) = text.rsplit_once(':')?;
        let effect = match effect {
            "NoSchedule" => TaintEffect::NoSchedule,
            "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
            "NoExecute" => TaintEffect::NoExecute,
            _ => return None,
        };
        let (key, value) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (kv, None),
        };
        if key.is_empty() || key.contains(':') {
            return None;
        }
        Some(Taint {
            key: key.to_string(),
            value,
            effect,
        })
    }
}

impl<'de> Deserialize<'de> for Taint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Taint::parse(&text).ok_or_else(|| {
            serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &TAINT_EXPECTED)
        })
    }
}

impl JsonSchema for Taint {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Taint".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": TAINT_EXPECTED,
            "type": "string",
            "pattern": "^[^:=]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$"
        })
    }
}

fn disk() -> Bytes {
    Bytes::from_bytes(100 * 1024 * 1024 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_are_cloneable_and_carry_no_credentials() {
        for ok in [
            "https://github.com/acme/platform.git",
            "ssh://git@github.com/acme/platform.git",
            "git@github.com:acme/platform.git",
        ] {
            assert!(GitUrl::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "github.com/acme/platform",
            "https://user:token@github.com/acme/platform.git",
            "https://",
            "https://github.com",
            "git@:acme/x",
            "https://github.com/acme/my repo.git",
        ] {
            assert!(GitUrl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn repository_folders_stay_inside_it() {
        assert_eq!(RepoPath::parse("."), Some(RepoPath(".".into())));
        assert_eq!(
            RepoPath::parse("./platform//envc/"),
            Some(RepoPath("platform/envc".into()))
        );
        assert_eq!(RepoPath(".".into()).join("out/a/k3s"), "out/a/k3s");
        assert_eq!(RepoPath("p".into()).join("out/a/k3s"), "p/out/a/k3s");
        for bad in ["/abs", "../up", "a/../../b", "a\\b"] {
            assert_eq!(RepoPath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn taints_parse() {
        assert_eq!(
            Taint::parse("dedicated=storage:NoSchedule"),
            Some(Taint {
                key: "dedicated".into(),
                value: Some("storage".into()),
                effect: TaintEffect::NoSchedule,
            })
        );
        assert_eq!(
            Taint::parse("gpu:NoExecute"),
            Some(Taint {
                key: "gpu".into(),
                value: None,
                effect: TaintEffect::NoExecute,
            })
        );
        for bad in [
            "dedicated=storage",
            "x=y:Sometimes",
            "=y:NoSchedule",
            ":NoSchedule",
            "",
        ] {
            assert_eq!(Taint::parse(bad), None, "{bad}");
        }
    }
}
