//! The structural comparison: every field of every object as `path -> value` lines, so that an
//! edit no extractor models is still seen.
//!
//! Kubernetes objects that are not workloads become [`ObjectFacts`] keyed `Kind/namespace/name`
//! (`Kind/name` when cluster-scoped); a workload's own fields that its service facts do not
//! read become the service's `fields.<path>` lines; a Compose file's top-level entries
//! (`volumes`, `networks`, `secrets`, `configs`, `name`, ...) become objects keyed
//! `volumes/<name>` and so on, and a Compose service's fields that its facts do not read become
//! its `fields.<path>` lines.
//!
//! Lines leave out what a live cluster adds on its own ([`noise`]) and fields set to the value
//! the API server would default them to ([`defaulted`]), so a `kubectl get -o yaml` dump reads
//! as the manifests it came from. Secret and ConfigMap data are opaque ([`Value::secret`]).

use std::collections::BTreeMap;

use yaml_serde::Value as Y;

pub use crate::facts::{ObjectFacts, Scope};
use crate::facts::{Value, secret_hash};

/// Kinds compared in every comparison.
pub const CLUSTER_KINDS: [&str; 5] = [
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "PodDisruptionBudget",
];

/// Labels each backend writes its own way (envc's manifests against a Helm chart's): left out
/// when two different modes are compared.
pub const MANAGEMENT_LABELS: [&str; 2] = ["app.kubernetes.io/managed-by", "helm.sh/chart"];

/// The key of a Kubernetes object: `Kind/namespace/name`, or `Kind/name` without a namespace.
pub fn object_key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Finalizers the API server and its controllers add to objects they manage.
const SERVER_FINALIZERS: [&str; 6] = [
    "kubernetes.io/pvc-protection",
    "kubernetes.io/pv-protection",
    "foregroundDeletion",
    "orphan",
    "batch.kubernetes.io/job-tracking",
    "service.kubernetes.io/load-balancer-cleanup",
];

/// Fields a live cluster adds or keeps for itself: never part of what was applied.
pub fn noise(path: &str) -> bool {
    const EXACT: [&str; 10] = [
        "status",
        "metadata.managedFields",
        "metadata.uid",
        "metadata.resourceVersion",
        "metadata.creationTimestamp",
        "metadata.generation",
        "metadata.selfLink",
        "metadata.ownerReferences",
        "spec.clusterIPs",
        "spec.volumeName",
    ];
    const ANNOTATIONS: [&str; 6] = [
        "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration",
        "metadata.annotations.deployment.kubernetes.io/revision",
        "metadata.annotations.pv.kubernetes.io/",
        "metadata.annotations.volume.beta.kubernetes.io/",
        "metadata.annotations.volume.kubernetes.io/",
        "metadata.annotations.autoscaling.alpha.kubernetes.io/",
    ];
    EXACT.iter().any(|e| {
        path == *e
            || path
                .strip_prefix(e)
                .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
    }) || ANNOTATIONS.iter().any(|a| path.starts_with(a))
        || path.ends_with(".metadata.creationTimestamp")
        // The Job controller labels a job's pods (and selects them) with the job's uid. (Found
        // from the path's `/`s: a substring search is set up on every call, and most paths
        // have no `/`.)
        || path.match_indices('/').any(|(i, _)| {
            path[..i].ends_with("batch.kubernetes.io")
                && (path[i + 1..].starts_with("controller-uid")
                    || path[i + 1..].starts_with("job-name"))
        })
        || path.ends_with("labels.controller-uid")
        || path.ends_with("labels.job-name")
        || path.ends_with("].status")
        // `].status.` somewhere: what follows some `]` (a `]` is a byte search).
        || path.split(']').skip(1).any(|r| r.starts_with(".status."))
}

