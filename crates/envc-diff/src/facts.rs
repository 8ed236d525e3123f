//! Backend-neutral facts: what an artifact set deploys, per service.
//!
//! Facts are compared by flattening each service into `key -> value` lines
//! ([`ServiceFacts::flatten`], keys typed by [`Key`]); secret-backed values are short hashes,
//! never values.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

pub(crate) use crate::flat::Entries;
pub use crate::flat::Flat;
pub use crate::key::{
    Facet, JobField, Key, Port, PortField, ProbeKind, Resource, ScheduleField, Security, StepField,
};

/// The format facts were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A Compose file.
    Compose,
    /// Kubernetes manifests (including rendered Helm charts).
    Kubernetes,
}

impl Format {
    /// The format a backend's artifacts are read as (a Helm chart is rendered to manifests).
    pub fn of(backend: envc_model::profile::Backend) -> Format {
        if backend.is_kubernetes() {
            Format::Kubernetes
        } else {
            Format::Compose
        }
    }

    /// Name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Compose => "compose",
            Format::Kubernetes => "kubernetes",
        }
    }
}

/// Facts of one artifact set.
#[derive(Debug, Clone)]
pub struct Facts {
    /// What was read.
    pub label: String,
    /// Its format.
    pub format: Format,
    /// Services by name, in the order found.
    pub services: IndexMap<String, ServiceFacts>,
    /// Things the extractor saw but could not read (unsupported kinds, unresolved variables).
    pub notes: Vec<String>,
    /// Every addressable name and its namespace (Kubernetes Services, including ones with no
    /// workload such as aliases of managed databases), for host name normalisation.
    pub endpoints: Vec<(String, String)>,
    /// Rendered from a Helm chart (its objects carry the `helm.sh/chart` label), so jobs may
    /// be release hooks.
    pub helm: bool,
    /// Objects that are not services, read structurally, by key (`Namespace/shop`,
    /// `NetworkPolicy/shop/db`, Compose's `volumes/pgdata`): see [`crate::structure`].
    pub objects: IndexMap<String, ObjectFacts>,
    /// Names given to more than one object or service in the set (`Deployment/shop/web`, or a
    /// service name two workloads share): reported, never merged (the first one is read).
    pub duplicates: Vec<String>,
}

impl Facts {
    /// Empty facts of a set.
    pub fn new(label: impl Into<String>, format: Format) -> Facts {
        Facts {
            label: label.into(),
            format,
            services: IndexMap::new(),
            notes: Vec::new(),
            endpoints: Vec::new(),
            helm: false,
            objects: IndexMap::new(),
            duplicates: Vec::new(),
        }
    }
}

/// A value of an environment variable (or argument), with secrets hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Plain text.
    Text(String),
    /// Text with secret parts.
    Parts(Vec<Part>),
}

/// A part of a [`Value::Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text.
    Text(String),
    /// A secret, as a short hash of its value (or of its reference when the value is unknown).
    Secret(String),
}

impl Value {
    /// The value as shown: secrets as `<secret:hash>`.
    pub fn display(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Parts(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Secret(h) => format!("<secret:{h}>"),
                })
                .collect(),
        }
    }

    /// A secret's whole value.
    pub fn secret(hash: String) -> Value {
        Value::Parts(vec![Part::Secret(hash)])
    }

    /// Whether any part is secret.
    pub fn has_secret(&self) -> bool {
        matches!(self, Value::Parts(p) if p.iter().any(|x| matches!(x, Part::Secret(_))))
    }

    /// Applies a text transformation to the text parts.
    pub fn map_text(&self, f: &dyn Fn(&str) -> String) -> Value {
        match self {
            Value::Text(t) => Value::Text(f(t)),
            Value::Parts(p) => Value::Parts(
                p.iter()
                    .map(|x| match x {
                        Part::Text(t) => Part::Text(f(t)),
                        s => s.clone(),
                    })
                    .collect(),
            ),
        }
    }
}

/// The id that stands for a secret value: equal within one run for equal values, keyed by a
/// per-process random key so that no one can check a guess against it ([`crate::secret`]).
pub fn secret_hash(value: &[u8]) -> String {
    crate::secret::id(value)
}

/// Whether an environment variable's name says it holds a credential
/// ([`envc_model::model::names_credential`], the model's and the promotion gates' rule too).
pub fn sensitive_name(name: &str) -> bool {
    envc_model::model::names_credential(name)
}

