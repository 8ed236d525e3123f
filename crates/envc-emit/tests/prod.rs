//! The prod modes of the lakehouse (eks, gke) against its dev mode (k3s) and the committed
//! output: same containers, cloud-only differences, typed Terraform variables, node pools that
//! hold the workloads, no secret values, deterministic artifacts equal to `out/`.

#![allow(clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use envc_core::Ir;
use envc_core::ir::Service;
use envc_emit::labels::Flavour;
use envc_emit::{Artifact, cloud, helm, object, pod, terraform};
use envc_model::Project;
use serde_json::Value;

const ENV: &str = "crypto-lakehouse";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ir(mode: &str) -> Ir {
    let mut project = match Project::load(&root()) {
        Ok(p) => p,
        Err(f) => panic!("project does not load: {:?}", f.diagnostics),
    };
    let loaded = match project.mode(ENV, mode) {
        Ok(l) => l,
        Err(d) => panic!("{mode} does not load: {d:?}"),
    };
    match envc_core::compile(&mut project, &loaded) {
        Ok(c) => c.ir,
        Err(d) => panic!("{mode} does not compile: {d:?}"),
    }
}

fn emit(ir: &Ir) -> Vec<Artifact> {
    match envc_emit::emit(ir) {
        Ok(a) => a,
        Err(e) => panic!("{} does not emit: {e}", ir.mode),
    }
}

fn values(ir: &Ir) -> Value {
    match serde_json::to_value(helm::values(ir)) {
        Ok(v) => v,
        Err(e) => panic!("values of {}: {e}", ir.mode),
    }
}

/// The objects of a deployed service, as the chart's templates are made of them.
fn chart_objects(ir: &Ir, s: &Service) -> Vec<Value> {
    object::service(ir, s, Flavour::Chart)
        .iter()
        .map(|o| match object::value(o) {
            Ok(v) => v,
            Err(e) => panic!("{}: objects of {}: {e}", ir.mode, s.name),
        })
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kinds: &[&str]) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| kinds.iter().any(|k| o["kind"] == *k))
}

fn text(ir: &Ir, path: &str) -> String {
    emit(ir)
        .into_iter()
        .find(|a| a.path == path)
        .map(|a| String::from_utf8_lossy(&a.bytes).into_owned())
        .unwrap_or_else(|| panic!("{}: no {path}", ir.mode))
}

