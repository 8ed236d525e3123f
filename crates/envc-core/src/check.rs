//! Checks that span services: collisions of NodePorts, host ports and ingress routes,
//! references to unknown secrets, and secret values written where they would leak (before the
//! graph); quotas and rendered files (after lowering, over the IR's services); NodePorts across
//! environments (after every mode is compiled).

use envc_model::load::LoadedMode;
use envc_model::model::{self, EnvValue as ModelEnv};
use envc_model::profile::Backend;
use envc_model::{Diagnostic, Diagnostics};
use indexmap::IndexMap;

use crate::ir::{self, Ir};
use crate::reference::Piece;
use crate::scope::{Scope, Site, unknown_secret};
use crate::secret::{SecretValues, secrets_held};

/// The checks that need every enabled service but not the graph.
pub(crate) fn across_services(scope: &Scope<'_>, values: &SecretValues<'_>, d: &mut Diagnostics) {
    check_port_collisions(scope, d);
    check_ingress_routes(scope, d);
    check_secret_names(scope, d);
    check_literal_secrets(scope, values, d);
    check_shared_volumes(scope, d);
}

/// Mounts of environment volumes: the volume exists, its size and class are its own, one
/// namespace holds its claim, and a `single` volume has one pod.
fn check_shared_volumes(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    let model = &m.model;
    for vname in model.volumes.keys() {
        if !envc_model::load::is_dns_label(vname) {
            d.push(
                Diagnostic::error("E-bad-name", format!("`{vname}` is not a valid volume name"))
                    .at(m.tree.key_origin_of(&["volumes", vname]), "here")
                    .hint("use lowercase letters, digits and `-`, starting with a letter (it names the claim)"),
            );
        }
    }
    // (volume, service, namespace, pods at most)
    let mut mounts: Vec<(&str, &str, &str, u32)> = Vec::new();
    for (name, t) in &scope.targets {
        if t.svc.external.is_some() {
            continue;
        }
        for (key, v) in &t.svc.volumes {
            let Some(shared) = v.volume.as_deref() else {
                continue;
            };
            if crate::service::bind_wins(m, v) {
                continue; // this mode bind-mounts the source instead
            }
            let here = ["services", name, "volumes", key];
            if !model.volumes.contains_key(shared) {
                let mut diag = Diagnostic::error(
                    "E-unknown-volume",
                    format!("volume `{key}` of `{name}` mounts `{shared}`, which [volumes] does not declare"),
                )
                .at(m.tree.origin_of(&["services", name, "volumes", key, "volume"]), "no such volume");
                diag = match envc_model::diagnostic::did_you_mean(shared, model.volumes.keys().map(String::as_str)) {
                    Some(s) => diag.hint(format!("did you mean `{s}`?")),
                    None => diag.hint(format!("declare it: [volumes.{shared}] size = \"10Gi\" (access = \"shared\" for pods on several nodes)")),
                };
                d.push(diag);
                continue;
            }
            for (field, set) in [
                ("size", v.size.is_some()),
                ("storage_class", v.storage_class.is_some()),
                ("persistent", !v.persistent),
            ] {
                if set {
                    d.push(
                        Diagnostic::error(
                            "E-volume-settings",
                            format!("`{field}` of volume `{key}` of `{name}` belongs to the environment volume `{shared}`"),
                        )
                        .at(m.tree.key_origin_of(&[here.as_slice(), &[field]].concat()), "here")
                        .hint(format!("set it under [volumes.{shared}] (profiles can set it per mode), or remove it here")),
                    );
                }
            }
            let pods = t
                .svc
                .autoscaling
                .as_ref()
                .map_or(t.svc.replicas.unwrap_or(1), |a| a.max);
            mounts.push((shared, name, &t.namespace, pods));
        }
    }
    for (vname, v) in &model.volumes {
        let users: Vec<&(&str, &str, &str, u32)> =
            mounts.iter().filter(|(x, ..)| x == vname).collect();
        let Some(first) = users.first() else { continue };
        if let Some(other) = users.iter().find(|u| u.2 != first.2) {
            d.push(
                Diagnostic::error(
                    "E-volume-namespace",
                    format!("volume `{vname}` is mounted by `{}` in namespace `{}` and by `{}` in `{}`", first.1, first.2, other.1, other.2),
                )
                .at(m.tree.key_origin_of(&["volumes", vname]), "here")
                .hint("a claim lives in one namespace: put the services that share it in one namespace"),
            );
        }
        let pods: u32 = users.iter().map(|u| u.3).sum();
        if v.access == envc_model::model::VolumeAccess::Single && pods > 1 {
            d.push(
                Diagnostic::error(
                    "E-shared-volume",
                    format!("volume `{vname}` has access `single`, but {pods} pods mount it ({})", users.iter().map(|u| format!("`{}`", u.1)).collect::<Vec<_>>().join(", ")),
                )
                .at(m.tree.key_origin_of(&["volumes", vname]), "here")
                .hint("set `access = \"shared\"`: a ReadWriteMany claim where the mode's cluster has several nodes (kubernetes.shared_volume_access says which), a named volume in Compose"),
            );
        }
    }
}

