//! The environment model: what `environments/<env>.toml` (after profile overlay) decodes into.
//!
//! Every field is documented in `docs/model.md`; the JSON Schema (`envc schema`) is derived
//! from these types, so the two cannot drift apart.

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::quantity::{Bytes, Cpu, Duration};

/// An environment file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct EnvironmentFile {
    /// Environment-wide settings.
    pub environment: EnvironmentSettings,
    /// Namespaces (Kubernetes) by key; services name one by key. The first one is the default.
    pub namespaces: IndexMap<String, Namespace>,
    /// Secrets by name. Values never live in the model except dev-tier defaults.
    #[serde(default)]
    pub secrets: IndexMap<String, Secret>,
    /// Services by name (DNS-1123 label: lowercase letters, digits and `-`).
    pub services: IndexMap<String, Service>,
    /// Service templates by name: any service keys, applied to the services that name them in
    /// `extends` (expanded when the file is read).
    #[serde(default)]
    pub templates: IndexMap<String, Service>,
    /// Volumes several services mount (`[services.x.volumes] y = { volume = "<name>", ... }`).
    #[serde(default)]
    pub volumes: IndexMap<String, SharedVolume>,
}

/// A volume of the environment, which services mount by name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct SharedVolume {
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Size of its claim.
    pub size: Bytes,
    /// `single`: the pods of one node mount it (ReadWriteOnce); `shared`: pods on any node do
    /// (ReadWriteMany, with a storage class that supports it).
    #[serde(default)]
    pub access: VolumeAccess,
    /// Storage class; the environment's or profile's default when absent (profiles set it per
    /// mode: EFS on EKS, Filestore on GKE).
    #[serde(default)]
    pub storage_class: Option<String>,
}

/// Who may mount a volume at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeAccess {
    /// Pods on one node (Kubernetes ReadWriteOnce).
    #[default]
    Single,
    /// Pods on any node (ReadWriteMany where the mode's Kubernetes settings allow).
    Shared,
}

/// Environment-wide settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct EnvironmentSettings {
    /// The environment's name; must equal the file name without `.toml`.
    pub name: String,
    /// One line saying what this environment is.
    #[serde(default)]
    pub description: Option<String>,
    /// Host name that ingress routes are served on (`crypto-lakehouse.local`).
    #[serde(default)]
    pub ingress_host: Option<String>,
    /// Default storage class for persistent volumes; profiles usually set it.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// How NetworkPolicies are generated.
    #[serde(default)]
    pub network_policy: NetworkPolicyStance,
    /// Labels added to every object (besides the recommended `app.kubernetes.io/*` ones).
    #[serde(default)]
    pub labels: IndexMap<String, String>,
}

/// How NetworkPolicies are generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPolicyStance {
    /// No NetworkPolicies.
    None,
    /// Pods accept traffic from any pod of the environment's namespaces and from the ingress
    /// controller.
    Namespace,
    /// Least privilege from the dependency graph: each service accepts traffic only from the
    /// services that depend on or refer to it, on the ports they use, plus Prometheus on its
    /// metrics port, the ingress controller on ingress ports, and anyone on node ports.
    #[default]
    Graph,
}

/// Pod Security Standards level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PodSecurityLevel {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening best practice.
    #[default]
    Restricted,
}

impl PodSecurityLevel {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Privileged => "privileged",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Restricted => "restricted",
        }
    }
}

/// A namespace.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Namespace {
    /// The Kubernetes name.
    pub name: String,
    /// Pod Security Standards level enforced on the namespace.
    #[serde(default)]
    pub pod_security: PodSecurityLevel,
    /// A ResourceQuota for the namespace.
    #[serde(default)]
    pub quota: Option<Quota>,
}

