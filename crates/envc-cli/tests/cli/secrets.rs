//! No credential of an input is ever printed: every hand-written reference file diffed against
//! every other (Compose against manifests, Compose against Compose, manifests against
//! manifests, a two-file Compose project), in text and JSON, and no digest of a secret either.

use std::path::{Path, PathBuf};

use crate::common::{envc, parts, repo};

/// The reference files' credentials, with what in a file shows it holds them (the value, or
/// its base64 in Secret data, or the variable that holds it when the value is also an ordinary
/// word elsewhere, like the MinIO console passphrase that is also a cluster name).
const SECRETS: [(&str, &[&str]); 9] = [
    ("password123", &["password123", "cGFzc3dvcmQxMjM="]),
    ("prefect123", &["prefect123", "cHJlZmVjdDEyMw=="]),
    ("admin123", &["admin123", "YWRtaW4xMjM="]),
    ("minioadmin123", &["minioadmin123"]),
    ("crypto-lakehouse-token", &["crypto-lakehouse-token"]),
    ("local-dev-salt", &["local-dev-salt"]),
    ("s5cmd123456", &["s5cmd123456"]),
    ("development-api-key", &["ZGV2ZWxvcG1lbnQtYXBpLWtleQ=="]),
    (
        "crypto-lakehouse-local",
        &["MINIO_CONSOLE_PBKDF_PASSPHRASE"],
    ),
];

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/reference-lakehouse")
}

fn files(dir: &str, names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| fixtures().join(dir).join(n)).collect()
}

/// Whether `word` occurs in `text` as a whole word (not inside a longer name).
fn has_word(text: &str, word: &str) -> bool {
    let edge =
        |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    text.match_indices(word).any(|(i, _)| {
        edge(text[..i].chars().next_back()) && edge(text[i + word.len()..].chars().next())
    })
}

/// The secrets the inputs hold.
fn secrets_of(inputs: &[&PathBuf]) -> Vec<&'static str> {
    let text: String = inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                walk(p)
                    .iter()
                    .map(|f| std::fs::read_to_string(f).unwrap_or_default())
                    .collect()
            } else {
                std::fs::read_to_string(p).unwrap_or_default()
            }
        })
        .collect();
    SECRETS
        .iter()
        .filter(|(_, evidence)| evidence.iter().any(|e| text.contains(e)))
        .map(|(v, _)| *v)
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Runs `envc diff --from A... --to B...` in text and JSON and checks nothing leaks; returns
/// how many runs compared services.
fn check(t: &Path, from: &[&PathBuf], to: &[&PathBuf]) -> usize {
    let secrets = secrets_of(&[from, to].concat());
    let mut compared = 0;
    for format in ["text", "json"] {
        let mut args = vec!["diff".to_string()];
        for f in from {
            args.extend(["--from".into(), f.display().to_string()]);
        }
        for f in to {
            args.extend(["--to".into(), f.display().to_string()]);
        }
        args.extend(["--format".into(), format.into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = parts(&envc(t, &a));
        assert!(code == 0 || code == 1, "{a:?}: exit {code}\n{err}");
        compared += 1;
        for s in &secrets {
            assert!(
                !has_word(&out, s) && !has_word(&err, s),
                "{a:?} printed the secret {s}:\n{out}{err}"
            );
        }
        assert!(
            !out.contains("<secret:"),
            "a secret id reached the output: {a:?}"
        );
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&out).expect("json");
            assert!(v["summary"]["services"].as_u64().is_some(), "{out}");
        }
    }
    compared
}

#[test]
fn reference_file_diffs_print_no_secret() {
    let t = tempfile::tempdir().expect("tempdir");
    let mut compose = vec![fixtures().join("docker-compose.full.yml")];
    compose.extend(files(
        "infrastructure/docker-compose",
        &[
            "docker-compose.essential.yml",
            "docker-compose.legacy.yml",
            "docker-compose.optional.yml",
        ],
    ));
    let mut manifests = vec![fixtures().join("k3s-local-infrastructure.yml")];
    manifests.extend(files(
        "infrastructure/k3s",
        &[
            "k3s-essential.yml",
            "k3s-observability.yml",
            "k3s-production.yml",
        ],
    ));
    manifests.extend(files(
        "local-dev/manifests",
        &[
            "minio/minio.yaml",
            "prefect/prefect-server.yaml",
            "s5cmd/s5cmd-executor.yaml",
            "observability/grafana.yaml",
            "observability/openobserve.yaml",
            "observability/otel-collector.yaml",
        ],
    ));
    manifests.push(fixtures().join("local-dev/manifests"));
    let mut runs = 0;
    for c in &compose {
        for m in &manifests {
            runs += check(t.path(), &[c], &[m]);
        }
    }
    for (i, a) in compose.iter().enumerate() {
        runs += check(t.path(), &[a], &[&compose[(i + 1) % compose.len()]]);
    }
    for (i, a) in manifests.iter().enumerate() {
        runs += check(t.path(), &[a], &[&manifests[(i + 1) % manifests.len()]]);
    }
    // A project of two files (the override adds Jupyter with its token on the command line).
    let over = fixtures().join("infrastructure/docker-compose/docker-compose.override.yml");
    runs += check(t.path(), &[&compose[0], &over], &[&manifests[0]]);
    runs += check(t.path(), &[&compose[0], &over], &[&compose[0]]);
    assert!(runs > 100, "{runs}");
}

/// A Compose file and a Kubernetes Secret holding the same password: same label on both
/// sides, never the value or a hash of it.
#[test]
fn same_secret_same_label_and_changed_secret_differs() {
    let t = tempfile::tempdir().expect("tempdir");
    let compose = t.path().join("compose.yaml");
    std::fs::write(
        &compose,
        "services:\n  db:\n    image: postgres:16\n    environment:\n      DB_PASS: hunter2-long\n      URL: postgres://app:hunter2-long@db/app\n    command: [\"postgres\", \"--password\", \"hunter2-long\"]\n",
    )
    .expect("write");
    let k8s = t.path().join("db.yaml");
    std::fs::write(
        &k8s,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {pass: changed-pw}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db}\nspec:\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers:\n        - name: db\n          image: postgres:16\n          args: [postgres, --password, hunter2-long]\n          env:\n            - {name: DB_PASS, valueFrom: {secretKeyRef: {name: db, key: pass}}}\n            - {name: URL, value: \"postgres://app:hunter2-long@db/app\"}\n",
    )
    .expect("write");
    let (code, out, err) = parts(&envc(
        t.path(),
        &[
            "diff",
            "--from",
            compose.to_str().expect("p"),
            "--to",
            k8s.to_str().expect("p"),
        ],
    ));
    assert_eq!(code, 1, "{out}{err}");
    for s in ["hunter2-long", "changed-pw"] {
        assert!(!out.contains(s), "{s} leaked:\n{out}");
    }
    // The changed password differs; command and URL hold the same one and do not.
    assert!(
        out.contains("env.DB_PASS: <secret 1> -> <secret 2>"),
        "{out}"
    );
    assert!(!out.contains("env.URL") && !out.contains("args"), "{out}");
}
