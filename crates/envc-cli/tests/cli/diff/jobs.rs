//! `envc diff` on an environment with a job, a cron job, an init step and a sidecar: the
//! Compose and Kubernetes modes of one model do not drift, and a planted change of the job's
//! command, the cron schedule or the sidecar's image in the k3s artifacts is drift.

use std::fs;
use std::path::Path;

use crate::common::{copy_dir, envc, parts, tree};

const MODEL: &str = r#"[environment]
name = "batch"
description = "A web app with a migration job, a nightly report, a seed step and a proxy"

[namespaces.app]
name = "batch"

[secrets.db-password]
description = "Password of the app user"
dev_value = "batch-dev-password"

[services.db]
image = "postgres:17.11-alpine"
ports = { pg = { container = 5432 } }
env = { POSTGRES_USER = "app", POSTGRES_PASSWORD = { secret = "db-password" } }
volumes = { data = { path = "/var/lib/postgresql/data", size = "1Gi" } }
probes = { readiness = { exec = { command = ["pg_isready", "-U", "app"] } } }

[services.migrate]
image = "ghcr.io/example/batch-app:1.2.0"
workload = "job"
restart = "on-failure"
command = ["/bin/app", "migrate", "--up"]
env = { DB_PASSWORD = { secret = "db-password" } }
depends_on = { db = "healthy" }

[services.migrate.job]
retries = 2
deadline = "30m"

[services.report]
image = "ghcr.io/example/batch-app:1.2.0"
workload = "cronjob"
args = ["report", "--nightly"]

[services.report.job]
schedule = "17 3 * * *"
concurrency = "forbid"

[services.web]
image = "ghcr.io/example/batch-app:1.2.0"
args = ["serve"]
ports = { http = { container = 8080 } }
depends_on = { migrate = "completed" }

[services.web.init.seed]
command = ["/bin/app", "seed"]
env = { DB_PASSWORD = { secret = "db-password" } }

[services.web.sidecars.proxy]
image = "envoyproxy/envoy:v1.31.0"
args = ["-c", "/etc/envoy/envoy.yaml"]
"#;

const DOCKER: &str = "[profile]\nbackend = \"compose\"\ntier = \"dev\"\n";

const K3S: &str = "[profile]\nbackend = \"kubernetes\"\ntier = \"dev\"\n\n[kubernetes]\nversion = \"1.33\"\nstorage_class = \"local-path\"\n";

fn project() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path();
    fs::create_dir_all(p.join("environments")).expect("mkdir");
    fs::create_dir_all(p.join("profiles")).expect("mkdir");
    fs::write(p.join("environments/batch.toml"), MODEL).expect("write");
    fs::write(p.join("profiles/docker.toml"), DOCKER).expect("write");
    fs::write(p.join("profiles/k3s.toml"), K3S).expect("write");
    t
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = parts(&envc(dir, args));
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v)
}

fn differences(r: &serde_json::Value) -> &Vec<serde_json::Value> {
    r["differences"].as_array().expect("differences")
}

/// `service key: class` of every drift.
fn drift(r: &serde_json::Value) -> Vec<String> {
    differences(r)
        .iter()
        .filter(|d| d["class"] == "drift")
        .map(|d| format!("{} {}: {} -> {}", d["service"], d["key"], d["a"], d["b"]))
        .collect()
}

#[test]
fn compose_and_kubernetes_modes_of_jobs_do_not_drift() {
    let t = project();
    let (code, r) = json(t.path(), &["diff", "docker", "k3s", "--format", "json"]);
    assert_eq!(code, 0, "{:#?}", drift(&r));
    let reason = |service: &str, key: &str| -> String {
        differences(&r)
            .iter()
            .find(|d| d["service"] == service && d["key"] == key)
            .and_then(|d| {
                assert_eq!(d["class"], "not-representable", "{d}");
                d["reason"].as_str().map(String::from)
            })
            .unwrap_or_else(|| panic!("no {service} {key} in {r:#}"))
    };
    assert!(reason("migrate", "job.deadline").contains("Compose has no job deadline"));
    assert!(reason("report", "schedule.concurrency").contains("Compose has no scheduler"));
    // The job, its waiters, the step and the sidecar are the same facts in both.
    for (service, key) in [
        ("migrate", "workload"),
        ("migrate", "restart"),
        ("migrate", "command"),
        ("migrate", "job.retries"),
        ("report", "workload"),
        ("report", "schedule.cron"),
        ("web", "restart"),
        ("web", "depends_on.migrate"),
        ("web", "init"),
        ("web", "init.seed.command"),
        ("web", "init.seed.env.DB_PASSWORD"),
        ("web", "sidecars.proxy.image"),
        ("web", "sidecars.proxy.args"),
    ] {
        assert!(
            !differences(&r)
                .iter()
                .any(|d| d["service"] == service && d["key"] == key),
            "{service} {key} differs: {r:#}"
        );
    }
    // They are facts on both sides, and a profile that changes one is cited.
    let docker = t.path().join("profiles/docker.toml");
    let mut text = fs::read_to_string(&docker).expect("read");
    text.push_str("\n[services.web.sidecars.proxy]\nimage = \"envoyproxy/envoy:v1.31.1\"\n\n[services.report.job]\nschedule = \"17 4 * * *\"\n");
    fs::write(&docker, text).expect("write");
    let (code, after) = json(t.path(), &["diff", "docker", "k3s", "--format", "json"]);
    assert_eq!(code, 0, "{after:#}");
    for (service, key, line) in [
        ("web", "sidecars.proxy.image", 6),
        ("report", "schedule.cron", 9),
    ] {
        let d = differences(&after)
            .iter()
            .find(|d| d["service"] == service && d["key"] == key)
            .unwrap_or_else(|| panic!("no {service} {key}: {after:#}"));
        assert_eq!(d["class"], "expected", "{d}");
        assert_eq!(d["at"], format!("profiles/docker.toml:{line}"), "{d}");
    }
    assert_eq!(r["summary"]["services"], 4, "{r:#}");
}

