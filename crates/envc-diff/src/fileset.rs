//! A set of files to extract facts from: in memory (a fresh build) or on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files by relative path (`/` separated).
#[derive(Debug, Clone, Default)]
pub struct FileSet {
    /// What the set is, for messages (`out/crypto-lakehouse/k3s`, `a fresh build of k3s`).
    pub label: String,
    /// Contents by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The file the user named, when they named a file rather than a directory.
    pub primary: Option<String>,
}

impl FileSet {
    /// A set from files in memory.
    pub fn from_memory(label: impl Into<String>, files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        FileSet { label: label.into(), files: files.into_iter().collect(), primary: None }
    }

    /// Reads a directory (recursively; hidden entries but `.env` skipped), or a file together
    /// with the directory around it (a Compose file's mounts and secrets live next to it).
    pub fn read(path: &Path) -> std::io::Result<Self> {
        if path.is_file() {
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut set = FileSet::read_dir(dir)?;
            set.files.insert(name.clone(), std::fs::read(path)?);
            set.primary = Some(name);
            set.label = path.display().to_string();
            return Ok(set);
        }
        FileSet::read_dir(path)
    }

    fn read_dir(path: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        {
            let mut stack: Vec<PathBuf> = vec![path.to_path_buf()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d)? {
                    let e = e?;
                    let p = e.path();
                    if e.file_name().to_string_lossy().starts_with('.') && !is_env_file(&p) {
                        continue;
                    }
                    if e.file_type()?.is_dir() {
                        stack.push(p);
                    } else if let Ok(rel) = p.strip_prefix(path) {
                        files.insert(rel.to_string_lossy().replace('\\', "/"), std::fs::read(&p)?);
                    }
                }
            }
        }
        Ok(FileSet { label: path.display().to_string(), files, primary: None })
    }

    /// Reads a YAML stream from standard input as one file named `-`.
    pub fn stdin() -> std::io::Result<Self> {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        Ok(FileSet::from_memory("standard input", [("-".to_string(), buf)]))
    }

    /// A file's text, if present and UTF-8.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.files.get(path).and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// `.env` files are hidden but belong to a Compose project.
fn is_env_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == ".env")
}
