//! The Compose backend: `docker-compose.yml` in the current Compose specification, the config
//! files it mounts, and where secrets come from (`docker compose -f .../docker-compose.yml up`).
//!
//! The artifact set of a mode:
//!
//! | file | what |
//! | --- | --- |
//! | `docker-compose.yml` | the project; never holds a secret value |
//! | `files/<service>/<file>` | config files, byte-identical to what the Kubernetes backend puts in ConfigMaps, bind-mounted read-only |
//! | `secrets/<name>` | dev tiers: the value of a secret an image reads from a file (`file_env`), a Compose secret |
//! | `.env` | dev tiers: values of secrets that images only read from plain variables, interpolated by Compose |
//! | `.env.example` | prod tiers: the variables the operator must set (no values) |
//!
//! Choices, and why (docs/compose.md says more):
//! - Secrets: an image that reads `<VAR>_FILE` gets a Compose secret (a read-only bind mount at
//!   `/run/secrets/<name>`, so the value is not in the container's environment); an image that
//!   only reads a plain variable gets `${ENVC_SECRET_<NAME>:?...}`, which Compose interpolates
//!   from `.env`. Secrets sourced from `environment:` are not used: Compose copies them into the
//!   container, which fails on a read-only root filesystem.
//! - Config files are bind mounts rather than `configs:`: on a single engine Compose implements
//!   file configs as bind mounts anyway, docker-compose v1 ignores `configs:` outside swarm, and a
//!   label with the files' hash makes `docker compose up` recreate a container whose files
//!   changed (as the pod-template annotation does in Kubernetes).
//! - One network per environment: namespaces are not isolation boundaries in the model (services
//!   talk across them: Prefect sends traces to the collector, Prometheus scrapes everyone), and
//!   service names are unique in an environment, so one network keeps every reference valid.
//! - Ports are published on 127.0.0.1 in the short syntax (`127.0.0.1:4200:4200/tcp`): dev
//!   services with dev passwords stay off the LAN, and docker-compose v1 does not know the long
//!   syntax's `host_ip`.
//! - Healthchecks run a command in the container, so only exec probes and HTTP probes with a
//!   `command` map; the readiness probe is preferred, then liveness. A dependency condition of
//!   `healthy` becomes `service_healthy` only when the dependency has a healthcheck here.

use std::collections::BTreeMap;
use std::path::Path;

use envc_core::Ir;
use envc_core::ir::{
    DependencyCondition, EnvValue, EnvVar, Probe, ProbeAction, Segment, Service, Step,
};
use envc_model::model::Protocol;
use envc_model::model::Restart;
use envc_model::profile::Tier;
use envc_model::{Diagnostic, Diagnostics};
use indexmap::IndexMap;
use serde::Serialize;

use crate::artifact::{Artifact, EmitError};
use crate::header;
use crate::labels;
use crate::manifest::value_of;
use crate::name::{
    CONFIG_HASH_ANNOTATION, INIT_OF_LABEL, SCHEDULE_LABEL, SIDECAR_OF_LABEL, WORKLOAD_LABEL,
    config_hash, secret_var,
};
use crate::yaml::to_yaml;

/// The Compose file's name in the artifact set.
pub const COMPOSE_FILE: &str = "docker-compose.yml";

/// Where Compose mounts a service's secrets.
pub const SECRETS_DIR: &str = "/run/secrets";

/// Address published ports bind to on the host.
pub const PUBLISH_ADDRESS: &str = "127.0.0.1";

/// Restart policy when the profile names none.
pub const DEFAULT_RESTART: &str = "unless-stopped";

/// Variable naming the directory of secret files in prod tiers (dev tiers ship `secrets/`).
pub const SECRETS_DIR_VAR: &str = "ENVC_SECRETS_DIR";

#[derive(Serialize)]
struct ComposeFile {
    name: String,
    services: IndexMap<String, ComposeService>,
    networks: IndexMap<String, Network>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    volumes: IndexMap<String, NamedVolume>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    secrets: IndexMap<String, SecretSource>,
}

#[derive(Serialize)]
struct ComposeService {
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildSection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entrypoint: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    environment: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    expose: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Mount>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    depends_on: IndexMap<String, DependsOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    profiles: Vec<String>,
    restart: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_grace_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deploy: Option<Deploy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    read_only: bool,
    cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_mode: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    networks: Vec<String>,
    labels: BTreeMap<String, String>,
}

