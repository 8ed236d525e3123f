//! The Kubernetes objects of an environment, as every Kubernetes-based backend deploys them:
//! namespaces and quotas, each service's ServiceAccount, ConfigMap, claims, Services, workload,
//! autoscaler and disruption budget, the Ingresses and the NetworkPolicies.
//!
//! The plain manifests serialise these objects as they are; the Helm chart serialises the same
//! objects and substitutes its per-release values into them, so the two cannot drift. Where
//! the modes legitimately differ, the difference is decided here from the IR (cloud settings,
//! tier) or from the [`Flavour`] (labels), never in a backend.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::{Service, Volume};
use envc_model::model::{NetworkPolicyStance, Quota, WorkloadKind};
use envc_model::profile::{IngressTls, IssuerKind, Tier};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace as K8sNamespace, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodTemplateSpec, ResourceQuota, ResourceQuotaSpec, Service as K8sService, ServiceAccount,
    ServicePort, ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IPBlock, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyIngressRule,
    NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use crate::artifact::EmitError;
use crate::labels::{self, Flavour};
use crate::name::{claim_name, config_map_name, headless_name, waiters_name};
use crate::pod::{self, selector};

/// Annotation on the Service that stands in for a managed service, naming its kind.
pub const MANAGED_SERVICE_ANNOTATION: &str = "envc.dev/managed-service";

/// Object metadata with a name, a namespace and labels.
pub fn meta(name: &str, namespace: Option<&str>, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels),
        ..Default::default()
    }
}

/// An object as a JSON value, in the types' field order (serde_json keeps insertion order).
pub fn value<T: Serialize>(object: &T) -> Result<Value, EmitError> {
    serde_json::to_value(object).map_err(|e| EmitError::Serialize(e.to_string()))
}

/// One object of a service, typed: the manifests write it as it is, the chart converts it to
/// a value to substitute its release values ([`value`]). Serialises as the object itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// A ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A ConfigMap.
    ConfigMap(ConfigMap),
    /// A PersistentVolumeClaim.
    Claim(PersistentVolumeClaim),
    /// A Service.
    Service(K8sService),
    /// A Role.
    Role(Role),
    /// A RoleBinding.
    RoleBinding(RoleBinding),
    /// A ClusterRole.
    ClusterRole(ClusterRole),
    /// A ClusterRoleBinding.
    ClusterRoleBinding(ClusterRoleBinding),
    /// A Deployment.
    Deployment(Box<Deployment>),
    /// A StatefulSet.
    StatefulSet(Box<StatefulSet>),
    /// A Job.
    Job(Box<Job>),
    /// A CronJob.
    CronJob(Box<CronJob>),
    /// A HorizontalPodAutoscaler.
    Autoscaler(HorizontalPodAutoscaler),
    /// A PodDisruptionBudget.
    DisruptionBudget(PodDisruptionBudget),
}

/// A namespace with its Pod Security labels.
pub fn namespace(ir: &Ir, name: &str, level: &str, flavour: Flavour) -> K8sNamespace {
    let mut l = labels::environment_in(ir, flavour);
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

/// The ResourceQuota of a namespace.
pub fn quota(ir: &Ir, ns: &str, q: &Quota, flavour: Flavour) -> ResourceQuota {
    let hard: BTreeMap<String, Quantity> = quota_hard(q)
        .into_iter()
        .map(|(k, v)| (k, Quantity(v)))
        .collect();
    ResourceQuota {
        metadata: meta(
            &format!("{}-quota", ir.env),
            Some(ns),
            labels::environment_in(ir, flavour),
        ),
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..Default::default()
        }),
        ..Default::default()
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

/// The claims of the environment volumes, each in the namespace of the services that mount
/// it, named after the volume.
pub fn shared_claims(ir: &Ir, flavour: Flavour) -> Vec<PersistentVolumeClaim> {
    ir.volumes
        .iter()
        .map(|v| {
            let mut m = meta(
                &v.name,
                Some(&v.namespace),
                labels::environment_in(ir, flavour),
            );
            if let Some(d) = &v.description {
                m.annotations = Some(BTreeMap::from([(
                    "envc.dev/description".to_string(),
                    d.replace(['\n', '\r'], " "),
                )]));
            }
            PersistentVolumeClaim {
                metadata: m,
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec![v.access_mode.clone()]),
                    storage_class_name: v.storage_class.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(v.size.text.clone()),
                        )])),
                        limits: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect()
}

