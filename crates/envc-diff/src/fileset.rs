//! A set of files to extract facts from: in memory (a fresh build) or on disk.
//!
//! On disk, exactly what the user named is read: a folder (recursively) only when a folder is
//! named, otherwise the named files, and of a Compose project also the files it refers to
//! (`.env`, `env_file`, bind-mounted files, secrets and configs, `extends` and `include`),
//! added with [`FileSet::add_referenced`]. Only regular files are read (a FIFO or a device is
//! refused, never opened), each at most [`MAX_FILE_BYTES`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file read: 64 MiB. Artifact sets are text; anything larger is not one.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Files by relative path (`/` separated).
#[derive(Debug, Clone, Default)]
pub struct FileSet {
    /// What the set is, for messages (`out/crypto-lakehouse/k3s`, `a fresh build of k3s`).
    pub label: String,
    /// Contents by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The file the user named first, when they named files rather than a directory.
    pub primary: Option<String>,
    /// Every file the user named, in order (several make one Compose project, merged as
    /// `docker compose -f A -f B` merges them).
    pub named: Vec<String>,
    /// Where relative paths of the set start on disk (the first named file's folder, or the
    /// named folder); `None` in memory.
    pub base: Option<PathBuf>,
    /// Variables that take precedence over `.env` in Compose interpolation (the caller's
    /// environment, as for `docker compose`); empty in memory, so builds do not depend on it.
    pub environ: BTreeMap<String, String>,
    /// Env files given with `--env-file` (paths in the set), used instead of `.env`.
    pub env_files: Vec<String>,
    /// Compose profiles to activate; empty: every service is read.
    pub profiles: Vec<String>,
    /// Files that were not read (not regular, too large, missing), with the reason.
    pub skipped: Vec<String>,
}

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The path as named.
    pub path: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn err(path: &Path, message: impl Into<String>) -> InputError {
    InputError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Reads one regular file within the size limit; anything else is an error saying why.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| err(path, io_message(&e)))?;
    if !meta.is_file() {
        return Err(err(
            path,
            "not a regular file (FIFOs, sockets and devices are not read)",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(
            path,
            format!("larger than the 64 MiB limit ({} bytes)", meta.len()),
        ));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf))
        .map_err(|e| err(path, io_message(&e)))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(err(path, "larger than the 64 MiB limit"));
    }
    Ok(buf)
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => format!("failed to read: {e}"),
    }
}

impl FileSet {
    /// A set from files in memory.
    pub fn from_memory(
        label: impl Into<String>,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Self {
        FileSet {
            label: label.into(),
            files: files.into_iter().collect(),
            ..Default::default()
        }
    }

    /// Reads what the user named: one folder (recursively; hidden entries but `.env` skipped,
    /// non-regular files skipped and listed), or one or more files.
    pub fn read(paths: &[PathBuf]) -> Result<Self, InputError> {
        let Some(first) = paths.first() else {
            return Err(InputError {
                path: String::new(),
                message: "no input named".into(),
            });
        };
        if std::fs::metadata(first).is_ok_and(|m| m.is_dir()) {
            if paths.len() > 1 {
                return Err(err(
                    first,
                    "a folder is read alone; name the files of a several-file project instead",
                ));
            }
            return FileSet::read_dir(first);
        }
        let base = first
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut set = FileSet {
            label: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            base: Some(base.clone()),
            ..Default::default()
        };
        for p in paths {
            let key = relative_key(&base, p);
            let bytes = read_regular(p)?;
            set.files.insert(key.clone(), bytes);
            set.named.push(key);
        }
        set.primary = set.named.first().cloned();
        Ok(set)
    }

    fn read_dir(path: &Path) -> Result<Self, InputError> {
        let mut set = FileSet {
            label: path.display().to_string(),
            base: Some(path.to_path_buf()),
            ..Default::default()
        };
        let mut stack: Vec<PathBuf> = vec![path.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| err(&d, io_message(&e)))?;
            for e in entries {
                let e = e.map_err(|e| err(&d, io_message(&e)))?;
                let p = e.path();
                if e.file_name().to_string_lossy().starts_with('.') && !is_env_file(&p) {
                    continue;
                }
                // Symbolic links to folders are not followed (they can loop); to files, they are.
                let Ok(kind) = e.file_type() else { continue };
                if kind.is_dir() {
                    stack.push(p);
                    continue;
                }
                let Ok(rel) = p.strip_prefix(path) else {
                    continue;
                };
                let key = rel.to_string_lossy().replace('\\', "/");
                match read_regular(&p) {
                    Ok(bytes) => {
                        set.files.insert(key, bytes);
                    }
                    Err(e) => set.skipped.push(format!("{key}: {}", e.message)),
                }
            }
        }
        Ok(set)
    }

