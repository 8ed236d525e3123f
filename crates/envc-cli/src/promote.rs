//! `envc promote FROM TO`: the plan of what TO (a prod mode) becomes when it takes FROM's
//! images and configuration, the gates, and with `--write` the lock, the log and TO's
//! artifacts.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use envc_core::Ir;
use envc_emit::Artifact;
use envc_model::diagnostic::did_you_mean;
use envc_model::profile::Tier;
use envc_model::{Diagnostics, Node, Project, SourceFile};
use envc_promote::edit;
use envc_promote::gate::{self, Failure, Gate, Source};
use envc_promote::lock::{self, Meta};
use envc_promote::mode::{self, LockSource, Mode};
use envc_promote::plan::{self, Plan};
use envc_promote::release::{self, Release, SHARED_UNIT, Selection};

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
    match mode::compile(project, m) {
        Ok(c) => {
            let artifacts = envc_emit::emit(&c.ir)
                .map_err(|e| anyhow!("failed to build mode `{}`: {e}", m.loaded.mode))?;
            Ok(Built {
                ir: Some(c.ir),
                artifacts,
                errors: Diagnostics::new(),
            })
        }
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

/// `envc promote`.
pub fn run(cli: &Cli, a: &PromoteArgs, out: &Output) -> Result<Status> {
    let mut project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let env = pick_env(&project, &a.env)?;
    let known = |p: &Project, m: &str| -> Result<()> {
        if p.profiles.contains_key(m) {
            return Ok(());
        }
        let hint = did_you_mean(m, p.profiles.keys().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        bail!("unknown mode `{m}`{hint}")
    };
    known(&project, &a.to)?;

    // The target as it runs now: through its lock, or the model for a first release.
    let target = match mode::load(&mut project, &env, &a.to, LockSource::Disk) {
        Ok(m) => m,
        Err(d) => {
            return Ok(invalid(
                &project,
                &d,
                out,
                &format!("mode {} does not load", a.to),
            ));
        }
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
        None => mode::model_release(&mut project, &env),
    };

    // The source.
    let is_path = a.from.contains('/') || a.from.ends_with(".toml");
    let (from, source) = if is_path {
        match read_lock_file(&mut project, cli, &a.from, &env)? {
            Ok((r, m)) => (
                From::Lock {
                    path: a.from.clone(),
                    mode: m,
                },
                r,
            ),
            Err(d) => {
                return Ok(invalid(
                    &project,
                    &d,
                    out,
                    &format!("{} is not a valid lock", a.from),
                ));
            }
        }
    } else {
        known(&project, &a.from)?;
        if a.from == a.to {
            bail!(
                "FROM and TO are both `{}`: promote from another mode, or roll back by promoting an earlier lock file",
                a.to
            );
        }
        let m = match mode::load(&mut project, &env, &a.from, LockSource::Disk) {
            Ok(m) => m,
            Err(d) => {
                return Ok(invalid(
                    &project,
                    &d,
                    out,
                    &format!("mode {} does not load", a.from),
                ));
            }
        };
        let r = match &m.lock {
            Some(l) => l.lock.release.clone(),
            None => mode::model_release(&mut project, &env),
        };
        (From::Mode(Box::new(m)), r)
    };
    let (from_label, source_mode) = match &from {
        From::Mode(m) => (a.from.clone(), m.loaded.mode.clone()),
        From::Lock { path, mode } => (format!("lock:{path}"), mode.clone()),
    };

    // What to promote.
    let selection = if a.only.is_empty() {
        Selection::All
    } else {
        let mut units = source.units();
        for u in current.units() {
            if !units.contains(&u) {
                units.push(u);
            }
        }
        for o in &a.only {
            if !units.contains(o) {
                let hint = did_you_mean(o, units.iter().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                bail!(
                    "--only {o}: no such service in {from_label} or {}{hint}; units are {} ({SHARED_UNIT} is the environment-wide settings)",
                    a.to,
                    units.join(", ")
                );
            }
        }
        Selection::Only(a.only.clone())
    };
    let mut candidate = release::candidate(&current, &source, &selection);
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
        s.digest = Some(digest.to_string());
    }
    let changes = release::changes(&current, &candidate);
    // A first release writes every unit; later ones only what changes.
    let written_changes = if first_release {
        release::changes(&Release::default(), &candidate)
    } else {
        changes.clone()
    };

    // The lock as it would be, and the target built from it.
    let rel_lock = lock::lock_path(&env, &a.to);
    let lock_disk = cli.root.join(&rel_lock);
    let existing = fs::read_to_string(&lock_disk).ok();
    let mut watched = vec!["environments".to_string(), "profiles".to_string()];
    if let From::Mode(_) = &from {
        watched.push(a.out.join(&env).join(&a.from).display().to_string());
    }
    let (revision, dirty) = git_revision(&cli.root, &watched);
    let meta = Meta {
        from: Some(from_label.clone()),
        revision: revision.clone(),
        promoted: Some(now()),
    };
    let new_lock = edit::write_lock(
        existing.as_deref().filter(|_| !first_release),
        &env,
        &a.to,
        &candidate,
        &written_changes,
        &meta,
    )
    .map_err(|e| anyhow!("failed to update {rel_lock}: {e}"))?;

    let before = build(&mut project, &target)?;
    let after_mode = mode::load(&mut project, &env, &a.to, LockSource::Planned(&new_lock));
    let (after, after_mode) = match after_mode {
        Ok(m) => (build(&mut project, &m)?, Some(m)),
        Err(d) => (
            Built {
                ir: None,
                artifacts: Vec::new(),
                errors: d,
            },
            None,
        ),
    };
    let facts = |b: &Built| -> Result<Option<envc_diff::Facts>> {
        match &b.ir {
            Some(ir) => Ok(Some(plan::facts(ir, &b.artifacts).map_err(|e| anyhow!(e))?)),
            None => Ok(None),
        }
    };
    let comparison = match (facts(&before)?, facts(&after)?) {
        (Some(x), Some(y)) => Some(plan::compare_facts(&x, &y)),
        _ => None,
    };
    let mut all_units = candidate.units();
    for u in current.units() {
        if !all_units.contains(&u) {
            all_units.push(u);
        }
    }
    let mut p = Plan::new(
        &env,
        &from_label,
        &a.to,
        &rel_lock,
        first_release,
        a.only.clone(),
        &changes,
        comparison.as_ref(),
        &all_units,
        candidate.units().len(),
    );
    if before.ir.is_none() {
        p.notes.push(format!(
            "{} does not build as it is now ({} error{}): the plan lists lock changes only",
            a.to,
            before.errors.iter().filter(|d| d.is_error()).count(),
            if before.errors.len() == 1 { "" } else { "s" }
        ));
    }
    if dirty {
        p.notes.push(format!(
            "{} hold uncommitted changes: the promotion is recorded against revision {} plus those changes; commit first so the revision says what was promoted",
            watched.join(", "),
            revision.as_deref().unwrap_or("?")
        ));
    }
    if first_release {
        p.notes.push(format!(
            "{} has no lock yet: it follows the model until this promotion writes {rel_lock}",
            a.to
        ));
    }

    // Gates.
    let mut failures: Vec<Failure> = Vec::new();
    let mut skipped: Vec<Gate> = Vec::new();
    let settings = &target.loaded.profile.promotion;
    let profile_file = format!("profiles/{}.toml", a.to);
    failures.extend(gate::source_allowed(&source_mode, &a.to, settings));
    failures.extend(gate::pinned_images(&candidate, &changes, &from_label));

    let out_dir = if a.out.is_absolute() {
        a.out.clone()
    } else {
        cli.root.join(&a.out)
    };
    let mut from_errors = Diagnostics::new();
    match &from {
        From::Mode(m) => {
            let fb = build(&mut project, m)?;
            let dir = out_dir.join(&env).join(&m.loaded.mode);
            let shown = a.out.join(&env).join(&m.loaded.mode).display().to_string();
            let committed = read_set(&dir);
            match &fb.ir {
                None => {
                    failures.push(Failure::new(
                        Gate::SourceUpToDate,
                        None,
                        format!(
                            "{} does not build from the current model ({} error{}, shown above)",
                            a.from,
                            fb.errors.iter().filter(|d| d.is_error()).count(),
                            if fb.errors.len() == 1 { "" } else { "s" }
                        ),
                        format!("fix the model (`envc check --target {}`), build, verify and commit {shown}", a.from),
                    ));
                    from_errors = fb.errors.clone();
                }
                Some(_) => {
                    let drift = write::compare(&dir, &fb.artifacts)?;
                    if !drift.is_clean() {
                        let mut files: Vec<String> = drift
                            .missing
                            .iter()
                            .map(|f| format!("missing {f}"))
                            .chain(drift.stale.iter().map(|f| format!("stale {f}")))
                            .chain(drift.extra.iter().map(|f| format!("extra {f}")))
                            .collect();
                        let n = files.len();
                        files.truncate(3);
                        failures.push(Failure::new(
                            Gate::SourceUpToDate,
                            None,
                            if committed.is_empty() {
                                format!("{shown} does not exist: {} was never built", a.from)
                            } else {
                                format!(
                                    "{shown} differs from a fresh build of {} ({n} file{}: {}{})",
                                    a.from,
                                    if n == 1 { "" } else { "s" },
                                    files.join(", "),
                                    if n > 3 { ", ..." } else { "" }
                                )
                            },
                            format!(
                                "run `envc build --target {}`, verify {}, commit {shown}, then promote what was verified",
                                a.from, a.from
                            ),
                        ));
                    }
                }
            }
            let deploys = |s: &str| {
                after
                    .ir
                    .as_ref()
                    .and_then(|ir| ir.service(s))
                    .is_none_or(|s| s.is_deployed())
            };
            failures.extend(gate::verified_images(
                &candidate,
                &changes,
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

    let dev = dev_values(&project, &env, &from, &target);
    failures.extend(gate::dev_secrets(&candidate, &changes, &dev));
    let names: Vec<String> = after
        .ir
        .as_ref()
        .map(|ir| ir.services.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    failures.extend(gate::artifact_secrets(&after.artifacts, &names, &dev));
    match &after.ir {
        Some(ir) => failures.extend(gate::requirements(ir, settings, &profile_file)),
        None => {
            skipped.push(Gate::ProdRequirements);
            failures.extend(gate::target_builds(&after.errors, &a.to));
        }
    }
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
            let log_rel = lock::log_path(&env, &a.to);
            let log_disk = cli.root.join(&log_rel);
            let log_text = edit::append_log(
                fs::read_to_string(&log_disk).ok().as_deref(),
                &edit::LogEntry {
                    at: meta.promoted.as_deref().unwrap_or_default(),
                    environment: &env,
                    from: &from_label,
                    to: &a.to,
                    revision: revision.as_deref(),
                    dirty,
                    message: a.message.as_deref(),
                    changes: &written_changes,
                },
            )
            .map_err(|e| anyhow!("failed to update {log_rel}: {e}"))?;
            write_file(&lock_disk, &new_lock)?;
            wrote.push(format!(
                "{rel_lock} ({} unit{})",
                written_changes.len(),
                if written_changes.len() == 1 { "" } else { "s" }
            ));
            let set = a.out.join(&env).join(&a.to);
            write::write_set(&out_dir.join(&env).join(&a.to), &after.artifacts)?;
            wrote.push(format!(
                "{} ({} files)",
                set.display(),
                after.artifacts.len()
            ));
            write_file(&log_disk, &log_text)?;
            wrote.push(format!("{log_rel} (appended)"));
            p.written = true;
        } else {
            p.notes
                .push(format!("nothing to promote: {} already runs this", a.to));
        }
    }
    drop(after_mode);

    match a.format {
        PromoteFormat::Json => println!("{}", p.json()),
        PromoteFormat::Text => print!("{}", p.text(out.color_stdout())),
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
                "nothing written; add --write to update {rel_lock}, its log and {}",
                a.out.join(&env).join(&a.to).display()
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

/// Now in RFC 3339 (UTC, seconds); `SOURCE_DATE_EPOCH` when set, for reproducible runs.
fn now() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
