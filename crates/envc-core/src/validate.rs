//! Static checks of a loaded mode: names, images, ports, probes, resources, volumes, files,
//! security, autoscaling and quotas. Every problem is collected; none stops the others.

use envc_model::diagnostic::did_you_mean;
use envc_model::load::{LoadedMode, is_dns_label};
use envc_model::model::{
    EnvValue, IngressRoute, Namespace, PodSecurityLevel, Port, Probe, Protocol, SecretRef, Service,
};
use envc_model::profile::Tier;
use envc_model::{Diagnostic, Diagnostics, Origin};

use crate::reference::RESERVED;

/// Context for locating diagnostics in the merged tree.
pub struct At<'a> {
    m: &'a LoadedMode,
}

impl<'a> At<'a> {
    /// Wraps a loaded mode.
    pub fn new(m: &'a LoadedMode) -> Self {
        At { m }
    }

    /// Origin of a value by model path.
    pub fn value<S: AsRef<str>>(&self, path: &[S]) -> Origin {
        self.m.tree.origin_of(path)
    }

    /// Origin of a key by model path.
    pub fn key<S: AsRef<str>>(&self, path: &[S]) -> Origin {
        self.m.tree.key_origin_of(path)
    }
}

/// Runs every static check.
pub fn check(m: &LoadedMode) -> Diagnostics {
    let mut d = Diagnostics::new();
    let at = At::new(m);
    let model = &m.model;

    if model.namespaces.is_empty() {
        d.push(
            Diagnostic::error("E-no-namespaces", "the environment declares no namespaces")
                .at(at.value(&["namespaces"]), "here")
                .hint("add [namespaces.app] with name = \"<env>\""),
        );
    }
    for (key, ns) in &model.namespaces {
        if !is_dns_label(&ns.name) {
            d.push(
                bad_name("namespace", &ns.name).at(at.value(&["namespaces", key, "name"]), "here"),
            );
        }
    }
    for (name, _) in &model.secrets {
        if !is_dns_label(name) {
            d.push(bad_name("secret", name).at(at.key(&["secrets", name]), "here"));
        }
    }
    if let Some(h) = &model.environment.ingress_host
        && !is_dns_name(h)
    {
        d.push(
            Diagnostic::error("E-bad-name", format!("`{h}` is not a valid host name"))
                .at(at.value(&["environment", "ingress_host"]), "here")
                .hint("use lowercase DNS labels separated by dots, such as `app.example.com`"),
        );
    }

    for (name, svc) in &model.services {
        check_service(m, &at, name, svc, &mut d);
    }
    check_cloud(m, &mut d);
    d.extend(crate::limits::check(m));
    d
}

/// The `[cloud]` table of a profile and the managed services of the model: what they name
/// must exist, and only the helm backend deploys them.
fn check_cloud(m: &LoadedMode, d: &mut Diagnostics) {
    let backend = m.profile.profile.backend;
    let pt = &m.profile_tree;
    for (name, svc) in &m.model.services {
        if svc.enabled && svc.external.is_some() && backend != envc_model::profile::Backend::Helm {
            d.push(
                Diagnostic::error(
                    "E-external-backend",
                    format!(
                        "`{name}` is a managed service, which the {} backend cannot express",
                        backend.as_str()
                    ),
                )
                .at(m.tree.origin_of(&["services", name, "external"]), "here")
                .hint("managed services belong to prod profiles with backend = \"helm\""),
            );
        }
        if svc.enabled
            && let Some(e) = &svc.external
        {
            check_managed_host(m, name, e, d);
        }
    }
    let Some(cloud) = &m.profile.cloud else {
        if backend == envc_model::profile::Backend::Helm {
            d.push(
                Diagnostic::error("E-no-cloud", format!("mode `{}` uses the helm backend but has no [cloud] table", m.mode))
                    .at(pt.origin_of(&["profile", "backend"]), "here")
                    .hint("describe the cluster: provider, cluster_name, region, zones, account and node_pools (see docs/prod.md)"),
            );
        }
        return;
    };
    if cloud.zones.is_empty() {
        d.push(
            Diagnostic::error("E-invalid-value", "the cloud needs at least one zone")
                .at(pt.origin_of(&["cloud", "zones"]), "here"),
        );
    }
    if cloud.node_pools.is_empty() {
        d.push(
            Diagnostic::error("E-invalid-value", "the cloud needs at least one node pool")
                .at(pt.origin_of(&["cloud", "node_pools"]), "here"),
        );
    }
    let deployed = |s: &str| {
        m.model
            .services
            .get(s)
            .is_some_and(|x| x.enabled && x.external.is_none())
    };
    let known = || m.model.services.keys().map(String::as_str);
    // Why a name a cloud setting lists is not deployed: left out of this mode, or misspelled.
    let not_deployed_hint = |diag: Diagnostic, s: &str| {
        if m.model.services.contains_key(s) {
            diag.hint(format!(
                "`{s}` is disabled or a managed service (external) in this mode"
            ))
        } else if let Some(x) = did_you_mean(s, known()) {
            diag.hint(format!("did you mean `{x}`?"))
        } else {
            diag
        }
    };
    for (pool, p) in &cloud.node_pools {
        if !is_dns_label(pool) {
            d.push(
                bad_name("node pool", pool)
                    .at(pt.key_origin_of(&["cloud", "node_pools", pool]), "here"),
            );
        }
        for (i, s) in p.services.iter().enumerate() {
            if !deployed(s) {
                let mut diag = Diagnostic::error(
                    "E-unknown-service",
                    format!("node pool `{pool}` lists `{s}`, which this mode does not deploy"),
                )
                .at(
                    pt.origin_of(&["cloud", "node_pools", pool, "services", &i.to_string()]),
                    "here",
                );
                diag = not_deployed_hint(diag, s);
                d.push(diag);
            }
        }
    }
    for s in cloud.identities.keys() {
        if !deployed(s) {
            let mut diag = Diagnostic::error(
                "E-unknown-service",
                format!("cloud identity for `{s}`, which this mode does not deploy"),
            )
            .at(pt.key_origin_of(&["cloud", "identities", s]), "here");
            diag = not_deployed_hint(diag, s);
            d.push(diag);
        }
    }
}

