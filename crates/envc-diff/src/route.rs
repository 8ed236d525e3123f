//! Routes as named facts of the services they reach, from Ingresses and Gateway API
//! `HTTPRoute`s alike: `exposure.<host><path>` is the Service port a host and path lead to,
//! `exposure.<host><path>.parent` what serves it (an Ingress and its class, or a Gateway and
//! its listener), `exposure.<host><path>.tls` the Ingress's TLS for that host (its Secret and
//! the cert-manager issuer annotation). An Ingress and an HTTPRoute that serve the same host and
//! path to the same Service port give the same `exposure` fact, so moving a mode to a Gateway
//! shows only its parent, which the profile sets. A route on a Gateway has no TLS of its own:
//! the Gateway's listener terminates it.

use std::collections::{BTreeMap, HashMap};

use yaml_serde::Value as Y;

use envc_model::load::LoadedMode;
use envc_model::{Origin, Sources};

use crate::docs::{at, seq, text};
use crate::key::{Key, RouteField};
use crate::service::ServiceEntry;

/// Where a route leads and what serves it (this module).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFacts {
    /// The Service.
    pub service: String,
    /// Its port number (a name the Service does not define stays a name).
    pub port: Option<String>,
    /// `ingress class <class>` or `gateway <namespace>/<name> listener <section>`.
    pub parent: String,
    /// The Ingress's TLS for the host: `secret <name>, issuer <Kind>/<name>`.
    pub tls: Option<String>,
}

/// The kinds read as routes.
pub const KINDS: [&str; 2] = ["Ingress", "HTTPRoute"];

/// cert-manager's ingress-shim annotations: the issuer that fills an Ingress's TLS Secret.
const ISSUER_ANNOTATIONS: [(&str, &str); 2] = [
    ("cert-manager.io/cluster-issuer", "ClusterIssuer"),
    ("cert-manager.io/issuer", "Issuer"),
];

fn port_of(v: Option<&Y>) -> Option<PortRef> {
    match v? {
        Y::Number(n) => n
            .as_u64()
            .and_then(|x| u16::try_from(x).ok())
            .map(PortRef::Number),
        Y::String(s) => Some(PortRef::Name(s.clone())),
        _ => None,
    }
}

/// A Service port as a route names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRef {
    Number(u16),
    Name(String),
}

/// One host and path a route object sends to a Service.
#[derive(Debug, Clone)]
struct Rule {
    host: String,
    path: String,
    service: String,
    port: Option<PortRef>,
    parent: String,
    tls: Option<String>,
}

/// The rules of an Ingress: each host's paths, with the Ingress's class and its TLS for the
/// host.
fn ingress_rules(o: &Y) -> Vec<Rule> {
    let parent = match text(o, &["spec", "ingressClassName"]) {
        Some(c) => format!("ingress class {c}"),
        None => "ingress".to_string(),
    };
    let issuer = ISSUER_ANNOTATIONS.iter().find_map(|(a, kind)| {
        at(o, &["metadata", "annotations"])
            .and_then(|m| m.get(*a))
            .and_then(Y::as_str)
            .map(|name| format!("issuer {kind}/{name}"))
    });
    let tls_of = |host: &str| {
        seq(o, &["spec", "tls"])
            .find(|t| seq(t, &["hosts"]).any(|h| h.as_str() == Some(host)))
            .map(|t| {
                let secret = match text(t, &["secretName"]) {
                    Some(s) => format!("secret {s}"),
                    None => "no secret (the controller finds the certificate)".to_string(),
                };
                match &issuer {
                    Some(i) => format!("{secret}, {i}"),
                    None => secret,
                }
            })
    };
    let mut out = Vec::new();
    for r in seq(o, &["spec", "rules"]) {
        let host = text(r, &["host"]).unwrap_or("*").to_string();
        for p in seq(r, &["http", "paths"]) {
            let Some(service) = text(p, &["backend", "service", "name"]) else {
                continue;
            };
            let port = at(p, &["backend", "service", "port"]).and_then(|port| {
                port_of(at(port, &["number"])).or_else(|| port_of(at(port, &["name"])))
            });
            out.push(Rule {
                host: host.clone(),
                path: text(p, &["path"]).unwrap_or("/").to_string(),
                service: service.to_string(),
                port,
                parent: parent.clone(),
                tls: tls_of(&host),
            });
        }
    }
    out
}

