//! `envc diff`: modes against modes, a mode against an existing artifact set, or two existing
//! sets, compared through backend-neutral facts.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use envc_diff::classify::{
    Accept, AcceptedFile, Context as ClassifyContext, ModelSide, classify, model_location,
};
use envc_diff::compare::{Class, Comparison};
use envc_diff::facts::{Facts, Format};
use envc_diff::render::{Report, Side};
use envc_diff::{FileSet, Lines, compare};
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

/// A mode built in memory: what classification and the lock's notes read of it besides its
/// facts.
struct Compiled {
    loaded: LoadedMode,
    /// Its IR, for the backends' rules that classification asks about.
    ir: envc_core::Ir,
    /// The release lock it was built from, if any.
    lock: Option<Applied>,
}

/// Builds a mode in memory and extracts its facts, as a comparison with files reads them
/// (every structural line).
fn build(
    p: &mut Project,
    env: &str,
    mode: &str,
    out: &Output,
) -> Result<Result<(Compiled, Facts), Status>> {
    let plain = p.mode(env, mode);
    let prepared = prepare(
        p,
        env,
        mode,
        plain,
        &mut envc_lock::mode::Releases::default(),
    )?;
    let c = match prepared.and_then(Prepared::resolve) {
        Ok(c) => c,
        Err(d) => return Ok(Err(report(p, &d, out))),
    };
    Ok(match mode_facts(&c, mode, Lines::All)? {
        Ok(facts) => Ok((c, facts)),
        Err(d) => Err(report(p, &d, out)),
    })
}

/// A mode loaded and its templates read (the part that registers files in the project, so one
/// mode at a time on the project's thread), with a copy of the project to resolve it against
/// on another thread ([`Prepared::resolve`]).
struct Prepared {
    loaded: LoadedMode,
    assets: envc_model::asset::Assets,
    lock: Option<Applied>,
    project: Project,
}

