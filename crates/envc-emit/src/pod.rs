//! The pod template of a service, as every Kubernetes-based backend writes it: container,
//! env, probes, resources, security contexts, volumes and, in cloud modes, scheduling.
//!
//! The plain manifests and the Helm chart both take their pod templates from [`template`], so
//! `helm template` renders what `kubectl apply -k` applies, apart from the per-release values
//! the chart substitutes.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::{self, EnvValue, Probe, ProbeAction, Segment, Service, Step};
use envc_model::model::{Resources, Restart, WorkloadKind};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe as K8sProbe, ResourceRequirements,
    SeccompProfile, SecretKeySelector, SecurityContext, TCPSocketAction, Toleration,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::cloud::{NODE_POOL_LABEL, pool_of};
use crate::labels::{self, Flavour};
use crate::name::{
    CONFIG_HASH_ANNOTATION, FILES_VOLUME, SECRET_KEY, claim_name, config_hash, config_map_name,
    secret_var, wait_container_name,
};

/// Pod volume with the API token of the containers that wait for jobs (only they mount it).
pub const WAIT_TOKEN_VOLUME: &str = "envc-wait-token";

/// Pod volume with the scratch space `kubectl` caches discovery in.
pub const WAIT_CACHE_VOLUME: &str = "envc-wait-cache";

/// Where in-cluster clients look for the service account token.
const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// User the wait containers run as (the image does not choose a non-root one).
const WAIT_USER: i64 = 65_532;

/// How long a wait container waits before it fails and the kubelet retries it.
pub const WAIT_TIMEOUT: &str = "10m";

/// Kubernetes expands `$(VAR)` and reduces `$$` to `$` in env values, command and args:
/// double every `$` of literal text so it reaches the container unchanged.
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

fn secret_ref(secret: &str) -> EnvVarSource {
    EnvVarSource {
        secret_key_ref: Some(SecretKeySelector {
            name: secret.to_string(),
            key: SECRET_KEY.to_string(),
            optional: Some(false),
        }),
        ..Default::default()
    }
}

/// The container env: helper variables for secrets inside composite values come first, since
/// `$(VAR)` only sees variables defined before it.
pub fn env(s: &Service) -> Vec<EnvVar> {
    env_of(&s.env)
}

/// The env of one container (the service's or a step's), as [`env`] writes it.
pub fn env_of(vars: &[ir::EnvVar]) -> Vec<EnvVar> {
    let mut helpers: Vec<String> = Vec::new();
    for e in vars {
        if let EnvValue::Template(segs) = &e.value {
            for seg in segs {
                if let Segment::Secret(name) = seg
                    && !helpers.contains(name)
                {
                    helpers.push(name.clone());
                }
            }
        }
    }
    let mut out: Vec<EnvVar> = helpers
        .iter()
        .map(|h| EnvVar {
            name: secret_var(h),
            value_from: Some(secret_ref(h)),
            ..Default::default()
        })
        .collect();
    for e in vars {
        out.push(match &e.value {
            EnvValue::Text(t) => EnvVar {
                name: e.name.clone(),
                value: Some(escape_dollars(t)),
                ..Default::default()
            },
            EnvValue::Secret(name) => EnvVar {
                name: e.name.clone(),
                value_from: Some(secret_ref(name)),
                ..Default::default()
            },
            EnvValue::Template(segs) => {
                let v: String = segs
                    .iter()
                    .map(|seg| match seg {
                        Segment::Text(t) => escape_dollars(t),
                        Segment::Secret(name) => format!("$({})", secret_var(name)),
                    })
                    .collect();
                EnvVar {
                    name: e.name.clone(),
                    value: Some(v),
                    ..Default::default()
                }
            }
        });
    }
    out
}

