//! `envc graph`: the dependency graph of one mode (envc-core's, the one every output is
//! ordered by) as Graphviz dot, a Mermaid flowchart or JSON.

use anyhow::Result;
use envc_core::graph::{Edge, EdgeKind};
use envc_core::ir::Service;
use envc_model::profile::Backend;
use serde_json::json;

use crate::Status;
use crate::args::{Cli, GraphArgs, GraphFormat};
use crate::diff::{load_project, pick_env};
use crate::inspect;
use crate::output::Output;

/// Version of the JSON shape (docs/cli.md).
pub const FORMAT_VERSION: u32 = 1;

/// The edges between one pair of services, merged for drawing.
struct Link {
    from: String,
    to: String,
    /// `depends_on`, and the ports references name (`:api`), in the order found.
    labels: Vec<String>,
}

fn links(edges: &[Edge]) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    for e in edges {
        let label = match &e.kind {
            EdgeKind::Declared => "depends_on".to_string(),
            EdgeKind::Reference { port: Some(p) } => format!("${{}} :{p}"),
            EdgeKind::Reference { port: None } => "${}".to_string(),
        };
        match out.iter_mut().find(|l| l.from == e.from && l.to == e.to) {
            Some(l) if !l.labels.contains(&label) => l.labels.push(label),
            Some(_) => {}
            None => out.push(Link {
                from: e.from.clone(),
                to: e.to.clone(),
                labels: vec![label],
            }),
        }
    }
    out
}

/// What a node says under its name: the workload (and its namespace, in Kubernetes), or the
/// managed offering.
fn describe(s: Option<&Service>, backend: Backend) -> String {
    match s {
        Some(s) => match &s.external {
            Some(e) => format!("managed: {}", e.kind),
            None if backend.is_kubernetes() => {
                format!("{} in {}", s.workload.as_str(), s.namespace)
            }
            None => s.workload.as_str().to_string(),
        },
        None => String::new(),
    }
}

/// `envc graph`.
pub fn run(cli: &Cli, g: &GraphArgs, out: &Output) -> Result<Status> {
    let mut project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let env = pick_env(&project, &g.env)?;
    let modes = inspect::modes(&project, g.mode.as_deref())?;
    let Some(mode) = modes.first() else {
        anyhow::bail!("no profiles in profiles/");
    };
    let view = match inspect::compile(&mut project, &env, mode, out) {
        Ok(v) => v,
        Err(s) => return Ok(s),
    };
    let ir = &view.compiled.ir;
    let graph = &view.compiled.graph;
    let service = |name: &str| ir.services.iter().find(|s| s.name == name);
    let title = format!("{env}/{mode}");
    let text = match g.format {
        GraphFormat::Dot => {
            let mut s = format!(
                "// envc graph --env {env} --mode {mode}: an edge points at what a service depends on\n\
                 digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
                quote(&title)
            );
            for name in &graph.order {
                let svc = service(name);
                let style = if svc.is_some_and(|s| !s.is_deployed()) {
                    ", style=dashed"
                } else {
                    ""
                };
                let label = format!("{name}\\n{}", describe(svc, ir.backend));
                s.push_str(&format!(
                    "  {} [label={}{style}];\n",
                    quote(name),
                    quote(&label)
                ));
            }
            for l in links(&graph.edges) {
                s.push_str(&format!(
                    "  {} -> {} [label={}];\n",
                    quote(&l.from),
                    quote(&l.to),
                    quote(&l.labels.join(", "))
                ));
            }
            s.push_str("}\n");
            s
        }
        GraphFormat::Mermaid => {
            let id = |name: &str| {
                graph
                    .order
                    .iter()
                    .position(|n| n == name)
                    .map_or_else(|| "unknown".to_string(), |i| format!("s{i}"))
            };
            let mut s = format!("%% envc graph --env {env} --mode {mode}\nflowchart LR\n");
            for name in &graph.order {
                let svc = service(name);
                let (open, close) = if svc.is_some_and(|s| !s.is_deployed()) {
                    ("[(", ")]")
                } else {
                    ("[", "]")
                };
                s.push_str(&format!(
                    "  {}{open}\"{name}<br/><small>{}</small>\"{close}\n",
                    id(name),
                    describe(svc, ir.backend)
                ));
            }
            for l in links(&graph.edges) {
                s.push_str(&format!(
                    "  {} -->|\"{}\"| {}\n",
                    id(&l.from),
                    l.labels.join(", ").replace('"', "'"),
                    id(&l.to)
                ));
            }
            s
        }
        GraphFormat::Json => {
            let sources = &project.sources;
            let nodes: Vec<serde_json::Value> = graph
                .order
                .iter()
                .map(|name| {
                    let svc = service(name);
                    json!({
                        "name": name,
                        "namespace": svc.map(|s| s.namespace.clone()),
                        "workload": svc.map(|s| s.workload.as_str()),
                        "managed": svc.and_then(|s| s.external.as_ref()).map(|e| e.kind.clone()),
                    })
                })
                .collect();
            let edges: Vec<serde_json::Value> = graph
                .edges
                .iter()
                .map(|e| {
                    let (kind, port) = match &e.kind {
                        EdgeKind::Declared => ("declared", None),
                        EdgeKind::Reference { port } => ("reference", port.clone()),
                    };
                    json!({
                        "from": e.from,
                        "to": e.to,
                        "kind": kind,
                        "port": port,
                        "at": sources.file_line(e.origin),
                    })
                })
                .collect();
            let doc = json!({
                "format_version": FORMAT_VERSION,
                "environment": env,
                "mode": mode,
                "nodes": nodes,
                "edges": edges,
            });
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
    };
    print!("{text}");
    Ok(Status::Ok)
}

/// A Graphviz string: quoted, with quotes and backslashes other than `\n` escaped.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use envc_model::Origin;
    use envc_model::source::{FileId, Span};

    fn edge(from: &str, to: &str, kind: EdgeKind) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind,
            origin: Origin::new(FileId(0), Span::new(0, 0)),
        }
    }

    #[test]
    fn edges_of_one_pair_merge_into_one_link() {
        let l = links(&[
            edge("api", "db", EdgeKind::Declared),
            edge(
                "api",
                "db",
                EdgeKind::Reference {
                    port: Some("sql".into()),
                },
            ),
            edge(
                "api",
                "db",
                EdgeKind::Reference {
                    port: Some("sql".into()),
                },
            ),
            edge("api", "cache", EdgeKind::Reference { port: None }),
        ]);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].labels, vec!["depends_on", "${} :sql"]);
        assert_eq!(l[1].labels, vec!["${}"]);
    }
}
