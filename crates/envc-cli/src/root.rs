//! Finding the project root as cargo finds `Cargo.toml`: the nearest directory, from the
//! current one upwards, that holds both `environments/` and `profiles/`.

use std::path::{Path, PathBuf};

/// The nearest directory from `start` upwards (itself included) holding `environments/` and
/// `profiles/`, or `None`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("environments").is_dir() && d.join("profiles").is_dir())
        .map(Path::to_path_buf)
}

/// The root to use: `--root` when given, else the discovered one, else `.` (whose errors then
/// say what is missing). A discovered root is shown relative to the current directory
/// (`..`, `../..`), so the paths messages name stay short.
pub fn resolve(given: Option<&Path>) -> PathBuf {
    if let Some(g) = given {
        return g.to_path_buf();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return PathBuf::from(".");
    };
    match discover(&cwd) {
        Some(found) if found == cwd => PathBuf::from("."),
        Some(found) => {
            let up = cwd
                .strip_prefix(&found)
                .map_or(0, |rest| rest.components().count());
            let mut p = PathBuf::new();
            for _ in 0..up {
                p.push("..");
            }
            p
        }
        None => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_project_upwards() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        std::fs::create_dir_all(root.join("environments/app/files")).expect("mkdir");
        std::fs::create_dir_all(root.join("profiles")).expect("mkdir");
        std::fs::create_dir_all(root.join("out/app/k3s")).expect("mkdir");
        assert_eq!(discover(&root.join("out/app/k3s")).as_deref(), Some(root));
        assert_eq!(
            discover(&root.join("environments/app/files")).as_deref(),
            Some(root)
        );
        assert_eq!(discover(root).as_deref(), Some(root));
        // Only environments/ is not a project.
        let other = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(other.path().join("environments")).expect("mkdir");
        assert_eq!(discover(other.path()), None);
    }
}
