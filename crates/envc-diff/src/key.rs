//! Fact keys: which fact of a service a value is, with its parts typed (the variable's name, the
//! port, the probe and which of its fields), so that comparison, classification and model
//! lookups match on parts instead of parsing strings.
//!
//! The dotted spelling (`env.AWS_REGION`, `ports.5432/tcp.service`, `probes.readiness.timing`)
//! is the boundary: it is what the text and JSON reports print and what `accepted.toml` rules
//! name. Keys order as their spellings do, so reports list differences in the same order
//! whichever way they were built.

use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};

/// A facet: the first component of a key, one kind of fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// The service itself (present on one side only).
    Service,
    /// Image reference.
    Image,
    /// Entrypoint override.
    Command,
    /// Arguments override.
    Args,
    /// Environment variables.
    Env,
    /// Ports.
    Ports,
    /// Volumes.
    Volumes,
    /// Files placed in the container.
    Files,
    /// Resource requests and limits.
    Resources,
    /// Replicas.
    Replicas,
    /// Autoscaling bounds and targets.
    Autoscaling,
    /// Probes (and the healthcheck Compose has instead).
    Probes,
    /// Start order.
    DependsOn,
    /// Ingress routes.
    Exposure,
    /// Security settings.
    Security,
    /// Namespace or Compose networks.
    Namespace,
    /// The workload kind, for work that runs to completion (`job`, `cronjob`).
    Workload,
    /// Restart policy.
    Restart,
    /// Settings of a job or cron job (retries, deadline, ttl, parallelism, when it runs).
    Job,
    /// A cron job's schedule.
    Schedule,
    /// Init steps, run in order before the main container.
    Init,
    /// Sidecars, running beside the main container for the pod's life.
    Sidecars,
    /// Compose profiles.
    Profiles,
    /// The service's own fields no other facet reads, structurally (`fields.<path>`).
    Fields,
    /// An object that is not a service (`Namespace/shop`, `volumes/pgdata`): present, or one
    /// of its fields (`object.<path>`).
    Object,
    /// A name more than one object or service in one set has.
    Duplicate,
}

impl Facet {
    /// Every facet, in declaration order.
    pub const ALL: [Facet; 26] = [
        Facet::Service,
        Facet::Image,
        Facet::Command,
        Facet::Args,
        Facet::Env,
        Facet::Ports,
        Facet::Volumes,
        Facet::Files,
        Facet::Resources,
        Facet::Replicas,
        Facet::Autoscaling,
        Facet::Probes,
        Facet::DependsOn,
        Facet::Exposure,
        Facet::Security,
        Facet::Namespace,
        Facet::Workload,
        Facet::Restart,
        Facet::Job,
        Facet::Schedule,
        Facet::Init,
        Facet::Sidecars,
        Facet::Profiles,
        Facet::Fields,
        Facet::Object,
        Facet::Duplicate,
    ];

    /// Every facet's name, in declaration order (for schemas that list them).
    pub const NAMES: [&'static str; 26] = {
        let mut out = [""; 26];
        let mut i = 0;
        while i < out.len() {
            out[i] = Facet::ALL[i].as_str();
            i += 1;
        }
        out
    };

    /// Name as printed (`depends_on`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Facet::Service => "service",
            Facet::Image => "image",
            Facet::Command => "command",
            Facet::Args => "args",
            Facet::Env => "env",
            Facet::Ports => "ports",
            Facet::Volumes => "volumes",
            Facet::Files => "files",
            Facet::Resources => "resources",
            Facet::Replicas => "replicas",
            Facet::Autoscaling => "autoscaling",
            Facet::Probes => "probes",
            Facet::DependsOn => "depends_on",
            Facet::Exposure => "exposure",
            Facet::Security => "security",
            Facet::Namespace => "namespace",
            Facet::Workload => "workload",
            Facet::Restart => "restart",
            Facet::Job => "job",
            Facet::Schedule => "schedule",
            Facet::Init => "init",
            Facet::Sidecars => "sidecars",
            Facet::Profiles => "profiles",
            Facet::Fields => "fields",
            Facet::Object => "object",
            Facet::Duplicate => "duplicate",
        }
    }
}