/// A ResourceQuota.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Quota {
    /// Sum of CPU requests.
    #[serde(default)]
    pub requests_cpu: Option<Cpu>,
    /// Sum of memory requests.
    #[serde(default)]
    pub requests_memory: Option<Bytes>,
    /// Sum of CPU limits.
    #[serde(default)]
    pub limits_cpu: Option<Cpu>,
    /// Sum of memory limits.
    #[serde(default)]
    pub limits_memory: Option<Bytes>,
    /// Sum of persistent storage requests.
    #[serde(default)]
    pub storage: Option<Bytes>,
    /// Maximum number of pods.
    #[serde(default)]
    pub pods: Option<u32>,
    /// Maximum number of PersistentVolumeClaims.
    #[serde(default)]
    pub persistent_volume_claims: Option<u32>,
}

/// A secret: one value, referenced by name from env values.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Secret {
    /// What the secret is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Value used by dev-tier modes only. When absent, dev modes use a value derived from the
    /// environment and secret names (stable, never random). Prod tiers never see it.
    #[serde(default)]
    pub dev_value: Option<String>,
}

/// A service.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Service {
    /// Templates (`[templates.<name>]`) whose keys the service starts from, merged in order;
    /// the service's own keys win. Expanded when the environment file is read.
    #[serde(default)]
    pub extends: Vec<String>,
    /// What the service does.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the mode runs this service (profiles set `false` to leave one out).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Role in the system (`database`, `object-storage`, ...): `app.kubernetes.io/component`.
    #[serde(default)]
    pub component: Option<String>,
    /// Namespace key (see `[namespaces]`); the first namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Image reference, pinned by tag or digest (`postgres:17.6-alpine`, `repo@sha256:...`).
    #[serde(default)]
    pub image: Option<String>,
    /// Build the image from source; `image` then names the tag to give it.
    #[serde(default)]
    pub build: Option<Build>,
    /// Replaces the image's entrypoint.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Replaces the image's arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Named ports.
    #[serde(default)]
    pub ports: IndexMap<String, Port>,
    /// Environment variables: a string (with `${...}` references), a number or boolean, or
    /// `{ secret = "name" }`.
    #[serde(default)]
    pub env: IndexMap<String, EnvValue>,
    /// Files placed in the container (config files), by name.
    #[serde(default)]
    pub files: IndexMap<String, File>,
    /// Volumes by name.
    #[serde(default)]
    pub volumes: IndexMap<String, Volume>,
    /// Resource requests and limits.
    #[serde(default)]
    pub resources: Resources,
    /// Number of replicas (ignored when autoscaling is set: the minimum is used).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Horizontal autoscaling.
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    /// Liveness, readiness and startup probes.
    #[serde(default)]
    pub probes: Probes,
    /// Services this one needs, with the condition to wait for.
    #[serde(default)]
    pub depends_on: DependsOn,
    /// Security settings for the container.
    #[serde(default)]
    pub security: Security,
    /// Prometheus metrics endpoint.
    #[serde(default)]
    pub metrics: Option<Metrics>,
    /// Access the service's pods get to the Kubernetes API (RBAC): each entry grants verbs on
    /// resources in namespaces of the environment, or cluster-wide. Without any, the pods get
    /// no API token at all.
    #[serde(default)]
    pub api_access: Vec<ApiAccess>,
    /// `deployment`, `statefulset`, `job` (runs to completion) or `cronjob` (runs on a
    /// schedule); by default a service with persistent volumes is a StatefulSet and any other a
    /// Deployment.
    #[serde(default)]
    pub workload: Option<WorkloadKind>,
    /// What to do when the container exits; the mode's default when absent (jobs: `no`).
    #[serde(default)]
    pub restart: Option<Restart>,
    /// Run-to-completion settings of a job or cron job.
    #[serde(default)]
    pub job: Option<JobSettings>,
    /// Steps that run to completion, in declared order, before the service's container starts.
    #[serde(default)]
    pub init: IndexMap<String, Step>,
    /// Containers that run beside the service's for its whole life, sharing its network and
    /// volumes.
    #[serde(default)]
    pub sidecars: IndexMap<String, Step>,
    /// Seconds to wait after SIGTERM before killing.
    #[serde(default)]
    pub stop_grace_period: Option<Duration>,
    /// A managed service replaces this one in the mode (prod profiles set it): it is not
    /// deployed, and references to it reach the endpoint supplied at deploy time.
    #[serde(default)]
    pub external: Option<External>,
}