/// Loads a mode and reads its templates, from its plain load (`p.mode(env, mode)`, which
/// [`plain_loads`] runs for two modes at once).
fn prepare(
    p: &mut Project,
    env: &str,
    mode: &str,
    plain: Result<LoadedMode, Diagnostics>,
    releases: &mut envc_lock::mode::Releases,
) -> Result<Result<Prepared, Diagnostics>> {
    if !p.profiles.contains_key(mode) {
        let hint = did_you_mean(mode, p.profiles.keys().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        bail!("unknown mode `{mode}`{hint}");
    }
    let loaded =
        match envc_lock::mode::load_decoded(p, env, mode, plain, LockSource::Disk, releases) {
            Ok(l) => l,
            Err(d) => return Ok(Err(d)),
        };
    let assets = envc_model::asset::read(p, &loaded.loaded);
    Ok(Ok(Prepared {
        loaded: loaded.loaded,
        assets,
        lock: loaded.lock,
        project: p.clone(),
    }))
}

impl Prepared {
    /// Resolves the mode; reads nothing of the project but its copy.
    fn resolve(self) -> Result<Compiled, Diagnostics> {
        let compiled = envc_core::resolve::resolve(&self.project, &self.loaded, &self.assets)?;
        Ok(Compiled {
            loaded: self.loaded,
            ir: compiled.ir,
            lock: self.lock,
        })
    }

    /// The format of the mode's artifacts.
    fn format(&self) -> Format {
        Format::of(self.loaded.profile.profile.backend)
    }

    /// Resolves the mode and takes its facts, with the structural lines `lines` gives once it
    /// is resolved (a comparison of modes reads only some: [`Lines::between`]).
    fn facts(
        self,
        mode: &str,
        lines: impl FnOnce() -> Lines,
    ) -> Result<Result<(Compiled, Facts), Diagnostics>> {
        let c = match self.resolve() {
            Ok(c) => c,
            Err(d) => return Ok(Err(d)),
        };
        Ok(mode_facts(&c, mode, lines())?.map(|f| (c, f)))
    }
}

/// The facts of a compiled mode, with the structural `lines` its comparison reads; the model's
/// errors the backend finds come back as diagnostics, for the caller to report.
/// Reads nothing of the project.
fn mode_facts(c: &Compiled, mode: &str, lines: Lines) -> Result<Result<Facts, Diagnostics>> {
    // Kubernetes and Compose modes: facts from the emitter's documents, no YAML written and
    // parsed back.
    let label = format!("mode {mode}");
    let opts = envc_emit::Options::default();
    let in_memory =
        crate::project::kubernetes_facts(&c.ir, &c.loaded, &label, lines).and_then(|k| match k {
            Some(k) => Ok(Some(k)),
            None => crate::project::compose_facts(&c.ir, &c.loaded, &opts, &label, lines),
        });
    match in_memory {
        Ok(Some(facts)) => return Ok(Ok(facts)),
        Ok(None) => {}
        Err(d) => return Ok(Err(d)),
    }
    let artifacts = match crate::project::emit(&c.ir, &c.loaded, &opts) {
        Ok(a) => a,
        Err(d) => return Ok(Err(d)),
    };
    let files = FileSet::from_memory(label, artifacts.into_iter().map(|a| (a.path, a.bytes)));
    Ok(Ok(match c.ir.backend {
        Backend::Kubernetes => envc_diff::k8s::extract(&files),
        Backend::Compose => envc_diff::compose::extract(&files),
        Backend::Helm => helm_facts(&files, &format!("mode {mode}"))?,
    }))
}

impl Compiled {
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
fn explain_pending(c: &mut Comparison, sides: [(&str, &Compiled); 2], sources: &Sources) {
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

fn pending_notes(sides: [(&str, &Compiled); 2]) -> Vec<String> {
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

/// How existing sets are read: the Compose options that `docker compose` takes too.
#[derive(Default)]
struct ReadOptions {
    /// `--env-file` files, read once: (name, content).
    env_files: Vec<(String, Vec<u8>)>,
    /// `--profile` names.
    profiles: Vec<String>,
}

impl ReadOptions {
    fn new(d: &DiffArgs) -> Result<ReadOptions> {
        let mut env_files = Vec::new();
        for p in &d.env_file {
            let bytes = envc_diff::fileset::read_regular(p).map_err(|e| anyhow!("{e}"))?;
            env_files.push((p.display().to_string(), bytes));
        }
        Ok(ReadOptions {
            env_files,
            profiles: d.profile.clone(),
        })
    }

    /// Gives a set read from disk the caller's environment and the Compose options.
    fn apply(&self, set: &mut FileSet) {
        set.environ = std::env::vars().collect();
        for (i, (name, bytes)) in self.env_files.iter().enumerate() {
            // Keys no file of the set can have: they are not paths.
            let key = format!("\0env-file/{i}/{name}");
            set.files.insert(key.clone(), bytes.clone());
            set.env_files.push(key);
        }
        set.profiles = self.profiles.clone();
    }
}

/// Reads an existing artifact set of any format: `-` (stdin), a folder, or files.
fn read_set(paths: &[String], opts: &ReadOptions) -> Result<Facts> {
    let shown = paths.join(" + ");
    if paths.iter().any(|p| p == "-") {
        if paths.len() > 1 {
            bail!("`-` (standard input) is read alone: give it once, without other files");
        }
        let set = FileSet::stdin().map_err(|e| anyhow!("{e}"))?;
        if set.text("-").is_none_or(|t| t.trim().is_empty()) {
            bail!("<stdin>: empty input: expected a YAML or JSON stream of Kubernetes objects");
        }
        check_manifests(&set)?;
        return finish(envc_diff::k8s::extract(&set), "<stdin>");
    }
    let paths_buf: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
    let mut set = FileSet::read(&paths_buf).map_err(|e| anyhow!("{e}"))?;
    let p = Path::new(&paths[0]);
    if p.is_dir() && p.join("Chart.yaml").exists() {
        return helm_facts(&set, &shown);
    }
    if p.is_dir() && p.join("chart/Chart.yaml").exists() {
        let chart = FileSet::read(&[p.join("chart")]).map_err(|e| anyhow!("{e}"))?;
        return helm_facts(&chart, &shown);
    }
    let is_compose = if set.named.is_empty() {
        envc_diff::compose::compose_file(&set).is_some()
    } else {
        set.named.iter().any(|f| {
            envc_diff::compose::is_compose_name(f)
                || looks_like_compose(set.text(f).unwrap_or_default())
        })
    };
    let facts = if is_compose {
        opts.apply(&mut set);
        // What the project's files refer to; twice, for files found through included ones.
        for _ in 0..2 {
            for r in envc_diff::compose::load::references(&set) {
                set.add_referenced(&r);
            }
        }
        envc_diff::compose::load::load(&set).map_err(|e| anyhow!("{e}"))?;
        envc_diff::compose::extract(&set)
    } else {
        for f in set.named.clone() {
            if set.text(&f).is_none_or(|t| t.trim().is_empty()) {
                bail!(
                    "{}: empty: expected Kubernetes manifests or a Compose file",
                    set.display(&f)
                );
            }
        }
        check_manifests(&set)?;
        envc_diff::k8s::extract(&set)
    };
    let mut facts = finish(facts, &shown)?;
    facts
        .notes
        .extend(set.skipped.iter().map(|s| format!("not read: {s}")));
    Ok(facts)
}

/// Every manifest file of the set parses; the first that does not is the error, located.
fn check_manifests(set: &FileSet) -> Result<()> {
    for (path, bytes) in &set.files {
        if !envc_diff::docs::is_manifest_name(path) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        envc_diff::docs::parse(&set.display(path), text).map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

fn finish(mut facts: Facts, shown: &str) -> Result<Facts> {
    facts.label = shown.to_string();
    if facts.services.is_empty() {
        bail!(
            "{shown}: no services found (expected a Compose file, Kubernetes manifests with workloads, or a Helm chart)"
        );
    }
    Ok(facts)
}

fn looks_like_compose(text: &str) -> bool {
    !text
        .lines()
        .any(|l| l.starts_with("apiVersion:") || l.trim_start().starts_with("\"apiVersion\""))
        && (text.lines().any(|l| l.starts_with("services:"))
            || envc_diff::compose::load::is_old_layout(text))
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
    read: ReadOptions,
    /// `--show-normalized`.
    show_normalized: bool,
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
        read: ReadOptions::new(d)?,
        show_normalized: d.show_normalized,
    };
    let report = if !d.from.is_empty() && !d.to.is_empty() {
        if !d.modes.is_empty() {
            bail!("--from/--to compare two existing sets and take no modes");
        }
        sets(&d.from, &d.to, &inputs)?
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
        // As the modes are, the project is left to the process's end.
        std::mem::forget(project);
        match report {
            Ok(r) => r,
            Err(s) => return Ok(s),
        }
    };
    match d.format {
        DiffFormat::Json => println!("{}", report.json()),
        DiffFormat::Text => print!("{}", report.text(out.color_stdout(), d.drift_only)),
    }
    let status = if d.strict && !report.stale_accepted.is_empty() {
        out.error("stale accepted differences fail a --strict run: remove the rules listed above");
        Status::Failed
    } else if report.has_drift() {
        Status::Failed
    } else {
        Status::Ok
    };
    // Printed: the report is left to the process's end too.
    std::mem::forget(report);
    Ok(status)
}

/// With `--show-normalized`, the values equal only once normalised join the list (class
/// `normalized`, each file's own value shown), in the list's order.
fn list_normalized(c: &mut Comparison, on: bool) {
    if !on || c.normalized_values.is_empty() {
        return;
    }
    let listed = std::mem::take(&mut c.normalized_values);
    c.differences.extend(listed);
    c.differences
        .sort_by(|x, y| x.service.cmp(&y.service).then_with(|| x.key.cmp(&y.key)));
}

/// Classifies, after refusing accepted rules that name a service neither side has.
fn classify_checked(c: &mut Comparison, ctx: &ClassifyContext<'_>) -> Result<Vec<Accept>> {
    let unknown = envc_diff::classify::unknown_services(c, ctx);
    if !unknown.is_empty() {
        bail!(
            "invalid accepted differences:\n  {}\nhint: a rule names a service as either side calls it (after --map), or `*`",
            unknown.join("\n  ")
        );
    }
    Ok(classify(c, ctx))
}

/// Two existing artifact sets (`--from`, `--to`): no model, so nothing is expected.
fn sets(from: &[String], to: &[String], inputs: &Inputs) -> Result<Report> {
    let a = read_set(from, &inputs.read)?;
    let b = read_set(to, &inputs.read)?;
    let mut c = compare(&a, &b, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: a.format,
        b_format: b.format,
        models: None,
        sources: None,
        accepted: &inputs.accepted,
        env: None,
    };
    let stale = classify_checked(&mut c, &ctx)?;
    let notes = notes(&a, &b, &inputs.renames);
    list_normalized(&mut c, inputs.show_normalized);
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
    let (built, facts) = match build(project, env, mode, out)? {
        Ok(b) => b,
        Err(s) => return Ok(Err(s)),
    };
    let other = read_set(std::slice::from_ref(&path.to_string()), &inputs.read)?;
    let mut c = compare(&facts, &other, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: facts.format,
        b_format: other.format,
        models: None,
        sources: Some(&project.sources),
        accepted: &inputs.accepted,
        env: Some(env),
    };
    let stale = classify_checked(&mut c, &ctx)?;
    let model = built.model_side(mode);
    for d in c.differences.iter_mut().filter(|d| d.class == Class::Drift) {
        d.at = model_location(&model, &project.sources, d);
    }
    let notes = notes(&facts, &other, &inputs.renames);
    list_normalized(&mut c, inputs.show_normalized);
    Ok(Ok(Report::new(
        side(&facts, Some(mode)),
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
    // Each mode is loaded here (which registers its files in the project); A is resolved and
    // its facts taken on a second thread while B is loaded, resolved and read on this one.
    // A's errors are reported first, then B's, as when one ran after the other (B's work is
    // then wasted, never shown). Both prod modes of an environment (`diff eks gke`) compare
    // with one model release.
    let mut releases = envc_lock::mode::Releases::default();
    let [plain_a, plain_b] = plain_loads(project, env, [ma, mb]);
    let pa = match prepare(project, env, ma, plain_a, &mut releases)? {
        Ok(c) => c,
        Err(d) => return Ok(Err(report(project, &d, out))),
    };
    // Which lines A's facts take depends on B's format, known once B is loaded: A's thread
    // resolves first and then asks (B is loaded long before A is resolved). If B fails to
    // load, A's facts are not shown and any lines will do.
    let format_a = pa.format();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let (fa, fb) = std::thread::scope(|scope| {
        let fa = scope.spawn(move || pa.facts(ma, || lines_rx.recv().unwrap_or(Lines::Modes)));
        let fb = match prepare(project, env, mb, plain_b, &mut releases) {
            Ok(Ok(pb)) => {
                let lines = Lines::between(format_a, pb.format());
                // A's thread has gone only if it panicked, which the join below reports.
                let _ = lines_tx.send(lines);
                pb.facts(mb, || lines)
            }
            Ok(Err(d)) => Ok(Err(d)),
            Err(e) => Err(e),
        };
        drop(lines_tx);
        let fa = fa
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (fa, fb)
    });
    let (a, fa) = match fa? {
        Ok(a) => a,
        Err(d) => return Ok(Err(report(project, &d, out))),
    };
    let (b, fb) = match fb? {
        Ok(b) => b,
        Err(d) => return Ok(Err(report(project, &d, out))),
    };
    // What is read of the facts as they were; then the comparison takes them.
    let mut notes = notes(&fa, &fb, &inputs.renames);
    let (side_a, side_b) = (side(&fa, Some(ma)), side(&fb, Some(mb)));
    let mut c = envc_diff::compare_modes_owned(fa, fb, &inputs.renames);
    let ctx = ClassifyContext {
        a_format: side_a.format,
        b_format: side_b.format,
        models: Some((a.model_side(ma), b.model_side(mb))),
        sources: Some(&project.sources),
        accepted: &inputs.accepted,
        env: Some(env),
    };
    let stale = classify_checked(&mut c, &ctx)?;
    explain_pending(&mut c, [(ma, &a), (mb, &b)], &project.sources);
    notes.extend(pending_notes([(ma, &a), (mb, &b)]));
    list_normalized(&mut c, inputs.show_normalized);
    // The process ends once the report is printed: the two modes' models and IRs and the
    // compared facts are left to it rather than freed one allocation at a time (4% of a
    // 1,000-service diff).
    let sides = std::mem::replace(
        &mut c.sides,
        Box::new([Facts::new("", side_a.format), Facts::new("", side_b.format)]),
    );
    let report = Report::new(side_a, side_b, c, stale, notes);
    std::mem::forget((a, b, sides));
    Ok(Ok(report))
}

/// Both modes' plain loads, `project.mode(env, mode)`, at once: overlaying a profile and
/// decoding the model is most of loading a mode (7 ms of a 1,000-service diff) and reads the
/// project only; the rest of loading ([`prepare`]) registers files and is done in order.
fn plain_loads(
    project: &Project,
    env: &str,
    [ma, mb]: [&str; 2],
) -> [Result<LoadedMode, Diagnostics>; 2] {
    std::thread::scope(|scope| {
        let a = scope.spawn(|| project.mode(env, ma));
        let b = project.mode(env, mb);
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        [a, b]
    })
}

fn notes(a: &Facts, b: &Facts, renames: &BTreeMap<String, String>) -> Vec<String> {
    let mut n: Vec<String> = a
        .notes
        .iter()
        .map(|x| format!("{}: {x}", a.label))
        .collect();
    n.extend(b.notes.iter().map(|x| format!("{}: {x}", b.label)));
    // A set, not a list: every service of A is looked up in it (a list made this quadratic,
    // 6% of a 10,000-service diff).
    let b_names: std::collections::BTreeSet<&str> = b
        .services
        .keys()
        .map(|k| renames.get(k).unwrap_or(k).as_str())
        .collect();
    let only_a: Vec<&String> = a
        .services
        .keys()
        .filter(|k| !b_names.contains(k.as_str()))
        .collect();
    let only_b: Vec<&String> = b
        .services
        .keys()
        .filter(|k| !renames.contains_key(*k) && !a.services.contains_key(*k))
        .collect();
    // Kubernetes names are DNS labels: converters lower-case them and replace `_` and `.`.
    let dns = |n: &str| n.to_ascii_lowercase().replace(['_', '.'], "-");
    for x in &only_a {
        if let Some(y) = only_b
            .iter()
            .find(|y| y.starts_with(x.as_str()) || x.starts_with(y.as_str()) || dns(x) == dns(y))
        {
            n.push(format!(
                "`{x}` and `{y}` may be the same service: compare them with --map {x}={y}"
            ));
        }
    }
    n
}
