//! `envc promote FROM TO`: the plan of what TO (a prod mode) becomes when it takes FROM's
//! images and configuration, the gates, and with `--write` the lock, the log and TO's
//! artifacts.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use envc_core::Ir;
use envc_emit::Artifact;
use envc_lock::lock::{self, Meta};
use envc_lock::mode::{self, LockSource, Mode};
use envc_lock::release::{self, Change, Release, SHARED_UNIT};
use envc_model::diagnostic::did_you_mean;
use envc_model::profile::Tier;
use envc_model::style::Stylesheet;
use envc_model::{Diagnostics, Node, Project, SourceFile};
use envc_promote::edit;
use envc_promote::gate::{self, Failure, Gate, Source};
use envc_promote::plan::{self, Plan};
use envc_promote::selection::{self, Selection};

use crate::Status;
use crate::args::{Cli, PromoteArgs, PromoteFormat};
use crate::diff::{load_project, pick_env};
use crate::output::Output;
use crate::render;
use crate::write;

/// A mode, compiled: IR and artifacts, or the errors that stopped it.
struct Built {
    ir: Option<Ir>,
    artifacts: Vec<Artifact>,
    errors: Diagnostics,
}

fn build(project: &mut Project, m: &Mode) -> Result<Built> {
    match envc_core::resolve::compile(project, &m.loaded) {
        Ok(c) => match crate::project::emit(&c.ir, &m.loaded, &envc_emit::Options::default()) {
            Ok(artifacts) => Ok(Built {
                ir: Some(c.ir),
                artifacts,
                errors: Diagnostics::new(),
            }),
            Err(errors) => Ok(Built {
                ir: None,
                artifacts: Vec::new(),
                errors,
            }),
        },
        Err(d) => Ok(Built {
            ir: None,
            artifacts: Vec::new(),
            errors: d,
        }),
    }
}

/// Where the promoted release comes from.
enum From {
    /// A mode, loaded through its lock when it is a locked prod mode.
    Mode(Box<Mode>),
    /// A lock file (a rollback): its path as given and the mode it locks.
    Lock { path: String, mode: String },
}

fn invalid(project: &Project, d: &Diagnostics, out: &Output, what: &str) -> Status {
    render::emit(&project.sources, d, out.color);
    out.error(what);
    Status::Invalid
}

/// A mode as `envc build` loads it (through its lock), or the reported failure.
fn load_mode(
    project: &mut Project,
    env: &str,
    name: &str,
    out: &Output,
) -> std::result::Result<Mode, Status> {
    mode::load(project, env, name, LockSource::Disk)
        .map_err(|d| invalid(project, &d, out, &format!("mode {name} does not load")))
}

/// Every unit of two releases: `a`'s in order, then those only `b` has.
fn all_units(a: &Release, b: &Release) -> Vec<String> {
    let mut units = a.units();
    for u in b.units() {
        if !units.contains(&u) {
            units.push(u);
        }
    }
    units
}

/// Reads a lock file given as FROM (a rollback, or another mode's lock).
fn read_lock_file(
    project: &mut Project,
    cli: &Cli,
    path: &str,
    env: &str,
) -> Result<std::result::Result<(Release, String), Diagnostics>> {
    let p = PathBuf::from(path);
    let disk = if p.is_absolute() || p.exists() {
        p.clone()
    } else {
        cli.root.join(&p)
    };
    let text =
        fs::read_to_string(&disk).with_context(|| format!("failed to read lock file {path}"))?;
    let file = project.sources.add(SourceFile::new(path, disk, text));
    let (tree, d) = Node::parse(file, &project.sources.get(file).text);
    if d.has_errors() {
        return Ok(Err(d));
    }
    let mode = tree
        .lookup(&["lock", "mode"])
        .and_then(Node::as_str)
        .ok_or_else(|| anyhow!("{path} is not a release lock: it has no `[lock] mode`"))?
        .to_string();
    Ok(lock::parse(file, &tree, env, &mode).map(|l| (l.release, mode)))
}

