//! Lowering of services: each enabled service, in topological order, becomes an
//! [`ir::Service`]: references resolved for the mode, files rendered, probes pointed at port
//! numbers, dependencies with their conditions, the clients that may reach it, volumes with
//! their storage class, and the workload kind.

use std::collections::{BTreeSet, HashMap};

use envc_model::asset::Assets;
use envc_model::model::{self, Condition, EnvValue as ModelEnv, WorkloadKind};
use envc_model::quantity::Duration;
use envc_model::{Diagnostic, Diagnostics, Project};
use indexmap::IndexMap;

use crate::file;
use crate::graph::{Edge, EdgeKind, Graph};
use crate::ir::{self, DependencyCondition, EnvValue};
use crate::scope::{Scope, Target, Text};
use crate::value;

/// Edges by endpoint and topological positions, so per-service lookups stay linear.
struct Adjacency<'g> {
    incoming: HashMap<&'g str, Vec<&'g Edge>>,
    outgoing: HashMap<&'g str, Vec<&'g Edge>>,
    position: HashMap<&'g str, usize>,
}

impl<'g> Adjacency<'g> {
    fn new(graph: &'g Graph) -> Adjacency<'g> {
        let mut incoming: HashMap<&str, Vec<&Edge>> = HashMap::new();
        let mut outgoing: HashMap<&str, Vec<&Edge>> = HashMap::new();
        for e in &graph.edges {
            incoming.entry(e.to.as_str()).or_default().push(e);
            outgoing.entry(e.from.as_str()).or_default().push(e);
        }
        let position = graph
            .order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        Adjacency {
            incoming,
            outgoing,
            position,
        }
    }

    fn incoming(&self, name: &str) -> impl Iterator<Item = &&'g Edge> {
        self.incoming.get(name).into_iter().flatten()
    }

    fn outgoing(&self, name: &str) -> impl Iterator<Item = &&'g Edge> {
        self.outgoing.get(name).into_iter().flatten()
    }
}

/// What lowering a service reads besides the scope.
pub(crate) struct Inputs<'i> {
    /// The project (template sources).
    pub project: &'i Project,
    /// Templates read before resolution.
    pub assets: &'i Assets,
    /// The graph.
    pub graph: &'i Graph,
    /// Services whose templates scrape every metrics port.
    pub scrapers: &'i BTreeSet<String>,
    /// The template context of the mode.
    pub context: &'i std::cell::RefCell<handlebars::Context>,
}

