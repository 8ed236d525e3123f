//! Error cases: every directory under tests/errors/ is a project whose `envc check` must exit 2
//! with exactly the diagnostics in its `expected.stderr`.

use std::fs;

use crate::common::{copy_dir, envc, golden, parts, repo};

#[test]
fn every_error_case_pins_its_diagnostics() {
    let root = repo().join("tests/errors");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .expect("tests/errors")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the error fixtures, found {}",
        cases.len()
    );
    for case in cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let t = tempfile::tempdir().expect("tempdir");
        for d in ["environments", "profiles"] {
            copy_dir(&case.join(d), &t.path().join(d));
        }
        let (code, stdout, stderr) = parts(&envc(t.path(), &["check", "--color", "never"]));
        assert_eq!(code, 2, "case {name}: exit code (stderr: {stderr})");
        assert!(
            stdout.is_empty(),
            "case {name}: nothing on stdout, got {stdout}"
        );
        // Every error names a file, line and column.
        let headers = stderr.lines().filter(|l| l.starts_with("error[")).count();
        let locations = stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("┌─ "))
            .count();
        assert!(
            headers > 0 && locations >= headers,
            "case {name}: every error needs a file:line:column\n{stderr}"
        );
        golden(&case.join("expected.stderr"), &stderr);
    }
}

#[test]
fn a_truncated_environment_leaves_out_untouched() {
    let t = crate::common::lakehouse_project();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let before = crate::common::tree(&t.path().join("out"));
    let env = t.path().join("environments/crypto-lakehouse.toml");
    let text = fs::read_to_string(&env).expect("read");
    let cut = text
        .find("PREFECT_SERVER_DATABASE_CONNECTION_URL = ")
        .expect("url")
        + 50;
    fs::write(&env, &text[..cut]).expect("truncate");
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("environments/crypto-lakehouse.toml:"),
        "names the file and line: {err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        crate::common::tree(&t.path().join("out")),
        before,
        "out/ changed after a failed build"
    );

    // A misspelled key is reported with its position and a suggestion.
    fs::write(
        &env,
        text.replacen("image = \"postgres:", "imgae = \"postgres:", 1),
    )
    .expect("write");
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown key `imgae`") && err.contains("did you mean `image`?"),
        "{err}"
    );
    let line = text[..text.find("image = \"postgres:").expect("image")]
        .lines()
        .count()
        + 1;
    assert!(
        err.contains(&format!("environments/crypto-lakehouse.toml:{line}:1")),
        "line {line}: {err}"
    );
    assert_eq!(
        crate::common::tree(&t.path().join("out")),
        before,
        "out/ changed after a failed build"
    );
}

#[test]
fn usage_errors_exit_2() {
    let t = crate::common::lakehouse_project();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3z"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown mode `k3z`") && err.contains("did you mean `k3s`?"),
        "{err}"
    );
    let (code, _, err) = parts(&envc(t.path(), &["build", "--env", "lakehouse"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown environment `lakehouse`"), "{err}");
    let (code, _, _) = parts(&envc(t.path(), &["build", "--no-such-flag"]));
    assert_eq!(code, 2);
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = parts(&envc(empty.path(), &["build"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("failed to read directory") && err.contains("hint"),
        "{err}"
    );
}