/// A managed endpoint the chart can point a Service at: a DNS name (an `ExternalName`) or an
/// IPv4 address (an EndpointSlice), never a placeholder. Without one, GitOps objects would
/// deploy the placeholder, which never resolves.
fn check_managed_host(
    m: &LoadedMode,
    name: &str,
    e: &envc_model::model::External,
    d: &mut Diagnostics,
) {
    let output = format!("{}_host", name.replace('-', "_"));
    let Some(host) = &e.host else {
        if m.profile.gitops.is_some() {
            d.push(
                Diagnostic::warning(
                    "W-gitops-endpoint",
                    format!("the GitOps objects deploy the placeholder endpoint of `{name}`"),
                )
                .at(m.tree.origin_of(&["services", name, "external"]), "here")
                .hint(format!(
                    "Argo CD and Flux install the committed values as they are: once Terraform \
                     has created the service, set `host` here to its output `{output}` and rebuild"
                )),
            );
        }
        return;
    };
    // The chart takes four dotted numbers for an address (an EndpointSlice), anything else
    // for a name (an ExternalName).
    let dotted = host.split('.').count() == 4
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    let what = if host.ends_with(".invalid") {
        "is a placeholder that never resolves"
    } else if dotted {
        match host.parse::<std::net::Ipv4Addr>() {
            Err(_) => "is not an IPv4 address",
            // Kubernetes refuses these as endpoint addresses.
            Ok(ip) if ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() => {
                "is a loopback, link-local or unspecified address, which an EndpointSlice cannot hold"
            }
            Ok(_) => return,
        }
    } else if is_dns_name(host) {
        return;
    } else {
        "is neither a DNS name nor an IPv4 address"
    };
    d.push(
        Diagnostic::error(
            "E-managed-host",
            format!("managed endpoint `{host}` of `{name}` {what}"),
        )
        .at(
            m.tree.origin_of(&["services", name, "external", "host"]),
            "here",
        )
        .hint(format!(
            "set it to what `terraform output -raw {output}` prints, or remove it and pass the \
             endpoint at deploy time (`--set external.{name}.host=...`)"
        )),
    );
}

fn bad_name(what: &str, name: &str) -> Diagnostic {
    Diagnostic::error("E-bad-name", format!("`{name}` is not a valid {what} name"))
        .hint("use lowercase letters, digits and `-`, starting with a letter and not ending with `-` (at most 63 characters)")
}

/// Whether a string is a DNS name (dot-separated labels).
pub fn is_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Whether a port name is an IANA service name, as Kubernetes requires.
pub fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Whether an env var name is portable (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// How an image is pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// By digest.
    Digest,
    /// By a specific version tag.
    Version,
    /// By a tag that moves (`7-alpine`, `3-latest`).
    Floating,
    /// `latest`, or no tag at all.
    Latest,
}

/// Classifies an image reference.
pub fn image_pin(image: &str) -> Pin {
    if image.contains("@sha256:") {
        return Pin::Digest;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let Some((_, tag)) = last.split_once(':') else {
        return Pin::Latest;
    };
    if tag.is_empty() || tag == "latest" || tag.contains("latest") {
        return Pin::Latest;
    }
    let b = tag.as_bytes();
    let has_minor = b
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit());
    let has_date = tag.as_bytes().windows(10).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
    });
    if has_minor || has_date {
        Pin::Version
    } else {
        Pin::Floating
    }
}

/// Every check of one service; a disabled service is checked for its name only.
fn check_service(m: &LoadedMode, at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    check_service_name(at, name, d);
    if !svc.enabled {
        return;
    }
    let (ns_key, ns) = check_service_namespace(m, at, name, svc, d);
    // A service the mode replaces by a managed one runs no image there.
    if svc.external.is_none() {
        check_image(m, at, name, svc, d);
    }
    check_ports(m, at, name, svc, d);
    check_env(at, name, svc, d);
    check_mounts(at, name, svc, d);
    check_resources(at, name, svc, ns, d);
    check_autoscaling(at, name, svc, d);
    check_probes(at, name, svc, d);
    check_metrics(at, name, svc, d);
    check_api_access(m, at, name, svc, d);
    check_security(at, name, svc, ns_key.as_deref(), ns, d);
}

