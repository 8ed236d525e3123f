//! `envc promote` and release locks on the lakehouse: a model change reaches dev modes at once
//! and prod modes only through a promotion; the plan; every gate; `--only`; JSON; lock editing
//! that keeps comments; rollback; hand-edited locks; first releases.

use std::fs;
use std::path::Path;

use crate::common::{envc, lakehouse_project, parts, tree};

const ENV_FILE: &str = "environments/crypto-lakehouse.toml";
const EKS_LOCK: &str = "locks/crypto-lakehouse/eks.toml";
const EKS_LOG: &str = "locks/crypto-lakehouse/eks.log.toml";

/// The lakehouse with its locks, built for every mode.
fn project() -> tempfile::TempDir {
    let t = lakehouse_project();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    t
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Files that differ between two snapshots of a tree.
fn changed(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, bytes) in after {
        if before.iter().find(|(n, _)| n == name).map(|(_, b)| b) != Some(bytes) {
            out.push(name.clone());
        }
    }
    for (name, _) in before {
        if !after.iter().any(|(n, _)| n == name) {
            out.push(name.clone());
        }
    }
    out.sort();
    out
}

fn prefixes(files: &[String]) -> Vec<String> {
    let mut p: Vec<String> = files
        .iter()
        .map(|f| {
            if f.starts_with("out/") {
                f.split('/').take(3).collect::<Vec<_>>().join("/")
            } else {
                f.clone()
            }
        })
        .collect();
    p.dedup();
    p
}

fn promote(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["promote"];
    a.extend_from_slice(args);
    parts(&envc(dir, &a))
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = promote(dir, &a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v)
}

fn failures(plan: &serde_json::Value) -> Vec<(String, Option<String>)> {
    plan["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .flat_map(|g| g["failures"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            (
                f["gate"].as_str().unwrap_or_default().to_string(),
                f["service"].as_str().map(String::from),
            )
        })
        .collect()
}