fn claim_spec(v: &Volume) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
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
    }
}

/// The ServiceAccount of a service, bound to its cloud identity where the mode gives one.
pub fn service_account(ir: &Ir, s: &Service, flavour: Flavour) -> ServiceAccount {
    let mut metadata = meta(
        &s.name,
        Some(&s.namespace),
        labels::service_in(ir, s, flavour),
    );
    if let Some(c) = &ir.cloud
        && let Some(id) = c.identities.get(&s.name)
    {
        // Moves to the shared cloud module with the other cloud helpers.
        let (k, v) = crate::cloud::identity_annotation(c, id);
        metadata.annotations = Some(BTreeMap::from([(k, v)]));
    }
    ServiceAccount {
        metadata,
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

/// Replicas of a workload: none when an autoscaler owns them, so an apply or an upgrade does
/// not undo the scaling.
fn replicas(s: &Service) -> Option<i32> {
    if s.autoscaling.is_some() {
        None
    } else {
        Some(s.replicas as i32)
    }
}

/// The spec of a job (or of each run of a cron job): retries, deadline, time kept, and with
/// parallelism the number of runs that must succeed.
fn job_spec(s: &Service, template: PodTemplateSpec) -> JobSpec {
    let j = s.job.as_ref();
    let parallelism = j.and_then(|j| j.parallelism);
    JobSpec {
        backoff_limit: j.map(|j| clamp_i32(j.retries)),
        active_deadline_seconds: j.and_then(|j| j.deadline).map(|d| i64::from(d.seconds)),
        ttl_seconds_after_finished: j.and_then(|j| j.ttl).map(|d| clamp_i32(d.seconds)),
        completions: parallelism.map(|_| clamp_i32(s.replicas)),
        parallelism: parallelism.map(clamp_i32),
        template,
        ..Default::default()
    }
}

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The Job or CronJob of a service that runs to completion.
fn run_to_completion(ir: &Ir, s: &Service, flavour: Flavour) -> Vec<Object> {
    let l = labels::service_in(ir, s, flavour);
    let ns = Some(s.namespace.as_str());
    let template = pod::template(ir, s, flavour);
    let spec = job_spec(s, template);
    let Some(schedule) = s.job.as_ref().and_then(|j| j.schedule.as_ref()) else {
        return vec![Object::Job(Box::new(Job {
            metadata: meta(&s.name, ns, l),
            spec: Some(spec),
            ..Default::default()
        }))];
    };
    vec![Object::CronJob(Box::new(CronJob {
        metadata: meta(&s.name, ns, l.clone()),
        spec: Some(CronJobSpec {
            schedule: schedule.cron.clone(),
            time_zone: schedule.time_zone.clone(),
            concurrency_policy: Some(schedule.concurrency.k8s().into()),
            successful_jobs_history_limit: Some(clamp_i32(schedule.successful_history)),
            failed_jobs_history_limit: Some(clamp_i32(schedule.failed_history)),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(l),
                    ..Default::default()
                }),
                spec: Some(spec),
            },
            ..Default::default()
        }),
        ..Default::default()
    }))]
}

/// The services whose pods wait for `job` with an init container.
fn waiters<'a>(ir: &'a Ir, job: &Service, flavour: Flavour) -> Vec<&'a Service> {
    // Only jobs are waited for (resolution refuses `completed` on anything else): this keeps
    // the scan of every service to the few that are, not every service of the environment.
    if !job.workload.runs_to_completion() {
        return Vec::new();
    }
    ir.services
        .iter()
        .filter(|w| {
            pod::awaited(ir, w, flavour)
                .iter()
                .any(|j| j.name == job.name)
        })
        .collect()
}

