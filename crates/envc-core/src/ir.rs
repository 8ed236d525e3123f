//! The IR: one plain, ordered, backend-neutral description of an environment in one mode.
//! It holds no Kubernetes or Compose types; every backend is a function of it.

use envc_model::model::{
    ApiAccess, Autoscaling, Concurrency, External, JobRun, NetworkPolicyStance, PodSecurityLevel,
    Protocol, Quota, Resources, Restart, Security, WorkloadKind,
};
use envc_model::profile::{
    Backend, CloudSettings, ComposeSettings, GitOpsSettings, KubernetesSettings, Tier,
};
use envc_model::quantity::{Bytes, Duration};
use indexmap::IndexMap;

/// An environment compiled for one mode.
#[derive(Debug, Clone)]
pub struct Ir {
    /// Environment name.
    pub env: String,
    /// Mode name.
    pub mode: String,
    /// What the environment is.
    pub description: Option<String>,
    /// Backend of the mode.
    pub backend: Backend,
    /// Tier of the mode.
    pub tier: Tier,
    /// Source files, as shown to users: environment, profiles (root first), templates.
    pub sources: Vec<String>,
    /// Ingress host.
    pub ingress_host: Option<String>,
    /// NetworkPolicy stance.
    pub network_policy: NetworkPolicyStance,
    /// Extra labels for every object.
    pub labels: IndexMap<String, String>,
    /// Namespaces, in declaration order; only those that hold an enabled service.
    pub namespaces: Vec<Namespace>,
    /// Secrets that enabled services use, in declaration order.
    pub secrets: Vec<Secret>,
    /// Enabled services in topological order (dependencies first).
    pub services: Vec<Service>,
    /// Environment volumes that deployed services mount, in declaration order.
    pub volumes: Vec<SharedVolume>,
    /// Kubernetes settings of the mode.
    pub kubernetes: KubernetesSettings,
    /// Compose settings of the mode.
    pub compose: ComposeSettings,
    /// The cloud of the mode, if it names one.
    pub cloud: Option<CloudSettings>,
    /// Where each service is in `services`, built on the first lookup by name.
    pub index: ServiceIndex,
    /// GitOps controllers that deploy the mode's artifacts, if the profile names them.
    pub gitops: Option<GitOpsSettings>,
    /// The numbered release a locked prod mode builds (its chart version), if any.
    pub release: Option<envc_model::release::ReleaseNumber>,
    /// The cloud secret store the mode's Secrets are filled from, if the profile names one.
    pub secrets_store: Option<envc_model::secrets_store::SecretsStore>,
}

/// Positions of services by name: [`Ir::service`] is called per client, dependency and
/// reference, and a scan of every service for each made an environment of 10,000 services
/// cost far more than ten times one of 1,000. A copy starts empty and is built again.
#[derive(Default)]
pub struct ServiceIndex(std::sync::OnceLock<std::collections::HashMap<String, usize>>);

impl Clone for ServiceIndex {
    fn clone(&self) -> Self {
        ServiceIndex::default()
    }
}

impl std::fmt::Debug for ServiceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceIndex")
    }
}

/// A namespace.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// Key in the model.
    pub key: String,
    /// Kubernetes name.
    pub name: String,
    /// Pod Security level.
    pub pod_security: PodSecurityLevel,
    /// ResourceQuota.
    pub quota: Option<Quota>,
}

/// A secret.
#[derive(Debug, Clone)]
pub struct Secret {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The value: dev tiers only, `None` in prod.
    pub value: Option<SecretValue>,
    /// Names of the Kubernetes namespaces whose services use it.
    pub namespaces: Vec<String>,
    /// Services that use it.
    pub used_by: Vec<String>,
}

/// A dev-tier secret value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretValue {
    /// The value.
    pub value: String,
    /// Whether envc derived it (no `dev_value` in the model).
    pub derived: bool,
}