#[derive(Clone, Serialize)]
struct BuildSection {
    context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dockerfile: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    args: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

#[derive(Clone, Serialize)]
struct Mount {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tmpfs: Option<Tmpfs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<VolumeOptions>,
}

#[derive(Clone, Serialize)]
struct VolumeOptions {
    /// The sub-directory of the volume to mount.
    subpath: String,
}

#[derive(Clone, Serialize)]
struct Tmpfs {
    /// Bytes (an integer: docker-compose v1 accepts no unit here).
    size: u64,
}

#[derive(Clone, Serialize)]
struct DependsOn {
    condition: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Healthcheck {
    test: Vec<String>,
    interval: String,
    timeout: String,
    retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_period: Option<String>,
}

#[derive(Clone, Serialize)]
struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<DeployResources>,
}

#[derive(Clone, Serialize)]
struct DeployResources {
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<ResourceSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reservations: Option<ResourceSet>,
}

#[derive(Clone, Serialize)]
struct ResourceSet {
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<String>,
}

#[derive(Serialize)]
struct Network {
    driver: &'static str,
}

#[derive(Serialize)]
struct NamedVolume {}

#[derive(Serialize)]
struct SecretSource {
    file: String,
}

/// Compose interpolates `$` everywhere in the file: double every literal `$` so it reaches the
/// container unchanged (`$$POSTGRES_USER` is `$POSTGRES_USER` inside the container).
pub fn escape(s: &str) -> String {
    s.replace('$', "$$")
}

/// The interpolation that carries a secret's value from `.env` (or the shell) into the file.
fn interpolation(secret: &str) -> String {
    format!(
        "${{{}:?secret {secret} is not set, see docs/compose.md}}",
        secret_var(secret)
    )
}

/// Why a probe has no Compose equivalent, or the healthcheck `test` it maps to.
fn probe_test(p: &Probe) -> Result<Vec<String>, &'static str> {
    let command = match &p.action {
        ProbeAction::Exec { command } => command,
        ProbeAction::Http {
            command: Some(c), ..
        } => c,
        ProbeAction::Http { command: None, .. } => {
            return Err(
                "HTTP probe without `command` (Compose can only run a command in the container)",
            );
        }
        ProbeAction::Tcp { .. } => {
            return Err("TCP probe (Compose can only run a command in the container)");
        }
        ProbeAction::Grpc { .. } => {
            return Err("gRPC probe (Compose can only run a command in the container)");
        }
    };
    if command.is_empty() {
        return Err("probe with an empty command");
    }
    let mut test = vec!["CMD".to_string()];
    test.extend(command.iter().map(|c| escape(c)));
    Ok(test)
}

fn seconds(s: u32) -> String {
    envc_model::quantity::Duration { seconds: s }.compose()
}

/// The healthcheck of a service, by the rule in [`crate::healthcheck`], with Kubernetes' probe
/// defaults written out so a probe behaves the same in both runtimes (Docker's own defaults
/// are 30s, 30s and 3).
fn healthcheck(s: &Service) -> Result<Healthcheck, String> {
    let h = crate::healthcheck::healthcheck(
        s.readiness.as_ref(),
        s.liveness.as_ref(),
        s.startup.as_ref(),
        probe_test,
    )
    .map_err(|reasons| crate::healthcheck::why_none(&reasons))?;
    Ok(Healthcheck {
        test: h.test,
        interval: seconds(h.interval),
        timeout: seconds(h.timeout),
        retries: h.retries,
        start_period: (h.start_period > 0).then(|| seconds(h.start_period)),
    })
}

/// Services of the IR without a Compose healthcheck, with the reason, for those that declare
/// a probe (a service without probes is not an exception).
pub fn services_without_healthcheck(ir: &Ir) -> Vec<(String, String)> {
    ir.services
        .iter()
        .filter(|s| s.readiness.is_some() || s.liveness.is_some())
        .filter_map(|s| healthcheck(s).err().map(|why| (s.name.clone(), why)))
        .collect()
}

/// The Compose condition for a dependency: `service_healthy` needs a healthcheck on the
/// dependency, so a healthy condition on one without degrades to `service_started`.
fn condition(c: DependencyCondition, dependency_has_healthcheck: bool) -> &'static str {
    match c {
        DependencyCondition::Completed => "service_completed_successfully",
        DependencyCondition::Healthy if dependency_has_healthcheck => "service_healthy",
        DependencyCondition::Healthy | DependencyCondition::Started => "service_started",
    }
}

/// Whether a restart policy is one Compose accepts.
fn valid_restart(r: &str) -> bool {
    match r.strip_prefix("on-failure:") {
        Some(n) => n.parse::<u32>().is_ok(),
        None => matches!(r, "no" | "always" | "on-failure" | "unless-stopped"),
    }
}

