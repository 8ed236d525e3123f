//! The Kubernetes backend: plain manifests and a `kustomization.yaml` (`kubectl apply -k`).
//!
//! Objects are built with k8s-openapi's types, so every field name and nesting is the API's
//! own; serialisation order is the types' field order and labels are sorted maps, so the output
//! is byte-identical on every run.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::{EnvValue, Probe, ProbeAction, Segment, Service};
use envc_model::model::{NetworkPolicyStance, Quota, WorkloadKind};
use envc_model::profile::Tier;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, Namespace as K8sNamespace,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe as K8sProbe, ResourceQuota,
    ResourceQuotaSpec, ResourceRequirements, SeccompProfile, Secret as K8sSecret,
    SecretKeySelector, SecurityContext, Service as K8sService, ServiceAccount, ServicePort,
    ServiceSpec, TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::artifact::{Artifact, EmitError};
use crate::labels;
use crate::name::{CONFIG_HASH_ANNOTATION, SECRET_KEY, config_hash, secret_var};
use crate::yaml::{documents, to_yaml};

/// Annotation marking a Secret that holds a dev-tier default value.
pub const DEV_DEFAULT_ANNOTATION: &str = "envc.dev/dev-default";

/// Compiles the IR into manifests plus `kustomization.yaml`.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    if let Some(s) = ir.services.iter().find(|s| !s.is_deployed()) {
        return Err(EmitError::NotRepresentable(
            format!("services.{}.external", s.name),
            "managed services are a feature of the helm backend; plain manifests deploy every service".into(),
        ));
    }
    let header = ir.header_lines();
    let mut files: Vec<(String, Vec<String>)> = Vec::new();

    // Namespaces and quotas.
    let mut docs = Vec::new();
    for ns in &ir.namespaces {
        docs.push(to_yaml(&namespace(ir, &ns.name, ns.pod_security.as_str()))?);
        if let Some(q) = &ns.quota {
            docs.push(to_yaml(&quota(ir, &ns.name, q))?);
        }
    }
    files.push(("namespaces.yaml".into(), docs));

    // Dev-tier secrets.
    if ir.tier == Tier::Dev && !ir.secrets.is_empty() {
        let mut docs = Vec::new();
        for s in &ir.secrets {
            let Some(v) = &s.value else { continue };
            for ns in &s.namespaces {
                docs.push(to_yaml(&secret(
                    ir,
                    &s.name,
                    s.description.as_deref(),
                    ns,
                    &v.value,
                    v.derived,
                ))?);
            }
        }
        files.push(("secrets.yaml".into(), docs));
    }

    // One file per service, in topological order.
    for s in &ir.services {
        files.push((format!("{}.yaml", s.name), service_objects(ir, s)?));
    }

    // Ingress, one per namespace with routes.
    let mut docs = Vec::new();
    for ns in &ir.namespaces {
        if let Some(i) = ingress(ir, &ns.name) {
            docs.push(to_yaml(&i)?);
        }
    }
    if !docs.is_empty() {
        files.push(("ingress.yaml".into(), docs));
    }

    // NetworkPolicies.
    let docs = network_policies(ir)?
        .iter()
        .map(to_yaml)
        .collect::<Result<Vec<_>, _>>()?;
    if !docs.is_empty() {
        files.push(("network-policies.yaml".into(), docs));
    }

    let mut out: Vec<Artifact> = Vec::new();
    out.push(Artifact::text(
        "kustomization.yaml",
        kustomization(&header, files.iter().map(|(n, _)| n.as_str())),
    ));
    for (name, docs) in files {
        out.push(Artifact::text(name, documents(&header, &docs)));
    }
    Ok(out)
}

fn kustomization<'a>(header: &[String], resources: impl Iterator<Item = &'a str>) -> String {
    let mut s = crate::yaml::header(header, "# ");
    s.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    for r in resources {
        s.push_str(&format!("  - {r}\n"));
    }
    s
}

fn meta(name: &str, namespace: Option<&str>, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels),
        ..Default::default()
    }
}

fn namespace(ir: &Ir, name: &str, level: &str) -> K8sNamespace {
    let mut l = labels::environment(ir);
    let version = ir
        .kubernetes
        .version
        .as_ref()
        .map_or_else(|| "latest".to_string(), |v| format!("v{v}"));
    for mode in ["enforce", "audit", "warn"] {
        l.insert(
            format!("pod-security.kubernetes.io/{mode}"),
            level.to_string(),
        );
        l.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            version.clone(),
        );
    }
    K8sNamespace {
        metadata: meta(name, None, l),
        ..Default::default()
    }
}

