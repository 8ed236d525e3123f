//! Jobs, cron jobs, init steps and sidecars read from Compose and Kubernetes compare as one
//! shape: what a format cannot express is explained, and a changed job command, cron schedule
//! or sidecar image is drift.

use std::collections::BTreeMap;

use envc_diff::classify::{Context, classify};
use envc_diff::compare::{Class, Comparison};
use envc_diff::facts::{Facts, Format};
use envc_diff::{FileSet, compose, k8s};

/// A Job, a CronJob and a Deployment with a wait container, a native sidecar and two init
/// steps, as the Kubernetes backend writes them.
const MANIFESTS: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: app-secrets, namespace: shop}
stringData:
  db-password: hunter2
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 1800
  ttlSecondsAfterFinished: 86400
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: migrate
        image: shop/api:1.4.0
        command: [shop, migrate]
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: app-secrets, key: db-password}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "0 3 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 3
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: shop/api:1.4.0
            args: [report, --daily]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  template:
    spec:
      initContainers:
      - name: wait-for-migrate
        image: registry.k8s.io/kubectl:v1.33.0
        args: [wait, --for=condition=complete, --timeout=10m, --namespace=shop, job/migrate]
      - name: proxy
        image: envoyproxy/envoy:v1.31.0
        restartPolicy: Always
        args: [-c, /etc/envoy.yaml]
        env:
        - {name: UPSTREAM, value: "http://localhost:8080"}
      - name: seed
        image: shop/api:1.4.0
        command: [shop, seed]
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: app-secrets, key: db-password}}
      - name: warm
        image: shop/api:1.4.0
        command: [shop, warm-cache]
      containers:
      - name: web
        image: shop/api:1.4.0
        args: [serve]
"#;

/// The same pods as the Compose backend writes them.
const COMPOSE: &str = r#"
name: shop
services:
  migrate:
    image: shop/api:1.4.0
    entrypoint: [shop, migrate]
    environment: {DB_PASSWORD_FILE: /run/secrets/db-password}
    secrets: [db-password]
    restart: on-failure:2
  report:
    image: shop/api:1.4.0
    command: [report, --daily]
    restart: "no"
    profiles: [scheduled]
    labels: {envc.dev/schedule: "0 3 * * *"}
  web:
    image: shop/api:1.4.0
    command: [serve]
    restart: unless-stopped
    deploy: {replicas: 2}
    depends_on:
      migrate: {condition: service_completed_successfully}
      web-seed: {condition: service_completed_successfully}
      web-warm: {condition: service_completed_successfully}
  web-warm:
    image: shop/api:1.4.0
    entrypoint: [shop, warm-cache]
    labels: {envc.dev/init-of: web}
    restart: "no"
    depends_on:
      migrate: {condition: service_completed_successfully}
      web-seed: {condition: service_completed_successfully}
  web-seed:
    image: shop/api:1.4.0
    entrypoint: [shop, seed]
    labels: {envc.dev/init-of: web}
    restart: "no"
    environment: {DB_PASSWORD_FILE: /run/secrets/db-password}
    secrets: [db-password]
    depends_on:
      migrate: {condition: service_completed_successfully}
  web-proxy:
    image: envoyproxy/envoy:v1.31.0
    command: [-c, /etc/envoy.yaml]
    environment: {UPSTREAM: "http://localhost:8080"}
    labels: {envc.dev/sidecar-of: web}
    network_mode: "service:web"
    depends_on: {web: {condition: service_started}}
    restart: unless-stopped
secrets:
  db-password: {file: ./secrets/db-password}
"#;

fn kubernetes(text: &str) -> Facts {
    k8s::extract(&FileSet::from_memory(
        "k8s",
        [("all.yaml".to_string(), text.as_bytes().to_vec())],
    ))
}

fn compose_facts(text: &str) -> Facts {
    compose::extract(&FileSet::from_memory(
        "compose",
        [
            ("docker-compose.yml".to_string(), text.as_bytes().to_vec()),
            ("secrets/db-password".to_string(), b"hunter2\n".to_vec()),
        ],
    ))
}

/// Compared as two modes are (`envc diff k3s eks`): the facts, not the structural lines each
/// backend writes its own way (a Helm chart's labels and hook annotations, a wait container's
/// arguments), which `--against` compares.
fn classified(a: &Facts, b: &Facts) -> Comparison {
    let mut c = envc_diff::compare_modes(a, b, &BTreeMap::new());
    let ctx = Context {
        a_format: a.format,
        b_format: b.format,
        models: None,
        sources: None,
        accepted: &[],
        env: None,
    };
    classify(&mut c, &ctx);
    c
}

