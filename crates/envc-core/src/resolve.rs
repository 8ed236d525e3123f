//! From a loaded mode to the IR: references, the graph, templates, secrets, and the checks
//! that need all of them (dangling references, cycles, collisions, quotas, secret leaks).

use std::collections::BTreeSet;

use envc_model::diagnostic::did_you_mean;
use envc_model::load::LoadedMode;
use envc_model::model::{self, Condition, EnvValue as ModelEnv, WorkloadKind};
use envc_model::profile::{Backend, Tier};
use envc_model::{Diagnostic, Diagnostics, Origin, Project, Span};
use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::graph::{Edge, EdgeKind, Graph};
use crate::ir::{self, DependencyCondition, EnvValue, Ir, Segment};
use crate::reference::{self, Piece};
use crate::{template, validate};

/// A compiled mode: the IR, its graph, and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The IR.
    pub ir: Ir,
    /// The dependency graph.
    pub graph: Graph,
    /// Warnings (never errors).
    pub warnings: Diagnostics,
}

/// Where a string with references lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Env,
    Command,
    Args,
}

/// Per-service facts references resolve against.
struct Target<'a> {
    svc: &'a model::Service,
    namespace: String,
}

struct Ctx<'a> {
    m: &'a LoadedMode,
    backend: Backend,
    targets: IndexMap<&'a str, Target<'a>>,
}

impl Ctx<'_> {
    fn host(&self, name: &str) -> String {
        match (self.backend, self.targets.get(name)) {
            (Backend::Compose, _) | (_, None) => name.to_string(),
            (_, Some(t)) => format!("{name}.{}.svc.cluster.local", t.namespace),
        }
    }

    /// The port other services use: the Service port in Kubernetes, the container port in
    /// Compose.
    fn port(&self, p: &model::Port) -> u16 {
        match self.backend {
            Backend::Compose => p.container,
            _ => p.service.unwrap_or(p.container),
        }
    }
}

/// The origin of bytes `offset..offset+len` of a string value whose node is at `origin`:
/// exact when the source spells the string plainly, else the whole string.
fn sub_origin(project: &Project, origin: Origin, value: &str, offset: usize, len: usize) -> Origin {
    let src = project.sources.get(origin.file);
    if let Some(text) = src.slice(origin.span) {
        let inner = text.get(1..text.len().saturating_sub(1));
        if text.len() >= 2 && inner == Some(value) {
            let start = origin.span.start + 1 + offset;
            return Origin {
                file: origin.file,
                span: Span::new(start, start + len),
            };
        }
    }
    origin
}