/// The `hard` limits of a quota, by ResourceQuota key, in key order.
pub fn quota_hard(q: &Quota) -> BTreeMap<String, String> {
    let entries = [
        ("limits.cpu", q.limits_cpu.as_ref().map(|c| c.text.clone())),
        (
            "limits.memory",
            q.limits_memory.as_ref().map(|c| c.text.clone()),
        ),
        (
            "requests.cpu",
            q.requests_cpu.as_ref().map(|c| c.text.clone()),
        ),
        (
            "requests.memory",
            q.requests_memory.as_ref().map(|c| c.text.clone()),
        ),
        (
            "requests.storage",
            q.storage.as_ref().map(|c| c.text.clone()),
        ),
        ("pods", q.pods.map(|p| p.to_string())),
        (
            "persistentvolumeclaims",
            q.persistent_volume_claims.map(|p| p.to_string()),
        ),
    ];
    entries
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

fn quota(ir: &Ir, ns: &str, q: &Quota) -> ResourceQuota {
    let hard: BTreeMap<String, Quantity> = quota_hard(q)
        .into_iter()
        .map(|(k, v)| (k, Quantity(v)))
        .collect();
    ResourceQuota {
        metadata: meta(
            &format!("{}-quota", ir.env),
            Some(ns),
            labels::environment(ir),
        ),
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn secret(
    ir: &Ir,
    name: &str,
    description: Option<&str>,
    ns: &str,
    value: &str,
    derived: bool,
) -> K8sSecret {
    let mut m = meta(name, Some(ns), labels::environment(ir));
    let mut ann = BTreeMap::from([(
        DEV_DEFAULT_ANNOTATION.to_string(),
        if derived {
            "derived".to_string()
        } else {
            "model".to_string()
        },
    )]);
    if let Some(d) = description {
        ann.insert("envc.dev/description".into(), d.to_string());
    }
    m.annotations = Some(ann);
    K8sSecret {
        metadata: m,
        type_: Some("Opaque".into()),
        string_data: Some(BTreeMap::from([(
            SECRET_KEY.to_string(),
            value.to_string(),
        )])),
        ..Default::default()
    }
}

/// Kubernetes expands `$(VAR)` and reduces `$$` to `$` in env values, command and args:
/// double every `$` of literal text so it reaches the container unchanged.
pub(crate) fn escape_dollars(s: &str) -> String {
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
    let mut helpers: Vec<String> = Vec::new();
    for e in &s.env {
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
    for e in &s.env {
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

pub(crate) fn resources(s: &Service) -> Option<ResourceRequirements> {
    let r = &s.resources;
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

fn config_map_name(s: &Service) -> String {
    format!("{}-files", s.name)
}

fn claim_name(s: &Service, volume: &str) -> String {
    format!("{}-{volume}", s.name)
}

fn pod_template(ir: &Ir, s: &Service) -> PodTemplateSpec {
    let mut volumes: Vec<Volume> = Vec::new();
    let mut mounts: Vec<VolumeMount> = Vec::new();
    for v in &s.volumes {
        mounts.push(VolumeMount {
            name: v.name.clone(),
            mount_path: v.path.clone(),
            ..Default::default()
        });
        if v.persistent {
            if s.workload == WorkloadKind::Deployment {
                volumes.push(Volume {
                    name: v.name.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name(s, &v.name),
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
            name: "envc-files".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map_name(s),
                ..Default::default()
            }),
            ..Default::default()
        });
        for f in &s.files {
            mounts.push(VolumeMount {
                name: "envc-files".into(),
                mount_path: f.path.clone(),
                sub_path: Some(f.name.clone()),
                read_only: Some(true),
                ..Default::default()
            });
        }
    }
    let container = Container {
        name: s.name.clone(),
        image: Some(s.image.clone()),
        image_pull_policy: ir.kubernetes.image_pull_policy.clone(),
        command: (!s.command.is_empty())
            .then(|| s.command.iter().map(|c| escape_dollars(c)).collect()),
        args: (!s.args.is_empty()).then(|| s.args.iter().map(|c| escape_dollars(c)).collect()),
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
    };
    let mut annotations = BTreeMap::new();
    if let Some(h) = config_hash(s) {
        annotations.insert(CONFIG_HASH_ANNOTATION.to_string(), h);
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels::service(ir, s)),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(s.name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            termination_grace_period_seconds: s.stop_grace_period.map(|d| i64::from(d.seconds)),
            security_context: Some(pod_security(s)),
            containers: vec![container],
            volumes: (!volumes.is_empty()).then_some(volumes),
            ..Default::default()
        }),
    }
}

/// The container security context: every capability dropped except those the model adds back.
pub(crate) fn container_security(s: &Service) -> SecurityContext {
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
pub(crate) fn pod_security(s: &Service) -> PodSecurityContext {
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

fn selector(ir: &Ir, s: &Service) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(ir, s)),
        match_expressions: None,
    }
}

fn service_port_list(s: &Service, node_ports: bool) -> Vec<ServicePort> {
    s.ports
        .iter()
        .map(|p| ServicePort {
            name: Some(p.name.clone()),
            port: i32::from(p.service),
            target_port: Some(IntOrString::String(p.name.clone())),
            protocol: Some(p.protocol.k8s().to_string()),
            app_protocol: p.app_protocol.clone(),
            node_port: if node_ports {
                p.node_port.map(i32::from)
            } else {
                None
            },
        })
        .collect()
}

fn service_objects(ir: &Ir, s: &Service) -> Result<Vec<String>, EmitError> {
    let l = labels::service(ir, s);
    let ns = Some(s.namespace.as_str());
    let mut docs = Vec::new();
    docs.push(to_yaml(&ServiceAccount {
        metadata: meta(&s.name, ns, l.clone()),
        automount_service_account_token: Some(false),
        ..Default::default()
    })?);
    if !s.files.is_empty() {
        let data: BTreeMap<String, String> = s
            .files
            .iter()
            .map(|f| (f.name.clone(), f.content.clone()))
            .collect();
        docs.push(to_yaml(&ConfigMap {
            metadata: meta(&config_map_name(s), ns, l.clone()),
            data: Some(data),
            ..Default::default()
        })?);
    }
    let pvc_spec = |v: &envc_core::ir::Volume| PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".into()]),
        storage_class_name: v.storage_class.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: v
                .size
                .as_ref()
                .map(|b| BTreeMap::from([("storage".to_string(), Quantity(b.text.clone()))])),
            limits: None,
        }),
        ..Default::default()
    };
    if s.workload == WorkloadKind::Deployment {
        for v in s.volumes.iter().filter(|v| v.persistent) {
            docs.push(to_yaml(&PersistentVolumeClaim {
                metadata: meta(&claim_name(s, &v.name), ns, l.clone()),
                spec: Some(pvc_spec(v)),
                ..Default::default()
            })?);
        }
    }
    if !s.ports.is_empty() {
        let node_ports = ir.kubernetes.node_ports && s.ports.iter().any(|p| p.node_port.is_some());
        docs.push(to_yaml(&K8sService {
            metadata: meta(&s.name, ns, l.clone()),
            spec: Some(ServiceSpec {
                type_: Some(if node_ports { "NodePort" } else { "ClusterIP" }.into()),
                selector: Some(labels::selector(ir, s)),
                ports: Some(service_port_list(s, node_ports)),
                ..Default::default()
            }),
            ..Default::default()
        })?);
    }
    match s.workload {
        WorkloadKind::Deployment => {
            let has_claims = s.volumes.iter().any(|v| v.persistent);
            docs.push(to_yaml(&Deployment {
                metadata: meta(&s.name, ns, l.clone()),
                spec: Some(DeploymentSpec {
                    // An autoscaled Deployment leaves replicas to its HPA, so `kubectl apply`
                    // does not undo the scaling.
                    replicas: if s.autoscaling.is_some() {
                        None
                    } else {
                        Some(s.replicas as i32)
                    },
                    selector: selector(ir, s),
                    // One claim must never be attached by two pods during a rollout.
                    strategy: has_claims.then(|| DeploymentStrategy {
                        type_: Some("Recreate".into()),
                        rolling_update: None,
                    }),
                    template: pod_template(ir, s),
                    ..Default::default()
                }),
                ..Default::default()
            })?);
        }
        WorkloadKind::Statefulset => {
            let headless = format!("{}-headless", s.name);
            docs.push(to_yaml(&K8sService {
                metadata: meta(&headless, ns, l.clone()),
                spec: Some(ServiceSpec {
                    cluster_ip: Some("None".into()),
                    publish_not_ready_addresses: Some(true),
                    selector: Some(labels::selector(ir, s)),
                    ports: (!s.ports.is_empty()).then(|| service_port_list(s, false)),
                    ..Default::default()
                }),
                ..Default::default()
            })?);
            let templates: Vec<PersistentVolumeClaim> = s
                .volumes
                .iter()
                .filter(|v| v.persistent)
                .map(|v| PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some(v.name.clone()),
                        labels: Some(labels::selector(ir, s)),
                        ..Default::default()
                    },
                    spec: Some(pvc_spec(v)),
                    ..Default::default()
                })
                .collect();
            docs.push(to_yaml(&StatefulSet {
                metadata: meta(&s.name, ns, l.clone()),
                spec: Some(StatefulSetSpec {
                    replicas: if s.autoscaling.is_some() {
                        None
                    } else {
                        Some(s.replicas as i32)
                    },
                    selector: selector(ir, s),
                    service_name: Some(headless),
                    template: pod_template(ir, s),
                    volume_claim_templates: (!templates.is_empty()).then_some(templates),
                    ..Default::default()
                }),
                ..Default::default()
            })?);
        }
    }
    if let Some(a) = &s.autoscaling {
        let mut metrics = Vec::new();
        for (name, target) in [("cpu", a.cpu), ("memory", a.memory)] {
            if let Some(t) = target {
                metrics.push(MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: name.into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(i32::from(t)),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                });
            }
        }
        docs.push(to_yaml(&HorizontalPodAutoscaler {
            metadata: meta(&s.name, ns, l.clone()),
            spec: Some(HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: match s.workload {
                        WorkloadKind::Deployment => "Deployment".into(),
                        WorkloadKind::Statefulset => "StatefulSet".into(),
                    },
                    name: s.name.clone(),
                },
                min_replicas: Some(a.min as i32),
                max_replicas: a.max as i32,
                metrics: Some(metrics),
                behavior: None,
            }),
            ..Default::default()
        })?);
    }
    Ok(docs)
}