/// `service key: class (reason)` lines.
fn lines(c: &Comparison) -> Vec<String> {
    c.differences
        .iter()
        .map(|d| {
            format!(
                "{} {}: {} ({})",
                d.service,
                d.key,
                d.class.as_str(),
                d.reason
            )
        })
        .collect()
}

fn drift(c: &Comparison) -> Vec<String> {
    c.differences
        .iter()
        .filter(|d| d.class == Class::Drift)
        .map(|d| format!("{} {}: {:?} -> {:?}", d.service, d.key, d.a, d.b))
        .collect()
}

#[test]
fn compose_shapes_fold_into_the_pods_they_stand_for() {
    let f = compose_facts(COMPOSE);
    assert_eq!(
        f.services.keys().collect::<Vec<_>>(),
        ["migrate", "report", "web"],
        "steps and sidecars are not services: {:?}",
        f.notes
    );
    let web = f.services["web"].flatten();
    let shown: BTreeMap<String, String> = web
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(
        shown["init"], "seed, warm",
        "run order follows the chain, not the file"
    );
    assert_eq!(shown["init.warm.command"], "shop warm-cache");
    assert!(shown["init.seed.env.DB_PASSWORD"].starts_with("<secret:"));
    assert_eq!(shown["sidecars.proxy.image"], "envoyproxy/envoy:v1.31.0");
    assert_eq!(shown["depends_on.migrate"], "completed");
    assert!(
        !shown.keys().any(|k| k.starts_with("depends_on.web-")),
        "a service does not wait for its own steps: {shown:?}"
    );
    let migrate = f.services["migrate"].flatten();
    let shown: BTreeMap<String, String> = migrate
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(shown["workload"], "job");
    assert_eq!(shown["restart"], "on-failure");
    assert_eq!(shown["job.retries"], "2", "on-failure:2 is two retries");
    let report = &f.services["report"];
    assert_eq!(report.job_kind.map(|k| k.as_str()), Some("cronjob"));
    assert!(
        report.profiles.is_empty(),
        "the scheduled profile is the cron shape"
    );
    let s = report.schedule.as_ref().and_then(|s| s.cron.as_deref());
    assert_eq!(s, Some("0 3 * * *"));
}

#[test]
fn foreign_sidecars_share_the_network_namespace() {
    let file = "services:\n  app:\n    image: app:1\n    restart: always\n    profiles: [debug]\n  vpn:\n    image: tailscale/tailscale:v1.80.0\n    network_mode: service:app\n  once:\n    image: app:1\n    restart: \"no\"\n";
    let f = compose_facts(file);
    let app = &f.services["app"];
    assert_eq!(app.sidecars.keys().collect::<Vec<_>>(), ["vpn"]);
    assert_eq!(app.profiles, ["debug"]);
    assert_eq!(
        f.services["once"].job_kind, None,
        "nothing waits for it, so it is not known to be a job"
    );
    // envc labels the jobs it writes, so one that nothing waits for is still read as a job.
    let labelled = "services:\n  once:\n    image: app:1\n    restart: \"no\"\n    labels:\n      envc.dev/workload: job\n";
    let f = compose_facts(labelled);
    assert!(f.services["once"].job_kind.is_some(), "labelled job");
}

#[test]
fn compose_and_kubernetes_of_one_model_do_not_drift() {
    let c = classified(&compose_facts(COMPOSE), &kubernetes(MANIFESTS));
    assert_eq!(drift(&c), Vec::<String>::new(), "{:#?}", lines(&c));
    let all = lines(&c);
    let has = |needle: &str| {
        assert!(
            all.iter().any(|l| l.starts_with(needle)),
            "no `{needle}` in {all:#?}"
        )
    };
    has("migrate job.deadline: not representable (Compose has no job deadline");
    has("migrate job.ttl: not representable (Compose keeps a finished job's container");
    has("report job.retries: not representable (with restart \"no\" Compose runs a job once");
    has("report schedule.concurrency: not representable (Compose has no scheduler");
    // Equal once read: the wait container and service_completed_successfully, on-failure:2
    // and OnFailure with backoffLimit 2, the steps and the sidecar, unless-stopped and a
    // Deployment's Always.
    for key in [
        "depends_on.migrate",
        "job.retries",
        "restart",
        "init",
        "sidecars.proxy.image",
        "schedule.cron",
        "workload",
    ] {
        assert!(
            !c.differences
                .iter()
                .any(|d| d.service != "report" && d.key.to_string() == key),
            "{key} differs: {all:#?}"
        );
    }
}