/// Whether a variable's value is hidden whole: a non-empty value of a credential's name, except
/// a DSN that spells no password (the model accepts that literal too:
/// [`envc_model::model::literal_is_credential`]); a DSN's password in a URL is hidden either way.
pub fn credential_value(name: &str, value: &str) -> bool {
    envc_model::model::literal_is_credential(name, value)
}

/// A port, keyed by container port and protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortFacts {
    /// Name, if any.
    pub name: Option<String>,
    /// Port other services use (Kubernetes Service port).
    pub service: Option<u16>,
    /// Published on the host (Compose).
    pub host_port: Option<u16>,
    /// Exposed on every node (Kubernetes NodePort).
    pub node_port: Option<u16>,
    /// The host address it is published on (Compose `127.0.0.1:8080:80`); `None` is every
    /// address.
    pub host_ip: Option<String>,
}

/// A volume, keyed by mount path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFacts {
    /// Survives restarts.
    pub persistent: bool,
    /// How it is mounted, when not the default read-write root: `read-only`, `sub-path X`.
    pub mount: Option<String>,
    /// Size, normalised (`20Gi`), when known.
    pub size: Option<String>,
    /// A claim's storage class (Kubernetes; Compose volumes have none).
    pub class: Option<String>,
    /// A claim's access modes, sorted and joined (`ReadWriteOnce`).
    pub access: Option<String>,
    /// The Compose named volume mounted (not compared: names are the format's own).
    pub source: Option<String>,
    /// A Compose named volume that one of the service's init steps or sidecars mounts too
    /// (not compared: it explains why a scratch volume is a named volume there).
    pub shared: bool,
}

/// A file placed in the container, keyed by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// Short hash of the content.
    pub hash: String,
    /// The content, when it is text (for text diffs; never reported as a value); empty for a
    /// binary file and for a Secret's.
    pub content: String,
    /// The size in bytes, when the content is not UTF-8 text: a binary file is shown as its
    /// label and size, never as its bytes.
    pub binary: Option<usize>,
}

impl FileFacts {
    /// A file of these bytes: text when they are UTF-8, else binary; hashed as bytes, so a
    /// file compares equal to the same bytes read from any format.
    pub fn from_bytes(bytes: &[u8]) -> FileFacts {
        match std::str::from_utf8(bytes) {
            Ok(t) => FileFacts::text(t.to_string()),
            Err(_) => FileFacts {
                hash: secret_hash(bytes),
                content: String::new(),
                binary: Some(bytes.len()),
            },
        }
    }

    /// A text file.
    pub fn text(content: String) -> FileFacts {
        FileFacts {
            hash: secret_hash(content.as_bytes()),
            content,
            binary: None,
        }
    }

    /// A file known only by its hash (a Secret's: its content is never kept).
    pub fn opaque(bytes: &[u8]) -> FileFacts {
        FileFacts {
            hash: secret_hash(bytes),
            content: String::new(),
            binary: None,
        }
    }

    /// The fact's value: the content's hash, and for a binary file its size
    /// (`<hash> binary 722 bytes`), which a report prints as `<content 1, binary, 722 bytes>`.
    pub fn value(&self) -> String {
        match self.binary {
            Some(n) => format!("{} {BINARY} {n} bytes", self.hash),
            None => self.hash.clone(),
        }
    }
}

/// The word that marks a binary file's fact value ([`FileFacts::value`]).
pub const BINARY: &str = "binary";

/// A probe (or Compose healthcheck), with runtime defaults applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeFacts {
    /// `http`, `tcp`, `grpc` or `exec`.
    pub kind: String,
    /// What it checks: `:9000/minio/health/live`, `:5432`, or the command.
    pub target: String,
    /// Seconds between checks.
    pub period: u32,
    /// Seconds a check may take.
    pub timeout: u32,
    /// Failures before failing.
    pub failure_threshold: u32,
    /// Seconds before the first check.
    pub initial_delay: u32,
}

/// Resource requests and limits, normalised (`500m`, `1Gi`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFacts {
    /// CPU request.
    pub requests_cpu: Option<String>,
    /// Memory request.
    pub requests_memory: Option<String>,
    /// CPU limit.
    pub limits_cpu: Option<String>,
    /// Memory limit.
    pub limits_memory: Option<String>,
}