/// Whether a Compose project name is valid: lowercase letters, digits, `-` and `_`, starting
/// with a letter or digit.
fn valid_project_name(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Path of a service's config file in the artifact set: the key plus the container file's
/// extension, so editors and linters know the format.
fn file_path(service: &str, key: &str, container_path: &str) -> String {
    match Path::new(container_path).extension() {
        Some(ext) => format!("files/{service}/{key}.{}", ext.to_string_lossy()),
        None => format!("files/{service}/{key}"),
    }
}

fn volume_name(service: &str, volume: &str) -> String {
    format!("{service}-{volume}")
}

/// A dev value as a line of `.env`: bare when it is plain, single-quoted (no interpolation,
/// no escapes, in Compose v1 and v2) otherwise; `None` for a value with a single quote or a
/// line break, which no quoting carries through both (refused by [`check`]).
fn dotenv_value(v: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._~+/=@:%,-".contains(c);
    if v.chars().all(plain) {
        Some(v.to_string())
    } else if !v.contains(['\'', '\n', '\r']) {
        Some(format!("'{v}'"))
    } else {
        None
    }
}

/// What the services need from secrets, collected while building them.
#[derive(Default)]
struct SecretUse {
    /// Secrets mounted as files (`file_env`).
    files: Vec<String>,
    /// Secrets interpolated from variables.
    vars: Vec<String>,
}

impl SecretUse {
    fn file(&mut self, s: &str) {
        if !self.files.iter().any(|x| x == s) {
            self.files.push(s.to_string());
        }
    }
    fn var(&mut self, s: &str) {
        if !self.vars.iter().any(|x| x == s) {
            self.vars.push(s.to_string());
        }
    }
}

fn environment(vars: &[EnvVar], used: &mut SecretUse) -> (IndexMap<String, String>, Vec<String>) {
    let mut env = IndexMap::new();
    let mut mounts = Vec::new();
    for e in vars {
        match (&e.value, &e.file_env) {
            (EnvValue::Text(t), _) => {
                env.insert(e.name.clone(), escape(t));
            }
            (EnvValue::Secret(name), Some(file_env)) => {
                used.file(name);
                if !mounts.contains(name) {
                    mounts.push(name.clone());
                }
                env.insert(file_env.clone(), format!("{SECRETS_DIR}/{name}"));
            }
            (EnvValue::Secret(name), None) => {
                used.var(name);
                env.insert(e.name.clone(), interpolation(name));
            }
            (EnvValue::Template(segs), _) => {
                let v: String = segs
                    .iter()
                    .map(|seg| match seg {
                        Segment::Text(t) => escape(t),
                        Segment::Secret(name) => {
                            used.var(name);
                            interpolation(name)
                        }
                    })
                    .collect();
                env.insert(e.name.clone(), v);
            }
        }
    }
    (env, mounts)
}

fn resources(s: &Service) -> Option<DeployResources> {
    resources_of(&s.resources)
}

fn resources_of(r: &envc_model::model::Resources) -> Option<DeployResources> {
    let set = |c: &envc_model::model::CpuMemory| {
        (c.cpu.is_some() || c.memory.is_some()).then(|| ResourceSet {
            cpus: c.cpu.as_ref().map(|c| c.cores()),
            memory: c.memory.as_ref().map(|b| b.compose()),
        })
    };
    let limits = set(&r.limits);
    let reservations = set(&r.requests);
    (limits.is_some() || reservations.is_some()).then_some(DeployResources {
        limits,
        reservations,
    })
}

fn port_spec(container: u16, protocol: Protocol) -> String {
    match protocol {
        Protocol::Tcp => container.to_string(),
        Protocol::Udp => format!("{container}/udp"),
    }
}

fn service(
    ir: &Ir,
    s: &Service,
    restart: &str,
    network: &str,
    has_healthcheck: &dyn Fn(&str) -> bool,
    used: &mut SecretUse,
    to_root: &str,
) -> Result<ComposeService, EmitError> {
    let (environment, secrets) = environment(&s.env, used);

    let mut ports = Vec::new();
    let mut expose = Vec::new();
    for p in &s.ports {
        match p.host_port {
            Some(host) => {
                ports.push(format!(
                    "{PUBLISH_ADDRESS}:{host}:{}/{}",
                    p.container,
                    p.protocol.compose()
                ));
            }
            None => expose.push(port_spec(p.container, p.protocol)),
        }
    }

    let mut volumes = Vec::new();
    for v in &s.volumes {
        volumes.push(if let Some(rel) = &v.bind {
            Mount {
                kind: "bind",
                source: Some(escape(&format!("{to_root}/{rel}"))),
                target: escape(&v.path),
                read_only: v.read_only,
                tmpfs: None,
                volume: None,
            }
        } else if let Some(shared) = &v.shared {
            Mount {
                kind: "volume",
                source: Some(shared.clone()),
                target: escape(&v.path),
                read_only: v.read_only,
                tmpfs: None,
                volume: v
                    .sub_path
                    .as_ref()
                    .map(|p| VolumeOptions { subpath: escape(p) }),
            }
        } else if v.persistent || shared_scratch(s, &v.name) {
            Mount {
                kind: "volume",
                source: Some(volume_name(&s.name, &v.name)),
                target: escape(&v.path),
                read_only: v.read_only,
                tmpfs: None,
                volume: v
                    .sub_path
                    .as_ref()
                    .map(|p| VolumeOptions { subpath: escape(p) }),
            }
        } else {
            Mount {
                kind: "tmpfs",
                source: None,
                target: escape(&v.path),
                read_only: false,
                tmpfs: v.size.as_ref().map(|b| Tmpfs { size: b.bytes }),
                volume: None,
            }
        });
    }
    for f in &s.files {
        volumes.push(Mount {
            kind: "bind",
            source: Some(format!("./{}", file_path(&s.name, &f.name, &f.path))),
            target: escape(&f.path),
            read_only: true,
            tmpfs: None,
            volume: None,
        });
    }

    let mut depends_on: IndexMap<String, DependsOn> = s
        .depends_on
        .iter()
        .map(|d| {
            let c = condition(d.condition, has_healthcheck(&d.service));
            (d.service.clone(), DependsOn { condition: c })
        })
        .collect();
    for step in &s.init {
        depends_on.insert(
            step_service_name(&s.name, &step.name),
            DependsOn {
                condition: "service_completed_successfully",
            },
        );
    }

    let build = s.build.as_ref().map(|b| BuildSection {
        context: format!("{to_root}/{}", b.context),
        dockerfile: b.dockerfile.as_deref().map(escape),
        args: b.args.iter().map(|(k, v)| (k.clone(), escape(v))).collect(),
        target: b.target.as_deref().map(escape),
    });

    let deploy_resources = resources(s);
    let replicas = (s.replicas != 1).then_some(s.replicas);
    let deploy = (replicas.is_some() || deploy_resources.is_some()).then_some(Deploy {
        replicas,
        resources: deploy_resources,
    });

    let sec = &s.security;
    let user = sec.run_as_user.map(|u| match sec.run_as_group {
        Some(g) => format!("{u}:{g}"),
        None => u.to_string(),
    });
    let mut cap_add = sec.capabilities_add.clone();
    cap_add.sort();

    let mut labels = labels::service(ir, s);
    if let Some(h) = config_hash(s) {
        labels.insert(CONFIG_HASH_ANNOTATION.to_string(), h);
    }
    let schedule = s.job.as_ref().and_then(|j| j.schedule.as_ref());
    if let Some(sc) = schedule {
        labels.insert(SCHEDULE_LABEL.to_string(), sc.cron.clone());
    } else if s.is_job() {
        labels.insert(WORKLOAD_LABEL.to_string(), "job".to_string());
    }

    Ok(ComposeService {
        image: escape(&s.image),
        build,
        entrypoint: s.command.iter().map(|c| escape(c)).collect(),
        command: s.args.iter().map(|c| escape(c)).collect(),
        working_dir: s.working_dir.as_deref().map(escape),
        environment,
        secrets,
        ports,
        expose,
        volumes,
        depends_on,
        healthcheck: healthcheck(s).ok(),
        profiles: schedule
            .map(|_| vec![SCHEDULED_PROFILE.to_string()])
            .unwrap_or_default(),
        restart: restart_of(s, restart),
        stop_grace_period: s.stop_grace_period.map(|d| d.compose()),
        deploy,
        user,
        read_only: sec.read_only_root_filesystem,
        cap_drop: vec!["ALL".to_string()],
        cap_add,
        security_opt: if sec.allow_privilege_escalation {
            Vec::new()
        } else {
            vec!["no-new-privileges:true".to_string()]
        },
        network_mode: None,
        networks: vec![network.to_string()],
        labels: labels.into_iter().map(|(k, v)| (k, escape(&v))).collect(),
    })
}

/// Compose profile of the services Kubernetes runs on a schedule: `up` leaves them out, and
/// `docker compose run --rm <service>` runs one once.
pub const SCHEDULED_PROFILE: &str = "scheduled";

/// The Compose service of an init step or sidecar of `s`.
pub fn step_service_name(service: &str, step: &str) -> String {
    format!("{service}-{step}")
}

/// Whether a scratch volume of `s` is mounted by one of its steps or sidecars: Compose cannot
/// share a tmpfs between containers, so it becomes a named volume.
fn shared_scratch(s: &Service, volume: &str) -> bool {
    s.init
        .iter()
        .chain(&s.sidecars)
        .any(|st| st.mounts.iter().any(|m| m.volume == volume))
        && s.volumes.iter().any(|v| v.name == volume && !v.persistent)
}

/// The restart policy of a service: its own, else the mode's; a job retried on failure is
/// retried `retries` times, as Kubernetes' `backoffLimit`.
fn restart_of(s: &Service, mode_default: &str) -> String {
    match (s.restart, &s.job) {
        (Some(Restart::OnFailure), Some(j)) => format!("on-failure:{}", j.retries),
        (Some(r), _) => r.as_str().to_string(),
        (None, _) => mode_default.to_string(),
    }
}

/// The service of one init step (`sidecar` false) or sidecar of `s`, derived from the main
/// service `main`: same security settings and labels, the service's volumes at the step's
/// paths. An init step waits for what the service waits for and for the step before it; a
/// sidecar joins the service's network namespace, as a Kubernetes sidecar shares its pod's.
fn step_service(
    s: &Service,
    main: &ComposeService,
    step: &Step,
    sidecar: bool,
    previous: Option<&str>,
    used: &mut SecretUse,
    to_root: &str,
) -> ComposeService {
    let (environment, secrets) = environment(&step.env, used);
    let volumes = step
        .mounts
        .iter()
        .map(|m| {
            let own = s.volumes.iter().find(|v| v.name == m.volume);
            let bind = own.and_then(|v| v.bind.as_ref());
            Mount {
                kind: if bind.is_some() { "bind" } else { "volume" },
                source: Some(match (bind, own.and_then(|v| v.shared.clone())) {
                    (Some(rel), _) => escape(&format!("{to_root}/{rel}")),
                    (None, Some(shared)) => shared,
                    (None, None) => volume_name(&s.name, &m.volume),
                }),
                target: escape(&m.path),
                read_only: m.read_only,
                tmpfs: None,
                volume: None,
            }
        })
        .collect();
    let mut labels = main.labels.clone();
    labels.remove(CONFIG_HASH_ANNOTATION);
    labels.remove(SCHEDULE_LABEL);
    labels.remove(WORKLOAD_LABEL);
    let role = if sidecar {
        SIDECAR_OF_LABEL
    } else {
        INIT_OF_LABEL
    };
    labels.insert(role.to_string(), escape(&s.name));
    let mut depends_on: IndexMap<String, DependsOn> = IndexMap::new();
    if sidecar {
        depends_on.insert(
            s.name.clone(),
            DependsOn {
                condition: "service_started",
            },
        );
    } else {
        for (k, v) in main
            .depends_on
            .iter()
            .filter(|(k, _)| !k.starts_with(&format!("{}-", s.name)))
        {
            depends_on.insert(k.clone(), v.clone());
        }
        if let Some(p) = previous {
            depends_on.insert(
                p.to_string(),
                DependsOn {
                    condition: "service_completed_successfully",
                },
            );
        }
    }
    let own_resources = step.resources != envc_model::model::Resources::default();
    let deploy_resources = if own_resources {
        resources_of(&step.resources)
    } else {
        main.deploy.as_ref().and_then(|d| d.resources.clone())
    };
    ComposeService {
        image: escape(&step.image),
        build: (step.image == s.image)
            .then(|| main.build.clone())
            .flatten(),
        entrypoint: step.command.iter().map(|c| escape(c)).collect(),
        command: step.args.iter().map(|c| escape(c)).collect(),
        working_dir: step.working_dir.as_deref().map(escape),
        environment,
        secrets,
        ports: Vec::new(),
        expose: Vec::new(),
        volumes,
        depends_on,
        healthcheck: None,
        profiles: main.profiles.clone(),
        restart: if sidecar {
            main.restart.clone()
        } else {
            "no".to_string()
        },
        stop_grace_period: None,
        deploy: deploy_resources.map(|r| Deploy {
            replicas: None,
            resources: Some(r),
        }),
        user: main.user.clone(),
        read_only: main.read_only,
        cap_drop: main.cap_drop.clone(),
        cap_add: main.cap_add.clone(),
        security_opt: main.security_opt.clone(),
        network_mode: sidecar.then(|| format!("service:{}", s.name)),
        networks: if sidecar {
            Vec::new()
        } else {
            main.networks.clone()
        },
        labels,
    }
}

/// Compiles the IR into the Compose artifact set.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    emit_with(ir, "../../..")
}