/// A managed service standing in for a service (RDS, Cloud SQL, ElastiCache, Memorystore).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct External {
    /// The managed offering (`rds-postgres`, `cloud-sql-postgres`, `elasticache-redis`,
    /// `memorystore-redis`); Terraform picks its module by it.
    pub kind: String,
    /// Engine version (`"17"`, `"7.1"`).
    #[serde(default)]
    pub version: Option<String>,
    /// Instance class or tier (`db.m6g.large`, `db-custom-2-7680`, `cache.t4g.medium`).
    pub instance: String,
    /// Allocated storage (databases).
    #[serde(default)]
    pub storage: Option<Bytes>,
    /// Memory size (caches sized by memory, such as Memorystore).
    #[serde(default)]
    pub memory: Option<Bytes>,
    /// Highly available across zones (Multi-AZ, regional, replicas).
    #[serde(default = "yes")]
    pub high_availability: bool,
    /// Settings Terraform needs to create it the way the services expect (database and user
    /// names), passed as they are.
    #[serde(default)]
    pub settings: IndexMap<String, String>,
    /// The endpoint once Terraform has created the service (its output `<service>_host`): a
    /// DNS name or an IPv4 address. It becomes the chart's default `external.<service>.host`,
    /// so tools that deploy the committed values as they are (Argo CD, Flux) reach it; without
    /// it the deploy passes the endpoint with `--set`.
    #[serde(default)]
    pub host: Option<String>,
}

fn yes() -> bool {
    true
}

/// Workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// A Deployment.
    Deployment,
    /// A StatefulSet with a headless Service.
    Statefulset,
    /// Runs to completion: a Kubernetes Job, a Compose one-shot service.
    Job,
    /// Runs on a schedule: a Kubernetes CronJob (Compose has no scheduler).
    Cronjob,
}

impl WorkloadKind {
    /// The name as the model spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::Statefulset => "statefulset",
            WorkloadKind::Job => "job",
            WorkloadKind::Cronjob => "cronjob",
        }
    }

    /// The Kubernetes kind of its workload object.
    pub fn k8s_kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::Statefulset => "StatefulSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::Cronjob => "CronJob",
        }
    }

    /// Whether it runs to completion (a job or cron job) rather than serving until stopped.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::Cronjob)
    }
}

/// What to do when a container exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Never restart.
    No,
    /// Restart when it exits with a non-zero status.
    OnFailure,
    /// Always restart.
    Always,
    /// Always restart, unless it was stopped by hand (Compose).
    UnlessStopped,
}

impl Restart {
    /// The name as the model and Compose spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::No => "no",
            Restart::OnFailure => "on-failure",
            Restart::Always => "always",
            Restart::UnlessStopped => "unless-stopped",
        }
    }
}

/// When a job runs relative to the rest of a release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobRun {
    /// Before the release's workloads start, on every install and upgrade (migrations): a Helm
    /// `pre-install,pre-upgrade` hook.
    Before,
    /// With the other workloads; dependents wait for it.
    #[default]
    Alongside,
}

/// What a cron job does when a run is due and the previous one is still running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Concurrency {
    /// Start the new run too.
    #[default]
    Allow,
    /// Skip the new run.
    Forbid,
    /// Stop the running one and start the new one.
    Replace,
}

impl Concurrency {
    /// The CronJob `concurrencyPolicy` value.
    pub fn k8s(self) -> &'static str {
        match self {
            Concurrency::Allow => "Allow",
            Concurrency::Forbid => "Forbid",
            Concurrency::Replace => "Replace",
        }
    }
}

