//! The everyday commands: `render` (against `kubectl kustomize` and `helm template` of the
//! committed sets), `explain`, `graph`, `endpoints` (against the committed artifacts),
//! `completions`, `man`, the project root found from a subdirectory, and the JSON of `build`,
//! `check` and `list` (against docs/cli.schema.json).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{LAKEHOUSE, envc, lakehouse_project, parts, repo};
use crate::tools::tool;

/// Objects of a YAML stream by (kind, namespace, name); each must be unique.
fn objects(text: &str) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for doc in text.split("\n---") {
        let Ok(v) = yaml_serde::from_str::<Value>(doc) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let key = (s("/kind"), s("/metadata/namespace"), s("/metadata/name"));
        assert!(out.insert(key.clone(), v).is_none(), "{key:?} twice");
    }
    out
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = parts(&envc(dir, args));
    assert_eq!(code, 0, "envc {args:?}: {err}");
    out
}

fn run_tool(tool: &Path, args: &[&str]) -> String {
    let o = Command::new(tool).args(args).output().expect("run tool");
    assert!(
        o.status.success(),
        "{} {args:?}: {}",
        tool.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every project of the repository with its environments and modes (from `envc list`).
fn sets() -> Vec<(std::path::PathBuf, String, String, String)> {
    let mut projects = vec![repo()];
    let mut scenarios: Vec<_> = fs::read_dir(repo().join("tests/scenarios"))
        .expect("scenarios")
        .map(|e| e.expect("entry").path())
        .collect();
    scenarios.sort();
    projects.extend(scenarios);
    let mut out = Vec::new();
    for p in projects {
        for line in run_ok(&p, &["list", "--format", "json"]).lines() {
            let v: Value = serde_json::from_str(line).expect("list line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            out.push((p.clone(), s("environment"), s("mode"), s("backend")));
        }
    }
    out
}

#[test]
fn render_prints_what_kustomize_and_helm_render_from_the_sets() {
    let kubectl = tool("kubectl", "envc render against kubectl kustomize");
    let helm = tool("helm", "envc render against helm template");
    let t = tempfile::tempdir().expect("tempdir");
    let mut compared = 0;
    for (i, (project, env, mode, backend)) in sets().into_iter().enumerate() {
        let rendered = run_ok(&project, &["render", &mode, "--env", &env]);
        // The repository's committed sets (`build --check` keeps them fresh); the scenarios'
        // sets built here.
        let dir = if project == repo() {
            project.join("out").join(&env).join(&mode)
        } else {
            let out = t.path().join(i.to_string());
            let args = [
                "build",
                "--env",
                &env,
                "--target",
                &mode,
                "--out",
                out.to_str().expect("utf-8"),
            ];
            run_ok(&project, &args);
            out.join(&env).join(&mode)
        };
        let expected = match backend.as_str() {
            "kubernetes" => match &kubectl {
                Some(k) => run_tool(k, &["kustomize", dir.to_str().expect("utf-8")]),
                None => continue,
            },
            "helm" => match &helm {
                Some(h) => run_tool(
                    h,
                    &["template", &env, dir.join("chart").to_str().expect("utf-8")],
                ),
                None => continue,
            },
            _ => {
                // Compose: the file `envc build` writes for the project's out/, byte for byte
                // (its build contexts and bind mounts are relative to where it is written).
                let file = project
                    .join("out")
                    .join(&env)
                    .join(&mode)
                    .join("docker-compose.yml");
                if project == repo() {
                    let file = fs::read_to_string(file).expect("committed compose file");
                    assert!(rendered == file, "{env}/{mode}: render differs from out/");
                }
                let v: Value = yaml_serde::from_str(&rendered).expect("compose yaml");
                assert!(
                    v["services"].as_object().is_some_and(|s| !s.is_empty()),
                    "{env}/{mode}"
                );
                continue;
            }
        };
        let (r, e) = (objects(&rendered), objects(&expected));
        assert!(!r.is_empty(), "{env}/{mode}: nothing rendered");
        assert_eq!(
            r.keys().collect::<Vec<_>>(),
            e.keys().collect::<Vec<_>>(),
            "{env}/{mode}: objects"
        );
        for (k, v) in &r {
            assert_eq!(v, &e[k], "{env}/{mode}: {k:?} differs");
        }
        // Namespaces come first, so `kubectl apply -f -` creates them before their objects.
        let first = objects(rendered.split("\n---").nth(1).unwrap_or_default());
        assert!(
            first.keys().all(|(kind, _, _)| kind == "Namespace"),
            "{env}/{mode}: {first:?}"
        );
        compared += 1;
    }
    if kubectl.is_some() && helm.is_some() {
        assert!(compared >= 8, "compared only {compared} sets");
    }
}

#[test]
fn render_keeps_one_service_and_refuses_unknown_ones() {
    let root = repo();
    let all = objects(&run_ok(&root, &["render", "k3s", "--env", LAKEHOUSE]));
    let minio = objects(&run_ok(
        &root,
        &["render", "k3s", "--env", LAKEHOUSE, "--service", "minio"],
    ));
    let labelled: Vec<_> = all
        .iter()
        .filter(|(_, v)| {
            v.pointer("/metadata/labels/app.kubernetes.io~1name")
                .and_then(Value::as_str)
                == Some("minio")
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(minio.keys().cloned().collect::<Vec<_>>(), {
        let mut l = labelled.clone();
        l.sort();
        l
    });
    let kinds: Vec<&str> = minio.keys().map(|(k, _, _)| k.as_str()).collect();
    assert!(
        kinds.contains(&"StatefulSet") && kinds.contains(&"NetworkPolicy"),
        "{kinds:?}"
    );
    // Compose: only that service under `services`.
    let compose: Value = yaml_serde::from_str(&run_ok(
        &root,
        &["render", "docker", "--env", "airflow", "--service", "redis"],
    ))
    .expect("yaml");
    let names: Vec<&String> = compose["services"]
        .as_object()
        .expect("services")
        .keys()
        .collect();
    assert_eq!(names, ["redis"]);
    // Helm: only that service's objects.
    let chart = objects(&run_ok(
        &root,
        &["render", "eks", "--env", LAKEHOUSE, "--service", "postgres"],
    ));
    assert_eq!(chart.len(), 1, "{chart:?}");
    assert_eq!(
        chart.values().next().expect("one")["spec"]["type"],
        "ExternalName"
    );

    let (code, out, err) = parts(&envc(
        &root,
        &["render", "k3s", "--env", LAKEHOUSE, "--service", "mino"],
    ));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("error[E-usage]: unknown service `mino`")
            && err.contains("did you mean `minio`?"),
        "{err}"
    );
    let (code, _, err) = parts(&envc(&root, &["render", "k4s", "--env", LAKEHOUSE]));
    assert_eq!(code, 2);
    assert!(err.contains("E-unknown-mode"), "{err}");
}

#[test]
fn build_to_a_dash_is_a_usage_error_that_names_render() {
    let t = lakehouse_project();
    let (code, out, err) = parts(&envc(t.path(), &["build", "--target", "k3s", "--out", "-"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("error[E-usage]") && err.contains("`envc render k3s`"),
        "{err}"
    );
    assert!(!t.path().join("-").exists());
}

#[test]
fn the_project_is_found_from_a_subdirectory_and_root_overrides_it() {
    let t = lakehouse_project();
    let sub = t.path().join(format!("environments/{LAKEHOUSE}"));
    assert!(sub.is_dir());
    let (code, _, err) = parts(&envc(&sub, &["check", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("ok {LAKEHOUSE} in mode k3s")),
        "{err}"
    );
    // `build` from below writes the root's out/, not one beside the current directory.
    run_ok(&sub, &["build", "--target", "docker"]);
    assert!(
        t.path()
            .join(format!("out/{LAKEHOUSE}/docker/docker-compose.yml"))
            .is_file()
    );
    assert!(!sub.join("out").exists());
    // --root wins: here it names a directory that is no project.
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, _, _) = parts(&envc(
        &sub,
        &["--root", empty.path().to_str().expect("utf-8"), "check"],
    ));
    assert_eq!(code, 2);
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str, after: usize) -> usize {
    let text = fs::read_to_string(file).expect("read");
    text.lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()))
}

#[test]
fn explain_names_every_file_and_line_that_sets_a_value() {
    let root = repo();
    let doc: Value = serde_json::from_str(&run_ok(
        &root,
        &[
            "explain",
            "prefect-worker.autoscaling.max",
            "--env",
            LAKEHOUSE,
            "--format",
            "json",
        ],
    ))
    .expect("json");
    let modes = doc["modes"].as_array().expect("modes");
    let mode = |m: &str| modes.iter().find(|x| x["mode"] == m).expect("mode");
    let env_file = root.join(format!("environments/{LAKEHOUSE}.toml"));
    let model_line = line_of(&env_file, "[services.prefect-worker]", 0);
    let max_line = line_of(&env_file, "autoscaling =", model_line);
    // k3s follows the model: one layer.
    let k3s = mode("k3s");
    assert_eq!(k3s["chain"].as_array().expect("chain").len(), 1, "{k3s}");
    assert_eq!(k3s["chain"][0]["layer"], "environment");
    assert_eq!(
        k3s["chain"][0]["at"],
        format!("environments/{LAKEHOUSE}.toml:{max_line}")
    );
    assert_eq!(k3s["value"], k3s["chain"][0]["value"]);
    // eks: the model, its lock, then the profile's block for the environment, which wins.
    let eks = mode("eks");
    let layers: Vec<&str> = eks["chain"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|l| l["layer"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        layers,
        [
            "environment",
            "lock",
            &format!("profile eks [environments.{LAKEHOUSE}]")
        ],
        "{eks}"
    );
    let last = &eks["chain"][2];
    assert_eq!(eks["value"], last["value"]);
    let at = last["at"].as_str().expect("at");
    let (file, line) = at.rsplit_once(':').expect("file:line");
    assert_eq!(file, "profiles/eks.toml");
    let profile_line: usize = line.parse().expect("line");
    let text = fs::read_to_string(root.join(file)).expect("profile");
    assert!(
        text.lines()
            .nth(profile_line - 1)
            .expect("line")
            .contains("max = 6"),
        "{at}"
    );
    assert_eq!(
        eks["chain"][1]["at"]
            .as_str()
            .expect("at")
            .split(':')
            .next(),
        Some(&*format!("locks/{LAKEHOUSE}/eks.toml"))
    );

    // A value taken from a template names the template line and the service's `extends`.
    let af = run_ok(
        &root,
        &[
            "explain",
            "airflow-worker.image",
            "--env",
            "airflow",
            "--mode",
            "docker",
        ],
    );
    assert!(af.contains("(template, extended at line"), "{af}");
    // References resolved per mode.
    let url = run_ok(
        &root,
        &[
            "explain",
            "prefect-server.env.PREFECT_SERVER_DATABASE_CONNECTION_URL",
            "--env",
            LAKEHOUSE,
            "--mode",
            "k3s",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&url).expect("json");
    let resolved = v["modes"][0]["resolved"].as_str().expect("resolved");
    // The references resolve; the secret stays a placeholder, never its value.
    assert!(
        resolved.starts_with("postgresql+asyncpg://")
            && resolved.contains(&format!("@postgres.{LAKEHOUSE}.svc.cluster.local:5432/"))
            && resolved.contains("${secret.postgres-password}")
            && !resolved.contains("${postgres."),
        "{resolved}"
    );
    // A whole service: every key, each with its line.
    let all: Value = serde_json::from_str(&run_ok(
        &root,
        &[
            "explain", "redis", "--env", LAKEHOUSE, "--mode", "docker", "--format", "json",
        ],
    ))
    .expect("json");
    let keys = all["modes"][0]["keys"].as_array().expect("keys");
    assert!(keys.iter().any(|k| k["key"] == "image"), "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k["at"].as_str().is_some_and(|a| a.contains(".toml:")))
    );
    let (code, _, err) = parts(&envc(
        &root,
        &["explain", "redis-cache", "--env", LAKEHOUSE],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `redis`?"), "{err}");
}

#[test]
fn graph_lists_dependencies_before_dependents_in_every_format() {
    let root = repo();
    let g: Value = serde_json::from_str(&run_ok(
        &root,
        &[
            "graph", "--env", LAKEHOUSE, "--mode", "k3s", "--format", "json",
        ],
    ))
    .expect("json");
    let order: Vec<&str> = g["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["name"].as_str().unwrap_or_default())
        .collect();
    let pos = |n: &str| {
        order
            .iter()
            .position(|x| *x == n)
            .unwrap_or_else(|| panic!("{n} not in {order:?}"))
    };
    let edges = g["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    for e in edges {
        assert!(
            pos(e["to"].as_str().expect("to")) < pos(e["from"].as_str().expect("from")),
            "{e}"
        );
        let at = e["at"].as_str().expect("at");
        assert!(
            at.starts_with("environments/") || at.starts_with("profiles/"),
            "{at}"
        );
    }
    // prefect-server declares depends_on postgres (the README's example).
    assert!(edges.iter().any(|e| e["from"] == "prefect-server"
        && e["to"] == "postgres"
        && e["kind"] == "declared"));
    let dot = run_ok(&root, &["graph", "--env", LAKEHOUSE, "--mode", "k3s"]);
    assert!(
        dot.contains("digraph \"crypto-lakehouse/k3s\" {")
            && dot.contains("\"prefect-server\" -> \"postgres\""),
        "{dot}"
    );
    assert!(dot.trim_end().ends_with('}'));
    let mermaid = run_ok(
        &root,
        &[
            "graph", "--env", LAKEHOUSE, "--mode", "eks", "--format", "mermaid",
        ],
    );
    assert!(mermaid.lines().nth(1) == Some("flowchart LR"), "{mermaid}");
    // Managed services in eks are drawn apart (a database shape).
    assert!(
        mermaid.contains("[(\"postgres<br/><small>managed: "),
        "{mermaid}"
    );
    if let Some(dot_tool) = crate::tools::on_path("dot") {
        let mut child = Command::new(dot_tool)
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("dot");
        std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), dot.as_bytes())
            .expect("write");
        assert!(child.wait().expect("dot").success());
    }
}

#[test]
fn endpoints_list_every_published_port_node_port_and_ingress_host() {
    let root = repo();
    let doc: Value = serde_json::from_str(&run_ok(
        &root,
        &["endpoints", "--env", LAKEHOUSE, "--format", "json"],
    ))
    .expect("json");
    let modes = doc["modes"].as_array().expect("modes");
    let addresses = |m: &str, kind: &str| -> Vec<String> {
        modes.iter().find(|x| x["mode"] == m).expect("mode")["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| e["address"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let out = root.join(format!("out/{LAKEHOUSE}"));
    // Every port the Compose file publishes, and nothing else.
    let compose: Value = yaml_serde::from_str(
        &fs::read_to_string(out.join("docker/docker-compose.yml")).expect("compose"),
    )
    .expect("yaml");
    let mut published: Vec<String> = compose["services"]
        .as_object()
        .expect("services")
        .values()
        .flat_map(|s| s["ports"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            let p = p.as_str().expect("short syntax").to_string();
            let mut parts = p.split(':');
            format!(
                "{}:{}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            )
        })
        .collect();
    published.sort();
    let mut listed = addresses("docker", "host-port");
    listed.sort();
    assert_eq!(listed, published);
    // Every NodePort and Ingress host of the k3s manifests.
    let k3s = objects(&run_ok(&root, &["render", "k3s", "--env", LAKEHOUSE]));
    let mut node_ports: Vec<String> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for v in k3s.values() {
        for p in v
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = p["nodePort"].as_u64() {
                node_ports.push(format!("<node>:{n}"));
            }
        }
        for r in v
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for path in r
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                hosts.push(format!(
                    "http://{}{}",
                    r["host"].as_str().unwrap_or_default(),
                    path["path"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    let mut got = addresses("k3s", "node-port");
    node_ports.sort();
    got.sort();
    assert_eq!(got, node_ports);
    let mut got = addresses("k3s", "ingress");
    hosts.sort();
    got.sort();
    assert_eq!(got, hosts);
    // In-cluster and Compose-network addresses, as references resolve them.
    assert!(
        addresses("k3s", "service")
            .contains(&format!("postgres.{LAKEHOUSE}.svc.cluster.local:5432"))
    );
    assert!(addresses("docker", "service").contains(&"postgres:5432".to_string()));
    assert!(
        addresses("eks", "managed")
            .contains(&format!("postgres.{LAKEHOUSE}.svc.cluster.local:5432"))
    );
    let text = run_ok(
        &root,
        &["endpoints", "--env", LAKEHOUSE, "--mode", "docker"],
    );
    assert!(
        text.starts_with(&format!("{LAKEHOUSE}/docker (compose backend)\n")),
        "{text}"
    );
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let root = repo();
    let commands = [
        "build",
        "check",
        "render",
        "explain",
        "graph",
        "endpoints",
        "completions",
        "man",
        "diff",
        "promote",
    ];
    let bash = run_ok(&root, &["completions", "bash"]);
    for c in commands {
        assert!(bash.contains(c), "bash completion lacks {c}");
    }
    let t = tempfile::tempdir().expect("tempdir");
    let script = t.path().join("envc.bash");
    fs::write(&script, &bash).expect("write");
    let o = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            run_ok(&root, &["completions", shell]).contains("render"),
            "{shell}"
        );
    }
    let man = run_ok(&root, &["man"]);
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq") || man.contains(".TH envc 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains(".TH envc 1"));
    for c in commands {
        assert!(man.contains(c), "man page lacks {c}");
    }
    let dir = t.path().join("man");
    run_ok(&root, &["man", "--out", dir.to_str().expect("utf-8")]);
    for page in ["envc.1", "envc-render.1", "envc-explain.1", "envc-build.1"] {
        let text = fs::read_to_string(dir.join(page)).unwrap_or_else(|_| panic!("{page} missing"));
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn json_of_build_check_and_list_follows_the_documented_schema() {
    let t = lakehouse_project();
    let p = t.path();
    let build: Value =
        serde_json::from_str(&run_ok(p, &["build", "--format", "json"])).expect("json");
    assert_eq!(build["format_version"], 1);
    assert_eq!(build["status"], "ok");
    let sets = build["sets"].as_array().expect("sets");
    assert_eq!(sets.len(), 4, "{build}");
    assert!(sets.iter().all(|s| s["result"] == "wrote"), "{build}");
    let again: Value =
        serde_json::from_str(&run_ok(p, &["build", "--format", "json"])).expect("json");
    assert!(
        again["sets"]
            .as_array()
            .expect("sets")
            .iter()
            .all(|s| s["result"] == "unchanged")
    );
    // A stale file: exit 1, named in the set's problems.
    let compose = p.join(format!("out/{LAKEHOUSE}/docker/docker-compose.yml"));
    fs::write(&compose, "stale\n").expect("write");
    let (code, out, _) = parts(&envc(p, &["build", "--check", "--format", "json"]));
    assert_eq!(code, 1);
    let stale: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(stale["status"], "stale");
    let docker = stale["sets"]
        .as_array()
        .expect("sets")
        .iter()
        .find(|s| s["mode"] == "docker")
        .expect("docker");
    assert_eq!(docker["result"], "stale");
    assert_eq!(
        docker["problems"][0],
        serde_json::json!({"kind": "stale", "path": format!("out/{LAKEHOUSE}/docker/docker-compose.yml")})
    );
    let check: Value =
        serde_json::from_str(&run_ok(p, &["check", "--format", "json"])).expect("json");
    assert_eq!(check["command"], "check");
    assert!(
        check["sets"]
            .as_array()
            .expect("sets")
            .iter()
            .all(|s| s["services"].as_u64().is_some_and(|n| n > 0))
    );
    // An invalid model: status invalid, exit 2, each diagnostic located.
    let bad = repo().join("tests/errors/wrong-type");
    let (code, out, err) = parts(&envc(&bad, &["check", "--format", "json"]));
    assert_eq!(code, 2);
    assert!(err.is_empty(), "{err}");
    let invalid: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(invalid["status"], "invalid");
    let d = &invalid["diagnostics"][0];
    assert_eq!(d["code"], "E-invalid-value");
    assert_eq!(d["labels"][0]["file"], "environments/shop.toml");
    let expected_line = line_of(&bad.join("environments/shop.toml"), "\"two\"", 0);
    assert_eq!(d["labels"][0]["line"], expected_line);

    let Some(cj) = tool(
        "check-jsonschema",
        "envc's JSON against docs/cli.schema.json",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut docs = vec![
        ("build", build),
        ("again", again),
        ("stale", stale),
        ("check", check),
        ("invalid", invalid),
    ];
    let root = repo();
    for (name, args) in [
        (
            "graph",
            vec!["graph", "--env", LAKEHOUSE, "--format", "json"],
        ),
        (
            "explain-key",
            vec![
                "explain",
                "minio.replicas",
                "--env",
                LAKEHOUSE,
                "--format",
                "json",
            ],
        ),
        (
            "explain-service",
            vec![
                "explain", "minio", "--env", LAKEHOUSE, "--mode", "eks", "--format", "json",
            ],
        ),
        (
            "endpoints",
            vec!["endpoints", "--env", LAKEHOUSE, "--format", "json"],
        ),
    ] {
        docs.push((
            name,
            serde_json::from_str(&run_ok(&root, &args)).expect("json"),
        ));
    }
    for (i, line) in run_ok(&root, &["list", "--format", "json"])
        .lines()
        .enumerate()
    {
        let v: Value = serde_json::from_str(line).expect("json");
        assert_eq!(v["format_version"], 1);
        docs.push((
            [
                "list0", "list1", "list2", "list3", "list4", "list5", "list6", "list7",
            ][i.min(7)],
            v,
        ));
    }
    let mut files = Vec::new();
    for (name, v) in &docs {
        let f = dir.path().join(format!("{name}.json"));
        fs::write(&f, serde_json::to_string(v).expect("json")).expect("write");
        files.push(f);
    }
    let mut cmd = Command::new(cj);
    cmd.arg("--schemafile")
        .arg(root.join("docs/cli.schema.json"))
        .args(&files);
    let o = cmd.output().expect("check-jsonschema");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // The schema is closed: a key it does not know fails.
    let f = dir.path().join("extra.json");
    let mut v = docs[0].1.clone();
    v["surprise"] = Value::Bool(true);
    fs::write(&f, v.to_string()).expect("write");
    let o = Command::new(tool("check-jsonschema", "").expect("found above"))
        .arg("--schemafile")
        .arg(root.join("docs/cli.schema.json"))
        .arg(&f)
        .output()
        .expect("run");
    assert!(!o.status.success());
}