/// A service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Role (`app.kubernetes.io/component`).
    pub component: Option<String>,
    /// Namespace key.
    pub namespace_key: String,
    /// Kubernetes namespace name.
    pub namespace: String,
    /// Image reference.
    pub image: String,
    /// How to build the image, if from source.
    pub build: Option<Build>,
    /// Entrypoint override.
    pub command: Vec<String>,
    /// Arguments override.
    pub args: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// Ports.
    pub ports: Vec<Port>,
    /// Environment, in declaration order.
    pub env: Vec<EnvVar>,
    /// Files rendered for the mode.
    pub files: Vec<File>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Resources.
    pub resources: Resources,
    /// Replicas (the autoscaling minimum when autoscaled).
    pub replicas: u32,
    /// Autoscaling.
    pub autoscaling: Option<Autoscaling>,
    /// Liveness probe.
    pub liveness: Option<Probe>,
    /// Readiness probe.
    pub readiness: Option<Probe>,
    /// Startup probe.
    pub startup: Option<Probe>,
    /// What the service needs before it starts, in declaration order (declared first, then
    /// implied by references).
    pub depends_on: Vec<Dependency>,
    /// Who connects to this service, on which ports (from the graph).
    pub clients: Vec<Client>,
    /// Security settings.
    pub security: Security,
    /// Metrics endpoint.
    pub metrics: Option<Metrics>,
    /// Kubernetes API access of the pods, namespaces resolved to their names.
    pub api_access: Vec<ApiAccess>,
    /// Deployment, StatefulSet, Job or CronJob.
    pub workload: WorkloadKind,
    /// What to do when the container exits; `None` leaves it to the mode's default.
    pub restart: Option<Restart>,
    /// Run-to-completion settings: set exactly for jobs and cron jobs.
    pub job: Option<Job>,
    /// Init steps, in declared order.
    pub init: Vec<Step>,
    /// Sidecars, in declared order.
    pub sidecars: Vec<Step>,
    /// Grace period on stop.
    pub stop_grace_period: Option<Duration>,
    /// A managed service stands in for this one: backends deploy no workload for it, and
    /// references to it reach the endpoint supplied at deploy time.
    pub external: Option<External>,
}

impl Service {
    /// A service with a name, namespace and image and nothing else: one replica, no ports,
    /// env, probes or volumes. For building IR by hand (tests, tools).
    pub fn new(name: &str, namespace: &str, image: &str) -> Service {
        Service {
            name: name.into(),
            description: None,
            component: None,
            namespace_key: namespace.into(),
            namespace: namespace.into(),
            image: image.into(),
            build: None,
            command: Vec::new(),
            args: Vec::new(),
            working_dir: None,
            ports: Vec::new(),
            env: Vec::new(),
            files: Vec::new(),
            volumes: Vec::new(),
            resources: Resources::default(),
            replicas: 1,
            autoscaling: None,
            liveness: None,
            readiness: None,
            startup: None,
            depends_on: Vec::new(),
            clients: Vec::new(),
            security: Security::default(),
            metrics: None,
            api_access: Vec::new(),
            workload: WorkloadKind::Deployment,
            restart: None,
            job: None,
            init: Vec::new(),
            sidecars: Vec::new(),
            stop_grace_period: None,
            external: None,
        }
    }

    /// A port by name.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Whether a readiness check exists (Kubernetes readiness probe, Compose healthcheck).
    pub fn has_health(&self) -> bool {
        self.readiness.is_some()
    }

    /// Whether the mode deploys a workload for this service (not replaced by a managed one).
    pub fn is_deployed(&self) -> bool {
        self.external.is_none()
    }

    /// Replicas at most (autoscaling maximum, else replicas). A job's pods at once.
    pub fn max_replicas(&self) -> u32 {
        if let Some(j) = &self.job {
            return j.parallelism.unwrap_or(1);
        }
        self.autoscaling.as_ref().map_or(self.replicas, |a| a.max)
    }

    /// Whether the pods use the Kubernetes API, so their ServiceAccount token is mounted.
    pub fn uses_api(&self) -> bool {
        !self.api_access.is_empty()
    }

    /// The env of every container of the pod: the service's, then its init steps' and
    /// sidecars'.
    pub fn all_env(&self) -> impl Iterator<Item = &EnvVar> {
        self.env.iter().chain(
            self.init
                .iter()
                .chain(self.sidecars.iter())
                .flat_map(|s| s.env.iter()),
        )
    }

    /// Whether it is a job that runs once to completion (not a cron job).
    pub fn is_job(&self) -> bool {
        self.workload == WorkloadKind::Job
    }

    /// Whether it is a job that runs before the release's other workloads.
    pub fn runs_before(&self) -> bool {
        self.is_job() && self.job.as_ref().is_some_and(|j| j.run == JobRun::Before)
    }

