//! `envc explain SERVICE[.KEY]`: a service's value in each mode, and the chain of files and
//! lines that set it, in the order they apply: the environment file (through a template when
//! the service extends one: `Origin::via`), the release lock of a prod mode (which replaces the
//! model's definition), then each profile of the mode's `extends` chain, the environment's
//! own block of a profile last. The last layer that sets it wins.

use anyhow::{Result, bail};
use envc_core::ir::{EnvValue, Segment};
use envc_model::diagnostic::did_you_mean;
use envc_model::{Node, NodeValue, Project, Sources};
use serde_json::{Value, json};

use crate::Status;
use crate::args::{Cli, ExplainArgs, Format};
use crate::coded::coded;
use crate::diff::{load_project, pick_env};
use crate::inspect::{self, View};
use crate::output::Output;

/// Version of the JSON shape (docs/cli.md).
pub const FORMAT_VERSION: u32 = 1;

/// One file that sets the value.
struct Layer {
    /// `environment`, `template`, `lock` or `profile <name>`.
    layer: String,
    /// `file:line`.
    at: String,
    /// The value it sets.
    value: Value,
}

/// One mode's answer.
struct Answer {
    mode: String,
    /// The value in the mode, after every layer; `None` when the mode does not set it.
    value: Option<Value>,
    /// The value the mode deploys, where it differs in form from the model's: an environment
    /// variable with references resolved (secrets as `${secret.NAME}`), the image (a lock's
    /// pin), the replicas (the default when unset).
    resolved: Option<String>,
    /// Whether the mode runs the service.
    enabled: bool,
    chain: Vec<Layer>,
    /// Every leaf under the service (no KEY asked): dotted key, value, where set.
    leaves: Vec<(String, Value, String)>,
}

/// A node as JSON (datetimes as their text).
fn to_json(n: &Node) -> Value {
    match &n.value {
        NodeValue::String(s) | NodeValue::Datetime(s) => json!(s),
        NodeValue::Integer(i) => json!(i),
        NodeValue::Float(f) => json!(f),
        NodeValue::Bool(b) => json!(b),
        NodeValue::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        NodeValue::Table(t) => Value::Object(
            t.iter()
                .map(|(k, e)| (k.clone(), to_json(&e.node)))
                .collect(),
        ),
    }
}

/// A value as TOML writes it inline.
fn toml_text(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{k} = {}", toml_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn leaves(n: &Node, prefix: &str, sources: &Sources, out: &mut Vec<(String, Value, String)>) {
    match &n.value {
        NodeValue::Table(t) if !t.is_empty() => {
            for (k, e) in t.iter() {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&e.node, &key, sources, out);
            }
        }
        _ => out.push((prefix.to_string(), to_json(n), sources.file_line(n.origin))),
    }
}

/// The layers of one mode that set `path` (`services.<name>...`).
fn chain(p: &Project, env: &str, v: &View, path: &[String]) -> Vec<Layer> {
    let mut out = Vec::new();
    let mut push = |layer: String, n: &Node| {
        out.push(Layer {
            layer,
            at: p.sources.file_line(n.origin),
            value: to_json(n),
        });
    };
    if let Some(n) = p.environments.get(env).and_then(|e| e.node.lookup(path)) {
        let layer = if n.origin.via.is_some() {
            "template"
        } else {
            "environment"
        };
        push(layer.into(), n);
    }
    if let (Some(lock), Some(env_tree)) = (&v.lock, p.environments.get(env)) {
        let applied =
            envc_lock::mode::apply(&env_tree.node, &lock.lock, &lock.name, &v.loaded.env_dir);
        if let Some(n) = applied.tree.lookup(path)
            && n.origin.file == lock.lock.file
        {
            push("lock".into(), n);
        }
    }
    let scoped: Vec<String> = ["environments", env]
        .iter()
        .map(|s| s.to_string())
        .chain(path.iter().cloned())
        .collect();
    for name in &v.loaded.chain {
        let Some(profile) = p.profiles.get(name) else {
            continue;
        };
        if let Some(n) = profile.node.lookup(path) {
            push(format!("profile {name}"), n);
        }
        if let Some(n) = profile.node.lookup(&scoped) {
            push(format!("profile {name} [environments.{env}]"), n);
        }
    }
    out
}

/// An environment variable's value as the mode resolves it.
fn resolved_env(v: &View, service: &str, name: &str) -> Option<String> {
    let s = v.compiled.ir.services.iter().find(|s| s.name == service)?;
    let var = s.env.iter().find(|e| e.name == name)?;
    Some(match &var.value {
        EnvValue::Text(t) => t.clone(),
        EnvValue::Secret(sec) => format!("${{secret.{sec}}}"),
        EnvValue::Template(parts) => parts
            .iter()
            .map(|p| match p {
                Segment::Text(t) => t.clone(),
                Segment::Secret(sec) => format!("${{secret.{sec}}}"),
            })
            .collect(),
    })
}

