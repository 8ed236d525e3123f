//! `envc diff`: planted drift is found and classified, secrets never leak, hand-written sets
//! compare, accepted differences and stale ones are reported, JSON has its documented shape.

use std::fs;
use std::path::Path;

use crate::common::{copy_dir, envc, lakehouse_project, parts, repo};

/// A lakehouse project with a fresh k3s build, and a copy of that build to tamper with.
fn project_with_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = lakehouse_project();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let copy = t.path().join("tampered");
    copy_dir(&t.path().join("out/crypto-lakehouse/k3s"), &copy);
    (t, copy)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = parts(&envc(dir, args));
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v)
}

fn find<'a>(report: &'a serde_json::Value, service: &str, key: &str) -> &'a serde_json::Value {
    report["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .find(|d| d["service"] == service && d["key"] == key)
        .unwrap_or_else(|| panic!("no difference {service} {key} in {report:#}"))
}

#[test]
fn a_fresh_build_equals_itself() {
    let (t, copy) = project_with_copy();
    let (code, out, err) = parts(&envc(
        t.path(),
        &["diff", "--against", copy.to_str().expect("path"), "k3s"],
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 drift"), "{out}");
    let (code, out, _) = parts(&envc(t.path(), &["diff", "k3s", "k3s"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("10 services compared: 0 drift, 0 expected"),
        "{out}"
    );
}

#[test]
fn planted_drift_is_found_and_classified() {
    let (t, copy) = project_with_copy();
    edit(
        &copy.join("prometheus.yaml"),
        "image: prom/prometheus:v3.15.0",
        "image: prom/prometheus:v3.14.0",
    );
    edit(
        &copy.join("prefect-worker.yaml"),
        "        - name: AWS_DEFAULT_REGION\n          value: us-east-1\n",
        "",
    );
    edit(
        &copy.join("redis.yaml"),
        "containerPort: 6379",
        "containerPort: 6380",
    );
    edit(
        &copy.join("minio.yaml"),
        "            cpu: 500m",
        "            cpu: 750m",
    );
    edit(
        &copy.join("postgres.yaml"),
        "periodSeconds: 10",
        "periodSeconds: 15",
    );
    // Rename grafana's workload (and its Service) as a hand edit would.
    let g = copy.join("grafana.yaml");
    let text = fs::read_to_string(&g)
        .expect("read")
        .replace("name: grafana\n", "name: grafana-ui\n");
    fs::write(&g, text).expect("write");

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
    assert_eq!(code, 1, "drift exits 1");
    let img = find(&r, "prometheus", "image");
    assert_eq!(
        (img["a"].as_str(), img["b"].as_str(), img["class"].as_str()),
        (
            Some("prom/prometheus:v3.15.0"),
            Some("prom/prometheus:v3.14.0"),
            Some("drift")
        )
    );
    let env = find(&r, "prefect-worker", "env.AWS_DEFAULT_REGION");
    assert_eq!(
        (env["a"].as_str(), env["b"].is_null(), env["class"].as_str()),
        (Some("us-east-1"), true, Some("drift"))
    );
    assert_eq!(find(&r, "redis", "ports.6380/tcp")["class"], "drift");
    assert_eq!(
        find(&r, "redis", "ports.6379/tcp")["b"],
        serde_json::Value::Null
    );
    let lim = find(&r, "minio", "resources.limits.cpu");
    assert_eq!(
        (lim["a"].as_str(), lim["b"].as_str()),
        (Some("500m"), Some("750m"))
    );
    let probe = find(&r, "postgres", "probes.readiness.timing");
    assert!(
        probe["a"]
            .as_str()
            .is_some_and(|s| s.contains("period 10s"))
            && probe["b"]
                .as_str()
                .is_some_and(|s| s.contains("period 15s"))
    );
    assert_eq!(find(&r, "grafana", "service")["b"], serde_json::Value::Null);
    assert_eq!(
        find(&r, "grafana-ui", "service")["a"],
        serde_json::Value::Null
    );
    assert!(
        r["summary"]["drift"].as_u64().is_some_and(|n| n >= 7),
        "{}",
        r["summary"]
    );

    // Text output names service, facet, old and new value.
    let (code, out, _) = parts(&envc(
        t.path(),
        &[
            "diff",
            "--against",
            copy.to_str().expect("path"),
            "k3s",
            "--drift-only",
        ],
    ));
    assert_eq!(code, 1);
    assert!(
        out.contains("prometheus\n  drift")
            && out.contains("image: prom/prometheus:v3.15.0 -> prom/prometheus:v3.14.0"),
        "{out}"
    );
    // Mapping the renamed service makes it compare again.
    let (_, r) = json(
        t.path(),
        &[
            "diff",
            "--against",
            copy.to_str().expect("path"),
            "k3s",
            "--format",
            "json",
            "--map",
            "grafana=grafana-ui",
        ],
    );
    assert!(
        !r["differences"]
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["service"] == "grafana" && d["key"] == "service"),
        "{r:#}"
    );
}

#[test]
fn secret_values_never_appear_and_changes_show_as_hashes() {
    let (t, copy) = project_with_copy();
    let secrets = fs::read_to_string(copy.join("secrets.yaml")).expect("secrets");
    let values: Vec<String> = secrets
        .lines()
        .filter_map(|l| l.trim().strip_prefix("value: "))
        .map(String::from)
        .collect();
    assert!(values.len() >= 4);
    // Change one secret's value in every namespace it is in.
    let first = values[0].clone();
    fs::write(
        copy.join("secrets.yaml"),
        secrets.replace(&first, "changed-by-hand"),
    )
    .expect("write");
    for args in [vec!["--format", "json"], vec![]] {
        let mut a = vec!["diff", "--against", copy.to_str().expect("path"), "k3s"];
        a.extend(args);
        let (code, out, err) = parts(&envc(t.path(), &a));
        assert_eq!(code, 1, "{out}{err}");
        for v in values.iter().chain([&"changed-by-hand".to_string()]) {
            assert!(
                !out.contains(v.as_str()) && !err.contains(v.as_str()),
                "a secret value leaked: {v}"
            );
        }
        // Labels numbered within the report, never a hash of the value.
        assert!(
            out.contains("<secret 1>") && !out.contains("<secret:"),
            "{out}"
        );
    }
}

#[test]
fn hand_written_sets_compare_and_secrets_stay_hidden() {
    let fixtures = repo().join("tests/fixtures/reference-lakehouse");
    let t = tempfile::tempdir().expect("tempdir");
    let from = fixtures.join("docker-compose.full.yml");
    let to = fixtures.join("k3s-local-infrastructure.yml");
    let mut args = vec![
        "diff",
        "--from",
        from.to_str().expect("p"),
        "--to",
        to.to_str().expect("p"),
        "--format",
        "json",
    ];
    for m in [
        "minio=minio-local",
        "postgres=postgres-local",
        "redis=redis-local",
        "prefect-server=prefect-server-local",
        "prefect-worker=prefect-worker-local",
        "s5cmd-service=s5cmd-service-local",
    ] {
        args.push("--map");
        args.push(m);
    }
    let (code, out, err) = parts(&envc(t.path(), &args));
    assert_eq!(code, 1, "they have drifted: {err}");
    for secret in ["password123", "prefect123", "admin123"] {
        assert!(!out.contains(secret), "{secret} leaked");
    }
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    // The real differences the two files have.
    let replicas = find(&r, "prefect-worker", "replicas");
    assert_eq!(
        (replicas["a"].as_str(), replicas["b"].as_str()),
        (Some("2"), Some("1"))
    );
    let workers = find(&r, "s5cmd-service", "env.S5CMD_NUMWORKERS");
    assert_eq!(
        (workers["a"].as_str(), workers["b"].as_str()),
        (Some("10"), Some("5"))
    );
    assert_eq!(find(&r, "minio", "resources.limits.memory")["b"], "1Gi");
    assert_eq!(
        find(&r, "prometheus", "service")["b"],
        serde_json::Value::Null
    );
    // The MinIO root password is the same secret in both (hashes equal), the user is not
    // (a literal in Compose, a Secret in K3s).
    assert!(
        !r["differences"]
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["service"] == "minio" && d["key"] == "env.MINIO_ROOT_PASSWORD")
    );
    assert_eq!(
        find(&r, "prefect-worker", "autoscaling")["class"],
        "not-representable"
    );
}

#[test]
fn accepted_differences_and_stale_ones() {
    let (t, copy) = project_with_copy();
    edit(
        &copy.join("minio.yaml"),
        "            cpu: 500m",
        "            cpu: 750m",
    );
    fs::write(
        t.path().join("accepted.toml"),
        "[[accept]]\nservice = \"minio\"\nkey = \"resources.limits.cpu\"\nreason = \"the on-call raised it during an incident\"\n\n[[accept]]\nservice = \"redis\"\nkey = \"image\"\nreason = \"pinned by hand\"\n",
    )
    .expect("write");
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
    assert_eq!(code, 0, "accepted differences do not fail the run: {r:#}");
    let d = find(&r, "minio", "resources.limits.cpu");
    assert_eq!(
        (
            d["class"].as_str(),
            d["at"].as_str().map(|s| s.ends_with("accepted.toml:1"))
        ),
        (Some("accepted"), Some(true))
    );
    assert_eq!(r["stale_accepted"][0]["service"], "redis");
    assert_eq!(r["summary"]["stale_accepted"], 1);
}

#[test]
fn json_has_the_documented_shape() {
    let (t, copy) = project_with_copy();
    edit(
        &copy.join("minio.yaml"),
        "            cpu: 500m",
        "            cpu: 750m",
    );
    let (_, r) = json(
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
    assert_eq!(r["format_version"], 2);
    for k in [
        "a",
        "b",
        "summary",
        "differences",
        "stale_accepted",
        "notes",
    ] {
        assert!(!r[k].is_null(), "missing {k}");
    }
    for k in ["label", "format"] {
        assert!(r["a"][k].is_string(), "a.{k}");
    }
    for k in [
        "services",
        "differences",
        "drift",
        "expected",
        "not_representable",
        "accepted",
        "moved_into_secret",
        "normalized",
        "stale_accepted",
    ] {
        assert!(r["summary"][k].is_u64(), "summary.{k}");
    }
    let d = &r["differences"][0];
    for k in ["service", "facet", "key", "class", "reason"] {
        assert!(d[k].is_string(), "difference.{k}");
    }
}

#[test]
fn usage_errors() {
    let t = lakehouse_project();
    for args in [
        vec!["diff"],
        vec!["diff", "k3s"],
        vec!["diff", "k3s", "nope"],
        vec!["diff", "--against", "missing-dir", "k3s"],
        vec!["diff", "--map", "x", "k3s", "k3s"],
    ] {
        let (code, _, err) = parts(&envc(t.path(), &args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn docker_and_k3s_differ_only_as_their_profiles_and_formats_say() {
    let t = lakehouse_project();
    let (code, r) = json(t.path(), &["diff", "docker", "k3s", "--format", "json"]);
    assert_eq!(code, 0, "no drift: {r:#}");
    assert_eq!(r["summary"]["drift"], 0);
    assert!(r["summary"]["services"].as_u64() == Some(10));
    // Every difference has its reason; expected ones cite a file and line.
    for d in r["differences"].as_array().expect("list") {
        assert!(d["reason"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
        if d["class"] == "expected" {
            assert!(
                d["at"].as_str().is_some_and(|s| s.contains(".toml:")),
                "{d}"
            );
        }
    }
    let ui = find(&r, "prefect-server", "env.PREFECT_UI_API_URL");
    assert_eq!(ui["class"], "expected");
    let docker = fs::read_to_string(t.path().join("profiles/docker.toml")).expect("profile");
    let line = docker
        .lines()
        .position(|l| l.starts_with("PREFECT_UI_API_URL"))
        .expect("line")
        + 1;
    assert_eq!(
        ui["at"].as_str(),
        Some(format!("profiles/docker.toml:{line}").as_str())
    );
    assert_eq!(
        find(&r, "prefect-worker", "autoscaling")["class"],
        "not-representable"
    );
    assert_eq!(
        find(&r, "minio", "ports.9000/tcp.node_port")["class"],
        "expected"
    );
    // Host names resolved per mode are not differences at all.
    assert!(
        !r["differences"]
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["key"] == "env.AWS_ENDPOINT_URL")
    );
    assert!(r["summary"]["normalized"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn profile_overrides_are_expected_and_templates_show_text_diffs() {
    let t = lakehouse_project();
    // A change in one mode only, through the model: a profile override is expected...
    let p = t.path().join("profiles/k3s.toml");
    let mut text = fs::read_to_string(&p).expect("read");
    text.push_str("\n[services.redis]\nimage = \"redis:7.4.10-alpine\"\n");
    fs::write(&p, text).expect("write");
    let (code, r) = json(t.path(), &["diff", "docker", "k3s", "--format", "json"]);
    assert_eq!(code, 0, "{r:#}");
    let d = find(&r, "redis", "image");
    assert_eq!(
        (
            d["class"].as_str(),
            d["at"]
                .as_str()
                .map(|s| s.starts_with("profiles/k3s.toml:"))
        ),
        (Some("expected"), Some(true))
    );
    // ... and a template that renders differently per mode beyond host names is expected
    // (it reads `mode.`), with the unified diff of the file.
    let tpl = t
        .path()
        .join("environments/crypto-lakehouse/prometheus.yml.hbs");
    let mut text = fs::read_to_string(&tpl).expect("read");
    text = text.replace(
        "  scrape_interval: 15s",
        "  scrape_interval: {{#if (eq mode.backend \"compose\")}}30s{{else}}15s{{/if}}",
    );
    fs::write(&tpl, text).expect("write");
    let (code, out, err) = parts(&envc(t.path(), &["diff", "docker", "k3s"]));
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        out.contains("files./etc/prometheus/prometheus.yml"),
        "{out}{err}"
    );
    assert!(
        out.contains("-  scrape_interval: 30s") && out.contains("+  scrape_interval: 15s"),
        "a unified diff of the file: {out}"
    );
    let (_, r) = json(t.path(), &["diff", "docker", "k3s", "--format", "json"]);
    let d = find(&r, "prometheus", "files./etc/prometheus/prometheus.yml");
    assert_eq!(
        (d["class"].as_str(), d["reason"].as_str()),
        (
            Some("expected"),
            Some("template crypto-lakehouse/prometheus.yml.hbs renders per mode")
        ),
        "{d:#}"
    );
}

/// A mode the backend refuses (Compose checks) is a located user error in `envc diff` too,
/// as in `envc build`: exit 2, file, line and column, never `E-emit`.
#[test]
fn backend_checks_are_located_in_diff() {
    let t = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("tests/errors/compose-checks"), t.path());
    let (code, _, err) = parts(&envc(t.path(), &["diff", "docker", "docker"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-bad-name]"), "{err}");
    assert!(err.contains("profiles/docker.toml:8:16"), "{err}");
    assert!(!err.contains("E-emit"), "{err}");
}

mod facts;
mod jobs;

/// The routes scenario as a project: an Ingress (k3s), HTTPRoutes on a Gateway (gateway), and
/// a chart with HTTPRoutes built from its release lock (prod).
fn routes_project() -> tempfile::TempDir {
    let case = repo().join("tests/scenarios/routes");
    let t = tempfile::tempdir().expect("tempdir");
    for d in ["environments", "profiles", "locks"] {
        copy_dir(&case.join(d), &t.path().join(d));
    }
    t
}

#[test]
fn an_ingress_and_http_routes_differ_only_in_what_serves_them() {
    let t = routes_project();
    let (code, r) = json(t.path(), &["diff", "k3s", "gateway", "--format", "json"]);
    assert_eq!(code, 0, "{r:#}");
    let differences = r["differences"].as_array().expect("differences");
    let route_keys: Vec<(&str, &str)> = differences
        .iter()
        .filter(|d| {
            d["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("exposure."))
        })
        .map(|d| {
            (
                d["service"].as_str().unwrap_or(""),
                d["key"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Same hosts, paths and Service ports: only the parent differs, route by route.
    assert_eq!(
        route_keys,
        [
            ("api", "exposure.portal.example.test/api.parent"),
            ("web", "exposure.admin.portal.example.test/.parent"),
            ("web", "exposure.portal.example.test/.parent"),
        ],
        "{r:#}"
    );
    let parent = find(&r, "web", "exposure.portal.example.test/.parent");
    assert_eq!(parent["a"], "ingress class traefik");
    assert_eq!(parent["b"], "gateway envoy-gateway-system/public");
    assert_eq!(parent["class"], "expected");
    assert!(
        parent["reason"]
            .as_str()
            .is_some_and(|s| s.contains("gateway profile (kubernetes.gateway)")),
        "{parent:#}"
    );
    assert!(
        parent["at"]
            .as_str()
            .is_some_and(|s| s.starts_with("profiles/gateway.toml:")),
        "{parent:#}"
    );

    // A hand edit of an HTTPRoute in the built set is drift naming the route.
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "gateway"]));
    assert_eq!(code, 0, "{err}");
    let copy = t.path().join("tampered");
    copy_dir(&t.path().join("out/portal/gateway"), &copy);
    edit(&copy.join("ingress.yaml"), "port: 8081", "port: 80");
    let (code, r) = json(
        t.path(),
        &[
            "diff",
            "--against",
            copy.to_str().expect("path"),
            "gateway",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    let port = find(&r, "web", "exposure.admin.portal.example.test/");
    assert_eq!(
        (port["a"].as_str(), port["b"].as_str()),
        (Some("web:8081"), Some("web:80"))
    );
    assert_eq!(port["class"], "drift");
}

/// Hand-written manifests with routes: an Ingress with TLS against HTTPRoutes on a Gateway,
/// with a Secret whose value the route also spells (a header a filter sets), in text and
/// JSON; the value never shows.
#[test]
fn foreign_sets_with_http_routes_compare_and_hide_secrets() {
    let t = tempfile::tempdir().expect("tempdir");
    let workload = "apiVersion: v1\nkind: Secret\nmetadata: {name: shop, namespace: shop}\nstringData: {token: s3cret-route-token}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 3000}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: web:1.0.0\n        ports: [{name: http, containerPort: 3000}]\n        env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: shop, key: token}}}]\n";
    let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\n  namespace: shop\n  annotations: {cert-manager.io/cluster-issuer: letsencrypt}\nspec:\n  ingressClassName: nginx\n  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}\n";
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: shop}\nspec:\n  parentRefs: [{name: public, namespace: infra, sectionName: https}]\n  hostnames: [shop.example.com, www.shop.example.com]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /}}]\n    filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier:\n        set: [{name: X-Token, value: s3cret-route-token}]\n    backendRefs: [{name: web, port: 80}]\n";
    let a = t.path().join("a.yaml");
    let b = t.path().join("b.yaml");
    fs::write(&a, format!("{workload}---\n{ingress}")).expect("write");
    fs::write(&b, format!("{workload}---\n{route}")).expect("write");
    for format in ["text", "json"] {
        let (code, out, err) = parts(&envc(
            t.path(),
            &[
                "diff",
                "--from",
                a.to_str().expect("p"),
                "--to",
                b.to_str().expect("p"),
                "--format",
                format,
            ],
        ));
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            !out.contains("s3cret-route-token") && !err.contains("s3cret-route-token"),
            "the token leaked:\n{out}{err}"
        );
        if format == "json" {
            let r: serde_json::Value = serde_json::from_str(&out).expect("json");
            let parent = find(&r, "web", "exposure.shop.example.com/.parent");
            assert_eq!(parent["a"], "ingress class nginx");
            assert_eq!(parent["b"], "gateway infra/public listener https");
            assert_eq!(
                find(&r, "web", "exposure.shop.example.com/.tls")["a"],
                "secret shop-tls, issuer ClusterIssuer/letsencrypt"
            );
            // The route gained a host; the one both serve leads to the same port.
            assert_eq!(
                find(&r, "web", "exposure.www.shop.example.com/")["b"],
                "web:80"
            );
            assert!(
                !r["differences"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .any(|d| d["key"] == "exposure.shop.example.com/"),
                "{r:#}"
            );
        } else {
            assert!(out.contains("exposure.shop.example.com/.parent"), "{out}");
        }
    }
}