/// The rules of an HTTPRoute: every hostname with every path match of each rule, to each of
/// its Service backends; the parent Gateways (and listeners) it attaches to.
fn http_route_rules(o: &Y) -> Vec<Rule> {
    let parents: Vec<String> = seq(o, &["spec", "parentRefs"])
        .map(|p| {
            let ns = text(p, &["namespace"]).or_else(|| text(o, &["metadata", "namespace"]));
            // A Gateway unless it says otherwise (a Service, for a mesh's routes).
            let kind = match text(p, &["kind"]).unwrap_or("Gateway") {
                "Gateway" => "gateway".to_string(),
                other => other.to_ascii_lowercase(),
            };
            let mut s = format!(
                "{kind} {}/{}",
                ns.unwrap_or("default"),
                text(p, &["name"]).unwrap_or_default()
            );
            if let Some(l) = text(p, &["sectionName"]) {
                s.push_str(&format!(" listener {l}"));
            }
            s
        })
        .collect();
    let parent = parents.join(", ");
    let hosts: Vec<String> = match seq(o, &["spec", "hostnames"]).next() {
        Some(_) => seq(o, &["spec", "hostnames"])
            .filter_map(Y::as_str)
            .map(String::from)
            .collect(),
        None => vec!["*".to_string()],
    };
    let mut out = Vec::new();
    for r in seq(o, &["spec", "rules"]) {
        let mut paths: Vec<String> = seq(r, &["matches"])
            .map(|m| text(m, &["path", "value"]).unwrap_or("/").to_string())
            .collect();
        if paths.is_empty() {
            paths.push("/".to_string());
        }
        for b in seq(r, &["backendRefs"]) {
            let service_kind = text(b, &["kind"]).unwrap_or("Service") == "Service"
                && text(b, &["group"]).unwrap_or("").is_empty();
            let Some(service) = text(b, &["name"]).filter(|_| service_kind) else {
                continue;
            };
            for host in &hosts {
                for path in &paths {
                    out.push(Rule {
                        host: host.clone(),
                        path: path.clone(),
                        service: service.to_string(),
                        port: port_of(at(b, &["port"])),
                        parent: parent.clone(),
                        tls: None,
                    });
                }
            }
        }
    }
    out
}

/// The Service port number a route's port names: itself, or the port of that name.
fn port_number(service: Option<&ServiceEntry>, port: &PortRef) -> String {
    match port {
        PortRef::Number(n) => n.to_string(),
        PortRef::Name(name) => service
            .into_iter()
            .flat_map(|s| &s.ports)
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| p.port.as_ref())
            .and_then(Y::as_u64)
            .map_or_else(|| name.clone(), |n| n.to_string()),
    }
}

/// The rules of one namespace's route objects (of [`KINDS`]), parsed once and filed by the
/// Service each leads to, in the set's order: each workload looks up the rules of the
/// Services selecting it instead of parsing every route of its namespace again.
#[derive(Debug, Default)]
pub struct Routes {
    rules: Vec<Rule>,
    by_service: HashMap<String, Vec<usize>>,
}

impl Routes {
    /// Files the rules of a route object; other kinds add nothing.
    pub fn add(&mut self, o: &Y) {
        let rules = match text(o, &["kind"]) {
            Some("Ingress") => ingress_rules(o),
            Some("HTTPRoute") => http_route_rules(o),
            _ => return,
        };
        for r in rules {
            self.by_service
                .entry(r.service.clone())
                .or_default()
                .push(self.rules.len());
            self.rules.push(r);
        }
    }

    /// The routes to the Services selecting a workload (`selecting`; `service` finds one of
    /// the namespace's Services by name): its exposure facts by `<host><path>`. Where two
    /// rules give the same host and path, the later in the set wins.
    pub(crate) fn exposure<'a>(
        &self,
        selecting: &[String],
        service: impl Fn(&str) -> Option<&'a ServiceEntry>,
    ) -> BTreeMap<String, RouteFacts> {
        let mut found: Vec<usize> = selecting
            .iter()
            .filter_map(|s| self.by_service.get(s))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        let mut exposure = BTreeMap::new();
        for r in found.into_iter().map(|i| &self.rules[i]) {
            let port = r.port.as_ref().map(|p| port_number(service(&r.service), p));
            exposure.insert(
                format!("{}{}", r.host, r.path),
                RouteFacts {
                    service: r.service.clone(),
                    port,
                    parent: r.parent.clone(),
                    tls: r.tls.clone(),
                },
            );
        }
        exposure
    }
}

