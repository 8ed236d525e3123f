//! Facts from Kubernetes manifests: a directory or stream of YAML documents (`kind: List`
//! included, as `kubectl get -o yaml` prints it), such as envc's k3s output, a rendered Helm
//! chart, hand-written manifests or a dump of a live cluster.

use std::collections::{BTreeMap, HashMap};

use yaml_serde::Value as Y;

use envc_emit::healthcheck::{DEFAULT_FAILURES, DEFAULT_PERIOD, DEFAULT_TIMEOUT};
use envc_emit::manifest::Manifest;
use envc_emit::name::SECRET_VAR_PREFIX;

use crate::docs::{at, labels, name, ns, scalar, seq, text};
use crate::facts::{
    Facts, FileFacts, Format, JobFacts, JobKind, Lines, Part, PortFacts, ProbeFacts, ResourceFacts,
    ScheduleFacts, ServiceFacts, StepFacts, Value, VolumeFacts, capabilities, cpu,
    credential_value, exec_target, memory, mount_options, secret_hash,
};
use crate::fileset::FileSet;
use crate::key::{Port, ProbeKind};
use crate::service::ServiceEntry;
use crate::split::Split;

fn num(v: &Y, path: &[&str]) -> Option<u64> {
    at(v, path).and_then(number)
}

/// A number, or a string of one.
fn number(x: &Y) -> Option<u64> {
    x.as_u64()
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
}

fn strings(v: &Y, path: &[&str]) -> Option<Vec<String>> {
    at(v, path)
        .and_then(Y::as_sequence)
        .map(|s| s.iter().filter_map(scalar).collect())
}

/// Every Kubernetes object in the set: documents with `apiVersion` and `kind`, `List` items
/// unpacked, from YAML and JSON files ([`crate::docs`]). Files that do not parse are skipped
/// with a note.
pub fn objects(files: &FileSet, notes: &mut Vec<String>) -> Vec<Y> {
    let mut out = Vec::new();
    for (path, bytes) in &files.files {
        if !crate::docs::is_manifest_name(path) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        match crate::docs::parse(path, text) {
            Ok(docs) => docs.into_iter().for_each(|v| unpack(v, &mut out)),
            Err(e) => notes.push(format!("{e}; skipped")),
        }
    }
    out
}

fn unpack(v: Y, out: &mut Vec<Y>) {
    if text(&v, &["kind"]).is_some_and(|k| k == "List" || k.ends_with("List"))
        && at(&v, &["items"]).is_some()
    {
        if let Some(items) = at(&v, &["items"]).and_then(Y::as_sequence) {
            for i in items.clone() {
                unpack(i, out);
            }
        }
    } else if text(&v, &["kind"]).is_some() && text(&v, &["apiVersion"]).is_some() {
        out.push(v);
    }
}

/// Decoded Secret data.
fn secret_data(objs: &[&Y]) -> SecretData {
    let mut m = BTreeMap::new();
    for s in objs.iter().filter(|o| text(o, &["kind"]) == Some("Secret")) {
        for (k, v) in at(s, &["data"])
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
        {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str())
                && let Some(bytes) = base64_decode(v)
            {
                m.insert((ns(s), name(s), k.to_string()), bytes);
            }
        }
        for (k, v) in at(s, &["stringData"])
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
        {
            if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                m.insert((ns(s), name(s), k.to_string()), v.into_bytes());
            }
        }
    }
    m
}

fn config_data(objs: &[&Y]) -> ConfigData {
    let mut m = BTreeMap::new();
    for c in objs
        .iter()
        .filter(|o| text(o, &["kind"]) == Some("ConfigMap"))
    {
        let data: BTreeMap<String, String> = at(c, &["data"])
            .and_then(Y::as_mapping)
            .map(|d| {
                d.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v)?)))
                    .collect()
            })
            .unwrap_or_default();
        let binary: BTreeMap<String, Vec<u8>> = at(c, &["binaryData"])
            .and_then(Y::as_mapping)
            .map(|d| {
                d.iter()
                    .filter_map(|(k, v)| {
                        Some((k.as_str()?.to_string(), base64_decode(v.as_str()?)?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        m.insert((ns(c), name(c)), ConfigMapData { data, binary });
    }
    m
}

pub use crate::docs::base64_decode;

/// The Services of one namespace, in the set's order, each also filed under the pair of its
/// selector that the fewest of the namespace's selectors share (a service's own name label,
/// typically), so a workload looks only at the Services its pod labels could satisfy: a scan
/// of every Service for every workload grew with the square of the services.
#[derive(Default)]
struct NamespaceServices {
    services: Vec<ServiceEntry>,
    /// Indexes into `services` by selector key, then value.
    by_pair: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Indexes into `services` by name (the first of a name).
    by_name: HashMap<String, usize>,
}

impl NamespaceServices {
    /// Files every Service with a selector under its rarest pair (ties: the first key). One
    /// bucket per Service, so a workload meets each candidate once.
    fn file(&mut self) {
        let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
        for s in &self.services {
            for (k, v) in &s.selector {
                *counts.entry((k.as_str(), v.as_str())).or_default() += 1;
            }
        }
        for (i, s) in self.services.iter().enumerate() {
            self.by_name.entry(s.name.clone()).or_insert(i);
        }
        for (i, s) in self.services.iter().enumerate() {
            let rarest = s
                .selector
                .iter()
                .min_by_key(|(k, v)| counts.get(&(k.as_str(), v.as_str())).copied());
            let Some((k, v)) = rarest else { continue };
            self.by_pair
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .push(i);
        }
    }

    /// The Service of a name.
    fn named(&self, n: &str) -> Option<&ServiceEntry> {
        self.by_name.get(n).map(|&i| &self.services[i])
    }

    /// The Services whose selector is non-empty and satisfied by `pod_labels`, in the set's
    /// order.
    fn selecting(&self, pod_labels: &BTreeMap<String, String>) -> Vec<&ServiceEntry> {
        let mut candidates: Vec<usize> = pod_labels
            .iter()
            .filter_map(|(k, v)| self.by_pair.get(k.as_str())?.get(v.as_str()))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .map(|i| &self.services[i])
            .filter(|s| s.selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)))
            .collect()
    }
}

/// Objects a workload's facts come from, indexed once so each workload's lookups are cheap.
struct Index<'a> {
    /// Services by namespace, with their selectors.
    services: HashMap<String, NamespaceServices>,
    /// Route objects' rules (Ingresses, HTTPRoutes) by namespace, filed by Service.
    routes: HashMap<String, crate::route::Routes>,
    /// Claims by namespace and name.
    claims: HashMap<(String, String), &'a Y>,
    /// HorizontalPodAutoscalers by namespace and target kind and name.
    autoscalers: HashMap<(String, String, String), &'a Y>,
    /// Every Service's name and namespace, in the set's order ([`Facts::endpoints`]).
    endpoints: Vec<(String, String)>,
}

impl<'a> Index<'a> {
    /// The index of a set's values `objs` and its Services `services` (in the set's order).
    fn new(objs: &[&'a Y], services: Vec<ServiceEntry>) -> Self {
        let mut ix = Index {
            services: HashMap::new(),
            routes: HashMap::new(),
            claims: HashMap::new(),
            autoscalers: HashMap::new(),
            endpoints: Vec::new(),
        };
        for s in services {
            ix.endpoints.push((s.name.clone(), s.namespace.clone()));
            ix.services
                .entry(s.namespace.clone())
                .or_default()
                .services
                .push(s);
        }
        for &o in objs {
            match text(o, &["kind"]) {
                Some(k) if crate::route::KINDS.contains(&k) => {
                    ix.routes.entry(ns(o)).or_default().add(o)
                }
                Some("PersistentVolumeClaim") => {
                    ix.claims.entry((ns(o), name(o))).or_insert(o);
                }
                Some("HorizontalPodAutoscaler") => {
                    let key = (
                        ns(o),
                        text(o, &["spec", "scaleTargetRef", "kind"])
                            .unwrap_or_default()
                            .to_string(),
                        text(o, &["spec", "scaleTargetRef", "name"])
                            .unwrap_or_default()
                            .to_string(),
                    );
                    ix.autoscalers.entry(key).or_insert(o);
                }
                _ => {}
            }
        }
        ix.services.values_mut().for_each(NamespaceServices::file);
        ix
    }
}

/// The kinds read as services.
const WORKLOADS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
];

/// Kinds that live in no namespace (every other kind is read in its namespace, `default` when
/// none is written, as `kubectl apply` places it).
const CLUSTER_SCOPED: [&str; 10] = [
    "Namespace",
    "ClusterSecretStore",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
];

/// Extracts facts from every workload (Deployment, StatefulSet, DaemonSet,
/// ReplicationController, Job, CronJob, Pod) in the set, and every other object structurally.
pub fn extract(files: &FileSet) -> Facts {
    let mut notes = Vec::new();
    let objs = objects(files, &mut notes);
    extract_objects(&files.label, &objs, notes)
}

/// Extracts facts from objects already read (as [`objects`] returns them), with the notes
/// reading them left.
pub fn extract_objects(label: &str, objs: &[Y], notes: Vec<String>) -> Facts {
    extract_objects_with(label, objs, notes, Lines::All)
}

/// [`extract_objects`], taking only the structural `lines` asked for.
pub fn extract_objects_with(label: &str, objs: &[Y], notes: Vec<String>, lines: Lines) -> Facts {
    let set: Vec<Obj<'_>> = objs.iter().map(Obj::Value).collect();
    extract_set(label, set, notes, lines, Split::BySize)
}

/// One object of a set being read: a value, or an object the emitter built, typed, whose value
/// is made only where a fact needs it (a workload, an object whose lines are read), on the
/// thread reading it. The set owns its typed objects and drops each once read. What every
/// object is read as (its kind, name, namespace, owner) comes from its metadata.
pub(crate) enum Obj<'a> {
    Value(&'a Y),
    Typed(Box<dyn Manifest>),
}

impl<'a> Obj<'a> {
    fn kind(&self) -> &str {
        match self {
            Obj::Value(v) => text(v, &["kind"]).unwrap_or_default(),
            Obj::Typed(m) => m.kind(),
        }
    }

    fn api_version(&self) -> Option<&str> {
        match self {
            Obj::Value(v) => text(v, &["apiVersion"]),
            Obj::Typed(m) => Some(m.api_version()),
        }
    }

    /// Its namespace, `default` when none is written.
    fn ns(&self) -> String {
        match self {
            Obj::Value(v) => ns(v),
            Obj::Typed(m) => m
                .meta()
                .namespace
                .as_deref()
                .unwrap_or("default")
                .to_string(),
        }
    }

    fn name(&self) -> String {
        match self {
            Obj::Value(v) => name(v),
            Obj::Typed(m) => m.meta().name.clone().unwrap_or_default(),
        }
    }

    /// Whether a controller made it (an owner reference with `controller: true`).
    fn controlled(&self) -> bool {
        match self {
            Obj::Value(v) => seq(v, &["metadata", "ownerReferences"])
                .any(|r| at(r, &["controller"]).and_then(Y::as_bool) == Some(true)),
            Obj::Typed(m) => m
                .meta()
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.controller == Some(true)),
        }
    }

    /// Whether Helm labelled it as a chart's.
    fn helm(&self) -> bool {
        match self {
            Obj::Value(v) => at(v, &["metadata", "labels", "helm.sh/chart"]).is_some(),
            Obj::Typed(m) => m
                .meta()
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key("helm.sh/chart")),
        }
    }

    /// Its value, made for a typed object.
    fn value(&self) -> Result<std::borrow::Cow<'a, Y>, String> {
        match self {
            Obj::Value(v) => Ok(std::borrow::Cow::Borrowed(*v)),
            Obj::Typed(m) => m
                .value()
                .map(std::borrow::Cow::Owned)
                .map_err(|e| e.to_string()),
        }
    }

    /// The secrets it reads when it is typed: a value's are read with the set's values.
    fn typed_consumers(&self, v: &Y) -> Vec<crate::secret_source::Consumer> {
        match self {
            Obj::Value(_) => Vec::new(),
            Obj::Typed(_) => crate::secret_source::consumers(v),
        }
    }
}