/// A probe as Kubernetes writes it (ports by name, as the container declares them).
pub fn probe(p: &Probe) -> K8sProbe {
    let mut k = K8sProbe {
        initial_delay_seconds: p.initial_delay.map(|d| d.seconds as i32),
        period_seconds: p.period.map(|d| d.seconds as i32),
        timeout_seconds: p.timeout.map(|d| d.seconds as i32),
        failure_threshold: p.failure_threshold.map(|v| v as i32),
        success_threshold: p.success_threshold.map(|v| v as i32),
        ..Default::default()
    };
    match &p.action {
        ProbeAction::Http {
            port_name, path, ..
        } => {
            k.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port_name.clone()),
                ..Default::default()
            });
        }
        ProbeAction::Tcp { port_name, .. } => {
            k.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::String(port_name.clone()),
                ..Default::default()
            });
        }
        ProbeAction::Grpc { port, .. } => {
            k.grpc = Some(GRPCAction {
                port: i32::from(*port),
                service: None,
            });
        }
        ProbeAction::Exec { command } => {
            k.exec = Some(ExecAction {
                command: Some(command.clone()),
            });
        }
    }
    k
}

/// The container resources: requests and limits as the model gives them.
pub fn resources(s: &Service) -> Option<ResourceRequirements> {
    resources_of(&s.resources)
}

/// Requests and limits of one container.
fn resources_of(r: &Resources) -> Option<ResourceRequirements> {
    let map = |cpu: Option<String>, mem: Option<String>| -> Option<BTreeMap<String, Quantity>> {
        let mut m = BTreeMap::new();
        if let Some(c) = cpu {
            m.insert("cpu".to_string(), Quantity(c));
        }
        if let Some(b) = mem {
            m.insert("memory".to_string(), Quantity(b));
        }
        (!m.is_empty()).then_some(m)
    };
    let requests = map(
        r.requests.cpu.as_ref().map(|c| c.text.clone()),
        r.requests.memory.as_ref().map(|b| b.text.clone()),
    );
    let limits = map(
        r.limits.cpu.as_ref().map(|c| c.text.clone()),
        r.limits.memory.as_ref().map(|b| b.text.clone()),
    );
    (requests.is_some() || limits.is_some()).then(|| ResourceRequirements {
        requests,
        limits,
        ..Default::default()
    })
}

/// The volumes and mounts of a service's pod: scratch volumes, a Deployment's claims (a
/// StatefulSet's come from its claim templates) and the config files from its ConfigMap.
fn volumes(ir: &Ir, s: &Service) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes: Vec<Volume> = Vec::new();
    let mut mounts: Vec<VolumeMount> = Vec::new();
    for v in &s.volumes {
        mounts.push(VolumeMount {
            name: v.name.clone(),
            mount_path: v.path.clone(),
            read_only: v.read_only.then_some(true),
            sub_path: v.sub_path.clone(),
            ..Default::default()
        });
        if let Some(rel) = &v.bind {
            let root = ir.kubernetes.host_path_root.as_deref().unwrap_or("/");
            volumes.push(Volume {
                name: v.name.clone(),
                host_path: Some(k8s_openapi::api::core::v1::HostPathVolumeSource {
                    path: format!("{}/{rel}", root.trim_end_matches('/')),
                    type_: None,
                }),
                ..Default::default()
            });
        } else if let Some(shared) = &v.shared {
            volumes.push(Volume {
                name: v.name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: shared.clone(),
                    read_only: v.read_only.then_some(true),
                }),
                ..Default::default()
            });
        } else if v.persistent {
            if s.workload != WorkloadKind::Statefulset {
                volumes.push(Volume {
                    name: v.name.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name(&s.name, &v.name),
                        read_only: None,
                    }),
                    ..Default::default()
                });
            }
        } else {
            volumes.push(Volume {
                name: v.name.clone(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: v.size.as_ref().map(|b| Quantity(b.text.clone())),
                    medium: None,
                }),
                ..Default::default()
            });
        }
    }
    if !s.files.is_empty() {
        volumes.push(Volume {
            name: FILES_VOLUME.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map_name(&s.name),
                ..Default::default()
            }),
            ..Default::default()
        });
        for f in &s.files {
            mounts.push(VolumeMount {
                name: FILES_VOLUME.into(),
                mount_path: f.path.clone(),
                sub_path: Some(f.name.clone()),
                read_only: Some(true),
                ..Default::default()
            });
        }
    }
    (volumes, mounts)
}

