//! Profiles: what a deployment mode is (backend, tier, backend settings) and what it overrides.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::quantity::{Bytes, Cpu};

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
            node_ports: true,
            node_port_range: node_port_range(),
            image_pull_policy: None,
            wait_image: None,
            shared_volume_access: None,
            host_path_root: None,
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