/// Kinds whose values the set's index reads before any object is read ([`Index`],
/// [`secret_data`], [`config_data`], [`crate::secret_source::fold`]): a typed object of one of
/// them is made a value first.
/// Whether a typed object's value is made for the index: a typed Service's entry is read from
/// the object ([`ServiceEntry::of_typed`]).
fn made_for_index(m: &dyn Manifest) -> bool {
    indexed(m.kind()) && m.service().is_none()
}

fn indexed(kind: &str) -> bool {
    matches!(
        kind,
        "Service"
            | "ConfigMap"
            | "Secret"
            | "PersistentVolumeClaim"
            | "HorizontalPodAutoscaler"
            | "SecretStore"
            | "ClusterSecretStore"
            | "ExternalSecret"
    ) || crate::route::KINDS.contains(&kind)
}

/// What one object of a set is read as, decided in the set's order.
enum Read<'o> {
    /// A second object of a key already read: reported, not read.
    Duplicate(String),
    /// A workload (of its kind): a service's facts.
    Workload(Obj<'o>, String, String),
    /// Any other object (of its kind), read structurally under its key.
    Object(Obj<'o>, String, String, ObjectRead),
}

impl Read<'_> {
    /// About what reading it costs, to split a set's reads in halves of equal work: a
    /// workload's facts, measured at 1,000 services, cost about four times an object's lines,
    /// and an object read by its kind alone next to nothing.
    fn weight(&self) -> usize {
        match self {
            Read::Duplicate(_) => 0,
            Read::Workload(..) => 4,
            Read::Object(.., r) => usize::from(r.value()),
        }
    }
}

/// How an object that is not a workload is read.
struct ObjectRead {
    scope: crate::structure::Scope,
    /// A monitor read as [`crate::monitor`] reads it.
    monitor: bool,
    /// A typed object with a pod template: a reader of secrets.
    reader: bool,
    /// Whether its lines are read.
    lines: bool,
}

impl ObjectRead {
    fn new(o: &Obj<'_>, kind: &str, lines: Lines) -> ObjectRead {
        let monitoring = crate::monitor::is_monitoring(kind, o.api_version());
        let scope = if monitoring || crate::structure::CLUSTER_KINDS.contains(&kind) {
            crate::structure::Scope::Cluster
        } else {
            crate::structure::Scope::Other
        };
        ObjectRead {
            scope,
            // Between formats a monitor is compared, like every object, by being there.
            monitor: monitoring && lines != Lines::Kinds,
            reader: matches!(o, Obj::Typed(_)) && crate::secret_source::has_pod_spec(kind),
            lines: lines.keeps(scope),
        }
    }

    /// Whether its value is read (else only its kind).
    fn value(&self) -> bool {
        self.monitor || self.reader || self.lines
    }
}

/// What reading one object gave.
enum Done {
    Duplicate(String),
    /// A service's facts, the notes reading them left, and the secrets a typed workload reads.
    Service(
        Box<ServiceFacts>,
        Vec<String>,
        Vec<crate::secret_source::Consumer>,
    ),
    Object(
        String,
        crate::structure::ObjectFacts,
        Vec<crate::secret_source::Consumer>,
    ),
    /// A typed object whose value could not be made: a note.
    Unread(String),
}

