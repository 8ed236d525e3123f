//! `envc endpoints`: every address a mode exposes, to people (Ingress URLs, NodePorts,
//! published host ports) and to other services (the in-cluster or Compose-network address of
//! every port, the one `${service.address}` resolves to), per mode.

use anyhow::Result;
use envc_core::Ir;
use envc_model::profile::Backend;
use serde_json::json;

use crate::Status;
use crate::args::{Cli, EndpointsArgs, Format};
use crate::diff::{load_project, pick_env};
use crate::inspect;
use crate::output::Output;

/// Version of the JSON shape (docs/cli.md).
pub const FORMAT_VERSION: u32 = 1;

/// One address of one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Service.
    pub service: String,
    /// Port name.
    pub port: String,
    /// `people` (from outside) or `services` (from inside the cluster or Compose network).
    pub audience: &'static str,
    /// `ingress`, `node-port`, `host-port`, `service` or `managed`.
    pub kind: &'static str,
    /// `host:port`, or a URL for an Ingress route.
    pub address: String,
}

/// The endpoints of one compiled mode, in service (topological) then port order.
pub fn of(ir: &Ir) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for s in &ir.services {
        for p in &s.ports {
            let mut add = |audience, kind, address: String| {
                out.push(Endpoint {
                    service: s.name.clone(),
                    port: p.name.clone(),
                    audience,
                    kind,
                    address,
                });
            };
            match ir.backend {
                Backend::Compose => {
                    if let Some(h) = p.host_port {
                        add(
                            "people",
                            "host-port",
                            format!("{}:{h}", envc_emit::compose::PUBLISH_ADDRESS),
                        );
                    }
                }
                Backend::Kubernetes | Backend::Helm => {
                    if let Some(i) = &p.ingress {
                        add("people", "ingress", format!("http://{}{}", i.host, i.path));
                    }
                    if let Some(n) = p.node_port {
                        add("people", "node-port", format!("<node>:{n}"));
                    }
                }
            }
            let host = envc_core::address::host(ir.backend, &s.name, Some(&s.namespace));
            let port = envc_core::address::port(ir.backend, p.container, Some(p.service));
            let kind = if s.is_deployed() {
                "service"
            } else {
                "managed"
            };
            add("services", kind, format!("{host}:{port}"));
        }
    }
    out
}

/// `envc endpoints`.
pub fn run(cli: &Cli, e: &EndpointsArgs, out: &Output) -> Result<Status> {
    let mut project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let env = pick_env(&project, &e.env)?;
    let mut modes = Vec::new();
    for mode in inspect::modes(&project, e.mode.as_deref())? {
        match inspect::compile(&mut project, &env, &mode, out) {
            Ok(v) => modes.push(v),
            Err(s) => return Ok(s),
        }
    }
    match e.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = modes
                .iter()
                .map(|v| {
                    let ir = &v.compiled.ir;
                    json!({
                        "mode": v.mode,
                        "backend": ir.backend.as_str(),
                        "endpoints": of(ir).iter().map(|x| json!({
                            "service": x.service,
                            "port": x.port,
                            "audience": x.audience,
                            "kind": x.kind,
                            "address": x.address,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = json!({
                "format_version": FORMAT_VERSION,
                "environment": env,
                "modes": list,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            for (i, v) in modes.iter().enumerate() {
                let ir = &v.compiled.ir;
                if i > 0 {
                    println!();
                }
                println!("{env}/{} ({} backend)", v.mode, ir.backend.as_str());
                let list = of(ir);
                let width = list.iter().map(|x| x.service.len()).max().unwrap_or(0);
                let pwidth = list.iter().map(|x| x.port.len()).max().unwrap_or(0);
                for x in &list {
                    println!(
                        "  {:<width$}  {:<pwidth$}  {:<8}  {:<9}  {}",
                        x.service, x.port, x.audience, x.kind, x.address
                    );
                }
                if list.iter().any(|x| x.kind == "node-port") {
                    println!("  (<node>: any node's address; localhost on a one-node k3s)");
                }
                if list.iter().any(|x| x.kind == "managed") {
                    println!(
                        "  (managed: an alias of the managed service's endpoint, set at deploy time: see out/{env}/{}/README.md)",
                        v.mode
                    );
                }
            }
        }
    }
    Ok(Status::Ok)
}