/// Compiles one loaded mode into its IR, or returns every error found.
pub fn compile(project: &mut Project, m: &LoadedMode) -> Result<Compiled, Diagnostics> {
    let mut d = validate::check(m);
    let model = &m.model;
    let backend = m.profile.profile.backend;
    let tier = m.profile.profile.tier;

    let enabled: Vec<&str> = model
        .services
        .iter()
        .filter(|(_, s)| s.enabled)
        .map(|(n, _)| n.as_str())
        .collect();
    let default_ns = model.namespaces.keys().next().cloned().unwrap_or_default();
    let mut targets = IndexMap::new();
    for name in &enabled {
        let svc = &model.services[*name];
        let key = svc.namespace.clone().unwrap_or_else(|| default_ns.clone());
        let namespace = model
            .namespaces
            .get(&key)
            .map(|n| n.name.clone())
            .unwrap_or(key);
        targets.insert(*name, Target { svc, namespace });
    }
    let ctx = Ctx {
        m,
        backend,
        targets,
    };

    // References in env, command and args: check them and collect graph edges.
    let mut edges: Vec<Edge> = Vec::new();
    for name in &enabled {
        let svc = &model.services[*name];
        let mut strings: Vec<(Site, Vec<String>, &str)> = Vec::new();
        for (k, v) in &svc.env {
            if let ModelEnv::Text(t) = v {
                strings.push((Site::Env, vec!["env".into(), k.clone()], t));
            }
        }
        for (i, a) in svc.command.iter().flatten().enumerate() {
            strings.push((Site::Command, vec!["command".into(), i.to_string()], a));
        }
        for (i, a) in svc.args.iter().flatten().enumerate() {
            strings.push((Site::Args, vec!["args".into(), i.to_string()], a));
        }
        for (site, rel, text) in strings {
            let mut path = vec!["services".to_string(), name.to_string()];
            path.extend(rel);
            let origin = m.tree.origin_of(&path);
            let pieces = match reference::parse(text) {
                Ok(p) => p,
                Err(e) => {
                    d.push(
                        Diagnostic::error("E-bad-reference", e.message)
                            .at(sub_origin(project, origin, text, e.offset, 2), "here")
                            .path(path.join(".")),
                    );
                    continue;
                }
            };
            for piece in pieces {
                let Piece::Ref {
                    path: rp,
                    offset,
                    len,
                } = piece
                else {
                    continue;
                };
                let o = sub_origin(project, origin, text, offset, len);
                match check_ref(&ctx, name, &rp, site) {
                    Ok(Some((to, port))) if to != *name => edges.push(Edge {
                        from: name.to_string(),
                        to,
                        kind: EdgeKind::Reference { port },
                        origin: o,
                    }),
                    Ok(_) => {}
                    Err(diag) => d.push(diag.at(o, "here").path(path.join("."))),
                }
            }
        }
    }

    // Declared dependencies.
    for name in &enabled {
        let svc = &model.services[*name];
        for dep in svc.depends_on.0.keys() {
            let dep_path = ["services", name, "depends_on", dep];
            let o = m.tree.origin_of(&dep_path);
            let o = if m.tree.lookup(&dep_path).is_some() {
                m.tree.key_origin_of(&dep_path)
            } else {
                // Array form: point at the element that names it.
                m.tree
                    .lookup(&["services", name, "depends_on"])
                    .and_then(|n| match &n.value {
                        envc_model::NodeValue::Array(a) => a
                            .iter()
                            .find(|x| x.as_str() == Some(dep.as_str()))
                            .map(|x| x.origin),
                        _ => None,
                    })
                    .unwrap_or(o)
            };
            if dep == name {
                d.push(
                    Diagnostic::error("E-cycle", format!("`{name}` depends on itself"))
                        .at(o, "here")
                        .hint("remove it from depends_on"),
                );
                continue;
            }
            match model.services.get(dep) {
                None => d.push(unknown_service(model, dep).at(o, "no such service")),
                Some(s) if !s.enabled => {
                    d.push(disabled_service(m, dep).at(o, "disabled in this mode"))
                }
                Some(_) => edges.push(Edge {
                    from: name.to_string(),
                    to: dep.clone(),
                    kind: EdgeKind::Declared,
                    origin: o,
                }),
            }
        }
    }

    // Templates: read them, and take the services they mention as edges.
    let mut template_files: IndexMap<(String, String), envc_model::FileId> = IndexMap::new();
    let mut scrapers: BTreeSet<String> = BTreeSet::new();
    for name in &enabled {
        let svc = &model.services[*name];
        for (fname, f) in &svc.files {
            let Some(t) = &f.template else { continue };
            let o = m
                .tree
                .origin_of(&["services", name, "files", fname, "template"]);
            let env_dir = m.env_dir.clone();
            match project.read_aux(&env_dir, t) {
                Ok(id) => {
                    template_files.insert((name.to_string(), fname.clone()), id);
                    let text = project.sources.get(id).text.clone();
                    if text.contains("scrape_targets") {
                        scrapers.insert(name.to_string());
                    }
                    for (to, port) in mentioned_services(&text) {
                        if to != *name && ctx.targets.contains_key(to.as_str()) {
                            edges.push(Edge {
                                from: name.to_string(),
                                to,
                                kind: EdgeKind::Reference { port },
                                origin: o,
                            });
                        }
                    }
                }
                Err(e) => d.push(
                    Diagnostic::error("E-missing-file", e)
                        .at(o, "here")
                        .hint("template paths are relative to the environment file's directory"),
                ),
            }
        }
        if let Some(b) = &svc.build {
            let dir = m.env_dir.join(&b.context);
            if !dir.is_dir() {
                d.push(
                    Diagnostic::error(
                        "E-missing-file",
                        format!("build context {} is not a directory", dir.display()),
                    )
                    .at(
                        m.tree.origin_of(&["services", name, "build", "context"]),
                        "here",
                    )
                    .hint("build contexts are relative to the environment file's directory"),
                );
            }
        }
    }

    // Collisions that span services.
    check_port_collisions(m, &ctx, &enabled, &mut d);

    // Secrets referenced by env values.
    for name in &enabled {
        for (k, v) in &model.services[*name].env {
            if let ModelEnv::Secret(s) = v
                && !model.secrets.contains_key(&s.secret)
            {
                d.push(unknown_secret(model, &s.secret).at(
                    m.tree.origin_of(&["services", name, "env", k, "secret"]),
                    "no such secret",
                ));
            }
        }
    }

    // Dev values of every secret (used for dev tiers and for leak checks in every tier).
    let secret_values: IndexMap<&str, ir::SecretValue> = model
        .secrets
        .iter()
        .map(|(n, s)| {
            let v = match &s.dev_value {
                Some(v) => ir::SecretValue {
                    value: v.clone(),
                    derived: false,
                },
                None => ir::SecretValue {
                    value: derived_secret(&m.env, n),
                    derived: true,
                },
            };
            (n.as_str(), v)
        })
        .collect();
    check_literal_secrets(m, &enabled, &secret_values, &mut d);

    let enabled_names: Vec<String> = enabled.iter().map(|s| s.to_string()).collect();
    let graph = match Graph::build(&enabled_names, edges) {
        Ok(g) => Some(g),
        Err(e) => {
            d.push(e);
            None
        }
    };
    if d.has_errors() {
        d.sort();
        return Err(d);
    }
    let Some(graph) = graph else { return Err(d) };

    // Build the IR in topological order.

    let context = template_context(&ctx, &graph, &enabled);
    let mut sources: Vec<String> = m
        .source_files
        .iter()
        .map(|f| project.sources.get(*f).name.clone())
        .collect();
    // Edges by endpoint, and topological positions, so per-service lookups stay linear.
    let mut incoming: std::collections::HashMap<&str, Vec<&Edge>> =
        std::collections::HashMap::new();
    let mut outgoing: std::collections::HashMap<&str, Vec<&Edge>> =
        std::collections::HashMap::new();
    for e in &graph.edges {
        incoming.entry(e.to.as_str()).or_default().push(e);
        outgoing.entry(e.from.as_str()).or_default().push(e);
    }
    let position: std::collections::HashMap<&str, usize> = graph
        .order
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut services = Vec::new();
    for name in &graph.order {
        let t = &ctx.targets[name.as_str()];
        let svc = t.svc;
        let mut env = Vec::new();
        for (k, v) in &svc.env {
            let value = match v {
                ModelEnv::Secret(s) => EnvValue::Secret(s.secret.clone()),
                ModelEnv::Text(text) => match resolve_string(&ctx, name, text) {
                    Ok(v) => v,
                    Err(msg) => {
                        d.push(
                            Diagnostic::error("E-bad-reference", msg)
                                .at(m.tree.origin_of(&["services", name, "env", k]), "here"),
                        );
                        continue;
                    }
                },
            };
            let file_env = match v {
                ModelEnv::Secret(s) => s.file_env.clone(),
                ModelEnv::Text(_) => None,
            };
            env.push(ir::EnvVar {
                name: k.clone(),
                value,
                file_env,
            });
        }
        let mut strings = |list: &Option<Vec<String>>, key: &str| -> Vec<String> {
            list.iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, s)| match resolve_string(&ctx, name, s) {
                    Ok(EnvValue::Text(t)) => Some(t),
                    Ok(_) => None,
                    Err(msg) => {
                        d.push(Diagnostic::error("E-bad-reference", msg).at(
                            m.tree.origin_of(&["services", name, key, &i.to_string()]),
                            "here",
                        ));
                        None
                    }
                })
                .collect()
        };
        let command = strings(&svc.command, "command");
        let args = strings(&svc.args, "args");

        let mut files = Vec::new();
        for (fname, f) in &svc.files {
            let (content, tname) = match (&f.template, &f.content) {
                (Some(_), _) => {
                    let Some(id) = template_files.get(&(name.clone(), fname.clone())) else {
                        continue;
                    };
                    let mut c = context.clone();
                    if let Some(obj) = c.as_object_mut() {
                        let me = obj
                            .get("services")
                            .and_then(|s| s.get(name.as_str()))
                            .cloned()
                            .unwrap_or(Value::Null);
                        obj.insert("self".into(), me);
                    }
                    let src = project.sources.get(*id);
                    if !sources.contains(&src.name) {
                        sources.push(src.name.clone());
                    }
                    match template::render(*id, src, &c) {
                        Ok(text) => (
                            with_header(&f.path, &src.name, text),
                            Some(src.name.clone()),
                        ),
                        Err(e) => {
                            d.push(e.path(format!("services.{name}.files.{fname}")));
                            continue;
                        }
                    }
                }
                (None, Some(c)) => (c.clone(), None),
                (None, None) => continue,
            };
            files.push(ir::File {
                name: fname.clone(),
                path: f.path.clone(),
                content,
                template: tname,
            });
        }

        let ports = svc
            .ports
            .iter()
            .map(|(pname, p)| ir::Port {
                name: pname.clone(),
                container: p.container,
                service: p.service.unwrap_or(p.container),
                protocol: p.protocol,
                node_port: p.node_port.filter(|_| m.profile.kubernetes.node_ports),
                host_port: p.host_port,
                ingress: p.ingress.as_ref().and_then(|i| {
                    let base = model.environment.ingress_host.as_ref()?;
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
            .collect::<Vec<_>>();
        let port_of = |pname: &str| {
            svc.ports
                .get(pname)
                .map(|p| p.container)
                .unwrap_or_default()
        };
        let probe = |p: &Option<model::Probe>| -> Option<ir::Probe> {
            let p = p.as_ref()?;
            let action = if let Some(h) = &p.http {
                ir::ProbeAction::Http {
                    port_name: h.port.clone(),
                    port: port_of(&h.port),
                    path: h.path.clone(),
                    command: h.command.clone(),
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
                ir::ProbeAction::Exec {
                    command: p
                        .exec
                        .as_ref()
                        .map(|e| e.command.clone())
                        .unwrap_or_default(),
                }
            };
            Some(ir::Probe {
                action,
                initial_delay: p.initial_delay,
                period: p.period,
                timeout: p.timeout,
                failure_threshold: p.failure_threshold,
                success_threshold: p.success_threshold,
            })
        };

        // Dependencies: declared ones first, then those implied by references.
        let mut depends_on: Vec<ir::Dependency> = Vec::new();
        let healthy = |to: &str| {
            ctx.targets
                .get(to)
                .is_some_and(|t| t.svc.probes.readiness.is_some())
        };
        for (dep, cond) in &svc.depends_on.0 {
            let condition = match cond {
                Condition::Started => DependencyCondition::Started,
                Condition::Healthy => DependencyCondition::Healthy,
                Condition::Completed => DependencyCondition::Completed,
                Condition::Auto if healthy(dep) => DependencyCondition::Healthy,
                Condition::Auto => DependencyCondition::Started,
            };
            depends_on.push(ir::Dependency {
                service: dep.clone(),
                condition,
                declared: true,
            });
        }
        for e in outgoing.get(name.as_str()).into_iter().flatten() {
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

        // Clients: services with an edge to this one, and scrapers of its metrics port, in
        // topological order.
        let mut client_names: Vec<&str> = incoming
            .get(name.as_str())
            .map(|es| es.iter().map(|e| e.from.as_str()).collect())
            .unwrap_or_default();
        if svc.metrics.is_some() {
            client_names.extend(scrapers.iter().map(String::as_str));
        }
        client_names.sort_by_key(|n| position.get(n).copied().unwrap_or(usize::MAX));
        client_names.dedup();
        let mut clients: Vec<ir::Client> = Vec::new();
        for other in client_names {
            if other == name || !ctx.targets.contains_key(other) {
                continue;
            }
            let mut ports: Vec<String> = Vec::new();
            let mut all = false;
            for e in incoming
                .get(name.as_str())
                .into_iter()
                .flatten()
                .filter(|e| e.from == other)
            {
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
                namespace: ctx.targets[other].namespace.clone(),
                ports,
            });
        }

        let storage_default = model
            .environment
            .storage_class
            .clone()
            .or_else(|| m.profile.kubernetes.storage_class.clone());
        let volumes: Vec<ir::Volume> = svc
            .volumes
            .iter()
            .map(|(vname, v)| ir::Volume {
                name: vname.clone(),
                path: v.path.clone(),
                size: v.size.clone(),
                persistent: v.persistent,
                storage_class: if v.persistent {
                    v.storage_class.clone().or_else(|| storage_default.clone())
                } else {
                    None
                },
            })
            .collect();
        let workload = svc
            .workload
            .unwrap_or(if volumes.iter().any(|v| v.persistent) {
                WorkloadKind::Statefulset
            } else {
                WorkloadKind::Deployment
            });
        let replicas = svc
            .autoscaling
            .as_ref()
            .map_or(svc.replicas.unwrap_or(1), |a| a.min);
        let build = svc.build.as_ref().map(|b| {
            let ctx_path = m.env_dir.join(&b.context);
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
        });

        services.push(ir::Service {
            name: name.clone(),
            description: svc.description.clone(),
            component: svc.component.clone(),
            namespace_key: svc.namespace.clone().unwrap_or_else(|| default_ns.clone()),
            namespace: t.namespace.clone(),
            image: svc.image.clone().unwrap_or_default(),
            build,
            command,
            args,
            working_dir: svc.working_dir.clone(),
            ports,
            env,
            files,
            volumes,
            resources: svc.resources.clone(),
            replicas,
            autoscaling: svc.autoscaling.clone(),
            liveness: probe(&svc.probes.liveness),
            readiness: probe(&svc.probes.readiness),
            startup: probe(&svc.probes.startup),
            depends_on,
            clients,
            security: svc.security.clone(),
            metrics: svc.metrics.as_ref().and_then(|mt| {
                let p = svc.ports.get(&mt.port)?;
                Some(ir::Metrics {
                    port_name: mt.port.clone(),
                    port: p.container,
                    service_port: p.service.unwrap_or(p.container),
                    path: mt.path.clone(),
                })
            }),
            workload,
            stop_grace_period: svc.stop_grace_period,
            external: svc.external.clone(),
        });
    }

    // Secrets: the ones enabled services use, in declaration order.
    let mut secrets = Vec::new();
    let mut used_any: BTreeSet<&str> = BTreeSet::new();
    for (sname, s) in &model.secrets {
        let users: Vec<&ir::Service> = services
            .iter()
            .filter(|svc| svc.env.iter().any(|e| uses_secret(&e.value, sname)))
            .collect();
        if users.is_empty() {
            continue;
        }
        used_any.insert(sname);
        let mut namespaces: Vec<String> = Vec::new();
        for u in &users {
            if !namespaces.contains(&u.namespace) {
                namespaces.push(u.namespace.clone());
            }
        }
        secrets.push(ir::Secret {
            name: sname.clone(),
            description: s.description.clone(),
            value: (tier == Tier::Dev).then(|| secret_values[sname.as_str()].clone()),
            namespaces,
            used_by: users.iter().map(|u| u.name.clone()).collect(),
        });
    }
    for (sname, _) in &model.secrets {
        if !used_any.contains(sname.as_str())
            && !model.services.values().any(|s| {
                s.env
                    .values()
                    .any(|v| matches!(v, ModelEnv::Secret(r) if &r.secret == sname))
            })
        {
            d.push(
                Diagnostic::warning(
                    "W-unused-secret",
                    format!("secret `{sname}` is not used by any service"),
                )
                .at(m.tree.key_origin_of(&["secrets", sname]), "unused")
                .hint("remove it, or reference it with { secret = \"…\" } or ${secret.…}"),
            );
        }
    }

    check_file_secrets(m, &services, &secret_values, &mut d);
    if tier == Tier::Prod {
        for (sname, s) in &model.secrets {
            if s.dev_value.is_some() && used_any.contains(sname.as_str()) {
                d.push(
                    Diagnostic::warning(
                        "W-dev-secret-in-prod",
                        format!(
                            "secret `{sname}` has a dev value; prod mode `{}` ignores it",
                            m.mode
                        ),
                    )
                    .at(
                        m.tree.origin_of(&["secrets", sname, "dev_value"]),
                        "ignored in prod",
                    )
                    .hint("prod artifacts reference a Secret that you create at deploy time"),
                );
            }
        }
    }
    if backend.is_kubernetes() {
        check_quotas(m, &services, &mut d);
    }

    if d.has_errors() {
        d.sort();
        return Err(d);
    }

    let namespaces = model
        .namespaces
        .iter()
        .filter(|(k, _)| services.iter().any(|s| &s.namespace_key == *k))
        .map(|(k, n)| ir::Namespace {
            key: k.clone(),
            name: n.name.clone(),
            pod_security: n.pod_security,
            quota: n.quota.clone(),
        })
        .collect();
    let ir = Ir {
        env: m.env.clone(),
        mode: m.mode.clone(),
        description: model.environment.description.clone(),
        backend,
        tier,
        sources,
        ingress_host: model.environment.ingress_host.clone(),
        network_policy: model.environment.network_policy,
        labels: model.environment.labels.clone(),
        namespaces,
        secrets,
        services,
        kubernetes: m.profile.kubernetes.clone(),
        compose: m.profile.compose.clone(),
        cloud: m.profile.cloud.clone(),
    };
    d.sort();
    Ok(Compiled {
        ir,
        graph,
        warnings: d,
    })
}

/// A rendered file starts with envc's marker and its template where the file's format has
/// `#` comments; the line names no mode, so a file renders the same in every mode but for host
/// names and ports.
fn with_header(path: &str, template: &str, text: String) -> String {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if [
        "yaml",
        "yml",
        "toml",
        "ini",
        "conf",
        "cfg",
        "properties",
        "sh",
        "env",
    ]
    .contains(&ext.as_str())
    {
        format!("# generated by envc from {template}, do not edit\n{text}")
    } else {
        text
    }
}

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

/// The dev value of a secret without `dev_value`: derived from the names, so it is the same
/// on every machine and run, and never random.
pub fn derived_secret(env: &str, secret: &str) -> String {
    let h = Sha256::digest(format!("envc-dev-secret:{env}:{secret}").as_bytes());
    let hex: String = h.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("dev-{hex}")
}

fn uses_secret(v: &EnvValue, name: &str) -> bool {
    match v {
        EnvValue::Secret(s) => s == name,
        EnvValue::Template(segs) => segs
            .iter()
            .any(|s| matches!(s, Segment::Secret(x) if x == name)),
        EnvValue::Text(_) => false,
    }
}

fn unknown_service(model: &model::EnvironmentFile, name: &str) -> Diagnostic {
    let d = Diagnostic::error("E-unknown-service", format!("unknown service `{name}`"));
    match did_you_mean(name, model.services.keys().map(String::as_str)) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None => d.hint(format!(
            "services are: {}",
            model
                .services
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn unknown_secret(model: &model::EnvironmentFile, name: &str) -> Diagnostic {
    let d = Diagnostic::error("E-unknown-secret", format!("unknown secret `{name}`"));
    match did_you_mean(name, model.secrets.keys().map(String::as_str)) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None => d.hint(format!("declare it under [secrets.{name}]")),
    }
}

fn disabled_service(m: &LoadedMode, name: &str) -> Diagnostic {
    let o = m.tree.origin_of(&["services", name, "enabled"]);
    Diagnostic::error(
        "E-disabled-service",
        format!("service `{name}` is disabled in mode `{}`", m.mode),
    )
    .also(o, "disabled here")
    .hint("enable it in this mode, or remove what depends on it")
}

/// Checks one reference path. Returns the service it points at (for a graph edge) and the
/// port it names, if any.
fn check_ref(
    ctx: &Ctx<'_>,
    owner: &str,
    path: &[String],
    site: Site,
) -> Result<Option<(String, Option<String>)>, Diagnostic> {
    let model = &ctx.m.model;
    let head = path[0].as_str();
    let field = path.get(1).map(String::as_str);
    match head {
        "secret" => {
            if site != Site::Env {
                return Err(Diagnostic::error("E-secret-in-args", "secrets cannot appear in command or args, where anyone who can read the pod spec sees them")
                    .hint("pass the secret in an env variable and read it from there"));
            }
            let [_, name] = path else {
                return Err(Diagnostic::error(
                    "E-bad-reference",
                    "a secret reference is `${secret.<name>}`",
                ));
            };
            if !model.secrets.contains_key(name) {
                return Err(unknown_secret(model, name));
            }
            Ok(None)
        }
        "environment" => match field {
            Some("name" | "ingress_host") if path.len() == 2 => {
                if field == Some("ingress_host") && model.environment.ingress_host.is_none() {
                    return Err(Diagnostic::error(
                        "E-bad-reference",
                        "the environment has no ingress_host",
                    )
                    .hint("set ingress_host in [environment]"));
                }
                Ok(None)
            }
            _ => Err(Diagnostic::error(
                "E-bad-reference",
                format!("unknown reference `${{{}}}`", path.join(".")),
            )
            .hint(
                "environment references are ${environment.name} and ${environment.ingress_host}",
            )),
        },
        "mode" => match field {
            Some("name" | "tier" | "backend") if path.len() == 2 => Ok(None),
            _ => Err(Diagnostic::error(
                "E-bad-reference",
                format!("unknown reference `${{{}}}`", path.join(".")),
            )
            .hint("mode references are ${mode.name}, ${mode.tier} and ${mode.backend}")),
        },
        "namespace" => match path {
            [_, key] if model.namespaces.contains_key(key) => Ok(None),
            _ => Err(Diagnostic::error(
                "E-bad-reference",
                format!("unknown reference `${{{}}}`", path.join(".")),
            )
            .hint("namespace references are ${namespace.<key>} with a key of [namespaces]")),
        },
        _ => {
            let svc_name = if head == "self" { owner } else { head };
            let svc = match model.services.get(svc_name) {
                None => return Err(unknown_service(model, svc_name)),
                Some(s) if !s.enabled => return Err(disabled_service(ctx.m, svc_name)),
                Some(s) => s,
            };
            let edge = |port: Option<String>| Ok(Some((svc_name.to_string(), port)));
            match (field, path.len()) {
                (Some("host" | "name"), 2) => edge(None),
                (Some("port" | "address"), 2) => {
                    if svc.ports.len() != 1 {
                        return Err(Diagnostic::error("E-bad-reference", format!("`{svc_name}` has {} ports: name one", svc.ports.len()))
                            .hint(format!("write ${{{svc_name}.{}.<port>}}", field.unwrap_or("port"))));
                    }
                    edge(svc.ports.keys().next().cloned())
                }
                (Some("port" | "address"), 3) => {
                    let p = &path[2];
                    if !svc.ports.contains_key(p) {
                        return Err(validate::unknown_port(svc_name, svc, p));
                    }
                    edge(Some(p.clone()))
                }
                (Some("env"), 3) => {
                    let k = &path[2];
                    match svc.env.get(k) {
                        None => Err(Diagnostic::error("E-bad-reference", format!("service `{svc_name}` has no env variable `{k}`"))),
                        Some(ModelEnv::Secret(_)) => Err(Diagnostic::error("E-bad-reference", format!("`{svc_name}.env.{k}` comes from a secret"))
                            .hint("reference the secret itself with ${secret.<name>}")),
                        Some(ModelEnv::Text(_)) => edge(None),
                    }
                }
                _ => Err(Diagnostic::error("E-bad-reference", format!("unknown reference `${{{}}}`", path.join(".")))
                    .hint("service references are ${<service>.host}, ${<service>.port[.<port>]}, ${<service>.address[.<port>]}, ${<service>.env.<NAME>} and ${<service>.name}")),
            }
        }
    }
}

/// Resolves a string's references for the mode.
fn resolve_string(ctx: &Ctx<'_>, owner: &str, text: &str) -> Result<EnvValue, String> {
    resolve_depth(ctx, owner, text, 0)
}

fn resolve_depth(ctx: &Ctx<'_>, owner: &str, text: &str, depth: u32) -> Result<EnvValue, String> {
    if depth > 8 {
        return Err("references nest too deeply (a loop through env values?)".into());
    }
    let pieces = reference::parse(text).map_err(|e| e.message)?;
    let mut segs: Vec<Segment> = Vec::new();
    let push_text = |segs: &mut Vec<Segment>, t: &str| match segs.last_mut() {
        Some(Segment::Text(s)) => s.push_str(t),
        _ => segs.push(Segment::Text(t.to_string())),
    };
    let model = &ctx.m.model;
    for piece in pieces {
        match piece {
            Piece::Text(t) => push_text(&mut segs, &t),
            Piece::Ref { path, .. } => {
                let head = path[0].as_str();
                let field = path.get(1).map(String::as_str).unwrap_or_default();
                let value: String = match head {
                    "secret" => {
                        segs.push(Segment::Secret(path[1].clone()));
                        continue;
                    }
                    "environment" if field == "name" => ctx.m.env.clone(),
                    "environment" => model.environment.ingress_host.clone().unwrap_or_default(),
                    "mode" => match field {
                        "name" => ctx.m.mode.clone(),
                        "tier" => ctx.m.profile.profile.tier.as_str().to_string(),
                        _ => ctx.backend.as_str().to_string(),
                    },
                    "namespace" => model
                        .namespaces
                        .get(&path[1])
                        .map(|n| n.name.clone())
                        .unwrap_or_default(),
                    _ => {
                        let name = if head == "self" { owner } else { head };
                        let Some(t) = ctx.targets.get(name) else {
                            return Err(format!("unknown service `{name}`"));
                        };
                        let port = |p: Option<&String>| -> u16 {
                            let p = match p {
                                Some(n) => t.svc.ports.get(n),
                                None => t.svc.ports.values().next(),
                            };
                            p.map(|p| ctx.port(p)).unwrap_or_default()
                        };
                        match field {
                            "host" => ctx.host(name),
                            "name" => name.to_string(),
                            "port" => port(path.get(2)).to_string(),
                            "address" => format!("{}:{}", ctx.host(name), port(path.get(2))),
                            "env" => match t.svc.env.get(&path[2]) {
                                Some(ModelEnv::Text(inner)) => {
                                    match resolve_depth(ctx, name, inner, depth + 1)? {
                                        EnvValue::Text(s) => s,
                                        _ => {
                                            return Err(format!(
                                                "`{name}.env.{}` contains a secret",
                                                path[2]
                                            ));
                                        }
                                    }
                                }
                                _ => {
                                    return Err(format!(
                                        "`{name}.env.{}` is not a plain value",
                                        path[2]
                                    ));
                                }
                            },
                            other => return Err(format!("unknown reference field `{other}`")),
                        }
                    }
                };
                push_text(&mut segs, &value);
            }
        }
    }
    Ok(match segs.as_slice() {
        [] => EnvValue::Text(String::new()),
        [Segment::Text(t)] => EnvValue::Text(t.clone()),
        [Segment::Secret(s)] => EnvValue::Secret(s.clone()),
        _ => EnvValue::Template(segs),
    })
}

/// Services a template mentions as `services.<name>` (and the port, for
/// `services.<name>.ports.<port>`).
fn mentioned_services(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    };
    let mut rest = text;
    while let Some(i) = rest.find("services.") {
        let after = &rest[i + "services.".len()..];
        let (name, tail) = if let Some(stripped) = after.strip_prefix('[') {
            let n: String = stripped.chars().take_while(|c| *c != ']').collect();
            let tail = stripped.get(n.len() + 1..).unwrap_or("");
            (n, tail)
        } else {
            let n = ident(after);
            let tail = after.get(n.len()..).unwrap_or("");
            (n, tail)
        };
        let port = tail.strip_prefix(".ports.").map(|t| {
            let t = t.strip_prefix('[').unwrap_or(t);
            ident(t)
        });
        if !name.is_empty() {
            out.push((name, port.filter(|p| !p.is_empty())));
        }
        rest = &rest[i + "services.".len()..];
    }
    out
}

fn template_context(ctx: &Ctx<'_>, graph: &Graph, enabled: &[&str]) -> Value {
    let model = &ctx.m.model;
    let mut services = serde_json::Map::new();
    for name in &graph.order {
        let t = &ctx.targets[name.as_str()];
        let mut ports = serde_json::Map::new();
        for (pname, p) in &t.svc.ports {
            let port = ctx.port(p);
            ports.insert(
                pname.clone(),
                json!({
                    "name": pname,
                    "port": port,
                    "container_port": p.container,
                    "service_port": p.service.unwrap_or(p.container),
                    "protocol": p.protocol.compose(),
                    "address": format!("{}:{}", ctx.host(name), port),
                }),
            );
        }
        let metrics = t.svc.metrics.as_ref().and_then(|mt| {
            let p = t.svc.ports.get(&mt.port)?;
            Some(json!({"port": ctx.port(p), "path": mt.path, "address": format!("{}:{}", ctx.host(name), ctx.port(p))}))
        });
        services.insert(
            name.clone(),
            json!({
                "name": name,
                "host": ctx.host(name),
                "namespace": t.namespace,
                "component": t.svc.component,
                "ports": ports,
                "metrics": metrics,
            }),
        );
    }
    let scrape_targets: Vec<Value> = graph
        .order
        .iter()
        .filter(|n| enabled.contains(&n.as_str()))
        .filter_map(|name| {
            let t = &ctx.targets[name.as_str()];
            let mt = t.svc.metrics.as_ref()?;
            let p = t.svc.ports.get(&mt.port)?;
            let port = ctx.port(p);
            Some(json!({
                "job": name,
                "service": name,
                "host": ctx.host(name),
                "port": port,
                "address": format!("{}:{}", ctx.host(name), port),
                "path": mt.path,
                "namespace": t.namespace,
            }))
        })
        .collect();
    let namespaces: serde_json::Map<String, Value> = model
        .namespaces
        .iter()
        .map(|(k, n)| (k.clone(), Value::String(n.name.clone())))
        .collect();
    json!({
        "environment": {
            "name": ctx.m.env,
            "description": model.environment.description,
            "ingress_host": model.environment.ingress_host,
        },
        "mode": {
            "name": ctx.m.mode,
            "backend": ctx.backend.as_str(),
            "tier": ctx.m.profile.profile.tier.as_str(),
        },
        "namespaces": namespaces,
        "services": services,
        "scrape_targets": scrape_targets,
    })
}

fn check_port_collisions(m: &LoadedMode, ctx: &Ctx<'_>, enabled: &[&str], d: &mut Diagnostics) {
    let mut node_ports: IndexMap<u16, (String, String)> = IndexMap::new();
    let mut host_ports: IndexMap<(u16, model::Protocol), (String, String)> = IndexMap::new();
    let backend = ctx.backend;
    for name in enabled {
        let svc = &m.model.services[*name];
        for (pname, p) in &svc.ports {
            if let Some(np) = p.node_port
                && backend.is_kubernetes()
                && m.profile.kubernetes.node_ports
            {
                let here = m
                    .tree
                    .origin_of(&["services", name, "ports", pname, "node_port"]);
                if let Some((s2, p2)) = node_ports.get(&np) {
                    let there = m
                        .tree
                        .origin_of(&["services", s2, "ports", p2, "node_port"]);
                    d.push(
                        Diagnostic::error(
                            "E-port-collision",
                            format!(
                                "node port {np} is used by both `{s2}.{p2}` and `{name}.{pname}`"
                            ),
                        )
                        .at(here, "second use")
                        .also(there, "first use")
                        .hint("NodePorts are cluster-wide: give each port its own"),
                    );
                } else {
                    node_ports.insert(np, (name.to_string(), pname.clone()));
                }
            }
            if let Some(hp) = p.host_port
                && backend == Backend::Compose
            {
                let here = m
                    .tree
                    .origin_of(&["services", name, "ports", pname, "host_port"]);
                if let Some((s2, p2)) = host_ports.get(&(hp, p.protocol)) {
                    let there = m
                        .tree
                        .origin_of(&["services", s2, "ports", p2, "host_port"]);
                    d.push(
                        Diagnostic::error("E-port-collision", format!("host port {hp} is published by both `{s2}.{p2}` and `{name}.{pname}`"))
                            .at(here, "second use")
                            .also(there, "first use")
                            .hint("a host port can be published once: pick another"),
                    );
                } else {
                    host_ports.insert((hp, p.protocol), (name.to_string(), pname.clone()));
                }
            }
        }
    }
    // Ingress routes: one backend per host and path.
    let mut routes: IndexMap<(String, String), (String, String)> = IndexMap::new();
    for name in enabled {
        for (pname, p) in &m.model.services[*name].ports {
            if let Some(i) = &p.ingress {
                let key = (i.subdomain.clone().unwrap_or_default(), i.path.clone());
                if let Some((s2, p2)) = routes.get(&key) {
                    d.push(
                        Diagnostic::error("E-ingress-collision", format!("ingress path `{}` is routed to both `{s2}.{p2}` and `{name}.{pname}`", i.path))
                            .at(m.tree.origin_of(&["services", name, "ports", pname, "ingress"]), "second route")
                            .also(m.tree.origin_of(&["services", s2, "ports", p2, "ingress"]), "first route")
                            .hint("give one of them another path or sub-domain"),
                    );
                } else {
                    routes.insert(key, (name.to_string(), pname.clone()));
                }
            }
        }
    }
}

/// Names that usually hold credentials.
pub fn looks_secret(name: &str) -> bool {
    envc_model::model::looks_like_credential(name)
}

/// Literal values (env text, command, args) must not hold credentials: neither the value of a
/// declared secret nor anything in a variable whose name says it is a credential.
fn check_literal_secrets(
    m: &LoadedMode,
    enabled: &[&str],
    values: &IndexMap<&str, ir::SecretValue>,
    d: &mut Diagnostics,
) {
    for name in enabled {
        let svc = &m.model.services[*name];
        for (k, v) in &svc.env {
            let ModelEnv::Text(t) = v else { continue };
            let at = m.tree.origin_of(&["services", name, "env", k]);
            let only_refs =
                reference::parse(t).is_ok_and(|p| p.iter().all(|x| matches!(x, Piece::Ref { .. })));
            if looks_secret(k) && !t.is_empty() && !only_refs {
                d.push(
                    Diagnostic::error("E-inline-secret", format!("`{k}` of `{name}` looks like a credential but holds a literal value"))
                        .at(at, "literal value")
                        .hint(format!("declare a secret and write `{k} = {{ secret = \"<name>\" }}` (or use ${{secret.<name>}} inside a URL)")),
                );
            }
            for (sname, sv) in values {
                if sv.value.len() >= 4 && t.contains(&sv.value) {
                    d.push(
                        Diagnostic::error("E-inline-secret", format!("env `{k}` of `{name}` contains the value of secret `{sname}`"))
                            .at(at, "secret value written inline")
                            .hint(format!("write ${{secret.{sname}}} where the value goes; envc assembles it at run time")),
                    );
                }
            }
        }
        for (key, list) in [("command", &svc.command), ("args", &svc.args)] {
            for (i, a) in list.iter().flatten().enumerate() {
                for (sname, sv) in values {
                    if sv.value.len() >= 4 && a.contains(&sv.value) {
                        d.push(
                            Diagnostic::error(
                                "E-inline-secret",
                                format!("{key} of `{name}` contains the value of secret `{sname}`"),
                            )
                            .at(
                                m.tree.origin_of(&["services", name, key, &i.to_string()]),
                                "secret value written inline",
                            )
                            .hint("pass secrets through env values with { secret = \"…\" }"),
                        );
                    }
                }
            }
        }
    }
}

/// Rendered files end up in ConfigMaps and committed files: no secret value may appear there.
fn check_file_secrets(
    m: &LoadedMode,
    services: &[ir::Service],
    values: &IndexMap<&str, ir::SecretValue>,
    d: &mut Diagnostics,
) {
    for svc in services {
        for f in &svc.files {
            for (sname, v) in values {
                if v.value.len() >= 4 && f.content.contains(&v.value) {
                    d.push(
                        Diagnostic::error("E-inline-secret", format!("file `{}` of `{}` contains the value of secret `{sname}`", f.name, svc.name))
                            .at(m.tree.origin_of(&["services", &svc.name, "files", &f.name]), "in this file")
                            .hint("files are stored in plain ConfigMaps and committed: pass secrets through env values"),
                    );
                }
            }
        }
    }
}

/// A quota key, its limit, the amount used, and how to print amounts.
type QuotaCheck = (&'static str, Option<u64>, u64, fn(u64) -> String);

fn check_quotas(m: &LoadedMode, services: &[ir::Service], d: &mut Diagnostics) {
    for (key, ns) in &m.model.namespaces {
        let Some(q) = &ns.quota else { continue };
        let in_ns: Vec<&ir::Service> = services
            .iter()
            .filter(|s| &s.namespace_key == key && s.is_deployed())
            .collect();
        let sum = |f: &dyn Fn(&ir::Service) -> u64| -> u64 {
            in_ns
                .iter()
                .map(|s| f(s) * u64::from(s.max_replicas()))
                .sum()
        };
        let cpu_lim = sum(&|s| s.resources.limits.cpu.as_ref().map_or(0, |c| c.millis));
        let mem_lim = sum(&|s| s.resources.limits.memory.as_ref().map_or(0, |c| c.bytes));
        let cpu_req = sum(&|s| {
            s.resources
                .requests
                .cpu
                .as_ref()
                .or(s.resources.limits.cpu.as_ref())
                .map_or(0, |c| c.millis)
        });
        let mem_req = sum(&|s| {
            s.resources
                .requests
                .memory
                .as_ref()
                .or(s.resources.limits.memory.as_ref())
                .map_or(0, |c| c.bytes)
        });
        let storage = sum(&|s| {
            s.volumes
                .iter()
                .filter(|v| v.persistent)
                .filter_map(|v| v.size.as_ref())
                .map(|b| b.bytes)
                .sum()
        });
        let pods: u64 = in_ns.iter().map(|s| u64::from(s.max_replicas())).sum();
        let pvcs: u64 = in_ns
            .iter()
            .map(|s| {
                s.volumes.iter().filter(|v| v.persistent).count() as u64
                    * u64::from(s.max_replicas())
            })
            .sum();
        let checks: [QuotaCheck; 7] = [
            (
                "limits_cpu",
                q.limits_cpu.as_ref().map(|c| c.millis),
                cpu_lim,
                |v| envc_model::quantity::Cpu::from_millis(v).text,
            ),
            (
                "limits_memory",
                q.limits_memory.as_ref().map(|c| c.bytes),
                mem_lim,
                |v| envc_model::quantity::Bytes::from_bytes(v).text,
            ),
            (
                "requests_cpu",
                q.requests_cpu.as_ref().map(|c| c.millis),
                cpu_req,
                |v| envc_model::quantity::Cpu::from_millis(v).text,
            ),
            (
                "requests_memory",
                q.requests_memory.as_ref().map(|c| c.bytes),
                mem_req,
                |v| envc_model::quantity::Bytes::from_bytes(v).text,
            ),
            (
                "storage",
                q.storage.as_ref().map(|c| c.bytes),
                storage,
                |v| envc_model::quantity::Bytes::from_bytes(v).text,
            ),
            ("pods", q.pods.map(u64::from), pods, |v| v.to_string()),
            (
                "persistent_volume_claims",
                q.persistent_volume_claims.map(u64::from),
                pvcs,
                |v| v.to_string(),
            ),
        ];
        for (what, limit, used, fmt) in checks {
            if let Some(limit) = limit
                && used > limit
            {
                d.push(
                    Diagnostic::error("E-quota-exceeded", format!("services of namespace `{key}` need {} of {what} at their maximum replicas, above the quota of {}", fmt(used), fmt(limit)))
                        .at(m.tree.origin_of(&["namespaces", key, "quota", what]), "quota")
                        .hint("raise the quota, or lower the services' resources or maximum replicas"),
                );
            }
        }
    }
}

/// Checks that need every environment of a mode at once: NodePorts are cluster-wide, so two
/// environments deployed to the same cluster must not share one.
pub fn cross_environment_checks(irs: &[&Ir]) -> Diagnostics {
    let mut d = Diagnostics::new();
    let mut seen: IndexMap<(String, u16), String> = IndexMap::new();
    for ir in irs {
        if !ir.backend.is_kubernetes() {
            continue;
        }
        for s in &ir.services {
            for p in &s.ports {
                let Some(np) = p.node_port else { continue };
                let here = format!("{}/services.{}.ports.{}", ir.env, s.name, p.name);
                if let Some(other) = seen.get(&(ir.mode.clone(), np)) {
                    d.push(
                        Diagnostic::error("E-port-collision", format!("node port {np} is used by both {other} and {here} in mode `{}`", ir.mode))
                            .path(here.clone())
                            .hint("NodePorts are cluster-wide: environments deployed to one cluster need distinct ones"),
                    );
                } else {
                    seen.insert((ir.mode.clone(), np), here);
                }
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_services_mentioned_by_templates() {
        let t = "x: {{services.jaeger.ports.otlp-grpc.address}}\ny: {{services.[otel-collector].host}}\n{{#each scrape_targets}}{{/each}}";
        assert_eq!(
            mentioned_services(t),
            vec![
                ("jaeger".to_string(), Some("otlp-grpc".to_string())),
                ("otel-collector".to_string(), None)
            ]
        );
    }

    #[test]
    fn credential_names() {
        assert!(looks_secret("POSTGRES_PASSWORD"));
        assert!(looks_secret("AWS_SECRET_ACCESS_KEY"));
        assert!(looks_secret("AWS_ACCESS_KEY_ID"));
        assert!(!looks_secret("POSTGRES_PASSWORD_FILE"));
        assert!(!looks_secret("MINIO_PROMETHEUS_AUTH_TYPE"));
    }

    #[test]
    fn derived_secrets_are_stable() {
        assert_eq!(derived_secret("a", "b"), derived_secret("a", "b"));
        assert_ne!(derived_secret("a", "b"), derived_secret("a", "c"));
    }
}
