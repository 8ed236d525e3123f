//! `envc diff`: modes against modes, a mode against an existing artifact set, or two existing
//! sets, compared through backend-neutral facts.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use envc_diff::classify::{Accept, AcceptedFile, Context as ClassifyContext, ModelSide, classify};
use envc_diff::compare::{Class, Comparison};
use envc_diff::facts::Facts;
use envc_diff::render::{Report, Side};
use envc_diff::{FileSet, compare};
use envc_lock::mode::{Applied, LockSource};
use envc_lock::release::SHARED_UNIT;
use envc_model::diagnostic::did_you_mean;
use envc_model::load::LoadedMode;
use envc_model::profile::Backend;
use envc_model::{Diagnostics, Project, Sources};

use crate::Status;
use crate::args::{Cli, DiffArgs, DiffFormat};
use crate::output::Output;
use crate::render;

/// A mode built in memory.
struct Built {
    loaded: LoadedMode,
    /// Its IR, for the backends' rules that classification asks about.
    ir: envc_core::Ir,
    facts: Facts,
    /// The release lock it was built from, if any.
    lock: Option<Applied>,
}

pub(crate) fn load_project(cli: &Cli, out: &Output) -> Result<Result<Project, Status>> {
    match Project::load(&cli.root) {
        Ok(p) => Ok(Ok(p)),
        Err(f) => {
            render::emit(&f.sources, &f.diagnostics, out.color);
            Ok(Err(Status::Invalid))
        }
    }
}