/// The Role and RoleBinding that let the services waiting for a job read that Job, and
/// nothing else.
fn waiter_access(ir: &Ir, job: &Service, flavour: Flavour) -> Vec<Object> {
    let waiting = waiters(ir, job, flavour);
    if waiting.is_empty() {
        return Vec::new();
    }
    let name = waiters_name(&job.name);
    let ns = Some(job.namespace.as_str());
    let l = labels::service_in(ir, job, flavour);
    let role = Role {
        metadata: meta(&name, ns, l.clone()),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["batch".into()]),
            resources: Some(vec!["jobs".into()]),
            resource_names: Some(vec![job.name.clone()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..Default::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta(&name, ns, l),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: name.clone(),
        },
        subjects: Some(
            waiting
                .iter()
                .map(|w| Subject {
                    kind: "ServiceAccount".into(),
                    name: w.name.clone(),
                    namespace: Some(w.namespace.clone()),
                    api_group: None,
                })
                .collect(),
        ),
    };
    vec![Object::Role(role), Object::RoleBinding(binding)]
}

/// The name of the Role (in each namespace) and binding that carry a service's API access.
pub fn api_role_name(service: &str) -> String {
    format!("{service}-api")
}

/// The name of the ClusterRole and binding of a service's cluster-wide API access: cluster
/// objects are shared by every environment on the cluster, so the namespace is part of it.
pub fn api_cluster_role_name(s: &Service) -> String {
    format!("{}-{}-api", s.namespace, s.name)
}

/// The Roles and RoleBindings (one per namespace) and the ClusterRole and ClusterRoleBinding
/// that grant a service's pods the API access its model lists, bound to its ServiceAccount.
fn api_access(ir: &Ir, s: &Service, flavour: Flavour) -> Vec<Object> {
    let rule = |a: &envc_model::model::ApiAccess| PolicyRule {
        api_groups: Some(a.api_groups.clone()),
        resources: Some(a.resources.clone()),
        verbs: a.verbs.clone(),
        ..Default::default()
    };
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: s.name.clone(),
        namespace: Some(s.namespace.clone()),
        api_group: None,
    };
    let l = labels::service_in(ir, s, flavour);
    let mut docs = Vec::new();
    // Namespaced grants, merged per namespace in first-mention order.
    let mut namespaces: Vec<&str> = Vec::new();
    for a in s.api_access.iter().filter(|a| !a.cluster) {
        for ns in &a.namespaces {
            if !namespaces.contains(&ns.as_str()) {
                namespaces.push(ns);
            }
        }
    }
    let name = api_role_name(&s.name);
    for ns in namespaces {
        let rules = s
            .api_access
            .iter()
            .filter(|a| !a.cluster && a.namespaces.iter().any(|n| n == ns))
            .map(rule)
            .collect();
        docs.push(Object::Role(Role {
            metadata: meta(&name, Some(ns), l.clone()),
            rules: Some(rules),
        }));
        docs.push(Object::RoleBinding(RoleBinding {
            metadata: meta(&name, Some(ns), l.clone()),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: name.clone(),
            },
            subjects: Some(vec![subject.clone()]),
        }));
    }
    let cluster: Vec<PolicyRule> = s
        .api_access
        .iter()
        .filter(|a| a.cluster)
        .map(rule)
        .collect();
    if !cluster.is_empty() {
        let name = api_cluster_role_name(s);
        docs.push(Object::ClusterRole(ClusterRole {
            metadata: meta(&name, None, l.clone()),
            rules: Some(cluster),
            ..Default::default()
        }));
        docs.push(Object::ClusterRoleBinding(ClusterRoleBinding {
            metadata: meta(&name, None, l),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name,
            },
            subjects: Some(vec![subject]),
        }));
    }
    docs
}

