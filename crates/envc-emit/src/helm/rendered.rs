//! What the chart renders with its default values (`helm template`), as objects: the objects
//! the templates are made of, before their release values become Helm expressions, with the
//! hook annotations and the managed services' form the templates choose for those values.
//! `envc render <helm mode>` prints them; a CLI test compares them with `helm template` of the
//! chart, object by object.

use serde_json::Value;

use super::{FLAVOUR, HOOK_SUPPORT_WEIGHT, hook, hook_weight, namespace_object};
use crate::artifact::EmitError;
use crate::object;
use envc_core::Ir;
use envc_core::ir::Service;

/// The objects the chart of a prod mode renders with its `values.yaml`, in the order of its
/// templates (namespaces, shared claims, services in topological order, Ingresses,
/// NetworkPolicies).
pub fn manifests(ir: &Ir) -> Result<Vec<Value>, EmitError> {
    let values = super::values(ir);
    let mut out = Vec::new();
    for ns in &ir.namespaces {
        if values.global.create_namespaces {
            let n = namespace_object(ir, ns)?;
            out.push(n);
        }
        if let Some(q) = &ns.quota {
            out.push(object::value(&object::quota(ir, &ns.name, q, FLAVOUR))?);
        }
    }
    for c in object::shared_claims(ir, FLAVOUR) {
        out.push(object::value(&c)?);
    }
    for s in &ir.services {
        if s.is_deployed() {
            let before = s.runs_before();
            for o in object::service(ir, s, FLAVOUR) {
                let mut o = object::value(&o)?;
                if before {
                    let weight = match o["kind"].as_str() {
                        Some("Job") => hook_weight(ir, s),
                        _ => HOOK_SUPPORT_WEIGHT,
                    };
                    hook(&mut o, weight);
                }
                out.push(o);
            }
        } else {
            let host = values
                .external
                .get(&s.name)
                .map(|e| e.host.clone())
                .unwrap_or_default();
            out.extend(managed(ir, s, &host)?);
        }
    }
    for ns in &ir.namespaces {
        for i in crate::gateway::routes(ir, &ns.name, FLAVOUR) {
            out.push(object::value(&i)?);
        }
    }
    for p in object::network_policies(ir, FLAVOUR) {
        out.push(object::value(&p)?);
    }
    out.extend(super::secrets::rendered(ir, &values));
    Ok(out)
}

/// A managed service's stand-in for `host`: a Service and EndpointSlice for an IPv4 address,
/// an alias for a DNS name (the template's `regexMatch`).
fn managed(ir: &Ir, s: &Service, host: &str) -> Result<Vec<Value>, EmitError> {
    let is_address = host.split('.').count() == 4
        && host
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let mut objects = if is_address {
        let (service, slice) = object::managed_by_address(ir, s, host, FLAVOUR);
        vec![object::value(&service)?, object::value(&slice)?]
    } else {
        vec![object::value(&object::managed_by_name(
            ir, s, host, FLAVOUR,
        ))?]
    };
    let needed_by_hook = ir
        .services
        .iter()
        .any(|x| x.runs_before() && x.depends_on.iter().any(|d| d.service == s.name));
    if needed_by_hook {
        objects
            .iter_mut()
            .for_each(|o| hook(o, HOOK_SUPPORT_WEIGHT));
    }
    Ok(objects)
}
