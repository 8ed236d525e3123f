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
    /// Copy the inputs' folder into the project first (so its build contexts and bind mounts
    /// are inside the project) and import from there.
    inside: bool,
    env: &'static str,
    mode: &'static str,
    /// The report, one line per group of items (`services key`), as `Report::lines` prints it.
    report: &'static [&'static str],
}

/// The library's report for a case, with the options the CLI passes.
fn report_of(c: &Case, inputs: &[String]) -> envc_import::Report {
    let pins: Vec<(String, String)> = c
        .pins
        .iter()
        .map(|p| {
            let (a, b) = p.split_once('=').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect();
    let abs = |l: &[&str]| -> Vec<PathBuf> { l.iter().map(|p| repo().join(p)).collect() };
    let files: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    let import = match c.kind {
        "compose" => envc_import::compose(&envc_import::ComposeOptions {
            source_dir: c.inside.then(|| "../input".to_string()),
            files,
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
    let inputs: Vec<String> = if c.inside {
        let from = repo().join(c.inputs[0]);
        crate::common::copy_dir(from.parent().unwrap(), &t.path().join("input"));
        let name = |p: &str| p.rsplit('/').next().unwrap().to_string();
        let at = |p: &str| t.path().join("input").join(name(p)).display().to_string();
        c.inputs.iter().map(|p| at(p)).collect()
    } else {
        let at = |p: &str| repo().join(p).display().to_string();
        c.inputs.iter().map(|p| at(p)).collect()
    };
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

    let report = report_of(c, &inputs);
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
        inside: false,
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
fn env_file_stack_round_trip() {
    round_trip(&Case {
        name: "env-file-stack",
        kind: "compose",
        inputs: &["tests/fixtures/import/env-file-stack/compose.yaml"],
        prod: &[],
        pins: &[],
        inside: false,
        env: "app",
        mode: "docker",
        report: &[
            // The proxy's Compose configs are files of the model (bind-mounted read-only by
            // envc, with a header line in the rendered one); it publishes on 127.0.0.1.
            "configs/*",
            "proxy ports.80/tcp.host_ip",
            "proxy fields.volumes",
            "proxy files./etc/nginx/conf.d/default.conf",
            "proxy, db, cache, web, worker, stream security.read_only_root",
            // The data folders: bind mounts in docker, environment volumes elsewhere.
            "db volumes./var/lib/postgresql/data",
            "db volumes./var/lib/postgresql/data",
            "cache volumes./data",
            "cache volumes./data",
            "web, worker volumes./app/public/uploads",
            // The three processes that read `.env.app` extend one template.
            "web, worker, stream extends",
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

/// What the import made of the stack builds for Kubernetes too: the bind-mounted data folders
/// become claims of environment volumes, rolled out with Recreate (one pod holds a
/// ReadWriteOnce claim), the shared uploads folder one ReadWriteMany claim, and the env file's
/// variables one template the three processes extend.
#[test]
fn env_file_stack_builds_for_kubernetes() {
    let t = tempfile::tempdir().unwrap();
    let input = repo().join("tests/fixtures/import/env-file-stack/compose.yaml");
    let out = t.path().to_str().unwrap();
    let argv = [
        "import",
        "compose",
        input.to_str().unwrap(),
        "--env",
        "app",
        "--out",
        out,
    ];
    let (code, _, err) = parts(&envc(t.path(), &argv));
    assert_eq!(code, 0, "import failed: {err}");
    // Importing again with --force replaces the environment and its profile overlay (a second
    // overlay would repeat every table: invalid TOML).
    let again: Vec<&str> = argv.iter().copied().chain(["--force"]).collect();
    let (code, _, err) = parts(&envc(t.path(), &again));
    assert_eq!(code, 0, "import --force failed: {err}");
    let docker = std::fs::read_to_string(t.path().join("profiles/docker.toml")).unwrap();
    assert_eq!(
        docker.matches("[environments.app.services.db]").count(),
        1,
        "{docker}"
    );
    let model = std::fs::read_to_string(t.path().join("environments/app.toml")).unwrap();
    assert!(model.contains("[templates.env-app]"), "{model}");
    assert_eq!(
        model.matches("extends = [\"env-app\"]").count(),
        3,
        "{model}"
    );
    // Inline tables are written as people write them.
    assert!(
        !model
            .lines()
            .any(|l| l.contains("= {") && !l.contains(" = {")),
        "{model}"
    );
    std::fs::write(
        t.path().join("profiles/k3s.toml"),
        "[profile]\nbackend = \"kubernetes\"\ntier = \"dev\"\n",
    )
    .unwrap();
    let (code, _, err) = parts(&envc(
        t.path(),
        &["build", "--env", "app", "--target", "k3s"],
    ));
    assert_eq!(code, 0, "k3s build failed: {err}");
    let set = t.path().join("out/app/k3s");
    let read = |f: &str| std::fs::read_to_string(set.join(f)).unwrap();
    let volumes = read("volumes.yaml");
    for claim in ["pgdata", "redis-data", "uploads"] {
        assert!(
            volumes.contains(&format!("name: {claim}\n")),
            "{claim}: {volumes}"
        );
    }
    assert!(volumes.contains("ReadWriteMany"), "{volumes}");
    // The proxy's configs are one ConfigMap of files (the project file and the inline one).
    let proxy = read("proxy.yaml");
    assert!(proxy.contains("default.conf"), "{proxy}");
    assert!(proxy.contains("Disallow: /admin"), "{proxy}");
    for (svc, recreate) in [
        ("db", true),
        ("cache", true),
        ("web", false),
        ("worker", false),
    ] {
        let doc = read(&format!("{svc}.yaml"));
        assert_eq!(doc.contains("type: Recreate"), recreate, "{svc}: {doc}");
    }
    // In prod the database and the cache are managed: their mounts, bind mounts included,
    // never reach a node, so they are not refused (E-bind-mount is for deployed services).
    std::fs::write(
        t.path().join("profiles/eks.toml"),
        r#"[profile]
backend = "helm"
tier = "prod"

[cloud]
provider = "aws"
cluster_name = "app"
region = "eu-west-1"
zones = ["eu-west-1a"]
account = "123456789012"

[cloud.node_pools.general]
machine_type = "m6i.xlarge"
cpu = "3700m"
memory = "14Gi"

[services.db.external]
kind = "rds-postgres"
instance = "db.m6g.large"
storage = "20Gi"

[services.db.volumes.init]
source = "./app/initdb"
path = "/docker-entrypoint-initdb.d"

[services.cache.external]
kind = "elasticache-redis"
instance = "cache.t4g.medium"
"#,
    )
    .unwrap();
    let build = ["build", "--env", "app", "--target", "eks"];
    let (code, _, err) = parts(&envc(t.path(), &build));
    assert_eq!(code, 0, "eks build failed: {err}");
    let values = std::fs::read_to_string(t.path().join("out/app/eks/chart/values.yaml")).unwrap();
    assert!(values.contains("db.endpoint.invalid"), "{values}");
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
        inside: false,
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
fn nginx_golang_postgres_round_trip() {
    round_trip(&Case {
        name: "nginx-golang-postgres",
        kind: "compose",
        inputs: &["tests/fixtures/import/nginx-golang-postgres/compose.yaml"],
        prod: &[],
        pins: &["postgres=postgres:16.4", "nginx=nginx:1.27.2"],
        inside: true,
        env: "shop",
        mode: "docker",
        report: &[
            "secrets/*",
            "backend fields.build.context",
            "backend image",
            "backend fields.secrets",
            "backend, db, proxy security.read_only_root",
            "db image",
            "db fields.volumes./var/lib/postgresql/data.source",
            "db volumes./var/lib/postgresql/data.size",
            "db security.user",
            "proxy image",
            "proxy ports.80/tcp.host_ip",
            "proxy fields.volumes",
            "proxy files./etc/nginx/conf.d/default.conf",
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
        inside: false,
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
        inside: false,
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
            "s5cmd-service fields.build.context",
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
        inside: false,
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

/// Manifests that name no namespace run in `default`; the model gives the environment its own,
/// as the report says, rather than relabelling `default` with Pod Security levels.
#[test]
fn manifests_without_namespace_get_the_environments_own() {
    let t = tempfile::tempdir().unwrap();
    let input = repo().join("tests/fixtures/import/guestbook/guestbook-all-in-one.yaml");
    let out = t.path().to_str().unwrap();
    let argv = [
        "import",
        "k8s",
        input.to_str().unwrap(),
        "--env",
        "shop",
        "--out",
        out,
    ];
    let (code, _, err) = parts(&envc(t.path(), &argv));
    assert_eq!(code, 0, "import failed: {err}");
    assert!(
        err.contains("the model gives the environment its own, `shop`"),
        "{err}"
    );
    let model = std::fs::read_to_string(t.path().join("environments/shop.toml")).unwrap();
    assert!(
        model.contains("[namespaces.app]\nname = \"shop\"\n"),
        "{model}"
    );
}

#[test]
fn guestbook_round_trip() {
    round_trip(&Case {
        name: "guestbook",
        kind: "k8s",
        inputs: &["tests/fixtures/import/guestbook/guestbook-all-in-one.yaml"],
        prod: &[],
        pins: &[],
        inside: false,
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
            "* security.seccomp",
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
        inside: false,
        env: "lakehouse",
        mode: "k3s",
        report: &[
            "minio-local volumes./data.class",
            "postgres-local volumes./var/lib/postgresql/data.class",
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
            "* security.seccomp",
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
        inside: false,
        env: "lakehouse",
        mode: "k3s",
        report: &[
            "minio, openobserve volumes./data.class",
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
            "postgres volumes./var/lib/postgresql/data.class",
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
            "minio volumes./data.class",
            "postgres env.POSTGRES_DB",
            "postgres env.POSTGRES_USER",
            "postgres env.POSTGRES_PASSWORD",
            "postgres volumes./var/lib/postgresql/data.class",
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
            "* security.seccomp",
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

/// Runs `envc import` in a fresh project; returns the project and the run's parts.
fn import_into(args: &[&str]) -> (tempfile::TempDir, i32, String) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().display().to_string();
    let mut argv: Vec<String> = vec!["import".into()];
    argv.extend(args.iter().map(|a| {
        if a.starts_with("tests/") {
            repo().join(a).display().to_string()
        } else {
            a.to_string()
        }
    }));
    argv.extend(["--out".into(), out]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (code, _, err) = parts(&envc(t.path(), &argv));
    (t, code, err)
}

fn read_toml(dir: &std::path::Path, rel: &str) -> toml::Table {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap();
    text.parse().unwrap()
}

#[test]
fn airflow_import_uses_templates_jobs_shared_volumes_and_secrets() {
    let (t, code, err) = import_into(&[
        "compose",
        "tests/fixtures/airflow/docker-compose.yaml",
        "--env",
        "airflow",
        "--pin",
        "apache/airflow:|version|=apache/airflow:3.1.3",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(t.path().join("environments/airflow.toml")).unwrap();
    let env: toml::Table = text.parse().unwrap();
    // `x-airflow-common` merged with `<<` is a template every Airflow service extends.
    let common = &env["templates"]["airflow-common"];
    assert_eq!(common["image"].as_str(), Some("apache/airflow:3.1.3"));
    assert!(common["env"].get("AIRFLOW__CORE__EXECUTOR").is_some());
    let services = env["services"].as_table().unwrap();
    for s in [
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-init",
        "flower",
    ] {
        assert_eq!(
            services[s]["extends"][0].as_str(),
            Some("airflow-common"),
            "{s}"
        );
    }
    // The one-shot init others wait for is a job.
    assert_eq!(services["airflow-init"]["workload"].as_str(), Some("job"));
    assert_eq!(
        services["airflow-scheduler"]["depends_on"]["airflow-init"].as_str(),
        Some("completed")
    );
    // The folders every Airflow service bind-mounts are shared environment volumes.
    assert_eq!(env["volumes"]["dags"]["access"].as_str(), Some("shared"));
    assert_eq!(common["volumes"]["dags"]["volume"].as_str(), Some("dags"));
    // Compose profiles: off unless asked for.
    assert_eq!(services["flower"]["enabled"].as_bool(), Some(false));
    // Credentials are secrets; their values are the docker profile's, never the model's.
    let jwt = &common["env"]["AIRFLOW__API_AUTH__JWT_SECRET"];
    assert!(jwt.get("secret").is_some(), "{jwt:?}");
    assert!(!text.contains("airflow_jwt_secret"));
    let conn = common["env"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        .as_str()
        .unwrap();
    assert_eq!(
        conn,
        "postgresql+psycopg2://airflow:${secret.postgres-password}@postgres/airflow"
    );
    let profile = read_toml(t.path(), "profiles/docker.toml");
    let secrets = &profile["environments"]["airflow"]["secrets"];
    let jwt_name = jwt["secret"].as_str().unwrap();
    assert_eq!(
        secrets[jwt_name]["dev_value"].as_str(),
        Some("airflow_jwt_secret")
    );
    // The report heads the model as a comment block.
    assert!(text.starts_with("# Imported by `envc import` from "));
    assert!(text.contains("# import report:"));
}

#[test]
fn an_override_file_becomes_the_docker_profile() {
    let (t, code, err) = import_into(&[
        "compose",
        "tests/fixtures/reference-lakehouse/infrastructure/docker-compose/docker-compose.essential.yml",
        "tests/fixtures/reference-lakehouse/infrastructure/docker-compose/docker-compose.override.yml",
        "--env",
        "lakehouse",
    ]);
    assert_eq!(code, 0, "{err}");
    let env = read_toml(t.path(), "environments/lakehouse.toml");
    let worker = &env["services"]["prefect-worker"];
    assert!(worker.get("replicas").is_none(), "{worker:?}");
    assert_eq!(
        worker["env"]["PREFECT_LOGGING_LEVEL"].as_str(),
        Some("INFO")
    );
    let profile = read_toml(t.path(), "profiles/docker.toml");
    let over = &profile["environments"]["lakehouse"]["services"]["prefect-worker"];
    assert_eq!(over["replicas"].as_integer(), Some(1));
    assert_eq!(over["env"]["PREFECT_LOGGING_LEVEL"].as_str(), Some("DEBUG"));
    // A service only the override file adds is off in the environment, on in the mode.
    assert_eq!(env["services"]["jupyter"]["enabled"].as_bool(), Some(false));
    let jupyter = &profile["environments"]["lakehouse"]["services"]["jupyter"];
    assert_eq!(jupyter["enabled"].as_bool(), Some(true));
}

#[test]
fn import_errors_are_located_and_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let bad = t.path().join("compose.yaml");
    std::fs::write(&bad, "services:\n  web:\n    image: [unclosed\n").unwrap();
    let out = t.path().join("project");
    let (code, _, err) = parts(&envc(
        t.path(),
        &[
            "import",
            "compose",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-import-input]"), "{err}");
    assert!(err.contains("compose.yaml:4:1: not valid YAML"), "{err}");
    assert!(!out.exists(), "nothing is written on error");
    // An unset `${VAR:?why}` is located too.
    std::fs::write(
        &bad,
        "services:\n  web:\n    image: nginx:${TAG:?set TAG}\n",
    )
    .unwrap();
    let (code, _, err) = parts(&envc(
        t.path(),
        &[
            "import",
            "compose",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("compose.yaml:3:18: required variable TAG is missing a value: set TAG"),
        "{err}"
    );
    assert!(!out.exists());
    let (code, _, err) = parts(&envc(
        t.path(),
        &[
            "import",
            "k8s",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no workloads"), "{err}");
}

#[test]
fn import_keeps_an_existing_environment_unless_forced() {
    let args = [
        "k8s",
        "tests/fixtures/import/guestbook/guestbook-all-in-one.yaml",
        "--env",
        "guestbook",
    ];
    let (t, code, err) = import_into(&args);
    assert_eq!(code, 0, "{err}");
    let path = t.path().join("environments/guestbook.toml");
    std::fs::write(&path, "# edited by hand\n").unwrap();
    let mut argv: Vec<String> = vec!["import".into(), "k8s".into()];
    argv.push(repo().join(args[1]).display().to_string());
    argv.extend(["--env", "guestbook", "--out"].map(String::from));
    argv.push(t.path().display().to_string());
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = argv.iter().map(String::as_str).collect();
        a.extend(extra);
        parts(&envc(t.path(), &a))
    };
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-import-exists]"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# edited by hand\n"
    );
    let (code, _, err) = run(&["--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("[services.frontend]")
    );
}

#[test]
fn import_adds_to_the_profiles_a_project_has() {
    let t = crate::common::repository_project();
    let before = std::fs::read_to_string(t.path().join("profiles/k3s.toml")).unwrap();
    let manifests = repo().join("tests/fixtures/import/guestbook/guestbook-all-in-one.yaml");
    let (code, _, err) = parts(&envc(
        t.path(),
        &[
            "import",
            "k8s",
            manifests.to_str().unwrap(),
            "--env",
            "guestbook",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    let after = std::fs::read_to_string(t.path().join("profiles/k3s.toml")).unwrap();
    assert!(
        after.starts_with(before.trim_end()),
        "the profile is added to, not replaced"
    );
    assert!(after.contains("# Added by `envc import` for environment `guestbook`."));
    for mode in ["k3s", "docker"] {
        let (code, _, err) = parts(&envc(
            t.path(),
            &["build", "--env", "guestbook", "--target", mode],
        ));
        assert_eq!(code, 0, "{mode}: {err}");
    }
}

#[test]
fn env_files_and_compose_profiles_are_read_as_docker_compose_reads_them() {
    let t = tempfile::tempdir().unwrap();
    let compose = t.path().join("compose.yaml");
    std::fs::write(
        &compose,
        "services:\n  db:\n    image: postgres:16.4\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASS}\n      URL: postgres://app:${DB_PASS}@db/app\n  debug:\n    image: busybox:1.37.0\n    profiles: [debug]\n",
    )
    .unwrap();
    let env_file = t.path().join("dev.env");
    std::fs::write(&env_file, "DB_PASS=correct-horse-battery\n").unwrap();
    let out = t.path().join("project");
    let (code, _, err) = parts(&envc(
        t.path(),
        &[
            "import",
            "compose",
            compose.to_str().unwrap(),
            "--env-file",
            env_file.to_str().unwrap(),
            "--profile",
            "debug",
            "--env",
            "app",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out.join("environments/app.toml")).unwrap();
    assert!(!text.contains("correct-horse-battery"), "{text}");
    let env: toml::Table = text.parse().unwrap();
    let db = &env["services"]["db"]["env"];
    assert_eq!(
        db["POSTGRES_PASSWORD"]["secret"].as_str(),
        Some("postgres-password")
    );
    assert_eq!(
        db["URL"].as_str(),
        Some("postgres://app:${secret.postgres-password}@db/app")
    );
    // `--profile debug` activates the debug service: imported enabled, its profile reported.
    assert!(env["services"]["debug"].get("enabled").is_none());
    assert!(
        err.contains("import report: debug profiles: in Compose profile(s) debug"),
        "{err}"
    );
    let profile = read_toml(&out, "profiles/docker.toml");
    let dev = &profile["environments"]["app"]["secrets"]["postgres-password"]["dev_value"];
    assert_eq!(dev.as_str(), Some("correct-horse-battery"));
    let (code, _, err) = parts(&envc(
        &out,
        &["build", "--env", "app", "--target", "docker"],
    ));
    assert_eq!(code, 0, "{err}");
}
