//! Routes of a Kubernetes mode: the namespace's Ingress, or, where the profile names an existing
//! Gateway (`[kubernetes.gateway]`), Gateway API `HTTPRoute`s (gateway.networking.k8s.io/v1)
//! attached to it, one per routed service and host, from the same model routes.
//!
//! The Gateway itself (listeners, addresses, certificates) is the cluster platform's: envc
//! writes only the routes, so HTTPS is configured on the Gateway's listener and
//! `kubernetes.tls` is refused beside a gateway ([`check`]). k8s-openapi has no Gateway API
//! types: the structs below are the fields envc writes, named as the CRD names them.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::Service;
use envc_model::gateway::GatewayRef;
use envc_model::{Diagnostic, Diagnostics};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::labels::{self, Flavour};
use crate::{name, object};

/// API group of the Gateway API.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// `apiVersion` of the routes envc writes: the standard channel's GA version.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// A route object of a namespace: the Ingress, or an HTTPRoute.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Route {
    /// The namespace's Ingress (no gateway).
    Ingress(Box<Ingress>),
    /// An HTTPRoute of one service and host.
    Http(Box<HttpRoute>),
}

/// An `HTTPRoute`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRoute {
    /// `gateway.networking.k8s.io/v1`.
    pub api_version: &'static str,
    /// `HTTPRoute`.
    pub kind: &'static str,
    /// Name, namespace and labels.
    pub metadata: ObjectMeta,
    /// Parent, hosts and rules.
    pub spec: HttpRouteSpec,
}

/// `spec` of an HTTPRoute.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// The Gateway (and listener) it attaches to.
    pub parent_refs: Vec<ParentRef>,
    /// The host it serves.
    pub hostnames: Vec<String>,
    /// One rule per routed port: its path prefix to the Service port.
    pub rules: Vec<HttpRouteRule>,
}

/// `spec.parentRefs[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    /// `gateway.networking.k8s.io`.
    pub group: &'static str,
    /// `Gateway`.
    pub kind: &'static str,
    /// The Gateway's name.
    pub name: String,
    /// The Gateway's namespace.
    pub namespace: String,
    /// The listener, when the profile names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// `spec.rules[]`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// The path match.
    pub matches: Vec<HttpRouteMatch>,
    /// The Service port.
    pub backend_refs: Vec<BackendRef>,
}

/// `spec.rules[].matches[]`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRouteMatch {
    /// A path prefix, matched element by element as an Ingress's `Prefix` is.
    pub path: PathMatch,
}

/// `spec.rules[].matches[].path`.
#[derive(Debug, Clone, Serialize)]
pub struct PathMatch {
    /// `PathPrefix`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The prefix.
    pub value: String,
}

/// `spec.rules[].backendRefs[]`: a Service of the route's namespace, by port number (the
/// Gateway API has no port names).
#[derive(Debug, Clone, Serialize)]
pub struct BackendRef {
    /// The Service.
    pub name: String,
    /// Its port.
    pub port: u16,
}

/// The route objects of namespace `ns`: its Ingress, or the HTTPRoutes of its services when
/// the mode names a gateway.
pub fn routes(ir: &Ir, ns: &str, flavour: Flavour) -> Vec<Route> {
    match &ir.kubernetes.gateway {
        None => object::ingress(ir, ns, flavour)
            .map(|i| Route::Ingress(Box::new(i)))
            .into_iter()
            .collect(),
        Some(g) => ir
            .services
            .iter()
            .filter(|s| s.is_deployed() && s.namespace == ns)
            .flat_map(|s| http_routes(ir, s, g, flavour))
            .map(|r| Route::Http(Box::new(r)))
            .collect(),
    }
}

/// A service's HTTPRoutes: one per host its ports are routed on (an HTTPRoute's hostnames
/// apply to all its rules), named after the service, and after the first port of each host
/// when it has several.
fn http_routes(ir: &Ir, s: &Service, g: &GatewayRef, flavour: Flavour) -> Vec<HttpRoute> {
    let mut hosts: Vec<(String, String, Vec<HttpRouteRule>)> = Vec::new();
    for p in &s.ports {
        let Some(i) = &p.ingress else { continue };
        let rule = HttpRouteRule {
            matches: vec![HttpRouteMatch {
                path: PathMatch {
                    kind: "PathPrefix",
                    value: i.path.clone(),
                },
            }],
            backend_refs: vec![BackendRef {
                name: s.name.clone(),
                port: p.service,
            }],
        };
        match hosts.iter_mut().find(|(h, _, _)| *h == i.host) {
            Some((_, _, rules)) => rules.push(rule),
            None => hosts.push((i.host.clone(), p.name.clone(), vec![rule])),
        }
    }
    let several = hosts.len() > 1;
    hosts
        .into_iter()
        .map(|(host, port, rules)| HttpRoute {
            api_version: API_VERSION,
            kind: "HTTPRoute",
            metadata: ObjectMeta {
                name: Some(if several {
                    format!("{}-{port}", s.name)
                } else {
                    s.name.clone()
                }),
                namespace: Some(s.namespace.clone()),
                labels: Some(route_labels(ir, s, flavour)),
                ..Default::default()
            },
            spec: HttpRouteSpec {
                parent_refs: vec![ParentRef {
                    group: GROUP,
                    kind: "Gateway",
                    name: g.name.clone(),
                    namespace: g.namespace.clone(),
                    section_name: g.section.clone(),
                }],
                hostnames: vec![host],
                rules,
            },
        })
        .collect()
}

/// A route belongs to its service (the Ingress, shared by a namespace, to the environment).
fn route_labels(ir: &Ir, s: &Service, flavour: Flavour) -> BTreeMap<String, String> {
    labels::service_in(ir, s, flavour)
}

/// A gateway's names are object names; TLS is the Gateway listener's, so `kubernetes.tls`
/// beside it would be silently ignored: refused instead.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(g) = &ir.kubernetes.gateway else {
        return d;
    };
    for (key, value, ok) in [
        ("name", Some(&g.name), name::is_dns_subdomain(&g.name)),
        (
            "namespace",
            Some(&g.namespace),
            envc_model::load::is_dns_label(&g.namespace),
        ),
        (
            "section",
            g.section.as_ref(),
            g.section.as_deref().is_none_or(name::is_dns_subdomain),
        ),
    ] {
        if let (Some(v), false) = (value, ok) {
            d.push(
                Diagnostic::error(
                    "E-gateway",
                    format!("`{v}` is not a valid Gateway {key}"),
                )
                .path(format!("kubernetes.gateway.{key}"))
                .hint("lower-case letters, digits and `-` (and `.` in names), starting and ending with a letter or digit"),
            );
        }
    }
    if ir.kubernetes.tls.is_some() {
        d.push(
            Diagnostic::error(
                "E-gateway",
                "`kubernetes.tls` does not apply to routes on a Gateway",
            )
            .path("kubernetes.tls")
            .hint(format!(
                "HTTPS is configured on the listeners of Gateway `{}/{}` (its `tls.certificateRefs`); remove `kubernetes.tls`, or `kubernetes.gateway` to keep the Ingresses",
                g.namespace, g.name
            )),
        );
    }
    d
}