/// Every enabled service, in topological order. Rendered templates are added to `sources`;
/// references that cannot resolve and templates that cannot render are reported in `d`.
pub(crate) fn lower(
    scope: &Scope<'_>,
    inputs: &Inputs<'_>,
    sources: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Vec<ir::Service> {
    let adjacency = Adjacency::new(inputs.graph);
    let mut services = Vec::new();
    for name in &inputs.graph.order {
        let Some(t) = scope.targets.get(name.as_str()) else {
            continue;
        };
        services.push(service(scope, inputs, &adjacency, name, t, sources, d));
    }
    services
}

/// One service of the IR.
fn service(
    scope: &Scope<'_>,
    inputs: &Inputs<'_>,
    adjacency: &Adjacency<'_>,
    name: &str,
    t: &Target<'_>,
    sources: &mut Vec<String>,
    d: &mut Diagnostics,
) -> ir::Service {
    let svc = t.svc;
    let env = env(scope, name, t, d);
    let command = strings(scope, name, &t.command, d);
    let args = strings(scope, name, &t.args, d);
    let files = file::lower(
        inputs.project,
        inputs.assets,
        inputs.context,
        name,
        t,
        sources,
        d,
    );
    let volumes = volumes(scope, svc);
    let init = steps(scope, name, t, "init", &volumes, d);
    let sidecars = steps(scope, name, t, "sidecars", &volumes, d);
    let workload = svc
        .workload
        .unwrap_or(if volumes.iter().any(ir::Volume::owned_claim) {
            WorkloadKind::Statefulset
        } else {
            WorkloadKind::Deployment
        });
    ir::Service {
        name: name.to_string(),
        description: svc.description.clone(),
        component: svc.component.clone(),
        namespace_key: t.namespace_key.clone(),
        namespace: t.namespace.clone(),
        image: svc.image.clone().unwrap_or_default(),
        build: build(inputs.project, scope, svc),
        command,
        args,
        working_dir: svc.working_dir.clone(),
        ports: ports(scope, svc),
        env,
        files,
        volumes,
        resources: svc.resources.clone(),
        replicas: svc
            .autoscaling
            .as_ref()
            .map_or(svc.replicas.unwrap_or(1), |a| a.min),
        autoscaling: svc.autoscaling.clone(),
        liveness: probe(scope, name, t, "liveness", &svc.probes.liveness, d),
        readiness: probe(scope, name, t, "readiness", &svc.probes.readiness, d),
        startup: probe(scope, name, t, "startup", &svc.probes.startup, d),
        depends_on: depends_on(scope, adjacency, name, svc),
        clients: clients(scope, inputs.scrapers, adjacency, name, svc),
        security: svc.security.clone(),
        metrics: metrics(svc),
        api_access: api_access(scope, svc),
        workload,
        restart: svc
            .restart
            .or(workload.runs_to_completion().then_some(model::Restart::No)),
        job: job(scope, name, svc, workload),
        init,
        sidecars,
        stop_grace_period: svc.stop_grace_period,
        external: svc.external.clone(),
    }
}

/// Default retries of a job (Kubernetes' own default is 6).
pub const DEFAULT_RETRIES: u32 = 3;

/// How long a finished job is kept by default: a day to read its logs.
pub const DEFAULT_TTL: Duration = Duration { seconds: 86_400 };

/// Run-to-completion settings of a job or cron job, with defaults applied. A finished job
/// that other services wait for is kept (no default ttl): a dependent pod that restarts after
/// the Job was deleted would wait for it forever.
fn job(
    scope: &Scope<'_>,
    name: &str,
    svc: &model::Service,
    workload: WorkloadKind,
) -> Option<ir::Job> {
    if !workload.runs_to_completion() {
        return None;
    }
    let j = svc.job.clone().unwrap_or_default();
    let default_ttl = (!awaited_in(&scope.m.model, name)).then_some(DEFAULT_TTL);
    let schedule = (workload == WorkloadKind::Cronjob).then(|| ir::Schedule {
        cron: j.schedule.clone().unwrap_or_default(),
        concurrency: j.concurrency,
        time_zone: j.time_zone.clone(),
        successful_history: j.successful_history.unwrap_or(3),
        failed_history: j.failed_history.unwrap_or(1),
    });
    Some(ir::Job {
        retries: j.retries.unwrap_or(DEFAULT_RETRIES),
        deadline: j.deadline,
        ttl: j.ttl.or(default_ttl),
        run: j.run,
        parallelism: j.parallelism,
        schedule,
    })
}

/// Whether an enabled service waits for job `name` to complete.
pub(crate) fn awaited_in(model: &model::EnvironmentFile, name: &str) -> bool {
    model.services.values().filter(|s| s.enabled).any(|s| {
        s.depends_on
            .0
            .get(name)
            .is_some_and(|c| matches!(c, Condition::Completed | Condition::Auto))
    })
}

/// The init steps or sidecars of a service, with references resolved and mounts defaulted to
/// the service's mount paths.
fn steps(
    scope: &Scope<'_>,
    name: &str,
    t: &Target<'_>,
    kind: &str,
    volumes: &[ir::Volume],
    d: &mut Diagnostics,
) -> Vec<ir::Step> {
    t.steps
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| ir::Step {
            name: s.name.to_string(),
            image: s
                .step
                .image
                .clone()
                .or_else(|| t.svc.image.clone())
                .unwrap_or_default(),
            command: strings(scope, name, &s.strings.command, d),
            args: strings(scope, name, &s.strings.args, d),
            working_dir: s.step.working_dir.clone(),
            env: env_of(scope, name, &s.step.env, &s.strings.env, d),
            mounts: s
                .step
                .volumes
                .iter()
                .filter_map(|(vname, m)| {
                    let v = volumes.iter().find(|v| &v.name == vname)?;
                    Some(ir::Mount {
                        volume: vname.clone(),
                        path: m.path.clone().unwrap_or_else(|| v.path.clone()),
                        read_only: m.read_only,
                    })
                })
                .collect(),
            resources: s.step.resources.clone(),
        })
        .collect()
}

