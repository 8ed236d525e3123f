//! Shared helpers: running the binary, copying fixtures, comparing with golden files.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Runs `envc` with arguments in a directory.
pub fn envc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_envc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run envc")
}

/// Exit code, stdout and stderr of a run.
pub fn parts(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for e in fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            fs::copy(&p, &t).expect("copy file");
        }
    }
}

/// A temporary copy of the repository's whole model (environments/, profiles/ and the release
/// locks of its prod modes, locks/), every environment, without out/.
pub fn repository_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    for d in ["environments", "profiles", "locks"] {
        copy_dir(&repo().join(d), &t.path().join(d));
    }
    t
}

/// The environment the CLI tests run on.
pub const LAKEHOUSE: &str = "crypto-lakehouse";

/// A temporary copy of the repository's model (environments/, profiles/ and the release
/// locks of its prod modes, locks/) reduced to the lakehouse, without out/. The other
/// environments (airflow) are left out so that commands need no `--env`, and their
/// `[environments.<env>...]` tables in the profiles are blanked line for line, so every line
/// the tests cite keeps its number.
pub fn lakehouse_project() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    for d in ["environments", "locks"] {
        copy_dir(&repo().join(d), &t.path().join(d));
        for e in fs::read_dir(t.path().join(d)).expect("read dir") {
            let p = e.expect("entry").path();
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if stem != LAKEHOUSE {
                if p.is_dir() {
                    fs::remove_dir_all(&p).expect("remove dir");
                } else {
                    fs::remove_file(&p).expect("remove file");
                }
            }
        }
    }
    let profiles = t.path().join("profiles");
    copy_dir(&repo().join("profiles"), &profiles);
    for e in fs::read_dir(&profiles).expect("read dir") {
        let p = e.expect("entry").path();
        let text = fs::read_to_string(&p).expect("read profile");
        fs::write(&p, only_lakehouse_tables(&text)).expect("write profile");
    }
    t
}

/// A profile with the tables scoped to other environments blanked (lines kept, emptied).
fn only_lakehouse_tables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let header = line.trim_start();
        if header.starts_with('[') {
            let name = header.trim_start_matches('[');
            blank = name
                .strip_prefix("environments.")
                .is_some_and(|rest| !rest.starts_with(&format!("{LAKEHOUSE}.")));
        }
        if !blank {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Every file under a directory (relative path, bytes), sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// Whether golden files should be rewritten.
pub fn blessing() -> bool {
    std::env::var_os("ENVC_BLESS").is_some_and(|v| v != "0")
}

/// Compares `actual` with a golden file, or rewrites it when blessing.
pub fn golden(path: &Path, actual: &str) {
    if blessing() {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, actual).expect("bless");
        return;
    }
    let expected = fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {} (run with ENVC_BLESS=1 and review)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the actual output (re-bless with ENVC_BLESS=1 and review the diff):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Compares two directory trees, or replaces `expected` with `actual` when blessing.
pub fn golden_tree(expected: &Path, actual: &Path) {
    if blessing() {
        let _ = fs::remove_dir_all(expected);
        copy_dir(actual, expected);
        return;
    }
    let e = tree(expected);
    let a = tree(actual);
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&e),
        names(&a),
        "file lists differ between {} and a fresh build",
        expected.display()
    );
    for ((name, eb), (_, ab)) in e.iter().zip(&a) {
        assert!(
            eb == ab,
            "{}/{name} differs from a fresh build (re-bless with ENVC_BLESS=1 and review):\n--- expected\n{}\n--- actual\n{}",
            expected.display(),
            String::from_utf8_lossy(eb),
            String::from_utf8_lossy(ab)
        );
    }
}