/// The Deployment or StatefulSet of a service, with the Service a StatefulSet needs first;
/// the Job or CronJob of one that runs to completion.
fn workload(ir: &Ir, s: &Service, flavour: Flavour) -> Vec<Object> {
    if s.workload.runs_to_completion() {
        return run_to_completion(ir, s, flavour);
    }
    let l = labels::service_in(ir, s, flavour);
    let ns = Some(s.namespace.as_str());
    let template = pod::template(ir, s, flavour);
    match s.workload {
        WorkloadKind::Deployment => {
            // A claim of its own, or an environment volume only this service mounts
            // read-write on one node (ReadWriteOnce): a new pod elsewhere could not attach it.
            let has_claims = s.volumes.iter().any(|v| {
                v.owned_claim()
                    || v.bind.is_none()
                        && !v.read_only
                        && v.shared.as_ref().is_some_and(|n| {
                            ir.volumes.iter().any(|sv| {
                                &sv.name == n
                                    && sv.access_mode == "ReadWriteOnce"
                                    && sv.used_by.len() == 1
                            })
                        })
            });
            vec![Object::Deployment(Box::new(Deployment {
                metadata: meta(&s.name, ns, l),
                spec: Some(DeploymentSpec {
                    replicas: replicas(s),
                    selector: selector(ir, s),
                    // One claim must never be attached by two pods during a rollout.
                    strategy: has_claims.then(|| DeploymentStrategy {
                        type_: Some("Recreate".into()),
                        rolling_update: None,
                    }),
                    template,
                    ..Default::default()
                }),
                ..Default::default()
            }))]
        }
        WorkloadKind::Statefulset => {
            let headless = headless_name(&s.name);
            let service = Object::Service(K8sService {
                metadata: meta(&headless, ns, l.clone()),
                spec: Some(ServiceSpec {
                    cluster_ip: Some("None".into()),
                    publish_not_ready_addresses: Some(true),
                    selector: Some(labels::selector(ir, s)),
                    ports: (!s.ports.is_empty()).then(|| service_port_list(s, false)),
                    ..Default::default()
                }),
                ..Default::default()
            });
            let claims: Vec<PersistentVolumeClaim> = s
                .volumes
                .iter()
                .filter(|v| v.owned_claim())
                .map(|v| PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some(v.name.clone()),
                        labels: Some(labels::selector(ir, s)),
                        ..Default::default()
                    },
                    spec: Some(claim_spec(v)),
                    ..Default::default()
                })
                .collect();
            let set = Object::StatefulSet(Box::new(StatefulSet {
                metadata: meta(&s.name, ns, l),
                spec: Some(StatefulSetSpec {
                    replicas: replicas(s),
                    selector: selector(ir, s),
                    service_name: Some(headless),
                    // Replicas that form a cluster (distributed MinIO) must start together;
                    // one replica keeps the default (OrderedReady).
                    pod_management_policy: (s.max_replicas() > 1).then(|| "Parallel".into()),
                    template,
                    volume_claim_templates: (!claims.is_empty()).then_some(claims),
                    ..Default::default()
                }),
                ..Default::default()
            }));
            vec![service, set]
        }
        WorkloadKind::Job | WorkloadKind::Cronjob => run_to_completion(ir, s, flavour),
    }
}

fn autoscaler(ir: &Ir, s: &Service, flavour: Flavour) -> Option<HorizontalPodAutoscaler> {
    let a = s.autoscaling.as_ref()?;
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
    Some(HorizontalPodAutoscaler {
        metadata: meta(
            &s.name,
            Some(&s.namespace),
            labels::service_in(ir, s, flavour),
        ),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: s.workload.k8s_kind().into(),
                name: s.name.clone(),
            },
            min_replicas: Some(a.min as i32),
            max_replicas: a.max as i32,
            metrics: Some(metrics),
            behavior: None,
        }),
        ..Default::default()
    })
}

/// Whether a service gets a PodDisruptionBudget: it can run more than one replica, in a prod
/// tier. Prod clusters are upgraded by draining nodes one after the other, and the budget keeps
/// all replicas but one serving through it; a dev cluster (often one k3s node) is drained
/// rarely and a budget would only slow that down.
pub fn has_disruption_budget(ir: &Ir, s: &Service) -> bool {
    ir.tier == Tier::Prod && s.max_replicas() > 1 && !s.workload.runs_to_completion()
}

