//! Phase one of resolution: every reference is checked against the scope, and the edges of
//! the dependency graph are collected: from references (env, command, args), from
//! `depends_on`, and from the services a template mentions.

use std::collections::BTreeSet;

use envc_model::model::{self, EnvValue as ModelEnv};
use envc_model::{Diagnostic, Diagnostics, NodeValue, Origin, Project, Span, asset::Assets};

use crate::graph::{Edge, EdgeKind};
use crate::reference::{Attribute, Malformed, Piece, RESERVED, Reference, Subject};
use crate::scope::{Scope, Site, Text, disabled_service, unknown_secret, unknown_service};
use crate::{template, validate};

/// What the phase found.
pub(crate) struct Edges {
    /// Every edge, in the order found: references, then declared dependencies, then
    /// templates.
    pub edges: Vec<Edge>,
    /// Services whose templates iterate `scrape_targets`: clients of every metrics port.
    pub scrapers: BTreeSet<String>,
}

/// Checks references and collects the edges; errors go to `d`.
pub(crate) fn collect(
    project: &Project,
    scope: &Scope<'_>,
    assets: &Assets,
    d: &mut Diagnostics,
) -> Edges {
    let mut edges = references(project, scope, d);
    edges.extend(declared(scope, d));
    let (from_templates, scrapers) = templates(project, scope, assets);
    edges.extend(from_templates);
    Edges { edges, scrapers }
}

/// The origin of bytes `offset..offset+len` of a string value whose node is at `origin`:
/// exact when the source spells the string plainly, else the whole string.
pub(crate) fn sub_origin(
    project: &Project,
    origin: Origin,
    value: &str,
    offset: usize,
    len: usize,
) -> Origin {
    let src = project.sources.get(origin.file);
    if let Some(text) = src.slice(origin.span) {
        let inner = text.get(1..text.len().saturating_sub(1));
        if text.len() >= 2 && inner == Some(value) {
            let start = origin.span.start + 1 + offset;
            return Origin {
                file: origin.file,
                span: Span::new(start, start + len),
                via: origin.via,
            };
        }
    }
    origin
}

/// Edges from `${...}` references; parse and check errors of every reference.
fn references(project: &Project, scope: &Scope<'_>, d: &mut Diagnostics) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (name, target) in &scope.targets {
        for text in target.texts() {
            reference_edges(project, scope, name, text, &mut edges, d);
        }
    }
    edges
}

/// The edges and errors of one string's references.
fn reference_edges(
    project: &Project,
    scope: &Scope<'_>,
    name: &str,
    text: &Text<'_>,
    edges: &mut Vec<Edge>,
    d: &mut Diagnostics,
) {
    // A plain string (most are) has no edge and no error: its path and origin are not needed.
    if text
        .pieces
        .as_ref()
        .is_ok_and(|p| !p.iter().any(|piece| matches!(piece, Piece::Ref { .. })))
    {
        return;
    }
    let path = text.path(name);
    let origin = scope.m.tree.origin_of(&path);
    let pieces = match &text.pieces {
        Ok(p) => p,
        Err(e) => {
            d.push(
                Diagnostic::error("E-bad-reference", e.message.clone())
                    .at(sub_origin(project, origin, text.text, e.offset, 2), "here")
                    .path(path.join(".")),
            );
            return;
        }
    };
    for piece in pieces {
        let Piece::Ref {
            path: rp,
            reference,
            offset,
            len,
        } = piece
        else {
            continue;
        };
        let o = sub_origin(project, origin, text.text, *offset, *len);
        match check(scope, name, rp, reference, text.site) {
            Ok(Some((to, port))) if to != name => edges.push(Edge {
                from: name.to_string(),
                to,
                kind: EdgeKind::Reference { port },
                origin: o,
            }),
            Ok(_) => {}
            Err(_)
                if rp.len() == 1
                    && !scope.m.model.services.contains_key(&rp[0])
                    && !RESERVED.contains(&rp[0].as_str()) =>
            {
                // `${HOSTNAME}`: a shell or Compose variable, not a reference.
                let var = &rp[0];
                d.push(
                    Diagnostic::error(
                        "E-bad-reference",
                        format!("`${{{var}}}` is not a reference: references name a service or a secret and what of it"),
                    )
                    .at(o, "here")
                    .path(path.join("."))
                    .hint(format!("for a literal `${{{var}}}` (a variable the container's shell expands), write `$${{{var}}}`")),
                );
            }
            Err(diag) => d.push(diag.at(o, "here").path(path.join("."))),
        }
    }
}