#[test]
fn a_model_change_reaches_dev_at_once_and_prod_through_a_promotion() {
    let t = project();
    let dir = t.path();
    let before = tree(dir);
    edit(
        dir,
        ENV_FILE,
        "grafana/grafana:12.4.11",
        "grafana/grafana:12.4.12",
    );

    // Dev modes follow the model; prod modes keep their lock and say what waits.
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    let built = tree(dir);
    assert_eq!(
        prefixes(&changed(&before, &built)),
        [
            ENV_FILE,
            "out/crypto-lakehouse/docker",
            "out/crypto-lakehouse/k3s"
        ]
    );
    for mode in ["eks", "gke"] {
        assert!(
            err.contains(&format!(
                "pending promotion: grafana (grafana/grafana:12.4.11 -> grafana/grafana:12.4.12) in crypto-lakehouse/{mode}"
            )),
            "{err}"
        );
    }
    assert!(!err.contains("pending promotion: minio"), "{err}");
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "pending promotions are not stale output: {err}");
    assert!(err.contains("pending promotion: grafana"), "{err}");

    // The plan names the service and both tags, and writes nothing.
    let (code, out, err) = promote(dir, &["k3s", "eks"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("grafana update"), "{out}");
    assert!(
        out.contains("image   grafana/grafana:12.4.11 -> grafana/grafana:12.4.12"),
        "{out}"
    );
    assert!(
        out.contains("in eks's artifacts: the image only"),
        "the artifact-level change: {out}"
    );
    assert!(out.contains("1 unit to promote"), "{out}");
    assert!(err.contains("dry run"), "{err}");
    assert!(changed(&built, &tree(dir)).is_empty(), "a dry run wrote");

    // --write changes the eks lock, its log and eks's artifacts, and nothing else.
    let (code, out, err) = promote(dir, &["k3s", "eks", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    let written = tree(dir);
    assert_eq!(
        prefixes(&changed(&built, &written)),
        [EKS_LOG, EKS_LOCK, "out/crypto-lakehouse/eks"]
    );
    assert!(read(dir, EKS_LOCK).contains("image = \"grafana/grafana:12.4.12\""));
    let values = read(dir, "out/crypto-lakehouse/eks/chart/values.yaml");
    assert!(
        values.contains("image: grafana/grafana:12.4.12"),
        "{values}"
    );
    let log = read(dir, EKS_LOG);
    assert!(
        log.contains("old_image = \"grafana/grafana:12.4.11\"")
            && log.contains("new_image = \"grafana/grafana:12.4.12\""),
        "{log}"
    );

    // What was written is what a build makes; only gke still waits.
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("in crypto-lakehouse/gke") && !err.contains("in crypto-lakehouse/eks"),
        "{err}"
    );
    let (code, out, _) = promote(dir, &["k3s", "eks"]);
    assert_eq!(code, 0);
    assert!(out.contains("0 units to promote"), "{out}");
}

#[test]
fn unpinned_images_are_refused() {
    for (image, built) in [
        ("grafana/grafana:latest", false),
        ("grafana/grafana:12", true),
    ] {
        let t = project();
        let dir = t.path();
        edit(dir, ENV_FILE, "grafana/grafana:12.4.11", image);
        if built {
            // A floating tag is a warning in dev: k3s builds, and is verified with it.
            let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
            assert_eq!(code, 0, "{err}");
        }
        let before = tree(dir);
        let (code, out, _) = promote(dir, &["k3s", "eks", "--write"]);
        assert_eq!(code, 1, "{image}: {out}");
        assert!(out.contains("FAIL pinned-image"), "{out}");
        assert!(out.contains(&format!("grafana: image `{image}`")), "{out}");
        assert!(out.contains("fix: pin a version tag or a digest"), "{out}");
        assert!(out.contains("promotion refused, nothing written"), "{out}");
        assert!(
            changed(&before, &tree(dir)).is_empty(),
            "{image}: something was written"
        );
    }
}

#[test]
fn dev_secret_values_and_credential_literals_are_refused() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "description = \"Password of Grafana's `admin` user\"",
        "description = \"Password of Grafana's `admin` user\"\ndev_value = \"grafana-dev-password\"",
    );
    edit(
        dir,
        ENV_FILE,
        "GF_LOG_MODE = \"console\"",
        "GF_LOG_MODE = \"console\"\nGF_DATABASE_URL = \"postgres://grafana:grafana-dev-password@postgres/grafana\"",
    );
    let before = tree(dir);
    let (code, plan) = json(dir, &["k3s", "eks", "--write"]);
    assert_eq!(code, 1, "{plan:#}");
    let f = failures(&plan);
    assert!(
        f.contains(&("dev-secret".into(), Some("grafana".into()))),
        "{f:?}"
    );
    assert_eq!(plan["written"], false);
    assert!(changed(&before, &tree(dir)).is_empty());

    // A literal in a variable named like a credential (a dev mode's profile might tolerate a
    // throw-away value; prod never).
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "GF_LOG_MODE = \"console\"",
        "GF_LOG_MODE = \"console\"\nGF_SMTP_PASSWORD = \"changeme\"",
    );
    let (code, out, _) = promote(dir, &["k3s", "eks"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL dev-secret"), "{out}");
    assert!(
        out.contains(
            "grafana: env `GF_SMTP_PASSWORD` looks like a credential but holds a literal value"
        ),
        "{out}"
    );
}

#[test]
fn the_source_must_be_built_verified_and_allowed() {
    // The model moved on but k3s was not rebuilt: its committed artifacts are stale and do
    // not hold the new image.
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "jaegertracing/jaeger:2.22.0",
        "jaegertracing/jaeger:2.23.0",
    );
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 1);
    let f = failures(&plan);
    assert!(f.contains(&("source-up-to-date".into(), None)), "{f:?}");
    assert!(
        f.contains(&("verified-image".into(), Some("jaeger".into()))),
        "{f:?}"
    );

    // Never built at all.
    fs::remove_dir_all(dir.join("out/crypto-lakehouse/k3s")).expect("rm");
    let (code, out, _) = promote(dir, &["k3s", "eks"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("out/crypto-lakehouse/k3s does not exist"),
        "{out}"
    );

    // eks takes releases from k3s only.
    let t = project();
    let (code, out, _) = promote(t.path(), &["docker", "eks"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL source-allowed"), "{out}");
    assert!(
        out.contains("allows promotions from k3s only, not from docker"),
        "{out}"
    );

    // A profile that overrides the image in the source: what it runs is not what is promoted.
    let t = project();
    let dir = t.path();
    fs::write(
        dir.join("profiles/k3s.toml"),
        read(dir, "profiles/k3s.toml")
            + "\n[services.grafana]\nimage = \"grafana/grafana:12.4.10\"\n",
    )
    .expect("write");
    edit(
        dir,
        ENV_FILE,
        "grafana/grafana:12.4.11",
        "grafana/grafana:12.4.12",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 1);
    assert!(
        failures(&plan).contains(&("verified-image".into(), Some("grafana".into()))),
        "{plan:#}"
    );
}

#[test]
fn prod_requirements_of_the_target_profile_are_enforced() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        "profiles/eks.toml",
        "min_replicas = { minio = 4,",
        "min_replicas = { grafana = 2, minio = 4,",
    );
    edit(
        dir,
        "profiles/eks.toml",
        "require_pdb = [\"minio\",",
        "require_pdb = [\"jaeger\", \"minio\",",
    );
    // Limits everywhere: drop jaeger's (and the monitoring quota's limits, which would
    // require them in every mode).
    edit(
        dir,
        ENV_FILE,
        "quota = { limits_cpu = \"3\", limits_memory = \"6Gi\", pods = 10,",
        "quota = { pods = 10,",
    );
    edit(
        dir,
        ENV_FILE,
        "resources = { requests = { cpu = \"100m\", memory = \"256Mi\" }, limits = { cpu = \"500m\", memory = \"1Gi\" } }\nmetrics = { port = \"telemetry\"",
        "resources = { requests = { cpu = \"100m\", memory = \"256Mi\" } }\nmetrics = { port = \"telemetry\"",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = promote(dir, &["k3s", "eks"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL prod-requirements"), "{out}");
    assert!(
        out.contains("grafana: runs 1 replica at least, profiles/eks.toml requires 2"),
        "{out}"
    );
    assert!(
        out.contains("jaeger: runs one replica, so it gets no PodDisruptionBudget"),
        "{out}"
    );
    assert!(out.contains("jaeger: sets no cpu or memory limit"), "{out}");
}

#[test]
fn only_promotes_a_subset() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "grafana/grafana:12.4.11",
        "grafana/grafana:12.4.12",
    );
    edit(
        dir,
        ENV_FILE,
        "jaegertracing/jaeger:2.22.0",
        "jaegertracing/jaeger:2.23.0",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    let (code, plan) = json(dir, &["k3s", "eks", "--only", "grafana"]);
    assert_eq!(code, 0, "{plan:#}");
    let units: Vec<&str> = plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter_map(|u| u["unit"].as_str())
        .collect();
    assert_eq!(units, ["grafana"]);
    assert_eq!(plan["only"], serde_json::json!(["grafana"]));

    let (code, out, err) = promote(dir, &["k3s", "eks", "--only", "grafana", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    let lock = read(dir, EKS_LOCK);
    assert!(
        lock.contains("grafana/grafana:12.4.12"),
        "grafana is promoted"
    );
    assert!(
        lock.contains("jaegertracing/jaeger:2.22.0"),
        "jaeger is not"
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pending promotion: jaeger (jaegertracing/jaeger:2.22.0 -> jaegertracing/jaeger:2.23.0) in crypto-lakehouse/eks"), "{err}");
    assert!(!err.contains("pending promotion: grafana (grafana/grafana:12.4.11 -> grafana/grafana:12.4.12) in crypto-lakehouse/eks"), "{err}");

    let (code, _, err) = promote(dir, &["k3s", "eks", "--only", "grafna"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `grafana`?"), "{err}");
}

#[test]
fn json_plans_have_the_documented_shape() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "PREFECT_LOGGING_LEVEL = \"INFO\"\n# The root",
        "PREFECT_LOGGING_LEVEL = \"DEBUG\"\n# The root",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 0, "{plan:#}");
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(crate::common::repo().join("docs/promote.schema.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    for key in schema["required"].as_array().expect("required") {
        let key = key.as_str().expect("key");
        let nullable = schema["properties"][key]["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "null"));
        assert!(
            plan.get(key).is_some() && (nullable || !plan[key].is_null()),
            "plan lacks `{key}`: {plan:#}"
        );
    }
    // The lakehouse's eks lock predates release numbers: its log's six promotions make this
    // one release 7, and the chart leaves the unnumbered 0.1.0.
    assert_eq!(plan["previous_release"], serde_json::Value::Null);
    assert_eq!(plan["release"], 7);
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["gates"].as_array().map(Vec::len), Some(7));
    let unit = &plan["units"][0];
    assert_eq!(unit["unit"], "prefect-server");
    assert_eq!(unit["action"], "update");
    assert_eq!(unit["old_image"], unit["new_image"]);
    assert_ne!(unit["old_config"], unit["new_config"]);
    let change = &unit["changes"][0];
    assert_eq!(change["key"], "env.PREFECT_LOGGING_LEVEL");
    assert_eq!(
        (change["old"].as_str(), change["new"].as_str()),
        (Some("INFO"), Some("DEBUG"))
    );
    assert_eq!(plan["summary"]["promoted"], 1);
}

#[test]
fn lock_edits_keep_comments_and_layout() {
    let t = project();
    let dir = t.path();
    // A release engineer annotates the lock.
    edit(
        dir,
        EKS_LOCK,
        "[services.minio]\n",
        "# minio: upgrade only with the storage team\n[services.minio]\n",
    );
    edit(
        dir,
        EKS_LOCK,
        "[services.grafana]\n",
        "# grafana: dashboards team\n[services.grafana]\n",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "comments are no edit: {err}");
    let annotated = read(dir, EKS_LOCK);
    edit(
        dir,
        ENV_FILE,
        "grafana/grafana:12.4.11",
        "grafana/grafana:12.4.12",
    );
    edit(
        dir,
        ENV_FILE,
        "GF_LOG_MODE = \"console\"",
        "GF_LOG_MODE = \"console\"\nGF_LOG_LEVEL = \"warn\"",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = promote(dir, &["k3s", "eks", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    let lock = read(dir, EKS_LOCK);
    assert!(
        lock.contains("# minio: upgrade only with the storage team\n[services.minio]\n"),
        "{lock}"
    );
    assert!(
        lock.contains(
            "# grafana: dashboards team\n[services.grafana]\nimage = \"grafana/grafana:12.4.12\"\n"
        ),
        "{lock}"
    );
    assert!(
        lock.contains("GF_LOG_MODE = \"console\"\nGF_LOG_LEVEL = \"warn\"\n"),
        "{lock}"
    );
    // Only grafana's entry changed: every line before it is as it was, but for the release
    // number the lock gains (it had none: the number continues the log's six promotions).
    let head = |s: &str| {
        s.split("[services.grafana]")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(!annotated.contains("\nrelease ="), "{annotated}");
    let numbered = head(&lock);
    assert!(numbered.contains("]\nrelease = 7\n"), "{numbered}");
    assert_eq!(head(&annotated), numbered.replacen("release = 7\n", "", 1));
}

#[test]
fn rolling_back_is_promoting_an_earlier_lock() {
    let t = project();
    let dir = t.path();
    let original_lock = read(dir, EKS_LOCK);
    let original_out = tree(&dir.join("out/crypto-lakehouse/eks"));
    let promotions = |log: &str| log.lines().filter(|l| *l == "[[promotion]]").count();
    let logged = promotions(&read(dir, EKS_LOG));
    fs::write(dir.join("eks-previous.toml"), &original_lock).expect("save");
    edit(
        dir,
        ENV_FILE,
        "grafana/grafana:12.4.11",
        "grafana/grafana:12.4.12",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = promote(dir, &["k3s", "eks", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    // The plan says which release it makes and what the chart's version becomes: the lock
    // had no number yet, its log counts the releases before.
    assert!(
        out.contains(&format!(
            "release {} once written, the lock's first number (chart version 0.1.0 -> {}.0.0)",
            logged + 1,
            logged + 1
        )),
        "{out}"
    );

    let (code, out, err) = promote(
        dir,
        &[
            "eks-previous.toml",
            "eks",
            "--write",
            "-m",
            "roll back grafana",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("image   grafana/grafana:12.4.12 -> grafana/grafana:12.4.11"),
        "{out}"
    );
    assert!(out.contains("skip source-up-to-date"), "{out}");
    assert!(
        out.contains(&format!(
            "release {} -> {} once written (chart version {}.0.0 -> {}.0.0)",
            logged + 1,
            logged + 2,
            logged + 1,
            logged + 2
        )),
        "{out}"
    );
    // What runs is what ran; the chart is a new release all the same (a rollback is a
    // promotion: its version only grows, so Helm and chart repositories see a new chart).
    let mut after: std::collections::BTreeMap<_, _> = tree(&dir.join("out/crypto-lakehouse/eks"))
        .into_iter()
        .collect();
    let mut before: std::collections::BTreeMap<_, _> = original_out.clone().into_iter().collect();
    let chart = after.remove("chart/Chart.yaml").expect("Chart.yaml");
    before.remove("chart/Chart.yaml");
    assert_eq!(after, before);
    let chart = String::from_utf8_lossy(&chart).to_string();
    let release = logged + 2;
    assert!(
        chart.contains(&format!("\nversion: {release}.0.0\n")),
        "{chart}"
    );
    assert!(
        chart.contains(&format!("envc.dev/release: '{release}'")),
        "{chart}"
    );
    let lock = read(dir, EKS_LOCK);
    assert!(lock.contains("image = \"grafana/grafana:12.4.11\""));
    assert!(lock.contains(&format!("\nrelease = {release}\n")), "{lock}");
    let log = read(dir, EKS_LOG);
    assert_eq!(promotions(&log), logged + 2, "{log}");
    assert!(log.contains(&format!("\nrelease = {release}\n")), "{log}");
    assert!(
        log.contains("from = \"lock:eks-previous.toml\"")
            && log.contains("message = \"roll back grafana\""),
        "{log}"
    );
    // The model still has the newer tag: it waits again.
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pending promotion: grafana"), "{err}");
}

#[test]
fn hand_edited_locks_and_wrong_targets_are_errors() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        EKS_LOCK,
        "GF_USERS_ALLOW_SIGN_UP = \"false\"",
        "GF_USERS_ALLOW_SIGN_UP = \"true\"",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "eks"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "error[E-lock-tampered]: the locked release of `grafana` does not match its recorded hash"
        ),
        "{err}"
    );
    assert!(err.contains("locks/crypto-lakehouse/eks.toml:"), "{err}");
    assert!(
        err.contains("`envc promote --env crypto-lakehouse k3s eks --write`"),
        "{err}"
    );

    // An image changed by hand is caught too, at its entry's hash, and nothing is written.
    let t = project();
    let dir = t.path();
    let lock = fs::read_to_string(dir.join(EKS_LOCK)).unwrap();
    let image = lock
        .lines()
        .find(|l| l.starts_with("image = \"redis:"))
        .expect("redis image in the lock")
        .to_string();
    let built = tree(&dir.join("out"));
    edit(dir, EKS_LOCK, &image, "image = \"redis:6.0.0\"");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "eks"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error[E-lock-tampered]: the locked release of `redis`"),
        "{err}"
    );
    let line = lock.lines().position(|l| l == image).expect("image line") + 2; // the entry's `config` line follows its image
    assert!(
        err.contains(&format!("locks/crypto-lakehouse/eks.toml:{line}:")),
        "{err}"
    );
    assert_eq!(tree(&dir.join("out")), built, "nothing written");

    let t = project();
    let dir = t.path();
    edit(dir, EKS_LOCK, "mode = \"eks\"", "mode = \"gke\"");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "eks"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("this lock is for mode `gke`, not `eks`"),
        "{err}"
    );

    let (code, _, err) = promote(dir, &["docker", "k3s"]);
    assert_eq!(code, 2);
    assert!(err.contains("mode `k3s` is a dev mode"), "{err}");
    let (code, _, err) = promote(dir, &["k3s", "ekss"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `eks`?"), "{err}");
}

#[test]
fn dev_modes_ignore_locks() {
    let t = project();
    let dir = t.path();
    fs::copy(
        dir.join(EKS_LOCK),
        dir.join("locks/crypto-lakehouse/k3s.toml"),
    )
    .expect("copy");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s", "--check"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning[W-lock-ignored]"), "{err}");
}

#[test]
fn a_first_release_creates_the_lock() {
    let t = project();
    let dir = t.path();
    fs::remove_dir_all(dir.join("locks")).expect("rm");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("pending promotion"),
        "no lock, nothing pending: {err}"
    );
    let before = tree(&dir.join("out/crypto-lakehouse/eks"));
    let (code, out, err) = promote(dir, &["k3s", "eks", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("first release: the new lock pins 11 units"),
        "{out}"
    );
    assert!(
        out.contains("release 1 once written (chart version 1.0.0)"),
        "{out}"
    );
    let lock = read(dir, EKS_LOCK);
    assert!(lock.starts_with("# Release lock of environment `crypto-lakehouse` in mode `eks`"));
    let services = lock
        .lines()
        .filter(|l| l.starts_with("[services.") && l.matches('.').count() == 1)
        .count();
    assert_eq!(services, 10, "{lock}");
    // Only the headers name the lock, and the chart is release 1; the content is what eks
    // ran before.
    let after = tree(&dir.join("out/crypto-lakehouse/eks"));
    let chart = after
        .iter()
        .find(|(n, _)| n == "chart/Chart.yaml")
        .map(|(_, b)| String::from_utf8_lossy(b).to_string())
        .unwrap_or_default();
    assert!(chart.contains("\nversion: 1.0.0\n"), "{chart}");
    assert!(chart.contains("envc.dev/release: '1'"), "{chart}");
    for ((name, a), (_, b)) in before.iter().zip(after.iter()) {
        let strip = |x: &[u8]| {
            String::from_utf8_lossy(x)
                .lines()
                .filter(|l| !l.contains("sources") && !l.contains(".toml") && !l.contains(".hbs"))
                .filter(|l| {
                    name != "chart/Chart.yaml"
                        || !(l.starts_with("version:")
                            || l.starts_with("appVersion:")
                            || l.contains("envc.dev/release"))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(a), strip(b), "{name}");
    }
}

#[test]
fn unpromoted_services_are_not_deployed_in_prod() {
    let t = project();
    let dir = t.path();
    let text = read(dir, ENV_FILE)
        + "\n[services.whoami]\nimage = \"traefik/whoami:v1.10.3\"\nresources = { requests = { cpu = \"10m\", memory = \"16Mi\" }, limits = { cpu = \"100m\", memory = \"64Mi\" } }\nports = { http = { container = 8080 } }\n";
    fs::write(dir.join(ENV_FILE), text).expect("write");
    // The prod profile may already tune it before it is promoted.
    fs::write(
        dir.join("profiles/eks.toml"),
        read(dir, "profiles/eks.toml") + "\n[services.whoami]\nreplicas = 2\n",
    )
    .expect("write");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pending promotion: whoami (new service, image traefik/whoami:v1.10.3) in crypto-lakehouse/eks"), "{err}");
    assert!(!err.contains("pending promotion: environment"), "{err}");
    assert!(dir.join("out/crypto-lakehouse/k3s/whoami.yaml").exists());
    let values = read(dir, "out/crypto-lakehouse/eks/chart/values.yaml");
    assert!(
        !values.contains("whoami"),
        "eks deploys an unpromoted service"
    );
    let (code, out, err) = promote(dir, &["k3s", "eks", "--only", "whoami", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("whoami add"), "{out}");
    assert!(read(dir, "out/crypto-lakehouse/eks/chart/values.yaml").contains("whoami"));
}

#[test]
fn environment_wide_settings_are_a_unit_of_their_own() {
    let t = project();
    let dir = t.path();
    // The committed eks profile serves a domain of its own; without it eks takes the model's.
    edit(
        dir,
        "profiles/eks.toml",
        "[environments.crypto-lakehouse.environment]\ningress_host = \"lakehouse.example.com\"\n",
        "",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    edit(
        dir,
        ENV_FILE,
        "ingress_host = \"crypto-lakehouse.local\"",
        "ingress_host = \"lakehouse.example.com\"",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "pending promotion: environment (environment settings changed) in crypto-lakehouse/eks"
        ),
        "{err}"
    );
    // Ingress hosts are in the chart's generated templates, not among the release values.
    let ingress = read(dir, "out/crypto-lakehouse/eks/chart/templates/ingress.yaml");
    assert!(
        ingress.contains("grafana.crypto-lakehouse.local")
            && !ingress.contains("lakehouse.example.com"),
        "eks moved with the model"
    );
    let (code, plan) = json(dir, &["k3s", "eks", "--only", "environment"]);
    assert_eq!(code, 0, "{plan:#}");
    let actions: Vec<(&str, &str)> = plan["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap_or_default(),
                u["action"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(actions.contains(&("environment", "update")), "{actions:?}");
    assert!(actions.contains(&("grafana", "affected")), "{actions:?}");
    let (code, out, err) = promote(dir, &["k3s", "eks", "--only", "environment", "--write"]);
    assert_eq!(code, 0, "{out}{err}");
    let ingress = read(dir, "out/crypto-lakehouse/eks/chart/templates/ingress.yaml");
    assert!(
        ingress.contains("grafana.lakehouse.example.com"),
        "{ingress}"
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--check"]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("in crypto-lakehouse/eks"), "{err}");
}

#[test]
fn every_namespace_needs_a_quota_in_prod() {
    let t = project();
    let dir = t.path();
    edit(
        dir,
        ENV_FILE,
        "quota = { limits_cpu = \"3\", limits_memory = \"6Gi\", pods = 10, persistent_volume_claims = 4 }\n",
        "",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 1, "{plan:#}");
    let gate = plan["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["gate"] == "prod-requirements")
        .expect("prod-requirements");
    assert_eq!(gate["verdict"], "failed");
    assert_eq!(
        gate["failures"][0]["reason"],
        "namespace `crypto-lakehouse-monitoring` has no ResourceQuota"
    );
    assert_eq!(gate["failures"][0]["service"], serde_json::Value::Null);
}

#[test]
fn a_partial_promotion_that_needs_what_it_leaves_out_is_refused() {
    let t = project();
    let dir = t.path();
    let text = read(dir, ENV_FILE)
        + "\n[services.whoami]\nimage = \"traefik/whoami:v1.10.3\"\nresources = { requests = { cpu = \"10m\", memory = \"16Mi\" }, limits = { cpu = \"100m\", memory = \"64Mi\" } }\nports = { http = { container = 8080 } }\n";
    fs::write(dir.join(ENV_FILE), text).expect("write");
    edit(
        dir,
        ENV_FILE,
        "PREFECT_LOGGING_LEVEL = \"INFO\"\n# The root",
        "PREFECT_LOGGING_LEVEL = \"INFO\"\nWHOAMI_URL = \"http://${whoami.address}\"\n# The root",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
    assert_eq!(code, 0, "{err}");
    let before = tree(dir);
    let (code, out, err) = promote(dir, &["k3s", "eks", "--only", "prefect-server", "--write"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL target-builds"), "{out}");
    assert!(out.contains("E-disabled-service"), "{out}");
    assert!(
        out.contains("fix: `whoami` is not promoted to eks yet: promote it along (`--only prefect-server,whoami`)"),
        "{out}"
    );
    assert!(
        err.contains("error[E-disabled-service]"),
        "the diagnostic is shown: {err}"
    );
    assert!(changed(&before, &tree(dir)).is_empty());
    // Both together are fine.
    let (code, out, _) = promote(dir, &["k3s", "eks", "--only", "prefect-server,whoami"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn services_neither_mode_deploys_do_not_block_promotions() {
    let t = project();
    let dir = t.path();
    // A debugging service, off by default and in every mode, with an unpinned image.
    let path = dir.join(ENV_FILE);
    let mut text = fs::read_to_string(&path).expect("read");
    text.push_str("\n[services.debug-shell]\nimage = \"busybox:latest\"\nenabled = false\n");
    fs::write(&path, text).expect("write");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "eks"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("debug-shell"),
        "not pending where it is not deployed: {err}"
    );
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 0, "{plan:#}");
    assert!(failures(&plan).is_empty(), "{:?}", failures(&plan));
}

fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn committed_gates_read_git_head_not_the_working_tree() {
    // k3s is rebuilt with the new image, but the build is not committed: the working tree is
    // a fresh build, HEAD is not.
    let t = project();
    let dir = t.path();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "built"]);
    edit(
        dir,
        ENV_FILE,
        "jaegertracing/jaeger:2.22.0",
        "jaegertracing/jaeger:2.23.0",
    );
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let (code, plan) = json(dir, &["k3s", "eks"]);
    assert_eq!(code, 1, "{plan}");
    assert!(
        failures(&plan).contains(&("source-up-to-date".into(), None)),
        "{plan}"
    );
    let text = plan.to_string();
    assert!(
        text.contains("out/crypto-lakehouse/k3s differs from git HEAD"),
        "{text}"
    );

    // Committed, the same promotion passes that gate.
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "k3s verified"]);
    let (_, plan) = json(dir, &["k3s", "eks"]);
    assert!(
        !failures(&plan).contains(&("source-up-to-date".into(), None)),
        "{plan}"
    );

    // Outside a git repository, the plan says the gates could not check HEAD.
    let t = project();
    let (_, out, _) = promote(t.path(), &["k3s", "eks"]);
    assert!(out.contains("is not in a git repository"), "{out}");
}