    /// The jobs this service waits for (`depends_on` with `completed`), in declared order.
    pub fn awaited_jobs(&self) -> impl Iterator<Item = &str> {
        self.depends_on
            .iter()
            .filter(|d| d.condition == DependencyCondition::Completed)
            .map(|d| d.service.as_str())
    }
}

/// Run-to-completion settings, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Retries before the job fails.
    pub retries: u32,
    /// Longest a run may take.
    pub deadline: Option<Duration>,
    /// How long a finished job is kept.
    pub ttl: Option<Duration>,
    /// When it runs.
    pub run: JobRun,
    /// Pods at once (the service's `replicas` is then the completion count).
    pub parallelism: Option<u32>,
    /// The schedule of a cron job.
    pub schedule: Option<Schedule>,
}

/// The schedule of a cron job, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Cron expression.
    pub cron: String,
    /// What to do when a run is due while the previous one runs.
    pub concurrency: Concurrency,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Successful jobs kept.
    pub successful_history: u32,
    /// Failed jobs kept.
    pub failed_history: u32,
}

/// An init step or a sidecar, resolved.
#[derive(Debug, Clone)]
pub struct Step {
    /// Name (key in the model; the container's name).
    pub name: String,
    /// Image.
    pub image: String,
    /// Entrypoint override.
    pub command: Vec<String>,
    /// Arguments override.
    pub args: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// Environment, in declaration order.
    pub env: Vec<EnvVar>,
    /// The service's volumes it mounts.
    pub mounts: Vec<Mount>,
    /// Resources.
    pub resources: Resources,
}

/// A mount of one of the service's volumes into a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Volume name (of the service).
    pub volume: String,
    /// Mount path.
    pub path: String,
    /// Read-only.
    pub read_only: bool,
}

/// A build.
#[derive(Debug, Clone)]
pub struct Build {
    /// Context directory, relative to the project root, `/` separated.
    pub context: String,
    /// Dockerfile relative to the context.
    pub dockerfile: Option<String>,
    /// Build arguments.
    pub args: IndexMap<String, String>,
    /// Target stage.
    pub target: Option<String>,
}

/// A port.
#[derive(Debug, Clone)]
pub struct Port {
    /// Name.
    pub name: String,
    /// Container port.
    pub container: u16,
    /// Service port.
    pub service: u16,
    /// Protocol.
    pub protocol: Protocol,
    /// NodePort, when the mode exposes node ports.
    pub node_port: Option<u16>,
    /// Host port (Compose).
    pub host_port: Option<u16>,
    /// Ingress route.
    pub ingress: Option<Ingress>,
    /// Application protocol.
    pub app_protocol: Option<String>,
}

/// An ingress route, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// Full host name.
    pub host: String,
    /// Path prefix.
    pub path: String,
}

/// An environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Value.
    pub value: EnvValue,
    /// For a secret value: the variable the image reads a file path from instead
    /// (`POSTGRES_PASSWORD_FILE`). Backends that mount secrets as files use it.
    pub file_env: Option<String>,
}

/// An environment variable's value, resolved for the mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Plain text.
    Text(String),
    /// A secret's value.
    Secret(String),
    /// Text with secrets inside (a URL with a password): backends must assemble it at run time,
    /// never write the secret inline.
    Template(Vec<Segment>),
}

/// A piece of a [`EnvValue::Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text.
    Text(String),
    /// A secret's value.
    Secret(String),
}

/// A file placed in the container.
#[derive(Debug, Clone)]
pub struct File {
    /// Name (key in the model).
    pub name: String,
    /// Absolute path in the container.
    pub path: String,
    /// Content.
    pub content: String,
    /// Template it was rendered from (display name), if any.
    pub template: Option<String>,
}

/// A volume.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Name.
    pub name: String,
    /// Mount path.
    pub path: String,
    /// Size.
    pub size: Option<Bytes>,
    /// Persistent or scratch.
    pub persistent: bool,
    /// Storage class (resolved: volume, then environment, then profile).
    pub storage_class: Option<String>,
    /// The environment volume mounted here, if it is one (its claim is the volume's, not the
    /// service's).
    pub shared: Option<String>,
    /// Mounted read-only.
    pub read_only: bool,
    /// Sub-directory of the volume mounted.
    pub sub_path: Option<String>,
    /// A bind mount: the project folder mounted, relative to the project root, `/` separated.
    pub bind: Option<String>,
}