/// Whether a field holds the value the API server gives it when it is not set: such a field
/// says nothing, written or not. Paths end as [`flatten`] spells them; `kind` is the object's.
pub fn defaulted(kind: &str, path: &str, v: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    let in_pod = path.contains("containers[") || path.starts_with("spec.template.spec.");
    let pairs: &[(&str, &str)] = match kind {
        "Deployment" => &[
            ("spec.replicas", "1"),
            ("spec.progressDeadlineSeconds", "600"),
            ("spec.revisionHistoryLimit", "10"),
            ("spec.strategy.type", "RollingUpdate"),
            ("spec.strategy.rollingUpdate.maxSurge", "25%"),
            ("spec.strategy.rollingUpdate.maxUnavailable", "25%"),
        ],
        "StatefulSet" | "ReplicationController" => &[
            ("spec.replicas", "1"),
            ("spec.podManagementPolicy", "OrderedReady"),
            ("spec.revisionHistoryLimit", "10"),
            ("spec.updateStrategy.type", "RollingUpdate"),
            ("spec.updateStrategy.rollingUpdate.partition", "0"),
            (
                "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
                "Retain",
            ),
            (
                "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                "Retain",
            ),
        ],
        "DaemonSet" => &[
            ("spec.revisionHistoryLimit", "10"),
            ("spec.updateStrategy.type", "RollingUpdate"),
            ("spec.updateStrategy.rollingUpdate.maxSurge", "0"),
            ("spec.updateStrategy.rollingUpdate.maxUnavailable", "1"),
        ],
        "Service" => &[
            ("spec.sessionAffinity", "None"),
            ("spec.type", "ClusterIP"),
            ("spec.ipFamilyPolicy", "SingleStack"),
            ("spec.ipFamilies", "[IPv4]"),
            ("spec.ipFamilies[0]", "IPv4"),
            ("spec.internalTrafficPolicy", "Cluster"),
            ("spec.externalTrafficPolicy", "Cluster"),
        ],
        "PersistentVolumeClaim" => &[("spec.volumeMode", "Filesystem")],
        "Secret" => &[("type", "Opaque")],
        "Namespace" => &[
            ("spec.finalizers", "[kubernetes]"),
            ("spec.finalizers[0]", "kubernetes"),
        ],
        "Job" | "CronJob" => &[
            ("spec.completionMode", "NonIndexed"),
            ("spec.suspend", "false"),
            ("spec.jobTemplate.spec.completionMode", "NonIndexed"),
            ("spec.jobTemplate.spec.suspend", "false"),
        ],
        _ => &[],
    };
    if pairs.iter().any(|(p, d)| *p == path && *d == v) {
        return true;
    }
    // Gateway API references as the API server defaults them (the CRD's schema defaults):
    // a parent is a Gateway, a backend a Service of the core group with weight 1, a rule
    // without matches, or a match without a path, matches the `PathPrefix` `/`.
    if kind == "HTTPRoute" {
        let parent = path.starts_with("spec.parentRefs[");
        let backend = path.contains(".backendRefs[") && !path.contains(".filters");
        let route_default = match last {
            "group" if parent => v == "gateway.networking.k8s.io",
            "kind" if parent => v == "Gateway",
            "group" if backend => v.is_empty(),
            "kind" if backend => v == "Service",
            "weight" if backend => v == "1",
            "type" if path.ends_with(".path.type") => v == "PathPrefix",
            _ => false,
        };
        if route_default {
            return true;
        }
    }
    // The namespace controller labels every namespace with its own name.
    if kind == "Namespace" && path == "metadata.labels.kubernetes.io/metadata.name" {
        return true;
    }
    // A probe's timings as the kubelet defaults them, and its HTTP path (`/` when unset).
    if path.contains("Probe.") {
        let probe_default = match last {
            "periodSeconds" => v == "10",
            "timeoutSeconds" | "successThreshold" => v == "1",
            "failureThreshold" => v == "3",
            "initialDelaySeconds" => v == "0",
            "path" => v == "/",
            _ => false,
        };
        if probe_default {
            return true;
        }
    }
    // An environment variable without a value is empty.
    if last == "value" && v.is_empty() && path.contains("env[") {
        return true;
    }
    // Pod and container defaults, wherever the pod template sits.
    let pod_default = match last {
        "scheme" => v == "HTTP",
        "volumeMode" => v == "Filesystem",
        "dnsPolicy" => v == "ClusterFirst",
        "schedulerName" => v == "default-scheduler",
        "terminationGracePeriodSeconds" => v == "30",
        "terminationMessagePath" => v == "/dev/termination-log",
        "terminationMessagePolicy" => v == "File",
        "successThreshold" => v == "1",
        "defaultMode" => v == "420",
        "protocol" => v == "TCP",
        "enableServiceLinks" => v == "true",
        _ => false,
    };
    (in_pod || matches!(last, "protocol" | "defaultMode" | "volumeMode")) && pod_default
        || (path.ends_with(".securityContext") && v == "{}")
        || (path.ends_with(".resources") && v == "{}")
        // `serviceAccount` is the deprecated mirror of `serviceAccountName`.
        || (in_pod && last == "serviceAccount")
}

