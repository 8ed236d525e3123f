//! Profile settings for a cluster that runs the Prometheus Operator
//! (`[kubernetes.prometheus_operator]`): envc then writes a `PodMonitor` for every service with
//! a metrics port and a `PrometheusRule` of alert rules for every service.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::quantity::Duration;

/// The Prometheus Operator the mode's cluster runs (kube-prometheus-stack or the operator on its
/// own), and how its Prometheus finds what envc writes for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct PrometheusOperatorSettings {
    /// Labels on every PodMonitor and PrometheusRule, for the Prometheus resource's
    /// `podMonitorSelector` and `ruleSelector` (kube-prometheus-stack selects
    /// `release: <its release name>` unless told otherwise).
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// Namespace the operator's Prometheus pods run in: NetworkPolicies admit it on every
    /// metrics port.
    #[serde(default = "monitoring_namespace")]
    pub namespace: String,
    /// How often the operator's Prometheus scrapes each pod; by default its own
    /// `scrapeInterval`.
    #[serde(default)]
    pub interval: Option<Duration>,
}

fn monitoring_namespace() -> String {
    "monitoring".into()
}
