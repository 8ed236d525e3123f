//! Secrets from a cloud store (`[secrets_store]`, the lakehouse's eks and gke modes): `envc
//! diff` compares a Secret the External Secrets Operator fills as the same secret with another
//! source, cited to the profile line, without a value; a promotion that adds a secret says
//! which entry the store must hold before the pods start.

use std::fs;

use crate::common::{envc, lakehouse_project, parts};
use crate::tools::tool;

/// `envc diff A B --format json` in `dir` with the pinned helm on `PATH` (the prod charts are
/// rendered); `None` after saying why it skips when there is no helm.
fn diff_json(dir: &std::path::Path, a: &str, b: &str) -> Option<(i32, String, String)> {
    let helm = tool(
        "helm",
        &format!("envc diff {a} {b} of the lakehouse's secret stores"),
    )?;
    let bin = helm.parent().map(std::path::Path::to_path_buf)?;
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_envc"))
        .args(["diff", a, b, "--format", "json"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", &path)
        .output()
        .expect("run envc");
    Some(parts(&o))
}

const ENV_FILE: &str = "environments/crypto-lakehouse.toml";

#[test]
fn a_secret_from_the_store_is_the_dev_secret_with_another_source() {
    let t = lakehouse_project();
    let dir = t.path();
    let Some((code, out, err)) = diff_json(dir, "k3s", "eks") else {
        return;
    };
    assert_eq!(code, 0, "{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let differences: Vec<&serde_json::Value> = report["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let source = differences
        .iter()
        .find(|d| {
            d["service"] == "secret/crypto-lakehouse/postgres-password"
                && d["key"] == "object.source"
        })
        .unwrap_or_else(|| panic!("no source difference for postgres-password: {report:#}"));
    assert_eq!(source["class"], "expected");
    assert_eq!(source["a"], "a Secret in the set");
    assert!(
        source["b"].as_str().is_some_and(
            |b| b.starts_with("AWS Secrets Manager `crypto-lakehouse/eks/postgres-password`")
        ),
        "{source:#}"
    );
    let profile = fs::read_to_string(dir.join("profiles/eks.toml")).expect("profile");
    let line = profile
        .lines()
        .position(|l| l.starts_with("provider = \"aws-secrets-manager\""))
        .map(|i| format!("profiles/eks.toml:{}", i + 1));
    assert_eq!(source["at"].as_str().map(String::from), line);
    // Same keys on both sides: the Secret is the same one.
    assert!(
        !differences.iter().any(|d| d["service"]
            .as_str()
            .is_some_and(|s| s.starts_with("secret/"))
            && d["key"] == "object.keys"),
        "{report:#}"
    );
    // Nothing is drift, and no dev value is shown.
    assert!(
        differences.iter().all(|d| d["class"] != "drift"),
        "{report:#}"
    );
    let dev =
        fs::read_to_string(crate::common::repo().join("out/crypto-lakehouse/k3s/secrets.yaml"))
            .expect("the committed k3s Secrets");
    let values: Vec<&str> = dev
        .lines()
        .filter_map(|l| l.trim().strip_prefix("value: "))
        .collect();
    assert!(values.len() >= 4, "{dev}");
    for v in values {
        assert!(!out.contains(v), "dev value {v} shown");
    }
}

#[test]
fn a_promotion_that_adds_a_secret_names_the_entry_the_store_must_hold() {
    let t = lakehouse_project();
    let dir = t.path();
    let edit = |from: &str, to: &str| {
        let path = dir.join(ENV_FILE);
        let text = fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "no {from:?}");
        fs::write(&path, text.replacen(from, to, 1)).expect("write");
    };
    edit(
        "[secrets.grafana-admin-password]\n",
        "[secrets.grafana-secret-key]\ndescription = \"Key Grafana signs its cookies with\"\n\n[secrets.grafana-admin-password]\n",
    );
    edit(
        "GF_SECURITY_ADMIN_USER = \"admin\"\n",
        "GF_SECURITY_ADMIN_USER = \"admin\"\nGF_SECURITY_SECRET_KEY = \"${secret.grafana-secret-key}\"\n",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = parts(&envc(dir, &["promote", "k3s", "eks", "--format", "json"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("json");
    let notes: Vec<&str> = plan["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
        .filter(|n| n.contains("store"))
        .collect();
    assert_eq!(
        notes,
        [
            "secret `grafana-secret-key` is new to eks's store: put its value into AWS Secrets Manager as `crypto-lakehouse/eks/grafana-secret-key` before the pods that read it start (the README of out/crypto-lakehouse/eks gives the command)"
        ],
        "{plan:#}"
    );
    // Once promoted, the store holds the entry and the README the command; a promotion
    // without new secrets has no such note.
    let (code, _, err) = parts(&envc(
        dir,
        &["promote", "k3s", "eks", "--write", "-m", "secret key"],
    ));
    assert_eq!(code, 0, "{err}");
    let readme =
        fs::read_to_string(dir.join("out/crypto-lakehouse/eks/README.md")).expect("readme");
    assert!(
        readme.contains(
            "--secret-id crypto-lakehouse/eks/grafana-secret-key --secret-string \"$value\""
        ),
        "{readme}"
    );
    let tfvars =
        fs::read_to_string(dir.join("out/crypto-lakehouse/eks/terraform/terraform.tfvars.json"))
            .expect("tfvars");
    assert!(tfvars.contains("\"name\": \"crypto-lakehouse/eks/grafana-secret-key\""));
    let (_, out, _) = parts(&envc(dir, &["promote", "k3s", "eks", "--format", "json"]));
    assert!(!out.contains("is new to eks's store"), "{out}");
}

#[test]
fn two_stores_differ_only_in_their_source() {
    let t = lakehouse_project();
    let dir = t.path();
    let Some((code, out, err)) = diff_json(dir, "eks", "gke") else {
        return;
    };
    assert_eq!(code, 0, "{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let secrets: Vec<&serde_json::Value> = report["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| {
            d["service"]
                .as_str()
                .is_some_and(|s| s.starts_with("secret/"))
        })
        .collect();
    // Each of the four secrets: only its source differs, as expected, at the eks store's line.
    assert_eq!(secrets.len(), 4, "{report:#}");
    let profile = fs::read_to_string(dir.join("profiles/eks.toml")).expect("profile");
    let line = profile
        .lines()
        .position(|l| l.starts_with("provider = \"aws-secrets-manager\""))
        .map(|i| format!("profiles/eks.toml:{}", i + 1));
    for d in &secrets {
        assert_eq!(d["key"], "object.source", "{d:#}");
        assert_eq!(d["class"], "expected", "{d:#}");
        assert_eq!(d["at"].as_str().map(String::from), line, "{d:#}");
        let name = d["service"].as_str().and_then(|s| s.rsplit('/').next());
        let name = name.unwrap_or_default();
        assert!(
            d["a"].as_str().is_some_and(|a| a.starts_with(&format!(
                "AWS Secrets Manager `crypto-lakehouse/eks/{name}`"
            ))),
            "{d:#}"
        );
        assert!(
            d["b"].as_str().is_some_and(|b| b.starts_with(&format!(
                "Google Secret Manager `crypto-lakehouse-gke-{name}`"
            )) && b.ends_with("(SecretStore/crypto-lakehouse)")),
            "{d:#}"
        );
    }
    assert!(
        report["differences"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|d| d["class"] != "drift"),
        "{report:#}"
    );
}