/// The facts of a set of objects, read on two threads as `split` says (each object is read on
/// its own against the set's index; the results are joined in the set's order).
pub(crate) fn extract_set(
    label: &str,
    set: Vec<Obj<'_>>,
    mut notes: Vec<String>,
    lines: Lines,
    split: Split,
) -> Facts {
    // The typed objects the index reads, made values first (in the set's order).
    let made: Vec<Result<Y, String>> = set
        .iter()
        .filter_map(|o| match o {
            Obj::Typed(m) if made_for_index(m.as_ref()) => {
                Some(m.value().map_err(|e| e.to_string()))
            }
            _ => None,
        })
        .collect();
    let mut made_values = made.iter();
    let set: Vec<Obj<'_>> = set
        .into_iter()
        .filter_map(|o| match o {
            Obj::Typed(ref m) if made_for_index(m.as_ref()) => match made_values.next()? {
                Ok(v) => Some(Obj::Value(v)),
                Err(e) => {
                    notes.push(format!("{}/{}: {e}; skipped", m.kind(), o.name()));
                    None
                }
            },
            o => Some(o),
        })
        .collect();
    let values: Vec<&Y> = set
        .iter()
        .filter_map(|o| match o {
            Obj::Value(v) => Some(*v),
            Obj::Typed(_) => None,
        })
        .collect();
    let secrets = secret_data(&values);
    let configs = config_data(&values);
    // The Services, in the set's order: a typed one read from the object itself.
    let services: Vec<ServiceEntry> = set
        .iter()
        .filter_map(|o| match o {
            Obj::Typed(m) => m.service().map(ServiceEntry::of_typed),
            Obj::Value(v) => {
                (text(v, &["kind"]) == Some("Service")).then(|| ServiceEntry::of_value(v))
            }
        })
        .collect();
    let mut index = Index::new(&values, services);
    let mut facts = Facts::new(label, Format::Kubernetes);
    facts.helm = set.iter().any(Obj::helm);
    let mut seen = std::collections::HashSet::new();
    let mut reads = Vec::with_capacity(set.len());
    // The secrets typed workloads read (a value's are read with the values).
    let mut consumers = Vec::new();
    for o in set {
        let kind = o.kind().to_string();
        let namespaced = !CLUSTER_SCOPED.contains(&kind.as_str());
        let key =
            crate::structure::object_key(&kind, namespaced.then(|| o.ns()).as_deref(), &o.name());
        // Objects a controller made (a CronJob's Jobs, a Deployment's ReplicaSets and Pods)
        // are in a live dump, not in what was applied: their owner stands for them. A second
        // object of a key is reported, not read.
        let skipped = o.controlled();
        if !skipped && !seen.insert(key.clone()) {
            reads.push(Read::Duplicate(key.clone()));
        } else if !skipped && WORKLOADS.contains(&kind.as_str()) {
            reads.push(Read::Workload(o, kind, key));
            continue;
        } else if !skipped {
            let how = ObjectRead::new(&o, &kind, lines);
            reads.push(Read::Object(o, kind, key, how));
            continue;
        }
        // Not read, but still a reader of its secrets.
        if let Obj::Typed(_) = o
            && crate::secret_source::has_pod_spec(&kind)
        {
            match o.value() {
                Ok(v) => consumers.extend(o.typed_consumers(&v)),
                Err(e) => notes.push(format!("{key}: {e}; skipped")),
            }
        }
    }
    // Each read takes its object: a typed one is dropped once read.
    let read = |r: Read<'_>| match r {
        Read::Duplicate(key) => Done::Duplicate(key),
        Read::Workload(o, kind, key) => match o.value() {
            Ok(v) => {
                let mut notes = Vec::new();
                let f = workload(&v, &kind, &index, &secrets, &configs, &mut notes, lines);
                Done::Service(Box::new(f), notes, o.typed_consumers(&v))
            }
            Err(e) => Done::Unread(format!("{key}: {e}; skipped")),
        },
        Read::Object(o, kind, key, how) => {
            if !how.value() {
                let f = crate::structure::ObjectFacts {
                    kind,
                    scope: how.scope,
                    lines: Default::default(),
                };
                return Done::Object(key, f, Vec::new());
            }
            match o.value() {
                Ok(v) => {
                    let f = object_facts(&v, &kind, how.scope, how.monitor, lines);
                    Done::Object(key, f, o.typed_consumers(&v))
                }
                Err(e) => Done::Unread(format!("{key}: {e}; skipped")),
            }
        }
    };
    let done =
        crate::split::in_halves_owned_by(split, reads, PARALLEL_OBJECTS, Read::weight, |rs| {
            rs.into_iter().map(read).collect::<Vec<_>>()
        });
    for d in done.into_iter().flatten() {
        match d {
            Done::Duplicate(key) => facts.duplicates.push(key),
            Done::Service(f, read_notes, read) => {
                notes.extend(read_notes);
                consumers.extend(read);
                if facts.services.contains_key(&f.name) {
                    facts.duplicates.push(f.name.clone());
                    continue;
                }
                facts.services.insert(f.name.clone(), *f);
            }
            Done::Object(key, o, read) => {
                consumers.extend(read);
                facts.objects.insert(key, o);
            }
            Done::Unread(note) => notes.push(note),
        }
    }
    let mut endpoints = std::mem::take(&mut index.endpoints);
    endpoints.sort();
    endpoints.dedup();
    facts.endpoints = endpoints;
    crate::secret_source::fold(&values, consumers, &mut facts);
    facts.notes = notes;
    facts
}

/// Objects from which a set's objects are read on two threads.
const PARALLEL_OBJECTS: usize = 400;

/// An object that is not a workload, read structurally: monitoring objects as
/// [`crate::monitor`] reads them, the rest line by line (the lines `lines` keeps).
fn object_facts(
    o: &Y,
    kind: &str,
    scope: crate::structure::Scope,
    monitoring: bool,
    lines: Lines,
) -> crate::structure::ObjectFacts {
    if monitoring {
        return crate::monitor::object_facts(o, kind);
    }
    let object_lines = if lines.keeps(scope) {
        crate::structure::kubernetes_lines(o, kind, &|_| false)
    } else {
        BTreeMap::new()
    };
    crate::structure::ObjectFacts {
        kind: kind.to_string(),
        scope,
        lines: std::sync::Arc::new(object_lines),
    }
}

/// Decoded Secret data by (namespace, name, key).
type SecretData = BTreeMap<(String, String, String), Vec<u8>>;

/// ConfigMaps by (namespace, name).
type ConfigData = BTreeMap<(String, String), ConfigMapData>;

/// What a ConfigMap holds: `data` (text, also read as environment) and `binaryData` (bytes,
/// base64 in the manifest; only ever files: the kubelet reads environment from `data`).
#[derive(Debug, Default)]
struct ConfigMapData {
    data: BTreeMap<String, String>,
    binary: BTreeMap<String, Vec<u8>>,
}

/// One workload being read: its pod template, first container, and the set's objects.
struct Workload<'a> {
    w: &'a Y,
    /// The Job spec: the workload's own for a Job, its job template's for a CronJob.
    job: Option<&'a Y>,
    kind: &'a str,
    name: String,
    ns: String,
    pod: &'a Y,
    /// The first container: facts are of it.
    c: &'a Y,
    index: &'a Index<'a>,
    secrets: &'a SecretData,
    configs: &'a ConfigData,
    /// Container ports by name, for probes and Services that name them.
    port_names: BTreeMap<String, u16>,
}

/// What a missing pod template or container reads as.
static NULL: Y = Y::Null;

fn workload(
    w: &Y,
    kind: &str,
    index: &Index<'_>,
    secrets: &SecretData,
    configs: &ConfigData,
    notes: &mut Vec<String>,
    lines: Lines,
) -> ServiceFacts {
    let wname = name(w);
    let wns = ns(w);
    let (job_kind, job) = match kind {
        "Job" => (Some(JobKind::Job), at(w, &["spec"])),
        "CronJob" => (
            Some(JobKind::Cronjob),
            at(w, &["spec", "jobTemplate", "spec"]),
        ),
        _ => (None, None),
    };
    let pod = match (kind, job) {
        ("Pod", _) => Some(w),
        (_, Some(j)) => at(j, &["template"]),
        (_, None) => at(w, &["spec", "template"]),
    }
    .unwrap_or(&NULL);
    let containers: Vec<&Y> = seq(pod, &["spec", "containers"]).collect();
    if containers.len() > 1 {
        notes.push(format!(
            "{kind} {wns}/{wname}: {} containers; the first is the service, the others its sidecars",
            containers.len()
        ));
    }
    let c = containers.first().copied().unwrap_or(&NULL);
    let mut f = ServiceFacts {
        name: wname.clone(),
        workload: kind.to_string(),
        job_kind,
        namespace: Some(wns.clone()),
        image: text(c, &["image"]).map(String::from),
        command: container_strings(c, "command"),
        args: container_strings(c, "args"),
        ..Default::default()
    };
    let port_names = container_ports(c, &mut f);
    let wl = Workload {
        w,
        job,
        kind,
        name: wname,
        ns: wns,
        pod,
        c,
        index,
        secrets,
        configs,
        port_names,
    };
    let selecting = wl.service_ports(&mut f);
    wl.exposure(&selecting, &mut f);
    f.env = wl.environment(wl.c);
    wl.mounts(&mut f, notes);
    f.resources = resources(wl.c);
    wl.scaling(&mut f);
    wl.probes(&mut f);
    wl.security(&mut f);
    wl.lifecycle(&mut f);
    wl.init_containers(&mut f);
    wl.other_containers(&mut f);
    if lines == Lines::All {
        let main = main_container_index(wl.pod);
        let waits = wait_container_indexes(wl.pod);
        f.fields = std::sync::Arc::new(crate::structure::kubernetes_lines(w, kind, &|p| {
            read_by_facts(kind, &main, &waits, p)
        }));
    }
    f
}