/// A container port and its protocol (`5432/tcp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Container port.
    pub number: u16,
    /// Protocol, lowercase (`tcp`, `udp`, `sctp`).
    pub protocol: String,
}

impl Port {
    /// A TCP or UDP port; `protocol` is lowercased.
    pub fn new(number: u16, protocol: &str) -> Port {
        Port {
            number,
            protocol: protocol.to_ascii_lowercase(),
        }
    }

    /// Calls `f` with the spelling's pieces (number, `/`, protocol) without allocating.
    fn with_parts<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        let mut buf = itoa::Buffer::new();
        let number = buf.format(self.number);
        f(&[number, "/", &self.protocol])
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.protocol)
    }
}

impl Ord for Port {
    fn cmp(&self, other: &Self) -> Ordering {
        self.with_parts(|a| other.with_parts(|b| cmp_concat(a, b)))
    }
}

impl PartialOrd for Port {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A field of a port besides its being open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortField {
    /// The port other services use (Kubernetes Service port).
    Service,
    /// Published on the host (Compose).
    HostPort,
    /// Exposed on every node (Kubernetes NodePort).
    NodePort,
    /// The host address it is published on (Compose).
    HostIp,
}

impl PortField {
    /// Name as in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            PortField::Service => "service",
            PortField::HostPort => "host_port",
            PortField::NodePort => "node_port",
            PortField::HostIp => "host_ip",
        }
    }
}

/// A fact of a route besides where it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteField {
    /// What serves it: an Ingress (and its class) or a Gateway (and its listener).
    Parent,
    /// The Ingress's TLS for its host: Secret and certificate issuer.
    Tls,
}

impl RouteField {
    /// Name as in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteField::Parent => "parent",
            RouteField::Tls => "tls",
        }
    }
}

/// A resource request or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU request.
    RequestsCpu,
    /// Memory request.
    RequestsMemory,
    /// CPU limit.
    LimitsCpu,
    /// Memory limit.
    LimitsMemory,
}

impl Resource {
    /// Every resource, in key order.
    pub const ALL: [Resource; 4] = [
        Resource::RequestsCpu,
        Resource::RequestsMemory,
        Resource::LimitsCpu,
        Resource::LimitsMemory,
    ];

    /// Name as in keys (`requests.cpu`).
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::RequestsCpu => "requests.cpu",
            Resource::RequestsMemory => "requests.memory",
            Resource::LimitsCpu => "limits.cpu",
            Resource::LimitsMemory => "limits.memory",
        }
    }
}

/// A probe, or the healthcheck Compose has instead of probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeKind {
    /// Compose's one healthcheck (and, in Kubernetes facts compared with Compose, the probe it
    /// stands for).
    Healthcheck,
    /// Liveness probe.
    Liveness,
    /// Readiness probe.
    Readiness,
    /// Startup probe.
    Startup,
}

impl ProbeKind {
    /// Name as in keys (`readiness`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Healthcheck => "healthcheck",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
            ProbeKind::Startup => "startup",
        }
    }
}

/// A security setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `uid` or `uid:gid`.
    User,
    /// Read-only root filesystem.
    ReadOnlyRoot,
    /// Privilege escalation allowed.
    PrivilegeEscalation,
    /// Capabilities dropped.
    CapDrop,
    /// Capabilities added.
    CapAdd,
    /// Privileged container.
    Privileged,
    /// The seccomp profile: `runtime-default`, `unconfined`, `localhost <profile>`.
    Seccomp,
}

impl Security {
    /// Name as in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::User => "user",
            Security::ReadOnlyRoot => "read_only_root",
            Security::PrivilegeEscalation => "privilege_escalation",
            Security::CapDrop => "cap_drop",
            Security::CapAdd => "cap_add",
            Security::Privileged => "privileged",
            Security::Seccomp => "seccomp",
        }
    }
}