#[test]
fn what_compose_cannot_express_is_explained() {
    // A server Compose never restarts, a job nothing waits for, waits
    // Kubernetes has no counterpart of, and one it has.
    let file = COMPOSE
        .replace("    restart: unless-stopped\n    deploy", "    restart: \"no\"\n    deploy")
        .replace(
            "    restart: on-failure:2\n",
            "    restart: on-failure:2\n    depends_on: {cache: {condition: service_healthy}}\n  cache:\n    image: redis:7\n    restart: always\n  cleanup:\n    image: shop/api:1.4.0\n    restart: \"no\"\n",
        );
    let manifests = MANIFESTS.replace(
        "      - name: wait-for-migrate\n        image: registry.k8s.io/kubectl:v1.33.0\n        args: [wait, --for=condition=complete, --timeout=10m, --namespace=shop, job/migrate]\n",
        "",
    ) + "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: cleanup, namespace: shop}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: cleanup, image: shop/api:1.4.0}\n";
    let c = classified(&compose_facts(&file), &kubernetes(&manifests));
    let all = lines(&c);
    // Kubernetes can wait for a job (an init container running `kubectl wait`): a missing
    // wait is drift.
    assert_eq!(
        drift(&c),
        [
            "cache service: Some(\"compose\") -> None",
            "web depends_on.migrate: Some(\"completed\") -> None"
        ]
    );
    for needle in [
        "web restart: not representable (Kubernetes always restarts a long-running workload's containers",
        "migrate depends_on.cache: not representable (Kubernetes has no start order",
        "cleanup workload: not representable (Compose has no job kind",
    ] {
        assert!(
            all.iter().any(|l| l.starts_with(needle)),
            "no `{needle}` in {all:#?}"
        );
    }
}

#[test]
fn a_helm_hook_stands_for_the_wait() {
    let hook = MANIFESTS
        .replace(
            "metadata: {name: migrate, namespace: shop}",
            "metadata:\n  name: migrate\n  namespace: shop\n  labels: {helm.sh/chart: shop-0.1.0}\n  annotations: {helm.sh/hook: \"pre-install,pre-upgrade\"}",
        )
        .replace(
            "      - name: wait-for-migrate\n        image: registry.k8s.io/kubectl:v1.33.0\n        args: [wait, --for=condition=complete, --timeout=10m, --namespace=shop, job/migrate]\n",
            "",
        );
    let plain = kubernetes(MANIFESTS);
    let helm = kubernetes(&hook);
    assert!(helm.helm && !plain.helm);
    let c = classified(&plain, &helm);
    assert_eq!(drift(&c), Vec::<String>::new(), "{:#?}", lines(&c));
    let all = lines(&c);
    for needle in [
        "migrate job.run: not representable (Kubernetes manifests without Helm have no hooks",
        "web depends_on.migrate: not representable (in k8s migrate is a Helm pre-install,pre-upgrade hook",
    ] {
        assert!(
            all.iter().any(|l| l.starts_with(needle)),
            "no `{needle}` in {all:#?}"
        );
    }
    // Against Compose, the job that dependents wait for is the hook.
    let c = classified(&compose_facts(COMPOSE), &helm);
    assert_eq!(drift(&c), Vec::<String>::new(), "{:#?}", lines(&c));
    let all = lines(&c);
    assert!(
        all.iter()
            .any(|l| l
                .starts_with("migrate job.run: not representable (Compose has no release hooks")),
        "{all:#?}"
    );
    // A hook lost from a rendered chart is drift.
    let lost = hook.replace(
        "  annotations: {helm.sh/hook: \"pre-install,pre-upgrade\"}\n",
        "",
    );
    let c = classified(&helm, &kubernetes(&lost));
    assert_eq!(
        drift(&c),
        ["migrate job.run: Some(\"before\") -> None"],
        "{:#?}",
        lines(&c)
    );
}