impl ResourceFacts {
    /// One request or limit.
    pub fn get(&self, r: Resource) -> Option<&str> {
        match r {
            Resource::RequestsCpu => self.requests_cpu.as_deref(),
            Resource::RequestsMemory => self.requests_memory.as_deref(),
            Resource::LimitsCpu => self.limits_cpu.as_deref(),
            Resource::LimitsMemory => self.limits_memory.as_deref(),
        }
    }
}

impl envc_emit::healthcheck::Timings for ProbeFacts {
    fn initial_delay(&self) -> u32 {
        self.initial_delay
    }
    fn period(&self) -> u32 {
        self.period
    }
    fn timeout(&self) -> u32 {
        self.timeout
    }
    fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }
}

/// Security settings of the container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityFacts {
    /// `uid` or `uid:gid`.
    pub user: Option<String>,
    /// Read-only root filesystem.
    pub read_only_root: Option<bool>,
    /// Privilege escalation allowed.
    pub privilege_escalation: Option<bool>,
    /// Capabilities dropped.
    pub cap_drop: Vec<String>,
    /// Capabilities added.
    pub cap_add: Vec<String>,
    /// Privileged container.
    pub privileged: Option<bool>,
    /// The seccomp profile: `runtime-default`, `unconfined`, `localhost <profile>`; `None`
    /// when the file sets none (the runtime's default).
    pub seccomp: Option<String>,
}

/// Capabilities spelled one way, as Docker and Kubernetes both accept them: upper case,
/// without the `CAP_` prefix, sorted, once each (`cap_add: [net_admin, CAP_SYS_TIME]` is
/// `NET_ADMIN,SYS_TIME`).
pub fn capabilities(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .map(|c| {
            let up = c.trim().to_ascii_uppercase();
            up.strip_prefix("CAP_").map(String::from).unwrap_or(up)
        })
        .filter(|c| !c.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Work that runs to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Runs once (Kubernetes Job; in Compose a one-shot service others wait for).
    Job,
    /// Runs on a schedule (Kubernetes CronJob; in Compose a service labelled with its
    /// schedule).
    Cronjob,
}

impl JobKind {
    /// Name as in facts (the model's `workload` values).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Job => "job",
            JobKind::Cronjob => "cronjob",
        }
    }
}

/// Settings of a job (or of each job a cron job starts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFacts {
    /// Retries of a failed job.
    pub retries: Option<u32>,
    /// Seconds it may run.
    pub deadline: Option<u32>,
    /// Seconds a finished job is kept.
    pub ttl: Option<u32>,
    /// Pods at once.
    pub parallelism: Option<u32>,
    /// Runs before the release's workloads (a Helm pre-install,pre-upgrade hook).
    pub before: bool,
}

/// A cron job's schedule, with Kubernetes' defaults applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleFacts {
    /// The cron expression.
    pub cron: Option<String>,
    /// `allow`, `forbid` or `replace`.
    pub concurrency: Option<String>,
    /// Time zone (IANA name).
    pub time_zone: Option<String>,
    /// Finished jobs kept.
    pub successful_history: Option<u32>,
    /// Failed jobs kept.
    pub failed_history: Option<u32>,
}

/// An init step or a sidecar: a container of the service's pod besides the main one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepFacts {
    /// Image reference.
    pub image: Option<String>,
    /// Entrypoint override.
    pub command: Option<Vec<String>>,
    /// Arguments override.
    pub args: Option<Vec<String>>,
    /// Environment, secrets hashed as the service's are.
    pub env: BTreeMap<String, Value>,
}

impl StepFacts {
    /// The step's facts as `field -> value`.
    fn flatten(&self) -> Vec<(StepField, String)> {
        let mut out = Vec::new();
        if let Some(i) = &self.image {
            out.push((StepField::Image, i.clone()));
        }
        if let Some(c) = &self.command {
            out.push((StepField::Command, shell_words(c)));
        }
        if let Some(a) = &self.args {
            out.push((StepField::Args, shell_words(a)));
        }
        for (k, v) in &self.env {
            out.push((StepField::Env(k.clone()), v.display()));
        }
        out
    }
}