/// The flattened facts of a service's routes.
pub(crate) fn flatten(exposure: &BTreeMap<String, RouteFacts>, m: &mut crate::flat::Entries) {
    for (route, r) in exposure {
        let to = match &r.port {
            Some(p) => format!("{}:{p}", r.service),
            None => r.service.clone(),
        };
        m.insert(Key::Exposure(route.clone()), to);
        m.insert(
            Key::Route(route.clone(), RouteField::Parent),
            r.parent.clone(),
        );
        if let Some(t) = &r.tls {
            m.insert(Key::Route(route.clone(), RouteField::Tls), t.clone());
        }
    }
}

/// A route's parent or TLS that differs between two modes because their profiles serve routes
/// differently (`kubernetes.gateway`, `kubernetes.ingress_class`, `kubernetes.tls`): the profile
/// line that says so, from either side (`(mode, loaded)`).
///
/// A route only one side has (`both` false) whose host is under that side's ingress host,
/// where the two modes' ingress hosts differ, is the host's setting instead.
pub fn setting(
    sides: [(&str, &LoadedMode); 2],
    sources: Option<&Sources>,
    key: &Key,
    both: bool,
) -> Option<(String, Option<String>)> {
    let located = |o: Origin| sources.map(|s| s.file_line(o));
    if !both && let Some((why, o)) = host_setting(sides, key) {
        return Some((why, located(o)));
    }
    let settings: &[&str] = match key {
        Key::Route(_, RouteField::Parent) => &["gateway", "ingress_class"],
        Key::Route(_, RouteField::Tls) => &["tls", "gateway"],
        _ => return None,
    };
    for setting in settings {
        for (mode, loaded) in sides {
            if let Some(n) = loaded.profile_tree.lookup(&["kubernetes", setting]) {
                return Some((
                    format!("set by the {mode} profile (kubernetes.{setting})"),
                    located(n.origin),
                ));
            }
        }
    }
    None
}

/// The ingress host a one-sided route's host is under, when the modes' hosts differ.
fn host_setting(sides: [(&str, &LoadedMode); 2], key: &Key) -> Option<(String, Origin)> {
    let (Key::Exposure(route) | Key::Route(route, _)) = key else {
        return None;
    };
    let host = route.split('/').next().unwrap_or_default();
    let hosts = sides.map(|(_, l)| l.model.environment.ingress_host.clone());
    if hosts[0] == hosts[1] {
        return None;
    }
    sides.iter().zip(&hosts).find_map(|((mode, loaded), h)| {
        let h = h.as_deref()?;
        (host == h || host.strip_suffix(h).is_some_and(|sub| sub.ends_with('.'))).then(|| {
            (
                format!("the {mode} mode's ingress host (environment.ingress_host)"),
                loaded.tree.origin_of(&["environment", "ingress_host"]),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::compare_modes;
    use crate::facts::Facts;

    const WORKLOAD: &str = "
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app.kubernetes.io/name: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: admin, port: 8081, targetPort: admin}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  template:
    metadata: {labels: {app.kubernetes.io/name: web}}
    spec:
      containers:
      - name: web
        image: web:1.0.0
        ports: [{name: http, containerPort: 3000}, {name: admin, containerPort: 3001}]
";

    const INGRESS: &str = "
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
spec:
  ingressClassName: traefik
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
  - host: admin.shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8081}}}}
";

    const HTTP_ROUTES: &str = "
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-http, namespace: shop}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public, namespace: infra, sectionName: https}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-admin, namespace: shop}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public, namespace: infra, sectionName: https}]
  hostnames: [admin.shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 8081}]