/// The checks over lowered services: secret values in rendered files, and (in Kubernetes)
/// namespace quotas.
pub(crate) fn lowered(
    m: &LoadedMode,
    services: &[ir::Service],
    values: &SecretValues<'_>,
    d: &mut Diagnostics,
) {
    check_file_secrets(m, services, values, d);
    if m.profile.profile.backend.is_kubernetes() {
        check_quotas(m, services, d);
    }
    if m.profile.profile.backend == Backend::Helm {
        check_hook_order(m, services, d);
    }
}

/// A job that runs before the release is a Helm pre-install hook: Helm runs it before it
/// creates any of the release's objects, so it can only wait for (or reach) what exists by
/// then, managed services and the hooks before it.
fn check_hook_order(m: &LoadedMode, services: &[ir::Service], d: &mut Diagnostics) {
    for s in services.iter().filter(|s| s.runs_before()) {
        for dep in &s.depends_on {
            let Some(target) = services.iter().find(|x| x.name == dep.service) else {
                continue;
            };
            if !target.is_deployed() || target.runs_before() {
                continue;
            }
            let (origin, how) = if dep.declared {
                (
                    m.tree
                        .origin_of(&["services", &s.name, "depends_on", &dep.service]),
                    "depends on",
                )
            } else {
                (
                    m.tree.origin_of(&["services", &s.name, "job", "run"]),
                    "refers to",
                )
            };
            d.push(
                Diagnostic::error(
                    "E-hook-order",
                    format!(
                        "job `{}` runs before the release, but {how} `{}`, which the release deploys",
                        s.name, dep.service
                    ),
                )
                .at(origin, "here")
                .hint(format!(
                    "in mode `{}` the job is a Helm pre-install hook and runs before `{}` exists: make `{}` a managed service (external) in this mode, or set `job.run = \"alongside\"`",
                    m.mode, dep.service, dep.service
                )),
            );
        }
        if s.volumes.iter().any(|v| v.persistent) {
            d.push(
                Diagnostic::error(
                    "E-hook-order",
                    format!("job `{}` runs before the release, but has persistent volumes, whose claims the release creates after it", s.name),
                )
                .at(m.tree.origin_of(&["services", &s.name, "volumes"]), "here")
                .hint("give the job scratch volumes (`persistent = false`), or set `job.run = \"alongside\"`"),
            );
        }
    }
}

/// Env values that name a secret with `{ secret = "…" }` must name a declared one.
fn check_secret_names(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    for (name, t) in &scope.targets {
        let steps = t.steps.iter().map(|s| (vec![s.kind, s.name], &s.step.env));
        for (prefix, env) in std::iter::once((Vec::new(), &t.svc.env)).chain(steps) {
            for (k, v) in env {
                if let ModelEnv::Secret(s) = v
                    && !m.model.secrets.contains_key(&s.secret)
                {
                    let mut path = vec!["services", name];
                    path.extend(&prefix);
                    path.extend(["env", k, "secret"]);
                    d.push(
                        unknown_secret(&m.model, &s.secret)
                            .at(m.tree.origin_of(&path), "no such secret"),
                    );
                }
            }
        }
    }
}