/// Compiles the IR into a Compose project whose directory reaches the project root (where
/// build contexts are relative to) through `to_root`.
pub fn emit_with(ir: &Ir, to_root: &str) -> Result<Vec<Artifact>, EmitError> {
    let set = assemble(ir, to_root)?;
    let mut text = set.prefix;
    text.push_str(&to_yaml(&set.file)?);
    let mut out = vec![Artifact::text(COMPOSE_FILE, text)];
    out.extend(set.rest);
    Ok(out)
}

/// The Compose file of [`emit_with`]'s set as the document its text reads back as (the
/// comments aside), and the set's other files: for a caller that reads the set in memory.
pub fn document_with(
    ir: &Ir,
    to_root: &str,
) -> Result<(yaml_serde::Value, Vec<Artifact>), EmitError> {
    let mut set = assemble(ir, to_root)?;
    // The services made values one at a time, each typed one dropped once it is a value: the
    // typed file and its value are never both whole.
    let services = std::mem::take(&mut set.file.services);
    let mut doc = value_of(&set.file)?;
    let mut made = yaml_serde::Mapping::with_capacity(services.len());
    for (name, s) in services {
        made.insert(yaml_serde::Value::String(name), value_of(&s)?);
    }
    // `services` is always serialised (empty here), so this replaces it in its place.
    let Some(slot) = doc.get_mut("services") else {
        return Err(EmitError::Serialize(
            "the Compose file's value has no `services` mapping".into(),
        ));
    };
    *slot = yaml_serde::Value::Mapping(made);
    Ok((doc, set.rest))
}

