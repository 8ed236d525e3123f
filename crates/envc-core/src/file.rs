//! Lowering of files: literal contents as written, templates rendered with the mode's
//! context (every enabled service's host, ports and metrics as the backend reaches them, the
//! scrape targets, the environment and the mode), from template text read before resolution.

use std::cell::RefCell;

use envc_model::asset::Assets;
use envc_model::{Diagnostics, Project};
use serde_json::{Value, json};

use crate::graph::Graph;
use crate::ir;
use crate::scope::{Scope, Target};
use crate::template;

/// The files of service `name`, in declaration order. Templates that render are added to
/// `sources` (once each); those that do not are reported in `d` and left out.
pub(crate) fn lower(
    project: &Project,
    assets: &Assets,
    context: &RefCell<handlebars::Context>,
    name: &str,
    t: &Target<'_>,
    sources: &mut Vec<String>,
    d: &mut Diagnostics,
) -> Vec<ir::File> {
    let mut files = Vec::new();
    for (fname, f) in &t.svc.files {
        let (content, tname) = match (&f.template, &f.content) {
            (Some(_), _) => {
                let Some(id) = assets.template(name, fname) else {
                    continue;
                };
                // One context for the mode; `self` is set to the service being lowered.
                let mut c = context.borrow_mut();
                if let Some(obj) = c.data_mut().as_object_mut() {
                    let me = obj
                        .get("services")
                        .and_then(|s| s.get(name))
                        .cloned()
                        .unwrap_or(Value::Null);
                    obj.insert("self".into(), me);
                }
                let src = project.sources.get(id);
                if !sources.contains(&src.name) {
                    sources.push(src.name.clone());
                }
                match template::render(id, src, &c) {
                    Ok(text) => (
                        with_header(&f.path, &src.name, text),
                        Some(src.name.clone()),
                    ),
                    Err(e) => {
                        d.push(e.path(format!("services.{name}.files.{fname}")));
                        continue;
                    }
                }
            }
            // The model's one escape rule: `$${` in a string of the model is a literal `${`
            // (content holds no references, so it needs no other escape).
            (None, Some(c)) => (c.replace("$${", "${"), None),
            (None, None) => continue,
        };
        files.push(ir::File {
            name: fname.clone(),
            path: f.path.clone(),
            content,
            template: tname,
        });
    }
    files
}

/// The context every template of the mode renders with (`self` is added per service).
pub(crate) fn context(scope: &Scope<'_>, graph: &Graph) -> Value {
    let m = scope.m;
    let model = &m.model;
    let in_order = || {
        graph
            .order
            .iter()
            .filter_map(|n| Some((n.as_str(), scope.targets.get(n.as_str())?)))
    };
    let services: serde_json::Map<String, Value> = in_order()
        .map(|(name, t)| (name.to_string(), service_context(scope, name, t)))
        .collect();
    let scrape_targets: Vec<Value> = in_order()
        .filter_map(|(name, t)| scrape_target(scope, name, t))
        .collect();
    let namespaces: serde_json::Map<String, Value> = model
        .namespaces
        .iter()
        .map(|(k, n)| (k.clone(), Value::String(n.name.clone())))
        .collect();
    json!({
        "environment": {
            "name": m.env,
            "description": model.environment.description,
            "ingress_host": model.environment.ingress_host,
        },
        "mode": {
            "name": m.mode,
            "backend": scope.backend.as_str(),
            "tier": m.profile.profile.tier.as_str(),
            // Kubernetes backends can discover pods through the API (`kubernetes_sd_configs`).
            "kubernetes": scope.backend != envc_model::profile::Backend::Compose,
        },
        "namespaces": namespaces,
        "services": services,
        "scrape_targets": scrape_targets,
    })
}

/// `services.<name>` of the template context.
fn service_context(scope: &Scope<'_>, name: &str, t: &Target<'_>) -> Value {
    let mut ports = serde_json::Map::new();
    for (pname, p) in &t.svc.ports {
        let port = scope.port(p);
        ports.insert(
            pname.clone(),
            json!({
                "name": pname,
                "port": port,
                "container_port": p.container,
                "service_port": p.service.unwrap_or(p.container),
                "protocol": p.protocol.compose(),
                "address": format!("{}:{}", scope.host(name), port),
            }),
        );
    }
    let metrics = t.svc.metrics.as_ref().and_then(|mt| {
        let p = t.svc.ports.get(&mt.port)?;
        Some(json!({"port": scope.port(p), "path": mt.path, "address": format!("{}:{}", scope.host(name), scope.port(p))}))
    });
    json!({
        "name": name,
        "host": scope.host(name),
        "namespace": t.namespace,
        "component": t.svc.component,
        "ports": ports,
        "metrics": metrics,
        // A job or cron job ends: nothing of it runs between its runs.
        "runs_to_completion": t.svc.workload.is_some_and(|w| w.runs_to_completion()),
    })
}

/// One element of `scrape_targets`: a service with a metrics port.
fn scrape_target(scope: &Scope<'_>, name: &str, t: &Target<'_>) -> Option<Value> {
    let mt = t.svc.metrics.as_ref()?;
    let p = t.svc.ports.get(&mt.port)?;
    let port = scope.port(p);
    Some(json!({
        "job": name,
        "service": name,
        "host": scope.host(name),
        "port": port,
        "address": format!("{}:{}", scope.host(name), port),
        "path": mt.path,
        "namespace": t.namespace,
        "port_name": mt.port,
    }))
}

/// A rendered file starts with envc's marker and its template where the file's format has
/// `#` comments; the line names no mode, so a file renders the same in every mode but for host
/// names and ports.
fn with_header(path: &str, template: &str, text: String) -> String {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if [
        "yaml",
        "yml",
        "toml",
        "ini",
        "conf",
        "cfg",
        "properties",
        "sh",
        "env",
    ]
    .contains(&ext.as_str())
    {
        format!("# generated by envc from {template}, do not edit\n{text}")
    } else {
        text
    }
}