fn disruption_budget(ir: &Ir, s: &Service, flavour: Flavour) -> Option<PodDisruptionBudget> {
    has_disruption_budget(ir, s).then(|| PodDisruptionBudget {
        metadata: meta(
            &s.name,
            Some(&s.namespace),
            labels::service_in(ir, s, flavour),
        ),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(ir, s)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Every object of a deployed service, in document order: ServiceAccount, ConfigMap, a
/// Deployment's claims, Service, (headless Service and) workload, autoscaler, disruption
/// budget.
pub fn service(ir: &Ir, s: &Service, flavour: Flavour) -> Vec<Object> {
    let l = labels::service_in(ir, s, flavour);
    let ns = Some(s.namespace.as_str());
    let mut docs = vec![Object::ServiceAccount(service_account(ir, s, flavour))];
    if !s.files.is_empty() {
        let data: BTreeMap<String, String> = s
            .files
            .iter()
            .map(|f| (f.name.clone(), f.content.clone()))
            .collect();
        docs.push(Object::ConfigMap(ConfigMap {
            metadata: meta(&config_map_name(&s.name), ns, l.clone()),
            data: Some(data),
            ..Default::default()
        }));
    }
    if s.workload != WorkloadKind::Statefulset {
        for v in s.volumes.iter().filter(|v| v.owned_claim()) {
            docs.push(Object::Claim(PersistentVolumeClaim {
                metadata: meta(&claim_name(&s.name, &v.name), ns, l.clone()),
                spec: Some(claim_spec(v)),
                ..Default::default()
            }));
        }
    }
    if !s.ports.is_empty() {
        let node_ports = ir.kubernetes.node_ports && s.ports.iter().any(|p| p.node_port.is_some());
        docs.push(Object::Service(K8sService {
            metadata: meta(&s.name, ns, l.clone()),
            spec: Some(ServiceSpec {
                type_: Some(if node_ports { "NodePort" } else { "ClusterIP" }.into()),
                selector: Some(labels::selector(ir, s)),
                ports: Some(service_port_list(s, node_ports)),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    docs.extend(waiter_access(ir, s, flavour));
    docs.extend(api_access(ir, s, flavour));
    docs.extend(workload(ir, s, flavour));
    if let Some(h) = autoscaler(ir, s, flavour) {
        docs.push(Object::Autoscaler(h));
    }
    if let Some(b) = disruption_budget(ir, s, flavour) {
        docs.push(Object::DisruptionBudget(b));
    }
    docs
}

fn managed_meta(ir: &Ir, s: &Service, flavour: Flavour) -> ObjectMeta {
    // No instance or version label: no pods of this environment stand behind it.
    let mut l = labels::environment_in(ir, flavour);
    l.insert("app.kubernetes.io/name".into(), s.name.clone());
    if let Some(c) = &s.component {
        l.insert("app.kubernetes.io/component".into(), c.clone());
    }
    let mut m = meta(&s.name, Some(&s.namespace), l);
    if let Some(e) = &s.external {
        m.annotations = Some(BTreeMap::from([(
            MANAGED_SERVICE_ANNOTATION.to_string(),
            e.kind.clone(),
        )]));
    }
    m
}

fn managed_ports(s: &Service) -> Vec<ServicePort> {
    s.ports
        .iter()
        .map(|p| ServicePort {
            name: Some(p.name.clone()),
            port: i32::from(p.service),
            target_port: Some(IntOrString::Int(i32::from(p.service))),
            protocol: Some(p.protocol.k8s().to_string()),
            ..Default::default()
        })
        .collect()
}

/// The Service that stands in for a managed service reached by a DNS name: an alias, so
/// `<service>.<namespace>.svc.cluster.local` keeps working.
pub fn managed_by_name(ir: &Ir, s: &Service, host: &str, flavour: Flavour) -> K8sService {
    K8sService {
        metadata: managed_meta(ir, s, flavour),
        spec: Some(ServiceSpec {
            type_: Some("ExternalName".into()),
            external_name: Some(host.to_string()),
            ports: Some(managed_ports(s)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The selector-less Service and its EndpointSlice that stand in for a managed service
/// reached by an IP address (Cloud SQL private IP, Memorystore), where an alias cannot work.
pub fn managed_by_address(
    ir: &Ir,
    s: &Service,
    address: &str,
    flavour: Flavour,
) -> (K8sService, EndpointSlice) {
    let service = K8sService {
        metadata: managed_meta(ir, s, flavour),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            ports: Some(managed_ports(s)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut l = labels::environment_in(ir, flavour);
    l.insert("kubernetes.io/service-name".into(), s.name.clone());
    let manager = match flavour {
        Flavour::Manifests => "envc",
        Flavour::Chart => "helm",
    };
    l.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        format!("{manager}.envc.dev"),
    );
    let slice = EndpointSlice {
        metadata: meta(&format!("{}-managed", s.name), Some(&s.namespace), l),
        address_type: "IPv4".into(),
        endpoints: vec![Endpoint {
            addresses: vec![address.to_string()],
            ..Default::default()
        }],
        ports: Some(
            s.ports
                .iter()
                .map(|p| EndpointPort {
                    name: Some(p.name.clone()),
                    port: Some(i32::from(p.service)),
                    protocol: Some(p.protocol.k8s().to_string()),
                    app_protocol: None,
                })
                .collect(),
        ),
    };
    (service, slice)
}

/// The Ingress of a namespace: one rule per host, in first-seen order; none without routes.
pub fn ingress(ir: &Ir, ns: &str, flavour: Flavour) -> Option<Ingress> {
    let mut rules: Vec<(String, Vec<HTTPIngressPath>)> = Vec::new();
    let deployed = ir.services.iter().filter(|s| s.is_deployed());
    for s in deployed.filter(|s| s.namespace == ns) {
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
    let mut m = meta(&ir.env, Some(ns), labels::environment_in(ir, flavour));
    let mut annotations: BTreeMap<String, String> = ir
        .kubernetes
        .ingress_annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tls = ir.kubernetes.tls.as_ref().map(|t| {
        annotations.extend(tls_annotations(t));
        vec![IngressTLS {
            hosts: Some(rules.iter().map(|(h, _)| h.clone()).collect()),
            secret_name: tls_secret(&ir.env, t),
        }]
    });
    if !annotations.is_empty() {
        m.annotations = Some(annotations);
    }
    Some(Ingress {
        metadata: m,
        spec: Some(IngressSpec {
            ingress_class_name: ir.kubernetes.ingress_class.clone(),
            tls,
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

/// The Secret an Ingress's certificate is in: the named one, or `<env>-tls` that cert-manager
/// fills; none with ACM, whose certificates the AWS Load Balancer Controller finds by host.
pub fn tls_secret(env: &str, t: &IngressTls) -> Option<String> {
    match (&t.secret, &t.cert_manager_issuer) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(_)) => Some(format!("{env}-tls")),
        (None, None) => None,
    }
}

/// Annotations that make the certificate happen: cert-manager's issuer, or the ALB's HTTPS
/// listener with a redirect from HTTP.
fn tls_annotations(t: &IngressTls) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(issuer) = &t.cert_manager_issuer {
        let key = match t.issuer_kind {
            IssuerKind::ClusterIssuer => "cert-manager.io/cluster-issuer",
            IssuerKind::Issuer => "cert-manager.io/issuer",
        };
        out.push((key.to_string(), issuer.clone()));
    }
    if t.acm {
        out.push((
            "alb.ingress.kubernetes.io/listen-ports".into(),
            r#"[{"HTTP": 80}, {"HTTPS": 443}]"#.into(),
        ));
        out.push((
            "alb.ingress.kubernetes.io/ssl-redirect".into(),
            "443".into(),
        ));
    }
    out
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

/// Where traffic from outside the cluster arrives from: the ingress controller's namespace,
/// and in cloud modes the load balancers' address ranges.
fn edge_peers(ir: &Ir) -> Vec<NetworkPolicyPeer> {
    let mut peers: Vec<NetworkPolicyPeer> = Vec::new();
    if let Some(i) = &ir.kubernetes.ingress_controller_namespace {
        peers.push(NetworkPolicyPeer {
            namespace_selector: Some(ns_selector(i)),
            ..Default::default()
        });
    }
    for cidr in ir.cloud.iter().flat_map(|c| &c.load_balancer_cidrs) {
        peers.push(NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.clone(),
                except: None,
            }),
            ..Default::default()
        });
    }
    peers
}

fn node_port_names(s: &Service) -> Vec<String> {
    s.ports
        .iter()
        .filter(|p| p.node_port.is_some())
        .map(|p| p.name.clone())
        .collect()
}

/// A policy over every pod of a namespace that admits only `rules` (none: deny all ingress).
fn namespace_wide(rules: Option<Vec<NetworkPolicyIngressRule>>) -> Option<NetworkPolicySpec> {
    Some(NetworkPolicySpec {
        pod_selector: Some(LabelSelector::default()),
        policy_types: Some(vec!["Ingress".into()]),
        ingress: rules,
        egress: None,
    })
}

/// `namespace` stance: pods take traffic from the environment's namespaces and the edge, and
/// on their node ports from anywhere.
fn namespace_policies(ir: &Ir, flavour: Flavour) -> Vec<NetworkPolicy> {
    let mut out = Vec::new();
    for ns in &ir.namespaces {
        let mut from: Vec<NetworkPolicyPeer> = ir
            .namespaces
            .iter()
            .map(|n| NetworkPolicyPeer {
                namespace_selector: Some(ns_selector(&n.name)),
                ..Default::default()
            })
            .collect();
        from.extend(edge_peers(ir));
        let mut rules = vec![NetworkPolicyIngressRule {
            from: Some(from),
            ports: None,
        }];
        let deployed = ir.services.iter().filter(|s| s.is_deployed());
        for s in deployed.filter(|s| s.namespace == ns.name) {
            let names = node_port_names(s);
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
                labels::environment_in(ir, flavour),
            ),
            spec: namespace_wide(Some(rules)),
        });
    }
    out
}

/// The ingress rules of one service under the `graph` stance: its clients on the ports they
/// use, its peers (replicas of a StatefulSet), the edge on ingress ports, anyone on node ports.
fn graph_rules(ir: &Ir, s: &Service) -> Vec<NetworkPolicyIngressRule> {
    let mut rules: Vec<NetworkPolicyIngressRule> = Vec::new();
    for c in &s.clients {
        let Some(client) = ir.service(&c.service).filter(|c| c.is_deployed()) else {
            continue;
        };
        rules.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                pod_selector: Some(selector(ir, client)),
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
    let edge = edge_peers(ir);
    if !ingress_ports.is_empty() && !edge.is_empty() {
        rules.push(NetworkPolicyIngressRule {
            from: Some(edge),
            ports: Some(np_ports(s, &ingress_ports)),
        });
    }
    let node_ports = node_port_names(s);
    if !node_ports.is_empty() {
        // Traffic to a NodePort arrives from outside the cluster.
        rules.push(NetworkPolicyIngressRule {
            from: None,
            ports: Some(np_ports(s, &node_ports)),
        });
    }
    rules
}

/// The NetworkPolicies of the environment's stance.
pub fn network_policies(ir: &Ir, flavour: Flavour) -> Vec<NetworkPolicy> {
    let mut out = namespace_network_policies(ir, flavour);
    out.extend(
        ir.services
            .iter()
            .filter_map(|s| service_network_policy(ir, s, flavour)),
    );
    out
}

/// The NetworkPolicies that apply to whole namespaces: the `namespace` stance's, or the
/// `graph` stance's default deny in each namespace.
pub fn namespace_network_policies(ir: &Ir, flavour: Flavour) -> Vec<NetworkPolicy> {
    match ir.network_policy {
        NetworkPolicyStance::None => Vec::new(),
        NetworkPolicyStance::Namespace => namespace_policies(ir, flavour),
        NetworkPolicyStance::Graph => ir
            .namespaces
            .iter()
            .map(|ns| NetworkPolicy {
                metadata: meta(
                    "default-deny-ingress",
                    Some(&ns.name),
                    labels::environment_in(ir, flavour),
                ),
                spec: namespace_wide(None),
            })
            .collect(),
    }
}

/// The `graph` stance's NetworkPolicy of one deployed service: ingress from its clients only;
/// none for a service without ports or clients, or under another stance.
pub fn service_network_policy(ir: &Ir, s: &Service, flavour: Flavour) -> Option<NetworkPolicy> {
    if ir.network_policy != NetworkPolicyStance::Graph || !s.is_deployed() || s.ports.is_empty() {
        return None;
    }
    let rules = graph_rules(ir, s);
    if rules.is_empty() {
        return None;
    }
    Some(NetworkPolicy {
        metadata: meta(
            &s.name,
            Some(&s.namespace),
            labels::service_in(ir, s, flavour),
        ),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(ir, s)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(rules),
            egress: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::to_yaml;

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
