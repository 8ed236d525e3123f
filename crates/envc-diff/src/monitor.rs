//! Prometheus Operator objects (`PodMonitor`, `ServiceMonitor`, `PrometheusRule` of
//! monitoring.coreos.com) read as named facts: each scrape endpoint as `scrape[<port>]` and
//! each rule as `alert[<group>/<name>]` (or `record[...]`), with their fields under them, so
//! a report names the endpoint or the alert an edit touched rather than a list position.
//!
//! They are compared in every comparison, like the other cluster objects: between two modes a
//! monitor present on one side only is what the mode's profile says of the cluster (its
//! `kubernetes.prometheus_operator` line is cited), against Compose not representable (Compose
//! has no operator), and against files every field, so a planted edit shows as drift.

use std::collections::BTreeMap;

use envc_model::{Node, Sources};
use yaml_serde::Value as Y;

use crate::compare::Difference;
use crate::docs::{at, text};
use crate::facts::{ObjectFacts, Scope, Value};
use crate::key::Key;
use crate::structure::{flatten, kubernetes_lines};

/// The operator's API group, as the start of an `apiVersion`.
const GROUP: &str = "monitoring.coreos.com/";

/// The operator's kinds read here.
pub const KINDS: [&str; 3] = ["PodMonitor", "ServiceMonitor", "PrometheusRule"];

/// Whether an object of `kind` and `api_version` is one of the operator's monitors or rules.
pub fn is_monitoring(kind: &str, api_version: Option<&str>) -> bool {
    KINDS.contains(&kind) && api_version.is_some_and(|v| v.starts_with(GROUP))
}

/// The facts of a monitor or rule object: its structural lines, with endpoints and rules
/// keyed by what they are.
pub fn object_facts(o: &Y, kind: &str) -> ObjectFacts {
    let named = |p: &str| {
        ["spec.groups", "spec.podMetricsEndpoints", "spec.endpoints"]
            .iter()
            .any(|s| {
                p.strip_prefix(s)
                    .is_some_and(|r| r.is_empty() || r.starts_with(['[', '.']))
            })
    };
    let mut lines = kubernetes_lines(o, kind, &named);
    if kind == "PrometheusRule" {
        rules(o, &mut lines);
    } else {
        let list = if kind == "PodMonitor" {
            "podMetricsEndpoints"
        } else {
            "endpoints"
        };
        endpoints(o, list, &mut lines);
    }
    ObjectFacts {
        kind: kind.to_string(),
        scope: Scope::Cluster,
        lines: std::sync::Arc::new(lines),
    }
}

/// `scrape[<port>].<field>` for every endpoint (by its port name, else its position).
fn endpoints(o: &Y, list: &str, lines: &mut BTreeMap<String, Value>) {
    let Some(Y::Sequence(eps)) = at(o, &["spec", list]) else {
        return;
    };
    for (i, e) in eps.iter().enumerate() {
        let port = text(e, &["port"])
            .map(str::to_string)
            .or_else(|| crate::docs::scalar(at(e, &["targetPort"])?))
            .unwrap_or_else(|| i.to_string());
        let mut key = format!("scrape[{port}]");
        if lines.keys().any(|k| k.starts_with(&format!("{key}."))) {
            key = format!("scrape[{port}#{i}]");
        }
        flatten(e, &key, lines);
    }
}

/// `alert[<group>/<name>].<field>` (or `record[...]`) for every rule, and `group[<group>]`
/// for a group's own settings (interval, limit).
fn rules(o: &Y, lines: &mut BTreeMap<String, Value>) {
    let Some(Y::Sequence(groups)) = at(o, &["spec", "groups"]) else {
        return;
    };
    for (gi, g) in groups.iter().enumerate() {
        let group = text(g, &["name"])
            .map(str::to_string)
            .unwrap_or_else(|| gi.to_string());
        if let Y::Mapping(m) = g {
            for (k, v) in m {
                match k.as_str() {
                    Some("name") | Some("rules") => {}
                    _ => {
                        let field = k.as_str().unwrap_or("?");
                        flatten(v, &format!("group[{group}].{field}"), lines);
                    }
                }
            }
        }
        let Some(Y::Sequence(rs)) = at(g, &["rules"]) else {
            continue;
        };
        for (ri, r) in rs.iter().enumerate() {
            let (what, name) = match (text(r, &["alert"]), text(r, &["record"])) {
                (Some(a), _) => ("alert", a.to_string()),
                (None, Some(rec)) => ("record", rec.to_string()),
                (None, None) => ("rule", ri.to_string()),
            };
            let mut key = format!("{what}[{group}/{name}]");
            // One name may alert on several expressions: later ones are told apart by position.
            if lines.keys().any(|k| k.starts_with(&format!("{key}."))) {
                key = format!("{what}[{group}/{name}#{ri}]");
            }
            let mut body = r.clone();
            if let Y::Mapping(m) = &mut body {
                m.remove("alert");
                m.remove("record");
            }
            flatten(&body, &key, lines);
        }
    }
}

/// The object's kind, when a difference is about one of the operator's objects.
fn monitoring_kind(d: &Difference) -> Option<&str> {
    if !matches!(d.key, Key::Object | Key::ObjectField(_)) {
        return None;
    }
    let kind = d.service.split('/').next()?;
    KINDS.iter().find(|k| **k == kind).copied()
}

/// A difference about an operator object between two modes or formats: expected where one
/// mode's profile says its cluster runs the operator and the other's does not (the line is
/// named), not representable between formats (only Kubernetes sets hold the operator's
/// objects). `profiles` are the two modes' names and profile trees, when both sides were built
/// from the model. `(representable, reason, location)`.
pub fn classify(
    d: &Difference,
    formats_differ: bool,
    profiles: Option<[(&str, &Node); 2]>,
    sources: Option<&Sources>,
) -> Option<(bool, String, Option<String>)> {
    let kind = monitoring_kind(d)?;
    if formats_differ {
        return Some((
            false,
            format!(
                "Compose has no Prometheus Operator: a {kind} exists only where a Kubernetes mode's cluster runs it (`kubernetes.prometheus_operator`); Compose's Prometheus reads its scrape targets and rules from its files"
            ),
            None,
        ));
    }
    let [a, b] = profiles?;
    let setting = |tree: &Node| {
        tree.lookup(&["kubernetes", "prometheus_operator"])
            .map(|n| n.origin)
    };
    let (mode, origin) = match (setting(a.1), setting(b.1)) {
        (Some(o), None) => (a.0, o),
        (None, Some(o)) => (b.0, o),
        _ => return None,
    };
    Some((
        true,
        format!(
            "the {mode} profile says its cluster runs the Prometheus Operator (kubernetes.prometheus_operator)"
        ),
        sources.map(|s| s.file_line(origin)),
    ))
}