/// Whether a workload's field at `path` is read into its service facts (so its structural line
/// would only repeat a difference they show). Fields of the pod template outside these lists
/// are compared structurally: scheduling, annotations, the service account, pod security
/// settings, volumes, image pull policy, ... `main` is the first container's index as
/// [`crate::structure::flatten`] spells it (its name, or `0`); `waits` the init containers
/// read as waits for a job (only their command is read).
fn read_by_facts(kind: &str, main: &str, waits: &[String], path: &str) -> bool {
    if matches!(path, "kind" | "metadata.name" | "metadata.namespace") {
        return true;
    }
    let spec = match kind {
        "CronJob" => "spec.jobTemplate.spec.template.spec",
        "Pod" => "spec",
        _ => "spec.template.spec",
    };
    let Some(rest) = path.strip_prefix(spec).and_then(|r| r.strip_prefix('.')) else {
        return workload_field_read(kind, path);
    };
    for list in ["containers[", "initContainers["] {
        let Some(item) = rest.strip_prefix(list) else {
            continue;
        };
        let Some((index, field)) = item.split_once("].") else {
            return false;
        };
        let field = crate::structure::unindexed(field);
        let init = list == "initContainers[";
        // A wait container's job is read from its command, the rest of it is not.
        if init && waits.iter().any(|w| w == index) {
            return false;
        }
        let is_main = !init && index == main;
        if STEP_READ.contains(&field.as_str()) || (!is_main && field == "name") {
            return true;
        }
        if init {
            return field == "restartPolicy";
        }
        return is_main && main_container_read(&field);
    }
    rest == "restartPolicy"
}

/// Fields of every container the facts read (the main one's, a step's, a sidecar's), with list
/// indexes taken out.
const STEP_READ: [&str; 17] = [
    "image",
    "command",
    "command[]",
    "args",
    "args[]",
    "env[].name",
    "env[].value",
    "env[].valueFrom.secretKeyRef.name",
    "env[].valueFrom.secretKeyRef.key",
    "env[].valueFrom.configMapKeyRef.name",
    "env[].valueFrom.configMapKeyRef.key",
    "env[].valueFrom.fieldRef.fieldPath",
    "env[].valueFrom.resourceFieldRef.resource",
    "envFrom[].prefix",
    "envFrom[].secretRef.name",
    "envFrom[].configMapRef.name",
    "env",
];

/// Fields of the main container its service facts read besides [`STEP_READ`].
fn main_container_read(field: &str) -> bool {
    // A port's number and name, and a mount's options, stay structural too: a Service's
    // port can stand for a container port that goes, and a file mount has no options fact.
    const READ: [&str; 17] = [
        "volumeMounts[].name",
        "volumeMounts[].mountPath",
        "resources.requests.cpu",
        "resources.requests.memory",
        "resources.limits.cpu",
        "resources.limits.memory",
        "securityContext.runAsUser",
        "securityContext.runAsGroup",
        "securityContext.readOnlyRootFilesystem",
        "securityContext.allowPrivilegeEscalation",
        "securityContext.capabilities.drop[]",
        "securityContext.capabilities.add[]",
        "securityContext.privileged",
        "securityContext.seccompProfile.type",
        "securityContext.seccompProfile.localhostProfile",
        "ports[].hostPort",
        "ports[].hostIP",
    ];
    const PROBE: [&str; 9] = [
        "httpGet.path",
        "httpGet.port",
        "tcpSocket.port",
        "grpc.port",
        "exec.command[]",
        "periodSeconds",
        "timeoutSeconds",
        "failureThreshold",
        "initialDelaySeconds",
    ];
    READ.contains(&field)
        || ["livenessProbe.", "readinessProbe.", "startupProbe."]
            .iter()
            .any(|p| field.strip_prefix(p).is_some_and(|f| PROBE.contains(&f)))
}

/// The workload's own settings read into facts: replicas, a job's and a cron job's settings,
/// claim templates' sizes.
fn workload_field_read(kind: &str, path: &str) -> bool {
    let job = match kind {
        "CronJob" => "spec.jobTemplate.spec.",
        "Job" => "spec.",
        _ => "",
    };
    if !job.is_empty()
        && path.strip_prefix(job).is_some_and(|f| {
            matches!(
                f,
                "backoffLimit"
                    | "activeDeadlineSeconds"
                    | "ttlSecondsAfterFinished"
                    | "parallelism"
                    | "completions"
            )
        })
    {
        return true;
    }
    if kind == "CronJob"
        && matches!(
            path,
            "spec.schedule"
                | "spec.concurrencyPolicy"
                | "spec.timeZone"
                | "spec.successfulJobsHistoryLimit"
                | "spec.failedJobsHistoryLimit"
        )
    {
        return true;
    }
    path == "spec.replicas"
        || (path.starts_with("spec.volumeClaimTemplates[")
            && (path.ends_with("].spec.resources.requests.storage")
                || path.ends_with("].spec.storageClassName")
                || path.contains("].spec.accessModes[")))
}

/// The indexes of init containers that wait for a job, as structural paths spell them.
fn wait_container_indexes(pod: &Y) -> Vec<String> {
    let list: Vec<&Y> = seq(pod, &["spec", "initContainers"]).collect();
    let names: Vec<Option<&str>> = list.iter().map(|c| text(c, &["name"])).collect();
    let mut distinct: Vec<&str> = names.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let by_name = distinct.len() == names.len();
    list.iter()
        .enumerate()
        .filter(|(_, c)| waited_job(c).is_some())
        .map(|(i, _)| match names[i] {
            Some(n) if by_name => n.to_string(),
            _ => i.to_string(),
        })
        .collect()
}

/// The first container's index in structural paths: its name when every container has a
/// distinct one (as [`crate::structure::flatten`] indexes named items), else `0`.
fn main_container_index(pod: &Y) -> String {
    let names: Vec<Option<&str>> = seq(pod, &["spec", "containers"])
        .map(|c| text(c, &["name"]))
        .collect();
    let mut distinct: Vec<&str> = names.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    match names.first() {
        Some(Some(n)) if distinct.len() == names.len() => (*n).to_string(),
        _ => "0".to_string(),
    }
}

/// A ConfigMap or Secret volume's `items` (key to file path), when it lists them.
fn key_paths(items: Option<&Y>) -> Option<BTreeMap<String, String>> {
    let list = items?.as_sequence()?;
    Some(
        list.iter()
            .filter_map(|i| {
                Some((
                    text(i, &["key"])?.to_string(),
                    text(i, &["path"])?.to_string(),
                ))
            })
            .collect(),
    )
}

/// The file a key of a ConfigMap or Secret volume becomes: its own name, or the path `items`
/// gives it (`None`: not projected, as a key `items` leaves out).
fn volume_file(key: &str, items: Option<&BTreeMap<String, String>>) -> Option<String> {
    match items {
        None => Some(key.to_string()),
        Some(m) => m.get(key).cloned(),
    }
}

/// A pod's restart policy in the model's words (`Always` is the default of pods).
fn restart_policy(pod: &Y) -> String {
    match text(pod, &["spec", "restartPolicy"]) {
        Some("Never") => "no".into(),
        Some("OnFailure") => "on-failure".into(),
        Some("Always") | None => "always".into(),
        Some(other) => other.to_string(),
    }
}

/// The Job a container waits for, when it is a wait container (`kubectl wait
/// --for=condition=complete ... job/<name>`, as envc writes for dependents of a job).
fn waited_job(c: &Y) -> Option<String> {
    let words: Vec<String> = strings(c, &["command"])
        .into_iter()
        .chain(strings(c, &["args"]))
        .flatten()
        .collect();
    if !words.iter().any(|w| w == "wait")
        || !words
            .iter()
            .any(|w| w.to_ascii_lowercase().contains("condition=complete"))
    {
        return None;
    }
    words.iter().find_map(|w| {
        ["job/", "jobs/", "job.batch/", "jobs.batch/"]
            .iter()
            .find_map(|p| w.strip_prefix(p))
            .filter(|n| !n.is_empty())
            .map(String::from)
    })
}