/// Checks one reference against the scope. Returns the service it points at (for a graph
/// edge) and the port it names, if any.
fn check(
    scope: &Scope<'_>,
    owner: &str,
    path: &[String],
    reference: &Result<Reference, Malformed>,
    site: Site,
) -> Result<Option<(String, Option<String>)>, Diagnostic> {
    let model = &scope.m.model;
    let unknown = |hint: &str| {
        Diagnostic::error(
            "E-bad-reference",
            format!("unknown reference `${{{}}}`", path.join(".")),
        )
        .hint(hint)
    };
    match reference {
        Ok(Reference::Secret(_)) | Err(Malformed::Secret) if site != Site::Env => {
            Err(Diagnostic::error(
                "E-secret-in-args",
                "secrets cannot appear in command or args, where anyone who can read the pod spec sees them",
            )
            .hint("pass the secret in an env variable and read it from there"))
        }
        Err(Malformed::Secret) => Err(Diagnostic::error(
            "E-bad-reference",
            "a secret reference is `${secret.<name>}`",
        )),
        Ok(Reference::Secret(name)) if !model.secrets.contains_key(name) => {
            Err(unknown_secret(model, name))
        }
        Ok(Reference::IngressHost) if model.environment.ingress_host.is_none() =>
        {
            Err(
                Diagnostic::error("E-bad-reference", "the environment has no ingress_host")
                    .hint("set ingress_host in [environment]"),
            )
        }
        Err(Malformed::Environment) => Err(unknown(
            "environment references are ${environment.name}, ${environment.ingress_host} and ${environment.ingress_scheme}",
        )),
        Err(Malformed::Mode) => {
            Err(unknown("mode references are ${mode.name}, ${mode.tier} and ${mode.backend}"))
        }
        Ok(Reference::Namespace(key)) if model.namespaces.contains_key(key) => Ok(None),
        Ok(Reference::Namespace(_)) | Err(Malformed::Namespace) => Err(unknown(
            "namespace references are ${namespace.<key>} with a key of [namespaces]",
        )),
        Ok(Reference::Service { service, attribute }) => {
            let (name, svc) = referenced_service(scope, owner, service)?;
            check_attribute(name, svc, attribute, &field(path))
        }
        Err(Malformed::Service(service)) => {
            referenced_service(scope, owner, service)?;
            Err(unknown(
                "service references are ${<service>.host}, ${<service>.port[.<port>]}, ${<service>.address[.<port>]}, ${<service>.env.<NAME>} and ${<service>.name}",
            ))
        }
        Ok(
            Reference::Secret(_)
            | Reference::EnvironmentName
            | Reference::IngressHost
            | Reference::IngressScheme
            | Reference::Mode(_),
        ) => Ok(None),
    }
}

/// The second segment of a path (`port` or `address`), for hints that repeat it.
fn field(path: &[String]) -> String {
    path.get(1).cloned().unwrap_or_else(|| "port".to_string())
}

/// The service a reference names, which must exist and be enabled.
fn referenced_service<'s>(
    scope: &'s Scope<'_>,
    owner: &'s str,
    service: &'s Subject,
) -> Result<(&'s str, &'s model::Service), Diagnostic> {
    let name = service.name(owner);
    match scope.m.model.services.get(name) {
        None => Err(unknown_service(&scope.m.model, name)),
        Some(s) if !s.enabled => Err(disabled_service(scope.m, name)),
        Some(s) => Ok((name, s)),
    }
}