/// Env values with references resolved, in declaration order.
fn env(scope: &Scope<'_>, name: &str, t: &Target<'_>, d: &mut Diagnostics) -> Vec<ir::EnvVar> {
    env_of(scope, name, &t.svc.env, &t.env, d)
}

/// The env of one container of service `name`: its own, or a step's.
fn env_of(
    scope: &Scope<'_>,
    name: &str,
    model_env: &IndexMap<String, ModelEnv>,
    texts: &IndexMap<&str, Text<'_>>,
    d: &mut Diagnostics,
) -> Vec<ir::EnvVar> {
    let mut env = Vec::new();
    for (k, v) in model_env {
        let (value, file_env) = match (v, texts.get(k.as_str())) {
            (ModelEnv::Secret(s), _) => (EnvValue::Secret(s.secret.clone()), s.file_env.clone()),
            (ModelEnv::Text(_), Some(text)) => match value::resolve(scope, name, text) {
                Ok(v) => (v, None),
                Err(msg) => {
                    d.push(
                        Diagnostic::error("E-bad-reference", msg)
                            .at(scope.m.tree.origin_of(&text.path(name)), "here"),
                    );
                    continue;
                }
            },
            (ModelEnv::Text(_), None) => continue,
        };
        env.push(ir::EnvVar {
            name: k.clone(),
            value,
            file_env,
        });
    }
    env
}

/// `command` or `args` with references resolved.
fn strings(scope: &Scope<'_>, name: &str, list: &[Text<'_>], d: &mut Diagnostics) -> Vec<String> {
    list.iter()
        .filter_map(|text| match value::resolve(scope, name, text) {
            Ok(EnvValue::Text(t)) => Some(t),
            Ok(_) => None,
            Err(msg) => {
                d.push(
                    Diagnostic::error("E-bad-reference", msg)
                        .at(scope.m.tree.origin_of(&text.path(name)), "here"),
                );
                None
            }
        })
        .collect()
}

fn ports(scope: &Scope<'_>, svc: &model::Service) -> Vec<ir::Port> {
    let m = scope.m;
    svc.ports
        .iter()
        .map(|(pname, p)| ir::Port {
            name: pname.clone(),
            container: p.container,
            service: p.service.unwrap_or(p.container),
            protocol: p.protocol,
            node_port: p.node_port.filter(|_| m.profile.kubernetes.node_ports),
            host_port: p.host_port,
            ingress: p.ingress.as_ref().and_then(|i| {
                let base = m.model.environment.ingress_host.as_ref()?;
                let host = match &i.subdomain {
                    Some(s) => format!("{s}.{base}"),
                    None => base.clone(),
                };
                Some(ir::Ingress {
                    host,
                    path: i.path.clone(),
                })
            }),
            app_protocol: p.app_protocol.clone(),
        })
        .collect()
}

/// A probe with its port resolved to the container port.
/// A probe, with references in its command resolved (and `$${` read as a literal `${`), as in
/// a service's command.
fn probe(
    scope: &Scope<'_>,
    name: &str,
    t: &Target<'_>,
    kind: &str,
    p: &Option<model::Probe>,
    d: &mut Diagnostics,
) -> Option<ir::Probe> {
    let svc = t.svc;
    let p = p.as_ref()?;
    let mut command = || strings(scope, name, t.probe(kind), d);
    let port_of = |pname: &str| {
        svc.ports
            .get(pname)
            .map(|p| p.container)
            .unwrap_or_default()
    };
    let action = if let Some(h) = &p.http {
        ir::ProbeAction::Http {
            port_name: h.port.clone(),
            port: port_of(&h.port),
            path: h.path.clone(),
            command: h.command.as_ref().map(|_| command()),
        }
    } else if let Some(t) = &p.tcp {
        ir::ProbeAction::Tcp {
            port_name: t.port.clone(),
            port: port_of(&t.port),
        }
    } else if let Some(g) = &p.grpc {
        ir::ProbeAction::Grpc {
            port_name: g.port.clone(),
            port: port_of(&g.port),
        }
    } else {
        ir::ProbeAction::Exec { command: command() }
    };
    Some(ir::Probe {
        action,
        initial_delay: p.initial_delay,
        period: p.period,
        timeout: p.timeout,
        failure_threshold: p.failure_threshold,
        success_threshold: p.success_threshold,
    })
}