/// The container's ports into `f`; returns their numbers by name.
fn container_ports(c: &Y, f: &mut ServiceFacts) -> BTreeMap<String, u16> {
    let mut port_names = BTreeMap::new();
    for p in seq(c, &["ports"]) {
        let Some(n) = num(p, &["containerPort"]).and_then(|n| u16::try_from(n).ok()) else {
            continue;
        };
        let pname = text(p, &["name"]).map(String::from);
        if let Some(pn) = &pname {
            port_names.insert(pn.clone(), n);
        }
        // A host port publishes the container port on its node's address, as Compose's
        // published ports do on the host's.
        let host_port = num(p, &["hostPort"]).and_then(|n| u16::try_from(n).ok());
        let host_ip = text(p, &["hostIP"])
            .filter(|h| !h.is_empty() && *h != "0.0.0.0")
            .map(String::from);
        f.ports.insert(
            Port::new(n, text(p, &["protocol"]).unwrap_or("TCP")),
            PortFacts {
                name: pname,
                host_port,
                host_ip,
                ..Default::default()
            },
        );
    }
    port_names
}

/// Requests and limits of a container, normalised.
fn resources(c: &Y) -> ResourceFacts {
    let r = at(c, &["resources"]).unwrap_or(&NULL);
    let get = |kind: &str, res: &str| at(r, &[kind, res]).and_then(scalar);
    ResourceFacts {
        requests_cpu: get("requests", "cpu").map(|s| cpu(&s)),
        requests_memory: get("requests", "memory").map(|s| memory(&s)),
        limits_cpu: get("limits", "cpu").map(|s| cpu(&s)),
        limits_memory: get("limits", "memory").map(|s| memory(&s)),
    }
}