/// Verbs a grant may name: the API's own, never `*`.
const API_VERBS: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// API access grants name what they allow, explicitly: known verbs, resources, namespaces of
/// the environment; no wildcards (least privilege is the point of a grant).
fn check_api_access(m: &LoadedMode, at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    for (i, a) in svc.api_access.iter().enumerate() {
        let idx = i.to_string();
        let path = |key: &str| service_path(name, &["api_access", &idx, key]);
        for (key, list) in [("resources", &a.resources), ("verbs", &a.verbs)] {
            if list.is_empty() {
                d.push(
                    Diagnostic::error(
                        "E-api-access",
                        format!("an API access grant of `{name}` names no {key}"),
                    )
                    .at(at.value(&service_path(name, &["api_access", &idx])), "here")
                    .hint(format!(
                        "list the {key} the service needs, for example {}",
                        if key == "verbs" {
                            "`[\"get\", \"list\", \"watch\"]`"
                        } else {
                            "`[\"pods\"]`"
                        }
                    )),
                );
            }
            if list.iter().any(|v| v.contains('*')) {
                d.push(
                    Diagnostic::error("E-api-access", format!("`*` in the {key} of an API access grant of `{name}`"))
                        .at(at.value(&path(key)), "a wildcard")
                        .hint(format!("name each of the {key} the service needs: a wildcard grants what nobody reviewed")),
                );
            }
        }
        for v in a
            .verbs
            .iter()
            .filter(|v| !v.contains('*') && !API_VERBS.contains(&v.as_str()))
        {
            d.push(
                Diagnostic::error(
                    "E-api-access",
                    format!("unknown verb `{v}` in an API access grant of `{name}`"),
                )
                .at(at.value(&path("verbs")), "here")
                .hint(format!("verbs are {}", API_VERBS.join(", "))),
            );
        }
        for r in a.resources.iter().filter(|r| !r.contains('*')) {
            let ok = !r.is_empty()
                && r.split('/').all(|part| {
                    !part.is_empty()
                        && part.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                        })
                });
            if !ok {
                d.push(
                    Diagnostic::error("E-api-access", format!("`{r}` is not an API resource name"))
                        .at(at.value(&path("resources")), "here")
                        .hint("resources are plural and lower-case as the API names them (`pods`, `endpoints`, `pods/log`)"),
                );
            }
        }
        if a.cluster && !a.namespaces.is_empty() {
            d.push(
                Diagnostic::error("E-api-access", format!("an API access grant of `{name}` is both cluster-wide and limited to namespaces"))
                    .at(at.value(&path("cluster")), "here")
                    .hint("drop `cluster = true` to grant in the listed namespaces, or `namespaces` to grant everywhere"),
            );
        }
        for ns in a
            .namespaces
            .iter()
            .filter(|k| !m.model.namespaces.contains_key(*k))
        {
            let mut diag = Diagnostic::error(
                "E-api-access",
                format!("unknown namespace `{ns}` in an API access grant of `{name}`"),
            )
            .at(at.value(&path("namespaces")), "here");
            diag = diag.hint(format!(
                "namespaces are named by their keys in [namespaces]: {}",
                m.model
                    .namespaces
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            d.push(diag);
        }
    }
}

/// The model path `services.<name>.<rest>`.
fn service_path(name: &str, rest: &[&str]) -> Vec<String> {
    ["services", name]
        .iter()
        .chain(rest)
        .map(|s| s.to_string())
        .collect()
}

/// Service names are DNS labels short enough for the suffixes Kubernetes objects add, and
/// not words that start other references.
fn check_service_name(at: &At<'_>, name: &str, d: &mut Diagnostics) {
    let base = ["services", name];
    if !is_dns_label(name) || name.len() > 54 {
        d.push(
            Diagnostic::error("E-bad-name", format!("`{name}` is not a valid service name"))
                .at(at.key(&base), "here")
                .hint("use lowercase letters, digits and `-`, starting with a letter, at most 54 characters (Kubernetes adds suffixes such as `-headless`)"),
        );
    }
    if RESERVED.contains(&name) {
        d.push(
            Diagnostic::error(
                "E-bad-name",
                format!("`{name}` is reserved and cannot name a service"),
            )
            .at(at.key(&base), "here")
            .hint(format!(
                "`${{{name}.…}}` references mean something else; rename the service"
            )),
        );
    }
}

/// The namespace a service names must exist; returns its key and the namespace.
fn check_service_namespace<'m>(
    m: &'m LoadedMode,
    at: &At<'_>,
    name: &str,
    svc: &Service,
    d: &mut Diagnostics,
) -> (Option<String>, Option<&'m Namespace>) {
    let model = &m.model;
    let ns_key = svc
        .namespace
        .clone()
        .or_else(|| model.namespaces.keys().next().cloned());
    let ns = ns_key.as_deref().and_then(|k| model.namespaces.get(k));
    if let Some(k) = &svc.namespace
        && ns.is_none()
    {
        let mut diag = Diagnostic::error("E-unknown-namespace", format!("unknown namespace `{k}`"))
            .at(
                at.value(&service_path(name, &["namespace"])),
                "not in [namespaces]",
            );
        diag = match did_you_mean(k, model.namespaces.keys().map(String::as_str)) {
            Some(s) => diag.hint(format!("did you mean `{s}`?")),
            None => diag.hint("namespaces are named by their key in [namespaces]"),
        };
        d.push(diag);
    }
    (ns_key, ns)
}