fn ingress(ir: &Ir, ns: &str) -> Option<Ingress> {
    let mut rules: Vec<(String, Vec<HTTPIngressPath>)> = Vec::new();
    for s in ir.services.iter().filter(|s| s.namespace == ns) {
        for p in &s.ports {
            let Some(i) = &p.ingress else { continue };
            let path = HTTPIngressPath {
                path: Some(i.path.clone()),
                path_type: "Prefix".into(),
                backend: IngressBackend {
                    service: Some(IngressServiceBackend {
                        name: s.name.clone(),
                        port: Some(ServiceBackendPort {
                            name: Some(p.name.clone()),
                            number: None,
                        }),
                    }),
                    resource: None,
                },
            };
            match rules.iter_mut().find(|(h, _)| *h == i.host) {
                Some((_, paths)) => paths.push(path),
                None => rules.push((i.host.clone(), vec![path])),
            }
        }
    }
    if rules.is_empty() {
        return None;
    }
    let mut m = meta(&ir.env, Some(ns), labels::environment(ir));
    if !ir.kubernetes.ingress_annotations.is_empty() {
        m.annotations = Some(
            ir.kubernetes
                .ingress_annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
    }
    Some(Ingress {
        metadata: m,
        spec: Some(IngressSpec {
            ingress_class_name: ir.kubernetes.ingress_class.clone(),
            rules: Some(
                rules
                    .into_iter()
                    .map(|(host, paths)| IngressRule {
                        host: Some(host),
                        http: Some(HTTPIngressRuleValue { paths }),
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn ns_selector(ns: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            ns.to_string(),
        )])),
        match_expressions: None,
    }
}

fn np_ports(s: &Service, names: &[String]) -> Vec<NetworkPolicyPort> {
    s.ports
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.name))
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::String(p.name.clone())),
            protocol: Some(p.protocol.k8s().to_string()),
            end_port: None,
        })
        .collect()
}

