//! Parity of the Helm modes with k3s: for every environment and scenario with Helm modes, the
//! charts rendered by the real `helm template` deploy, service by service, the workload,
//! ServiceAccount and claims that the k3s manifests deploy, apart from the documented per-mode
//! differences below (docs/prod.md lists the same).
//!
//! Needs helm: `$ENVC_TOOLS/bin/helm` (default `~/.cache/envc-tools/bin/helm`), then `PATH`.
//! Without it the test says it was skipped, unless `ENVC_REQUIRE_TOOLS=1` (scripts/test sets it
//! after installing the validators), where a missing helm fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{copy_dir, envc, parts, repo, repository_project};

/// The differences a Helm mode may have from k3s, each with the reason; every difference the
/// comparison finds must match one of them.
const ALLOWED: [(&str, &str); 12] = [
    (
        "labels",
        "`app.kubernetes.io/managed-by` is `envc` in manifests and `Helm` in charts, which also carry `helm.sh/chart`",
    ),
    (
        "image",
        "a prod mode runs the image its release lock pins (and the `app.kubernetes.io/version` label follows the image)",
    ),
    ("replicas", "replicas, set per mode by the profile"),
    (
        "podManagementPolicy",
        "`Parallel` on StatefulSets with more than one replica, which follow the mode's replicas",
    ),
    (
        "args",
        "args the model builds from the replicas (distributed MinIO's `{0...N}` server list)",
    ),
    ("env", "env values that name the mode"),
    (
        "ingress",
        "URLs built from the ingress host (`${environment.ingress_scheme}://...${environment.ingress_host}`): the prod profile serves its own domain over HTTPS (docs/prod.md, \"HTTPS and hosts\")",
    ),
    (
        "resources",
        "requests and limits, set per mode by the profile",
    ),
    (
        "storage",
        "storage class and claim sizes of persistent volumes, set per mode by the profile",
    ),
    (
        "scheduling",
        "cloud modes only: node selector of the service's node pool, tolerations of its taints, spread over zones and nodes",
    ),
    (
        "identity",
        "cloud modes only: the ServiceAccount annotation binding the service to its cloud identity",
    ),
    (
        "hooks",
        "a job that runs before the release is a Helm pre-install/pre-upgrade hook (annotations on its objects), so the pods that wait for it in k3s (`wait-for-<job>` init containers and their token and cache volumes) need no wait in the chart",
    ),
];

/// Kinds of the objects a service's workload is.
const WORKLOAD_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "Job", "CronJob"];

/// Where a workload's pod spec is.
fn pod_spec(kind: &str) -> &'static str {
    if kind == "CronJob" {
        "/spec/jobTemplate/spec/template/spec"
    } else {
        "/spec/template/spec"
    }
}

/// Whether a k3s list of init containers or pod volumes is the chart's plus the waits for
/// hook jobs.
fn only_hook_waits(k3s: &Option<Value>, prod: &Option<Value>) -> bool {
    let waits = |v: &Value| {
        v.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.starts_with("wait-for-") || n.starts_with("envc-wait-"))
    };
    let Some(Value::Array(k)) = k3s else {
        return false;
    };
    let kept: Vec<&Value> = k.iter().filter(|v| !waits(v)).collect();
    let chart: Vec<&Value> = match prod {
        Some(Value::Array(p)) => p.iter().collect(),
        None => Vec::new(),
        Some(_) => return false,
    };
    kept.len() < k.len() && kept == chart
}

fn helm() -> Option<PathBuf> {
    let tools = std::env::var_os("ENVC_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/envc-tools")));
    if let Some(h) = tools.map(|t| t.join("bin/helm")).filter(|h| h.is_file()) {
        return Some(h);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .find(|h| h.is_file())
}