/// Every field of `v` under `prefix` into `out`: scalars as their text, empty mappings and
/// lists as `{}` and `[]`. A list of mappings that each have a distinct `name` (containers,
/// ports, env, volumes) is indexed by name (`containers[web]`), so removing one item does not
/// renumber the others; other lists by position.
pub fn flatten(v: &Y, prefix: &str, out: &mut BTreeMap<String, Value>) {
    let mut path = String::with_capacity(prefix.len() + 64);
    path.push_str(prefix);
    flatten_at(v, &mut path, out);
}

/// [`flatten`] with the path so far in one buffer, extended and cut back around each child:
/// a path allocated for every node and then again for every field was most of its cost.
fn flatten_at(v: &Y, path: &mut String, out: &mut BTreeMap<String, Value>) {
    match v {
        Y::Mapping(m) if m.is_empty() => {
            out.insert(path.clone(), Value::Text("{}".into()));
        }
        Y::Mapping(m) => {
            for (k, x) in m {
                let len = path.len();
                if len > 0 {
                    path.push('.');
                }
                match k {
                    Y::String(s) => path.push_str(s),
                    other => path.push_str(scalar_text(other).as_deref().unwrap_or("?")),
                }
                flatten_at(x, path, out);
                path.truncate(len);
            }
        }
        Y::Sequence(s) if s.is_empty() => {
            out.insert(path.clone(), Value::Text("[]".into()));
        }
        Y::Sequence(s) => {
            let names: Vec<Option<&str>> = s
                .iter()
                .map(|x| x.get("name").and_then(Y::as_str))
                .collect();
            let by_name = names.iter().all(Option::is_some) && {
                let mut n: Vec<&str> = names.iter().flatten().copied().collect();
                n.sort_unstable();
                n.windows(2).all(|w| w[0] != w[1])
            };
            for (i, x) in s.iter().enumerate() {
                let len = path.len();
                path.push('[');
                match names[i] {
                    Some(n) if by_name => path.push_str(n),
                    _ => {
                        use std::fmt::Write;
                        let _ = write!(path, "{i}");
                    }
                }
                path.push(']');
                flatten_at(x, path, out);
                path.truncate(len);
            }
        }
        Y::Tagged(t) => flatten_at(&t.value, path, out),
        other => {
            out.insert(
                path.clone(),
                Value::Text(scalar_text(other).unwrap_or_default()),
            );
        }
    }
}

/// A path with its list indexes taken out (`env[DB].value` is `env[].value`), to match it
/// against the fields an extractor reads.
pub fn unindexed(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push('[');
                }
                depth += 1;
            }
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(']');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

fn scalar_text(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Null => Some("null".into()),
        _ => None,
    }
}

/// A Kubernetes object's lines: noise and defaulted fields left out, `skip` paths (what the
/// object's service facts read) left out, Secret and ConfigMap data made opaque. A Secret's
/// `stringData` is read as the `data` it becomes.
pub fn kubernetes_lines(
    obj: &Y,
    kind: &str,
    skip: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    flatten(obj, "", &mut all);
    drop_default_pull_policies(&mut all);
    let mut out = BTreeMap::new();
    for (path, value) in all {
        if noise(&path) || skip(&path) {
            continue;
        }
        let shown = value.display();
        // Finalizers: those a controller of the cluster adds are noise; the ones the artifacts
        // set (Argo CD's resources finalizer) are compared by name, wherever the cluster put
        // its own among them.
        if let Some(rest) = path.strip_prefix("metadata.finalizers") {
            if !rest.is_empty() && !SERVER_FINALIZERS.contains(&shown.as_str()) {
                out.insert(format!("metadata.finalizers[{shown}]"), value);
            }
            continue;
        }
        // The cluster picks a Service's address; `None` (headless) is written, and meant.
        if kind == "Service" && path == "spec.clusterIP" && shown != "None" {
            continue;
        }
        if defaulted(kind, &path, &shown) {
            continue;
        }
        let opaque = |p: &str| {
            (kind == "Secret" && (p.starts_with("data.") || p.starts_with("stringData.")))
                || (kind == "ConfigMap" && (p.starts_with("data.") || p.starts_with("binaryData.")))
        };
        if opaque(&path) {
            let (field, key) = path.split_once('.').unwrap_or((&path, ""));
            let bytes = match field {
                "data" if kind == "Secret" => {
                    crate::docs::base64_decode(&shown).unwrap_or_else(|| shown.into_bytes())
                }
                "binaryData" => {
                    crate::docs::base64_decode(&shown).unwrap_or_else(|| shown.into_bytes())
                }
                _ => shown.into_bytes(),
            };
            out.insert(format!("data.{key}"), Value::secret(secret_hash(&bytes)));
            continue;
        }
        out.insert(path, value);
    }
    out
}