/// Run-to-completion settings (`[services.<name>.job]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct JobSettings {
    /// Retries after a failed run before the job fails (Kubernetes `backoffLimit`); 3 when
    /// absent.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Longest a run may take before it is stopped and fails (`activeDeadlineSeconds`).
    #[serde(default)]
    pub deadline: Option<Duration>,
    /// How long a finished job is kept, for its logs, before Kubernetes deletes it
    /// (`ttlSecondsAfterFinished`); one day when absent.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// When it runs: `before` the release's workloads (migrations) or `alongside` them.
    #[serde(default)]
    pub run: JobRun,
    /// Pods running at once; `replicas` is then the number of successful runs needed.
    #[serde(default)]
    pub parallelism: Option<u32>,
    /// Cron jobs: when to run, in cron syntax (`0 3 * * *`, `@daily`).
    #[serde(default)]
    pub schedule: Option<String>,
    /// Cron jobs: what to do when a run is due while the previous one still runs.
    #[serde(default)]
    pub concurrency: Concurrency,
    /// Cron jobs: the time zone the schedule is in (IANA name, `Europe/Paris`); the
    /// controller's (usually UTC) when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Cron jobs: finished successful jobs to keep; 3 when absent.
    #[serde(default)]
    pub successful_history: Option<u32>,
    /// Cron jobs: failed jobs to keep; 1 when absent.
    #[serde(default)]
    pub failed_history: Option<u32>,
}

/// An init step or a sidecar: a container in the service's pod.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Step {
    /// Image; the service's when absent.
    #[serde(default)]
    pub image: Option<String>,
    /// Replaces the image's entrypoint.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Replaces the image's arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Environment variables, as for a service.
    #[serde(default)]
    pub env: IndexMap<String, EnvValue>,
    /// The service's volumes this container mounts, by name.
    #[serde(default)]
    pub volumes: IndexMap<String, StepMount>,
    /// Resource requests and limits.
    #[serde(default)]
    pub resources: Resources,
}

/// Where an init step or sidecar mounts one of the service's volumes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct StepMount {
    /// Mount path; the service's mount path of the volume when absent.
    #[serde(default)]
    pub path: Option<String>,
    /// Mount read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// How to build an image.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Build {
    /// Build context, relative to the environment file's directory.
    pub context: String,
    /// Dockerfile, relative to the context.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// Build arguments.
    #[serde(default)]
    pub args: IndexMap<String, String>,
    /// Build stage.
    #[serde(default)]
    pub target: Option<String>,
}

/// Transport protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Upper-case name as Kubernetes writes it.
    pub fn k8s(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }

    /// Lower-case name as Compose writes it.
    pub fn compose(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A named port.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Port {
    /// Port the container listens on.
    pub container: u16,
    /// Port other services use (the Kubernetes Service port); defaults to `container`.
    #[serde(default)]
    pub service: Option<u16>,
    /// Protocol.
    #[serde(default)]
    pub protocol: Protocol,
    /// Expose on every node at this port (Kubernetes NodePort, 30000-32767 by default).
    #[serde(default)]
    pub node_port: Option<u16>,
    /// Publish on the host at this port (Compose).
    #[serde(default)]
    pub host_port: Option<u16>,
    /// Route HTTP traffic from the ingress to this port.
    #[serde(default)]
    pub ingress: Option<IngressRoute>,
    /// Application protocol (`http`, `grpc`, ...), for Service `appProtocol`.
    #[serde(default)]
    pub app_protocol: Option<String>,
}

/// An ingress route.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct IngressRoute {
    /// URL path prefix.
    #[serde(default = "root_path")]
    pub path: String,
    /// Sub-domain prepended to the environment's `ingress_host` (`grafana` gives
    /// `grafana.crypto-lakehouse.local`); the bare host when absent.
    #[serde(default)]
    pub subdomain: Option<String>,
}

fn root_path() -> String {
    "/".to_string()
}

/// An environment variable's value.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged, transform = crate::correction::env_value)]
pub enum EnvValue {
    /// Text, which may contain `${...}` references.
    Text(String),
    /// The value of a secret.
    Secret(SecretRef),
}