#[test]
fn planted_changes_of_a_job_a_schedule_and_a_sidecar_are_drift() {
    let t = project();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let copy = t.path().join("tampered");
    copy_dir(&t.path().join("out/batch/k3s"), &copy);
    for (from, to) in [
        ("--up", "--down"),
        ("17 3 * * *", "18 3 * * *"),
        ("envoyproxy/envoy:v1.31.0", "envoyproxy/envoy:v1.30.0"),
    ] {
        let files: Vec<String> = tree(&copy)
            .into_iter()
            .filter(|(_, b)| String::from_utf8_lossy(b).contains(from))
            .map(|(p, _)| p)
            .collect();
        assert_eq!(files.len(), 1, "{from} in {files:?}");
        let p = copy.join(&files[0]);
        let text = fs::read_to_string(&p).expect("read");
        fs::write(&p, text.replace(from, to)).expect("write");
    }
    let (code, r) = json(
        t.path(),
        &[
            "diff",
            "--against",
            copy.to_str().expect("path"),
            "k3s",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        drift(&r),
        [
            "\"migrate\" \"command\": \"/bin/app migrate --up\" -> \"/bin/app migrate --down\"",
            "\"report\" \"schedule.cron\": \"17 3 * * *\" -> \"18 3 * * *\"",
            "\"web\" \"sidecars.proxy.image\": \"envoyproxy/envoy:v1.31.0\" -> \"envoyproxy/envoy:v1.30.0\"",
        ]
    );
    let out = r.to_string();
    assert!(!out.contains("batch-dev-password"), "a secret value leaked");
}

/// Helm as the parity test finds it: `$ENVC_TOOLS/bin`, `~/.cache/envc-tools/bin`, then `PATH`.
fn helm_dir() -> Option<std::path::PathBuf> {
    let tools = std::env::var_os("ENVC_TOOLS")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/envc-tools")));
    tools
        .map(|t| t.join("bin"))
        .filter(|b| b.join("helm").is_file())
        .or_else(|| {
            std::env::var_os("PATH")
                .and_then(|p| std::env::split_paths(&p).find(|d| d.join("helm").is_file()))
        })
}

/// The jobs scenario's modes, the Helm one rendered by `helm template`: no drift between any
/// two, and the hook that stands for the wait containers is explained.
#[test]
fn the_jobs_scenario_does_not_drift_between_any_modes() {
    let Some(helm) = helm_dir() else {
        let why = "helm not found in $ENVC_TOOLS/bin (~/.cache/envc-tools/bin) or on PATH";
        assert!(
            std::env::var("ENVC_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "ENVC_REQUIRE_TOOLS=1: {why}"
        );
        eprintln!("SKIPPED diff of the jobs scenario's helm mode: {why}");
        return;
    };
    let t = tempfile::tempdir().expect("tempdir");
    let scenario = crate::common::repo().join("tests/scenarios/jobs");
    for d in ["environments", "profiles"] {
        copy_dir(&scenario.join(d), &t.path().join(d));
    }
    let path = std::env::join_paths(std::iter::once(helm).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    for (a, b) in [("docker", "k3s"), ("k3s", "prod"), ("docker", "prod")] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_envc"))
            .args(["diff", a, b, "--format", "json"])
            .current_dir(t.path())
            .env("NO_COLOR", "1")
            .env("PATH", &path)
            .output()
            .expect("run envc");
        let (code, out, err) = parts(&o);
        let r: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{a} {b}: not JSON ({e}): {err}"));
        assert_eq!(
            (code, drift(&r)),
            (0, Vec::<String>::new()),
            "{a} {b}: {r:#}"
        );
        if b == "prod" {
            let wait = differences(&r)
                .iter()
                .find(|d| d["service"] == "api" && d["key"] == "depends_on.migrate")
                .unwrap_or_else(|| panic!("{a} {b}: {r:#}"));
            assert!(
                wait["reason"]
                    .as_str()
                    .is_some_and(|s| s.contains("Helm pre-install,pre-upgrade hook")),
                "{wait}"
            );
        }
    }
}