/// Every service needs an image, pinned (a floating tag is an error in prod tiers).
fn check_image(m: &LoadedMode, at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    let base = ["services", name];
    match &svc.image {
        None => d.push(
            Diagnostic::error("E-missing-image", format!("service `{name}` has no image"))
                .at(at.key(&base), "here")
                .hint("set `image = \"repo:version\"`; with `build`, the image names the tag given to the built image"),
        ),
        Some(img) => check_image_ref(m, at.value(&service_path(name, &["image"])), img, d),
    }
}

/// An image reference: pinned (in prod tiers, to a full version or digest) and well formed.
pub(crate) fn check_image_ref(m: &LoadedMode, o: Origin, img: &str, d: &mut Diagnostics) {
    match image_pin(img) {
        Pin::Latest => d.push(
            Diagnostic::error("E-unpinned-image", format!("image `{img}` is not pinned"))
                .at(o, "`latest` or no tag")
                .hint("pin a specific version tag or a digest, such as `postgres:17.11-alpine` or `repo@sha256:…`"),
        ),
        Pin::Floating => {
            let diag = Diagnostic::warning("W-floating-tag", format!("image tag of `{img}` moves between releases"))
                .at(o, "floating tag")
                .hint("pin a full version (`7.4.11-alpine`) or a digest so every mode runs the same bits");
            if m.profile.profile.tier == Tier::Prod {
                let message = format!("image tag of `{img}` moves between releases, and prod mode `{}` deploys it", m.mode);
                d.push(Diagnostic { severity: envc_model::Severity::Error, code: "E-unpinned-image", message, ..diag });
            } else {
                d.push(diag);
            }
        }
        Pin::Version | Pin::Digest => {}
    }
    if let Some(why) = crate::limits::image_problem(img) {
        d.push(
            Diagnostic::error("E-bad-image", format!("`{img}` is not an image reference: {why}"))
                .at(o, "here")
                .hint("write `[registry/]repository[:tag][@sha256:<64 hex>]`, such as `redis:7.4.11-alpine` or `ghcr.io/org/app@sha256:…`"),
        );
    }
}

/// Port names and numbers, collisions inside the service, NodePort range, ingress routes.
fn check_ports(m: &LoadedMode, at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    let mut seen_container: Vec<(u16, Protocol, &str)> = Vec::new();
    let mut seen_service: Vec<(u16, Protocol, &str)> = Vec::new();
    for (pname, port) in &svc.ports {
        let pp = |k: &str| service_path(name, &["ports", pname, k]);
        if !is_port_name(pname) {
            d.push(
                Diagnostic::error("E-bad-name", format!("`{pname}` is not a valid port name"))
                    .at(at.key(&service_path(name, &["ports", pname])), "here")
                    .hint("port names have at most 15 characters: lowercase letters, digits and single `-`, with at least one letter"),
            );
        }
        if port.container == 0 {
            d.push(
                Diagnostic::error("E-bad-port", "port 0 is not a port")
                    .at(at.value(&pp("container")), "here"),
            );
        }
        if let Some((_, _, other)) = seen_container
            .iter()
            .find(|(c, pr, _)| *c == port.container && *pr == port.protocol)
        {
            d.push(
                Diagnostic::error(
                    "E-port-collision",
                    format!(
                        "ports `{other}` and `{pname}` both use container port {}",
                        port.container
                    ),
                )
                .at(at.value(&pp("container")), "second use")
                .also(
                    at.value(&service_path(name, &["ports", other, "container"])),
                    "first use",
                )
                .hint("give each port its own number, or merge them"),
            );
        }
        seen_container.push((port.container, port.protocol, pname));
        let sp = port.service.unwrap_or(port.container);
        if let Some((_, _, other)) = seen_service
            .iter()
            .find(|(c, pr, _)| *c == sp && *pr == port.protocol)
        {
            d.push(
                Diagnostic::error(
                    "E-port-collision",
                    format!("ports `{other}` and `{pname}` both use service port {sp}"),
                )
                .at(
                    at.value(&pp(if port.service.is_some() {
                        "service"
                    } else {
                        "container"
                    })),
                    "second use",
                )
                .hint("set `service = <port>` to a free number"),
            );
        }
        seen_service.push((sp, port.protocol, pname));
        if let Some(np) = port.node_port {
            let [lo, hi] = m.profile.kubernetes.node_port_range;
            let backend = m.profile.profile.backend;
            // `node_ports = false` in a Kubernetes profile is a documented choice (ClusterIP
            // Services, the numbers kept for the modes that expose them); Compose has no
            // NodePorts at all, so the number would be dropped without a word.
            if backend == envc_model::profile::Backend::Compose {
                let why =
                    "Compose has no NodePorts; it publishes ports on the host with `host_port`";
                d.push(
                    Diagnostic::warning(
                        "W-node-port-ignored",
                        format!("node port {np} of `{name}` is not used in mode `{}`: {why}", m.mode),
                    )
                    .at(at.value(&pp("node_port")), "ignored here")
                    .hint(format!("set `node_port` in the profiles of the Kubernetes modes (`[services.{name}.ports.{pname}]` there), and `host_port` in this one to reach the port from the host")),
                );
            } else if np < lo || np > hi {
                d.push(
                    Diagnostic::error(
                        "E-node-port-range",
                        format!("node port {np} is outside the cluster's range {lo}-{hi}"),
                    )
                    .at(at.value(&pp("node_port")), "here")
                    .hint(format!("pick a port between {lo} and {hi}")),
                );
            }
        }
        if let Some(ing) = &port.ingress {
            check_ingress(m, at, name, pname, port, ing, d);
        }
    }
}