/// A Compose set before its main file is written: the file, the comments it opens with, and
/// every other file of the set in order.
struct Assembled {
    file: ComposeFile,
    prefix: String,
    rest: Vec<Artifact>,
}

fn assemble(ir: &Ir, to_root: &str) -> Result<Assembled, EmitError> {
    let project = project_name(ir);
    let restart = ir
        .compose
        .restart
        .clone()
        .unwrap_or_else(|| DEFAULT_RESTART.to_string());
    let network = ir.env.clone();
    let has_healthcheck = |name: &str| ir.service(name).is_some_and(|s| healthcheck(s).is_ok());

    let mut used = SecretUse::default();
    let mut services = IndexMap::new();
    let mut volumes: IndexMap<String, NamedVolume> = IndexMap::new();
    let mut files = Vec::new();
    for s in &ir.services {
        let main = service(
            ir,
            s,
            &restart,
            &network,
            &has_healthcheck,
            &mut used,
            to_root,
        )?;
        let mut previous: Option<String> = None;
        let mut steps = Vec::new();
        for step in &s.init {
            let name = step_service_name(&s.name, &step.name);
            let svc = step_service(
                s,
                &main,
                step,
                false,
                previous.as_deref(),
                &mut used,
                to_root,
            );
            steps.push((name.clone(), svc));
            previous = Some(name);
        }
        for side in &s.sidecars {
            let svc = step_service(s, &main, side, true, None, &mut used, to_root);
            steps.push((step_service_name(&s.name, &side.name), svc));
        }
        services.extend(steps);
        services.insert(s.name.clone(), main);
        for v in s.volumes.iter().filter(|v| v.bind.is_none()) {
            if let Some(shared) = &v.shared {
                volumes.insert(shared.clone(), NamedVolume {});
            } else if v.persistent || shared_scratch(s, &v.name) {
                volumes.insert(volume_name(&s.name, &v.name), NamedVolume {});
            }
        }
        for f in &s.files {
            files.push(Artifact::text(
                file_path(&s.name, &f.name, &f.path),
                f.content.clone(),
            ));
        }
    }

    // Secrets: dev tiers carry their values in secrets/ and .env; prod tiers read the files
    // from a directory the operator names and the variables from the operator's environment.
    let dev = ir.tier == Tier::Dev;
    let secret_sources: IndexMap<String, SecretSource> = used
        .files
        .iter()
        .map(|name| {
            let file = if dev {
                format!("./secrets/{name}")
            } else {
                format!("${{{SECRETS_DIR_VAR}:?set {SECRETS_DIR_VAR} to the directory of secret files}}/{name}")
            };
            (name.clone(), SecretSource { file })
        })
        .collect();
    let mut out = Vec::new();
    let file = ComposeFile {
        name: project,
        services,
        networks: IndexMap::from([(network, Network { driver: "bridge" })]),
        volumes,
        secrets: secret_sources,
    };
    let mut prefix = header::lines(&ir.header_lines(), "# ");
    prefix.push_str(&notes(ir));
    prefix.push_str(&provenance(ir, &used.files));
    out.extend(files);

    let lines = |vars: &[String], values: bool| -> Result<String, EmitError> {
        let mut t = header::lines(&ir.header_lines(), "# ");
        if values {
            t.push_str("# Dev-tier values of secrets that images read from plain variables; Compose\n# interpolates them into docker-compose.yml. Variables set in the shell win.\n");
        } else {
            t.push_str(&format!("# What this mode needs at deploy time (no values here): set these variables, and\n# {SECRETS_DIR_VAR} to a directory holding one file per secret named below.\n"));
        }
        for name in vars {
            let secret = ir.secret(name);
            if let Some(d) = secret.and_then(|s| s.description.as_deref()) {
                t.push_str(&format!("# {name}: {}\n", d.replace(['\n', '\r'], " ")));
            }
            let value = match secret.and_then(|s| s.value.as_ref()) {
                Some(v) if values => dotenv_value(&v.value).ok_or_else(|| {
                    EmitError::NotRepresentable(
                        format!("secrets.{name}.dev_value"),
                        "a value the checks refuse for .env reached emission".into(),
                    )
                })?,
                _ => String::new(),
            };
            t.push_str(&format!("{}={value}\n", secret_var(name)));
        }
        Ok(t)
    };
    if dev {
        for name in &used.files {
            if let Some(v) = ir.secret(name).and_then(|s| s.value.as_ref()) {
                // The file holds the value and nothing else: images read it verbatim.
                out.push(Artifact::text(format!("secrets/{name}"), v.value.clone()));
            }
        }
        if !used.vars.is_empty() {
            out.push(Artifact::text(".env", lines(&used.vars, true)?));
        }
    } else if !used.vars.is_empty() || !used.files.is_empty() {
        let mut t = lines(&used.vars, false)?;
        if !used.files.is_empty() {
            for name in &used.files {
                t.push_str(&format!("# secret file: ${SECRETS_DIR_VAR}/{name}\n"));
            }
            t.push_str(&format!("{SECRETS_DIR_VAR}=\n"));
        }
        out.push(Artifact::text(".env.example", t));
    }
    Ok(Assembled {
        file,
        prefix,
        rest: out,
    })
}