/// `imagePullPolicy` as the API server defaults it: `Always` for an image without a tag or
/// tagged `latest`, else `IfNotPresent`.
fn drop_default_pull_policies(lines: &mut BTreeMap<String, Value>) {
    let defaulted: Vec<String> = lines
        .iter()
        .filter_map(|(path, v)| {
            let container = path.strip_suffix(".imagePullPolicy")?;
            let image = lines.get(&format!("{container}.image"))?.display();
            let last = image.rsplit('/').next().unwrap_or(&image);
            let tag = last.split_once('@').map_or(last, |(t, _)| t);
            let latest = match tag.split_once(':') {
                None => !last.contains('@'),
                Some((_, t)) => t == "latest",
            };
            let default = if latest { "Always" } else { "IfNotPresent" };
            (v.display() == default).then(|| path.clone())
        })
        .collect();
    for p in defaulted {
        lines.remove(&p);
    }
}

/// Whether a Compose service's field holds the value Compose uses when it is not set.
pub fn compose_defaulted(path: &str, v: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    match last {
        "restart" => v == "no",
        "type" => path.contains("volumes[") && v == "volume",
        "interval" | "timeout" => path.contains(".healthcheck.") && v == "30s",
        "retries" => path.contains(".healthcheck.") && v == "3",
        "read_only" | "privileged" | "init" | "tty" | "stdin_open" => v == "false",
        "protocol" => v == "tcp",
        _ => false,
    }
}

/// A Compose file's top-level entries besides `services` (and the `x-` extensions, which only
/// anchor values the services repeat): `volumes/<name>`, `networks/<name>`, `secrets/<name>`,
/// `configs/<name>`, and other keys (`name`) as themselves.
pub fn compose_objects(doc: &Y) -> Vec<(String, ObjectFacts)> {
    let mut out = Vec::new();
    for (k, v) in doc.as_mapping().into_iter().flatten() {
        let Some(top) = k.as_str() else { continue };
        if top == "services" || top.starts_with("x-") {
            continue;
        }
        let object = |kind: &str, v: &Y| {
            let mut lines = BTreeMap::new();
            flatten(v, "", &mut lines);
            ObjectFacts {
                kind: kind.to_string(),
                scope: Scope::Other,
                lines: std::sync::Arc::new(lines),
            }
        };
        match v {
            Y::Mapping(m) if ["volumes", "networks", "secrets", "configs"].contains(&top) => {
                for (n, entry) in m {
                    let name = n.as_str().map(String::from).unwrap_or_default();
                    out.push((format!("{top}/{name}"), object(top, entry)));
                }
            }
            _ => out.push((top.to_string(), object(top, v))),
        }
    }
    out
}

/// A Compose service's fields that its facts do not read (`container_name`, `hostname`,
/// `labels`, `logging`, `stop_grace_period`, `ulimits`, `extra_hosts`, a port's `mode`, ...).
pub fn compose_service_lines(s: &Y) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    flatten(s, "", &mut all);
    all.into_iter()
        .filter(|(path, v)| {
            let p = unindexed(path);
            let v = v.display();
            // `no-new-privileges` is `security.privilege_escalation`; other options are not read.
            let read_option = p == "security_opt[]"
                && matches!(
                    v.as_str(),
                    "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
                );
            // Healthcheck timings are read when they parse (another value is a file Compose
            // refuses, and is compared as written).
            let read_timing = match p.as_str() {
                "healthcheck.interval" | "healthcheck.timeout" | "healthcheck.start_period" => {
                    crate::facts::seconds(&v).is_some()
                }
                "healthcheck.retries" => v.parse::<u32>().is_ok(),
                _ => false,
            };
            !compose_read(&p) && !read_option && !read_timing
        })
        .collect()
}