/// An ingress route needs the environment's ingress host, a TCP port, an absolute path and a
/// valid sub-domain.
fn check_ingress(
    m: &LoadedMode,
    at: &At<'_>,
    name: &str,
    pname: &str,
    port: &Port,
    ing: &IngressRoute,
    d: &mut Diagnostics,
) {
    let pp = |k: &str| service_path(name, &["ports", pname, k]);
    if m.model.environment.ingress_host.is_none() {
        d.push(
            Diagnostic::error("E-no-ingress-host", format!("port `{pname}` of `{name}` has an ingress route but the environment has no ingress host"))
                .at(at.value(&pp("ingress")), "here")
                .hint("set `ingress_host` in [environment]"),
        );
    }
    if port.protocol == Protocol::Udp {
        d.push(
            Diagnostic::error(
                "E-bad-ingress",
                "ingress routes HTTP, which needs a TCP port",
            )
            .at(at.value(&pp("ingress")), "here"),
        );
    }
    if !ing.path.starts_with('/') {
        d.push(
            Diagnostic::error(
                "E-bad-ingress",
                format!("ingress path `{}` must start with `/`", ing.path),
            )
            .at(
                at.value(&service_path(name, &["ports", pname, "ingress", "path"])),
                "here",
            ),
        );
    }
    if let Some(sd) = &ing.subdomain
        && !is_dns_label(sd)
    {
        d.push(bad_name("sub-domain", sd).at(
            at.value(&service_path(
                name,
                &["ports", pname, "ingress", "subdomain"],
            )),
            "here",
        ));
    }
}

/// Env names, including the file variables of secrets (`file_env`).
fn check_env(at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    for (k, v) in &svc.env {
        if !is_env_name(k) {
            d.push(
                Diagnostic::error(
                    "E-bad-name",
                    format!("`{k}` is not a portable environment variable name"),
                )
                .at(at.key(&service_path(name, &["env", k])), "here")
                .hint("use letters, digits and `_`, not starting with a digit"),
            );
        }
        if let EnvValue::Secret(SecretRef {
            file_env: Some(f), ..
        }) = v
            && (!is_env_name(f) || svc.env.contains_key(f))
        {
            let why = if is_env_name(f) {
                "is also set directly: the image would see both"
            } else {
                "is not a portable environment variable name"
            };
            d.push(
                Diagnostic::error("E-bad-name", format!("file_env `{f}` of `{k}` {why}"))
                    .at(at.value(&service_path(name, &["env", k, "file_env"])), "here")
                    .hint("name the variable the image reads a file path from, such as `POSTGRES_PASSWORD_FILE`"),
            );
        }
    }
}

/// Files and volumes: names, absolute paths, no two mounts at one path, no persistent volume
/// shared by the replicas of a Deployment.
fn check_mounts(at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    let mut paths: Vec<(&str, Vec<String>)> = Vec::new();
    for (fname, f) in &svc.files {
        let fp = service_path(name, &["files", fname]);
        if !is_dns_label(fname) {
            d.push(bad_name("file", fname).at(at.key(&fp), "here"));
        }
        match (&f.template, &f.content) {
            (Some(_), Some(_)) | (None, None) => d.push(
                Diagnostic::error("E-bad-file", format!("file `{fname}` needs exactly one of `template` and `content`"))
                    .at(at.key(&fp), "here")
                    .hint("`template = \"<path>.hbs\"` renders a Handlebars template per mode; `content = \"...\"` is literal"),
            ),
            _ => {}
        }
        if !f.path.starts_with('/') {
            d.push(
                Diagnostic::error(
                    "E-bad-path",
                    format!("file path `{}` must be absolute", f.path),
                )
                .at(
                    at.value(&service_path(name, &["files", fname, "path"])),
                    "here",
                ),
            );
        }
        paths.push((
            f.path.as_str(),
            service_path(name, &["files", fname, "path"]),
        ));
    }
    for (vname, v) in &svc.volumes {
        let vp = service_path(name, &["volumes", vname]);
        if !is_dns_label(vname) {
            d.push(bad_name("volume", vname).at(at.key(&vp), "here"));
        }
        if !v.path.starts_with('/') {
            d.push(
                Diagnostic::error(
                    "E-bad-path",
                    format!("volume path `{}` must be absolute", v.path),
                )
                .at(
                    at.value(&service_path(name, &["volumes", vname, "path"])),
                    "here",
                ),
            );
        }
        if v.persistent && v.size.is_none() && v.volume.is_none() && v.source.is_none() {
            d.push(
                Diagnostic::error(
                    "E-volume-size",
                    format!("persistent volume `{vname}` of `{name}` has no size"),
                )
                .at(at.key(&vp), "here")
                .hint("set `size = \"10Gi\"`, or `persistent = false` for scratch space"),
            );
        }
        paths.push((
            v.path.as_str(),
            service_path(name, &["volumes", vname, "path"]),
        ));
    }
    for (i, (a, ap)) in paths.iter().enumerate() {
        if let Some((_, bp)) = paths[..i].iter().find(|(b, _)| b == a) {
            d.push(
                Diagnostic::error(
                    "E-path-collision",
                    format!("two mounts of `{name}` use the path `{a}`"),
                )
                .at(at.value(ap), "second")
                .also(at.value(bp), "first"),
            );
        }
    }
    let persistent = svc
        .volumes
        .values()
        .any(|v| v.persistent && v.volume.is_none() && v.source.is_none());
    let replicas = svc
        .autoscaling
        .as_ref()
        .map_or(svc.replicas.unwrap_or(1), |a| a.max);
    if persistent
        && svc.workload == Some(envc_model::model::WorkloadKind::Deployment)
        && replicas > 1
    {
        d.push(
            Diagnostic::error("E-shared-volume", format!("`{name}` is a Deployment with a persistent volume and up to {replicas} replicas"))
                .at(at.value(&service_path(name, &["workload"])), "here")
                .hint("replicas of a Deployment share one ReadWriteOnce claim; use `workload = \"statefulset\"` for a volume per replica"),
        );
    }
}