    /// Reads a file a Compose project refers to (`rel` relative to the set's base), when it is
    /// a regular file within the limit; otherwise lists it as skipped. Nothing happens in
    /// memory, or when the file is in the set already.
    pub fn add_referenced(&mut self, rel: &str) {
        let Some(base) = &self.base else { return };
        let key = normal_key(rel);
        if self.files.contains_key(&key) || key.is_empty() {
            return;
        }
        let path = base.join(rel);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                if !key.starts_with("..") {
                    self.add_folder(&path, &key);
                }
            }
            Ok(_) => match read_regular(&path) {
                Ok(bytes) => {
                    self.files.insert(key, bytes);
                }
                Err(e) => self.skipped.push(format!("{rel}: {}", e.message)),
            },
            Err(_) => {}
        }
    }

    /// A bind-mounted folder's files, when it is small (at most 64 regular files of at most
    /// 1 MiB each, two levels deep): what a container sees there. Larger folders are compared as
    /// a volume.
    fn add_folder(&mut self, path: &Path, key: &str) {
        let mut found = Vec::new();
        let mut stack = vec![(path.to_path_buf(), 0)];
        while let Some((d, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(kind) = e.file_type() else { continue };
                if kind.is_dir() && depth < 2 {
                    stack.push((p, depth + 1));
                } else if kind.is_file() {
                    found.push(p);
                } else if kind.is_dir() {
                    return;
                }
                if found.len() > 64 {
                    return;
                }
            }
        }
        for p in found {
            let Ok(rel) = p.strip_prefix(path) else {
                continue;
            };
            let k = format!("{key}/{}", rel.to_string_lossy().replace('\\', "/"));
            if std::fs::metadata(&p).is_ok_and(|m| m.len() <= 1 << 20)
                && let Ok(bytes) = read_regular(&p)
            {
                self.files.insert(k, bytes);
            }
        }
    }

    /// Reads a YAML or JSON stream from standard input as one file named `-` (shown as
    /// `<stdin>`), at most [`MAX_FILE_BYTES`].
    pub fn stdin() -> Result<Self, InputError> {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| InputError {
                path: "<stdin>".into(),
                message: format!("failed to read: {e}"),
            })?;
        if buf.len() as u64 > MAX_FILE_BYTES {
            return Err(InputError {
                path: "<stdin>".into(),
                message: "larger than the 64 MiB limit".into(),
            });
        }
        let mut set = FileSet::from_memory("<stdin>", [("-".to_string(), buf)]);
        set.named.push("-".into());
        Ok(set)
    }

    /// A file's text, if present and UTF-8.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.files
            .get(path)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// How a file of the set is named in messages: `<stdin>` for standard input, else the path
    /// on disk when the set is on disk.
    pub fn display(&self, key: &str) -> String {
        match (&self.base, key) {
            (_, "-") => "<stdin>".into(),
            (Some(b), k) if b != Path::new(".") => b.join(k).display().to_string(),
            (_, k) => k.to_string(),
        }
    }
}

/// A named file's key: its path relative to the base folder when inside it, else as named.
fn relative_key(base: &Path, p: &Path) -> String {
    let rel = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if rel == base {
        return name;
    }
    match p.strip_prefix(base) {
        Ok(r) => normal_key(&r.to_string_lossy()),
        Err(_) => p.to_string_lossy().replace('\\', "/"),
    }
}

/// `./a//b` as `a/b`, `a/../b` as `b` (a leading `..` kept).
pub fn normal_key(rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in rel.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// `.env` files are hidden but belong to a Compose project.
fn is_env_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == ".env")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_files_only_regular_and_bounded() {
        let t = std::env::temp_dir().join(format!("envc-fileset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(t.join("sub")).unwrap_or_default();
        std::fs::write(t.join("compose.yaml"), "services: {}\n").unwrap_or_default();
        std::fs::write(t.join("other.yaml"), "x: 1\n").unwrap_or_default();
        std::fs::write(t.join("sub/deep.yaml"), "x: 1\n").unwrap_or_default();
        let set = FileSet::read(&[t.join("compose.yaml")]).unwrap_or_default();
        assert_eq!(set.files.keys().collect::<Vec<_>>(), ["compose.yaml"]);
        let dir = FileSet::read(std::slice::from_ref(&t)).unwrap_or_default();
        assert_eq!(dir.files.len(), 3);
        // A folder is not a file of a project.
        assert!(FileSet::read(&[t.join("compose.yaml"), t.join("sub")]).is_err());
        #[cfg(unix)]
        {
            let fifo = t.join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success());
            if made {
                let e = FileSet::read(&[fifo]).map(|_| ()).unwrap_err();
                assert!(e.message.contains("not a regular file"), "{e}");
                // In a folder, it is skipped, not read (reading it would block).
                let dir = FileSet::read(std::slice::from_ref(&t)).unwrap_or_default();
                assert!(dir.skipped.iter().any(|s| s.starts_with("fifo")), "{dir:?}");
            }
        }
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn keys_are_normal() {
        assert_eq!(normal_key("./a//b/../c"), "a/c");
        assert_eq!(normal_key("../x"), "../x");
    }
}