/// A setting of a job (a cron job's jobs included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobField {
    /// Times a failed job is retried (Kubernetes `backoffLimit`, Compose `on-failure:N`).
    Retries,
    /// Time a job may run (`activeDeadlineSeconds`).
    Deadline,
    /// Time a finished job is kept (`ttlSecondsAfterFinished`).
    Ttl,
    /// Pods run at once.
    Parallelism,
    /// When it runs: `before` the release's workloads (a Helm pre-install,pre-upgrade hook).
    Run,
}

impl JobField {
    /// Name as in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            JobField::Retries => "retries",
            JobField::Deadline => "deadline",
            JobField::Ttl => "ttl",
            JobField::Parallelism => "parallelism",
            JobField::Run => "run",
        }
    }
}

/// A field of a cron job's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleField {
    /// The cron expression.
    Cron,
    /// What happens when a run is due while the last one still runs.
    Concurrency,
    /// The time zone the expression is read in.
    TimeZone,
    /// Finished jobs kept.
    SuccessfulHistory,
    /// Failed jobs kept.
    FailedHistory,
}

impl ScheduleField {
    /// Name as in keys (the model's names).
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleField::Cron => "cron",
            ScheduleField::Concurrency => "concurrency",
            ScheduleField::TimeZone => "time_zone",
            ScheduleField::SuccessfulHistory => "successful_history",
            ScheduleField::FailedHistory => "failed_history",
        }
    }
}

/// A fact of an init step or a sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepField {
    /// Image reference.
    Image,
    /// Entrypoint override.
    Command,
    /// Arguments override.
    Args,
    /// `env.<NAME>`.
    Env(String),
}

impl StepField {
    /// Calls `f` with the pieces of the field's spelling after the step's name and a `.`.
    fn with_parts<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        match self {
            StepField::Image => f(&["image"]),
            StepField::Command => f(&["command"]),
            StepField::Args => f(&["args"]),
            StepField::Env(n) => f(&["env.", n]),
        }
    }
}

/// Which fact of a service a value is.
#[derive(Debug, Clone)]
pub enum Key {
    /// The service exists (its workload kind).
    Service,
    /// `image`.
    Image,
    /// `command`.
    Command,
    /// `args`.
    Args,
    /// `env.<NAME>`.
    Env(String),
    /// `ports.<port>`: the port is open.
    Port(Port),
    /// `ports.<port>.<field>`.
    PortField(Port, PortField),
    /// `volumes.<path>`: persistent or scratch.
    Volume(String),
    /// `volumes.<path>.size`.
    VolumeSize(String),
    /// `volumes.<path>.class`: a claim's storage class.
    VolumeClass(String),
    /// `volumes.<path>.access`: a claim's access modes.
    VolumeAccess(String),
    /// `files.<path>`: the content's hash.
    File(String),
    /// `resources.<requests|limits>.<cpu|memory>`.
    Resource(Resource),
    /// `replicas`.
    Replicas,
    /// `autoscaling`.
    Autoscaling,
    /// `probes.<kind>`: what it checks.
    Probe(ProbeKind),
    /// `probes.<kind>.timing`.
    ProbeTiming(ProbeKind),
    /// `depends_on.<service>`.
    DependsOn(String),
    /// `exposure.<host><path>`: the Service and port the route leads to.
    Exposure(String),
    /// `exposure.<host><path>.<parent|tls>`.
    Route(String, RouteField),
    /// `security.<setting>`.
    Security(Security),
    /// `namespace`.
    Namespace,
    /// `workload`: `job` or `cronjob` (long-running workloads have none).
    Workload,
    /// `restart`: `no`, `on-failure`, `always` or `unless-stopped` (and Compose's
    /// `on-failure:N` where the service is not a job).
    Restart,
    /// `job.<field>`.
    Job(JobField),
    /// `schedule.<field>`.
    Schedule(ScheduleField),
    /// `init`: the init steps' names, in the order they run.
    InitOrder,
    /// `init.<step>.<field>`.
    Init(String, StepField),
    /// `sidecars.<name>.<field>`.
    Sidecar(String, StepField),
    /// `profiles`: the Compose profiles a service belongs to.
    Profiles,
    /// `fields.<path>`: a field of the service's own object no other key reads.
    Field(String),
    /// `object`: an object that is not a service exists (its kind).
    Object,
    /// `object.<path>`: a field of such an object.
    ObjectField(String),
    /// `duplicate`: the name is given to more than one object or service.
    Duplicate,
}

