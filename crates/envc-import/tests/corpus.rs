//! Every Compose project and manifest set of the kompose corpus (tests/fixtures/kompose) is
//! imported without a panic: the result parses as a model file whose report heads it, or the
//! input is refused with a message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(what: &str, result: Result<envc_import::Import, envc_import::ImportError>) -> bool {
    match result {
        Ok(import) => {
            let env = &import.files[0];
            assert_eq!(
                env.path,
                format!("environments/{}.toml", import.env),
                "{what}"
            );
            let parsed: Result<toml::Table, _> = env.text.parse();
            assert!(
                parsed.is_ok(),
                "{what}: not TOML: {:?}\n{}",
                parsed.err(),
                env.text
            );
            for line in import.report.lines() {
                assert!(env.text.contains(&format!("# - {line}")), "{what}: {line}");
            }
            for f in &import.files {
                if f.path.starts_with("profiles/") {
                    let p: Result<toml::Table, _> = f.text.parse();
                    assert!(p.is_ok(), "{what}: {} is not TOML: {:?}", f.path, p.err());
                }
            }
            true
        }
        Err(e) => {
            eprintln!("{what}: {e}");
            assert!(!e.message.is_empty(), "{what}: an error without a message");
            false
        }
    }
}

#[test]
fn the_kompose_corpus_imports_without_panics() {
    let base = repo().join("tests/fixtures/kompose");
    let cases = std::fs::read_to_string(base.join("cases.tsv")).unwrap();
    let (mut compose_ok, mut k8s_ok, mut n) = (0, 0, 0);
    for line in cases
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let files: Vec<PathBuf> = cols[1].split_whitespace().map(|f| base.join(f)).collect();
        let manifests: Vec<PathBuf> = cols[2].split_whitespace().map(|f| base.join(f)).collect();
        n += 1;
        let c = envc_import::compose(&envc_import::ComposeOptions {
            files,
            env: Some("corpus".into()),
            ..Default::default()
        });
        compose_ok += usize::from(check(&format!("{} (compose)", cols[0]), c));
        let k = envc_import::k8s(&envc_import::K8sOptions {
            paths: manifests,
            env: Some("corpus".into()),
            ..Default::default()
        });
        k8s_ok += usize::from(check(&format!("{} (k8s)", cols[0]), k));
    }
    // Every case is a valid project and a set with workloads.
    assert_eq!(n, 49);
    assert_eq!(compose_ok, n, "Compose projects imported");
    assert_eq!(k8s_ok, n, "manifest sets imported");
}
