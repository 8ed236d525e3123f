//! Prometheus Operator objects of a service, in modes whose profile says the cluster runs the
//! operator (`[kubernetes.prometheus_operator]`): a `PodMonitor` for a service with a metrics
//! port, and a `PrometheusRule` with the service's alert rules, built once for the manifests
//! and the chart (they are part of [`crate::object::service`]).
//!
//! A PodMonitor rather than a ServiceMonitor: envc's metrics port is a named container port,
//! which a PodMonitor selects on every pod by the workload's own selector, whatever the
//! workload (a Job has no Service); a ServiceMonitor would reach the same pods through the
//! Service's endpoints and needs the port on the Service.
//!
//! The rules are the ones the lakehouse's own Prometheus loads from its model templates
//! (`prometheus-rules.yml.hbs`), with the same names, expressions and labels: `ServiceDown`
//! for a service with a metrics port (its scrapes fail for 5 minutes), and from the kubelets'
//! cAdvisor metrics `ServiceNotRunning` for a long-running service without one (no container
//! of it for 10 minutes), `ContainerRestarting` for every service, `ContainerMemoryNearLimit` where
//! the model sets a memory limit and `ContainerCpuThrottled` where it sets a CPU limit.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::Service;
use envc_model::monitoring::PrometheusOperatorSettings;
use k8s_openapi::api::networking::v1::{NetworkPolicyIngressRule, NetworkPolicyPeer};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

use envc_model::{Diagnostic, Diagnostics};

use crate::labels::{self, Flavour};

/// API version of the operator's resources.
pub const API_VERSION: &str = "monitoring.coreos.com/v1";

/// A `PodMonitor` (monitoring.coreos.com/v1): which pods the operator's Prometheus scrapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitor {
    /// `monitoring.coreos.com/v1`.
    pub api_version: String,
    /// `PodMonitor`.
    pub kind: String,
    /// Name (the service's), namespace (the service's, where it selects pods) and labels.
    pub metadata: ObjectMeta,
    /// What to scrape.
    pub spec: PodMonitorSpec,
}

/// The spec of a [`PodMonitor`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// The pod label whose value is the `job` label of the scraped series: the service name,
    /// as the environment's own Prometheus names its jobs.
    pub job_label: String,
    /// The workload's pod selector.
    pub selector: LabelSelector,
    /// The metrics endpoint.
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

/// One scraped endpoint of the pods.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsEndpoint {
    /// Name of the container port.
    pub port: String,
    /// HTTP path.
    pub path: String,
    /// Scrape interval; the Prometheus' own when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Relabelings: the `service` label the alert rules and the dashboard group by.
    pub relabelings: Vec<Relabeling>,
}

/// A relabeling that writes a fixed value into a label.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relabeling {
    /// `replace`.
    pub action: String,
    /// The label written.
    pub target_label: String,
    /// Its value.
    pub replacement: String,
}

/// A `PrometheusRule` (monitoring.coreos.com/v1): alert rules the operator loads into its
/// Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRule {
    /// `monitoring.coreos.com/v1`.
    pub api_version: String,
    /// `PrometheusRule`.
    pub kind: String,
    /// Name (the service's), namespace and labels.
    pub metadata: ObjectMeta,
    /// The rule groups.
    pub spec: PrometheusRuleSpec,
}

/// The spec of a [`PrometheusRule`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrometheusRuleSpec {
    /// One group per service.
    pub groups: Vec<RuleGroup>,
}

/// A group of rules, evaluated together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    /// `<env>.<service>`, unique in the cluster's Prometheus.
    pub name: String,
    /// The alerts.
    pub rules: Vec<AlertRule>,
}

/// One alerting rule, as Prometheus's rule files spell it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression; the alert fires for every series it returns.
    pub expr: String,
    /// How long the expression must hold before the alert fires.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// `severity` and `service`.
    pub labels: BTreeMap<String, String>,
    /// `summary` and `description` (Prometheus templates).
    pub annotations: BTreeMap<String, String>,
}

/// The operator settings of the mode, if its cluster runs the operator.
pub fn operator(ir: &Ir) -> Option<&PrometheusOperatorSettings> {
    ir.kubernetes.prometheus_operator.as_ref()
}