impl Key {
    /// The facet the key belongs to.
    pub fn facet(&self) -> Facet {
        match self {
            Key::Service => Facet::Service,
            Key::Image => Facet::Image,
            Key::Command => Facet::Command,
            Key::Args => Facet::Args,
            Key::Env(_) => Facet::Env,
            Key::Port(_) | Key::PortField(..) => Facet::Ports,
            Key::Volume(_) | Key::VolumeSize(_) | Key::VolumeClass(_) | Key::VolumeAccess(_) => {
                Facet::Volumes
            }
            Key::File(_) => Facet::Files,
            Key::Resource(_) => Facet::Resources,
            Key::Replicas => Facet::Replicas,
            Key::Autoscaling => Facet::Autoscaling,
            Key::Probe(_) | Key::ProbeTiming(_) => Facet::Probes,
            Key::DependsOn(_) => Facet::DependsOn,
            Key::Exposure(_) | Key::Route(..) => Facet::Exposure,
            Key::Security(_) => Facet::Security,
            Key::Namespace => Facet::Namespace,
            Key::Workload => Facet::Workload,
            Key::Restart => Facet::Restart,
            Key::Job(_) => Facet::Job,
            Key::Schedule(_) => Facet::Schedule,
            Key::InitOrder | Key::Init(..) => Facet::Init,
            Key::Sidecar(..) => Facet::Sidecars,
            Key::Profiles => Facet::Profiles,
            Key::Field(_) => Facet::Fields,
            Key::Object | Key::ObjectField(_) => Facet::Object,
            Key::Duplicate => Facet::Duplicate,
        }
    }

