//! Writing artifact sets atomically, and comparing them with what is on disk.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use envc_emit::Artifact;

use crate::coded::coded;

/// What writing one artifact set did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The directory already held exactly these files.
    Unchanged,
    /// The directory was created or replaced.
    Replaced,
}

/// Differences between an artifact set and a directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Files that should exist and do not.
    pub missing: Vec<String>,
    /// Files whose content differs.
    pub stale: Vec<String>,
    /// Files that exist and should not.
    pub extra: Vec<String>,
}

impl Drift {
    /// Whether the directory matches.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.extra.is_empty()
    }
}

fn checked_rel(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    if path.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        bail!("refusing to write artifact with unsafe path `{path}`");
    }
    Ok(p)
}

/// Every regular file under `dir`, relative, `/` separated, sorted.
pub fn list_files(dir: &Path) -> io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            let ft = e.file_type()?;
            if ft.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

/// Compares an artifact set with a directory.
pub fn compare(dir: &Path, artifacts: &[Artifact]) -> Result<Drift> {
    let existing = list_files(dir).with_context(|| format!("failed to list {}", dir.display()))?;
    let mut drift = Drift::default();
    let mut expected = BTreeSet::new();
    for a in artifacts {
        expected.insert(a.path.clone());
        match fs::read(dir.join(checked_rel(&a.path)?)) {
            Ok(bytes) if bytes == a.bytes => {}
            Ok(_) => drift.stale.push(a.path.clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => drift.missing.push(a.path.clone()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("failed to read {}", dir.join(&a.path).display()));
            }
        }
    }
    drift.extra = existing.difference(&expected).cloned().collect();
    Ok(drift)
}

/// Roles of the temporary directories of a write, spelled in their names
/// (`.<mode>.envc-<role>-<pid>`).
const ROLES: [&str; 2] = ["new", "old"];

/// The temporary directory of role `role` that this process uses for the set `name`:
/// `.<name>.envc-<role>-<pid>`, so that a later build can tell a dead build's leftovers
/// (their pid is not alive) from a running one's.
fn staging_path(parent: &Path, name: &str, role: &str) -> PathBuf {
    parent.join(format!(".{name}.envc-{role}-{}", std::process::id()))
}

/// The pid in a temporary directory's name, when it is one of envc's
/// (`.<name>.envc-new-<pid>` or `.<name>.envc-old-<pid>`).
fn staging_pid(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    ROLES.iter().find_map(|role| {
        let (_, pid) = rest.rsplit_once(&format!(".envc-{role}-"))?;
        pid.parse().ok()
    })
}