/// What the operator settings must hold before emission (`E-prometheus-operator`, at the
/// profile value): a namespace name, labels Kubernetes accepts, a scrape interval above zero.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(op) = operator(ir) else {
        return d;
    };
    let base = "kubernetes.prometheus_operator";
    if !envc_model::load::is_dns_label(&op.namespace) {
        d.push(
            Diagnostic::error(
                "E-prometheus-operator",
                format!("`{}` is not a namespace name", op.namespace),
            )
            .path(format!("{base}.namespace"))
            .hint("the namespace the operator's Prometheus runs in: lowercase letters, digits and `-`, at most 63 characters"),
        );
    }
    for (key, value) in &op.labels {
        let why = envc_core::limits::label_key_problem(key)
            .map(|w| format!("`{key}` is not a valid label key: {w}"))
            .or_else(|| {
                envc_core::limits::label_value_problem(value)
                    .map(|w| format!("`{value}` is not a valid value of label `{key}`: {w}"))
            });
        if let Some(why) = why {
            // Label keys may hold dots, which a dotted model path cannot: the table is named.
            d.push(
                Diagnostic::error("E-prometheus-operator", why)
                    .path(format!("{base}.labels"))
                    .hint("the labels the Prometheus resource's `podMonitorSelector` and `ruleSelector` match, such as `release = \"kube-prometheus-stack\"`"),
            );
        }
    }
    if op.interval.is_some_and(|i| i.seconds == 0) {
        d.push(
            Diagnostic::error(
                "E-prometheus-operator",
                "a scrape interval of 0s never scrapes",
            )
            .path(format!("{base}.interval"))
            .hint(
                "write a duration such as `30s`, or leave it out for the Prometheus' own interval",
            ),
        );
    }
    d
}