/// What a promotion is about, once its inputs are read: the source, the target as it runs
/// now, what it would run after, and the lock that would say so.
struct Promotion {
    env: String,
    from: From,
    /// The source as the lock and the log record it: a mode, or `lock:<path>`.
    from_label: String,
    /// The mode the source is (a lock file's own mode), for `source-allowed`.
    source_mode: String,
    target: Mode,
    first_release: bool,
    current: Release,
    candidate: Release,
    /// How the candidate differs from what the target runs now.
    changes: Vec<Change>,
    /// What the lock records: every unit for a first release, else the changes.
    written_changes: Vec<Change>,
    lock_rel: String,
    new_lock: String,
    /// The release number the new lock records.
    number: u64,
    meta: Meta,
    /// Paths whose uncommitted changes make the recorded revision incomplete.
    watched: Vec<String>,
    dirty: bool,
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn error_count(d: &Diagnostics) -> usize {
    d.iter().filter(|d| d.is_error()).count()
}

fn unknown_mode(p: &Project, m: &str) -> Result<()> {
    if p.profiles.contains_key(m) {
        return Ok(());
    }
    let hint = did_you_mean(m, p.profiles.keys().map(String::as_str))
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    bail!("unknown mode `{m}`{hint}")
}

/// FROM: a lock file (a rollback, or another mode's lock), or a mode as it runs; with the
/// release it holds.
fn read_source(
    cli: &Cli,
    a: &PromoteArgs,
    project: &mut Project,
    env: &str,
    out: &Output,
) -> Result<std::result::Result<(From, Release), Status>> {
    if a.from.contains('/') || a.from.ends_with(".toml") {
        return Ok(match read_lock_file(project, cli, &a.from, env)? {
            Ok((r, m)) => Ok((
                From::Lock {
                    path: a.from.clone(),
                    mode: m,
                },
                r,
            )),
            Err(d) => {
                let what = format!("{} is not a valid lock", a.from);
                Err(invalid(project, &d, out, &what))
            }
        });
    }
    unknown_mode(project, &a.from)?;
    if a.from == a.to {
        bail!(
            "FROM and TO are both `{}`: promote from another mode, or roll back by promoting an earlier lock file",
            a.to
        );
    }
    let m = match load_mode(project, env, &a.from, out) {
        Ok(m) => m,
        Err(s) => return Ok(Err(s)),
    };
    let r = match &m.lock {
        Some(l) => l.lock.release.clone(),
        None => mode::model_release(project, env),
    };
    Ok(Ok((From::Mode(Box::new(m)), r)))
}

/// The units `--only` names (every unit without it), each checked to exist on one side.
fn select(
    a: &PromoteArgs,
    source: &Release,
    current: &Release,
    from_label: &str,
) -> Result<Selection> {
    if a.only.is_empty() {
        return Ok(Selection::All);
    }
    let units = all_units(source, current);
    if let Some(o) = a.only.iter().find(|o| !units.contains(o)) {
        let hint = did_you_mean(o, units.iter().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        bail!(
            "--only {o}: no such service in {from_label} or {}{hint}; units are {} ({SHARED_UNIT} is the environment-wide settings)",
            a.to,
            units.join(", ")
        );
    }
    Ok(Selection::Only(a.only.clone()))
}

/// Applies `--digest SERVICE=sha256:…` to promoted services of the candidate.
fn pin_digests(
    a: &PromoteArgs,
    selection: &Selection,
    candidate: &mut Release,
    from_label: &str,
) -> Result<()> {
    for d in &a.digest {
        let (svc, digest) = d
            .split_once('=')
            .ok_or_else(|| anyhow!("--digest takes SERVICE=sha256:<64 hex>, got `{d}`"))?;
        if !release::is_digest(digest) {
            bail!("--digest {d}: a digest is `sha256:` followed by 64 lowercase hex digits");
        }
        if !selection.selects(svc) {
            bail!("--digest {d}: `{svc}` is not promoted by this run");
        }
        let s = candidate
            .services
            .get_mut(svc)
            .ok_or_else(|| anyhow!("--digest {d}: {from_label} has no service `{svc}`"))?;
        s.set_digest(Some(digest.to_string()));
    }
    Ok(())
}

/// Reads the source and the target and computes the candidate release and its lock.
fn prepare(
    cli: &Cli,
    a: &PromoteArgs,
    project: &mut Project,
    out: &Output,
) -> Result<std::result::Result<Promotion, Status>> {
    let env = pick_env(project, &a.env)?;
    unknown_mode(project, &a.to)?;
    // The target as it runs now: through its lock, or the model for a first release.
    let target = match load_mode(project, &env, &a.to, out) {
        Ok(m) => m,
        Err(s) => return Ok(Err(s)),
    };
    if target.loaded.profile.profile.tier != Tier::Prod {
        bail!(
            "mode `{}` is a dev mode: dev modes follow the model and have no release lock; promote into a prod mode",
            a.to
        );
    }
    let first_release = target.lock.is_none();
    let current = match &target.lock {
        Some(l) => l.lock.release.clone(),
        None => mode::model_release(project, &env),
    };

    let (from, source) = match read_source(cli, a, project, &env, out)? {
        Ok(x) => x,
        Err(s) => return Ok(Err(s)),
    };
    let (from_label, source_mode) = match &from {
        From::Mode(m) => (a.from.clone(), m.loaded.mode.clone()),
        From::Lock { path, mode } => (format!("lock:{path}"), mode.clone()),
    };

    let selection = select(a, &source, &current, &from_label)?;
    let mut candidate = selection::candidate(&current, &source, &selection);
    pin_digests(a, &selection, &mut candidate, &from_label)?;
    let changes = release::changes(&current, &candidate);
    let written_changes = if first_release {
        release::changes(&Release::default(), &candidate)
    } else {
        changes.clone()
    };

    let lock_rel = lock::lock_path(&env, &a.to);
    let existing = fs::read_to_string(cli.root.join(&lock_rel)).ok();
    let mut watched = vec!["environments".to_string(), "profiles".to_string()];
    if let From::Mode(_) = &from {
        watched.push(a.out.join(&env).join(&a.from).display().to_string());
    }
    let (revision, dirty) = git_revision(&cli.root, &watched);
    let meta = Meta {
        from: Some(from_label.clone()),
        revision,
        promoted: Some(now()),
    };
    let log = fs::read_to_string(cli.root.join(edit::log_path(&env, &a.to))).ok();
    let number = edit::next_release(
        target.lock.as_ref().and_then(|l| l.lock.number),
        log.as_deref(),
    );
    let new_lock = edit::write_lock(
        existing.as_deref().filter(|_| !first_release),
        (&env, &a.to),
        number,
        &candidate,
        &written_changes,
        &meta,
    )
    .map_err(|e| anyhow!("failed to update {lock_rel}: {e}"))?;
    Ok(Ok(Promotion {
        env,
        from,
        from_label,
        source_mode,
        target,
        first_release,
        current,
        candidate,
        changes,
        written_changes,
        lock_rel,
        new_lock,
        number,
        meta,
        watched,
        dirty,
    }))
}

/// The plan: lock changes, and the target's facts before and after compared.
fn plan(cli: &Cli, pr: &Promotion, a: &PromoteArgs, before: &Built, after: &Built) -> Result<Plan> {
    let facts = |b: &Built| -> Result<Option<envc_diff::Facts>> {
        b.ir.as_ref()
            .map(|ir| plan::facts(ir, &b.artifacts).map_err(|e| anyhow!(e)))
            .transpose()
    };
    let comparison = match (facts(before)?, facts(after)?) {
        (Some(x), Some(y)) => Some(plan::compare_facts(&x, &y)),
        _ => None,
    };
    let mut p = Plan::new(
        &pr.env,
        &pr.from_label,
        &a.to,
        &pr.lock_rel,
        plan::Numbers {
            first_release: pr.first_release,
            previous: pr.target.lock.as_ref().and_then(|l| l.lock.number),
            release: pr.number,
        },
        a.only.clone(),
        &pr.changes,
        comparison.as_ref(),
        &all_units(&pr.candidate, &pr.current),
        pr.candidate.units().len(),
    );
    if before.ir.is_none() {
        p.notes.push(format!(
            "{} does not build as it is now ({}): the plan lists lock changes only",
            a.to,
            plural(error_count(&before.errors), "error")
        ));
    }
    // The target's committed artifacts should be what its current lock and profile make;
    // when they are not (a profile edited but not built), writing brings that in too.
    if before.ir.is_some() {
        let shown = a.out.join(&pr.env).join(&a.to);
        let drift = write::compare(
            &out_dir(cli, a).join(&pr.env).join(&a.to),
            &before.artifacts,
        )?;
        if !drift.is_clean() {
            p.notes.push(format!(
                "{} is not a fresh build of {} as it is now (run `envc build --target {}` to see why); --write also brings in what differs there",
                shown.display(),
                a.to,
                a.to
            ));
        }
    }
    if pr.meta.revision.is_none() {
        p.notes.push(format!(
            "{} is not in a git repository with a commit: the gates read committed artifacts from the working tree, not from git HEAD, and the lock records no revision",
            cli.root.display()
        ));
    }
    if pr.dirty {
        p.notes.push(format!(
            "{} hold uncommitted changes: the promotion is recorded against revision {} plus those changes; commit first so the revision says what was promoted",
            pr.watched.join(", "),
            pr.meta.revision.as_deref().unwrap_or("?")
        ));
    }
    if pr.first_release {
        p.notes.push(format!(
            "{} has no lock yet: it follows the model until this promotion writes {}",
            a.to, pr.lock_rel
        ));
    }
    if let Some(ir) = &after.ir {
        p.notes
            .extend(envc_promote::store::new_secrets(before.ir.as_ref(), ir));
    }
    Ok(p)
}

/// `source-up-to-date`: FROM builds from the current model and its committed artifacts are
/// that build.
fn source_up_to_date(
    from: &str,
    dir: &Path,
    shown: &str,
    fresh: &Built,
    committed: &[(String, Vec<u8>)],
) -> Result<Option<Failure>> {
    if fresh.ir.is_none() {
        return Ok(Some(Failure::new(
            Gate::SourceUpToDate,
            None,
            format!(
                "{from} does not build from the current model ({}, shown above)",
                plural(error_count(&fresh.errors), "error")
            ),
            format!(
                "fix the model (`envc check --target {from}`), build, verify and commit {shown}"
            ),
        )));
    }
    let drift = write::compare(dir, &fresh.artifacts)?;
    if drift.is_clean() {
        return Ok(None);
    }
    let files: Vec<String> = drift
        .missing
        .iter()
        .map(|f| format!("missing {f}"))
        .chain(drift.stale.iter().map(|f| format!("stale {f}")))
        .chain(drift.extra.iter().map(|f| format!("extra {f}")))
        .collect();
    let reason = if committed.is_empty() {
        format!("{shown} does not exist: {from} was never built")
    } else {
        format!(
            "{shown} differs from a fresh build of {from} ({}: {}{})",
            plural(files.len(), "file"),
            files[..files.len().min(3)].join(", "),
            if files.len() > 3 { ", ..." } else { "" }
        )
    };
    Ok(Some(Failure::new(
        Gate::SourceUpToDate,
        None,
        reason,
        format!(
            "run `envc build --target {from}`, verify {from}, commit {shown}, then promote what was verified"
        ),
    )))
}

/// Every gate's failures, the gates that do not apply, and the source's build errors (to show).
fn gates(
    cli: &Cli,
    a: &PromoteArgs,
    project: &mut Project,
    pr: &Promotion,
    after: &Built,
) -> Result<(Vec<Failure>, Vec<Gate>, Diagnostics)> {
    let mut failures: Vec<Failure> = Vec::new();
    let mut skipped: Vec<Gate> = Vec::new();
    let mut from_errors = Diagnostics::new();
    let settings = &pr.target.loaded.profile.promotion;
    failures.extend(gate::source_allowed(&pr.source_mode, &a.to, settings));
    // What the target runs after the promotion (everything, when it does not build): a
    // service it leaves out or replaces by a managed one has no image there to check.
    let target_deploys = |s: &str| {
        after
            .ir
            .as_ref()
            .is_none_or(|ir| ir.service(s).is_some_and(|s| s.is_deployed()))
    };
    failures.extend(gate::pinned_images(
        &pr.candidate,
        &pr.changes,
        &pr.from_label,
        &target_deploys,
    ));
    match &pr.from {
        From::Mode(m) => {
            let fb = build(project, m)?;
            let dir = out_dir(cli, a).join(&pr.env).join(&a.from);
            let shown = a.out.join(&pr.env).join(&a.from).display().to_string();
            let committed = read_set(&dir);
            if fb.ir.is_none() {
                from_errors = fb.errors.clone();
            }
            failures.extend(source_up_to_date(&a.from, &dir, &shown, &fb, &committed)?);
            failures.extend(committed_at_head(&cli.root, &a.from, &shown));
            let deploys = target_deploys;
            failures.extend(gate::verified_images(
                &pr.candidate,
                &pr.changes,
                Source::Mode {
                    name: &a.from,
                    ir: fb.ir.as_ref(),
                    committed: &committed,
                    dir: &shown,
                },
                &deploys,
            ));
        }
        From::Lock { .. } => skipped.push(Gate::SourceUpToDate),
    }
    let dev = dev_values(project, &pr.env, &pr.from, &pr.target);
    failures.extend(gate::dev_secrets(&pr.candidate, &pr.changes, &dev));
    let names: Vec<String> = after
        .ir
        .iter()
        .flat_map(|ir| ir.services.iter().map(|s| s.name.clone()))
        .collect();
    failures.extend(gate::artifact_secrets(&after.artifacts, &names, &dev));
    match &after.ir {
        Some(ir) => {
            let profile = format!("profiles/{}.toml", a.to);
            failures.extend(gate::requirements(ir, settings, &profile));
        }
        None => {
            skipped.push(Gate::ProdRequirements);
            let model = mode::model_release(project, &pr.env);
            let not_promoted: Vec<String> = model
                .services
                .keys()
                .filter(|s| !pr.candidate.services.contains_key(*s))
                .cloned()
                .collect();
            failures.extend(gate::target_builds(
                &after.errors,
                &a.to,
                &a.only,
                &not_promoted,
            ));
        }
    }
    Ok((failures, skipped, from_errors))
}

/// Writes the lock, the target's artifacts and the log entry; returns what was written.
fn write_promotion(
    cli: &Cli,
    a: &PromoteArgs,
    pr: &Promotion,
    after: &Built,
) -> Result<Vec<String>> {
    let log_rel = edit::log_path(&pr.env, &a.to);
    let log_disk = cli.root.join(&log_rel);
    // The log entry is prepared before anything is written, so a bad log stops everything.
    let log_text = edit::append_log(
        fs::read_to_string(&log_disk).ok().as_deref(),
        &edit::LogEntry {
            at: pr.meta.promoted.as_deref().unwrap_or_default(),
            environment: &pr.env,
            from: &pr.from_label,
            to: &a.to,
            release: pr.number,
            revision: pr.meta.revision.as_deref(),
            dirty: pr.dirty,
            message: a.message.as_deref(),
            changes: &pr.written_changes,
        },
    )
    .map_err(|e| anyhow!("failed to update {log_rel}: {e}"))?;
    // Builds into the same folder wait for this one (and it for them).
    let _lock = write::OutLock::take(&out_dir(cli, a), || {})?;
    write_file(&cli.root.join(&pr.lock_rel), &pr.new_lock)?;
    let set = a.out.join(&pr.env).join(&a.to);
    write::write_set(&out_dir(cli, a).join(&pr.env).join(&a.to), &after.artifacts)?;
    write_file(&log_disk, &log_text)?;
    Ok(vec![
        format!(
            "{} ({})",
            pr.lock_rel,
            plural(pr.written_changes.len(), "unit")
        ),
        format!("{} ({} files)", set.display(), after.artifacts.len()),
        format!("{log_rel} (appended)"),
    ])
}

fn out_dir(cli: &Cli, a: &PromoteArgs) -> PathBuf {
    if a.out.is_absolute() {
        a.out.clone()
    } else {
        cli.root.join(&a.out)
    }
}

/// `envc promote`.
pub fn run(cli: &Cli, a: &PromoteArgs, out: &Output) -> Result<Status> {
    let mut project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let pr = match prepare(cli, a, &mut project, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let before = build(&mut project, &pr.target)?;
    let after = match mode::load(
        &mut project,
        &pr.env,
        &a.to,
        LockSource::Planned(&pr.new_lock),
    ) {
        Ok(m) => build(&mut project, &m)?,
        Err(errors) => Built {
            ir: None,
            artifacts: Vec::new(),
            errors,
        },
    };
    let mut p = plan(cli, &pr, a, &before, &after)?;
    let (failures, skipped, from_errors) = gates(cli, a, &mut project, &pr, &after)?;
    p.set_gates(failures, &skipped);
    if !from_errors.is_empty() {
        render::emit(&project.sources, &from_errors, out.color);
    }
    if after.ir.is_none() {
        render::emit(&project.sources, &after.errors, out.color);
    }

    let mut wrote: Vec<String> = Vec::new();
    if a.write && p.passed() {
        if p.changes_anything() {
            wrote = write_promotion(cli, a, &pr, &after)?;
            p.written = true;
        } else {
            p.notes
                .push(format!("nothing to promote: {} already runs this", a.to));
        }
    }
    match a.format {
        PromoteFormat::Json => println!("{}", p.json()),
        PromoteFormat::Text => print!("{}", p.text(Stylesheet::new(out.color_stdout()))),
    }
    for w in &wrote {
        out.done("wrote", w);
    }
    if !p.passed() {
        return Ok(Status::Failed);
    }
    if !a.write && p.changes_anything() && a.format == PromoteFormat::Text {
        out.note(
            "dry run:",
            &format!(
                "nothing written; add --write to update {}, its log and {}",
                pr.lock_rel,
                a.out.join(&pr.env).join(&a.to).display()
            ),
        );
    }
    Ok(Status::Ok)
}

/// Dev secret values of the environment (declared `dev_value`s, in the model and the source's
/// and target's profiles, and the derived ones).
fn dev_values(project: &Project, env: &str, from: &From, target: &Mode) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: String| {
        if !out.iter().any(|(n, v)| n == name && *v == value) {
            out.push((name.to_string(), value));
        }
    };
    let mut models = vec![&target.loaded.model];
    if let From::Mode(m) = from {
        models.push(&m.loaded.model);
    }
    let plain = project.mode(env, &target.loaded.mode).ok();
    if let Some(p) = &plain {
        models.push(&p.model);
    }
    for m in models {
        for (name, s) in &m.secrets {
            if let Some(v) = &s.dev_value {
                add(name, v.clone());
            }
            add(name, envc_core::resolve::derived_secret(env, name));
        }
    }
    out
}

/// `source-up-to-date`, committed half: the source's artifacts that the gates read from the
/// working tree are what git HEAD holds (no modified, deleted or untracked file under them),
/// so the promotion stands on artifacts a review saw. Outside a git repository there is no
/// HEAD to check; the plan says so (see [`git_revision`]).
fn committed_at_head(root: &Path, from: &str, shown: &str) -> Option<Failure> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            shown,
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let changed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.get(3..).unwrap_or(l).to_string())
        .collect();
    if changed.is_empty() {
        return None;
    }
    Some(Failure::new(
        Gate::SourceUpToDate,
        None,
        format!(
            "{shown} differs from git HEAD ({}: {}{})",
            plural(changed.len(), "file"),
            changed[..changed.len().min(3)].join(", "),
            if changed.len() > 3 { ", ..." } else { "" }
        ),
        format!("verify {from}, commit {shown}, then promote what was committed"),
    ))
}

/// Every file of a committed artifact set (empty when it does not exist).
fn read_set(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(files) = write::list_files(dir) else {
        return Vec::new();
    };
    files
        .into_iter()
        .filter_map(|f| fs::read(dir.join(&f)).ok().map(|b| (f, b)))
        .collect()
}

/// Writes a file atomically (temporary file next to it, then rename).
fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).with_context(|| format!("failed to create {}", d.display()))?;
    }
    let tmp = path.with_extension(format!("envc-new-{}", std::process::id()));
    fs::write(&tmp, text).with_context(|| format!("failed to write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))
}

/// The project's git revision, and whether `paths` (the model, the source's artifacts) have
/// uncommitted changes.
fn git_revision(root: &Path, paths: &[String]) -> (Option<String>, bool) {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let rev = run(&["rev-parse", "HEAD"]).filter(|r| !r.is_empty());
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(paths.iter().map(String::as_str));
    let dirty = rev.is_some() && run(&args).is_some_and(|s| !s.is_empty());
    (rev, dirty)
}

/// Now in RFC 3339 (UTC, whole seconds); `SOURCE_DATE_EPOCH` when set, for reproducible runs.
fn now() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`; out of jiff's range (years -9999 to
/// 9999), the epoch.
fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
        assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }
}
