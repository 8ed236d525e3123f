//! Facts read by meaning from both formats: a Compose file and Kubernetes manifests that say the
//! same things (security settings, published ports with their host address, the healthcheck's
//! timings, restart policy, networks and namespace, start order, claims) are no drift; a change
//! planted on either side shows under the fact's own key.

use std::fs;
use std::path::Path;

use crate::common::{envc, parts};

const COMPOSE: &str = r#"services:
  web:
    image: app:1
    user: "1000:1000"
    read_only: true
    security_opt: [no-new-privileges:true]
    cap_drop: [ALL]
    cap_add: [cap_net_bind_service]
    restart: always
    networks: [back]
    ports: ["127.0.0.1:8080:80"]
    volumes: [data:/data]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: [CMD, /bin/check]
      interval: 10s
      timeout: 5s
      retries: 3
  db:
    image: postgres:17
    restart: always
    networks: [back]
networks:
  back: {}
volumes:
  data: {}
"#;

const K8S: &str = r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: back}
spec:
  storageClassName: local-path
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: back}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: app:1
          ports: [{containerPort: 80, hostPort: 8080, hostIP: 127.0.0.1}]
          securityContext:
            runAsUser: 1000
            runAsGroup: 1000
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            privileged: false
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
          readinessProbe:
            exec: {command: [/bin/check]}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: back}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:17"}]
"#;

/// The report's difference of `service` and `key`, as JSON (`null` when there is none).
fn difference(dir: &Path, from: &str, to: &str, service: &str, key: &str) -> serde_json::Value {
    let (code, out, err) = parts(&envc(
        dir,
        &["diff", "--from", from, "--to", to, "--format", "json"],
    ));
    assert!(code == 0 || code == 1, "{out}{err}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    r["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["service"] == service && d["key"] == key)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    fs::write(dir.join(name), text).expect("write");
    dir.join(name).display().to_string()
}

#[test]
fn the_same_settings_in_both_formats_are_no_drift() {
    let t = tempfile::tempdir().expect("tempdir");
    let compose = write(t.path(), "compose.yaml", COMPOSE);
    let k8s = write(t.path(), "k8s.yaml", K8S);
    let (code, out, err) = parts(&envc(
        t.path(),
        &["diff", "--from", &compose, "--to", &k8s, "--format", "json"],
    ));
    assert_eq!(code, 0, "{out}{err}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    let keys: Vec<&str> = r["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["key"].as_str())
        .collect();
    // Equal by meaning, so not differences at all: no seccomp option is Docker's default
    // profile (RuntimeDefault), `cap_net_bind_service` is NET_BIND_SERVICE, the published
    // port's host address is the host port's hostIP.
    for same in [
        "security.seccomp",
        "security.privileged",
        "security.cap_add",
        "security.cap_drop",
        "security.user",
        "security.read_only_root",
        "security.privilege_escalation",
        "ports.80/tcp.host_ip",
        "ports.80/tcp.host_port",
        "probes.healthcheck.timing",
        "restart",
        "namespace",
    ] {
        assert!(!keys.contains(&same), "{same}: {out}");
    }
    // What Compose cannot say is there, and not drift.
    let class = difference(t.path(), &compose, &k8s, "web", "volumes./data.class");
    assert_eq!(class["class"], "not-representable", "{class}");
    assert_eq!(class["b"], "local-path");
    assert_eq!(
        difference(t.path(), &compose, &k8s, "web", "depends_on.db")["a"],
        "healthy"
    );
}