/// Dependencies: declared ones first, then those implied by references.
fn depends_on(
    scope: &Scope<'_>,
    adjacency: &Adjacency<'_>,
    name: &str,
    svc: &model::Service,
) -> Vec<ir::Dependency> {
    let healthy = |to: &str| {
        scope
            .targets
            .get(to)
            .is_some_and(|t| t.svc.probes.readiness.is_some())
    };
    let is_job = |to: &str| {
        scope
            .targets
            .get(to)
            .is_some_and(|t| t.svc.workload == Some(WorkloadKind::Job))
    };
    let mut depends_on: Vec<ir::Dependency> = Vec::new();
    for (dep, cond) in &svc.depends_on.0 {
        let condition = match cond {
            Condition::Started => DependencyCondition::Started,
            Condition::Healthy => DependencyCondition::Healthy,
            Condition::Completed => DependencyCondition::Completed,
            Condition::Auto if is_job(dep) => DependencyCondition::Completed,
            Condition::Auto if healthy(dep) => DependencyCondition::Healthy,
            Condition::Auto => DependencyCondition::Started,
        };
        depends_on.push(ir::Dependency {
            service: dep.clone(),
            condition,
            declared: true,
        });
    }
    for e in adjacency.outgoing(name) {
        if !depends_on.iter().any(|x| x.service == e.to) {
            let condition = if healthy(&e.to) {
                DependencyCondition::Healthy
            } else {
                DependencyCondition::Started
            };
            depends_on.push(ir::Dependency {
                service: e.to.clone(),
                condition,
                declared: false,
            });
        }
    }
    depends_on
}

/// Clients: services with an edge to this one, and scrapers of its metrics port, in
/// topological order.
fn clients(
    scope: &Scope<'_>,
    scrapers: &BTreeSet<String>,
    adjacency: &Adjacency<'_>,
    name: &str,
    svc: &model::Service,
) -> Vec<ir::Client> {
    let mut client_names: Vec<&str> = adjacency.incoming(name).map(|e| e.from.as_str()).collect();
    if svc.metrics.is_some() {
        client_names.extend(scrapers.iter().map(String::as_str));
    }
    client_names.sort_by_key(|n| adjacency.position.get(n).copied().unwrap_or(usize::MAX));
    client_names.dedup();
    let mut clients: Vec<ir::Client> = Vec::new();
    for other in client_names {
        let Some(target) = scope.targets.get(other).filter(|_| other != name) else {
            continue;
        };
        let mut ports: Vec<String> = Vec::new();
        let mut all = false;
        for e in adjacency.incoming(name).filter(|e| e.from == other) {
            match &e.kind {
                EdgeKind::Reference { port: Some(p) } => ports.push(p.clone()),
                _ => all = true,
            }
        }
        if scrapers.contains(other)
            && let Some(mt) = &svc.metrics
        {
            ports.push(mt.port.clone());
        }
        // Ports a client names are the ones it uses; a dependency or a host-only reference
        // that names none means any port.
        if ports.is_empty() && !all {
            continue;
        }
        ports.sort();
        ports.dedup();
        clients.push(ir::Client {
            service: other.to_string(),
            namespace: target.namespace.clone(),
            ports,
        });
    }
    clients
}