#[test]
fn prod_workloads_carry_the_k3s_containers() {
    let dev = ir("k3s");
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        let v = values(&prod);
        for s in &dev.services {
            let Some(p) = prod.service(&s.name).filter(|p| p.is_deployed()) else {
                // Not deployed in prod: it must be a managed service there.
                assert!(
                    v["external"].get(&s.name).is_some(),
                    "{mode}: {} vanished",
                    s.name
                );
                continue;
            };
            assert_eq!(
                v["services"][&s.name]["image"],
                Value::String(p.image.clone()),
                "{mode}: image value of {}",
                s.name
            );
            let objects = chart_objects(&prod, p);
            let workload = of_kind(&objects, &["Deployment", "StatefulSet"]);
            let c = &workload.map(|w| w["spec"]["template"]["spec"]["containers"][0].clone());
            let c = c.clone().unwrap_or_default();
            let dev_env: Vec<String> = pod::env(s).into_iter().map(|e| e.name).collect();
            let prod_env: Vec<String> = c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["name"].as_str().map(String::from))
                .collect();
            assert_eq!(dev_env, prod_env, "{mode}: env names of {}", s.name);
            let dev_ports: Vec<(String, u64)> = s
                .ports
                .iter()
                .map(|p| (p.name.clone(), u64::from(p.container)))
                .collect();
            let prod_ports: Vec<(String, u64)> = c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_string(),
                        p["containerPort"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            assert_eq!(dev_ports, prod_ports, "{mode}: ports of {}", s.name);
            for (key, probe) in [
                ("livenessProbe", &s.liveness),
                ("readinessProbe", &s.readiness),
                ("startupProbe", &s.startup),
            ] {
                let dev_probe = probe
                    .as_ref()
                    .map(|p| serde_json::to_value(pod::probe(p)).unwrap_or_default());
                assert_eq!(
                    dev_probe.as_ref(),
                    c.get(key),
                    "{mode}: {key} of {}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn eks_and_gke_differ_only_in_cloud_parts() {
    let (eks, gke) = (ir("eks"), ir("gke"));
    assert_eq!(eks.services.len(), gke.services.len());
    for (a, b) in eks.services.iter().zip(&gke.services) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.image, b.image);
        assert_eq!(a.command, b.command);
        assert_eq!(a.args, b.args);
        assert_eq!(a.resources, b.resources, "{}", a.name);
        assert_eq!(
            (a.replicas, &a.autoscaling),
            (b.replicas, &b.autoscaling),
            "{}",
            a.name
        );
        assert_eq!(
            (&a.liveness, &a.readiness, &a.startup),
            (&b.liveness, &b.readiness, &b.startup)
        );
        assert_eq!(a.workload, b.workload);
        assert_eq!(
            a.external.is_some(),
            b.external.is_some(),
            "{} is managed in one cloud only",
            a.name
        );
        // Env differs only where it names the mode.
        let strip = |s: &envc_core::ir::Service, mode: &str| -> Vec<String> {
            s.env
                .iter()
                .map(|e| format!("{}={:?}", e.name, e.value).replace(mode, "<mode>"))
                .collect()
        };
        assert_eq!(strip(a, "eks"), strip(b, "gke"), "{}", a.name);
        // Volumes differ only in their storage class.
        let vols = |s: &envc_core::ir::Service| -> Vec<(String, String, Option<u64>, bool)> {
            s.volumes
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        v.path.clone(),
                        v.size.as_ref().map(|x| x.bytes),
                        v.persistent,
                    )
                })
                .collect()
        };
        assert_eq!(vols(a), vols(b), "{}", a.name);
    }
    // The same values but the managed endpoints (each cloud's own, from its profile), the
    // clouds' own ingress and identity.
    let (mut ve, mut vg) = (values(&eks), values(&gke));
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v["external"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&ve), keys(&vg));
    for v in [&mut ve, &mut vg] {
        v.as_object_mut().map(|o| o.remove("external"));
    }
    assert_eq!(ve, vg);
    assert_ne!(
        eks.kubernetes.ingress_annotations,
        gke.kubernetes.ingress_annotations
    );
    let annotations = |ir: &Ir| -> Value {
        let worker = ir.service("prefect-worker").cloned();
        let worker = worker.unwrap_or_else(|| panic!("no prefect-worker"));
        serde_json::to_value(object::service_account(ir, &worker, Flavour::Chart).metadata)
            .unwrap_or_default()["annotations"]
            .clone()
    };
    assert!(
        annotations(&eks)
            .get("eks.amazonaws.com/role-arn")
            .is_some()
    );
    assert!(
        annotations(&gke)
            .get("iam.gke.io/gcp-service-account")
            .is_some()
    );
}

#[test]
fn lakehouse_prod_shape() {
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        let v = values(&prod);
        assert_eq!(v["services"]["minio"]["replicas"], 4, "{mode}");
        let Some(minio) = prod.service("minio") else {
            panic!("{mode}: no minio")
        };
        let objects = chart_objects(&prod, minio);
        let set = of_kind(&objects, &["StatefulSet"])
            .cloned()
            .unwrap_or_default();
        // The replicas of distributed MinIO start together.
        assert_eq!(set["spec"]["podManagementPolicy"], "Parallel", "{mode}");
        let size =
            set["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .and_then(|s| envc_model::quantity::Bytes::parse(s).ok())
                .map_or(0, |b| b.bytes);
        assert!(
            size >= 100 * 1024 * 1024 * 1024,
            "{mode}: minio drives of {size} bytes"
        );
        let pod = &set["spec"]["template"]["spec"];
        assert!(
            pod["containers"][0]["args"][1]
                .as_str()
                .is_some_and(|a| a.contains("minio-{0...3}.minio-headless.")),
            "{mode}: distributed args"
        );
        assert_eq!(
            pod["topologySpreadConstraints"][0]["topologyKey"], "topology.kubernetes.io/zone",
            "{mode}: minio spreads over zones"
        );
        assert_eq!(pod["nodeSelector"]["envc.dev/node-pool"], "storage");
        // More than one replica: a PodDisruptionBudget; one: none.
        for s in prod.services.iter().filter(|s| s.is_deployed()) {
            assert_eq!(
                of_kind(&chart_objects(&prod, s), &["PodDisruptionBudget"]).is_some(),
                s.max_replicas() > 1,
                "{mode}: {}",
                s.name
            );
        }
        for managed in ["postgres", "redis"] {
            assert!(
                v["services"].get(managed).is_none(),
                "{mode}: {managed} is deployed"
            );
            // The profiles give example endpoints (docs/prod.md): DNS names on AWS, private
            // addresses on GCP.
            let host = v["external"][managed]["host"].as_str().unwrap_or_default();
            let ip = host.parse::<std::net::Ipv4Addr>().is_ok();
            assert_eq!(ip, mode == "gke", "{mode}: {managed} endpoint {host}");
            assert!(
                !host.ends_with(".invalid"),
                "{mode}: {managed} endpoint {host}"
            );
            assert!(
                text(&prod, &format!("chart/templates/{managed}.yaml")).contains("ExternalName")
            );
        }
    }
}