/// Requests within limits, and what a namespace quota requires to be set.
fn check_resources(
    at: &At<'_>,
    name: &str,
    svc: &Service,
    ns: Option<&Namespace>,
    d: &mut Diagnostics,
) {
    let base = ["services", name];
    let r = &svc.resources;
    if let (Some(req), Some(lim)) = (&r.requests.cpu, &r.limits.cpu)
        && req.millis > lim.millis
    {
        d.push(
            Diagnostic::error(
                "E-request-above-limit",
                format!("CPU request {req} of `{name}` is above its limit {lim}"),
            )
            .at(
                at.value(&service_path(name, &["resources", "requests", "cpu"])),
                "request",
            )
            .also(
                at.value(&service_path(name, &["resources", "limits", "cpu"])),
                "limit",
            )
            .hint("a request cannot exceed the limit: lower the request or raise the limit"),
        );
    }
    if let (Some(req), Some(lim)) = (&r.requests.memory, &r.limits.memory)
        && req.bytes > lim.bytes
    {
        d.push(
            Diagnostic::error(
                "E-request-above-limit",
                format!("memory request {req} of `{name}` is above its limit {lim}"),
            )
            .at(
                at.value(&service_path(name, &["resources", "requests", "memory"])),
                "request",
            )
            .also(
                at.value(&service_path(name, &["resources", "limits", "memory"])),
                "limit",
            )
            .hint("a request cannot exceed the limit: lower the request or raise the limit"),
        );
    }
    if let Some(q) = ns.and_then(|n| n.quota.as_ref()) {
        let need = [
            (
                q.limits_cpu.is_some() && r.limits.cpu.is_none(),
                "limits.cpu",
            ),
            (
                q.limits_memory.is_some() && r.limits.memory.is_none(),
                "limits.memory",
            ),
            (
                q.requests_cpu.is_some() && r.requests.cpu.is_none() && r.limits.cpu.is_none(),
                "requests.cpu",
            ),
            (
                q.requests_memory.is_some()
                    && r.requests.memory.is_none()
                    && r.limits.memory.is_none(),
                "requests.memory",
            ),
        ];
        for (missing, what) in need {
            if missing {
                d.push(
                    Diagnostic::error("E-missing-resources", format!("`{name}` sets no {what}, but its namespace has a quota on it"))
                        .at(at.key(&base), "here")
                        .hint(format!("Kubernetes rejects pods without {what} in a namespace whose ResourceQuota limits it: set resources.{what}")),
                );
            }
        }
    }
}