/// Checks what a reference reads from an existing, enabled service.
fn check_attribute(
    name: &str,
    svc: &model::Service,
    attribute: &Attribute,
    field: &str,
) -> Result<Option<(String, Option<String>)>, Diagnostic> {
    let edge = |port: Option<String>| Ok(Some((name.to_string(), port)));
    match attribute {
        Attribute::Host | Attribute::Name => edge(None),
        Attribute::Port(None) | Attribute::Address(None) => {
            if svc.ports.len() != 1 {
                return Err(Diagnostic::error(
                    "E-bad-reference",
                    format!("`{name}` has {} ports: name one", svc.ports.len()),
                )
                .hint(format!("write ${{{name}.{field}.<port>}}")));
            }
            edge(svc.ports.keys().next().cloned())
        }
        Attribute::Port(Some(p)) | Attribute::Address(Some(p)) => {
            if !svc.ports.contains_key(p) {
                return Err(validate::unknown_port(name, svc, p));
            }
            edge(Some(p.clone()))
        }
        Attribute::Env(k) => match svc.env.get(k) {
            None => Err(Diagnostic::error(
                "E-bad-reference",
                format!("service `{name}` has no env variable `{k}`"),
            )),
            Some(ModelEnv::Secret(_)) => Err(Diagnostic::error(
                "E-bad-reference",
                format!("`{name}.env.{k}` comes from a secret"),
            )
            .hint("reference the secret itself with ${secret.<name>}")),
            Some(ModelEnv::Text(_)) => edge(None),
        },
    }
}

/// Edges from `depends_on`; errors for dependencies on itself, unknown or disabled services.
fn declared(scope: &Scope<'_>, d: &mut Diagnostics) -> Vec<Edge> {
    let m = scope.m;
    let mut edges = Vec::new();
    for (name, target) in &scope.targets {
        for dep in target.svc.depends_on.0.keys() {
            let o = dependency_origin(scope, name, dep);
            if dep == name {
                d.push(
                    Diagnostic::error("E-cycle", format!("`{name}` depends on itself"))
                        .at(o, "here")
                        .hint("remove it from depends_on"),
                );
                continue;
            }
            match m.model.services.get(dep) {
                None => d.push(unknown_service(&m.model, dep).at(o, "no such service")),
                Some(s) if !s.enabled => {
                    d.push(disabled_service(m, dep).at(o, "disabled in this mode"))
                }
                Some(_) => edges.push(Edge {
                    from: name.to_string(),
                    to: dep.clone(),
                    kind: EdgeKind::Declared,
                    origin: o,
                }),
            }
        }
    }
    edges
}

/// Where `name` lists `dep`: the key in the table form, the element in the array form.
fn dependency_origin(scope: &Scope<'_>, name: &str, dep: &str) -> Origin {
    let tree = &scope.m.tree;
    let dep_path = ["services", name, "depends_on", dep];
    let o = tree.origin_of(&dep_path);
    if tree.lookup(&dep_path).is_some() {
        return tree.key_origin_of(&dep_path);
    }
    tree.lookup(&["services", name, "depends_on"])
        .and_then(|n| match &n.value {
            NodeValue::Array(a) => a.iter().find(|x| x.as_str() == Some(dep)).map(|x| x.origin),
            _ => None,
        })
        .unwrap_or(o)
}

/// Edges to the services templates mention, and the services whose templates scrape.
fn templates(
    project: &Project,
    scope: &Scope<'_>,
    assets: &Assets,
) -> (Vec<Edge>, BTreeSet<String>) {
    let mut edges = Vec::new();
    let mut scrapers = BTreeSet::new();
    for (name, target) in &scope.targets {
        for fname in target.svc.files.keys() {
            let Some(id) = assets.template(name, fname) else {
                continue;
            };
            let o = scope
                .m
                .tree
                .origin_of(&["services", name, "files", fname, "template"]);
            let text = &project.sources.get(id).text;
            if text.contains("scrape_targets") {
                scrapers.insert(name.to_string());
            }
            for (to, port) in template::mentioned_services(text) {
                if to != *name && scope.targets.contains_key(to.as_str()) {
                    edges.push(Edge {
                        from: name.to_string(),
                        to,
                        kind: EdgeKind::Reference { port },
                        origin: o,
                    });
                }
            }
        }
    }
    (edges, scrapers)
}