fn network_policies(ir: &Ir) -> Result<Vec<NetworkPolicy>, EmitError> {
    let mut out = Vec::new();
    let ingress_ns = ir.kubernetes.ingress_controller_namespace.as_deref();
    match ir.network_policy {
        NetworkPolicyStance::None => {}
        NetworkPolicyStance::Namespace => {
            for ns in &ir.namespaces {
                let mut from: Vec<NetworkPolicyPeer> = ir
                    .namespaces
                    .iter()
                    .map(|n| NetworkPolicyPeer {
                        namespace_selector: Some(ns_selector(&n.name)),
                        ..Default::default()
                    })
                    .collect();
                if let Some(i) = ingress_ns {
                    from.push(NetworkPolicyPeer {
                        namespace_selector: Some(ns_selector(i)),
                        ..Default::default()
                    });
                }
                let mut rules = vec![NetworkPolicyIngressRule {
                    from: Some(from),
                    ports: None,
                }];
                for s in ir.services.iter().filter(|s| s.namespace == ns.name) {
                    let names: Vec<String> = s
                        .ports
                        .iter()
                        .filter(|p| p.node_port.is_some())
                        .map(|p| p.name.clone())
                        .collect();
                    if !names.is_empty() {
                        rules.push(NetworkPolicyIngressRule {
                            from: None,
                            ports: Some(np_ports(s, &names)),
                        });
                    }
                }
                out.push(NetworkPolicy {
                    metadata: meta(
                        &format!("{}-namespaces", ir.env),
                        Some(&ns.name),
                        labels::environment(ir),
                    ),
                    spec: Some(NetworkPolicySpec {
                        pod_selector: Some(LabelSelector::default()),
                        policy_types: Some(vec!["Ingress".into()]),
                        ingress: Some(rules),
                        egress: None,
                    }),
                });
            }
        }
        NetworkPolicyStance::Graph => {
            for ns in &ir.namespaces {
                out.push(NetworkPolicy {
                    metadata: meta(
                        "default-deny-ingress",
                        Some(&ns.name),
                        labels::environment(ir),
                    ),
                    spec: Some(NetworkPolicySpec {
                        pod_selector: Some(LabelSelector::default()),
                        policy_types: Some(vec!["Ingress".into()]),
                        ingress: None,
                        egress: None,
                    }),
                });
            }
            for s in &ir.services {
                if s.ports.is_empty() {
                    continue;
                }
                let mut rules: Vec<NetworkPolicyIngressRule> = Vec::new();
                for c in &s.clients {
                    let client = ir.service(&c.service);
                    let Some(client) = client else { continue };
                    rules.push(NetworkPolicyIngressRule {
                        from: Some(vec![NetworkPolicyPeer {
                            pod_selector: Some(LabelSelector {
                                match_labels: Some(labels::selector(ir, client)),
                                match_expressions: None,
                            }),
                            namespace_selector: Some(ns_selector(&c.namespace)),
                            ip_block: None,
                        }]),
                        ports: Some(np_ports(s, &c.ports)),
                    });
                }
                // Replicas of a StatefulSet talk to each other (clustering, replication).
                if s.workload == WorkloadKind::Statefulset && s.max_replicas() > 1 {
                    rules.push(NetworkPolicyIngressRule {
                        from: Some(vec![NetworkPolicyPeer {
                            pod_selector: Some(selector(ir, s)),
                            ..Default::default()
                        }]),
                        ports: None,
                    });
                }
                let ingress_ports: Vec<String> = s
                    .ports
                    .iter()
                    .filter(|p| p.ingress.is_some())
                    .map(|p| p.name.clone())
                    .collect();
                if let (Some(i), false) = (ingress_ns, ingress_ports.is_empty()) {
                    rules.push(NetworkPolicyIngressRule {
                        from: Some(vec![NetworkPolicyPeer {
                            namespace_selector: Some(ns_selector(i)),
                            ..Default::default()
                        }]),
                        ports: Some(np_ports(s, &ingress_ports)),
                    });
                }
                let node_ports: Vec<String> = s
                    .ports
                    .iter()
                    .filter(|p| p.node_port.is_some())
                    .map(|p| p.name.clone())
                    .collect();
                if !node_ports.is_empty() {
                    // Traffic to a NodePort arrives from outside the cluster.
                    rules.push(NetworkPolicyIngressRule {
                        from: None,
                        ports: Some(np_ports(s, &node_ports)),
                    });
                }
                if rules.is_empty() {
                    continue;
                }
                out.push(NetworkPolicy {
                    metadata: meta(&s.name, Some(&s.namespace), labels::service(ir, s)),
                    spec: Some(NetworkPolicySpec {
                        pod_selector: Some(selector(ir, s)),
                        policy_types: Some(vec!["Ingress".into()]),
                        ingress: Some(rules),
                        egress: None,
                    }),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::secret_var;

    #[test]
    fn dollars_are_escaped_for_kubernetes_expansion() {
        assert_eq!(escape_dollars("a$(B)$$c"), "a$$(B)$$$$c");
        assert_eq!(
            secret_var("postgres-password"),
            "ENVC_SECRET_POSTGRES_PASSWORD"
        );
    }

    #[test]
    fn serialises_with_api_version_and_kind() {
        let y = to_yaml(&ServiceAccount {
            metadata: meta("a", Some("b"), BTreeMap::new()),
            ..Default::default()
        });
        assert_eq!(
            y.ok().as_deref(),
            Some(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  labels: {}\n  name: a\n  namespace: b\n"
            )
        );
    }
}