fn answer(p: &Project, env: &str, v: &View, service: &str, key: &[String]) -> Answer {
    let mut path = vec!["services".to_string(), service.to_string()];
    path.extend(key.iter().cloned());
    let node = v.loaded.tree.lookup(&path);
    let enabled = v
        .loaded
        .model
        .services
        .get(service)
        .is_some_and(|s| s.enabled);
    let mut all = Vec::new();
    if key.is_empty()
        && let Some(n) = node
    {
        leaves(n, "", &p.sources, &mut all);
    }
    let lowered = v.compiled.ir.services.iter().find(|s| s.name == service);
    let resolved = match key {
        [first, name] if first == "env" => resolved_env(v, service, name),
        [k] if k == "replicas" => lowered.map(|s| s.replicas.to_string()),
        [k] if k == "image" => lowered.map(|s| s.image.clone()),
        _ => None,
    };
    Answer {
        mode: v.mode.clone(),
        value: node.map(to_json),
        resolved,
        enabled,
        chain: if key.is_empty() {
            Vec::new()
        } else {
            chain(p, env, v, &path)
        },
        leaves: all,
    }
}

/// `envc explain`.
pub fn run(cli: &Cli, e: &ExplainArgs, out: &Output) -> Result<Status> {
    let mut project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let env = pick_env(&project, &e.env)?;
    let (service, key) = match e.what.split_once('.') {
        Some((s, k)) => (s.to_string(), k.split('.').map(str::to_string).collect()),
        None => (e.what.clone(), Vec::new()),
    };
    if key.iter().any(String::is_empty) {
        bail!("`{}` has an empty key: write SERVICE.KEY.SUBKEY", e.what);
    }
    let known: Vec<String> = project
        .environments
        .get(&env)
        .and_then(|x| x.node.get("services"))
        .and_then(Node::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    if !known.contains(&service) {
        let hint = did_you_mean(&service, known.iter().map(String::as_str)).map_or_else(
            || format!("services are: {}", known.join(", ")),
            |s| format!("did you mean `{s}`?"),
        );
        return Err(coded(
            "E-usage",
            format!("unknown service `{service}` in environment {env}"),
            hint,
        ));
    }
    let mut answers = Vec::new();
    for mode in inspect::modes(&project, e.mode.as_deref())? {
        let view = match inspect::compile(&mut project, &env, &mode, out) {
            Ok(v) => v,
            Err(s) => return Ok(s),
        };
        answers.push(answer(&project, &env, &view, &service, &key));
    }
    let dotted = key.join(".");
    match e.format {
        Format::Json => {
            let doc = json!({
                "format_version": FORMAT_VERSION,
                "environment": env,
                "service": service,
                "key": if dotted.is_empty() { Value::Null } else { json!(dotted) },
                "modes": answers.iter().map(|a| json!({
                    "mode": a.mode,
                    "enabled": a.enabled,
                    "value": a.value,
                    "resolved": a.resolved,
                    "chain": a.chain.iter().map(|l| json!({
                        "layer": l.layer, "at": l.at, "value": l.value,
                    })).collect::<Vec<_>>(),
                    "keys": a.leaves.iter().map(|(k, v, at)| json!({
                        "key": k, "value": v, "at": at,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => print!("{}", text(&env, &e.what, &answers)),
    }
    Ok(Status::Ok)
}

fn text(env: &str, what: &str, answers: &[Answer]) -> String {
    let mut s = format!("{what} ({env})\n");
    let width = answers.iter().map(|a| a.mode.len()).max().unwrap_or(0);
    for a in answers {
        let value = match &a.value {
            Some(v) if a.leaves.is_empty() => toml_text(v),
            Some(_) => String::new(),
            None => "(not set: envc's default applies)".into(),
        };
        let off = if a.enabled {
            ""
        } else {
            "  (the mode does not run the service)"
        };
        s.push_str(&format!("\n  {:<width$}  {value}{off}\n", a.mode));
        if let Some(r) = &a.resolved
            && a.value
                .as_ref()
                .map(|v| v.as_str().map_or_else(|| toml_text(v), str::to_string))
                != Some(r.clone())
        {
            s.push_str(&format!("  {:<width$}  resolved: {r}\n", ""));
        }
        let at_width = a.chain.iter().map(|l| l.at.len()).max().unwrap_or(0);
        for (i, l) in a.chain.iter().enumerate() {
            let last = if i + 1 == a.chain.len() {
                "  <- wins"
            } else {
                ""
            };
            s.push_str(&format!(
                "  {:<width$}    {:<at_width$}  {}: {}{last}\n",
                "",
                l.at,
                l.layer,
                toml_text(&l.value)
            ));
        }
        let key_width = a.leaves.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
        for (k, v, at) in &a.leaves {
            s.push_str(&format!(
                "  {:<width$}    {k:<key_width$} = {}    # {at}\n",
                "",
                toml_text(v)
            ));
        }
    }
    s
}