";

    fn facts(routes: &str) -> Facts {
        let text = format!("{WORKLOAD}---{routes}");
        let objs: Vec<Y> = crate::docs::parse("set.yaml", &text).expect("yaml");
        crate::k8s::extract_objects("set", &objs, Vec::new())
    }

    /// The differences two sets built from one model show (structural lines aside).
    fn differences(a: &str, b: &str) -> Vec<(String, Option<String>, Option<String>)> {
        compare_modes(&facts(a), &facts(b), &BTreeMap::new())
            .differences
            .into_iter()
            .map(|d| (d.key.to_string(), d.a, d.b))
            .collect()
    }

    fn routes(f: &Facts) -> crate::flat::Flat {
        let mut m = crate::flat::Entries::default();
        flatten(&f.services["web"].exposure, &mut m);
        m.sorted()
    }

    #[test]
    fn an_ingress_and_http_routes_to_the_same_ports_are_the_same_routes() {
        let ingress = routes(&facts(INGRESS));
        let gateway = routes(&facts(HTTP_ROUTES));
        let leads = |m: &crate::flat::Flat| -> Vec<(String, String)> {
            m.iter()
                .filter(|(k, _)| matches!(k, Key::Exposure(_)))
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        // The named port `http` is the Service's port 80, as the HTTPRoute names it.
        assert_eq!(
            leads(&ingress),
            [
                (
                    "exposure.admin.shop.example.com/".to_string(),
                    "web:8081".to_string()
                ),
                (
                    "exposure.shop.example.com/".to_string(),
                    "web:80".to_string()
                ),
            ]
        );
        assert_eq!(leads(&ingress), leads(&gateway));
        assert_eq!(
            ingress
                .get(&Key::Route("shop.example.com/".into(), RouteField::Tls))
                .map(String::as_str)
                .unwrap_or_default(),
            "secret shop-tls, issuer ClusterIssuer/letsencrypt-prod"
        );
        assert!(!ingress.contains_key(&Key::Route(
            "admin.shop.example.com/".into(),
            RouteField::Tls
        )));
        assert_eq!(
            gateway
                .get(&Key::Route("shop.example.com/".into(), RouteField::Parent))
                .map(String::as_str)
                .unwrap_or_default(),
            "gateway infra/public listener https"
        );
        // Between the two, only what serves the routes differs (and the Ingress's TLS, which
        // a route on a Gateway leaves to the Gateway).
        let d = differences(INGRESS, HTTP_ROUTES);
        let keys: Vec<&str> = d.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            keys,
            [
                "exposure.admin.shop.example.com/.parent",
                "exposure.shop.example.com/.parent",
                "exposure.shop.example.com/.tls"
            ],
            "{d:?}"
        );
    }

    #[test]
    fn a_planted_change_of_each_route_fact_is_reported_between_modes() {
        let cases: [(&str, &str, &str, &str); 9] = [
            (
                INGRESS,
                "secretName: shop-tls",
                "secretName: other-tls",
                "exposure.shop.example.com/.tls",
            ),
            (
                INGRESS,
                "tls: [{hosts: [shop.example.com]",
                "tls: [{hosts: [www.shop.example.com]",
                "exposure.shop.example.com/.tls",
            ),
            (
                INGRESS,
                "cert-manager.io/cluster-issuer: letsencrypt-prod",
                "cert-manager.io/issuer: letsencrypt-prod",
                "exposure.shop.example.com/.tls",
            ),
            (
                INGRESS,
                "ingressClassName: traefik",
                "ingressClassName: nginx",
                "exposure.shop.example.com/.parent",
            ),
            (
                INGRESS,
                "port: {number: 8081}",
                "port: {number: 80}",
                "exposure.admin.shop.example.com/",
            ),
            (
                HTTP_ROUTES,
                "name: public, namespace: infra, sectionName: https}]\n  hostnames: [shop",
                "name: internal, namespace: infra, sectionName: https}]\n  hostnames: [shop",
                "exposure.shop.example.com/.parent",
            ),
            (
                HTTP_ROUTES,
                "sectionName: https}]\n  hostnames: [admin",
                "sectionName: http}]\n  hostnames: [admin",
                "exposure.admin.shop.example.com/.parent",
            ),
            (
                HTTP_ROUTES,
                "backendRefs: [{name: web, port: 80}]",
                "backendRefs: [{name: web, port: 8081}]",
                "exposure.shop.example.com/",
            ),
            (
                HTTP_ROUTES,
                "hostnames: [admin.shop.example.com]",
                "hostnames: [admin.example.com]",
                "exposure.admin.example.com/",
            ),
        ];
        for (set, from, to, key) in cases {
            assert!(set.contains(from), "{from}");
            let planted = set.replacen(from, to, 1);
            let d = differences(set, &planted);
            assert!(
                d.iter().any(|x| x.0 == key),
                "{from} -> {to}: expected a difference in {key}, got {d:?}"
            );
        }
    }
}