impl Workload<'_> {
    /// A port given by number or by the container port's name.
    fn resolve_port(&self, v: &Y) -> Option<u16> {
        match v {
            Y::Number(n) => n.as_u64().and_then(|x| u16::try_from(x).ok()),
            Y::String(s) => self.port_names.get(s).copied().or_else(|| s.parse().ok()),
            _ => None,
        }
    }

    /// Services selecting the pods: Service ports and NodePorts. Returns their names.
    fn service_ports(&self, f: &mut ServiceFacts) -> Vec<String> {
        let pod_labels = labels(self.pod, &["metadata", "labels"]);
        let mut selecting: Vec<String> = Vec::new();
        let candidates = self
            .index
            .services
            .get(&self.ns)
            .map(|n| n.selecting(&pod_labels))
            .unwrap_or_default();
        for s in candidates {
            selecting.push(s.name.clone());
            let headless = s.headless;
            for sp in &s.ports {
                // `targetPort: 0` on a headless Service is the placeholder converters write
                // (kompose's `headless` port 55555) for a service without ports: not a port.
                let target_value = sp.target_port.as_ref().and_then(|v| self.resolve_port(v));
                if headless && target_value == Some(0) {
                    continue;
                }
                // Without a target port, the Service's port is the pods' (Kubernetes' default).
                let target = target_value
                    .filter(|t| *t != 0)
                    .or_else(|| sp.port.as_ref().and_then(|v| self.resolve_port(v)));
                let Some(target) = target else { continue };
                let proto = sp.protocol.as_deref().unwrap_or("TCP");
                let entry = f.ports.entry(Port::new(target, proto)).or_default();
                if !headless {
                    entry.service = sp
                        .port
                        .as_ref()
                        .and_then(number)
                        .and_then(|n| u16::try_from(n).ok());
                    if let Some(np) = sp
                        .node_port
                        .as_ref()
                        .and_then(number)
                        .and_then(|n| u16::try_from(n).ok())
                    {
                        entry.node_port = Some(np);
                    }
                }
            }
        }
        selecting
    }

    /// Routes (Ingresses, HTTPRoutes) to the Services selecting the pods.
    fn exposure(&self, selecting: &[String], f: &mut ServiceFacts) {
        let Some(routes) = self.index.routes.get(&self.ns) else {
            return;
        };
        let services = self.index.services.get(&self.ns);
        f.exposure
            .extend(routes.exposure(selecting, |name| services.and_then(|s| s.named(name))));
    }

    /// A secret's value as its hash (of the reference, when the Secret is not in the set).
    fn secret_value(&self, sname: &str, key: &str) -> Value {
        match self
            .secrets
            .get(&(self.ns.clone(), sname.to_string(), key.to_string()))
        {
            Some(v) => Value::secret(secret_hash(v)),
            None => Value::secret(secret_hash(format!("ref:{sname}/{key}").as_bytes())),
        }
    }

    /// Environment of container `c`, with `envFrom` first and `$(VAR)` expanded as the
    /// kubelet does.
    fn environment(&self, c: &Y) -> BTreeMap<String, Value> {
        let mut known: BTreeMap<String, Value> = BTreeMap::new();
        for ef in seq(c, &["envFrom"]) {
            let prefix = text(ef, &["prefix"]).unwrap_or("");
            if let Some(sn) = text(ef, &["secretRef", "name"]) {
                for (sns, s, k) in self.secrets.keys() {
                    if *sns == self.ns && s == sn {
                        known.insert(format!("{prefix}{k}"), self.secret_value(sn, k));
                    }
                }
            }
            if let Some(cn) = text(ef, &["configMapRef", "name"]) {
                for (k, v) in self
                    .configs
                    .get(&(self.ns.clone(), cn.to_string()))
                    .map(|d| &d.data)
                    .into_iter()
                    .flatten()
                {
                    known.insert(format!("{prefix}{k}"), Value::Text(v.clone()));
                }
            }
        }
        for e in seq(c, &["env"]) {
            let Some(ename) = text(e, &["name"]) else {
                continue;
            };
            let value = self.env_value(e, &known);
            known.insert(ename.to_string(), value);
        }
        let mut env = BTreeMap::new();
        for (k, v) in known {
            // envc's own helper variables carry secrets into composite values; they are an
            // implementation detail, not part of what the service reads.
            if k.starts_with(SECRET_VAR_PREFIX) {
                continue;
            }
            let v = match v {
                Value::Text(t) if credential_value(&k, &t) => {
                    Value::secret(secret_hash(t.as_bytes()))
                }
                other => other,
            };
            env.insert(k, v);
        }
        env
    }

    /// One `env` entry's value: a literal (expanded), a Secret or ConfigMap key, or a field.
    fn env_value(&self, e: &Y, known: &BTreeMap<String, Value>) -> Value {
        if let Some(v) = at(e, &["value"]).and_then(scalar) {
            return expand(&v, known);
        }
        let refd = |r: &Y| {
            (
                text(r, &["name"]).unwrap_or_default().to_string(),
                text(r, &["key"]).unwrap_or_default().to_string(),
            )
        };
        if let Some(r) = at(e, &["valueFrom", "secretKeyRef"]) {
            let (name, key) = refd(r);
            self.secret_value(&name, &key)
        } else if let Some(r) = at(e, &["valueFrom", "configMapKeyRef"]) {
            let (name, key) = refd(r);
            let v = self
                .configs
                .get(&(self.ns.clone(), name.clone()))
                .and_then(|d| d.data.get(&key))
                .cloned()
                .unwrap_or_else(|| format!("<configmap:{name}/{key}>"));
            Value::Text(v)
        } else if let Some(p) = text(e, &["valueFrom", "fieldRef", "fieldPath"]) {
            Value::Text(format!("<field:{p}>"))
        } else if let Some(p) = text(e, &["valueFrom", "resourceFieldRef", "resource"]) {
            Value::Text(format!("<resource:{p}>"))
        } else {
            Value::Text(String::new())
        }
    }

    /// Volume mounts: claims and claim templates, `emptyDir`, `hostPath`, and ConfigMap and
    /// Secret volumes as files.
    fn mounts(&self, f: &mut ServiceFacts, notes: &mut Vec<String>) {
        let volumes: BTreeMap<String, &Y> = seq(self.pod, &["spec", "volumes"])
            .filter_map(|v| Some((text(v, &["name"])?.to_string(), v)))
            .collect();
        let claim_templates: BTreeMap<String, &Y> = seq(self.w, &["spec", "volumeClaimTemplates"])
            .filter_map(|v| Some((text(v, &["metadata", "name"])?.to_string(), v)))
            .collect();
        let storage =
            |claim: &Y| text(claim, &["spec", "resources", "requests", "storage"]).map(memory);
        // A claim's storage class and access modes are facts of the volume mounted from it.
        let claimed = |claim: Option<&Y>, size| {
            let access = claim
                .and_then(|c| strings(c, &["spec", "accessModes"]))
                .filter(|a| !a.is_empty())
                .map(|mut a| {
                    a.sort();
                    a.dedup();
                    a.join(",")
                });
            VolumeFacts {
                persistent: true,
                size,
                class: claim
                    .and_then(|c| text(c, &["spec", "storageClassName"]))
                    .map(String::from),
                access,
                ..Default::default()
            }
        };
        for m in seq(self.c, &["volumeMounts"]) {
            let (Some(vname), Some(path)) = (text(m, &["name"]), text(m, &["mountPath"])) else {
                continue;
            };
            let sub = text(m, &["subPath"]);
            let volume = |persistent, size| VolumeFacts {
                persistent,
                size,
                ..Default::default()
            };
            if let Some(t) = claim_templates.get(vname) {
                f.volumes
                    .insert(path.to_string(), claimed(Some(*t), storage(t)));
                continue;
            }
            let Some(v) = volumes.get(vname) else {
                continue;
            };
            if let Some(claim) = text(v, &["persistentVolumeClaim", "claimName"]) {
                let pvc = self
                    .index
                    .claims
                    .get(&(self.ns.clone(), claim.to_string()))
                    .copied();
                let size = pvc.and_then(storage);
                f.volumes.insert(path.to_string(), claimed(pvc, size));
            } else if at(v, &["emptyDir"]).is_some() {
                let size = text(v, &["emptyDir", "sizeLimit"]).map(memory);
                f.volumes.insert(path.to_string(), volume(false, size));
            } else if let Some(hp) = text(v, &["hostPath", "path"]) {
                f.volumes.insert(
                    path.to_string(),
                    volume(true, Some(format!("hostPath {hp}"))),
                );
            } else if let Some(cm) = text(v, &["configMap", "name"]) {
                let items = key_paths(at(v, &["configMap", "items"]));
                self.config_files(cm, path, sub, items.as_ref(), f, notes);
            } else if let Some(sec) = text(v, &["secret", "secretName"]) {
                let items = key_paths(at(v, &["secret", "items"]));
                self.secret_files(sec, path, sub, items.as_ref(), f);
            } else if v.as_mapping().is_some_and(|m| m.len() == 1) {
                // A volume with a name and no source: the API server makes it an `emptyDir`.
                f.volumes.insert(path.to_string(), volume(false, None));
            }
            if let Some(vf) = f.volumes.get_mut(path) {
                let read_only = at(m, &["readOnly"]).and_then(Y::as_bool).unwrap_or(false)
                    || at(v, &["persistentVolumeClaim", "readOnly"])
                        .and_then(Y::as_bool)
                        .unwrap_or(false);
                vf.mount = mount_options(read_only, sub);
            }
        }
    }

    /// A ConfigMap volume's files (one key with `subPath`, else every key under the path).
    fn config_files(
        &self,
        cm: &str,
        path: &str,
        sub: Option<&str>,
        items: Option<&BTreeMap<String, String>>,
        f: &mut ServiceFacts,
        notes: &mut Vec<String>,
    ) {
        let data = self.configs.get(&(self.ns.clone(), cm.to_string()));
        // Every key is a file, `data`'s as text and `binaryData`'s as the bytes it decodes to.
        let keys = data.into_iter().flat_map(|d| {
            d.data
                .iter()
                .map(|(k, c)| (k, c.as_bytes()))
                .chain(d.binary.iter().map(|(k, b)| (k, b.as_slice())))
        });
        let files: Vec<(String, &[u8])> = keys
            .filter_map(|(k, c)| {
                let file = volume_file(k, items)?;
                match sub {
                    Some(s) if s == file => Some((path.to_string(), c)),
                    Some(_) => None,
                    None => Some((format!("{}/{file}", path.trim_end_matches('/')), c)),
                }
            })
            .collect();
        let items: Vec<(String, &[u8])> = match (sub, files.is_empty()) {
            (Some(_), true) => vec![(path.to_string(), &[][..])],
            _ => files,
        };
        if data.is_none() {
            notes.push(format!(
                "{} {}/{}: ConfigMap {cm} is not in the set; its files are unknown",
                self.kind, self.ns, self.name
            ));
        }
        for (p, content) in items {
            f.files.insert(p, FileFacts::from_bytes(content));
        }
    }

    /// A Secret volume's files, as hashes only.
    fn secret_files(
        &self,
        sec: &str,
        path: &str,
        sub: Option<&str>,
        items: Option<&BTreeMap<String, String>>,
        f: &mut ServiceFacts,
    ) {
        for ((sns, s, k), val) in self.secrets {
            let Some(file) = volume_file(k, items) else {
                continue;
            };
            if *sns == self.ns && s == sec && sub.is_none_or(|x| x == file) {
                let p = if sub.is_some() {
                    path.to_string()
                } else {
                    format!("{}/{file}", path.trim_end_matches('/'))
                };
                f.files.insert(p, FileFacts::opaque(val));
            }
        }
    }

    /// Replicas and autoscaling (an HPA's minimum stands for unset replicas); a job's replicas
    /// are its completions.
    fn scaling(&self, f: &mut ServiceFacts) {
        if let Some(job) = self.job {
            f.replicas = Some(num(job, &["completions"]).unwrap_or(1) as u32);
            return;
        }
        let hpa = self.index.autoscalers.get(&(
            self.ns.clone(),
            self.kind.to_string(),
            self.name.clone(),
        ));
        if let Some(h) = hpa {
            let min = num(h, &["spec", "minReplicas"]).unwrap_or(1);
            let max = num(h, &["spec", "maxReplicas"]).unwrap_or(min);
            let mut targets: Vec<String> = seq(h, &["spec", "metrics"])
                .filter_map(|m| {
                    let n = text(m, &["resource", "name"])?;
                    let u = num(m, &["resource", "target", "averageUtilization"])?;
                    Some(format!("{n} {u}%"))
                })
                .collect();
            targets.sort();
            f.autoscaling = Some(format!("{min}-{max} on {}", targets.join(", ")));
            f.replicas = num(self.w, &["spec", "replicas"])
                .map(|n| n as u32)
                .or(Some(min as u32));
        } else if self.kind != "DaemonSet" {
            f.replicas = Some(num(self.w, &["spec", "replicas"]).unwrap_or(1) as u32);
        }
    }

    /// Probes, with the kubelet's defaults.
    fn probes(&self, f: &mut ServiceFacts) {
        for (key, field) in [
            (ProbeKind::Liveness, "livenessProbe"),
            (ProbeKind::Readiness, "readinessProbe"),
            (ProbeKind::Startup, "startupProbe"),
        ] {
            let Some(p) = at(self.c, &[field]) else {
                continue;
            };
            let port = |v: Option<&Y>| {
                v.and_then(|v| self.resolve_port(v))
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            };
            let (kind, target) = if let Some(h) = at(p, &["httpGet"]) {
                let path = text(h, &["path"]).unwrap_or("/");
                ("http", format!(":{}{path}", port(at(h, &["port"]))))
            } else if let Some(t) = at(p, &["tcpSocket"]) {
                ("tcp", format!(":{}", port(at(t, &["port"]))))
            } else if let Some(g) = at(p, &["grpc"]) {
                ("grpc", format!(":{}", num(g, &["port"]).unwrap_or(0)))
            } else if let Some(cmd) = strings(p, &["exec", "command"]) {
                ("exec", exec_target(&cmd))
            } else {
                ("unknown", String::new())
            };
            let secs = |k: &str, default: u32| num(p, &[k]).map_or(default, |n| n as u32);
            f.probes.insert(
                key,
                ProbeFacts {
                    kind: kind.to_string(),
                    target,
                    period: secs("periodSeconds", DEFAULT_PERIOD),
                    timeout: secs("timeoutSeconds", DEFAULT_TIMEOUT),
                    failure_threshold: secs("failureThreshold", DEFAULT_FAILURES),
                    initial_delay: secs("initialDelaySeconds", 0),
                },
            );
        }
    }

    /// Security: the container's settings override the pod's.
    fn security(&self, f: &mut ServiceFacts) {
        let pick = |k: &str| {
            at(self.c, &["securityContext", k])
                .or_else(|| at(self.pod, &["spec", "securityContext", k]))
        };
        let user = pick("runAsUser").and_then(scalar);
        let group = pick("runAsGroup").and_then(scalar);
        f.security.user = match (user, group) {
            (Some(u), Some(g)) => Some(format!("{u}:{g}")),
            (Some(u), None) => Some(u),
            _ => None,
        };
        f.security.read_only_root = pick("readOnlyRootFilesystem").and_then(Y::as_bool);
        f.security.privilege_escalation = pick("allowPrivilegeEscalation").and_then(Y::as_bool);
        let caps =
            |k: &str| strings(self.c, &["securityContext", "capabilities", k]).unwrap_or_default();
        f.security.cap_drop = capabilities(&caps("drop"));
        f.security.cap_add = capabilities(&caps("add"));
        // `privileged: false` is the default written out: the same as leaving it unset.
        f.security.privileged = at(self.c, &["securityContext", "privileged"])
            .and_then(Y::as_bool)
            .filter(|p| *p);
        f.security.seccomp = pick("seccompProfile").and_then(|p| {
            Some(match text(p, &["type"])? {
                "RuntimeDefault" => "runtime-default".to_string(),
                "Unconfined" => "unconfined".to_string(),
                "Localhost" => format!(
                    "localhost {}",
                    text(p, &["localhostProfile"]).unwrap_or_default()
                ),
                other => other.to_ascii_lowercase(),
            })
        });
    }

    /// Restart policy, job settings (Kubernetes' defaults applied), a Helm hook, and a cron
    /// job's schedule.
    fn lifecycle(&self, f: &mut ServiceFacts) {
        f.restart = Some(restart_policy(self.pod));
        let Some(job) = self.job else { return };
        let secs = |k: &str| num(job, &[k]).and_then(|n| u32::try_from(n).ok());
        let hook = text(self.w, &["metadata", "annotations", "helm.sh/hook"]).unwrap_or("");
        f.job = Some(JobFacts {
            // The Job controller's default.
            retries: Some(secs("backoffLimit").unwrap_or(6)),
            deadline: secs("activeDeadlineSeconds"),
            ttl: secs("ttlSecondsAfterFinished"),
            parallelism: secs("parallelism"),
            before: hook
                .split(',')
                .any(|h| matches!(h.trim(), "pre-install" | "pre-upgrade")),
        });
        if f.job_kind == Some(JobKind::Cronjob) {
            let spec = at(self.w, &["spec"]).unwrap_or(&Y::Null);
            let count = |k: &str, default| num(spec, &[k]).map_or(default, |n| n as u32);
            f.schedule = Some(ScheduleFacts {
                cron: text(spec, &["schedule"]).map(String::from),
                concurrency: Some(
                    text(spec, &["concurrencyPolicy"])
                        .unwrap_or("Allow")
                        .to_ascii_lowercase(),
                ),
                time_zone: text(spec, &["timeZone"]).map(String::from),
                successful_history: Some(count("successfulJobsHistoryLimit", 3)),
                failed_history: Some(count("failedJobsHistoryLimit", 1)),
            });
        }
    }

    /// Containers besides the first: sidecars, as a multi-container pod runs them.
    fn other_containers(&self, f: &mut ServiceFacts) {
        for c in seq(self.pod, &["spec", "containers"]).skip(1) {
            let cname = text(c, &["name"]).unwrap_or_default().to_string();
            let step = StepFacts {
                image: text(c, &["image"]).map(String::from),
                command: container_strings(c, "command"),
                args: container_strings(c, "args"),
                env: self.environment(c),
            };
            f.sidecars.insert(cname, step);
        }
    }

    /// Init containers: wait containers become dependencies on the Job they wait for, native
    /// sidecars (`restartPolicy: Always`) sidecars, the rest init steps in order.
    fn init_containers(&self, f: &mut ServiceFacts) {
        for c in seq(self.pod, &["spec", "initContainers"]) {
            if let Some(job) = waited_job(c) {
                f.depends_on.insert(job, "completed".into());
                continue;
            }
            let cname = text(c, &["name"]).unwrap_or_default().to_string();
            let step = StepFacts {
                image: text(c, &["image"]).map(String::from),
                command: container_strings(c, "command"),
                args: container_strings(c, "args"),
                env: self.environment(c),
            };
            if text(c, &["restartPolicy"]) == Some("Always") {
                f.sidecars.insert(cname, step);
            } else {
                f.init.insert(cname, step);
            }
        }
    }
}