/// The Compose project name: the profile's, else the environment's.
fn project_name(ir: &Ir) -> String {
    ir.compose
        .project_name
        .clone()
        .unwrap_or_else(|| ir.env.clone())
}

/// What a model can say that Compose cannot carry, found before emission: each problem with
/// the model path of the value to change.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let project = project_name(ir);
    if !valid_project_name(&project) {
        let path = match ir.compose.project_name {
            Some(_) => "compose.project_name",
            None => "environment.name",
        };
        d.push(
            Diagnostic::error(
                "E-bad-name",
                format!("`{project}` is not a Compose project name"),
            )
            .path(path)
            .hint("use lowercase letters, digits, `-` and `_`, starting with a letter or digit; set `[compose] project_name` in the profile to keep the environment's name"),
        );
    }
    if let Some(r) = ir.compose.restart.as_ref().filter(|r| !valid_restart(r)) {
        d.push(
            Diagnostic::error("E-invalid-value", format!("`{r}` is not a restart policy"))
                .path("compose.restart")
                .hint("write no, always, on-failure, on-failure:<retries> or unless-stopped"),
        );
    }
    let mut used = SecretUse::default();
    let mut volumes: IndexMap<String, (&str, &str)> = IndexMap::new();
    // Environment volumes are Compose volumes of their own name.
    for v in &ir.volumes {
        volumes.insert(v.name.clone(), ("the environment", &v.name));
    }
    for s in &ir.services {
        for e in s.all_env() {
            environment(std::slice::from_ref(e), &mut used);
        }
        for (kind, steps) in [("init", &s.init), ("sidecars", &s.sidecars)] {
            for step in steps {
                let name = step_service_name(&s.name, &step.name);
                if ir.service(&name).is_some() {
                    d.push(
                        Diagnostic::error(
                            "E-name-collision",
                            format!("`{kind}.{}` of `{}` becomes the Compose service `{name}`, which is also a service of the environment", step.name, s.name),
                        )
                        .path(format!("services.{}.{kind}.{}", s.name, step.name))
                        .hint("rename the step or the service: Compose runs a step as its own service `<service>-<step>`"),
                    );
                }
            }
        }
        if s.replicas > 1 {
            for p in &s.ports {
                let Some(host) = p.host_port else { continue };
                d.push(
                    Diagnostic::error(
                        "E-host-port-replicas",
                        format!(
                            "`{}` runs {} replicas, which cannot all publish host port {host}",
                            s.name, s.replicas
                        ),
                    )
                    .path(format!("services.{}.ports.{}.host_port", s.name, p.name))
                    .hint("publish the port from a service with one replica (`replicas = 1` in this profile), or drop `host_port`"),
                );
            }
        }
        for v in s.volumes.iter().filter(|v| v.owned_claim()) {
            let name = volume_name(&s.name, &v.name);
            match volumes.get(&name) {
                Some((other, other_volume)) => d.push(
                    Diagnostic::error(
                        "E-volume-collision",
                        format!(
                            "volume `{}` of `{}` and volume `{other_volume}` of `{other}` are both the Compose volume `{name}`",
                            v.name, s.name
                        ),
                    )
                    .path(format!("services.{}.volumes.{}", s.name, v.name))
                    .hint("rename one of the volumes: Compose names a service's volume `<service>-<volume>`"),
                ),
                None => {
                    volumes.insert(name, (&s.name, &v.name));
                }
            }
        }
    }
    if ir.tier == Tier::Dev {
        for name in &used.vars {
            let Some(v) = ir.secret(name).and_then(|s| s.value.as_ref()) else {
                continue;
            };
            if dotenv_value(&v.value).is_none() {
                d.push(
                    Diagnostic::error(
                        "E-dotenv-value",
                        format!("the dev value of secret `{name}` cannot be written to .env"),
                    )
                    .path(format!("secrets.{name}.dev_value"))
                    .hint("a value read from a plain variable comes from .env, which cannot hold a single quote or a line break: change the value, or let the image read it from a file (`file_env`)"),
                );
            }
        }
    }
    d
}