/// Autoscaling bounds and targets, and the replicas it overrides.
fn check_autoscaling(at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    let r = &svc.resources;
    if let Some(a) = &svc.autoscaling {
        let ap = service_path(name, &["autoscaling"]);
        if a.min == 0 || a.min > a.max {
            d.push(
                Diagnostic::error(
                    "E-bad-autoscaling",
                    format!(
                        "autoscaling of `{name}` needs 1 <= min <= max (min {}, max {})",
                        a.min, a.max
                    ),
                )
                .at(at.value(&ap), "here"),
            );
        }
        if a.cpu.is_none() && a.memory.is_none() {
            d.push(
                Diagnostic::error(
                    "E-bad-autoscaling",
                    format!("autoscaling of `{name}` has no target"),
                )
                .at(at.value(&ap), "here")
                .hint("set `cpu = 70` and/or `memory = 80` (percent of requests)"),
            );
        }
        for (t, k, req) in [
            (a.cpu, "cpu", r.requests.cpu.is_some()),
            (a.memory, "memory", r.requests.memory.is_some()),
        ] {
            if let Some(v) = t {
                if v == 0 || v > 100 {
                    d.push(
                        Diagnostic::error(
                            "E-bad-autoscaling",
                            format!("{k} target {v}% is not between 1 and 100"),
                        )
                        .at(at.value(&service_path(name, &["autoscaling", k])), "here"),
                    );
                }
                if !req {
                    d.push(
                        Diagnostic::error(
                            "E-bad-autoscaling",
                            format!("`{name}` autoscales on {k} but requests no {k}"),
                        )
                        .at(at.value(&service_path(name, &["autoscaling", k])), "here")
                        .hint(format!(
                            "utilisation is a percentage of the request: set resources.requests.{k}"
                        )),
                    );
                }
            }
        }
        if svc.replicas.is_some() {
            d.push(
                Diagnostic::warning(
                    "W-replicas-ignored",
                    format!("`{name}` sets both replicas and autoscaling; replicas is ignored"),
                )
                .at(at.value(&service_path(name, &["replicas"])), "ignored")
                .hint("remove `replicas`: the autoscaling minimum is the starting count"),
            );
        }
    } else if svc.replicas == Some(0) {
        d.push(
            Diagnostic::warning("W-zero-replicas", format!("`{name}` has 0 replicas"))
                .at(at.value(&service_path(name, &["replicas"])), "here")
                .hint("set `enabled = false` to leave a service out of a mode"),
        );
    }
}

/// Liveness, readiness and startup probes, each that is set.
fn check_probes(at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    for (kind, probe) in [
        ("liveness", &svc.probes.liveness),
        ("readiness", &svc.probes.readiness),
        ("startup", &svc.probes.startup),
    ] {
        if let Some(pr) = probe {
            check_probe(at, name, svc, kind, pr, d);
        }
    }
}

/// The metrics port must exist and the path be absolute.
fn check_metrics(at: &At<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    if let Some(mt) = &svc.metrics {
        if !svc.ports.contains_key(&mt.port) {
            d.push(unknown_port(name, svc, &mt.port).at(
                at.value(&service_path(name, &["metrics", "port"])),
                "no such port",
            ));
        }
        if !mt.path.starts_with('/') {
            d.push(
                Diagnostic::error(
                    "E-bad-path",
                    format!("metrics path `{}` must start with `/`", mt.path),
                )
                .at(at.value(&service_path(name, &["metrics", "path"])), "here"),
            );
        }
    }
}

/// Security settings that contradict each other or the namespace's Pod Security level.
fn check_security(
    at: &At<'_>,
    name: &str,
    svc: &Service,
    ns_key: Option<&str>,
    ns: Option<&Namespace>,
    d: &mut Diagnostics,
) {
    let sec = &svc.security;
    if sec.run_as_non_root && sec.run_as_user == Some(0) {
        d.push(
            Diagnostic::error("E-bad-security", format!("`{name}` runs as user 0 but requires a non-root user"))
                .at(at.value(&service_path(name, &["security", "run_as_user"])), "root")
                .hint("pick a non-zero uid, or set `run_as_non_root = false` (not allowed in restricted namespaces)"),
        );
    }
    if let Some(ns) = ns
        && ns.pod_security == PodSecurityLevel::Restricted
    {
        let ns_key = ns_key.unwrap_or_default();
        let mut violations = Vec::new();
        if !sec.run_as_non_root {
            violations.push(("run_as_non_root", "must be true"));
        }
        if sec.allow_privilege_escalation {
            violations.push(("allow_privilege_escalation", "must be false"));
        }
        if sec.capabilities_add.iter().any(|c| c != "NET_BIND_SERVICE") {
            violations.push(("capabilities_add", "may only hold NET_BIND_SERVICE"));
        }
        for (k, why) in violations {
            d.push(
                Diagnostic::error("E-pod-security", format!("`{name}` violates the restricted Pod Security level of namespace `{ns_key}`: security.{k} {why}"))
                    .at(at.value(&service_path(name, &["security", k])), "here")
                    .hint(format!("fix the setting, or lower [namespaces.{ns_key}] pod_security to \"baseline\"")),
            );
        }
    }
}