/// Expands `$(VAR)` with variables defined before, as the kubelet does (`$$` is a literal `$`;
/// unknown variables stay as written).
/// A container's `command` or `args` as the container gets them: Kubernetes reduces `$$` to
/// `$` there (the escape of `$(VAR)`), so a Compose `$$HOME` and a Kubernetes `$$HOME` are the
/// same `$HOME`.
fn container_strings(c: &Y, key: &str) -> Option<Vec<String>> {
    strings(c, &[key]).map(|l| l.iter().map(|a| unescape_dollars(a)).collect())
}

/// `$$` read as `$`, left to right (`$$$$` is `$$`).
fn unescape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && chars.peek() == Some(&'$') {
            chars.next();
        }
    }
    out
}

fn expand(s: &str, known: &BTreeMap<String, Value>) -> Value {
    let mut parts: Vec<Part> = Vec::new();
    let mut textbuf = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            if b[i + 1] == b'$' {
                textbuf.push('$');
                i += 2;
                continue;
            }
            if b[i + 1] == b'('
                && let Some(end) = s[i + 2..].find(')')
            {
                let var = &s[i + 2..i + 2 + end];
                match known.get(var) {
                    Some(Value::Text(t)) => textbuf.push_str(t),
                    Some(Value::Parts(p)) => {
                        for part in p {
                            match part {
                                Part::Text(t) => textbuf.push_str(t),
                                Part::Secret(h) => {
                                    if !textbuf.is_empty() {
                                        parts.push(Part::Text(std::mem::take(&mut textbuf)));
                                    }
                                    parts.push(Part::Secret(h.clone()));
                                }
                            }
                        }
                    }
                    None => textbuf.push_str(&s[i..i + 3 + end]),
                }
                i += 3 + end;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('$');
        textbuf.push(ch);
        i += ch.len_utf8();
    }
    if parts.is_empty() {
        return Value::Text(textbuf);
    }
    if !textbuf.is_empty() {
        parts.push(Part::Text(textbuf));
    }
    Value::Parts(parts)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn command_dollars_are_read_as_the_container_gets_them() {
        assert_eq!(
            unescape_dollars("echo $$HOME $$$$ $(X)"),
            "echo $HOME $$ $(X)"
        );
    }
    use crate::key::{JobField, Key, ScheduleField, StepField};

    /// A Job, a CronJob and a Deployment with a wait container, a native sidecar and two init
    /// steps, as SPEC10 shapes them.
    pub(crate) const JOBS: &str = r#"apiVersion: v1
kind: Secret
metadata: {name: app-secrets, namespace: shop}
stringData:
  db-password: hunter2
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  labels: {app.kubernetes.io/name: migrate}
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 1800
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels: {app.kubernetes.io/name: migrate}
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
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  failedJobsHistoryLimit: 2
  jobTemplate:
    spec:
      backoffLimit: 3
      completions: 4
      parallelism: 2
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
    metadata:
      labels: {app.kubernetes.io/name: web}
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

    /// Services select pods by every pair of their selector, whichever pair the index files
    /// them under: a broad selector and a narrow one both reach a pod, a selector with one
    /// pair the pod lacks, an empty one and one in another namespace do not; the last Service
    /// selecting a port sets its Service port, and routes follow the Services that select.
    #[test]
    fn services_select_pods_by_their_whole_selector() {
        let mut yaml = String::new();
        for (name, app) in [("a", "a"), ("b", "b")] {
            yaml.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\n\
                 spec:\n  template:\n    metadata:\n      labels: {{app: {app}, tier: web}}\n    spec:\n\
                 \x20     containers:\n      - {{name: {name}, image: x:1, ports: [{{name: http, containerPort: 8080}}]}}\n---\n"
            ));
        }
        for (name, ns, selector, port) in [
            ("broad", "shop", "{tier: web}", 80),
            ("narrow", "shop", "{app: a, tier: web}", 81),
            ("other-tier", "shop", "{app: a, tier: db}", 82),
            ("empty", "shop", "{}", 83),
            ("elsewhere", "other", "{tier: web}", 84),
        ] {
            yaml.push_str(&format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\n\
                 spec: {{selector: {selector}, ports: [{{port: {port}, targetPort: http}}]}}\n---\n"
            ));
        }
        yaml.push_str(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\n\
             spec:\n  rules:\n  - host: shop.test\n    http:\n      paths:\n\
             \x20     - {path: /a, backend: {service: {name: narrow, port: {number: 81}}}}\n\
             \x20     - {path: /all, backend: {service: {name: broad, port: {number: 80}}}}\n\
             \x20     - {path: /db, backend: {service: {name: other-tier, port: {number: 82}}}}\n",
        );
        let facts = extract(&FileSet::from_memory(
            "select",
            [("all.yaml".to_string(), yaml.into_bytes())],
        ));
        let port = |svc: &str| facts.services[svc].ports[&Port::new(8080, "TCP")].service;
        assert_eq!(port("a"), Some(81), "broad, then narrow, select a");
        assert_eq!(port("b"), Some(80), "only broad selects b");
        let routes = |svc: &str| {
            facts.services[svc]
                .exposure
                .iter()
                .map(|(route, r)| {
                    format!(
                        "{route} -> {}:{}",
                        r.service,
                        r.port.as_deref().unwrap_or("?")
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            routes("a"),
            ["shop.test/a -> narrow:81", "shop.test/all -> broad:80"]
        );
        assert_eq!(routes("b"), ["shop.test/all -> broad:80"]);
    }

    fn jobs() -> Facts {
        extract(&FileSet::from_memory(
            "jobs",
            [("jobs.yaml".to_string(), JOBS.as_bytes().to_vec())],
        ))
    }

    #[test]
    fn jobs_and_cron_jobs_are_services_with_their_settings() {
        let f = jobs();
        let m = f.services["migrate"].flatten();
        let get = |m: &crate::facts::Flat, k: Key| m.get(&k).cloned();
        assert_eq!(get(&m, Key::Workload).as_deref(), Some("job"));
        assert_eq!(get(&m, Key::Restart).as_deref(), Some("on-failure"));
        assert_eq!(get(&m, Key::Job(JobField::Retries)).as_deref(), Some("2"));
        assert_eq!(
            get(&m, Key::Job(JobField::Deadline)).as_deref(),
            Some("30m")
        );
        assert_eq!(get(&m, Key::Job(JobField::Ttl)).as_deref(), Some("1d"));
        assert_eq!(
            get(&m, Key::Job(JobField::Run)),
            None,
            "no hook outside Helm"
        );
        assert_eq!(get(&m, Key::Command).as_deref(), Some("shop migrate"));
        assert_eq!(get(&m, Key::Replicas).as_deref(), Some("1"));
        assert!(get(&m, Key::Env("DB_PASSWORD".into())).is_some_and(|v| v.starts_with("<secret:")));
        let r = f.services["report"].flatten();
        assert_eq!(get(&r, Key::Workload).as_deref(), Some("cronjob"));
        assert_eq!(get(&r, Key::Restart).as_deref(), Some("no"));
        assert_eq!(get(&r, Key::Args).as_deref(), Some("report --daily"));
        assert_eq!(get(&r, Key::Replicas).as_deref(), Some("4"), "completions");
        assert_eq!(
            get(&r, Key::Job(JobField::Parallelism)).as_deref(),
            Some("2")
        );
        assert_eq!(get(&r, Key::Job(JobField::Ttl)), None);
        for (field, v) in [
            (ScheduleField::Cron, "0 3 * * *"),
            (ScheduleField::Concurrency, "forbid"),
            (ScheduleField::TimeZone, "Etc/UTC"),
            (ScheduleField::SuccessfulHistory, "3"),
            (ScheduleField::FailedHistory, "2"),
        ] {
            assert_eq!(
                get(&r, Key::Schedule(field)).as_deref(),
                Some(v),
                "{field:?}"
            );
        }
        assert!(!f.helm);
    }

    #[test]
    fn init_containers_are_steps_sidecars_and_waits() {
        let f = jobs();
        let web = &f.services["web"];
        assert_eq!(web.restart.as_deref(), Some("always"));
        assert_eq!(
            web.depends_on,
            BTreeMap::from([("migrate".to_string(), "completed".to_string())]),
            "the wait container is a dependency, not a step"
        );
        assert_eq!(web.init.keys().collect::<Vec<_>>(), ["seed", "warm"]);
        let m = web.flatten();
        let get = |k: Key| m.get(&k).cloned();
        assert_eq!(get(Key::InitOrder).as_deref(), Some("seed, warm"));
        let seed = |field| Key::Init("seed".into(), field);
        assert_eq!(
            get(seed(StepField::Image)).as_deref(),
            Some("shop/api:1.4.0")
        );
        assert_eq!(get(seed(StepField::Command)).as_deref(), Some("shop seed"));
        let pw = get(seed(StepField::Env("DB_PASSWORD".into()))).unwrap_or_default();
        assert_eq!(
            pw,
            format!("<secret:{}>", secret_hash(b"hunter2")),
            "hashed exactly as service env is"
        );
        let proxy = |field| Key::Sidecar("proxy".into(), field);
        assert_eq!(
            get(proxy(StepField::Image)).as_deref(),
            Some("envoyproxy/envoy:v1.31.0")
        );
        assert_eq!(
            get(proxy(StepField::Args)).as_deref(),
            Some("-c /etc/envoy.yaml")
        );
        assert_eq!(
            get(proxy(StepField::Env("UPSTREAM".into()))).as_deref(),
            Some("http://localhost:8080")
        );
        // Not a step: only its structural lines (`fields.`) name it.
        assert!(
            !m.keys()
                .any(|k| k.to_string().contains("wait-for") && !matches!(k, Key::Field(_)))
        );
    }

    #[test]
    fn helm_hooks_run_before_the_release() {
        let hooked = JOBS.replace(
            "  name: migrate\n  namespace: shop\n  labels: {app.kubernetes.io/name: migrate}",
            "  name: migrate\n  namespace: shop\n  labels: {app.kubernetes.io/name: migrate, helm.sh/chart: shop-0.1.0}\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"5\"",
        );
        assert_ne!(hooked, JOBS);
        let f = extract(&FileSet::from_memory(
            "helm",
            [("-".to_string(), hooked.into_bytes())],
        ));
        assert!(f.helm);
        let m = f.services["migrate"].flatten();
        assert_eq!(
            m.get(&Key::Job(JobField::Run)).map(String::as_str),
            Some("before")
        );
    }

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("cGFzc3dvcmQxMjM="),
            Some(b"password123".to_vec())
        );
        assert_eq!(base64_decode("YWRtaW4="), Some(b"admin".to_vec()));
        assert_eq!(base64_decode("YWRtaW4"), Some(b"admin".to_vec()));
        assert_eq!(
            base64_decode("cGFzc3dv\n cmQxMjM="),
            Some(b"password123".to_vec())
        );
        assert_eq!(base64_decode("!!"), None);
    }

    #[test]
    fn expands_like_the_kubelet() {
        let mut known = BTreeMap::new();
        known.insert("PW".to_string(), Value::secret("abc".into()));
        known.insert("HOST".to_string(), Value::Text("db".into()));
        assert_eq!(
            expand("u:$(PW)@$(HOST)/$$(X)$(NOPE)", &known),
            Value::Parts(vec![
                Part::Text("u:".into()),
                Part::Secret("abc".into()),
                Part::Text("@db/$(X)$(NOPE)".into())
            ])
        );
        assert_eq!(expand("a$$$$b", &known), Value::Text("a$$b".into()));
    }

    #[test]
    fn reads_list_dumps_and_skips_non_objects() {
        let dump = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: shop}\n  spec:\n    replicas: 2\n    template:\n      spec:\n        containers:\n        - name: web\n          image: nginx:1.29.3\n          env:\n          - {name: DB_PASSWORD, value: hunter2}\n---\nfoo: bar\n";
        let fs = FileSet::from_memory(
            "dump",
            [("dump.yaml".to_string(), dump.as_bytes().to_vec())],
        );
        let f = extract(&fs);
        let web = &f.services["web"];
        assert_eq!(web.image.as_deref(), Some("nginx:1.29.3"));
        assert_eq!(web.replicas, Some(2));
        assert!(
            !web.env["DB_PASSWORD"].display().contains("hunter2"),
            "literal credentials are hashed"
        );
    }
}