/// A reference to a secret.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct SecretRef {
    /// Secret name (see `[secrets]`).
    pub secret: String,
    /// A variable the image reads the path of a file holding the value from
    /// (`POSTGRES_PASSWORD_FILE`, Grafana's `GF_SECURITY_ADMIN_PASSWORD__FILE`). Backends that
    /// mount secrets as files (Compose) set this variable to the mounted file instead of putting
    /// the value in the environment.
    #[serde(default)]
    pub file_env: Option<String>,
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number, a boolean or { secret = \"name\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<EnvValue, A::Error> {
                let mut secret = None;
                let mut file_env = None;
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "secret" => secret = Some(map.next_value::<String>()?),
                        "file_env" => file_env = Some(map.next_value::<String>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(
                                other,
                                &["secret", "file_env"],
                            ));
                        }
                    }
                }
                secret
                    .map(|secret| EnvValue::Secret(SecretRef { secret, file_env }))
                    .ok_or_else(|| serde::de::Error::missing_field("secret"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A file placed in the container.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct File {
    /// Absolute path in the container.
    pub path: String,
    /// A Handlebars template, relative to the environment file's directory, rendered per mode
    /// (strict: an unknown variable is an error).
    #[serde(default)]
    pub template: Option<String>,
    /// Literal content.
    #[serde(default)]
    pub content: Option<String>,
}

/// A volume.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Volume {
    /// Mount path in the container.
    pub path: String,
    /// Size; a persistent volume needs one.
    #[serde(default)]
    pub size: Option<Bytes>,
    /// Persistent (survives restarts; PersistentVolumeClaim, named volume) or scratch
    /// (emptyDir, tmpfs). Persistent by default.
    #[serde(default = "yes")]
    pub persistent: bool,
    /// Storage class; the environment's or profile's default when absent.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// An environment volume (`[volumes.<name>]`) mounted here instead of a volume of the
    /// service's own; `size`, `persistent` and `storage_class` are then the volume's.
    #[serde(default)]
    pub volume: Option<String>,
    /// Mount read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Mount this sub-directory of the volume instead of its root.
    #[serde(default)]
    pub sub_path: Option<String>,
    /// Bind-mount this folder (or file) of the project, relative to the environment file's
    /// folder (`./dags`): dev modes only, and in Kubernetes only where the profile names where
    /// the project is on the node (`kubernetes.host_path_root`).
    #[serde(default)]
    pub source: Option<String>,
}

/// CPU and memory.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct CpuMemory {
    /// CPU.
    #[serde(default)]
    pub cpu: Option<Cpu>,
    /// Memory.
    #[serde(default)]
    pub memory: Option<Bytes>,
}

/// Resource requests and limits.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(default)]
    pub requests: CpuMemory,
    /// The most the container may use.
    #[serde(default)]
    pub limits: CpuMemory,
}

/// Horizontal autoscaling.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Autoscaling {
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Target average CPU utilisation, percent of requests.
    #[serde(default)]
    pub cpu: Option<u8>,
    /// Target average memory utilisation, percent of requests.
    #[serde(default)]
    pub memory: Option<u8>,
}

/// Probes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Probes {
    /// Restart the container when this fails.
    #[serde(default)]
    pub liveness: Option<Probe>,
    /// Send traffic (and let dependents start) only when this passes. Compose healthchecks
    /// come from this probe.
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// Hold the other probes until this passes once.
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// A probe: exactly one of `http`, `tcp`, `exec`, `grpc`, plus timings.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Probe {
    /// HTTP GET; success is a 2xx or 3xx status.
    #[serde(default)]
    pub http: Option<HttpProbe>,
    /// TCP connect.
    #[serde(default)]
    pub tcp: Option<TcpProbe>,
    /// A command run in the container; success is exit status 0.
    #[serde(default)]
    pub exec: Option<ExecProbe>,
    /// gRPC health checking protocol.
    #[serde(default)]
    pub grpc: Option<TcpProbe>,
    /// Delay before the first check.
    #[serde(default)]
    pub initial_delay: Option<Duration>,
    /// Time between checks.
    #[serde(default)]
    pub period: Option<Duration>,
    /// Time a check may take.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Consecutive failures before the probe fails.
    #[serde(default)]
    pub failure_threshold: Option<u32>,
    /// Consecutive successes before the probe passes again (readiness only).
    #[serde(default)]
    pub success_threshold: Option<u32>,
}

