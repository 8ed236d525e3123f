//! The airflow environment against issue 10's acceptance: the one-shot init is a Job in k3s,
//! a hook Job in eks, `restart: "no"` in Compose with dependents waiting for its completion,
//! and the official Compose file differs from the docker build only as
//! `tests/fixtures/airflow/accepted.toml` explains.

use std::fs;
use std::path::Path;

use serde::Deserialize;
use yaml_serde::Value;

use crate::common::{envc, parts, repo, repository_project};

const PROCESSES: [&str; 5] = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
];

fn docs(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).expect("yaml"))
        .filter(|v| !v.is_null())
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect()
}

/// The repository's model built for `mode` into a temporary project.
fn built(mode: &str) -> tempfile::TempDir {
    let t = repository_project();
    let (code, _, err) = parts(&envc(
        t.path(),
        &["build", "--env", "airflow", "--target", mode],
    ));
    assert_eq!(code, 0, "{err}");
    t
}

#[test]
fn the_init_is_a_job_the_processes_wait_for_in_k3s() {
    let t = built("k3s");
    let dir = t.path().join("out/airflow/k3s");
    let init = docs(&dir.join("airflow-init.yaml"));
    let jobs = of_kind(&init, "Job");
    assert_eq!(jobs.len(), 1, "one Job in airflow-init.yaml");
    let spec = &jobs[0]["spec"];
    assert_eq!(spec["backoffLimit"].as_u64(), Some(3));
    assert_eq!(spec["activeDeadlineSeconds"].as_u64(), Some(900));
    assert_eq!(
        spec["template"]["spec"]["restartPolicy"].as_str(),
        Some("Never")
    );
    assert!(of_kind(&init, "Deployment").is_empty() && of_kind(&init, "StatefulSet").is_empty());
    for p in PROCESSES {
        let d = docs(&dir.join(format!("{p}.yaml")));
        let deployments = of_kind(&d, "Deployment");
        assert_eq!(deployments.len(), 1, "{p} is one Deployment");
        let pod = &deployments[0]["spec"]["template"]["spec"];
        let waits: Vec<&Value> = pod["initContainers"]
            .as_sequence()
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        assert!(
            waits.iter().any(|c| {
                c["name"].as_str() == Some("wait-for-airflow-init")
                    && c["args"]
                        .as_sequence()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("job/airflow-init")))
            }),
            "{p} waits for the job: {waits:?}"
        );
        assert_eq!(pod["securityContext"]["runAsUser"].as_u64(), Some(50000));
        assert_eq!(pod["securityContext"]["runAsGroup"].as_u64(), Some(0));
    }
}

#[test]
fn the_init_is_a_pre_install_hook_in_eks_and_the_databases_are_managed() {
    let t = built("eks");
    let templates = t.path().join("out/airflow/eks/chart/templates");
    let init = fs::read_to_string(templates.join("airflow-init.yaml")).expect("init template");
    let job_at = init.find("kind: Job").expect("a Job");
    let job = &init[job_at..];
    assert!(
        job.contains("helm.sh/hook: pre-install,pre-upgrade"),
        "{job}"
    );
    assert!(
        job.contains("helm.sh/hook-delete-policy: before-hook-creation"),
        "{job}"
    );
    // Managed PostgreSQL and Redis: no workload of theirs in the chart.
    for svc in ["postgres", "redis"] {
        let text = fs::read_to_string(templates.join(format!("{svc}.yaml"))).expect("template");
        assert!(
            !text.contains("kind: StatefulSet") && !text.contains("kind: Deployment"),
            "{svc} is managed in eks"
        );
    }
}

#[test]
fn the_init_runs_once_in_compose_and_the_processes_wait_for_its_success() {
    let t = built("docker");
    let compose = docs(&t.path().join("out/airflow/docker/docker-compose.yml"));
    let services = &compose[0]["services"];
    assert_eq!(services["airflow-init"]["restart"].as_str(), Some("no"));
    for p in PROCESSES {
        assert_eq!(services[p]["restart"].as_str(), Some("always"), "{p}");
        assert_eq!(
            services[p]["depends_on"]["airflow-init"]["condition"].as_str(),
            Some("service_completed_successfully"),
            "{p}"
        );
    }
    // The optional services are described but off, as the official file's profiles are.
    assert!(services["flower"].is_null() && services["airflow-cli"].is_null());
}

#[test]
fn the_official_compose_file_differs_only_as_accepted() {
    let t = built("docker");
    let fixtures = repo().join("tests/fixtures/airflow");
    let official = fixtures.join("docker-compose.yaml");
    let ours = t.path().join("out/airflow/docker/docker-compose.yml");
    let from = official.to_str().expect("path");
    let to = ours.to_str().expect("path");

    // Without the explanations the differences are drift (exit 1), secrets only as hashes.
    let (code, out, err) = parts(&envc(t.path(), &["diff", "--from", from, "--to", to]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("airflow-init"), "{out}");
    assert!(
        !out.contains("airflow_jwt_secret"),
        "a secret value leaked: {out}"
    );

    // With them, nothing is left unexplained and no rule is stale.
    let accepted = fixtures.join("accepted.toml");
    let (code, out, err) = parts(&envc(
        t.path(),
        &[
            "diff",
            "--from",
            from,
            "--to",
            to,
            "--accepted",
            accepted.to_str().expect("path"),
        ],
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" 0 drift"), "{out}");
    assert!(!out.to_lowercase().contains("stale"), "{out}");
}

/// A value changed in a template shows on every service that extends it, naming the
/// template's line and each service's own `extends` line (issue 11).
#[test]
fn a_changed_template_value_is_drift_on_every_service_that_extends_it() {
    let t = built("docker");
    let env = t.path().join("environments/airflow.toml");
    let text = fs::read_to_string(&env).expect("read");
    let planted = "AIRFLOW__CORE__EXECUTOR = \"CeleryExecutor\"";
    assert_eq!(
        text.matches(planted).count(),
        1,
        "the template sets it once"
    );
    let line = text[..text.find(planted).expect("planted")].lines().count() + 1;
    fs::write(
        &env,
        text.replace(planted, "AIRFLOW__CORE__EXECUTOR = \"LocalExecutor\""),
    )
    .expect("write");
    let (code, out, err) = parts(&envc(
        t.path(),
        &[
            "diff",
            "--env",
            "airflow",
            "--against",
            "out/airflow/docker",
            "docker",
        ],
    ));
    assert_eq!(code, 1, "{out}{err}");
    // The `extends` line of each service that takes `airflow-common`.
    let mut service = "";
    let mut extends: Vec<(String, usize)> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(s) = l.strip_prefix("[services.") {
            service = s.trim_end_matches(']');
        } else if l.starts_with("extends = ") && l.contains("\"airflow-common\"") {
            extends.push((service.to_string(), i + 1));
        }
    }
    assert_eq!(extends.len(), 8, "{extends:?}");
    for (service, at) in &extends {
        // Disabled unless asked for (`enabled = false`): not deployed, so no drift.
        if service == "airflow-cli" || service == "flower" {
            assert!(!out.contains(&format!("\n{service}\n")), "{out}");
            continue;
        }
        let block = out
            .split("\n\n")
            .find(|b| b.starts_with(&format!("{service}\n")))
            .unwrap_or_else(|| panic!("no drift shown for {service}:\n{out}"));
        let expected = format!(
            "env.AIRFLOW__CORE__EXECUTOR: LocalExecutor -> CeleryExecutor  (values differ, \
             environments/airflow.toml:{line} (template, extended at line {at}))"
        );
        assert!(block.contains(&expected), "{service}: {block}");
    }
}
