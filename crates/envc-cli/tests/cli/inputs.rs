//! How `envc diff --from/--to` reads its inputs, and accepted-differences rules: exactly the
//! files named, regular files only, several files as one Compose project, located errors with
//! exit 2, values moved into a secret, values equal only once normalised, `--strict` and pinned
//! rules.

use std::fs;
use std::path::Path;

use crate::common::{envc, parts};

const COMPOSE: &str = "services:\n  web:\n    image: app:1\n    environment:\n      DB_HOST: db\n      DB_NAME: shop\n    ports: [\"8080:80\"]\n  db:\n    image: postgres:16\n";

const K8S: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {ports: [{port: 5432}]}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: web, namespace: shop}\nstringData: {name: shop}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: app:1\n          ports: [{containerPort: 80}]\n          env:\n            - {name: DB_HOST, value: db.shop.svc.cluster.local}\n            - {name: DB_NAME, valueFrom: {secretKeyRef: {name: web, key: name}}}\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(&p, text).expect("write");
    p.display().to_string()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    parts(&envc(dir, args))
}

#[test]
fn exactly_the_named_files_and_several_make_one_project() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = write(t.path(), "compose.yaml", COMPOSE);
    // A neighbour that is not part of what was named, and would be a service if read.
    write(
        t.path(),
        "other/compose.yaml",
        "services:\n  stray:\n    image: x\n",
    );
    let over = write(
        t.path(),
        "compose.prod.yaml",
        "services:\n  web:\n    image: app:2\n",
    );
    let (code, out, err) = run(
        t.path(),
        &["diff", "--from", &a, "--to", &a, "--format", "json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("stray"), "{out}");
    // Two files are merged as `docker compose -f a -f b` merges them.
    let (code, out, err) = run(t.path(), &["diff", "--from", &a, "--to", &a, "--to", &over]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("image: app:1 -> app:2"), "{out}");
}

#[test]
fn errors_are_located_and_exit_2() {
    let t = tempfile::tempdir().expect("tempdir");
    let good = write(t.path(), "compose.yaml", COMPOSE);
    let bad = write(t.path(), "bad.yaml", "apiVersion: v1\nkind: [x\n");
    let (code, _, err) = run(t.path(), &["diff", "--from", &good, "--to", &bad]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.yaml:3:1: not valid YAML"), "{err}");
    let json = write(t.path(), "m.json", "{\n  \"kind\": ,\n}\n");
    let (code, _, err) = run(t.path(), &["diff", "--from", &good, "--to", &json]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("m.json:2:11: not valid JSON"), "{err}");
    let req = write(
        t.path(),
        "req/compose.yaml",
        "services:\n  web:\n    image: \"app:${TAG:?set TAG}\"\n",
    );
    let (code, _, err) = run(t.path(), &["diff", "--from", &req, "--to", &good]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("compose.yaml:3:17: required variable TAG is missing a value: set TAG"),
        "{err}"
    );
    // Empty standard input is an error, not every service missing.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_envc"));
    let o = cmd
        .current_dir(t.path())
        .args(["diff", "--from", &good, "--to", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("<stdin>: empty input"));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_not_read() {
    let t = tempfile::tempdir().expect("tempdir");
    let good = write(t.path(), "compose.yaml", COMPOSE);
    let fifo = t.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return;
    }
    // Reading it would block for good; the run must end, refusing it.
    let (code, _, err) = run(
        t.path(),
        &["diff", "--from", &good, "--to", fifo.to_str().expect("p")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn moved_into_a_secret_and_normalized_values() {
    let t = tempfile::tempdir().expect("tempdir");
    let c = write(t.path(), "compose.yaml", COMPOSE);
    let k = write(t.path(), "k8s.yaml", K8S);
    let (code, out, err) = run(
        t.path(),
        &[
            "diff",
            "--from",
            &c,
            "--to",
            &k,
            "--format",
            "json",
            "--show-normalized",
        ],
    );
    assert!(code == 0 || code == 1, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    let find = |key: &str| {
        r["differences"]
            .as_array()
            .expect("list")
            .iter()
            .find(|d| d["service"] == "web" && d["key"] == key)
            .cloned()
            .unwrap_or_default()
    };
    let moved = find("env.DB_NAME");
    assert_eq!(moved["class"], "moved-into-secret", "{r:#}");
    assert_eq!(moved["a"], moved["b"]);
    // The plain side is a secret on the other side, so it is not printed either.
    assert!(
        moved["a"]
            .as_str()
            .is_some_and(|v| v.starts_with("<secret ")),
        "{moved}"
    );
    assert_eq!(r["summary"]["moved_into_secret"], 1);
    // Equal once `db.shop.svc.cluster.local` is read as `db`: listed, with each file's value.
    let host = find("env.DB_HOST");
    assert_eq!(
        (
            host["class"].as_str(),
            host["a"].as_str(),
            host["b"].as_str()
        ),
        (
            Some("normalized"),
            Some("db"),
            Some("db.shop.svc.cluster.local")
        )
    );
    let (_, out, _) = run(t.path(), &["diff", "--from", &c, "--to", &k]);
    assert!(
        !out.contains("env.DB_HOST"),
        "not listed unless asked: {out}"
    );
}

#[test]
fn accepted_rules_are_checked_pinned_and_strict() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = write(t.path(), "a/compose.yaml", COMPOSE);
    let b = write(
        t.path(),
        "b/compose.yaml",
        &COMPOSE.replace("image: app:1", "image: app:2"),
    );
    let diff = |rules: &str, extra: &[&str]| {
        let f = write(t.path(), "accepted.toml", rules);
        let mut args = vec!["diff", "--from", &a, "--to", &b, "--accepted", &f];
        args.extend(extra);
        run(t.path(), &args)
    };
    let rule = |body: &str| format!("# rules\n\n[[accept]]\n{body}reason = \"r\"\n");
    let (code, _, err) = diff(&rule("service = \"webb\"\nkey = \"image\"\n"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("accepted.toml:3: unknown service or object `webb`")
            && err.contains("did you mean `web`"),
        "{err}"
    );
    let (code, _, err) = diff(&rule("service = \"web\"\nkey = \"imag\"\n"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("accepted.toml:3: unknown facet `imag`")
            && err.contains("did you mean `image`"),
        "{err}"
    );
    // Pinned to the value it accepts: app:2 is accepted, app:3 would be drift again.
    let (code, out, err) = diff(
        &rule("service = \"web\"\nkey = \"image\"\nto = \"app:2\"\n"),
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = diff(
        &rule("service = \"web\"\nkey = \"image\"\nto = \"app:3\"\n"),
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("drift") && out.contains("stale"), "{out}");
    // A stale rule fails only a --strict run.
    let stale = format!(
        "{}\n[[accept]]\nservice = \"db\"\nkey = \"replicas\"\nreason = \"old\"\n",
        rule("service = \"web\"\nkey = \"image\"\n")
    );
    let (code, out, _) = diff(&stale, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = diff(&stale, &["--strict"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--strict"), "{err}");
}

/// A binary file bind-mounted in Compose and the same bytes in a ConfigMap's `binaryData`
/// mounted at the same path (kompose's `--volumes=configMap` shape: `subPath` and `items`) are
/// the same file; a changed byte is a difference shown as labels and sizes, never as bytes.
#[test]
fn binary_files_compare_as_bytes_and_print_as_sizes() {
    let t = tempfile::tempdir().expect("tempdir");
    let bytes: Vec<u8> = vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, b'p', b'w', 0x00, 0x9c];
    fs::write(t.path().join("blob.bin"), &bytes).expect("write");
    let compose = write(
        t.path(),
        "compose.yaml",
        "services:\n  db:\n    image: mysql\n    volumes:\n      - ./blob.bin:/data/blob.bin\n",
    );
    // `base64` of the bytes, and of them with byte 4 zeroed.
    let (encoded, encoded_changed) = ("H4sIAP/+cHcAnA==", "H4sIAAD+cHcAnA==");
    let k8s = |data: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: db}}\nspec:\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec:\n      containers:\n        - name: db\n          image: mysql\n          volumeMounts: [{{mountPath: /data/blob.bin, name: cm, subPath: blob.bin}}]\n      volumes:\n        - name: cm\n          configMap: {{name: db-cm0, items: [{{key: blob.bin, path: blob.bin}}]}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: db-cm0}}\nbinaryData:\n  blob.bin: {}\n",
            data
        )
    };
    let same = write(t.path(), "same.yaml", &k8s(encoded));
    let (code, out, err) = run(t.path(), &["diff", "--from", &compose, "--to", &same]);
    assert_eq!(code, 0, "the same bytes on both sides: {out}{err}");
    let other = write(t.path(), "other.yaml", &k8s(encoded_changed));
    for format in ["text", "json"] {
        let (code, out, err) = run(
            t.path(),
            &[
                "diff", "--from", &compose, "--to", &other, "--format", format,
            ],
        );
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.contains("<content 1, binary, 10 bytes>")
                && out.contains("<content 2, binary, 10 bytes>"),
            "{out}"
        );
        // The same file on both sides: no volume stands in for it.
        assert!(!out.contains("volumes./data"), "{out}");
        assert!(!out.contains("text_diff") && !out.contains("@@"), "{out}");
    }
}