/// What one service deploys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Name.
    pub name: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob` or `compose`.
    pub workload: String,
    /// Job or cron job; `None` for long-running workloads.
    pub job_kind: Option<JobKind>,
    /// Restart policy: `no`, `on-failure`, `always`, `unless-stopped` (Compose's
    /// `on-failure:N` stays as written on a service that is not a job).
    pub restart: Option<String>,
    /// Job settings, for jobs and cron jobs.
    pub job: Option<JobFacts>,
    /// Schedule, for cron jobs.
    pub schedule: Option<ScheduleFacts>,
    /// Init steps by name, in the order they run.
    pub init: IndexMap<String, StepFacts>,
    /// Sidecars by name.
    pub sidecars: BTreeMap<String, StepFacts>,
    /// Compose profiles (besides the one envc puts cron jobs in).
    pub profiles: Vec<String>,
    /// Kubernetes namespace, or Compose networks.
    pub namespace: Option<String>,
    /// Image reference.
    pub image: Option<String>,
    /// Entrypoint override.
    pub command: Option<Vec<String>>,
    /// Arguments override.
    pub args: Option<Vec<String>>,
    /// Environment.
    pub env: BTreeMap<String, Value>,
    /// Ports by container port and protocol.
    pub ports: BTreeMap<Port, PortFacts>,
    /// Volumes by mount path.
    pub volumes: BTreeMap<String, VolumeFacts>,
    /// Files by path.
    pub files: BTreeMap<String, FileFacts>,
    /// Resources.
    pub resources: ResourceFacts,
    /// Replicas.
    pub replicas: Option<u32>,
    /// Autoscaling: `min-max` and targets.
    pub autoscaling: Option<String>,
    /// Probes by kind (Compose's healthcheck as [`ProbeKind::Healthcheck`]).
    pub probes: BTreeMap<ProbeKind, ProbeFacts>,
    /// Services it waits for, with the condition (`started`, `healthy`, `completed`).
    pub depends_on: BTreeMap<String, String>,
    /// Routes to the service by `host/path` (Ingress rules and HTTPRoutes alike).
    pub exposure: BTreeMap<String, crate::route::RouteFacts>,
    /// Security settings.
    pub security: SecurityFacts,
    /// The workload's (or Compose service's) own fields that no fact above reads, as
    /// `path -> value` ([`crate::structure`]); shared, so comparing facts does not copy them.
    pub fields: std::sync::Arc<BTreeMap<String, Value>>,
}

impl ServiceFacts {
    /// Every fact as `key -> value`, ordered as the keys' spellings are.
    pub fn flatten(&self) -> Flat {
        // Room for the usual facts and every variable and structural line.
        let mut m =
            Entries::with_capacity(32 + self.env.len() + self.fields.len() + 2 * self.ports.len());
        self.flatten_container(&mut m);
        self.flatten_ports(&mut m);
        self.flatten_storage(&mut m);
        self.flatten_scaling(&mut m);
        self.flatten_probes(&mut m);
        self.flatten_relations(&mut m);
        self.flatten_security(&mut m);
        self.flatten_lifecycle(&mut m);
        self.flatten_steps(&mut m);
        for (path, v) in self.fields.iter() {
            m.insert(Key::Field(path.clone()), v.display());
        }
        m.sorted()
    }

    /// Workload kind, restart, job settings, schedule and profiles.
    fn flatten_lifecycle(&self, m: &mut Entries) {
        if let Some(k) = self.job_kind {
            m.insert(Key::Workload, k.as_str().into());
        }
        if let Some(r) = &self.restart {
            m.insert(Key::Restart, r.clone());
        }
        if let Some(j) = &self.job {
            for (field, v) in [
                (JobField::Retries, j.retries.map(|n| n.to_string())),
                (JobField::Deadline, j.deadline.map(duration)),
                (JobField::Ttl, j.ttl.map(duration)),
                (JobField::Parallelism, j.parallelism.map(|n| n.to_string())),
                (JobField::Run, j.before.then(|| "before".to_string())),
            ] {
                if let Some(v) = v {
                    m.insert(Key::Job(field), v);
                }
            }
        }
        if let Some(s) = &self.schedule {
            for (field, v) in [
                (ScheduleField::Cron, s.cron.clone()),
                (ScheduleField::Concurrency, s.concurrency.clone()),
                (ScheduleField::TimeZone, s.time_zone.clone()),
                (
                    ScheduleField::SuccessfulHistory,
                    s.successful_history.map(|n| n.to_string()),
                ),
                (
                    ScheduleField::FailedHistory,
                    s.failed_history.map(|n| n.to_string()),
                ),
            ] {
                if let Some(v) = v {
                    m.insert(Key::Schedule(field), v);
                }
            }
        }
        if !self.profiles.is_empty() {
            m.insert(Key::Profiles, self.profiles.join(","));
        }
    }

    /// Init steps (and their order) and sidecars.
    fn flatten_steps(&self, m: &mut Entries) {
        if !self.init.is_empty() {
            let order: Vec<&str> = self.init.keys().map(String::as_str).collect();
            m.insert(Key::InitOrder, order.join(", "));
        }
        for (name, step) in &self.init {
            for (field, v) in step.flatten() {
                m.insert(Key::Init(name.clone(), field), v);
            }
        }
        for (name, side) in &self.sidecars {
            for (field, v) in side.flatten() {
                m.insert(Key::Sidecar(name.clone(), field), v);
            }
        }
    }

    /// Image, command, arguments and environment.
    fn flatten_container(&self, m: &mut Entries) {
        if let Some(i) = &self.image {
            m.insert(Key::Image, i.clone());
        }
        if let Some(c) = &self.command {
            m.insert(Key::Command, shell_words(c));
        }
        if let Some(a) = &self.args {
            m.insert(Key::Args, shell_words(a));
        }
        for (k, v) in &self.env {
            m.insert(Key::Env(k.clone()), v.display());
        }
    }

    fn flatten_ports(&self, m: &mut Entries) {
        for (port, p) in &self.ports {
            // Port names are labels, not behaviour (Compose has none): the port being open is
            // the fact.
            m.insert(Key::Port(port.clone()), "open".into());
            for (field, v) in [
                (PortField::Service, p.service),
                (PortField::HostPort, p.host_port),
                (PortField::NodePort, p.node_port),
            ] {
                if let Some(v) = v {
                    m.insert(Key::PortField(port.clone(), field), v.to_string());
                }
            }
            if let Some(ip) = &p.host_ip {
                m.insert(Key::PortField(port.clone(), PortField::HostIp), ip.clone());
            }
        }
    }

    /// Volumes and files.
    fn flatten_storage(&self, m: &mut Entries) {
        for (path, v) in &self.volumes {
            let kind = if v.persistent {
                "persistent"
            } else {
                "scratch"
            };
            let value = match &v.mount {
                Some(how) => format!("{kind}, {how}"),
                None => kind.to_string(),
            };
            m.insert(Key::Volume(path.clone()), value);
            if let Some(s) = &v.size {
                m.insert(Key::VolumeSize(path.clone()), s.clone());
            }
            if let Some(c) = &v.class {
                m.insert(Key::VolumeClass(path.clone()), c.clone());
            }
            if let Some(a) = &v.access {
                m.insert(Key::VolumeAccess(path.clone()), a.clone());
            }
        }
        for (path, f) in &self.files {
            m.insert(Key::File(path.clone()), f.value());
        }
    }

    /// Resources, replicas and autoscaling.
    fn flatten_scaling(&self, m: &mut Entries) {
        for r in Resource::ALL {
            if let Some(v) = self.resources.get(r) {
                m.insert(Key::Resource(r), v.to_string());
            }
        }
        if let Some(n) = self.replicas {
            m.insert(Key::Replicas, n.to_string());
        }
        if let Some(a) = &self.autoscaling {
            m.insert(Key::Autoscaling, a.clone());
        }
    }

    fn flatten_probes(&self, m: &mut Entries) {
        for (k, p) in &self.probes {
            m.insert(Key::Probe(*k), format!("{} {}", p.kind, p.target));
            m.insert(
                Key::ProbeTiming(*k),
                format!(
                    "period {}s, timeout {}s, failures {}, delay {}s",
                    p.period, p.timeout, p.failure_threshold, p.initial_delay
                ),
            );
        }
    }

    /// Start order, ingress routes and namespace.
    fn flatten_relations(&self, m: &mut Entries) {
        for (d, condition) in &self.depends_on {
            m.insert(Key::DependsOn(d.clone()), condition.clone());
        }
        crate::route::flatten(&self.exposure, m);
        if let Some(n) = &self.namespace {
            m.insert(Key::Namespace, n.clone());
        }
    }

    fn flatten_security(&self, m: &mut Entries) {
        let s = &self.security;
        if let Some(u) = &s.user {
            m.insert(Key::Security(Security::User), u.clone());
        }
        if let Some(b) = s.read_only_root {
            m.insert(Key::Security(Security::ReadOnlyRoot), b.to_string());
        }
        if let Some(b) = s.privilege_escalation {
            m.insert(Key::Security(Security::PrivilegeEscalation), b.to_string());
        }
        if !s.cap_drop.is_empty() {
            m.insert(Key::Security(Security::CapDrop), s.cap_drop.join(","));
        }
        if !s.cap_add.is_empty() {
            m.insert(Key::Security(Security::CapAdd), s.cap_add.join(","));
        }
        if let Some(b) = s.privileged {
            m.insert(Key::Security(Security::Privileged), b.to_string());
        }
        if let Some(p) = &s.seccomp {
            m.insert(Key::Security(Security::Seccomp), p.clone());
        }
    }
}

/// Seconds in the model's notation: the largest units that divide it (`30m`, `1d`, `1h30m`).
pub fn duration(seconds: u32) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = seconds;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Characters that make a string more than words to a shell: operators, quotes, expansions,
/// globs, comments, a line break.
const SHELL_SYNTAX: &str = "|&;<>()$`\\\"'\n*?[]#~=%{}!";