/// A command or argument list as Kubernetes must get it (`$` escaped), none when empty.
fn escaped(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.iter().map(|c| escape_dollars(c)).collect())
}

/// The service's one container.
pub fn container(ir: &Ir, s: &Service, mounts: Vec<VolumeMount>) -> Container {
    Container {
        name: s.name.clone(),
        image: Some(s.image.clone()),
        image_pull_policy: ir.kubernetes.image_pull_policy.clone(),
        command: escaped(&s.command),
        args: escaped(&s.args),
        working_dir: s.working_dir.clone(),
        ports: (!s.ports.is_empty()).then(|| {
            s.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: i32::from(p.container),
                    protocol: Some(p.protocol.k8s().to_string()),
                    ..Default::default()
                })
                .collect()
        }),
        env: (!s.env.is_empty()).then(|| env(s)),
        resources: resources(s),
        liveness_probe: s.liveness.as_ref().map(probe),
        readiness_probe: s.readiness.as_ref().map(probe),
        startup_probe: s.startup.as_ref().map(probe),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        security_context: Some(container_security(s)),
        ..Default::default()
    }
}

/// Where a service's pods run in a cloud mode: its node pool (by the label Terraform puts on
/// the pool's nodes), tolerations of that pool's taints, and for replicated services a spread
/// over zones (required) and nodes (preferred). Nothing outside cloud modes.
struct Scheduling {
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Toleration>>,
    spread: Option<Vec<TopologySpreadConstraint>>,
}

fn scheduling(ir: &Ir, s: &Service) -> Scheduling {
    let mut out = Scheduling {
        node_selector: None,
        tolerations: None,
        spread: None,
    };
    let Some(cloud) = ir.cloud.as_ref() else {
        return out;
    };
    if let Some(pool) = pool_of(cloud, &s.name) {
        out.node_selector = Some(BTreeMap::from([(
            NODE_POOL_LABEL.to_string(),
            pool.to_string(),
        )]));
        let tolerations: Vec<Toleration> = cloud.node_pools[pool]
            .taints
            .iter()
            .map(|t| Toleration {
                operator: Some(if t.value.is_some() { "Equal" } else { "Exists" }.into()),
                key: Some(t.key.clone()),
                value: t.value.clone(),
                effect: Some(t.effect.as_str().into()),
                toleration_seconds: None,
            })
            .collect();
        out.tolerations = (!tolerations.is_empty()).then_some(tolerations);
    }
    if s.max_replicas() > 1 && cloud.zones.len() > 1 {
        let spread = |key: &str, when: &str| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.into(),
            when_unsatisfiable: when.into(),
            label_selector: Some(selector(ir, s)),
            ..Default::default()
        };
        out.spread = Some(vec![
            spread("topology.kubernetes.io/zone", "DoNotSchedule"),
            spread("kubernetes.io/hostname", "ScheduleAnyway"),
        ]);
    }
    out
}

/// The selector of a service's pods.
pub fn selector(ir: &Ir, s: &Service) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(ir, s)),
        match_expressions: None,
    }
}

/// The jobs whose completion a service's pods wait for with an init container: the jobs it
/// depends on with `completed`, except in the chart those that run before the release (Helm
/// runs hooks to completion before it creates any workload).
pub fn awaited<'a>(ir: &'a Ir, s: &'a Service, flavour: Flavour) -> Vec<&'a Service> {
    s.awaited_jobs()
        .filter_map(|j| ir.service(j))
        .filter(|j| j.is_deployed() && !(flavour == Flavour::Chart && j.runs_before()))
        .collect()
}