/// Whether process `pid` is alive; unknown platforms say yes, so nothing of a running build
/// is ever removed.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(p) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        // EPERM: the process exists but belongs to someone else.
        !matches!(
            rustix::process::test_kill_process(p),
            Err(rustix::io::Errno::SRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Temporary directories of interrupted builds (killed between staging and the final
/// rename) in the folders of `out_dir` that hold sets (`out/<env>/`): their pid is not alive,
/// or is this process's before it staged anything.
pub fn leftovers(out_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(envs) = fs::read_dir(out_dir) else {
        return found;
    };
    let mut dirs: Vec<PathBuf> = envs.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    for env in dirs.into_iter().filter(|d| d.is_dir()) {
        let Ok(entries) = fs::read_dir(&env) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            if let Some(pid) = name.as_deref().and_then(staging_pid)
                && (pid == std::process::id() || !alive(pid))
            {
                found.push(p);
            }
        }
    }
    found
}

/// Removes the [`leftovers`] of interrupted builds; returns what it removed.
pub fn clean_leftovers(out_dir: &Path) -> Result<Vec<PathBuf>> {
    let found = leftovers(out_dir);
    for p in &found {
        fs::remove_dir_all(p).map_err(|e| {
            coded(
                "E-write",
                format!("failed to remove {}: {e}", p.display()),
                "it is a temporary directory of an interrupted build: remove it by hand",
            )
        })?;
    }
    Ok(found)
}

/// A named step of [`write_set`] at which `ENVC_TEST_CRASH_AT=<step>` aborts the process
/// (debug builds only), so tests can show that a build killed there leaves every set in
/// place and that the next build cleans up.
fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("ENVC_TEST_CRASH_AT").is_ok_and(|s| s == step) {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

/// Swaps two directories in one step where the system can (Linux `renameat2` with
/// `RENAME_EXCHANGE`); `Ok(false)` where it cannot (another system, or a filesystem without
/// the flag), and the caller falls back to two renames.
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// An error of writing `out/`: coded, with a hint that says what to check.
fn write_error(what: String, e: &io::Error, path: &Path) -> anyhow::Error {
    let hint = match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => format!(
            "{} is not writable by this user: fix its permissions, or pass --out to write elsewhere",
            path.display()
        ),
        io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => format!(
            "a file stands where envc writes a folder ({}): move it away, or pass --out",
            path.display()
        ),
        _ => "check the output folder (its space, permissions and type), or pass --out to write elsewhere".to_string(),
    };
    coded("E-write", format!("{what}: {e}"), hint)
}

/// Writes an artifact set to `dir`, replacing whatever was there, so that `dir` is never
/// missing and never partial: the files go into `.<mode>.envc-new-<pid>` next to `dir`,
/// which then takes `dir`'s place in one exchange of the two names (Linux), and the previous
/// set, now under the temporary name, is removed. Where the system cannot exchange, the
/// previous set is renamed to `.<mode>.envc-old-<pid>` and the new one into place: a crash
/// between the two renames leaves `dir` missing until the next build (which writes it and
/// removes both temporary directories). A failure before the exchange leaves `dir` intact.
pub fn write_set(dir: &Path, artifacts: &[Artifact]) -> Result<Written> {
    if dir.is_dir() && compare(dir, artifacts)?.is_clean() {
        return Ok(Written::Unchanged);
    }
    let parent = dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    fs::create_dir_all(&parent).map_err(|e| {
        write_error(
            format!("failed to create {}", parent.display()),
            &e,
            &parent,
        )
    })?;
    let tmp = staging_path(&parent, &name, "new");
    let old = staging_path(&parent, &name, "old");
    for p in [&tmp, &old] {
        if p.exists() {
            fs::remove_dir_all(p)
                .map_err(|e| write_error(format!("failed to remove {}", p.display()), &e, p))?;
        }
    }
    let staged = stage(&tmp, artifacts);
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    crash_point("staged");
    let swapped = if dir.exists() {
        exchange(&tmp, dir).map_err(|e| {
            write_error(
                format!("failed to move the new {} into place", dir.display()),
                &e,
                dir,
            )
        })?
    } else {
        false
    };
    if swapped {
        crash_point("exchanged");
        // `tmp` now holds the previous set.
        fs::remove_dir_all(&tmp).map_err(|e| {
            write_error(
                format!("failed to remove the previous {}", dir.display()),
                &e,
                &tmp,
            )
        })?;
        return Ok(Written::Replaced);
    }
    if dir.exists() {
        fs::rename(dir, &old)
            .map_err(|e| write_error(format!("failed to move {} aside", dir.display()), &e, dir))?;
        crash_point("moved-aside");
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        let _ = fs::rename(&old, dir);
        let _ = fs::remove_dir_all(&tmp);
        return Err(write_error(
            format!("failed to move the new {} into place", dir.display()),
            &e,
            dir,
        ));
    }
    crash_point("renamed");
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| {
            write_error(
                format!("failed to remove the previous {}", dir.display()),
                &e,
                &old,
            )
        })?;
    }
    Ok(Written::Replaced)
}