/// Whether a Compose service's field (list indexes taken out) is read into its facts.
fn compose_read(path: &str) -> bool {
    const READ: [&str; 43] = [
        "image",
        "entrypoint",
        "entrypoint[]",
        "command",
        "command[]",
        "environment[]",
        "env_file",
        "env_file[]",
        "ports[]",
        "ports[].target",
        "ports[].published",
        "ports[].protocol",
        "ports[].host_ip",
        "expose[]",
        "volumes[]",
        "volumes[].type",
        "volumes[].source",
        "volumes[].target",
        "volumes[].volume.subpath",
        "volumes[].tmpfs.size",
        "tmpfs",
        "tmpfs[]",
        "configs[]",
        "configs[].source",
        "configs[].target",
        "secrets[]",
        "secrets[].source",
        "secrets[].target",
        "healthcheck.test",
        "healthcheck.test[]",
        "depends_on[]",
        "restart",
        "profiles[]",
        "networks[]",
        "user",
        "read_only",
        "cap_add[]",
        "cap_drop[]",
        "deploy.resources.limits.cpus",
        "deploy.resources.limits.memory",
        "deploy.resources.reservations.cpus",
        "deploy.resources.reservations.memory",
        "deploy.replicas",
    ];
    if READ.contains(&path) || path.starts_with("environment.") {
        return true;
    }
    // `depends_on: {db: {condition: ...}}` and `networks: {default: null}`: one name segment.
    let one_segment = |prefix: &str, rest: &[&str]| {
        path.strip_prefix(prefix)
            .is_some_and(|r| match r.split_once('.') {
                None => rest.contains(&""),
                Some((name, field)) => !name.is_empty() && rest.contains(&field),
            })
    };
    one_segment("depends_on.", &["condition"]) || one_segment("networks.", &[""])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_paths() {
        for p in [
            "status",
            "status.phase",
            "metadata.uid",
            "spec.template.metadata.labels.batch.kubernetes.io/controller-uid",
            "spec.selector.matchLabels.batch.kubernetes.io/job-name",
            "spec.template.spec.containers[web].status",
            "spec.conditions[0].status.x",
            "spec.template.metadata.creationTimestamp",
        ] {
            assert!(noise(p), "{p}");
        }
        for p in [
            "statuses",
            "spec.status",
            "spec.containers[web].statusPort",
            "spec.containers[web].status]x",
            "metadata.labels.app.kubernetes.io/name",
            "metadata.labels.batch.kubernetes.io",
        ] {
            assert!(!noise(p), "{p}");
        }
    }

    fn lines(yaml: &str, kind: &str) -> Vec<String> {
        let v: Y = yaml_serde::from_str(yaml).expect("yaml");
        kubernetes_lines(&v, kind, &|_| false)
            .iter()
            .map(|(k, v)| format!("{k}={}", v.display()))
            .collect()
    }

    #[test]
    fn lists_of_named_items_are_indexed_by_name() {
        let l = lines(
            "spec:\n  ports:\n  - {name: a, port: 1}\n  - {name: b, port: 2}\n  args: [x, y]\n  none: []\n",
            "X",
        );
        assert_eq!(
            l,
            [
                "spec.args[0]=x",
                "spec.args[1]=y",
                "spec.none=[]",
                "spec.ports[a].name=a",
                "spec.ports[a].port=1",
                "spec.ports[b].name=b",
                "spec.ports[b].port=2"
            ]
        );
    }

    #[test]
    fn live_noise_and_defaults_are_left_out() {
        let l = lines(
            "metadata: {name: web, uid: x, resourceVersion: '1', managedFields: [{a: b}]}\nstatus: {replicas: 1}\nspec:\n  revisionHistoryLimit: 10\n  replicas: 2\n  template:\n    spec:\n      dnsPolicy: ClusterFirst\n      containers:\n      - {name: web, terminationMessagePath: /dev/termination-log, ports: [{containerPort: 80, protocol: TCP}]}\n",
            "Deployment",
        );
        assert_eq!(
            l,
            [
                "metadata.name=web",
                "spec.replicas=2",
                "spec.template.spec.containers[web].name=web",
                "spec.template.spec.containers[web].ports[0].containerPort=80"
            ]
        );
    }

    /// `flatten` as it was before it kept one path buffer: a path allocated per node.
    fn flatten_reference(v: &Y, prefix: &str, out: &mut BTreeMap<String, Value>) {
        let join = |key: &str| {
            if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            }
        };
        match v {
            Y::Mapping(m) if m.is_empty() => {
                out.insert(prefix.to_string(), Value::Text("{}".into()));
            }
            Y::Mapping(m) => {
                for (k, x) in m {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        other => scalar_text(other).unwrap_or_else(|| "?".into()),
                    };
                    flatten_reference(x, &join(&key), out);
                }
            }
            Y::Sequence(s) if s.is_empty() => {
                out.insert(prefix.to_string(), Value::Text("[]".into()));
            }
            Y::Sequence(s) => {
                let names: Vec<Option<&str>> = s
                    .iter()
                    .map(|x| x.get("name").and_then(Y::as_str))
                    .collect();
                let by_name = names.iter().all(Option::is_some) && {
                    let mut n: Vec<&str> = names.iter().flatten().copied().collect();
                    n.sort_unstable();
                    n.windows(2).all(|w| w[0] != w[1])
                };
                for (i, x) in s.iter().enumerate() {
                    let index = match names[i] {
                        Some(n) if by_name => format!("{prefix}[{n}]"),
                        _ => format!("{prefix}[{i}]"),
                    };
                    flatten_reference(x, &index, out);
                }
            }
            Y::Tagged(t) => flatten_reference(&t.value, prefix, out),
            other => {
                out.insert(
                    prefix.to_string(),
                    Value::Text(scalar_text(other).unwrap_or_default()),
                );
            }
        }
    }

    #[test]
    fn flatten_gives_the_paths_a_path_per_node_gave() {
        let doc = "\
a: {b: {c: 1, d: [x, y]}, e: {}, f: []}
1: numeric key
true: [{name: p, v: 1}, {name: q, v: 2}]
dup: [{name: p}, {name: p}]
mixed: [{name: p}, 3, [nested, [deeper]]]
tagged: !Tag {inner: [1, 2]}
nulls: {n: null, s: '', f: 1.5}
'': empty key
";
        let v: Y = yaml_serde::from_str(doc).expect("yaml");
        for prefix in ["", "spec", "spec.template[web]"] {
            let (mut fast, mut slow) = (BTreeMap::new(), BTreeMap::new());
            flatten(&v, prefix, &mut fast);
            flatten_reference(&v, prefix, &mut slow);
            let show = |m: &BTreeMap<String, Value>| -> Vec<String> {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.display()))
                    .collect()
            };
            assert_eq!(show(&fast), show(&slow), "prefix {prefix:?}");
            assert!(fast.contains_key(&format!("{}true[q].v", join_for(prefix))));
        }
        // Every committed Kubernetes manifest flattens the same both ways.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../out");
        let mut files = 0;
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for d in yaml_serde::Deserializer::from_str(&text) {
                        // A chart's templates are not YAML; the reader stops at an error.
                        let Ok(v) = <Y as serde::Deserialize>::deserialize(d) else {
                            break;
                        };
                        let (mut fast, mut slow) = (BTreeMap::new(), BTreeMap::new());
                        flatten(&v, "", &mut fast);
                        flatten_reference(&v, "", &mut slow);
                        assert!(fast.keys().eq(slow.keys()), "{}", path.display());
                    }
                    files += 1;
                }
            }
        }
        assert!(
            files > 10,
            "out/ has the committed manifests ({files} read)"
        );
    }

    fn join_for(prefix: &str) -> String {
        if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        }
    }

    #[test]
    fn http_route_references_as_the_api_server_defaults_them_are_left_out() {
        let written = lines(
            "spec:\n  parentRefs: [{name: public, namespace: infra}]\n  rules:\n  - matches: [{path: {value: /}}]\n    backendRefs: [{name: web, port: 80}]\n",
            "HTTPRoute",
        );
        let live = lines(
            "spec:\n  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public, namespace: infra}]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{group: '', kind: Service, name: web, port: 80, weight: 1}]\n",
            "HTTPRoute",
        );
        assert_eq!(written, live);
        // Another weight, or a parent of another kind, is a line.
        let other = lines(
            "spec:\n  parentRefs: [{kind: Service, name: web}]\n  rules:\n  - backendRefs: [{name: web, port: 80, weight: 2}]\n",
            "HTTPRoute",
        );
        assert!(
            other.contains(&"spec.parentRefs[web].kind=Service".to_string()),
            "{other:?}"
        );
        assert!(
            other.contains(&"spec.rules[0].backendRefs[web].weight=2".to_string()),
            "{other:?}"
        );
    }

    #[test]
    fn secret_data_is_opaque_and_string_data_is_data() {
        let a = lines("kind: Secret\nstringData: {pw: hunter2}\n", "Secret");
        let b = lines("kind: Secret\ndata: {pw: aHVudGVyMg==}\n", "Secret");
        assert_eq!(a, b);
        assert!(a.iter().all(|l| !l.contains("hunter2")), "{a:?}");
    }
}