/// The init container that waits for `job` to complete.
fn wait_container(ir: &Ir, job: &Service) -> Container {
    Container {
        name: wait_container_name(&job.name),
        image: Some(ir.kubernetes.wait_image()),
        image_pull_policy: ir.kubernetes.image_pull_policy.clone(),
        args: Some(vec![
            "wait".into(),
            "--for=condition=complete".into(),
            format!("--timeout={WAIT_TIMEOUT}"),
            format!("--namespace={}", job.namespace),
            "--cache-dir=/tmp/kube-cache".into(),
            format!("job/{}", job.name),
        ]),
        resources: resources_of(&wait_resources()),
        volume_mounts: Some(vec![
            VolumeMount {
                name: WAIT_TOKEN_VOLUME.into(),
                mount_path: TOKEN_PATH.into(),
                read_only: Some(true),
                ..Default::default()
            },
            VolumeMount {
                name: WAIT_CACHE_VOLUME.into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            },
        ]),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(WAIT_USER),
            run_as_group: Some(WAIT_USER),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Requests and limits of a wait container: `kubectl wait` idles on a watch.
fn wait_resources() -> Resources {
    let cpu = |t: &str| envc_model::quantity::Cpu::parse(t).ok();
    let mem = |t: &str| envc_model::quantity::Bytes::parse(t).ok();
    Resources {
        requests: envc_model::model::CpuMemory {
            cpu: cpu("10m"),
            memory: mem("32Mi"),
        },
        limits: envc_model::model::CpuMemory {
            cpu: cpu("100m"),
            memory: mem("64Mi"),
        },
    }
}

/// The volumes of the wait containers: the service account token (projected as the kubelet
/// would for every container, but mounted only into them) and a scratch directory.
fn wait_volumes() -> Vec<Volume> {
    use k8s_openapi::api::core::v1::{
        ConfigMapProjection, DownwardAPIProjection, DownwardAPIVolumeFile, KeyToPath,
        ObjectFieldSelector, ProjectedVolumeSource, ServiceAccountTokenProjection,
        VolumeProjection,
    };
    vec![
        Volume {
            name: WAIT_TOKEN_VOLUME.into(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![
                    VolumeProjection {
                        service_account_token: Some(ServiceAccountTokenProjection {
                            path: "token".into(),
                            expiration_seconds: Some(3607),
                            audience: None,
                        }),
                        ..Default::default()
                    },
                    VolumeProjection {
                        config_map: Some(ConfigMapProjection {
                            name: "kube-root-ca.crt".into(),
                            items: Some(vec![KeyToPath {
                                key: "ca.crt".into(),
                                path: "ca.crt".into(),
                                mode: None,
                            }]),
                            optional: None,
                        }),
                        ..Default::default()
                    },
                    VolumeProjection {
                        downward_api: Some(DownwardAPIProjection {
                            items: Some(vec![DownwardAPIVolumeFile {
                                path: "namespace".into(),
                                field_ref: Some(ObjectFieldSelector {
                                    api_version: Some("v1".into()),
                                    field_path: "metadata.namespace".into(),
                                }),
                                ..Default::default()
                            }]),
                        }),
                        ..Default::default()
                    },
                ]),
                default_mode: None,
            }),
            ..Default::default()
        },
        Volume {
            name: WAIT_CACHE_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("16Mi".into())),
                medium: None,
            }),
            ..Default::default()
        },
    ]
}

/// An init step's or sidecar's container: the service's security settings, its volumes at
/// the step's paths, and the service's resources unless the step sets its own (namespaces
/// with quotas refuse containers without them).
fn step_container(ir: &Ir, s: &Service, step: &Step, sidecar: bool) -> Container {
    let mounts: Vec<VolumeMount> = step
        .mounts
        .iter()
        .map(|m| VolumeMount {
            name: m.volume.clone(),
            mount_path: m.path.clone(),
            read_only: m.read_only.then_some(true),
            ..Default::default()
        })
        .collect();
    let own = step.resources != Resources::default();
    Container {
        name: step.name.clone(),
        image: Some(step.image.clone()),
        image_pull_policy: ir.kubernetes.image_pull_policy.clone(),
        command: escaped(&step.command),
        args: escaped(&step.args),
        working_dir: step.working_dir.clone(),
        env: (!step.env.is_empty()).then(|| env_of(&step.env)),
        resources: resources_of(if own { &step.resources } else { &s.resources }),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        security_context: Some(container_security(s)),
        restart_policy: sidecar.then(|| "Always".into()),
        ..Default::default()
    }
}