/// An HTTP probe.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct HttpProbe {
    /// Port name (see `ports`).
    pub port: String,
    /// Path.
    #[serde(default = "root_path")]
    pub path: String,
    /// For runtimes that cannot probe HTTP themselves (Compose): a command available in the
    /// image that performs the same check (`["wget", "-q", "--spider", "http://..."]`).
    /// Without it, Compose gets no healthcheck for this probe and envc reports that.
    #[serde(default)]
    pub command: Option<Vec<String>>,
}

/// A TCP or gRPC probe.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct TcpProbe {
    /// Port name (see `ports`).
    pub port: String,
}

/// An exec probe.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct ExecProbe {
    /// Command and arguments (no shell unless you call one).
    pub command: Vec<String>,
}

/// Dependencies: `["postgres"]` or `{ postgres = "healthy", minio = "started" }`.
#[derive(Debug, Clone, Default, PartialEq, JsonSchema)]
#[schemars(transform = crate::correction::depends_on)]
pub struct DependsOn(pub IndexMap<String, Condition>);

/// What to wait for before starting a dependent service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Healthy when the dependency has a readiness probe, else started.
    #[default]
    Auto,
    /// The dependency's container has started.
    Started,
    /// The dependency's readiness probe passes.
    Healthy,
    /// The dependency ran to completion successfully.
    Completed,
}

impl<'de> Deserialize<'de> for DependsOn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DependsOn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of service names or a table of service = condition")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<DependsOn, A::Error> {
                let mut m = IndexMap::new();
                while let Some(name) = seq.next_element::<String>()? {
                    m.insert(name, Condition::Auto);
                }
                Ok(DependsOn(m))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<DependsOn, A::Error> {
                let mut m = IndexMap::new();
                while let Some((k, v)) = map.next_entry::<String, Condition>()? {
                    m.insert(k, v);
                }
                Ok(DependsOn(m))
            }
        }
        d.deserialize_any(V)
    }
}

/// Container security settings. The defaults pass the `restricted` Pod Security Standard.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Security {
    /// User id to run as.
    #[serde(default)]
    pub run_as_user: Option<i64>,
    /// Group id to run as.
    #[serde(default)]
    pub run_as_group: Option<i64>,
    /// Group that owns mounted volumes.
    #[serde(default)]
    pub fs_group: Option<i64>,
    /// Refuse to start as root.
    #[serde(default = "yes")]
    pub run_as_non_root: bool,
    /// Mount the root filesystem read-only (add scratch volumes for paths the image writes).
    #[serde(default = "yes")]
    pub read_only_root_filesystem: bool,
    /// Allow privilege escalation (setuid binaries).
    #[serde(default)]
    pub allow_privilege_escalation: bool,
    /// Capabilities to add back after dropping all.
    #[serde(default)]
    pub capabilities_add: Vec<String>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            run_as_user: None,
            run_as_group: None,
            fs_group: None,
            run_as_non_root: true,
            read_only_root_filesystem: true,
            allow_privilege_escalation: false,
            capabilities_add: Vec::new(),
        }
    }
}

/// A Prometheus metrics endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Metrics {
    /// Port name (see `ports`).
    pub port: String,
    /// Path.
    #[serde(default = "metrics_path")]
    pub path: String,
}

fn metrics_path() -> String {
    "/metrics".to_string()
}

/// One grant of Kubernetes API access (a Role and RoleBinding per namespace, or a ClusterRole
/// and ClusterRoleBinding).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct ApiAccess {
    /// API groups of the resources: `""` is the core group (pods, services, endpoints),
    /// `discovery.k8s.io` holds EndpointSlices, `batch` Jobs.
    #[serde(default = "core_api_group")]
    pub api_groups: Vec<String>,
    /// Resources (`pods`, `endpoints`, `jobs`), plural and lower-case as the API names them.
    pub resources: Vec<String>,
    /// Verbs: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verbs: Vec<String>,
    /// Namespaces (keys of `[namespaces]`) where the access holds; the service's own when
    /// empty.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Cluster-wide: for cluster-scoped resources (nodes) or every namespace.
    #[serde(default)]
    pub cluster: bool,
}

fn core_api_group() -> Vec<String> {
    vec![String::new()]
}