/// NodePorts are cluster-wide and host ports machine-wide: each may be used once.
fn check_port_collisions(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    let mut node_ports: IndexMap<u16, (String, String)> = IndexMap::new();
    let mut host_ports: IndexMap<(u16, model::Protocol), (String, String)> = IndexMap::new();
    let backend = scope.backend;
    for (name, t) in &scope.targets {
        for (pname, p) in &t.svc.ports {
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
}

/// Ingress routes: one backend per host and path.
fn check_ingress_routes(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    let mut routes: IndexMap<(String, String), (String, String)> = IndexMap::new();
    for (name, t) in &scope.targets {
        for (pname, p) in &t.svc.ports {
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

/// Names that say they hold credentials ([`envc_model::model::names_credential`], the rule
/// diff and the promotion gates use too).
pub fn looks_secret(name: &str) -> bool {
    envc_model::model::names_credential(name)
}

/// Literal values (env text, command, args) must not hold credentials: neither the value of a
/// declared secret nor anything in a variable whose name says it is a credential.
fn check_literal_secrets(scope: &Scope<'_>, values: &SecretValues<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    for (name, t) in &scope.targets {
        for text in t.texts() {
            // Located only when there is something to report: most texts hold no secret.
            let at = || m.tree.origin_of(&text.path(name));
            if text.site != Site::Env {
                let key = text.site.key();
                for sname in secrets_held(text.text, values) {
                    d.push(
                        Diagnostic::error(
                            "E-inline-secret",
                            format!("{key} of `{name}` contains the value of secret `{sname}`"),
                        )
                        .at(at(), "secret value written inline")
                        .hint("pass secrets through env values with { secret = \"…\" }"),
                    );
                }
                continue;
            }
            let k = &text.key;
            let only_refs = text
                .pieces
                .as_ref()
                .is_ok_and(|p| p.iter().all(|x| matches!(x, Piece::Ref { .. })));
            if envc_model::model::literal_is_credential(k, text.text) && !only_refs {
                d.push(
                    Diagnostic::error("E-inline-secret", format!("`{k}` of `{name}` looks like a credential but holds a literal value"))
                        .at(at(), "literal value")
                        .hint(format!("declare a secret and write `{k} = {{ secret = \"<name>\" }}` (or use ${{secret.<name>}} inside a URL)")),
                );
            }
            for sname in secrets_held(text.text, values) {
                d.push(
                    Diagnostic::error("E-inline-secret", format!("env `{k}` of `{name}` contains the value of secret `{sname}`"))
                        .at(at(), "secret value written inline")
                        .hint(format!("write ${{secret.{sname}}} where the value goes; envc assembles it at run time")),
                );
            }
        }
    }
}

/// Rendered files end up in ConfigMaps and committed files: no secret value may appear there.
fn check_file_secrets(
    m: &LoadedMode,
    services: &[ir::Service],
    values: &SecretValues<'_>,
    d: &mut Diagnostics,
) {
    for svc in services {
        for f in &svc.files {
            for sname in secrets_held(&f.content, values) {
                d.push(
                    Diagnostic::error("E-inline-secret", format!("file `{}` of `{}` contains the value of secret `{sname}`", f.name, svc.name))
                        .at(m.tree.origin_of(&["services", &svc.name, "files", &f.name]), "in this file")
                        .hint("files are stored in plain ConfigMaps and committed: pass secrets through env values"),
                );
            }
        }
    }
}

/// A quota key, its limit, the amount used, and how to print amounts.
type QuotaCheck = (&'static str, Option<u64>, u64, fn(u64) -> String);

/// Namespace quotas hold the sum of their services' resources at maximum replicas.
/// One amount (a request or limit) of a service's pod as Kubernetes counts it against a quota:
/// the larger of its running containers (the service's and its sidecars') and of each init
/// step together with the sidecars started before it. A step or sidecar without resources
/// gets the service's.
fn pod_amount(s: &ir::Service, f: &dyn Fn(&model::Resources) -> u64) -> u64 {
    let of = |st: &ir::Step| {
        if st.resources == model::Resources::default() {
            f(&s.resources)
        } else {
            f(&st.resources)
        }
    };
    let sidecars: u64 = s.sidecars.iter().map(of).sum();
    let running = f(&s.resources) + sidecars;
    let init_peak = s.init.iter().map(|st| of(st) + sidecars).max().unwrap_or(0);
    running.max(init_peak)
}

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
        let cpu_lim = sum(&|s| pod_amount(s, &|r| r.limits.cpu.as_ref().map_or(0, |c| c.millis)));
        let mem_lim = sum(&|s| pod_amount(s, &|r| r.limits.memory.as_ref().map_or(0, |c| c.bytes)));
        let cpu_req = sum(&|s| {
            pod_amount(s, &|r| {
                r.requests
                    .cpu
                    .as_ref()
                    .or(r.limits.cpu.as_ref())
                    .map_or(0, |c| c.millis)
            })
        });
        let mem_req = sum(&|s| {
            pod_amount(s, &|r| {
                r.requests
                    .memory
                    .as_ref()
                    .or(r.limits.memory.as_ref())
                    .map_or(0, |c| c.bytes)
            })
        });
        // Environment volumes mounted here count once, however many pods mount them.
        let mut shared: Vec<&str> = in_ns
            .iter()
            .flat_map(|s| s.volumes.iter().filter_map(|v| v.shared.as_deref()))
            .collect();
        shared.sort_unstable();
        shared.dedup();
        let shared_bytes: u64 = shared
            .iter()
            .filter_map(|n| m.model.volumes.get(*n))
            .map(|v| v.size.bytes)
            .sum();
        let storage = shared_bytes
            + sum(&|s| {
                s.volumes
                    .iter()
                    .filter(|v| v.owned_claim())
                    .filter_map(|v| v.size.as_ref())
                    .map(|b| b.bytes)
                    .sum()
            });
        let pods: u64 = in_ns.iter().map(|s| u64::from(s.max_replicas())).sum();
        let pvcs: u64 = shared.len() as u64
            + in_ns
                .iter()
                .map(|s| {
                    s.volumes.iter().filter(|v| v.owned_claim()).count() as u64
                        * u64::from(s.max_replicas())
                })
                .sum::<u64>();
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
    use envc_model::quantity::Cpu;

    fn cpu(req: &str) -> model::Resources {
        model::Resources {
            requests: model::CpuMemory {
                cpu: Cpu::parse(req).ok(),
                memory: None,
            },
            ..Default::default()
        }
    }

    fn step(name: &str, resources: model::Resources) -> ir::Step {
        ir::Step {
            name: name.into(),
            image: "x:1".into(),
            command: Vec::new(),
            args: Vec::new(),
            working_dir: None,
            env: Vec::new(),
            mounts: Vec::new(),
            resources,
        }
    }

    #[test]
    fn pod_amounts_count_sidecars_and_the_largest_init_step() {
        let millis = |r: &model::Resources| r.requests.cpu.as_ref().map_or(0, |c| c.millis);
        let mut s = ir::Service::new("api", "app", "api:1");
        s.resources = cpu("100m");
        assert_eq!(pod_amount(&s, &millis), 100);
        s.sidecars.push(step("logs", cpu("10m")));
        // A step without resources gets the service's: 100m + the sidecar's 10m.
        s.init.push(step("render", model::Resources::default()));
        assert_eq!(pod_amount(&s, &millis), 110);
        // A big init step runs beside the sidecars, before the service's container.
        s.init.push(step("warm", cpu("1")));
        assert_eq!(pod_amount(&s, &millis), 1010);
    }
}