/// A pod's init containers, in the order they start: the waits for jobs, the sidecars (so that
/// init steps can use them, a database proxy for a migration), then the init steps.
fn init_containers(ir: &Ir, s: &Service, flavour: Flavour) -> Vec<Container> {
    let mut out: Vec<Container> = awaited(ir, s, flavour)
        .into_iter()
        .map(|j| wait_container(ir, j))
        .collect();
    out.extend(s.sidecars.iter().map(|x| step_container(ir, s, x, true)));
    out.extend(s.init.iter().map(|x| step_container(ir, s, x, false)));
    out
}

/// The pod `restartPolicy`: jobs' pods are retried as new pods (`Never`) or in place
/// (`OnFailure`); servers' pods always restart (the Kubernetes default, left unwritten).
fn restart_policy(s: &Service) -> Option<String> {
    s.workload.runs_to_completion().then(|| {
        match s.restart {
            Some(Restart::OnFailure) => "OnFailure",
            _ => "Never",
        }
        .to_string()
    })
}

/// The pod template of a service's workload.
pub fn template(ir: &Ir, s: &Service, flavour: Flavour) -> PodTemplateSpec {
    let (mut volumes, mounts) = volumes(ir, s);
    let init = init_containers(ir, s, flavour);
    if !awaited(ir, s, flavour).is_empty() {
        volumes.extend(wait_volumes());
    }
    let scheduling = scheduling(ir, s);
    let mut annotations = BTreeMap::new();
    if let Some(h) = config_hash(s) {
        annotations.insert(CONFIG_HASH_ANNOTATION.to_string(), h);
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels::pod_in(ir, s, flavour)),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(s.name.clone()),
            // The token only where the model grants API access (`api_access`); the containers
            // that wait for jobs mount a token of their own.
            automount_service_account_token: Some(s.uses_api()),
            enable_service_links: Some(false),
            termination_grace_period_seconds: s.stop_grace_period.map(|d| i64::from(d.seconds)),
            security_context: Some(pod_security(s)),
            node_selector: scheduling.node_selector,
            tolerations: scheduling.tolerations,
            topology_spread_constraints: scheduling.spread,
            init_containers: (!init.is_empty()).then_some(init),
            containers: vec![container(ir, s, mounts)],
            restart_policy: restart_policy(s),
            volumes: (!volumes.is_empty()).then_some(volumes),
            ..Default::default()
        }),
    }
}

/// The container security context: every capability dropped except those the model adds back.
pub fn container_security(s: &Service) -> SecurityContext {
    let sec = &s.security;
    let mut caps_add: Vec<String> = sec.capabilities_add.clone();
    caps_add.sort();
    SecurityContext {
        allow_privilege_escalation: Some(sec.allow_privilege_escalation),
        read_only_root_filesystem: Some(sec.read_only_root_filesystem),
        run_as_non_root: Some(sec.run_as_non_root),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: (!caps_add.is_empty()).then_some(caps_add),
        }),
        ..Default::default()
    }
}

/// The pod security context, with the runtime's default seccomp profile.
pub fn pod_security(s: &Service) -> PodSecurityContext {
    let sec = &s.security;
    PodSecurityContext {
        run_as_non_root: Some(sec.run_as_non_root),
        run_as_user: sec.run_as_user,
        run_as_group: sec.run_as_group,
        fs_group: sec.fs_group,
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_escaped_for_kubernetes_expansion() {
        assert_eq!(escape_dollars("a$(B)$$c"), "a$$(B)$$$$c");
        assert_eq!(
            secret_var("postgres-password"),
            "ENVC_SECRET_POSTGRES_PASSWORD"
        );
    }
}
