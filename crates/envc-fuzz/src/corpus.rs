//! Seeds: the repository's own projects (the root model, every test scenario and error case)
//! and every YAML or JSON artifact it holds (`out/`, the scenarios' expected trees, fixtures).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Larger files are left out of the corpus: mutating them costs more than it finds.
const MAX_SEED_BYTES: u64 = 256 * 1024;

/// What a project file is, which decides how it is mutated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `environments/*.toml`.
    Environment,
    /// `profiles/*.toml`.
    Profile,
    /// `locks/<env>/*.toml`.
    Lock,
    /// Anything under `environments/<env>/` (templates, bind-mount sources), mutated as text.
    Asset,
}

/// One file of a seed project.
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// Path relative to the project root, `/` separated.
    pub rel: String,
    /// What it is.
    pub kind: Kind,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A project envc can build: a directory with `environments/` and `profiles/`.
#[derive(Debug, Clone)]
pub struct SeedProject {
    /// Name for reports (`.`, `tests/scenarios/jobs`).
    pub name: String,
    /// Every file of the project the pipeline reads.
    pub files: Vec<SeedFile>,
}

/// One YAML or JSON artifact for the extractors.
#[derive(Debug, Clone)]
pub struct SeedYaml {
    /// Path relative to the repository.
    pub rel: String,
    /// Its text.
    pub text: String,
}

/// The repository's projects: the root, `tests/scenarios/*` and `tests/errors/*`.
pub fn projects(repo: &Path) -> io::Result<Vec<SeedProject>> {
    let mut roots = vec![(".".to_string(), repo.to_path_buf())];
    for group in ["tests/scenarios", "tests/errors"] {
        for dir in sorted_entries(&repo.join(group))? {
            if dir.join("environments").is_dir() {
                let name = format!("{group}/{}", file_name(&dir));
                roots.push((name, dir));
            }
        }
    }
    let mut out = Vec::new();
    for (name, root) in roots {
        let mut files = Vec::new();
        for rel in walk(&root, &["environments", "profiles", "locks"])? {
            let kind = if rel.starts_with("profiles/") {
                Kind::Profile
            } else if rel.starts_with("locks/") {
                Kind::Lock
            } else if rel.matches('/').count() == 1 && rel.ends_with(".toml") {
                Kind::Environment
            } else {
                Kind::Asset
            };
            if kind == Kind::Profile && !rel.ends_with(".toml") {
                continue;
            }
            files.push(SeedFile {
                bytes: fs::read(root.join(&rel))?,
                rel,
                kind,
            });
        }
        out.push(SeedProject { name, files });
    }
    Ok(out)
}

/// Every `.yaml`, `.yml` and `.json` file under `out/` and `tests/`.
pub fn yaml(repo: &Path) -> io::Result<Vec<SeedYaml>> {
    let mut out = Vec::new();
    for rel in walk(repo, &["out", "tests"])? {
        if [".yaml", ".yml", ".json"].iter().any(|x| rel.ends_with(x))
            && let Ok(text) = fs::read_to_string(repo.join(&rel))
        {
            out.push(SeedYaml { rel, text });
        }
    }
    Ok(out)
}

/// Regular files under the named top-level directories of `root`, relative and sorted;
/// symlinks are not followed and large files are skipped.
fn walk(root: &Path, tops: &[&str]) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = tops
        .iter()
        .map(|t| root.join(t))
        .filter(|p| p.is_dir())
        .collect();
    while let Some(dir) = stack.pop() {
        for p in sorted_entries(&dir)? {
            let meta = fs::symlink_metadata(&p)?;
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file()
                && meta.len() <= MAX_SEED_BYTES
                && let Ok(rel) = p.strip_prefix(root)
            {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut v: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}