/// The labels of a service's operator objects: the service's, and those the operator's
/// Prometheus selects by.
fn object_meta(
    ir: &Ir,
    s: &Service,
    op: &PrometheusOperatorSettings,
    flavour: Flavour,
) -> ObjectMeta {
    let mut l = labels::service_in(ir, s, flavour);
    l.extend(op.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    ObjectMeta {
        name: Some(s.name.clone()),
        namespace: Some(s.namespace.clone()),
        labels: Some(l),
        ..Default::default()
    }
}

/// The PodMonitor of a service with a metrics port, in a mode whose cluster runs the operator.
pub fn pod_monitor(ir: &Ir, s: &Service, flavour: Flavour) -> Option<PodMonitor> {
    let op = operator(ir)?;
    let m = s.metrics.as_ref()?;
    Some(PodMonitor {
        api_version: API_VERSION.into(),
        kind: "PodMonitor".into(),
        metadata: object_meta(ir, s, op, flavour),
        spec: PodMonitorSpec {
            job_label: "app.kubernetes.io/name".into(),
            selector: crate::pod::selector(ir, s),
            pod_metrics_endpoints: vec![PodMetricsEndpoint {
                port: m.port_name.clone(),
                path: m.path.clone(),
                interval: op.interval.map(|d| d.to_string()),
                relabelings: vec![Relabeling {
                    action: "replace".into(),
                    target_label: "service".into(),
                    replacement: s.name.clone(),
                }],
            }],
        },
    })
}

/// The alert rules of a service (see the module's documentation for which and why).
pub fn alert_rules(s: &Service) -> Vec<AlertRule> {
    let (name, ns) = (s.name.as_str(), s.namespace.as_str());
    let selector = format!("namespace={}, container={}", quote(ns), quote(name));
    let rule = |alert: &str, expr: String, for_: Option<&str>, severity: &str, texts: [&str; 2]| {
        AlertRule {
            alert: alert.into(),
            expr,
            for_: for_.map(str::to_string),
            labels: BTreeMap::from([
                ("service".to_string(), name.to_string()),
                ("severity".to_string(), severity.to_string()),
            ]),
            annotations: BTreeMap::from([
                ("summary".to_string(), texts[0].to_string()),
                ("description".to_string(), texts[1].to_string()),
            ]),
        }
    };
    let mut rules = Vec::new();
    if s.metrics.is_some() && !s.workload.runs_to_completion() {
        rules.push(rule(
            "ServiceDown",
            format!("up{{job={}, namespace={}}} == 0", quote(name), quote(ns)),
            Some("5m"),
            "critical",
            [
                &format!("{name} is not answering its metrics scrapes"),
                &format!(
                    "Prometheus has not reached {name} ({ns}) for 5 minutes: {{{{ $labels.instance }}}} is down."
                ),
            ],
        ));
    }
    if s.metrics.is_none() && !s.workload.runs_to_completion() {
        // Availability without a metrics port: some container of the service runs.
        rules.push(rule(
            "ServiceNotRunning",
            format!("absent(container_start_time_seconds{{{selector}}})"),
            Some("10m"),
            "critical",
            [
                &format!("{name} has no running container"),
                &format!("No container of {name} ({ns}) has been running for 10 minutes."),
            ],
        ));
    }
    rules.push(rule(
        "ContainerRestarting",
        format!("sum by (pod) (changes(container_start_time_seconds{{{selector}}}[15m])) > 2"),
        None,
        "warning",
        [
            &format!("{name} restarted more than twice in 15 minutes"),
            &format!("Pod {{{{ $labels.pod }}}} of {name} ({ns}) keeps restarting."),
        ],
    ));
    if s.resources.limits.memory.is_some() {
        rules.push(rule(
            "ContainerMemoryNearLimit",
            format!(
                "max by (pod) (container_memory_working_set_bytes{{{selector}}} / (container_spec_memory_limit_bytes{{{selector}}} > 0)) > 0.9"
            ),
            Some("10m"),
            "warning",
            [
                &format!("{name} uses more than 90% of its memory limit"),
                &format!(
                    "Pod {{{{ $labels.pod }}}} of {name} ({ns}) will be OOM-killed if it grows further."
                ),
            ],
        ));
    }
    if s.resources.limits.cpu.is_some() {
        rules.push(rule(
            "ContainerCpuThrottled",
            format!(
                "max by (pod) (rate(container_cpu_cfs_throttled_periods_total{{{selector}}}[5m]) / rate(container_cpu_cfs_periods_total{{{selector}}}[5m])) > 0.5"
            ),
            Some("15m"),
            "info",
            [
                &format!("{name} is CPU-throttled more than half the time"),
                &format!(
                    "Pod {{{{ $labels.pod }}}} of {name} ({ns}) needs a higher CPU limit or more replicas."
                ),
            ],
        ));
    }
    rules
}

/// A PromQL string literal (double-quoted, with `\` and `"` escaped).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The PrometheusRule of a service, in a mode whose cluster runs the operator.
pub fn prometheus_rule(ir: &Ir, s: &Service, flavour: Flavour) -> Option<PrometheusRule> {
    let op = operator(ir)?;
    Some(PrometheusRule {
        api_version: API_VERSION.into(),
        kind: "PrometheusRule".into(),
        metadata: object_meta(ir, s, op, flavour),
        spec: PrometheusRuleSpec {
            groups: vec![RuleGroup {
                name: format!("{}.{}", ir.env, s.name),
                rules: alert_rules(s),
            }],
        },
    })
}

/// The NetworkPolicy rule that admits the operator's Prometheus to the metrics port of these
/// services (under the `graph` stance one service, under `namespace` those of a namespace).
pub fn scrape_rule<'a>(
    ir: &Ir,
    services: impl Iterator<Item = &'a Service>,
) -> Option<NetworkPolicyIngressRule> {
    let op = operator(ir)?;
    let mut ports: Vec<_> = Vec::new();
    for s in services.filter(|s| s.is_deployed()) {
        let Some(m) = &s.metrics else { continue };
        let Some(p) = s.ports.iter().find(|p| p.name == m.port_name) else {
            continue;
        };
        let port = k8s_openapi::api::networking::v1::NetworkPolicyPort {
            port: Some(
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(p.name.clone()),
            ),
            protocol: Some(p.protocol.k8s().to_string()),
            end_port: None,
        };
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    if ports.is_empty() {
        return None;
    }
    Some(NetworkPolicyIngressRule {
        from: Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    op.namespace.clone(),
                )])),
                match_expressions: None,
            }),
            ..Default::default()
        }]),
        ports: Some(ports),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(s: &Service) -> Vec<String> {
        alert_rules(s).into_iter().map(|r| r.alert).collect()
    }

    #[test]
    fn rules_follow_what_the_model_sets() {
        let mut s = Service::new("api", "shop", "example/api:1");
        // No metrics port, no limits: whether it runs, and its restarts.
        assert_eq!(alerts(&s), ["ServiceNotRunning", "ContainerRestarting"]);
        s.metrics = Some(envc_core::ir::Metrics {
            port_name: "http".into(),
            port: 8080,
            service_port: 80,
            path: "/metrics".into(),
        });
        s.resources.limits.memory = envc_model::quantity::Bytes::parse("1Gi").ok();
        assert_eq!(
            alerts(&s),
            [
                "ServiceDown",
                "ContainerRestarting",
                "ContainerMemoryNearLimit"
            ]
        );
        s.resources.limits.cpu = envc_model::quantity::Cpu::parse("1").ok();
        assert_eq!(alerts(&s).len(), 4);
        let down = &alert_rules(&s)[0];
        assert_eq!(down.expr, "up{job=\"api\", namespace=\"shop\"} == 0");
        assert_eq!(down.for_.as_deref(), Some("5m"));
        // A job's pods end: nothing answers scrapes once it is done.
        s.workload = envc_model::model::WorkloadKind::Job;
        assert!(!alerts(&s).contains(&"ServiceDown".to_string()));
    }

    #[test]
    fn promql_strings_are_escaped() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
