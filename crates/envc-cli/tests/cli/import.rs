//! `envc import`: the round trip on every fixture of tests/fixtures/import (and the airflow and
//! lakehouse reference files). Each case imports into a fresh project, builds the imported mode
//! and diffs the original files against the build: every difference must be one the import
//! report lists, and the report's items are pinned below (each reviewed: it names a real
//! difference between the input and what the model can say, or a fact the backend adds).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::{envc, parts, repo};

struct Case {
    name: &'static str,
    /// `compose` or `k8s`.
    kind: &'static str,
    /// Inputs, relative to the repository.
    inputs: &'static [&'static str],
    /// Prod manifests (`--prod`), relative to the repository.
    prod: &'static [&'static str],
    /// `--pin IMAGE=PINNED` pairs.
    pins: &'static [&'static str],
    env: &'static str,
    mode: &'static str,
    /// The report, one line per group of items (`services key`), as `Report::lines` prints it.
    report: &'static [&'static str],
}

/// The library's report for a case, with the options the CLI passes.
fn report_of(c: &Case) -> envc_import::Report {
    let pins: Vec<(String, String)> = c
        .pins
        .iter()
        .map(|p| {
            let (a, b) = p.split_once('=').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect();
    let abs = |l: &[&str]| -> Vec<PathBuf> { l.iter().map(|p| repo().join(p)).collect() };
    let import = match c.kind {
        "compose" => envc_import::compose(&envc_import::ComposeOptions {
            files: abs(c.inputs),
            env: Some(c.env.into()),
            pins,
            environ: std::env::vars().collect(),
            ..Default::default()
        }),
        _ => envc_import::k8s(&envc_import::K8sOptions {
            paths: abs(c.inputs),
            prod: abs(c.prod),
            env: Some(c.env.into()),
            pins,
            ..Default::default()
        }),
    };
    import.unwrap().report
}

/// The head of a report line: the services and the key, without the message.
fn head(line: &str) -> String {
    line.split_once(": ").map_or(line, |(h, _)| h).to_string()
}

fn round_trip(c: &Case) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().to_str().unwrap().to_string();
    let inputs: Vec<String> = c
        .inputs
        .iter()
        .map(|p| repo().join(p).display().to_string())
        .collect();
    let mut args: Vec<String> = vec!["import".into(), c.kind.into()];
    args.extend(inputs.iter().cloned());
    for p in c.prod {
        args.push("--prod".into());
        args.push(repo().join(p).display().to_string());
    }
    for p in c.pins {
        args.push("--pin".into());
        args.push(p.to_string());
    }
    args.extend(["--env".into(), c.env.into(), "--out".into(), out.clone()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = parts(&envc(t.path(), &argv));
    assert_eq!(code, 0, "{}: import failed: {err}", c.name);

    let report = report_of(c);
    let heads: Vec<String> = report.lines().iter().map(|l| head(l)).collect();
    // ENVC_IMPORT_SHOW=1 prints the report instead of comparing it, for review.
    if std::env::var_os("ENVC_IMPORT_SHOW").is_some() {
        let mut shown = format!("{}:\n", c.name);
        for (h, l) in heads.iter().zip(report.lines()) {
            shown.push_str(&format!("    // {}\n    {h:?},\n", &l[h.len()..]));
        }
        eprintln!("{shown}");
    } else {
        assert_eq!(heads, c.report, "{}: the import report changed", c.name);
    }
    // The report is printed, and kept at the top of the environment file.
    let model =
        std::fs::read_to_string(t.path().join(format!("environments/{}.toml", c.env))).unwrap();
    for l in report.lines() {
        assert!(
            err.contains(&format!("import report: {l}")),
            "{}: not printed: {l}",
            c.name
        );
        assert!(
            model.contains(&format!("# - {l}")),
            "{}: not in the model: {l}",
            c.name
        );
    }

    let mut sets: Vec<(&str, Vec<String>)> = vec![(c.mode, inputs)];
    if !c.prod.is_empty() {
        let prod = c.prod.iter().map(|p| repo().join(p).display().to_string());
        sets.push(("prod", prod.collect()));
    }
    for (mode, from) in sets {
        let build = ["build", "--env", c.env, "--target", mode];
        let (code, _, err) = parts(&envc(t.path(), &build));
        assert_eq!(code, 0, "{}: build of {mode} failed: {err}", c.name);
        let mut diff: Vec<String> = vec!["diff".into()];
        for i in &from {
            diff.push("--from".into());
            diff.push(i.clone());
        }
        diff.push("--to".into());
        diff.push(format!("out/{}/{mode}", c.env));
        diff.extend(["--format".into(), "json".into()]);
        let argv: Vec<&str> = diff.iter().map(String::as_str).collect();
        let (code, stdout, err) = parts(&envc(t.path(), &argv));
        assert!(code == 0 || code == 1, "{}: diff failed: {err}", c.name);
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let mut unexplained: BTreeMap<String, String> = BTreeMap::new();
        for d in json["differences"].as_array().unwrap() {
            let service = d["service"].as_str().unwrap_or_default();
            let key = d["key"].as_str().unwrap_or_default();
            if !report.covers(service, key) {
                let change = format!("{} -> {}", d["a"], d["b"]);
                unexplained.insert(format!("{service} {key}"), change);
            }
        }
        assert!(
            unexplained.is_empty(),
            "{}: differences in {mode} the report does not list:\n{unexplained:#?}",
            c.name
        );
    }
}

#[test]
fn gitea_postgres_round_trip() {
    round_trip(&Case {
        name: "gitea-postgres",
        kind: "compose",
        inputs: &["tests/fixtures/import/gitea-postgres/compose.yaml"],
        prod: &[],
        pins: &[
            "gitea/gitea:latest=gitea/gitea:1.22.3",
            "postgres:alpine=postgres:16.4-alpine",
        ],
        env: "gitea",
        mode: "docker",
        report: &[
            "gitea image",
            "gitea ports.3000/tcp.host_ip",
            "gitea fields.volumes./data.source",
            "gitea volumes./data.size",
            "gitea, db security.read_only_root",
            "db image",
            "db fields.volumes./var/lib/postgresql/data.source",
            "db volumes./var/lib/postgresql/data.size",
            "gitea env.DB_PASSWD",
            "db env.POSTGRES_PASSWORD",
            "* fields.labels",
            "* namespace",
            "networks/*",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "volumes/*",
            "name",
        ],
    });
}

#[test]
fn prometheus_grafana_round_trip() {
    round_trip(&Case {
        name: "prometheus-grafana",
        kind: "compose",
        inputs: &["tests/fixtures/import/prometheus-grafana/compose.yaml"],
        prod: &[],
        pins: &[
            "prom/prometheus=prom/prometheus:v2.54.1",
            "grafana/grafana=grafana/grafana:11.2.0",
        ],
        env: "monitoring",
        mode: "docker",
        report: &[
            "prometheus, grafana fields.container_name",
            "prometheus image",
            "prometheus ports.9090/tcp.host_ip",
            "prometheus, grafana fields.volumes",
            "prometheus files./etc/prometheus/prometheus.yml",
            "prometheus fields.volumes./prometheus.source",
            "prometheus volumes./prometheus.size",
            "prometheus, grafana security.read_only_root",
            "grafana image",
            "grafana ports.3000/tcp.host_ip",
            "grafana files./etc/grafana/provisioning/datasources/datasource.yml",
            "* fields.labels",
            "* namespace",
            "networks/*",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "volumes/*",
            "name",
        ],
    });
}

#[test]
fn airflow_round_trip() {
    round_trip(&Case {
        name: "airflow",
        kind: "compose",
        inputs: &["tests/fixtures/airflow/docker-compose.yaml"],
        prod: &[],
        pins: &["apache/airflow:|version|=apache/airflow:3.1.3"],
        env: "airflow",
        mode: "docker",
        report: &[
            "* notes",
            "postgres fields.volumes./var/lib/postgresql/data.source",
            "postgres volumes./var/lib/postgresql/data.size",
            "postgres, redis, airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower security.read_only_root",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower image",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower env",
            "airflow-apiserver ports.8080/tcp.host_ip",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower volumes./opt/airflow/dags",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower volumes./opt/airflow/logs",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower volumes./opt/airflow/config",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower volumes./opt/airflow/plugins",
            "airflow-cli",
            "flower",
            "flower ports.5555/tcp.host_ip",
            "postgres env.POSTGRES_PASSWORD",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "airflow-apiserver, airflow-scheduler, airflow-dag-processor, airflow-worker, airflow-triggerer, airflow-init, airflow-cli, flower env.AIRFLOW__CELERY__RESULT_BACKEND",
            "airflow-init env._AIRFLOW_WWW_USER_PASSWORD",
            "* fields.labels",
            "* namespace",
            "networks/*",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "volumes/*",
            "name",
        ],
    });
}

#[test]
fn lakehouse_compose_round_trip() {
    round_trip(&Case {
        name: "lakehouse-compose",
        kind: "compose",
        inputs: &["tests/fixtures/reference-lakehouse/docker-compose.full.yml"],
        prod: &[],
        pins: &[
            "prefecthq/prefect:3-latest=prefecthq/prefect:3.4.1-python3.12",
            "otel/opentelemetry-collector-contrib:latest=otel/opentelemetry-collector-contrib:0.111.0",
            "jaegertracing/all-in-one:latest=jaegertracing/all-in-one:1.62.0",
            "prom/prometheus:latest=prom/prometheus:v2.54.1",
            "grafana/grafana:latest=grafana/grafana:11.2.0",
            "dpage/pgadmin4:latest=dpage/pgadmin4:8.12.0",
        ],
        env: "lakehouse",
        mode: "docker",
        report: &[
            "version",
            "minio, postgres, prefect-server, prefect-worker, redis, s5cmd-service, otel-collector, jaeger, prometheus, grafana, pgadmin fields.container_name",
            "minio ports.9000/tcp.host_ip",
            "minio ports.9001/tcp.host_ip",
            "minio fields.volumes./data.source",
            "minio, redis volumes./data.size",
            "minio, postgres, prefect-server, prefect-worker, redis, s5cmd-service, otel-collector, jaeger, prometheus, grafana, pgadmin security.read_only_root",
            "postgres ports.5432/tcp.host_ip",
            "postgres fields.volumes./var/lib/postgresql/data.source",
            "postgres volumes./var/lib/postgresql/data.size",
            "prefect-server, prefect-worker image",
            "prefect-server ports.4200/tcp.host_ip",
            "prefect-worker volumes./opt/prefect/src",
            "redis",
            "redis ports.6379/tcp.host_ip",
            "redis fields.volumes./data.source",
            "s5cmd-service build",
            "s5cmd-service image",
            "s5cmd-service",
            "s5cmd-service ports.8080/tcp.host_ip",
            "s5cmd-service volumes./app/config",
            "otel-collector image",
            "otel-collector",
            "otel-collector ports.4317/tcp.host_ip",
            "otel-collector ports.4318/tcp.host_ip",
            "otel-collector ports.8888/tcp.host_ip",
            "otel-collector ports.13133/tcp.host_ip",
            "otel-collector volumes./etc/otelcol-contrib/otel-collector.yaml",
            "jaeger image",
            "jaeger",
            "jaeger ports.16686/tcp.host_ip",
            "jaeger ports.14268/tcp.host_ip",
            "jaeger ports.6831/udp.host_ip",
            "jaeger ports.6832/udp.host_ip",
            "jaeger fields.volumes./tmp.source",
            "jaeger volumes./tmp.size",
            "prometheus image",
            "prometheus",
            "prometheus ports.9090/tcp.host_ip",
            "prometheus volumes./etc/prometheus/prometheus.yml",
            "prometheus fields.volumes./prometheus.source",
            "prometheus volumes./prometheus.size",
            "grafana image",
            "grafana",
            "grafana ports.3000/tcp.host_ip",
            "grafana fields.volumes./var/lib/grafana.source",
            "grafana volumes./var/lib/grafana.size",
            "grafana volumes./etc/grafana/provisioning",
            "pgadmin image",
            "pgadmin",
            "pgadmin ports.80/tcp.host_ip",
            "pgadmin volumes./pgadmin4/servers.json",
            "prefect-worker, s5cmd-service env.AWS_ACCESS_KEY_ID",
            "* fields.labels",
            "* namespace",
            "networks/*",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "volumes/*",
            "name",
        ],
    });
}

#[test]
fn lakehouse_compose_override_round_trip() {
    round_trip(&Case {
        name: "lakehouse-override",
        kind: "compose",
        inputs: &[
            "tests/fixtures/reference-lakehouse/infrastructure/docker-compose/docker-compose.essential.yml",
            "tests/fixtures/reference-lakehouse/infrastructure/docker-compose/docker-compose.override.yml",
        ],
        prod: &[],
        pins: &[
            "prefecthq/prefect:3-latest=prefecthq/prefect:3.4.1-python3.12",
            "busybox:latest=busybox:1.37.0",
            "jupyter/datascience-notebook:latest=jupyter/datascience-notebook:2024-05-27",
        ],
        env: "lakehouse",
        mode: "docker",
        report: &[
            "version",
            "minio, postgres, prefect-server, prefect-worker, healthcheck, jupyter fields.container_name",
            "minio ports.9000/tcp.host_ip",
            "minio ports.9001/tcp.host_ip",
            "minio fields.volumes./data.source",
            "minio volumes./data.size",
            "minio volumes./docker-entrypoint-initdb.d/setup.sh",
            "minio, postgres fields.volumes",
            "minio, postgres, prefect-server, prefect-worker, healthcheck, jupyter security.read_only_root",
            "postgres ports.5432/tcp.host_ip",
            "postgres fields.volumes./var/lib/postgresql/data.source",
            "postgres volumes./var/lib/postgresql/data.size",
            "postgres volumes./docker-entrypoint-initdb.d/init.sql",
            "postgres volumes./var/log/postgresql",
            "prefect-server, prefect-worker image",
            "prefect-server ports.4200/tcp.host_ip",
            "prefect-server, prefect-worker volumes./opt/prefect/flows",
            "prefect-server, prefect-worker volumes./root/.prefect",
            "prefect-server, prefect-worker volumes./var/log/prefect",
            "prefect-worker volumes./opt/prefect/src",
            "prefect-worker volumes./var/run/docker.sock",
            "healthcheck image",
            "s5cmd-service, grafana",
            "jupyter image",
            "jupyter ports.8888/tcp.host_ip",
            "jupyter volumes./home/jovyan/notebooks",
            "jupyter volumes./home/jovyan/src",
            "jupyter volumes./home/jovyan/data",
            "jupyter security.user",
            "healthcheck args",
            "minio env.MINIO_ROOT_PASSWORD",
            "prefect-worker env.AWS_SECRET_ACCESS_KEY",
            "prefect-worker env.AWS_ACCESS_KEY_ID",
            "jupyter env.JUPYTER_TOKEN",
            "* fields.labels",
            "* namespace",
            "networks/*",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "volumes/*",
            "name",
        ],
    });
}

#[test]
fn guestbook_round_trip() {
    round_trip(&Case {
        name: "guestbook",
        kind: "k8s",
        inputs: &["tests/fixtures/import/guestbook/guestbook-all-in-one.yaml"],
        prod: &[],
        pins: &[],
        env: "guestbook",
        mode: "k3s",
        report: &[
            "frontend ports",
            "* namespace",
            "* fields.metadata",
            "* fields.spec.selector",
            "* fields.spec.template.metadata",
            "* fields.spec.template.spec.automountServiceAccountToken",
            "* fields.spec.template.spec.serviceAccountName",
            "* fields.spec.template.spec.enableServiceLinks",
            "* fields.spec.template.spec.securityContext",
            "* fields.spec.template.spec.containers",
            "* fields.spec.template.spec.volumes",
            "* fields.spec.volumeClaimTemplates",
            "* fields.spec.serviceName",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "* security.read_only_root",
            "Namespace/*",
            "NetworkPolicy/*",
            "ServiceAccount/*",
            "Service/*",
            "ConfigMap/*",
            "Secret/*",
            "PersistentVolumeClaim/*",
            "Kustomization/*",
            "Ingress/*",
            "ResourceQuota/*",
            "HorizontalPodAutoscaler/*",
        ],
    });
}

#[test]
fn lakehouse_k3s_round_trip() {
    round_trip(&Case {
        name: "lakehouse-k3s",
        kind: "k8s",
        inputs: &["tests/fixtures/reference-lakehouse/k3s-local-infrastructure.yml"],
        prod: &[],
        pins: &[
            "prefecthq/prefect:3-latest=prefecthq/prefect:3.4.1-python3.12",
            "crypto-lakehouse/s5cmd-service:latest=crypto-lakehouse/s5cmd-service:0.1.0",
        ],
        env: "lakehouse",
        mode: "k3s",
        report: &[
            "prefect-server-local, prefect-worker-local image",
            "s5cmd-service-local image",
            "postgres-local env.POSTGRES_DB",
            "postgres-local env.POSTGRES_USER",
            "* fields.metadata",
            "* fields.spec.selector",
            "* fields.spec.template.metadata",
            "* fields.spec.template.spec.automountServiceAccountToken",
            "* fields.spec.template.spec.serviceAccountName",
            "* fields.spec.template.spec.enableServiceLinks",
            "* fields.spec.template.spec.securityContext",
            "* fields.spec.template.spec.containers",
            "* fields.spec.template.spec.volumes",
            "* fields.spec.volumeClaimTemplates",
            "* fields.spec.serviceName",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "* security.read_only_root",
            "Namespace/*",
            "NetworkPolicy/*",
            "ServiceAccount/*",
            "Service/*",
            "ConfigMap/*",
            "Secret/*",
            "PersistentVolumeClaim/*",
            "Kustomization/*",
            "Ingress/*",
            "ResourceQuota/*",
            "HorizontalPodAutoscaler/*",
            "StorageClass/*",
        ],
    });
}

#[test]
fn lakehouse_k8s_dev_and_prod_round_trip() {
    round_trip(&Case {
        name: "lakehouse-dev-prod",
        kind: "k8s",
        inputs: &["tests/fixtures/reference-lakehouse/local-dev/manifests"],
        prod: &["tests/fixtures/reference-lakehouse/infrastructure/k3s/k3s-production.yml"],
        pins: &[
            "public.ecr.aws/zinclabs/openobserve:latest-simd=public.ecr.aws/zinclabs/openobserve:v0.10.0-simd",
            "postgres:15-alpine=postgres:15.8-alpine",
            "redis:7-alpine=redis:7.4.1-alpine",
            "prefecthq/prefect:3-latest=prefecthq/prefect:3.4.1-python3.12",
        ],
        env: "lakehouse",
        mode: "k3s",
        report: &[
            "Service/minio/minio-service",
            "minio-setup init",
            "grafana files./etc/grafana/provisioning/datasources/datasources.yaml",
            "grafana files./etc/grafana/provisioning/dashboards/providers.yaml",
            "Service/observability/jaeger-ui",
            "Service/observability/jaeger-collector",
            "Service/observability/jaeger-agent",
            "openobserve image",
            "openobserve files./etc/openobserve/config.yaml",
            "openobserve-init files./scripts/init.sh",
            "otel-collector env.KUBE_NODE_NAME",
            "otel-collector files./etc/otel-collector-config/config.yaml",
            "otel-collector volumes./var/log",
            "otel-collector volumes./var/lib/docker/containers",
            "otel-collector, prometheus fields.spec.template.spec.serviceAccountName",
            "Deployment/observability/otel-collector duplicate",
            "prometheus files./etc/prometheus/prometheus.yml",
            "prometheus files./etc/prometheus/crypto-lakehouse.rules.yml",
            "postgres, prefect-server image",
            "redis image",
            "prefect-server init",
            "prefect-worker files./opt/prefect/s5cmd/s5cmd.json",
            "s5cmd-executor files./etc/s5cmd/config.yaml",
            "s5cmd-executor files./etc/s5cmd/entrypoint.sh",
            "s5cmd-executor files./etc/s5cmd/executor.py",
            "s5cmd-executor files./app/config.yaml",
            "s5cmd-executor files./app/entrypoint.sh",
            "s5cmd-executor files./app/executor.py",
            "build-s5cmd-executor volumes./var/run/docker.sock",
            "build-s5cmd-executor files./configmap/config.yaml",
            "build-s5cmd-executor files./configmap/entrypoint.sh",
            "build-s5cmd-executor files./configmap/executor.py",
            "build-s5cmd-executor fields",
            "minio env.MINIO_ROOT_USER",
            "minio env.MINIO_ROOT_PASSWORD",
            "postgres env.POSTGRES_DB",
            "postgres env.POSTGRES_USER",
            "postgres env.POSTGRES_PASSWORD",
            "prefect-server, prefect-worker image",
            "prefect-worker, s5cmd-service env.AWS_ACCESS_KEY_ID",
            "prefect-worker, s5cmd-service env.AWS_SECRET_ACCESS_KEY",
            "s5cmd-service image",
            "minio",
            "minio",
            "minio",
            "minio",
            "minio",
            "minio",
            "minio",
            "minio, prefect-server",
            "minio, prefect-server",
            "minio",
            "minio-setup, grafana, jaeger, openobserve, openobserve-init, otel-collector, prometheus, s5cmd-executor, build-s5cmd-executor",
            "postgres",
            "postgres, redis, prefect-server, prefect-worker",
            "redis",
            "redis, prefect-worker",
            "prefect-server",
            "prefect-server",
            "prefect-server",
            "prefect-server",
            "prefect-server",
            "prefect-server, prefect-worker",
            "prefect-server, prefect-worker",
            "prefect-server",
            "prefect-worker",
            "prefect-worker",
            "prefect-worker",
            "prefect-worker",
            "prefect-worker",
            "prefect-worker",
            "s5cmd-service",
            "minio-setup args",
            "minio env.MINIO_ROOT_PASSWORD",
            "minio-setup env.MC_HOST_local",
            "openobserve env.ZO_S3_SECRET_ACCESS_KEY",
            "minio env.MINIO_CONSOLE_PBKDF_PASSPHRASE",
            "grafana env.GF_SECURITY_ADMIN_PASSWORD",
            "openobserve env.ZO_ROOT_USER_PASSWORD",
            "openobserve env.ZO_S3_ACCESS_KEY_ID",
            "s5cmd-executor env.AWS_ACCESS_KEY_ID",
            "s5cmd-executor env.AWS_SECRET_ACCESS_KEY",
            "s5cmd-executor env.AWS_ENDPOINT_URL",
            "* fields.metadata",
            "* fields.spec.selector",
            "* fields.spec.template.metadata",
            "* fields.spec.template.spec.automountServiceAccountToken",
            "* fields.spec.template.spec.serviceAccountName",
            "* fields.spec.template.spec.enableServiceLinks",
            "* fields.spec.template.spec.securityContext",
            "* fields.spec.template.spec.containers",
            "* fields.spec.template.spec.volumes",
            "* fields.spec.volumeClaimTemplates",
            "* fields.spec.serviceName",
            "* security.cap_drop",
            "* security.privilege_escalation",
            "* security.read_only_root",
            "Namespace/*",
            "NetworkPolicy/*",
            "ServiceAccount/*",
            "Service/*",
            "ConfigMap/*",
            "Secret/*",
            "PersistentVolumeClaim/*",
            "Kustomization/*",
            "Ingress/*",
            "ResourceQuota/*",
            "HorizontalPodAutoscaler/*",
            "PodDisruptionBudget/*",
            "ServiceMonitor/*",
            "ClusterRole/*",
            "ClusterRoleBinding/*",
            "StorageClass/*",
            "PersistentVolume/*",
        ],
    });
}
