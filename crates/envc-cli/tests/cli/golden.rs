//! Scenario golden tests: every directory under tests/scenarios/ is a project whose fresh build
//! must equal its reviewed `expected/` tree, mode by mode.

use std::fs;

use crate::common::{copy_dir, envc, golden_tree, parts, repo};

#[test]
fn scenarios_match_their_reviewed_artifacts() {
    let root = repo().join("tests/scenarios");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in cases {
        let t = tempfile::tempdir().expect("tempdir");
        for d in ["environments", "profiles"] {
            copy_dir(&case.join(d), &t.path().join(d));
        }
        // A scenario's prod modes may be built from release locks.
        if case.join("locks").is_dir() {
            copy_dir(&case.join("locks"), &t.path().join("locks"));
        }
        let (code, _, err) = parts(&envc(t.path(), &["build", "--out", "expected"]));
        assert_eq!(code, 0, "{}: {err}", case.display());
        golden_tree(&case.join("expected"), &t.path().join("expected"));
    }
}

#[test]
fn the_committed_out_directory_is_a_fresh_build() {
    // out/ is the golden file of the lakehouse: reviewed in every commit that changes it.
    let r = repo();
    let (code, out, err) = parts(&envc(&r, &["build", "--check"]));
    assert_eq!(
        code, 0,
        "out/ is stale: run `cargo run -- build` and review the diff\n{out}{err}"
    );
}