/// Objects of a YAML stream, by (kind, namespace, name).
fn objects(text: &str) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for doc in text.split("\n---") {
        let Ok(v) = yaml_serde::from_str::<Value>(doc) else {
            continue;
        };
        let field = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default();
        if v.get("kind").is_some() {
            let key = (
                field("/kind").to_string(),
                field("/metadata/namespace").to_string(),
                field("/metadata/name").to_string(),
            );
            out.insert(key, v);
        }
    }
    out
}

fn k3s_objects(dir: &Path) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read k3s set")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for f in files {
        out.extend(objects(&fs::read_to_string(f).expect("read manifest")));
    }
    out
}

/// Every difference between two values: (path, k3s, prod), `None` where a side lacks it.
fn differences(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Difference>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                differences(&format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        _ if a != b => out.push(Difference {
            path: path.to_string(),
            k3s: a.cloned(),
            prod: b.cloned(),
        }),
        _ => {}
    }
}

struct Difference {
    path: String,
    k3s: Option<Value>,
    prod: Option<Value>,
}

/// What one prod mode is compared in.
struct Mode<'a> {
    name: &'a str,
    lock: String,
    replicas: u64,
    /// The environment's ingress host in k3s and in the prod mode (the shortest Ingress host).
    hosts: (String, String),
}

