//! Writing artifact sets atomically, and comparing them with what is on disk.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use envc_emit::Artifact;

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

/// A uniquely named directory `.<name>.envc-<role>-*` in `parent`, removed when dropped.
fn staging(parent: &Path, name: &str, role: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}.envc-{role}-"))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "failed to create a temporary directory in {}",
                parent.display()
            )
        })
}

/// Writes an artifact set to `dir`, replacing whatever was there, atomically: the files go
/// into a temporary directory next to `dir`, which is then renamed into place. A failure at
/// any point leaves the previous `dir` intact.
pub fn write_set(dir: &Path, artifacts: &[Artifact]) -> Result<Written> {
    if dir.exists() && compare(dir, artifacts)?.is_clean() {
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
    fs::create_dir_all(&parent)
        .with_context(|| format!("failed to create {}", parent.display()))?;
    // Removed on drop: a failed build leaves no partial set behind.
    let tmp = staging(&parent, &name, "new")?;
    for a in artifacts {
        let path = tmp.path().join(checked_rel(&a.path)?);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).with_context(|| format!("failed to create {}", d.display()))?;
        }
        fs::write(&path, &a.bytes)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    if dir.exists() {
        // The previous set moves into a directory of its own, removed with it on drop.
        let old = staging(&parent, &name, "old")?;
        let aside = old.path().join(&name);
        fs::rename(dir, &aside)
            .with_context(|| format!("failed to move {} aside", dir.display()))?;
        if let Err(e) = fs::rename(tmp.path(), dir) {
            let _ = fs::rename(&aside, dir);
            return Err(e)
                .with_context(|| format!("failed to move the new {} into place", dir.display()));
        }
        old.close()
            .with_context(|| format!("failed to remove the previous {}", dir.display()))?;
    } else {
        fs::rename(tmp.path(), dir)
            .with_context(|| format!("failed to move the new {} into place", dir.display()))?;
    }
    // The temporary directory is now `dir`: nothing is left to remove.
    let _ = tmp.keep();
    Ok(Written::Replaced)
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
    fn refuses_unsafe_paths() {
        assert!(checked_rel("../x").is_err());
        assert!(checked_rel("/etc/x").is_err());
        assert!(checked_rel("a/b").is_ok());
    }
}