#[test]
fn a_change_on_either_side_shows_under_its_key() {
    let t = tempfile::tempdir().expect("tempdir");
    // (side, from, to, service, key, the changed side's value)
    let cases: [(&str, &str, &str, &str, &str, &str); 13] = [
        (
            "compose",
            "security_opt: [no-new-privileges:true]",
            "security_opt: [no-new-privileges:true, seccomp:unconfined]",
            "web",
            "security.seccomp",
            "unconfined",
        ),
        (
            "k8s",
            "type: RuntimeDefault",
            "type: Unconfined",
            "web",
            "security.seccomp",
            "unconfined",
        ),
        (
            "compose",
            "read_only: true",
            "read_only: true\n    privileged: true",
            "web",
            "security.privileged",
            "true",
        ),
        (
            "k8s",
            "privileged: false",
            "privileged: true",
            "web",
            "security.privileged",
            "true",
        ),
        (
            "k8s",
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
            "web",
            "security.privilege_escalation",
            "true",
        ),
        (
            "compose",
            "cap_add: [cap_net_bind_service]",
            "cap_add: [cap_net_bind_service, SYS_TIME]",
            "web",
            "security.cap_add",
            "NET_BIND_SERVICE,SYS_TIME",
        ),
        (
            "k8s",
            "runAsGroup: 1000",
            "runAsGroup: 0",
            "web",
            "security.user",
            "1000:0",
        ),
        (
            "compose",
            "read_only: true",
            "read_only: false",
            "web",
            "security.read_only_root",
            "false",
        ),
        (
            "compose",
            "127.0.0.1:8080:80",
            "0.0.0.0:8080:80",
            "web",
            "ports.80/tcp.host_ip",
            "",
        ),
        (
            "k8s",
            "hostIP: 127.0.0.1",
            "hostIP: 10.0.0.5",
            "web",
            "ports.80/tcp.host_ip",
            "10.0.0.5",
        ),
        (
            "compose",
            "interval: 10s",
            "interval: 30s",
            "web",
            "probes.healthcheck.timing",
            "period 30s, timeout 5s, failures 3, delay 0s",
        ),
        (
            "compose",
            "image: postgres:17\n    restart: always",
            "image: postgres:17\n    restart: on-failure",
            "db",
            "restart",
            "on-failure",
        ),
        (
            "compose",
            "networks: [back]\n    ports",
            "networks: [front]\n    ports",
            "web",
            "namespace",
            "front",
        ),
    ];
    for (side, from, to, service, key, value) in cases {
        let (c, k) = if side == "compose" {
            (COMPOSE.replacen(from, to, 1), K8S.to_string())
        } else {
            (COMPOSE.to_string(), K8S.replacen(from, to, 1))
        };
        assert!(c != COMPOSE || k != K8S, "{from} is not in the {side} file");
        let (pc, pk) = (
            write(t.path(), "planted.yaml", &c),
            write(t.path(), "planted-k8s.yaml", &k),
        );
        let d = difference(t.path(), &pc, &pk, service, key);
        let shown = if side == "compose" { &d["a"] } else { &d["b"] };
        if value.is_empty() {
            assert!(shown.is_null() && !d.is_null(), "{side} {to}: {d}");
        } else {
            assert_eq!(shown, value, "{side} {to}: {d}");
        }
        // A difference either format can express is drift; what only one can is explained.
        let explained = matches!(key, "restart" | "namespace");
        assert_eq!(d["class"] == "drift", !explained, "{side} {to}: {d}");
    }
}

#[test]
fn claims_compare_between_manifests() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = write(t.path(), "a.yaml", K8S);
    for (from, to, key, value) in [
        (
            "storageClassName: local-path",
            "storageClassName: gp3",
            "volumes./data.class",
            "gp3",
        ),
        (
            "accessModes: [ReadWriteOnce]",
            "accessModes: [ReadWriteMany]",
            "volumes./data.access",
            "ReadWriteMany",
        ),
        ("storage: 1Gi", "storage: 2Gi", "volumes./data.size", "2Gi"),
    ] {
        let b = write(t.path(), "b.yaml", &K8S.replacen(from, to, 1));
        let d = difference(t.path(), &a, &b, "web", key);
        assert_eq!(d["b"], value, "{to}: {d}");
        assert_eq!(d["class"], "drift", "{to}: {d}");
    }
}