/// The shortest host of a set's routes (Ingress rules, HTTPRoute hostnames): the
/// environment's `ingress_host`.
fn ingress_domain(set: &BTreeMap<(String, String, String), Value>) -> String {
    let rules = set
        .iter()
        .filter(|((k, _, _), _)| k == "Ingress")
        .flat_map(|(_, v)| v["spec"]["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["host"].as_str().map(str::to_string));
    let hostnames = set
        .iter()
        .filter(|((k, _, _), _)| k == "HTTPRoute")
        .flat_map(|(_, v)| {
            v["spec"]["hostnames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|h| h.as_str().map(str::to_string));
    rules
        .chain(hostnames)
        .min_by_key(|h| h.len())
        .unwrap_or_default()
}

/// The entry of [`ALLOWED`] that explains a difference, if any.
fn allowed(d: &Difference, mode: &Mode, image_differs: bool) -> Option<&'static str> {
    let p = d.path.as_str();
    let text = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).map(str::to_string);
    let (k3s, prod) = (text(&d.k3s), text(&d.prod));
    if p.ends_with("labels.app.kubernetes.io/managed-by") || p.ends_with("labels.helm.sh/chart") {
        return Some("labels");
    }
    if p.ends_with("labels.app.kubernetes.io/version") {
        return image_differs.then_some("image");
    }
    if p.ends_with(".image") {
        return prod
            .filter(|i| mode.lock.contains(&format!("\"{i}\"")))
            .map(|_| "image");
    }
    if p == ".spec.replicas" {
        return Some("replicas");
    }
    if p == ".spec.podManagementPolicy" {
        return (mode.replicas > 1 && prod.as_deref() == Some("Parallel"))
            .then_some("podManagementPolicy");
    }
    if p.contains(".containers[0].resources") {
        return Some("resources");
    }
    if p.ends_with("storageClassName") || p.ends_with("resources.requests.storage") {
        return Some("storage");
    }
    for field in ["nodeSelector", "tolerations", "topologySpreadConstraints"] {
        if p.contains(&format!(".template.spec.{field}")) && d.k3s.is_none() {
            return Some("scheduling");
        }
    }
    let hook_only = d
        .prod
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|a| !a.is_empty() && a.keys().all(|k| k.starts_with("helm.sh/hook")));
    if p == ".metadata.annotations" && d.k3s.is_none() && hook_only {
        return Some("hooks");
    }
    if (p.ends_with(".spec.initContainers") || p.ends_with(".spec.volumes"))
        && only_hook_waits(&d.k3s, &d.prod)
    {
        return Some("hooks");
    }
    if p.starts_with(".metadata.annotations") && d.k3s.is_none() {
        return Some("identity");
    }
    if p.contains(".containers[0].args[") {
        let servers = format!("{{0...{}}}", mode.replicas.saturating_sub(1));
        return prod.filter(|a| a.contains(&servers)).map(|_| "args");
    }
    if p.contains(".containers[0].env[") && p.ends_with(".value") {
        let (Some(a), Some(b)) = (k3s, prod) else {
            return None;
        };
        if a.replace("k3s", "<mode>") == b.replace(mode.name, "<mode>") {
            return Some("env");
        }
        let (k3s_host, prod_host) = &mode.hosts;
        let url = |v: &str, host: &str| {
            v.replacen("https://", "<scheme>://", 1)
                .replacen("http://", "<scheme>://", 1)
                .replace(host, "<host>")
        };
        return (!k3s_host.is_empty() && url(&a, k3s_host) == url(&b, prod_host))
            .then_some("ingress");
    }
    None
}

/// Compares the chart of one prod set with the k3s set; returns the problems and counts the
/// allowed differences by entry.
fn compare(
    helm: &Path,
    env: &str,
    prod_dir: &Path,
    k3s_dir: &Path,
    lock: String,
    seen: &mut BTreeMap<&'static str, usize>,
) -> (Vec<String>, usize) {
    let mode = prod_dir
        .file_name()
        .and_then(|m| m.to_str())
        .unwrap_or_default();
    let out = Command::new(helm)
        .args(["template", env])
        .arg(prod_dir.join("chart"))
        .output()
        .expect("run helm template");
    assert!(
        out.status.success(),
        "helm template {env}/{mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = objects(&String::from_utf8_lossy(&out.stdout));
    let k3s = k3s_objects(k3s_dir);
    let values: Value = yaml_serde::from_str(
        &fs::read_to_string(prod_dir.join("chart/values.yaml")).expect("read values"),
    )
    .expect("values.yaml parses");
    let mut problems = Vec::new();
    let services = values["services"].as_object().cloned().unwrap_or_default();
    for (name, v) in &services {
        let workload = |set: &BTreeMap<(String, String, String), Value>| {
            set.iter()
                .find(|((k, _, n), _)| n == name && WORKLOAD_KINDS.contains(&k.as_str()))
                .map(|(key, v)| (key.clone(), v.clone()))
        };
        let (Some((key, prod_w)), Some((_, k3s_w))) = (workload(&rendered), workload(&k3s)) else {
            problems.push(format!(
                "{env}/{mode}: {name} is not a workload in both the chart and k3s"
            ));
            continue;
        };
        let m = Mode {
            name: mode,
            hosts: (ingress_domain(&k3s), ingress_domain(&rendered)),
            lock: lock.clone(),
            replicas: v["replicas"]
                .as_u64()
                .or_else(|| v["autoscaling"]["max"].as_u64())
                .unwrap_or(1),
        };
        let image = format!("{}/containers/0/image", pod_spec(&key.0));
        let image_differs = prod_w.pointer(&image) != k3s_w.pointer(&image);
        let mut pairs = vec![(key.clone(), Some(k3s_w), Some(prod_w.clone()))];
        // The ServiceAccount and a Deployment's claims, by name.
        for ((kind, ns, n), o) in &rendered {
            let claim = kind == "PersistentVolumeClaim" && n.starts_with(&format!("{name}-"));
            if ns == &key.1 && ((kind == "ServiceAccount" && n == name) || claim) {
                let k = (kind.clone(), ns.clone(), n.clone());
                pairs.push((k.clone(), k3s.get(&k).cloned(), Some(o.clone())));
            }
        }
        for ((kind, _, n), a, b) in pairs {
            let mut diffs = Vec::new();
            differences("", a.as_ref(), b.as_ref(), &mut diffs);
            for d in diffs {
                match allowed(&d, &m, image_differs) {
                    Some(entry) => *seen.entry(entry).or_default() += 1,
                    None => problems.push(format!(
                        "{env}/{mode}: {kind} {n}{}: k3s {}, chart {}",
                        d.path,
                        d.k3s.map_or("(none)".into(), |v| v.to_string()),
                        d.prod.map_or("(none)".into(), |v| v.to_string()),
                    )),
                }
            }
        }
    }
    // Every k3s workload is deployed by the chart or stands in for a managed service.
    for (kind, _, n) in k3s.keys() {
        let workload = WORKLOAD_KINDS.contains(&kind.as_str());
        if workload && !services.contains_key(n) && values["external"].get(n).is_none() {
            problems.push(format!("{env}/{mode}: {n} runs in k3s, not in the chart"));
        }
    }
    (problems, services.len())
}

/// A project to build: the repository's environments (the lakehouse and airflow), or a copy
/// of a scenario's model.
fn projects() -> Vec<(String, tempfile::TempDir)> {
    let mut out = vec![("the repository".to_string(), repository_project())];
    let mut scenarios: Vec<PathBuf> = fs::read_dir(repo().join("tests/scenarios"))
        .expect("scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    for s in scenarios {
        let t = tempfile::tempdir().expect("tempdir");
        for d in ["environments", "profiles", "locks"] {
            if s.join(d).is_dir() {
                copy_dir(&s.join(d), &t.path().join(d));
            }
        }
        out.push((format!("scenario {}", s.display()), t));
    }
    out
}

#[test]
fn helm_modes_deploy_the_k3s_workloads() {
    let Some(helm) = helm() else {
        let why = "helm not found in $ENVC_TOOLS/bin (~/.cache/envc-tools/bin) or on PATH; scripts/install-validators installs it";
        assert!(
            std::env::var("ENVC_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "ENVC_REQUIRE_TOOLS=1: {why}"
        );
        eprintln!("SKIPPED parity of helm modes with k3s: {why}");
        return;
    };
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut compared = Vec::new();
    for (label, project) in projects() {
        let dir = project.path();
        let (code, _, err) = parts(&envc(dir, &["build", "--target", "all"]));
        assert_eq!(code, 0, "{label}: {err}");
        let out = dir.join("out");
        for env in fs::read_dir(&out)
            .expect("out")
            .map(|e| e.expect("env").path())
        {
            let sets: Vec<PathBuf> = fs::read_dir(&env)
                .expect("sets")
                .map(|e| e.expect("set").path())
                .collect();
            let k3s = env.join("k3s");
            let name = env.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            for prod in sets.iter().filter(|s| s.join("chart/Chart.yaml").is_file()) {
                assert!(
                    k3s.join("kustomization.yaml").is_file(),
                    "{label}: {} has no k3s mode to compare with",
                    prod.display()
                );
                let mode = prod
                    .file_name()
                    .and_then(|m| m.to_str())
                    .unwrap_or_default();
                let lock = dir.join("locks").join(name).join(format!("{mode}.toml"));
                let lock = fs::read_to_string(lock).unwrap_or_default();
                let (p, n) = compare(&helm, name, prod, &k3s, lock, &mut seen);
                problems.extend(p);
                compared.push(format!("{name}/{mode} ({n} services)"));
            }
        }
    }
    eprintln!("parity of helm modes with k3s: {}", compared.join(", "));
    eprintln!("documented per-mode differences (occurrences found):");
    for (entry, why) in ALLOWED {
        eprintln!(
            "  {entry:<20} {:>3}  {why}",
            seen.get(entry).copied().unwrap_or(0)
        );
    }
    assert!(
        compared
            .iter()
            .any(|c| c.starts_with("crypto-lakehouse/eks"))
            && compared
                .iter()
                .any(|c| c.starts_with("crypto-lakehouse/gke")),
        "the lakehouse's prod modes were not compared: {compared:?}"
    );
    // Each kind of difference the lakehouse has is found, so the rules are exercised.
    for entry in [
        "labels",
        "replicas",
        "resources",
        "storage",
        "scheduling",
        "identity",
        "env",
    ] {
        assert!(seen.contains_key(entry), "no `{entry}` difference found");
    }
    assert!(
        problems.is_empty(),
        "{} undocumented differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