/// The error for a port name a service does not have.
pub fn unknown_port(name: &str, svc: &Service, port: &str) -> Diagnostic {
    let mut diag = Diagnostic::error(
        "E-unknown-port",
        format!("service `{name}` has no port `{port}`"),
    );
    diag = match did_you_mean(port, svc.ports.keys().map(String::as_str)) {
        Some(s) => diag.hint(format!("did you mean `{s}`?")),
        None if svc.ports.is_empty() => diag.hint(format!("`{name}` declares no ports")),
        None => diag.hint(format!(
            "its ports are: {}",
            svc.ports
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    diag
}

/// One probe: its action, then its thresholds and timing.
fn check_probe(
    at: &At<'_>,
    name: &str,
    svc: &Service,
    kind: &'static str,
    pr: &Probe,
    d: &mut Diagnostics,
) {
    check_probe_action(at, name, svc, kind, pr, d);
    check_probe_timing(at, name, kind, pr, d);
}

/// Exactly one action, on a TCP port the service has, with an absolute path or a command.
fn check_probe_action(
    at: &At<'_>,
    name: &str,
    svc: &Service,
    kind: &'static str,
    pr: &Probe,
    d: &mut Diagnostics,
) {
    let path = ["services", name, "probes", kind];
    let sub = |k: &str| -> Vec<String> { path.iter().chain([&k]).map(|s| s.to_string()).collect() };
    let actions = [
        pr.http.is_some(),
        pr.tcp.is_some(),
        pr.exec.is_some(),
        pr.grpc.is_some(),
    ];
    if actions.iter().filter(|a| **a).count() != 1 {
        d.push(
            Diagnostic::error(
                "E-bad-probe",
                format!(
                    "{kind} probe of `{name}` needs exactly one of `http`, `tcp`, `exec`, `grpc`"
                ),
            )
            .at(at.value(&path), "here")
            .hint("for example `http = { port = \"api\", path = \"/health\" }`"),
        );
    }
    let port = pr
        .http
        .as_ref()
        .map(|h| (h.port.as_str(), "http"))
        .or(pr.tcp.as_ref().map(|t| (t.port.as_str(), "tcp")))
        .or(pr.grpc.as_ref().map(|t| (t.port.as_str(), "grpc")));
    if let Some((port, action)) = port {
        match svc.ports.get(port) {
            None => d.push(unknown_port(name, svc, port).at(
                at.value(&[sub(action), vec!["port".to_string()]].concat()),
                "no such port",
            )),
            Some(p) if p.protocol == Protocol::Udp => d.push(
                Diagnostic::error(
                    "E-bad-probe",
                    format!("{kind} probe of `{name}` checks UDP port `{port}`"),
                )
                .at(
                    at.value(&[sub(action), vec!["port".to_string()]].concat()),
                    "UDP",
                )
                .hint("probes connect over TCP: probe a TCP port"),
            ),
            Some(_) => {}
        }
    }
    if let Some(h) = &pr.http
        && !h.path.starts_with('/')
    {
        d.push(
            Diagnostic::error(
                "E-bad-probe",
                format!("probe path `{}` must start with `/`", h.path),
            )
            .at(
                at.value(&[sub("http"), vec!["path".to_string()]].concat()),
                "here",
            ),
        );
    }
    if let Some(e) = &pr.exec
        && e.command.is_empty()
    {
        d.push(
            Diagnostic::error("E-bad-probe", "exec probe has an empty command")
                .at(at.value(&sub("exec")), "here"),
        );
    }
}

/// Thresholds Kubernetes accepts, and a timeout that fits in the period.
fn check_probe_timing(
    at: &At<'_>,
    name: &str,
    kind: &'static str,
    pr: &Probe,
    d: &mut Diagnostics,
) {
    let path = ["services", name, "probes", kind];
    let sub = |k: &str| -> Vec<String> { path.iter().chain([&k]).map(|s| s.to_string()).collect() };
    if kind != "readiness"
        && let Some(s) = pr.success_threshold
        && s != 1
    {
        d.push(
            Diagnostic::error(
                "E-bad-probe",
                format!("{kind} probes need success_threshold = 1 (found {s})"),
            )
            .at(at.value(&sub("success_threshold")), "here")
            .hint("Kubernetes rejects any other value for liveness and startup probes"),
        );
    }
    if let (Some(t), Some(p)) = (pr.timeout, pr.period)
        && t.seconds > p.seconds
    {
        d.push(
            Diagnostic::warning(
                "W-probe-timing",
                format!(
                    "{kind} probe of `{name}` has a timeout ({t}) longer than its period ({p})"
                ),
            )
            .at(at.value(&sub("timeout")), "here")
            .hint("checks would overlap: make the timeout shorter than the period"),
        );
    }
    for (k, v) in [
        ("failure_threshold", pr.failure_threshold),
        ("success_threshold", pr.success_threshold),
    ] {
        if v == Some(0) {
            d.push(
                Diagnostic::error("E-bad-probe", format!("{k} must be at least 1"))
                    .at(at.value(&sub(k)), "here"),
            );
        }
    }
    for (k, v) in [("period", pr.period), ("timeout", pr.timeout)] {
        if v.is_some_and(|x| x.seconds == 0) {
            d.push(
                Diagnostic::error("E-bad-probe", format!("{k} must be at least 1s"))
                    .at(at.value(&sub(k)), "here"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_image_pins() {
        assert_eq!(image_pin("postgres:17.11-alpine"), Pin::Version);
        assert_eq!(
            image_pin("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"),
            Pin::Version
        );
        assert_eq!(image_pin("redis:7-alpine"), Pin::Floating);
        assert_eq!(image_pin("prefecthq/prefect:3-latest"), Pin::Latest);
        assert_eq!(image_pin("grafana/grafana"), Pin::Latest);
        assert_eq!(image_pin("localhost:5000/x"), Pin::Latest);
        assert_eq!(image_pin("localhost:5000/x:1.2.3"), Pin::Version);
        assert_eq!(image_pin("x@sha256:abc"), Pin::Digest);
    }

    #[test]
    fn names() {
        assert!(is_port_name("otlp-grpc"));
        assert!(!is_port_name("a-very-long-port-name"));
        assert!(!is_port_name("1234"));
        assert!(is_env_name("AWS_ENDPOINT_URL"));
        assert!(!is_env_name("9X"));
        assert!(is_dns_name("crypto-lakehouse.local"));
        assert!(!is_dns_name("Crypto.local"));
    }
}