#[test]
fn planted_changes_of_job_command_schedule_and_sidecar_image_are_drift() {
    let planted = MANIFESTS
        .replace(
            "command: [shop, migrate]",
            "command: [shop, migrate, --fake]",
        )
        .replace("schedule: \"0 3 * * *\"", "schedule: \"0 4 * * *\"")
        .replace("envoyproxy/envoy:v1.31.0", "envoyproxy/envoy:v1.30.0");
    let c = classified(&kubernetes(MANIFESTS), &kubernetes(&planted));
    assert_eq!(
        drift(&c),
        [
            "migrate command: Some(\"shop migrate\") -> Some(\"shop migrate --fake\")",
            "report schedule.cron: Some(\"0 3 * * *\") -> Some(\"0 4 * * *\")",
            "web sidecars.proxy.image: Some(\"envoyproxy/envoy:v1.31.0\") -> Some(\"envoyproxy/envoy:v1.30.0\")",
        ]
    );
    // Init steps too, and their order.
    let swapped = MANIFESTS.replace("command: [shop, seed]", "command: [shop, seed, --all]");
    let c = classified(&kubernetes(MANIFESTS), &kubernetes(&swapped));
    assert_eq!(
        drift(&c),
        ["web init.seed.command: Some(\"shop seed\") -> Some(\"shop seed --all\")"]
    );
}

#[test]
fn a_changed_step_secret_shows_as_a_hash() {
    let changed = MANIFESTS.replace("db-password: hunter2", "db-password: changed-by-hand");
    let c = classified(&kubernetes(MANIFESTS), &kubernetes(&changed));
    let shown = format!("{:?}", c.differences);
    assert!(!shown.contains("hunter2") && !shown.contains("changed-by-hand"));
    assert!(
        c.differences
            .iter()
            .any(|d| d.key.to_string() == "init.seed.env.DB_PASSWORD" && d.class == Class::Drift),
        "{shown}"
    );
    assert_eq!(Format::Kubernetes.as_str(), "kubernetes");
}

#[test]
fn a_scratch_volume_shared_with_a_step_is_a_named_volume_in_compose() {
    let shared = COMPOSE
        .replace(
            "    command: [serve]\n",
            "    command: [serve]\n    volumes: [\"web-cache:/cache\", \"web-own:/own\"]\n",
        )
        .replace(
            "    entrypoint: [shop, seed]\n",
            "    entrypoint: [shop, seed]\n    volumes: [\"web-cache:/work\"]\n",
        )
        + "volumes:\n  web-cache: {}\n  web-own: {}\n";
    let manifests = MANIFESTS.replace(
        "        args: [serve]\n",
        "        args: [serve]\n        volumeMounts:\n        - {name: cache, mountPath: /cache}\n        - {name: own, mountPath: /own}\n      volumes:\n      - {name: cache, emptyDir: {}}\n      - {name: own, emptyDir: {}}\n",
    );
    let c = classified(&compose_facts(&shared), &kubernetes(&manifests));
    let all = lines(&c);
    assert!(
        all.iter().any(|l| l.starts_with(
            "web volumes./cache: not representable (Compose cannot share a tmpfs between containers"
        )),
        "{all:#?}"
    );
    // A named volume no step mounts could have been a tmpfs.
    assert_eq!(
        drift(&c),
        ["web volumes./own: Some(\"persistent\") -> Some(\"scratch\")"]
    );
}

#[test]
fn read_only_mounts_and_sub_paths_are_facts_in_both_formats() {
    let compose = "services:\n  app:\n    image: app:1\n    volumes:\n    - type: volume\n      source: data\n      target: /data\n      read_only: true\n    - cache:/cache:ro\nvolumes:\n  data: {}\n  cache: {}\n";
    let f = compose_facts(compose);
    let app = &f.services["app"];
    assert_eq!(app.volumes["/data"].mount.as_deref(), Some("read-only"));
    assert_eq!(app.volumes["/cache"].mount.as_deref(), Some("read-only"));
    let k8s = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n      - name: app\n        image: app:1\n        volumeMounts:\n        - {name: data, mountPath: /data, readOnly: true, subPath: daily}\n      volumes:\n      - name: data\n        persistentVolumeClaim: {claimName: data}\n";
    let k = kubernetes(k8s);
    assert_eq!(
        k.services["app"].volumes["/data"].mount.as_deref(),
        Some("read-only, sub-path daily")
    );
    // A mount made writable is a difference.
    let c = classified(
        &compose_facts(compose),
        &kubernetes(&k8s.replace("readOnly: true, ", "")),
    );
    assert!(
        lines(&c).iter().any(|l| l.contains("volumes./data")),
        "{:?}",
        lines(&c)
    );
}