/// Whether a name (an environment variable, a command-line flag, a key in a config file) says
/// it holds a credential: the one rule the model's literal check, the promotion gates and
/// `envc diff`'s hiding share. Words are matched, not substrings, where a substring would
/// mislead: `DB_PASS`, `dbPass`, `PASSWORD_SALT`, `SENTRY_DSN`, `FERNET_KEY` and
/// `NotebookApp.token` are credentials; `PASSTHROUGH`, `BYPASS`, `TOKENIZERS_PARALLELISM` and
/// `KMS_KEY_ID` are not. A name ending in `FILE`, `PATH` or `DIR` holds where a credential is,
/// not the credential, and a certificate is public (a certificate's key is not).
pub fn names_credential(name: &str) -> bool {
    credential_word(name).is_some()
}

/// What makes a name a credential's: [`Credential::Dsn`] when its only credential word is `DSN`
/// (a data source name, which holds a credential only when it spells a password), else
/// [`Credential::Value`]; `None` for a name that is not a credential's.
pub fn credential_word(name: &str) -> Option<Credential> {
    // A diff asks of every variable of every service, and most names recur (every service's
    // `LOG_LEVEL`): each thread remembers its answers, up to a bound.
    const REMEMBERED: usize = 4096;
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Option<Credential>>> =
            Default::default();
    }
    if let Some(known) = SEEN.with_borrow(|seen| seen.get(name).copied()) {
        return known;
    }
    let answer = credential_word_of(name);
    SEEN.with_borrow_mut(|seen| {
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(name.into(), answer);
    });
    answer
}

/// [`credential_word`], worked out.
fn credential_word_of(name: &str) -> Option<Credential> {
    let words = name_words(name.trim_start_matches('-'));
    let last = words.last()?;
    if ["FILE", "FILES", "PATH", "DIR"].contains(&last.as_str()) {
        return None;
    }
    let joined = words.join("_");
    if CREDENTIAL_PHRASES.iter().any(|m| joined.contains(m)) {
        return Some(Credential::Value);
    }
    // `PWD` alone is the shell's working directory.
    let whole_pwd = words.len() == 1 && words[0] == "PWD";
    let value = words.iter().any(|w| {
        CREDENTIAL_WORDS.contains(&w.as_str())
            || (w == "PWD" && !whole_pwd)
            || w.ends_with("TOKEN")
            || w.ends_with("TOKENS")
    }) || (words.len() > 1 && last == "KEY");
    if value {
        Some(Credential::Value)
    } else if words.iter().any(|w| w == "DSN") {
        Some(Credential::Dsn)
    } else {
        None
    }
}

/// Which kind of credential a name says it holds ([`credential_word`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The value is a credential (a password, a token, a key).
    Value,
    /// A data source name (`SENTRY_DSN`, `DATABASE_DSN`): a URL or `key=value` list that holds
    /// a credential when it has a password (`postgres://app:pw@db/app`, `password=pw`); a
    /// Sentry DSN's user part is a public key.
    Dsn,
}

/// Runs of words that make a name a credential's anywhere in it, joined by `_`
/// (`AWS_SECRET_ACCESS_KEY`, `apiKey`, `requirepass`).
const CREDENTIAL_PHRASES: [&str; 13] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "CREDENTIAL",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "ACCESSKEY",
    "REQUIREPASS",
    "MASTERAUTH",
];

/// Whole words that make a name a credential's (`DB_PASS`, `PASSWORD_SALT`, `GH_CREDS`); besides
/// these, a word ending in `TOKEN(S)`, a `PWD` word of a longer name, and a last word `KEY`.
const CREDENTIAL_WORDS: [&str; 3] = ["PASS", "SALT", "CREDS"];

/// Whether a literal `value` of a variable named `name` writes a credential into the model: any
/// non-empty value of a credential's name, except that a DSN is one only when it spells a
/// password (URL userinfo `user:password@`, or a `password=` / `pwd=` pair) that is not a
/// `${...}` reference. `postgres://app@db/app` and a Sentry DSN (`https://<public key>@...`) are
/// not; `postgres://app:pw@db/app` and `host=db password=pw` are.
pub fn literal_is_credential(name: &str, value: &str) -> bool {
    match credential_word(name) {
        None => false,
        Some(Credential::Value) => !value.is_empty(),
        Some(Credential::Dsn) => dsn_password(value),
    }
}