/// Every object schema in a JSON Schema, depth first.
fn object_schemas<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") {
                out.push(v);
            }
            m.values().for_each(|x| object_schemas(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| object_schemas(x, out)),
        _ => {}
    }
}

#[test]
fn values_schema_is_closed_and_follows_the_templates() {
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        let schema: Value =
            serde_json::from_str(&text(&prod, "chart/values.schema.json")).unwrap_or_default();
        assert!(
            schema["$comment"]
                .as_str()
                .is_some_and(|c| c.starts_with("generated by envc, do not edit"))
        );
        let mut objects = Vec::new();
        object_schemas(&schema, &mut objects);
        assert!(objects.len() > 10, "{mode}");
        for o in objects {
            assert_eq!(o["additionalProperties"], false, "{mode}: {o}");
        }
        // Every entry refers to a shared definition, so one service's schema is not repeated.
        let defs = &schema["$defs"];
        let entry = |map: &str, name: &str| -> Value {
            let r = schema["properties"][map]["properties"][name]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .unwrap_or_else(|| panic!("{mode}: {map}.{name} is no reference"));
            defs[r].clone()
        };
        let named = |map: &str| -> Vec<String> {
            schema["properties"][map]["properties"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert!(named("services").len() > defs.as_object().map_or(0, |d| d.len()));
        for (map, name) in ["secrets", "external", "services"]
            .into_iter()
            .flat_map(|m| named(m).into_iter().map(move |n| (m, n)))
        {
            assert_eq!(entry(map, &name)["additionalProperties"], false);
        }
        let services = &schema["properties"]["services"]["properties"];
        let services: serde_json::Map<String, Value> = services
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| (k.clone(), entry("services", k)))
            .collect();
        // An autoscaled service has no replicas to set, a fixed one no autoscaler bounds.
        assert!(
            services["prefect-worker"]["properties"]
                .get("replicas")
                .is_none()
        );
        assert!(
            services["prefect-worker"]["properties"]
                .get("autoscaling")
                .is_some()
        );
        assert!(services["minio"]["properties"].get("replicas").is_some());
        assert!(services["minio"]["properties"].get("autoscaling").is_none());
        assert!(services.get("postgres").is_none(), "{mode}: managed");

        // Every value a service's template reads is in its values, and every value is read.
        let v = values(&prod);
        for s in prod.services.iter().filter(|s| s.is_deployed()) {
            let t = text(&prod, &format!("chart/templates/{}.yaml", s.name));
            let read: std::collections::BTreeSet<String> = t
                .match_indices("$svc.")
                .map(|(i, _)| {
                    t[i + 5..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect()
                })
                .collect();
            let given: std::collections::BTreeSet<String> = v["services"][&s.name]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect();
            let mut want = given.clone();
            want.insert("resources".into());
            assert_eq!(read, want, "{mode}: values read by {}", s.name);
            assert!(!t.contains("ENVC_HOLE_"), "{mode}: placeholder left");
        }
    }
}

#[test]
fn tfvars_agree_with_variables_and_cover_the_requests() {
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        let Some(vars) = terraform::variables(&prod) else {
            panic!("{mode}: no Terraform variables");
        };
        let artifacts = emit(&prod);
        let tfvars = artifacts
            .iter()
            .find(|a| a.path == "terraform/terraform.tfvars.json")
            .map(|a| a.bytes.clone())
            .unwrap_or_default();
        let tfvars: Value = serde_json::from_slice(&tfvars).unwrap_or_default();
        let obj = tfvars.as_object().cloned().unwrap_or_default();
        let tf = artifacts
            .iter()
            .find(|a| a.path == "terraform/variables.tf")
            .map(|a| String::from_utf8_lossy(&a.bytes).to_string())
            .unwrap_or_default();
        for v in &vars {
            assert!(
                tf.contains(&format!("variable \"{}\" {{", v.name)),
                "{mode}: {} not declared",
                v.name
            );
            match obj.get(&v.name) {
                Some(value) => {
                    assert!(!v.sensitive, "{mode}: sensitive {} has a value", v.name);
                    if let Err(e) = v.ty.check(value, &v.name) {
                        panic!("{mode}: {e}");
                    }
                }
                None => {
                    assert!(
                        v.sensitive || v.default.is_some(),
                        "{mode}: {} has no value and no default",
                        v.name
                    );
                    if let Some(d) = &v.default
                        && let Err(e) = v.ty.check(d, &v.name)
                    {
                        panic!("{mode}: default of {e}");
                    }
                }
            }
        }
        for k in obj.keys().filter(|k| *k != "//") {
            assert!(
                vars.iter().any(|v| &v.name == k),
                "{mode}: {k} is not declared"
            );
        }
        assert!(
            vars.iter()
                .any(|v| v.sensitive && v.name == "postgres_password"),
            "{mode}: the RDS/Cloud SQL password is a sensitive variable"
        );

        // Node pools hold every deployed replica's requests.
        let sizing = cloud::size_pools(&prod);
        let cloud = prod
            .cloud
            .as_ref()
            .map(|c| c.node_pools.clone())
            .unwrap_or_default();
        let (mut cpu, mut mem) = (0u64, 0u64);
        for s in prod.services.iter().filter(|s| s.is_deployed()) {
            let r = &s.resources.requests;
            cpu += r.cpu.as_ref().map_or(0, |c| c.millis) * u64::from(s.max_replicas());
            mem += r.memory.as_ref().map_or(0, |b| b.bytes) * u64::from(s.max_replicas());
        }
        let cap_cpu: u64 = sizing
            .iter()
            .map(|p| p.nodes * cloud[p.name.as_str()].cpu.millis)
            .sum();
        let cap_mem: u64 = sizing
            .iter()
            .map(|p| p.nodes * cloud[p.name.as_str()].memory.bytes)
            .sum();
        assert!(
            cap_cpu >= cpu && cap_mem >= mem,
            "{mode}: {cap_cpu}m/{cap_mem} for {cpu}m/{mem}"
        );
        for p in &sizing {
            assert!(
                p.nodes * p.node_cpu >= p.cpu_needed && p.nodes * p.node_memory >= p.memory_needed,
                "{mode}: pool {}",
                p.name
            );
        }
    }
}