/// How a volume is mounted, as [`VolumeFacts::mount`] spells it: `None` for read-write at
/// the volume's root.
pub fn mount_options(read_only: bool, sub_path: Option<&str>) -> Option<String> {
    let mut parts = Vec::new();
    if read_only {
        parts.push("read-only".to_string());
    }
    if let Some(p) = sub_path.filter(|p| !p.is_empty()) {
        parts.push(format!("sub-path {p}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// What a command probe runs, spelled one way: `sh -c X` and `/bin/sh -c X` (what Compose's
/// `CMD-SHELL X` runs) are the same shell command, and one whose `X` holds no shell syntax is
/// just `X`'s words (`CMD-SHELL pg_isready -U app` is `[pg_isready, -U, app]`).
pub fn exec_target(command: &[String]) -> String {
    match command {
        [sh, c, script] if (sh == "sh" || sh == "/bin/sh") && c == "-c" => {
            // Quotes only group words: a script with no other shell syntax is its words.
            let plain = !script
                .chars()
                .any(|ch| SHELL_SYNTAX.contains(ch) && ch != '"' && ch != '\'');
            if plain {
                let words = crate::shell::split_words(script);
                shell_words(&words)
            } else {
                shell_words(&["/bin/sh".to_string(), "-c".to_string(), script.clone()])
            }
        }
        _ => shell_words(command),
    }
}

/// Words joined the way a shell would read them back.
pub fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalises a CPU amount (`"1"`, `"0.5"`, `"500m"`, `0.5`) to Kubernetes' canonical form.
pub fn cpu(text: &str) -> String {
    match envc_model::quantity::Cpu::parse(text.trim()) {
        Ok(c) => envc_model::quantity::Cpu::from_millis(c.millis).text,
        Err(_) => text.to_string(),
    }
}

/// Normalises a memory amount (`"1Gi"`, `"1024Mi"`) to the largest binary unit.
pub fn memory(text: &str) -> String {
    match envc_model::quantity::Bytes::parse(text.trim()) {
        Ok(b) => envc_model::quantity::Bytes::from_bytes(b.bytes).text,
        Err(_) => exponent_bytes(text.trim())
            .map(|b| envc_model::quantity::Bytes::from_bytes(b).text)
            .unwrap_or_else(|| text.to_string()),
    }
}

/// Kubernetes' decimal-exponent quantities (`10485760e3`, `1E6`) in bytes.
fn exponent_bytes(text: &str) -> Option<u64> {
    let (m, e) = text.split_once(['e', 'E'])?;
    let m: u64 = m.parse().ok()?;
    let e: u32 = e.parse().ok()?;
    m.checked_mul(10u64.checked_pow(e)?)
}

/// Which structural lines an extractor takes ([`crate::structure`]): all of them, or only those
/// a comparison of two modes reads ([`crate::compare_modes`] compares a service's facts and the
/// cluster objects, never a workload's own fields nor other objects' lines). Both give the same
/// comparison of modes; the tests check it on every committed environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lines {
    /// Every service's own fields and every object's lines (for [`crate::compare`]).
    #[default]
    All,
    /// Cluster objects' lines only: services' `fields` and other objects' lines stay empty
    /// (about a fifth of a 1,000-service `envc diff docker k3s`).
    Modes,
    /// No Kubernetes object's lines, only its kind: for a comparison of two modes of different
    /// formats ([`Lines::between`]). One of them is then a Compose mode, which has no cluster
    /// objects, and such a comparison reads no other object: a cluster object is compared only
    /// by being there (at 1,000 services, making and reading the network policies' lines was
    /// 6% of `envc diff docker k3s`'s instructions).
    Kinds,
}

impl Lines {
    /// Whether an object of `scope` keeps its lines.
    pub fn keeps(self, scope: Scope) -> bool {
        match self {
            Lines::All => true,
            Lines::Modes => scope != Scope::Other,
            Lines::Kinds => false,
        }
    }

    /// The lines a comparison of two modes reads: [`Lines::Kinds`] between formats,
    /// [`Lines::Modes`] within one.
    pub fn between(a: Format, b: Format) -> Lines {
        if a == b { Lines::Modes } else { Lines::Kinds }
    }
}

/// Whether an object is compared whatever the two sides are: kinds that hold cluster policy no
/// service fact shows (Pod Security labels, quotas, network policies, disruption budgets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Compared in every comparison (between formats it is reported as not representable, between
    /// two modes as shaped by the modes).
    Cluster,
    /// Compared only between two sets of the same format that are not both fresh builds.
    Other,
    /// A secret's keys, consumers and source ([`crate::secret_source`]): compared between two
    /// Kubernetes modes built from the model, where Secrets and ExternalSecrets are not compared
    /// line by line (between two sets of files they are, and this is left out).
    Secret,
}

/// One object read structurally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    /// `Namespace`, `volumes`, ...
    pub kind: String,
    /// When it is compared.
    pub scope: Scope,
    /// Every field as `path -> value`; shared, so comparing facts does not copy them.
    pub lines: std::sync::Arc<BTreeMap<String, Value>>,
}

/// Compose's duration notation (`1m30s`, `10s`, `500ms`) in whole seconds.
pub fn seconds(s: &str) -> Option<u32> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            'u' | 'µ' => {
                chars.next();
                0.000_001
            }
            'n' => {
                chars.next();
                0.000_000_001
            }
            _ => return None,
        };
        total += n * unit;
    }
    if !num.is_empty() {
        total += num.parse::<f64>().ok()?;
    }
    Some(total.round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_probes_are_spelled_one_way() {
        let w = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = exec_target(&w(&["sh", "-c", "curl -f localhost || exit 1"]));
        assert_eq!(
            a,
            exec_target(&w(&["/bin/sh", "-c", "curl -f localhost || exit 1"]))
        );
        assert_ne!(
            a,
            exec_target(&w(&["bash", "-c", "curl -f localhost || exit 1"]))
        );
        assert_eq!(exec_target(&w(&["pg_isready"])), "pg_isready");
        // A script of plain words is those words.
        assert_eq!(
            exec_target(&w(&["/bin/sh", "-c", "pg_isready -U app"])),
            "pg_isready -U app"
        );
        // Quotes group words and are gone when the shell has read them.
        assert_eq!(
            exec_target(&w(&["/bin/sh", "-c", "echo \"hello world\""])),
            exec_target(&w(&["echo", "hello world"]))
        );
    }

    #[test]
    fn secrets_never_show_their_values() {
        let v = Value::Parts(vec![
            Part::Text("postgres://u:".into()),
            Part::Secret(secret_hash(b"hunter2")),
            Part::Text("@db".into()),
        ]);
        assert!(!v.display().contains("hunter2"));
        assert_eq!(secret_hash(b"hunter2").len(), 12);
        assert_ne!(secret_hash(b"a"), secret_hash(b"b"));
    }

    #[test]
    fn quantities_normalise() {
        assert_eq!(cpu("0.5"), "500m");
        assert_eq!(cpu("1000m"), "1");
        assert_eq!(memory("1024Mi"), "1Gi");
        assert_eq!(memory("512Mi"), "512Mi");
        assert_eq!(memory("10485760e3"), memory("10000Mi"));
    }

    #[test]
    fn credential_names() {
        assert!(sensitive_name("MINIO_ROOT_PASSWORD"));
        assert!(sensitive_name("AWS_ACCESS_KEY_ID"));
        assert!(!sensitive_name("POSTGRES_PASSWORD_FILE"));
        assert!(!sensitive_name("PREFECT_API_URL"));
    }
}