/// Whether a DSN spells a literal password: URL userinfo with one, or a `password=`/`pwd=` pair.
fn dsn_password(value: &str) -> bool {
    let literal = |p: &str| !p.is_empty() && !p.starts_with("${");
    if let Some((_, rest)) = value.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && literal(password)
        {
            return true;
        }
    }
    value
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '?')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| {
            matches!(k.trim().to_ascii_lowercase().as_str(), "password" | "pwd")
                && literal(v.trim().trim_matches(['\'', '"']))
        })
}

/// A name's words, upper-cased: split at anything but letters and digits, and where a lower-case
/// letter meets an upper-case one (`dbPass` is `DB`, `PASS`).
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod credential_tests {
    use super::*;

    /// One rule for the model, the promotion gates and diff: names both ways.
    #[test]
    fn credential_names_both_ways() {
        for yes in [
            "POSTGRES_PASSWORD",
            "MINIO_ROOT_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "DB_PASS",
            "dbPass",
            "SMTP_PASSWD",
            "DB_PWD",
            "MINIO_CONSOLE_PBKDF_PASSPHRASE",
            "MINIO_CONSOLE_PBKDF_SALT",
            "PASSWORD_SALT",
            "GITHUB_TOKEN",
            "ACCESSTOKEN",
            "NotebookApp.token",
            "REFRESH_TOKENS",
            "CLIENT_SECRET",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "GH_CREDS",
            "STRIPE_API_KEY",
            "apiKey",
            "TLS_PRIVATE_KEY",
            "TLS_CERT_KEY",
            "AIRFLOW__CORE__FERNET_KEY",
            "requirepass",
            "--password",
            "--db-password",
            "SENTRY_DSN",
        ] {
            assert!(names_credential(yes), "{yes} names a credential");
        }
        for no in [
            "POSTGRES_PASSWORD_FILE",
            "PRIVATE_KEY_PATH",
            "SECRETS_DIR",
            "TOKEN_FILES",
            "PASSTHROUGH",
            "BYPASS_CACHE",
            "COMPASS_URL",
            "TOKENIZERS_PARALLELISM",
            "KMS_KEY_ID",
            "PREFECT_API_URL",
            "MINIO_PROMETHEUS_AUTH_TYPE",
            "PWD",
            "TLS_CERTIFICATE",
            "KEY",
            "DB_USER",
        ] {
            assert!(!names_credential(no), "{no} names no credential");
        }
    }

    /// A literal in a credential's variable is a credential, except a DSN without a password.
    #[test]
    fn literals_of_credential_names() {
        for (name, value, credential) in [
            ("DB_PASSWORD", "hunter2", true),
            ("DB_PASSWORD", "", false),
            ("DB_HOST", "db", false),
            (
                "SENTRY_DSN",
                "https://examplePublicKey@o0.ingest.sentry.io/0",
                false,
            ),
            ("DATABASE_DSN", "postgres://app@db:5432/app", false),
            ("DATABASE_DSN", "postgres://app:hunter2@db:5432/app", true),
            (
                "DATABASE_DSN",
                "postgres://app:${secret.db-password}@db/app",
                false,
            ),
            ("DSN", "pg://app:server@db/app", true),
            ("PG_DSN", "host=db dbname=app user=app", false),
            ("PG_DSN", "host=db password=hunter2", true),
            ("ODBC_DSN", "Server=db;Uid=app;Pwd=hunter2", true),
            ("DSN_PASSWORD", "hunter2", true),
        ] {
            assert_eq!(
                literal_is_credential(name, value),
                credential,
                "{name} = {value:?}"
            );
        }
        assert_eq!(credential_word("SENTRY_DSN"), Some(Credential::Dsn));
        assert_eq!(credential_word("DSN_TOKEN"), Some(Credential::Value));
    }
}