#[test]
fn no_secret_value_in_prod_artifacts() {
    let dev = ir("k3s");
    let values: Vec<String> = dev
        .secrets
        .iter()
        .filter_map(|s| s.value.as_ref().map(|v| v.value.clone()))
        .collect();
    assert!(!values.is_empty());
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        assert!(prod.secrets.iter().all(|s| s.value.is_none()));
        for a in emit(&prod) {
            let text = String::from_utf8_lossy(&a.bytes);
            for v in &values {
                assert!(
                    !text.contains(v.as_str()),
                    "{mode}/{} holds a dev secret value",
                    a.path
                );
            }
            assert!(
                !text.contains("kind: Secret\n"),
                "{mode}/{} defines a Secret",
                a.path
            );
        }
    }
}

#[test]
fn prod_artifacts_are_deterministic_and_committed() {
    for mode in ["eks", "gke"] {
        let prod = ir(mode);
        let first = emit(&prod);
        assert_eq!(first, emit(&prod), "{mode} is not deterministic");
        // A mode with a release lock is built from the lock, which only the CLI applies (and
        // `envc build --check` in the CLI tests compares): the lock appears among the headers'
        // sources, so only the bodies are compared here.
        let locked = root()
            .join("locks")
            .join(ENV)
            .join(format!("{mode}.toml"))
            .exists();
        let dir = root().join("out").join(ENV).join(mode);
        for a in &first {
            let on_disk = std::fs::read(dir.join(&a.path)).unwrap_or_default();
            let body = |b: &[u8]| -> String {
                String::from_utf8_lossy(b)
                    .lines()
                    .filter(|l| {
                        !locked
                            || !(l.contains("sources") || l.contains(".toml") || l.contains(".hbs"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert!(
                on_disk == a.bytes || (locked && body(&on_disk) == body(&a.bytes)),
                "out/{ENV}/{mode}/{} is stale: run `envc build --target {mode}`",
                a.path
            );
            let text = String::from_utf8_lossy(&a.bytes);
            assert!(
                text.lines()
                    .take(3)
                    .any(|l| l.contains("generated by envc, do not edit")),
                "{mode}/{} lacks the header",
                a.path
            );
        }
    }
}