fn volumes(scope: &Scope<'_>, svc: &model::Service) -> Vec<ir::Volume> {
    let m = scope.m;
    let storage_default = m
        .model
        .environment
        .storage_class
        .clone()
        .or_else(|| m.profile.kubernetes.storage_class.clone());
    svc.volumes
        .iter()
        .map(
            |(vname, v)| match v.volume.as_ref().filter(|_| !bind_wins(m, v)) {
                // Size and class are the environment volume's, on its claim.
                Some(shared) => ir::Volume {
                    name: vname.clone(),
                    path: v.path.clone(),
                    size: None,
                    persistent: true,
                    storage_class: None,
                    shared: Some(shared.clone()),
                    read_only: v.read_only,
                    sub_path: v.sub_path.clone(),
                    bind: None,
                },
                None => ir::Volume {
                    name: vname.clone(),
                    path: v.path.clone(),
                    size: v.size.clone(),
                    persistent: v.persistent,
                    storage_class: if v.persistent {
                        v.storage_class.clone().or_else(|| storage_default.clone())
                    } else {
                        None
                    },
                    shared: None,
                    read_only: v.read_only,
                    sub_path: v.sub_path.clone(),
                    bind: v.source.as_deref().and_then(bind_path),
                },
            },
        )
        .collect()
}

/// The build context relative to the project root, so artifacts name it the same on every
/// machine.
fn build(project: &Project, scope: &Scope<'_>, svc: &model::Service) -> Option<ir::Build> {
    svc.build.as_ref().map(|b| {
        let ctx_path = scope.m.env_dir.join(&b.context);
        let rel = ctx_path
            .strip_prefix(&project.root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| b.context.clone());
        ir::Build {
            context: normalize(&rel),
            dockerfile: b.dockerfile.clone(),
            args: b.args.clone(),
            target: b.target.clone(),
        }
    })
}

/// Whether a mount that names both a `source` and an environment `volume` bind-mounts the
/// source in this mode: in dev Compose modes (edit on the host, see it at once); every other
/// mode mounts the volume.
pub(crate) fn bind_wins(m: &envc_model::load::LoadedMode, v: &model::Volume) -> bool {
    v.source.is_some()
        && (v.volume.is_none()
            || (m.profile.profile.backend == envc_model::profile::Backend::Compose
                && m.profile.profile.tier == envc_model::profile::Tier::Dev))
}

/// The project-relative path of a bind mount's `source` (relative to `environments/`), or
/// `None` when it is absolute or leaves the project (validation reports both).
pub(crate) fn bind_path(source: &str) -> Option<String> {
    if source.starts_with('/') || source.contains('\\') {
        return None;
    }
    let mut out: Vec<&str> = vec![envc_model::load::ENVIRONMENTS_DIR];
    for seg in source.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    (!out.is_empty()).then(|| out.join("/"))
}

/// A `/` path with `.` and `..` segments folded away.
fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// The service's API access with namespace keys resolved to names (the service's own namespace
/// when a grant names none). Unknown keys were refused by validation.
fn api_access(scope: &Scope<'_>, svc: &model::Service) -> Vec<model::ApiAccess> {
    let model = &scope.m.model;
    let name_of = |key: &str| model.namespaces.get(key).map(|n| n.name.clone());
    // The first namespace is the default of a service that names none.
    let own = svc
        .namespace
        .as_deref()
        .or_else(|| model.namespaces.keys().next().map(String::as_str))
        .unwrap_or_default();
    svc.api_access
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.namespaces = if a.cluster {
                Vec::new()
            } else if a.namespaces.is_empty() {
                name_of(own).into_iter().collect()
            } else {
                a.namespaces.iter().filter_map(|k| name_of(k)).collect()
            };
            a
        })
        .collect()
}

fn metrics(svc: &model::Service) -> Option<ir::Metrics> {
    let mt = svc.metrics.as_ref()?;
    let p = svc.ports.get(&mt.port)?;
    Some(ir::Metrics {
        port_name: mt.port.clone(),
        port: p.container,
        service_port: p.service.unwrap_or(p.container),
        path: mt.path.clone(),
    })
}