/// Writes the files of a set into the fresh directory `tmp`.
fn stage(tmp: &Path, artifacts: &[Artifact]) -> Result<()> {
    fs::create_dir(tmp)
        .map_err(|e| write_error(format!("failed to create {}", tmp.display()), &e, tmp))?;
    for a in artifacts {
        let path = tmp.join(checked_rel(&a.path)?);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d)
                .map_err(|e| write_error(format!("failed to create {}", d.display()), &e, d))?;
        }
        fs::write(&path, &a.bytes)
            .map_err(|e| write_error(format!("failed to write {}", path.display()), &e, &path))?;
    }
    Ok(())
}

/// An exclusive advisory lock on the output folder (`flock` on the folder itself, so no
/// file is added to it), held until dropped: two builds writing one `out/` take turns.
pub struct OutLock {
    #[cfg(unix)]
    _file: fs::File,
}

impl OutLock {
    /// Takes the lock on `out_dir` (created when missing). When another envc holds it,
    /// `waiting` is called once and the call blocks until it is released.
    pub fn take(out_dir: &Path, waiting: impl FnOnce()) -> Result<OutLock> {
        if out_dir.exists() && !out_dir.is_dir() {
            return Err(coded(
                "E-write",
                format!("{} is not a folder", out_dir.display()),
                "envc writes artifact sets into this folder: move the file away, or pass --out to write elsewhere",
            ));
        }
        fs::create_dir_all(out_dir).map_err(|e| {
            write_error(
                format!("failed to create {}", out_dir.display()),
                &e,
                out_dir,
            )
        })?;
        #[cfg(unix)]
        {
            use rustix::fs::{FlockOperation, flock};
            let file = fs::File::open(out_dir).map_err(|e| {
                write_error(format!("failed to open {}", out_dir.display()), &e, out_dir)
            })?;
            let locked = |e: rustix::io::Errno| {
                coded(
                    "E-out-locked",
                    format!("failed to lock {}: {e}", out_dir.display()),
                    "another envc build writes this folder; wait for it, or pass --out to write elsewhere",
                )
            };
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    waiting();
                    flock(&file, FlockOperation::LockExclusive).map_err(locked)?;
                }
                Err(e) => return Err(locked(e)),
            }
            Ok(OutLock { _file: file })
        }
        #[cfg(not(unix))]
        {
            let _ = waiting;
            Ok(OutLock {})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_compares() -> Result<()> {
        let t = tempfile::tempdir()?;
        let dir = t.path().join("env/k3s");
        let a = vec![
            Artifact::text("a.yaml", "a\n"),
            Artifact::text("sub/b.yaml", "b\n"),
        ];
        assert_eq!(write_set(&dir, &a)?, Written::Replaced);
        assert_eq!(write_set(&dir, &a)?, Written::Unchanged);
        fs::write(dir.join("extra.yaml"), "x")?;
        fs::write(dir.join("a.yaml"), "changed")?;
        let d = compare(&dir, &a)?;
        assert_eq!(d.stale, ["a.yaml"]);
        assert_eq!(d.extra, ["extra.yaml"]);
        assert_eq!(write_set(&dir, &a[..1])?, Written::Replaced);
        assert_eq!(
            list_files(&dir)?.into_iter().collect::<Vec<_>>(),
            ["a.yaml"]
        );
        assert_eq!(
            list_files(t.path().join("env").as_path())?.len(),
            1,
            "no temporary directory left"
        );
        Ok(())
    }

    #[test]
    fn tells_leftovers_by_their_pid() {
        assert_eq!(staging_pid(".k3s.envc-new-123"), Some(123));
        assert_eq!(staging_pid(".staging-eks.envc-old-7"), Some(7));
        assert_eq!(staging_pid("k3s"), None);
        assert_eq!(staging_pid(".k3s.envc-new-"), None);
        assert_eq!(staging_pid(".k3s.envc-tmp-1"), None);
        assert!(alive(std::process::id()));
    }

    #[test]
    fn refuses_unsafe_paths() {
        assert!(checked_rel("../x").is_err());
        assert!(checked_rel("/etc/x").is_err());
        assert!(checked_rel("a/b").is_ok());
    }
}