pub(crate) fn pick_env(p: &Project, env: &Option<String>) -> Result<String> {
    match env {
        Some(e) if p.environments.contains_key(e) => Ok(e.clone()),
        Some(e) => {
            let hint = did_you_mean(e, p.environments.keys().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            bail!("unknown environment `{e}`{hint}")
        }
        None if p.environments.len() == 1 => {
            Ok(p.environments.keys().next().cloned().unwrap_or_default())
        }
        None => bail!(
            "several environments ({}): choose one with --env",
            p.environments
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Builds a mode in memory and extracts its facts.
fn build(p: &mut Project, env: &str, mode: &str, out: &Output) -> Result<Result<Built, Status>> {
    if !p.profiles.contains_key(mode) {
        let hint = did_you_mean(mode, p.profiles.keys().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        bail!("unknown mode `{mode}`{hint}");
    }
    let loaded = match envc_lock::mode::load(p, env, mode, LockSource::Disk) {
        Ok(l) => l,
        Err(d) => return Ok(Err(report(p, &d, out))),
    };
    let compiled = match envc_core::resolve::compile(p, &loaded.loaded) {
        Ok(c) => c,
        Err(d) => return Ok(Err(report(p, &d, out))),
    };
    let artifacts =
        match crate::project::emit(&compiled.ir, &loaded.loaded, &envc_emit::Options::default()) {
            Ok(a) => a,
            Err(d) => return Ok(Err(report(p, &d, out))),
        };
    let label = format!("mode {mode}");
    let files = FileSet::from_memory(label, artifacts.into_iter().map(|a| (a.path, a.bytes)));
    let facts = match compiled.ir.backend {
        Backend::Kubernetes => envc_diff::k8s::extract(&files),
        Backend::Compose => envc_diff::compose::extract(&files),
        Backend::Helm => helm_facts(&files, &format!("mode {mode}"))?,
    };
    Ok(Ok(Built {
        loaded: loaded.loaded,
        ir: compiled.ir,
        facts,
        lock: loaded.lock,
    }))
}

impl Built {
    /// What classification may read of this mode.
    fn model_side<'a>(&'a self, mode: &'a str) -> ModelSide<'a> {
        ModelSide {
            mode,
            loaded: &self.loaded,
            ir: &self.ir,
        }
    }
}

/// A difference in a service that waits for promotion into a locked mode is explained by the
/// lock: the mode runs what was promoted, the other what the model says now.
fn explain_pending(c: &mut Comparison, sides: [(&str, &Built); 2], sources: &Sources) {
    for d in c.differences.iter_mut().filter(|d| d.class == Class::Drift) {
        for (mode, b) in sides {
            let Some(lock) = &b.lock else { continue };
            if !lock
                .pending
                .iter()
                .any(|p| p.unit == d.service || p.unit == SHARED_UNIT)
            {
                continue;
            }
            let source = b
                .loaded
                .profile
                .promotion
                .from
                .first()
                .map_or("FROM", String::as_str);
            d.class = Class::Expected;
            d.reason = format!(
                "waits for promotion: {mode} runs what {} pins (`envc promote --env {} {source} {mode}` shows the plan)",
                lock.name, b.loaded.env
            );
            d.at = lock
                .lock
                .unit_origins
                .get(&d.service)
                .map(|o| sources.file_line(*o));
            break;
        }
    }
}

fn pending_notes(sides: [(&str, &Built); 2]) -> Vec<String> {
    let mut n = Vec::new();
    for (mode, b) in sides {
        if let Some(lock) = &b.lock
            && !lock.pending.is_empty()
        {
            let units: Vec<&str> = lock.pending.iter().map(|p| p.unit.as_str()).collect();
            n.push(format!(
                "mode {mode} is built from {}; waiting for promotion: {}",
                lock.name,
                units.join(", ")
            ));
        }
    }
    n
}

fn report(p: &Project, d: &Diagnostics, out: &Output) -> Status {
    render::emit(&p.sources, d, out.color);
    out.error("the model is invalid; fix the errors above first");
    Status::Invalid
}

/// Facts of a Helm chart: rendered with `helm template` (Helm must be on PATH).
fn helm_facts(files: &FileSet, label: &str) -> Result<Facts> {
    // Removed when dropped, on every return path.
    let tmp = tempfile::Builder::new()
        .prefix("envc-helm-")
        .tempdir()
        .context("failed to create a temporary directory for `helm template`")?;
    let dir = tmp.path();
    for (path, bytes) in &files.files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        std::fs::write(&p, bytes).with_context(|| format!("failed to write {}", p.display()))?;
    }
    let chart = if dir.join("chart/Chart.yaml").exists() {
        dir.join("chart")
    } else {
        dir.to_path_buf()
    };
    let output = std::process::Command::new("helm")
        .args(["template", "envc"])
        .arg(&chart)
        .output()
        .map_err(|e| anyhow!("failed to run `helm template` for {label}: {e}; install Helm, or render the chart yourself and pass the output (`helm template ... | envc diff --against - MODE`)"))?;
    if !output.status.success() {
        bail!(
            "failed to render {label} with `helm template`: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let set = FileSet::from_memory(label, [("-".to_string(), output.stdout)]);
    Ok(envc_diff::k8s::extract(&set))
}

/// Reads an existing artifact set of any format.
fn read_set(path: &str) -> Result<Facts> {
    if path == "-" {
        let set = FileSet::stdin().context("failed to read standard input")?;
        return Ok(envc_diff::k8s::extract(&set));
    }
    let p = Path::new(path);
    if !p.exists() {
        bail!("{path}: no such file or directory");
    }
    let set = FileSet::read(p).with_context(|| format!("failed to read {path}"))?;
    if p.is_dir() && p.join("Chart.yaml").exists() {
        return helm_facts(&set, path);
    }
    if p.is_dir() && p.join("chart/Chart.yaml").exists() {
        let chart = FileSet::read(&p.join("chart"))
            .with_context(|| format!("failed to read {path}/chart"))?;
        return helm_facts(&chart, path);
    }
    let is_compose = match &set.primary {
        Some(f) => {
            envc_diff::compose::is_compose_name(f)
                || looks_like_compose(set.text(f).unwrap_or_default())
        }
        None => envc_diff::compose::compose_file(&set).is_some(),
    };
    let mut facts = if is_compose {
        envc_diff::compose::extract(&set)
    } else {
        envc_diff::k8s::extract(&only_primary(set))
    };
    facts.label = path.to_string();
    if facts.services.is_empty() {
        bail!(
            "{path}: no services found (expected a Compose file, Kubernetes manifests with Deployments or StatefulSets, or a Helm chart)"
        );
    }
    Ok(facts)
}

/// A Kubernetes file named by the user is read alone (its neighbours are other files).
fn only_primary(mut set: FileSet) -> FileSet {
    if let Some(p) = set.primary.clone() {
        set.files.retain(|k, _| *k == p);
    }
    set
}

fn looks_like_compose(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("services:"))
        && !text.lines().any(|l| l.starts_with("apiVersion:"))
}

fn parse_map(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    for i in items {
        let (a, b) = i.split_once('=').ok_or_else(|| {
            anyhow!("--map takes A=B (service A of the first set is B in the second), got `{i}`")
        })?;
        m.insert(b.to_string(), a.to_string());
    }
    Ok(m)
}

fn side(f: &Facts, mode: Option<&str>) -> Side {
    Side {
        label: f.label.clone(),
        format: f.format,
        mode: mode.map(String::from),
    }
}

/// What every kind of comparison is given: renames and accepted differences.
struct Inputs {
    renames: BTreeMap<String, String>,
    accepted: Vec<Accept>,
}

/// `envc diff`.
pub fn run(cli: &Cli, d: &DiffArgs, out: &Output) -> Result<Status> {
    let accepted_path = d
        .accepted
        .clone()
        .unwrap_or_else(|| cli.root.join("accepted.toml"));
    let accepted = match std::fs::read_to_string(&accepted_path) {
        Ok(t) => {
            AcceptedFile::parse(&accepted_path.display().to_string(), &t)
                .map_err(|e| anyhow!("invalid accepted differences file {e}"))?
                .accept
        }
        Err(_) if d.accepted.is_none() => Vec::new(),
        Err(e) => bail!("failed to read {}: {e}", accepted_path.display()),
    };
    let inputs = Inputs {
        renames: parse_map(&d.map)?,
        accepted,
    };
    let report = if let (Some(from), Some(to)) = (&d.from, &d.to) {
        if !d.modes.is_empty() {
            bail!("--from/--to compare two existing sets and take no modes");
        }
        sets(from, to, &inputs)?
    } else {
        let mut project = match load_project(cli, out)? {
            Ok(p) => p,
            Err(s) => return Ok(s),
        };
        let env = pick_env(&project, &d.env)?;
        let report = if let Some(path) = &d.against {
            let [mode] = d.modes.as_slice() else {
                bail!("--against PATH takes exactly one mode: envc diff --against PATH MODE")
            };
            against(&mut project, &env, mode, path, &inputs, out)?
        } else {
            let [ma, mb] = d.modes.as_slice() else {
                bail!(
                    "give two modes (`envc diff docker k3s`), --against PATH MODE, or --from PATH --to PATH"
                );
            };
            modes(&mut project, &env, [ma, mb], &inputs, out)?
        };
        match report {
            Ok(r) => r,
            Err(s) => return Ok(s),
        }
    };
    match d.format {
        DiffFormat::Json => println!("{}", report.json()),
        DiffFormat::Text => print!("{}", report.text(out.color_stdout(), d.drift_only)),
    }
    Ok(if report.has_drift() {
        Status::Failed
    } else {
        Status::Ok
    })
}

/// Two existing artifact sets (`--from`, `--to`): no model, so nothing is expected.
fn sets(from: &str, to: &str, inputs: &Inputs) -> Result<Report> {
    let a = read_set(from)?;
    let b = read_set(to)?;
    let mut c = compare(&a, &b, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: a.format,
        b_format: b.format,
        models: None,
        sources: None,
        accepted: &inputs.accepted,
        env: None,
    };
    let stale = classify(&mut c, &ctx);
    let notes = notes(&a, &b, &inputs.renames);
    Ok(Report::new(side(&a, None), side(&b, None), c, stale, notes))
}

/// A fresh build of a mode against an existing set (`--against`).
fn against(
    project: &mut Project,
    env: &str,
    mode: &str,
    path: &str,
    inputs: &Inputs,
    out: &Output,
) -> Result<Result<Report, Status>> {
    let built = match build(project, env, mode, out)? {
        Ok(b) => b,
        Err(s) => return Ok(Err(s)),
    };
    let other = read_set(path)?;
    let mut c = compare(&built.facts, &other, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: built.facts.format,
        b_format: other.format,
        models: None,
        sources: Some(&project.sources),
        accepted: &inputs.accepted,
        env: Some(env),
    };
    let stale = classify(&mut c, &ctx);
    let notes = notes(&built.facts, &other, &inputs.renames);
    Ok(Ok(Report::new(
        side(&built.facts, Some(mode)),
        side(&other, None),
        c,
        stale,
        notes,
    )))
}

/// Two modes, both built in memory: differences the model explains are expected.
fn modes(
    project: &mut Project,
    env: &str,
    [ma, mb]: [&str; 2],
    inputs: &Inputs,
    out: &Output,
) -> Result<Result<Report, Status>> {
    let a = match build(project, env, ma, out)? {
        Ok(b) => b,
        Err(s) => return Ok(Err(s)),
    };
    let b = match build(project, env, mb, out)? {
        Ok(b) => b,
        Err(s) => return Ok(Err(s)),
    };
    let mut c = envc_diff::compare_modes(&a.facts, &b.facts, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: a.facts.format,
        b_format: b.facts.format,
        models: Some((a.model_side(ma), b.model_side(mb))),
        sources: Some(&project.sources),
        accepted: &inputs.accepted,
        env: Some(env),
    };
    let stale = classify(&mut c, &ctx);
    explain_pending(&mut c, [(ma, &a), (mb, &b)], &project.sources);
    let mut notes = notes(&a.facts, &b.facts, &inputs.renames);
    notes.extend(pending_notes([(ma, &a), (mb, &b)]));
    Ok(Ok(Report::new(
        side(&a.facts, Some(ma)),
        side(&b.facts, Some(mb)),
        c,
        stale,
        notes,
    )))
}

fn notes(a: &Facts, b: &Facts, renames: &BTreeMap<String, String>) -> Vec<String> {
    let mut n: Vec<String> = a
        .notes
        .iter()
        .map(|x| format!("{}: {x}", a.label))
        .collect();
    n.extend(b.notes.iter().map(|x| format!("{}: {x}", b.label)));
    let b_names: Vec<String> = b
        .services
        .keys()
        .map(|k| renames.get(k).cloned().unwrap_or_else(|| k.clone()))
        .collect();
    let only_a: Vec<&String> = a.services.keys().filter(|k| !b_names.contains(k)).collect();
    let only_b: Vec<&String> = b
        .services
        .keys()
        .filter(|k| !renames.contains_key(*k) && !a.services.contains_key(*k))
        .collect();
    for x in &only_a {
        if let Some(y) = only_b
            .iter()
            .find(|y| y.starts_with(x.as_str()) || x.starts_with(y.as_str()))
        {
            n.push(format!(
                "`{x}` and `{y}` may be the same service: compare them with --map {x}={y}"
            ));
        }
    }
    n
}
