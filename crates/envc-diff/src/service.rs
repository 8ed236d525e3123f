//! What a workload's facts read of a Kubernetes Service, from its value (a file, a rendered
//! chart, a live dump) or from the typed object the emitter built (`envc diff` of two modes),
//! held equal by `memory::tests::typed_services_read_as_their_values`.

use std::collections::BTreeMap;

use yaml_serde::Value as Y;

use crate::docs::{at, labels, name, ns, seq, text};

/// What a workload's facts read of a Service: its name, selector and ports, taken from its
/// value or, for a Service the emitter built, from the typed object (whose value is then never
/// made). The ports' fields are kept as the scalars the value has, so both read alike.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEntry {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) selector: BTreeMap<String, String>,
    /// `clusterIP: None`.
    pub(crate) headless: bool,
    pub(crate) ports: Vec<ServicePortEntry>,
}

/// One port of a [`ServiceEntry`]: each field the scalar the Service's value has there.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePortEntry {
    pub(crate) name: Option<String>,
    pub(crate) port: Option<Y>,
    pub(crate) target_port: Option<Y>,
    pub(crate) protocol: Option<String>,
    pub(crate) node_port: Option<Y>,
}

impl ServiceEntry {
    /// A Service's entry from its value.
    pub(crate) fn of_value(s: &Y) -> ServiceEntry {
        ServiceEntry {
            name: name(s),
            namespace: ns(s),
            selector: labels(s, &["spec", "selector"]),
            headless: text(s, &["spec", "clusterIP"]) == Some("None"),
            ports: seq(s, &["spec", "ports"])
                .map(|p| ServicePortEntry {
                    name: text(p, &["name"]).map(str::to_string),
                    port: at(p, &["port"]).cloned(),
                    target_port: at(p, &["targetPort"]).cloned(),
                    protocol: text(p, &["protocol"]).map(str::to_string),
                    node_port: at(p, &["nodePort"]).cloned(),
                })
                .collect(),
        }
    }

    /// A typed Service's entry: what [`ServiceEntry::of_value`] reads of the value it
    /// serialises as (integers as numbers, a named target port as a string).
    pub(crate) fn of_typed(s: &k8s_openapi::api::core::v1::Service) -> ServiceEntry {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        let number = |n: i32| Y::Number(i64::from(n).into());
        let spec = s.spec.as_ref();
        ServiceEntry {
            name: s.metadata.name.clone().unwrap_or_default(),
            namespace: s
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            selector: spec.and_then(|p| p.selector.clone()).unwrap_or_default(),
            headless: spec.and_then(|p| p.cluster_ip.as_deref()) == Some("None"),
            ports: spec
                .and_then(|p| p.ports.as_ref())
                .into_iter()
                .flatten()
                .map(|p| ServicePortEntry {
                    name: p.name.clone(),
                    port: Some(number(p.port)),
                    target_port: p.target_port.as_ref().map(|t| match t {
                        IntOrString::Int(n) => number(*n),
                        IntOrString::String(s) => Y::String(s.clone()),
                    }),
                    protocol: p.protocol.clone(),
                    node_port: p.node_port.map(number),
                })
                .collect(),
        }
    }
}