/// Comment lines listing the files next to the Compose file and where each comes from. The
/// secret files cannot carry the header (their bytes are the value); config files are
/// mounted as rendered, with a header only where the template gave them one. So their
/// provenance is recorded here.
fn provenance(ir: &Ir, secret_files: &[String]) -> String {
    let mut lines = Vec::new();
    for s in &ir.services {
        for f in &s.files {
            let from = match &f.template {
                Some(t) => format!("rendered from {t}"),
                None => "its content in the model".to_string(),
            };
            lines.push(format!(
                "#   {}: services.{}.files.{}, {from}\n",
                file_path(&s.name, &f.name, &f.path),
                s.name,
                f.name
            ));
        }
    }
    if ir.tier == Tier::Dev {
        for name in secret_files {
            let Some(v) = ir.secret(name).and_then(|x| x.value.as_ref()) else {
                continue;
            };
            let from = if v.derived {
                "derived from the environment and secret names".to_string()
            } else {
                format!("secrets.{name}.dev_value")
            };
            lines.push(format!(
                "#   secrets/{name}: the dev value of secret {name}, {from}\n"
            ));
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut t = String::from(
        "# files next to this one, mounted as they are (a secret file holds the value alone, no header):\n",
    );
    t.extend(lines);
    t
}

/// Comment lines after the header: how to run the project, and what Compose cannot express.
fn notes(ir: &Ir) -> String {
    let mut t = format!(
        "# run: docker compose -f out/{}/{}/{COMPOSE_FILE} up\n",
        ir.env, ir.mode
    );
    for (name, why) in services_without_healthcheck(ir) {
        t.push_str(&format!("# no healthcheck for {name}: {why}\n"));
        t.push_str("#   (services that depend on it wait for service_started)\n");
    }
    for s in &ir.services {
        if let Some(sc) = s.job.as_ref().and_then(|j| j.schedule.as_ref()) {
            t.push_str(&format!(
                "# no scheduler in Compose: {name} runs on \"{cron}\" in Kubernetes; here it is in\n\
                 #   profile `{SCHEDULED_PROFILE}`, left out of `up`: run it once with\n\
                 #   docker compose -f out/{env}/{mode}/{COMPOSE_FILE} run --rm {name}\n",
                name = s.name,
                cron = sc.cron,
                env = ir.env,
                mode = ir.mode,
            ));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use envc_core::ir::Dependency;
    use envc_model::quantity::Duration;

    fn probe(action: ProbeAction) -> Probe {
        Probe {
            action,
            initial_delay: None,
            period: None,
            timeout: None,
            failure_threshold: None,
            success_threshold: None,
        }
    }

    fn exec(cmd: &[&str]) -> ProbeAction {
        ProbeAction::Exec {
            command: cmd.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn dollars_are_doubled_for_compose_interpolation() {
        assert_eq!(escape("a $B $$c ${D}"), "a $$B $$$$c $${D}");
        assert_eq!(
            interpolation("postgres-password"),
            "${ENVC_SECRET_POSTGRES_PASSWORD:?secret postgres-password is not set, see docs/compose.md}"
        );
    }

    #[test]
    fn exec_and_http_command_probes_become_cmd_tests_with_escaped_dollars() {
        let pg = probe(exec(&["sh", "-c", "pg_isready -U \"$POSTGRES_USER\""]));
        assert_eq!(
            probe_test(&pg),
            Ok(vec![
                "CMD".to_string(),
                "sh".into(),
                "-c".into(),
                "pg_isready -U \"$$POSTGRES_USER\"".into()
            ])
        );
        let http = probe(ProbeAction::Http {
            port_name: "api".into(),
            port: 9000,
            path: "/ready".into(),
            command: Some(vec!["mc".into(), "ready".into(), "local".into()]),
        });
        assert_eq!(
            probe_test(&http).ok(),
            Some(vec![
                "CMD".into(),
                "mc".into(),
                "ready".into(),
                "local".into()
            ])
        );
    }

    #[test]
    fn probes_that_need_the_runtime_have_no_healthcheck() {
        let http = probe(ProbeAction::Http {
            port_name: "health".into(),
            port: 13133,
            path: "/".into(),
            command: None,
        });
        assert!(probe_test(&http).is_err());
        let tcp = probe(ProbeAction::Tcp {
            port_name: "pg".into(),
            port: 5432,
        });
        assert!(probe_test(&tcp).is_err());
        let grpc = probe(ProbeAction::Grpc {
            port_name: "g".into(),
            port: 9090,
        });
        assert!(probe_test(&grpc).is_err());
        assert!(probe_test(&probe(exec(&[]))).is_err());
    }

    #[test]
    fn healthcheck_timings_follow_the_probe_with_kubernetes_defaults() {
        let mut s = lakehouse_like_service();
        s.liveness = Some(probe(ProbeAction::Tcp {
            port_name: "pg".into(),
            port: 5432,
        }));
        let mut ready = probe(exec(&["pg_isready"]));
        ready.period = Some(Duration { seconds: 5 });
        ready.failure_threshold = Some(6);
        ready.initial_delay = Some(Duration { seconds: 90 });
        s.readiness = Some(ready);
        let h = healthcheck(&s).expect("readiness maps");
        assert_eq!(
            h,
            Healthcheck {
                test: vec!["CMD".into(), "pg_isready".into()],
                interval: "5s".into(),
                timeout: "1s".into(),
                retries: 6,
                start_period: Some("1m30s".into()),
            }
        );
        // A startup probe's whole budget becomes the start period.
        let mut startup = probe(ProbeAction::Http {
            port_name: "api".into(),
            port: 4200,
            path: "/".into(),
            command: None,
        });
        startup.period = Some(Duration { seconds: 5 });
        startup.failure_threshold = Some(36);
        s.startup = Some(startup);
        assert_eq!(
            healthcheck(&s).ok().and_then(|h| h.start_period),
            Some("3m".into())
        );
    }

    #[test]
    fn liveness_is_used_when_readiness_cannot_map() {
        let mut s = lakehouse_like_service();
        s.readiness = Some(probe(ProbeAction::Tcp {
            port_name: "pg".into(),
            port: 5432,
        }));
        s.liveness = Some(probe(exec(&["true-check"])));
        assert_eq!(
            healthcheck(&s).ok().map(|h| h.test),
            Some(vec!["CMD".into(), "true-check".into()])
        );
        s.liveness = None;
        let why = healthcheck(&s).err().unwrap_or_default();
        assert!(why.contains("readiness: TCP probe"), "{why}");
    }

    #[test]
    fn healthy_needs_a_healthcheck_on_the_dependency() {
        assert_eq!(
            condition(DependencyCondition::Healthy, true),
            "service_healthy"
        );
        assert_eq!(
            condition(DependencyCondition::Healthy, false),
            "service_started"
        );
        assert_eq!(
            condition(DependencyCondition::Started, true),
            "service_started"
        );
        assert_eq!(
            condition(DependencyCondition::Completed, false),
            "service_completed_successfully"
        );
        let d = Dependency {
            service: "db".into(),
            condition: DependencyCondition::Healthy,
            declared: true,
        };
        assert_eq!(condition(d.condition, false), "service_started");
    }

    #[test]
    fn restart_policies_and_project_names() {
        for ok in [
            "no",
            "always",
            "on-failure",
            "on-failure:3",
            "unless-stopped",
        ] {
            assert!(valid_restart(ok), "{ok}");
        }
        for bad in ["never", "on-failure:x", ""] {
            assert!(!valid_restart(bad), "{bad}");
        }
        assert!(valid_project_name("crypto-lakehouse"));
        assert!(valid_project_name("a_1"));
        assert!(!valid_project_name("Shop"));
        assert!(!valid_project_name("-a"));
        assert!(!valid_project_name(""));
    }

    #[test]
    fn dotenv_values_are_quoted_when_needed() {
        assert_eq!(dotenv_value("dev-0a1b").as_deref(), Some("dev-0a1b"));
        assert_eq!(dotenv_value("a b$c").as_deref(), Some("'a b$c'"));
        assert_eq!(dotenv_value("it's"), None);
        assert_eq!(dotenv_value("a\nb"), None);
    }

    #[test]
    fn config_files_keep_their_extension() {
        assert_eq!(
            file_path("prometheus", "config", "/etc/prometheus/prometheus.yml"),
            "files/prometheus/config.yml"
        );
        assert_eq!(file_path("x", "motd", "/etc/motd"), "files/x/motd");
    }

    #[test]
    fn secrets_become_file_mounts_or_interpolations_never_values() {
        use envc_core::ir::EnvVar;
        let mut s = lakehouse_like_service();
        let var = |name: &str, value: EnvValue, file_env: Option<&str>| EnvVar {
            name: name.into(),
            value,
            file_env: file_env.map(str::to_string),
        };
        s.env = vec![
            var("PRICE", EnvValue::Text("$5".into()), None),
            var(
                "POSTGRES_PASSWORD",
                EnvValue::Secret("pw".into()),
                Some("POSTGRES_PASSWORD_FILE"),
            ),
            var("TOKEN", EnvValue::Secret("tok".into()), None),
            var(
                "URL",
                EnvValue::Template(vec![
                    Segment::Text("pg://u:".into()),
                    Segment::Secret("pw".into()),
                    Segment::Text("@db/$x".into()),
                ]),
                None,
            ),
        ];
        let mut used = SecretUse::default();
        let (env, mounts) = environment(&s.env, &mut used);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("PRICE", "$$5"),
                ("POSTGRES_PASSWORD_FILE", "/run/secrets/pw"),
                (
                    "TOKEN",
                    "${ENVC_SECRET_TOK:?secret tok is not set, see docs/compose.md}"
                ),
                (
                    "URL",
                    "pg://u:${ENVC_SECRET_PW:?secret pw is not set, see docs/compose.md}@db/$$x"
                ),
            ]
        );
        assert_eq!(mounts, vec!["pw".to_string()]);
        assert_eq!(used.files, vec!["pw".to_string()]);
        assert_eq!(used.vars, vec!["tok".to_string(), "pw".to_string()]);
    }

    fn lakehouse_like_service() -> Service {
        Service::new("db", "app", "postgres:17.11-alpine")
    }
}