impl Volume {
    /// Whether the service owns this persistent volume (a claim or claim template of its own).
    pub fn owned_claim(&self) -> bool {
        self.persistent && self.shared.is_none() && self.bind.is_none()
    }
}

/// An environment volume that deployed services mount.
#[derive(Debug, Clone)]
pub struct SharedVolume {
    /// Name (its claim's name).
    pub name: String,
    /// What it holds.
    pub description: Option<String>,
    /// Kubernetes namespace of its claim (that of the services that mount it).
    pub namespace: String,
    /// Size.
    pub size: Bytes,
    /// Kubernetes access mode (`ReadWriteOnce`, `ReadWriteMany`).
    pub access_mode: String,
    /// Storage class.
    pub storage_class: Option<String>,
    /// Services that mount it, in topological order.
    pub used_by: Vec<String>,
}

/// A probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// What it does.
    pub action: ProbeAction,
    /// Delay before the first check.
    pub initial_delay: Option<Duration>,
    /// Time between checks.
    pub period: Option<Duration>,
    /// Time a check may take.
    pub timeout: Option<Duration>,
    /// Failures before failing.
    pub failure_threshold: Option<u32>,
    /// Successes before passing.
    pub success_threshold: Option<u32>,
}

/// A probe's action, with ports resolved to container ports.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeAction {
    /// HTTP GET.
    Http {
        /// Port name.
        port_name: String,
        /// Container port.
        port: u16,
        /// Path.
        path: String,
        /// Equivalent command for runtimes that cannot probe HTTP.
        command: Option<Vec<String>>,
    },
    /// TCP connect.
    Tcp {
        /// Port name.
        port_name: String,
        /// Container port.
        port: u16,
    },
    /// gRPC health check.
    Grpc {
        /// Port name.
        port_name: String,
        /// Container port.
        port: u16,
    },
    /// Command.
    Exec {
        /// Command and arguments.
        command: Vec<String>,
    },
}

/// A dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The service depended on.
    pub service: String,
    /// What to wait for.
    pub condition: DependencyCondition,
    /// Declared in `depends_on`, or implied by a reference.
    pub declared: bool,
}

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyCondition {
    /// Started.
    Started,
    /// Healthy (ready).
    Healthy,
    /// Completed successfully.
    Completed,
}

/// A client of a service: another service that connects to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Client service name.
    pub service: String,
    /// Client namespace (Kubernetes name).
    pub namespace: String,
    /// Port names it uses; empty means all ports.
    pub ports: Vec<String>,
}

/// A metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// Port name.
    pub port_name: String,
    /// Container port.
    pub port: u16,
    /// Service port.
    pub service_port: u16,
    /// Path.
    pub path: String,
}

impl Ir {
    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        let index = self.index.0.get_or_init(|| {
            let mut m = std::collections::HashMap::with_capacity(self.services.len());
            for (i, s) in self.services.iter().enumerate() {
                m.entry(s.name.clone()).or_insert(i);
            }
            m
        });
        // `services` is public: a position that no longer holds the name (the list was
        // changed after the first lookup) falls back to the scan.
        match index.get(name).and_then(|&i| self.services.get(i)) {
            Some(s) if s.name == name => Some(s),
            _ => self.services.iter().find(|s| s.name == name),
        }
    }

    /// A secret by name.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.iter().find(|s| s.name == name)
    }

    /// The namespaces of the deployed services that use a secret, in service order, each
    /// once. Linear in the services: a secret every service reads is the common case.
    pub fn secret_namespaces(&self, secret: &Secret) -> Vec<&str> {
        let users: std::collections::HashSet<&str> =
            secret.used_by.iter().map(String::as_str).collect();
        let mut seen = std::collections::HashSet::new();
        self.services
            .iter()
            .filter(|s| s.is_deployed() && users.contains(s.name.as_str()))
            .map(|s| s.namespace.as_str())
            .filter(|ns| seen.insert(*ns))
            .collect()
    }

    /// The header every generated file starts with (without comment markers): what generated
    /// it and from which sources.
    pub fn header_lines(&self) -> Vec<String> {
        let mut lines = vec![
            "generated by envc, do not edit".to_string(),
            format!("environment: {}, mode: {}", self.env, self.mode),
        ];
        lines.push("sources:".to_string());
        lines.extend(self.sources.iter().map(|s| format!("  {s}")));
        lines
    }
}
