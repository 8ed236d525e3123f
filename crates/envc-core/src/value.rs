//! References resolved for the mode: a string's parsed pieces become an [`EnvValue`], with
//! host names and ports as the mode's backend reaches each service. Runs after every
//! reference was checked, so what remains to fail is what checking cannot see (a loop through
//! a service's own env values, a referenced value that holds a secret).

use envc_model::model::EnvValue as ModelEnv;

use crate::ir::{EnvValue, Segment};
use crate::reference::{Attribute, ModeField, Piece, Reference};
use crate::scope::{Scope, Target, Text};

/// How deep `${<service>.env.<NAME>}` may nest before it counts as a loop.
const MAX_DEPTH: u32 = 8;

/// Resolves a string of `owner`'s for the mode.
pub(crate) fn resolve(scope: &Scope<'_>, owner: &str, text: &Text<'_>) -> Result<EnvValue, String> {
    resolve_depth(scope, owner, text, 0)
}

fn resolve_depth(
    scope: &Scope<'_>,
    owner: &str,
    text: &Text<'_>,
    depth: u32,
) -> Result<EnvValue, String> {
    if depth > MAX_DEPTH {
        return Err("references nest too deeply (a loop through env values?)".into());
    }
    let pieces = text.pieces.as_ref().map_err(|e| e.message.clone())?;
    let mut segs: Vec<Segment> = Vec::new();
    let push_text = |segs: &mut Vec<Segment>, t: &str| match segs.last_mut() {
        Some(Segment::Text(s)) => s.push_str(t),
        _ => segs.push(Segment::Text(t.to_string())),
    };
    for piece in pieces {
        match piece {
            Piece::Text(t) => push_text(&mut segs, t),
            Piece::Ref {
                reference: Ok(Reference::Secret(name)),
                ..
            } => segs.push(Segment::Secret(name.clone())),
            Piece::Ref {
                reference: Ok(r), ..
            } => push_text(&mut segs, &value(scope, owner, r, depth)?),
            Piece::Ref { path, .. } => {
                return Err(format!("unknown reference `${{{}}}`", path.join(".")));
            }
        }
    }
    Ok(match segs.as_slice() {
        [] => EnvValue::Text(String::new()),
        [Segment::Text(t)] => EnvValue::Text(t.clone()),
        [Segment::Secret(s)] => EnvValue::Secret(s.clone()),
        _ => EnvValue::Template(segs),
    })
}

/// The text a reference (other than a secret) stands for.
fn value(scope: &Scope<'_>, owner: &str, r: &Reference, depth: u32) -> Result<String, String> {
    let m = scope.m;
    let model = &m.model;
    Ok(match r {
        Reference::Secret(name) => return Err(format!("`${{secret.{name}}}` is not text")),
        Reference::EnvironmentName => m.env.clone(),
        Reference::IngressHost => model.environment.ingress_host.clone().unwrap_or_default(),
        Reference::IngressScheme => {
            // Compose modes publish ports, not Ingresses: plain HTTP there.
            let k = &m.profile.kubernetes;
            let tls = scope.backend != envc_model::profile::Backend::Compose
                && (k.tls.is_some() || k.gateway.as_ref().is_some_and(|g| g.https));
            if tls { "https" } else { "http" }.to_string()
        }
        Reference::Mode(ModeField::Name) => m.mode.clone(),
        Reference::Mode(ModeField::Tier) => m.profile.profile.tier.as_str().to_string(),
        Reference::Mode(ModeField::Backend) => scope.backend.as_str().to_string(),
        Reference::Namespace(key) => model
            .namespaces
            .get(key)
            .map(|n| n.name.clone())
            .unwrap_or_default(),
        Reference::Service { service, attribute } => {
            let name = service.name(owner);
            let Some(t) = scope.targets.get(name) else {
                return Err(format!("unknown service `{name}`"));
            };
            attribute_value(scope, name, t, attribute, depth)?
        }
    })
}

fn attribute_value(
    scope: &Scope<'_>,
    name: &str,
    t: &Target<'_>,
    attribute: &Attribute,
    depth: u32,
) -> Result<String, String> {
    let port = |p: &Option<String>| -> u16 {
        let p = match p {
            Some(n) => t.svc.ports.get(n),
            None => t.svc.ports.values().next(),
        };
        p.map(|p| scope.port(p)).unwrap_or_default()
    };
    Ok(match attribute {
        Attribute::Host => scope.host(name),
        Attribute::Name => name.to_string(),
        Attribute::Port(p) => port(p).to_string(),
        Attribute::Address(p) => format!("{}:{}", scope.host(name), port(p)),
        Attribute::Env(k) => {
            let inner = match (t.svc.env.get(k), t.env.get(k.as_str())) {
                (Some(ModelEnv::Text(_)), Some(inner)) => inner,
                _ => return Err(format!("`{name}.env.{k}` is not a plain value")),
            };
            match resolve_depth(scope, name, inner, depth + 1)? {
                EnvValue::Text(s) => s,
                _ => return Err(format!("`{name}.env.{k}` contains a secret")),
            }
        }
    })
}