    /// Calls `f` with the pieces of the key's spelling, which concatenate to it.
    pub(crate) fn with_parts<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        match self {
            Key::Service
            | Key::Image
            | Key::Command
            | Key::Args
            | Key::Replicas
            | Key::Autoscaling
            | Key::Namespace
            | Key::Workload
            | Key::Restart
            | Key::InitOrder
            | Key::Profiles
            | Key::Object
            | Key::Duplicate => f(&[self.facet().as_str()]),
            Key::Env(s)
            | Key::File(s)
            | Key::DependsOn(s)
            | Key::Exposure(s)
            | Key::Volume(s)
            | Key::Field(s)
            | Key::ObjectField(s) => f(&[self.facet().as_str(), ".", s]),
            Key::Route(r, field) => f(&["exposure.", r, ".", field.as_str()]),
            Key::VolumeSize(p) => f(&["volumes.", p, ".size"]),
            Key::VolumeClass(p) => f(&["volumes.", p, ".class"]),
            Key::VolumeAccess(p) => f(&["volumes.", p, ".access"]),
            Key::Port(p) => {
                let mut buf = itoa::Buffer::new();
                f(&["ports.", buf.format(p.number), "/", &p.protocol])
            }
            Key::PortField(p, field) => {
                let mut buf = itoa::Buffer::new();
                let number = buf.format(p.number);
                f(&["ports.", number, "/", &p.protocol, ".", field.as_str()])
            }
            Key::Resource(r) => f(&["resources.", r.as_str()]),
            Key::Probe(k) => f(&["probes.", k.as_str()]),
            Key::ProbeTiming(k) => f(&["probes.", k.as_str(), ".timing"]),
            Key::Security(s) => f(&["security.", s.as_str()]),
            Key::Job(j) => f(&["job.", j.as_str()]),
            Key::Schedule(s) => f(&["schedule.", s.as_str()]),
            Key::Init(step, field) | Key::Sidecar(step, field) => field.with_parts(|rest| {
                let head = [self.facet().as_str(), ".", step, "."];
                let mut all: [&str; 6] = [""; 6];
                all[..4].copy_from_slice(&head);
                all[4..4 + rest.len()].copy_from_slice(rest);
                f(&all[..4 + rest.len()])
            }),
        }
    }

    /// Whether an accepted-differences rule's `key` names this key: the facet, the key, or a
    /// prefix of it ending at a `.` (`env.OTEL_RESOURCE_ATTRIBUTES`).
    pub fn matches_rule(&self, rule: &str) -> bool {
        if self.facet().as_str() == rule {
            return true;
        }
        let key = self.to_string();
        key == rule
            || key
                .strip_prefix(rule)
                .is_some_and(|rest| rest.starts_with('.'))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_parts(|parts| parts.iter().try_for_each(|p| f.write_str(p)))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

impl Ord for Key {
    /// As the spellings compare, so reports keep their order.
    fn cmp(&self, other: &Self) -> Ordering {
        // Keys of one variant spelled `<facet>.<text>` compare as their texts (the common case
        // in a service's facts: many env and structural lines).
        match (self, other) {
            (Key::Env(a), Key::Env(b))
            | (Key::File(a), Key::File(b))
            | (Key::DependsOn(a), Key::DependsOn(b))
            | (Key::Exposure(a), Key::Exposure(b))
            | (Key::Volume(a), Key::Volume(b))
            | (Key::Field(a), Key::Field(b))
            | (Key::ObjectField(a), Key::ObjectField(b)) => a.cmp(b),
            // `<facet>.<name>` (and `probes.<name>.timing`): as the names compare.
            (Key::Resource(a), Key::Resource(b)) => a.as_str().cmp(b.as_str()),
            (Key::Probe(a), Key::Probe(b)) | (Key::ProbeTiming(a), Key::ProbeTiming(b)) => {
                a.as_str().cmp(b.as_str())
            }
            (Key::Security(a), Key::Security(b)) => a.as_str().cmp(b.as_str()),
            (Key::Port(a), Key::Port(b)) => a.cmp(b),
            _ => {
                // Every spelling starts with its facet's name: two facets neither of whose
                // names begins the other's order as their names do.
                let (fa, fb) = (self.facet().as_str(), other.facet().as_str());
                if fa != fb && !fa.starts_with(fb) && !fb.starts_with(fa) {
                    return fa.cmp(fb);
                }
                self.with_parts(|a| other.with_parts(|b| cmp_concat(a, b)))
            }
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Compares the concatenations of two lists of pieces, as byte strings, a run of common
/// length at a time.
fn cmp_concat(a: &[&str], b: &[&str]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        while x.is_empty() && i < a.len() {
            x = a[i].as_bytes();
            i += 1;
        }
        while y.is_empty() && j < b.len() {
            y = b[j].as_bytes();
            j += 1;
        }
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            Ordering::Equal => {
                x = &x[n..];
                y = &y[n..];
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Key> {
        vec![
            Key::Service,
            Key::Image,
            Key::Args,
            Key::Env("AWS_REGION".into()),
            Key::Env("AWS".into()),
            Key::Port(Port::new(80, "tcp")),
            Key::Port(Port::new(8080, "tcp")),
            Key::PortField(Port::new(80, "TCP"), PortField::Service),
            Key::PortField(Port::new(5432, "tcp"), PortField::HostPort),
            Key::Volume("/data".into()),
            Key::VolumeSize("/data".into()),
            Key::VolumeClass("/data".into()),
            Key::VolumeAccess("/data".into()),
            Key::Volume("/data-old".into()),
            Key::Volume("/data/x".into()),
            Key::File("/etc/a.yaml".into()),
            Key::Resource(Resource::LimitsCpu),
            Key::Resource(Resource::RequestsCpu),
            Key::Replicas,
            Key::Autoscaling,
            Key::Probe(ProbeKind::Healthcheck),
            Key::ProbeTiming(ProbeKind::Healthcheck),
            Key::Probe(ProbeKind::Startup),
            Key::DependsOn("db".into()),
            Key::Exposure("shop.local/".into()),
            Key::Security(Security::ReadOnlyRoot),
            Key::Security(Security::Seccomp),
            Key::Namespace,
            Key::Workload,
            Key::Restart,
            Key::Job(JobField::Retries),
            Key::Job(JobField::Run),
            Key::Schedule(ScheduleField::Cron),
            Key::Schedule(ScheduleField::TimeZone),
            Key::InitOrder,
            Key::Init("migrate".into(), StepField::Image),
            Key::Init("migrate".into(), StepField::Env("DB_URL".into())),
            Key::Init("migrate-old".into(), StepField::Args),
            Key::Sidecar("proxy".into(), StepField::Command),
            Key::Sidecar("proxy".into(), StepField::Env("X".into())),
            Key::Profiles,
            Key::Field("labels.x".into()),
            Key::Object,
            Key::ObjectField("spec.hard.pods".into()),
            Key::Duplicate,
            Key::PortField(Port::new(80, "tcp"), PortField::HostIp),
        ]
    }

    #[test]
    fn spellings() {
        let shown: Vec<String> = keys().iter().map(Key::to_string).collect();
        assert_eq!(
            shown,
            [
                "service",
                "image",
                "args",
                "env.AWS_REGION",
                "env.AWS",
                "ports.80/tcp",
                "ports.8080/tcp",
                "ports.80/tcp.service",
                "ports.5432/tcp.host_port",
                "volumes./data",
                "volumes./data.size",
                "volumes./data.class",
                "volumes./data.access",
                "volumes./data-old",
                "volumes./data/x",
                "files./etc/a.yaml",
                "resources.limits.cpu",
                "resources.requests.cpu",
                "replicas",
                "autoscaling",
                "probes.healthcheck",
                "probes.healthcheck.timing",
                "probes.startup",
                "depends_on.db",
                "exposure.shop.local/",
                "security.read_only_root",
                "security.seccomp",
                "namespace",
                "workload",
                "restart",
                "job.retries",
                "job.run",
                "schedule.cron",
                "schedule.time_zone",
                "init",
                "init.migrate.image",
                "init.migrate.env.DB_URL",
                "init.migrate-old.args",
                "sidecars.proxy.command",
                "sidecars.proxy.env.X",
                "profiles",
                "fields.labels.x",
                "object",
                "object.spec.hard.pods",
                "duplicate",
                "ports.80/tcp.host_ip",
            ]
        );
    }

    #[test]
    fn keys_order_as_their_spellings() {
        // Every pair, so that each shortcut of `cmp` (same variant, another facet) is held to
        // the spellings' order.
        for a in keys() {
            for b in keys() {
                assert_eq!(
                    a.cmp(&b),
                    a.to_string().cmp(&b.to_string()),
                    "{a} against {b}"
                );
            }
        }
        let mut typed = keys();
        typed.sort();
        let mut spelled: Vec<String> = keys().iter().map(Key::to_string).collect();
        spelled.sort();
        assert_eq!(
            typed.iter().map(Key::to_string).collect::<Vec<_>>(),
            spelled
        );
        let mut ports = [
            Port::new(8080, "tcp"),
            Port::new(80, "udp"),
            Port::new(80, "tcp"),
        ];
        ports.sort();
        assert_eq!(
            ports.map(|p| p.to_string()),
            ["80/tcp", "80/udp", "8080/tcp"]
        );
    }

    #[test]
    fn rules_name_facets_keys_and_prefixes() {
        let k = Key::Env("OTEL_RESOURCE_ATTRIBUTES".into());
        assert!(k.matches_rule("env"));
        assert!(k.matches_rule("env.OTEL_RESOURCE_ATTRIBUTES"));
        assert!(!k.matches_rule("env.OTEL"));
        let side = Key::Sidecar("proxy".into(), StepField::Env("UPSTREAM".into()));
        assert!(side.matches_rule("sidecars"));
        assert!(side.matches_rule("sidecars.proxy"));
        assert!(!side.matches_rule("sidecars.prox"));
        assert_eq!(Facet::NAMES.len(), Facet::ALL.len());
        assert_eq!(Facet::NAMES[16], "workload");
        let t = Key::ProbeTiming(ProbeKind::Readiness);
        assert!(t.matches_rule("probes.readiness"));
        assert!(!t.matches_rule("probes.ready"));
    }
}
