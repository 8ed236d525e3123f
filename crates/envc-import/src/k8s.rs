//! Kubernetes manifests into a model: each workload (Deployment, StatefulSet, Job, CronJob) a
//! service, with the ports of the Services that select it, its claims' sizes, its ConfigMap
//! volumes as config files, and its Secret references as secrets (their values, when the set
//! holds them, as dev values). A second set (`--prod`) of the same system is read the same way
//! and what it changes becomes a `prod` profile.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envc_diff::docs::{at, scalar, text};
use envc_diff::fileset::FileSet;
use indexmap::IndexMap;
use toml::{Table, Value};
use yaml_serde::Value as Y;

use crate::draft::{Draft, Import, ImportError, Profile, s, strings, table1};
use crate::factor;
use crate::name;
use crate::report::Report;
use crate::secrets::{Secrets, escape};

/// What `envc import k8s` reads.
#[derive(Debug, Clone, Default)]
pub struct K8sOptions {
    /// Manifest files or one folder: the environment (and the k3s mode).
    pub paths: Vec<PathBuf>,
    /// Prod manifests of the same system: what they change is a `prod` profile.
    pub prod: Vec<PathBuf>,
    /// The environment's name (default: the manifests' namespace).
    pub env: Option<String>,
    /// Images to pin, `image -> pinned image`.
    pub pins: Vec<(String, String)>,
    /// Profiles the target project has (`mode -> text`): a `k3s` or `prod` one is added to.
    pub existing_profiles: BTreeMap<String, String>,
}

/// The mode the manifests are imported as.
const MODE: &str = "k3s";

/// Imports a manifest set.
pub fn k8s(opts: &K8sOptions) -> Result<Import, ImportError> {
    let objs = read(&opts.paths)?;
    let namespace = objs
        .iter()
        .find_map(|o| text(o, &["metadata", "namespace"]))
        .map(String::from);
    let env = name::label(
        &opts
            .env
            .clone()
            .or_else(|| namespace.clone())
            .unwrap_or_else(|| "imported".into()),
        63,
    );
    let mut report = Report::default();
    let mut secrets = Secrets::default();
    let dev = Reader::new(&objs, &env, opts, &mut secrets, &mut report).services();
    let pobjs = if opts.prod.is_empty() {
        Vec::new()
    } else {
        read(&opts.prod)?
    };
    let prod = if opts.prod.is_empty() {
        None
    } else {
        let mut reader = Reader::new(&pobjs, &env, opts, &mut secrets, &mut report);
        // Prod tiers carry no secret values: the prod set's secrets are declared without.
        reader.values = false;
        Some(reader.services())
    };
    let mut draft = Draft {
        env: env.clone(),
        description: format!("imported from {} by `envc import k8s`", shown(&opts.paths)),
        ..Default::default()
    };
    draft.namespaces = namespaces(&dev, &objs, namespace.as_deref(), &env);
    if let Some(h) = &dev.ingress_host {
        draft.settings.insert("ingress_host".into(), s(h.clone()));
    }
    if namespace.is_none() {
        report.push("*", "namespace", format!("the manifests name no namespace (`default`); the model gives the environment its own, `{env}`"));
    }
    if !objs
        .iter()
        .any(|o| text(o, &["kind"]) == Some("NetworkPolicy"))
    {
        // The manifests restrict no traffic; neither does the import.
        draft.settings.insert("network_policy".into(), s("none"));
    }
    let mut k3s_services = Table::new();
    let mut prod_services = Table::new();
    for (svc, c) in &dev.services {
        draft.services.insert(svc.clone(), c.table.clone());
        if !c.mode.is_empty() {
            k3s_services.insert(svc.clone(), Value::Table(c.mode.clone()));
        }
        if let Some(p) = prod.as_ref().and_then(|p| p.services.get(svc)) {
            let (o, lost) = factor::overlay(&c.table, &align(&c.table, &p.table), "");
            for l in lost {
                report.push(
                    svc,
                    "",
                    format!("`{l}` is not in the prod manifests: a profile cannot remove a key"),
                );
            }
            if !o.is_empty() {
                prod_services.insert(svc.clone(), Value::Table(o));
            }
        } else if prod.is_some() {
            report.push(
                svc,
                "",
                "not in the prod manifests: the prod profile disables it",
            );
            prod_services.insert(svc.clone(), table1("enabled", Value::Boolean(false)));
        }
    }
    for (svc, c) in prod.iter().flat_map(|p| p.services.iter()) {
        let image = c
            .table
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if dev.services.contains_key(svc)
            && envc_core::validate::image_pin(image) == envc_core::validate::Pin::Floating
        {
            report.push(svc, "image", format!("`{image}` floats, which the prod tier refuses (E-unpinned-image): pin a version with --pin {image}=<image:version>"));
        }
    }
    for p in prod.iter().flat_map(|p| p.services.keys()) {
        if !dev.services.contains_key(p) {
            report.push(
                p,
                "",
                "only in the prod manifests: not imported (the environment is the first set)",
            );
        }
    }
    draft.files = dev.files.clone();
    let mut literals = crate::secrets::literals(draft.services.values());
    literals.extend(draft.files.iter().map(|(_, c)| c.clone()));
    secrets.drop_colliding(&literals, &mut report);
    draft.secrets = secrets.found.clone();
    inherent(&mut report);
    if prod.is_some() {
        report.push("PodDisruptionBudget/*", "", "the prod tier gives every service that can run more than one replica a PodDisruptionBudget");
    }
    for o in objs.iter().chain(&pobjs) {
        let kind = text(o, &["kind"]).unwrap_or_default();
        if !KNOWN.contains(&kind) {
            report.push(
                &format!("{kind}/*"),
                "",
                format!("{kind} objects have no counterpart in the model: not carried over"),
            );
        }
    }
    let mut profiles = Vec::new();
    let mut k3s = Table::new();
    if !k3s_services.is_empty() {
        k3s.insert("services".into(), Value::Table(k3s_services));
    }
    profiles.push(Profile {
        mode: MODE.into(),
        settings: settings(
            "Local K3s cluster (dev tier), as the imported manifests ran",
            "dev",
        ),
        overlay: k3s,
    });
    if prod.is_some() {
        let mut po = Table::new();
        if !prod_services.is_empty() {
            po.insert("services".into(), Value::Table(prod_services));
        }
        profiles.push(Profile {
            mode: "prod".into(),
            settings: settings(
                "Kubernetes (prod tier), as the imported prod manifests ran",
                "prod",
            ),
            overlay: po,
        });
    }
    crate::compose::finish(
        draft,
        profiles,
        report,
        opts.existing_profiles.clone(),
        &shown(&opts.paths),
    )
}

/// `[namespaces]`: the workloads' namespaces, the first the default (`app`), each at the
/// lowest Pod Security level the manifests' pods pass, the first with the ResourceQuota.
/// The model's namespaces: those the manifests name, the first as `app`. Manifests that name
/// none go to `default`, which envc would relabel (Pod Security) as its own: the environment
/// gets a namespace of its own instead.
fn namespaces(dev: &Read, objs: &[Y], named: Option<&str>, env: &str) -> Table {
    let mut ns = Table::new();
    let first = match named {
        Some(_) => dev.namespaces.keys().next().map_or(env, String::as_str),
        None => env,
    };
    ns.insert("name".into(), s(first));
    let relaxed = dev.services.values().any(|c| {
        let sec = c.table.get("security");
        let flag = |k: &str| sec.and_then(|x| x.get(k)).and_then(Value::as_bool);
        flag("run_as_non_root") == Some(false) || flag("allow_privilege_escalation") == Some(true)
    });
    if relaxed {
        // The restricted level refuses what the manifests allow (root, privilege escalation).
        ns.insert("pod_security".into(), s("baseline"));
    }
    if let Some(q) = quota(objs) {
        ns.insert("quota".into(), Value::Table(q));
    }
    let level = ns.get("pod_security").cloned();
    let mut out = Table::new();
    out.insert("app".into(), Value::Table(ns));
    for (n, k) in dev.namespaces.iter().skip(1) {
        let mut t = Table::new();
        t.insert("name".into(), s(n.clone()));
        if let Some(l) = &level {
            t.insert("pod_security".into(), l.clone());
        }
        out.insert(k.clone(), Value::Table(t));
    }
    out
}

/// `later`'s volumes, files and ports named as `base` names the same path or container port,
/// so an overlay changes them rather than adding a second mount of one path (and its probes
/// name the ports so).
fn align(base: &Table, later: &Table) -> Table {
    let mut out = later.clone();
    let mut port_names: BTreeMap<String, String> = BTreeMap::new();
    for (section, by) in [
        ("volumes", "path"),
        ("files", "path"),
        ("ports", "container"),
    ] {
        let (Some(Value::Table(b)), Some(Value::Table(l))) =
            (base.get(section), later.get(section))
        else {
            continue;
        };
        let mut renamed = Table::new();
        for (k, v) in l {
            let same = b
                .iter()
                .find(|(_, bv)| bv.get(by).is_some() && bv.get(by) == v.get(by))
                .map(|(bk, _)| bk.clone());
            if section == "ports"
                && let Some(n) = &same
            {
                port_names.insert(k.clone(), n.clone());
            }
            renamed.insert(same.unwrap_or_else(|| k.clone()), v.clone());
        }
        out.insert(section.into(), Value::Table(renamed));
    }
    if let Some(Value::Table(probes)) = out.get_mut("probes") {
        for (_, p) in probes.iter_mut() {
            for action in ["http", "tcp", "grpc"] {
                if let Some(Value::Table(a)) = p.get_mut(action)
                    && let Some(Value::String(port)) = a.get_mut("port")
                    && let Some(n) = port_names.get(port.as_str())
                {
                    *port = n.clone();
                }
            }
        }
    }
    out
}

/// The first ResourceQuota's limits as the namespace's `quota`.
fn quota(objs: &[Y]) -> Option<Table> {
    let q = objs
        .iter()
        .find(|o| text(o, &["kind"]) == Some("ResourceQuota"))?;
    let mut out = Table::new();
    for (from, to) in [
        ("requests.cpu", "requests_cpu"),
        ("requests.memory", "requests_memory"),
        ("limits.cpu", "limits_cpu"),
        ("limits.memory", "limits_memory"),
        ("requests.storage", "storage"),
    ] {
        if let Some(v) = at(q, &["spec", "hard", from]).and_then(scalar) {
            out.insert(to.into(), s(v));
        }
    }
    for (from, to) in [
        ("pods", "pods"),
        ("persistentvolumeclaims", "persistent_volume_claims"),
    ] {
        if let Some(n) = at(q, &["spec", "hard", from])
            .and_then(scalar)
            .and_then(|v| v.parse::<i64>().ok())
        {
            out.insert(to.into(), Value::Integer(n));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn settings(description: &str, tier: &str) -> Table {
    let mut profile = Table::new();
    profile.insert("description".into(), s(description));
    profile.insert("backend".into(), s("kubernetes"));
    profile.insert("tier".into(), s(tier));
    let mut k = Table::new();
    k.insert("version".into(), s("1.34"));
    k.insert("shared_volume_access".into(), s("ReadWriteOnce"));
    let mut t = Table::new();
    t.insert("profile".into(), Value::Table(profile));
    t.insert("kubernetes".into(), Value::Table(k));
    t
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn read(paths: &[PathBuf]) -> Result<Vec<Y>, ImportError> {
    let set = FileSet::read(paths).map_err(|e| ImportError::at_file(e.path, e.message))?;
    for (k, bytes) in &set.files {
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        if envc_diff::docs::is_manifest_name(k) {
            envc_diff::docs::parse(&set.display(k), text)?;
        }
    }
    let mut notes = Vec::new();
    let objs = envc_diff::k8s::objects(&set, &mut notes);
    if !objs
        .iter()
        .any(|o| WORKLOADS.contains(&text(o, &["kind"]).unwrap_or_default()))
    {
        return Err(ImportError::at_file(
            shown(paths),
            "no workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod) in the manifests",
        ));
    }
    Ok(objs)
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
];

/// Kinds the import reads (workloads and what they use) or envc writes its own way.
const KNOWN: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Namespace",
    "NetworkPolicy",
    "ServiceAccount",
    "Service",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Kustomization",
    "Ingress",
    "ResourceQuota",
    "HorizontalPodAutoscaler",
];

fn seq<'a>(v: &'a Y, path: &[&str]) -> impl Iterator<Item = &'a Y> {
    at(v, path).and_then(Y::as_sequence).into_iter().flatten()
}

fn labels(v: &Y, path: &[&str]) -> BTreeMap<String, String> {
    at(v, path)
        .and_then(Y::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v)?)))
        .collect()
}

/// One workload as a service: the environment's table and the k3s profile's overlay.
#[derive(Debug, Clone, Default)]
struct Converted {
    table: Table,
    mode: Table,
}

/// What one manifest set gives.
#[derive(Debug, Default)]
struct Read {
    services: IndexMap<String, Converted>,
    files: Vec<(String, String)>,
    /// The host the Ingresses route on.
    ingress_host: Option<String>,
    /// Namespace keys by Kubernetes namespace.
    namespaces: IndexMap<String, String>,
}

struct Reader<'a> {
    /// Whether Secret values found become dev values.
    values: bool,
    /// Namespace keys by Kubernetes namespace, the first the default.
    namespaces: IndexMap<String, String>,
    ingress_host: Option<String>,
    objs: &'a [Y],
    env: &'a str,
    opts: &'a K8sOptions,
    secrets: &'a mut Secrets,
    report: &'a mut Report,
    out: Read,
}

impl<'a> Reader<'a> {
    fn new(
        objs: &'a [Y],
        env: &'a str,
        opts: &'a K8sOptions,
        secrets: &'a mut Secrets,
        report: &'a mut Report,
    ) -> Self {
        Reader {
            values: true,
            namespaces: IndexMap::new(),
            ingress_host: None,
            objs,
            env,
            opts,
            secrets,
            report,
            out: Read::default(),
        }
    }

    fn kind(o: &Y) -> &str {
        text(o, &["kind"]).unwrap_or_default()
    }

    fn services(mut self) -> Read {
        for o in self.objs {
            let kind = Self::kind(o);
            if !WORKLOADS.contains(&kind) {
                continue;
            }
            let raw = text(o, &["metadata", "name"])
                .unwrap_or("service")
                .to_string();
            let svc = name::label(&raw, 54);
            if svc != raw {
                self.report.push(
                    &raw,
                    "",
                    format!("renamed `{svc}`: service names are DNS labels"),
                );
                self.report.push(
                    &svc,
                    "",
                    format!("the input's `{raw}`, renamed: it is only on one side of a diff without `--map`"),
                );
            }
            if self.out.services.contains_key(&svc) {
                let ns = text(o, &["metadata", "namespace"]).unwrap_or("default");
                self.report.push(
                    &format!("{kind}/{ns}/{raw}"),
                    "duplicate",
                    format!(
                        "a second workload named `{raw}`: the first is imported, this one is not"
                    ),
                );
                continue;
            }
            let c = self.workload(&svc, kind, o);
            self.out.services.insert(svc, c);
        }
        self.out.ingress_host = self.ingress_host.take();
        self.out.namespaces = std::mem::take(&mut self.namespaces);
        self.out
    }

    fn workload(&mut self, svc: &str, kind: &str, o: &Y) -> Converted {
        let mut c = Converted::default();
        let t = &mut c.table;
        let pod_path: &[&str] = if kind == "CronJob" {
            &["spec", "jobTemplate", "spec", "template"]
        } else {
            &["spec", "template"]
        };
        let pod = if kind == "Pod" {
            o.clone()
        } else {
            at(o, pod_path).cloned().unwrap_or(Y::Null)
        };
        let spec = pod.get("spec").cloned().unwrap_or(Y::Null);
        match kind {
            "Job" => {
                t.insert("workload".into(), s("job"));
            }
            "CronJob" => {
                t.insert("workload".into(), s("cronjob"));
            }
            "Pod" => self.report.push(
                svc,
                "",
                "a bare Pod (nothing restarts it elsewhere): imported as a Deployment",
            ),
            "DaemonSet" => self.report.push(
                svc,
                "",
                "a DaemonSet (one pod per node): imported as a Deployment",
            ),
            _ => {}
        }
        let containers: Vec<&Y> = seq(&spec, &["containers"]).collect();
        let Some(main) = containers.first() else {
            self.report.push(svc, "", "no containers: not imported");
            return c;
        };
        self.container(svc, main, &mut *t, "");
        if let Some(n) = at(o, &["spec", "replicas"]).and_then(Y::as_i64)
            && n != 1
        {
            t.insert("replicas".into(), Value::Integer(n));
        }
        self.job(svc, kind, o, t);
        self.volumes(svc, kind, o, &spec, main, t);
        self.security(svc, &spec, main, t);
        let selector_labels = labels(&pod, &["metadata", "labels"]);
        let ns = text(o, &["metadata", "namespace"])
            .unwrap_or("default")
            .to_string();
        let first = self.namespaces.is_empty();
        let key = self
            .namespaces
            .entry(ns.clone())
            .or_insert_with(|| {
                if first {
                    "app".to_string()
                } else {
                    name::label(&ns, 63)
                }
            })
            .clone();
        if key != "app" {
            t.insert("namespace".into(), s(key));
        }
        let service_names = self.service_ports(svc, &ns, &selector_labels, t, &mut c.mode);
        self.autoscaling(svc, kind, o, &ns, t);
        self.ingress(svc, &ns, &service_names, t);
        for (i, side) in containers.iter().enumerate().skip(1) {
            let step = self.step(svc, side, i);
            let sn = name::label(text(side, &["name"]).unwrap_or("sidecar"), 63);
            let mut sides = t
                .get("sidecars")
                .and_then(Value::as_table)
                .cloned()
                .unwrap_or_default();
            sides.insert(sn, Value::Table(step));
            t.insert("sidecars".into(), Value::Table(sides));
        }
        for (i, init) in seq(&spec, &["initContainers"]).enumerate() {
            let step = self.step(svc, init, i);
            let mut sn = name::label(text(init, &["name"]).unwrap_or("init"), 63);
            if sn.starts_with("wait-for-") {
                // envc's own containers that wait for jobs are named so.
                self.report.push(
                    svc,
                    "init",
                    format!(
                        "init container `{sn}` renamed `init-{sn}`: `wait-for-` names are envc's"
                    ),
                );
                sn = format!("init-{sn}");
            }
            let key = if text(init, &["restartPolicy"]) == Some("Always") {
                "sidecars"
            } else {
                "init"
            };
            let mut steps = t
                .get(key)
                .and_then(Value::as_table)
                .cloned()
                .unwrap_or_default();
            steps.insert(sn, Value::Table(step));
            t.insert(key.into(), Value::Table(steps));
        }
        for k in [
            "nodeSelector",
            "tolerations",
            "affinity",
            "hostNetwork",
            "serviceAccountName",
            "priorityClassName",
            "topologySpreadConstraints",
            "imagePullSecrets",
        ] {
            if spec.get(k).is_some() {
                self.report.push(
                    svc,
                    &format!("fields.spec.template.spec.{k}"),
                    format!("`{k}` has no counterpart in the model"),
                );
            }
        }
        c
    }

    fn image(&mut self, svc: &str, c: &Y) -> Option<String> {
        let img = text(c, &["image"])?.to_string();
        if let Some((_, p)) = self.opts.pins.iter().find(|(f, _)| *f == img) {
            self.report
                .push(svc, "image", format!("`{img}` pinned to `{p}` (--pin)"));
            return Some(p.clone());
        }
        if envc_core::validate::image_pin(&img) == envc_core::validate::Pin::Latest {
            self.report.push(svc, "image", format!("`{img}` is not pinned to a version, which the model refuses (E-unpinned-image): pin one with --pin {img}=<image:version>"));
        }
        Some(img)
    }

    /// The main container's keys into the service's table.
    fn container(&mut self, svc: &str, c: &Y, t: &mut Table, _prefix: &str) {
        if let Some(img) = self.image(svc, c) {
            t.insert("image".into(), s(img));
        }
        for (from, to) in [("command", "command"), ("args", "args")] {
            let w: Vec<String> = seq(c, &[from]).filter_map(scalar).collect();
            if c.get(from).is_some() {
                let w = self.secrets.words(svc, to, &w);
                t.insert(to.into(), strings(&kube_unescape(&w)));
            }
        }
        if let Some(w) = text(c, &["workingDir"]) {
            t.insert("working_dir".into(), s(w));
        }
        let env = self.env(svc, c);
        if !env.is_empty() {
            t.insert("env".into(), Value::Table(env));
        }
        let mut ports = Table::new();
        let mut taken = Vec::new();
        for p in seq(c, &["ports"]) {
            let Some(n) = at(p, &["containerPort"]).and_then(Y::as_i64) else {
                continue;
            };
            let proto = text(p, &["protocol"]).unwrap_or("TCP").to_ascii_lowercase();
            let pname = name::unique(
                text(p, &["name"])
                    .map(|x| name::label(x, 15))
                    .unwrap_or_else(|| name::port(n as u16, &proto)),
                &taken,
            );
            taken.push(pname.clone());
            let mut pt = Table::new();
            pt.insert("container".into(), Value::Integer(n));
            if proto == "udp" {
                pt.insert("protocol".into(), s("udp"));
            }
            if let Some(hp) = at(p, &["hostPort"]).and_then(Y::as_i64) {
                self.report
                    .push(svc, "fields", format!("hostPort {hp}: not carried over"));
            }
            ports.insert(pname, Value::Table(pt));
        }
        if !ports.is_empty() {
            t.insert("ports".into(), Value::Table(ports));
        }
        let mut res = Table::new();
        for k in ["requests", "limits"] {
            let mut r = Table::new();
            if let Some(cpu) = at(c, &["resources", k, "cpu"]).and_then(scalar) {
                r.insert("cpu".into(), s(envc_diff::facts::cpu(&cpu)));
            }
            if let Some(m) = at(c, &["resources", k, "memory"]).and_then(scalar) {
                r.insert("memory".into(), s(envc_diff::facts::memory(&m)));
            }
            if !r.is_empty() {
                res.insert(k.into(), Value::Table(r));
            }
        }
        if !res.is_empty() {
            t.insert("resources".into(), Value::Table(res));
        }
        let mut probes = Table::new();
        for (k, m) in [
            ("livenessProbe", "liveness"),
            ("readinessProbe", "readiness"),
            ("startupProbe", "startup"),
        ] {
            if let Some(p) = c.get(k).and_then(|p| self.probe(svc, p, t)) {
                probes.insert(m.into(), Value::Table(p));
            }
        }
        if !probes.is_empty() {
            t.insert("probes".into(), Value::Table(probes));
        }
    }

    fn probe(&mut self, svc: &str, p: &Y, t: &Table) -> Option<Table> {
        let mut out = Table::new();
        let port_name = |port: &Y| -> Option<String> {
            let ports = t.get("ports")?.as_table()?;
            match port {
                Y::Number(n) => ports
                    .iter()
                    .find(|(_, v)| v.get("container").and_then(Value::as_integer) == n.as_i64())
                    .map(|(k, _)| k.clone()),
                Y::String(s) => ports.contains_key(s).then(|| s.clone()),
                _ => None,
            }
        };
        if let Some(h) = p.get("httpGet") {
            let Some(port) = h.get("port").and_then(port_name) else {
                self.report.push(
                    svc,
                    "probes",
                    "an HTTP probe on a port the container does not declare: not carried over",
                );
                return None;
            };
            let mut ht = Table::new();
            ht.insert("port".into(), s(port));
            ht.insert("path".into(), s(text(h, &["path"]).unwrap_or("/")));
            out.insert("http".into(), Value::Table(ht));
        } else if let Some(tc) = p.get("tcpSocket") {
            let port = tc.get("port").and_then(port_name)?;
            out.insert("tcp".into(), table1("port", s(port)));
        } else if let Some(e) = p.get("exec") {
            let w: Vec<String> = seq(e, &["command"])
                .filter_map(scalar)
                .map(|x| escape(&x))
                .collect();
            out.insert("exec".into(), table1("command", strings(&w)));
        } else if let Some(g) = p.get("grpc") {
            let port = g.get("port").and_then(port_name)?;
            out.insert("grpc".into(), table1("port", s(port)));
        } else {
            return None;
        }
        for (k, m) in [
            ("initialDelaySeconds", "initial_delay"),
            ("periodSeconds", "period"),
            ("timeoutSeconds", "timeout"),
        ] {
            if let Some(n) = p.get(k).and_then(Y::as_u64) {
                out.insert(m.into(), s(envc_diff::facts::duration(n as u32)));
            }
        }
        for (k, m) in [
            ("failureThreshold", "failure_threshold"),
            ("successThreshold", "success_threshold"),
        ] {
            if let Some(n) = p.get(k).and_then(Y::as_i64) {
                out.insert(m.into(), Value::Integer(n));
            }
        }
        Some(out)
    }

    fn env(&mut self, svc: &str, c: &Y) -> Table {
        let mut out = Table::new();
        for ef in seq(c, &["envFrom"]) {
            if let Some(cm) = text(ef, &["configMapRef", "name"]) {
                for (k, v) in self.config_map(cm) {
                    out.insert(k.clone(), self.secrets.env_value(svc, &k, &v));
                }
            } else if let Some(sec) = text(ef, &["secretRef", "name"]) {
                for (k, _) in self.secret_keys(sec) {
                    let n = self.secret_ref(sec, &k, svc, &k);
                    out.insert(k.clone(), table1("secret", s(n)));
                }
            }
        }
        for e in seq(c, &["env"]) {
            let Some(k) = text(e, &["name"]) else {
                continue;
            };
            if let Some(v) = e.get("value").and_then(scalar) {
                let v = kube_env(&v);
                out.insert(k.to_string(), self.secrets.env_value(svc, k, &v));
            } else if let Some(r) = at(e, &["valueFrom", "secretKeyRef"]) {
                let (Some(sec), Some(key)) = (text(r, &["name"]), text(r, &["key"])) else {
                    continue;
                };
                let n = self.secret_ref(sec, key, svc, k);
                out.insert(k.to_string(), table1("secret", s(n)));
            } else if let Some(r) = at(e, &["valueFrom", "configMapKeyRef"]) {
                let (Some(cm), Some(key)) = (text(r, &["name"]), text(r, &["key"])) else {
                    continue;
                };
                match self.config_map(cm).shift_remove(key) {
                    Some(v) => {
                        out.insert(k.to_string(), self.secrets.env_value(svc, k, &v));
                    }
                    None => self.report.push(
                        svc,
                        &format!("env.{k}"),
                        format!("ConfigMap `{cm}` key `{key}` is not in the manifests"),
                    ),
                }
            } else {
                self.report.push(svc, &format!("env.{k}"), "a value from the pod's fields or resources (`valueFrom`): the model has no such reference");
            }
        }
        out
    }

    fn config_map(&self, name: &str) -> IndexMap<String, String> {
        self.objs
            .iter()
            .find(|o| Self::kind(o) == "ConfigMap" && text(o, &["metadata", "name"]) == Some(name))
            .and_then(|o| o.get("data"))
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v)?)))
            .collect()
    }

    /// A Secret's keys and decoded values.
    fn secret_keys(&self, name: &str) -> IndexMap<String, String> {
        let Some(o) = self
            .objs
            .iter()
            .find(|o| Self::kind(o) == "Secret" && text(o, &["metadata", "name"]) == Some(name))
        else {
            return IndexMap::new();
        };
        let mut out = IndexMap::new();
        for (k, v) in o.get("data").and_then(Y::as_mapping).into_iter().flatten() {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str())
                && let Some(bytes) = envc_diff::k8s::base64_decode(v)
            {
                out.insert(k.to_string(), String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        for (k, v) in o
            .get("stringData")
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
        {
            if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                out.insert(k.to_string(), v);
            }
        }
        out
    }

    /// The model secret for key `key` of Secret `sec`, its value kept for the dev profile.
    fn secret_ref(&mut self, sec: &str, key: &str, svc: &str, env: &str) -> String {
        let n = name::label(&format!("{sec}-{key}"), 63);
        let value = self
            .secret_keys(sec)
            .get(key)
            .cloned()
            .filter(|_| self.values);
        if value.is_none() {
            self.report.push(
                svc,
                &format!("env.{env}"),
                format!(
                    "Secret `{sec}` (key `{key}`) is not in the manifests: its dev value is derived"
                ),
            );
        }
        self.secrets.declare(
            &n,
            &format!("key `{key}` of Secret `{sec}`"),
            value.as_deref(),
            svc,
            &format!("env.{env}"),
        );
        n
    }

    fn job(&mut self, svc: &str, kind: &str, o: &Y, t: &mut Table) {
        let spec: &[&str] = if kind == "CronJob" {
            &["spec", "jobTemplate", "spec"]
        } else {
            &["spec"]
        };
        if !matches!(kind, "Job" | "CronJob") {
            return;
        }
        let js = at(o, spec).cloned().unwrap_or(Y::Null);
        let mut jt = Table::new();
        if let Some(n) = js.get("backoffLimit").and_then(Y::as_i64) {
            jt.insert("retries".into(), Value::Integer(n));
        } else {
            jt.insert("retries".into(), Value::Integer(6));
        }
        if let Some(n) = js.get("activeDeadlineSeconds").and_then(Y::as_u64) {
            jt.insert("deadline".into(), s(envc_diff::facts::duration(n as u32)));
        }
        if let Some(n) = js.get("ttlSecondsAfterFinished").and_then(Y::as_u64) {
            jt.insert("ttl".into(), s(envc_diff::facts::duration(n as u32)));
        }
        if let Some(n) = js.get("parallelism").and_then(Y::as_i64) {
            jt.insert("parallelism".into(), Value::Integer(n));
        }
        if kind == "CronJob" {
            if let Some(sc) = text(o, &["spec", "schedule"]) {
                jt.insert("schedule".into(), s(sc));
            }
            if let Some(tz) = text(o, &["spec", "timeZone"]) {
                jt.insert("time_zone".into(), s(tz));
            }
            if let Some(c) = text(o, &["spec", "concurrencyPolicy"]) {
                jt.insert("concurrency".into(), s(c.to_ascii_lowercase()));
            }
        }
        let rp =
            text(o, &[spec, &["template", "spec", "restartPolicy"]].concat()).unwrap_or("Never");
        t.insert(
            "restart".into(),
            s(if rp == "OnFailure" {
                "on-failure"
            } else {
                "no"
            }),
        );
        let _ = svc;
        t.insert("job".into(), Value::Table(jt));
    }

    fn volumes(&mut self, svc: &str, kind: &str, o: &Y, spec: &Y, main: &Y, t: &mut Table) {
        let mut vols = Table::new();
        let mut files = Table::new();
        let pod_vols: IndexMap<String, &Y> = seq(spec, &["volumes"])
            .filter_map(|v| Some((text(v, &["name"])?.to_string(), v)))
            .collect();
        let claim_templates: IndexMap<String, &Y> = if kind == "StatefulSet" {
            seq(o, &["spec", "volumeClaimTemplates"])
                .filter_map(|v| Some((text(v, &["metadata", "name"])?.to_string(), v)))
                .collect()
        } else {
            IndexMap::new()
        };
        for m in seq(main, &["volumeMounts"]) {
            let (Some(vn), Some(path)) = (text(m, &["name"]), text(m, &["mountPath"])) else {
                continue;
            };
            let key = format!("volumes.{path}");
            let ro = at(m, &["readOnly"]).and_then(Y::as_bool) == Some(true);
            let sub = text(m, &["subPath"]);
            let label = name::label(vn, 63);
            let mut vt = Table::new();
            vt.insert("path".into(), s(path));
            let class_report = |report: &mut Report, claim: &Y| {
                if let Some(class) = text(claim, &["spec", "storageClassName"]) {
                    report.push(
                        svc,
                        &format!("volumes.{path}.class"),
                        format!("storage class `{class}` is not carried over: envc claims the mode's class (`kubernetes.storage_class` in its profile)"),
                    );
                }
            };
            if let Some(ct) = claim_templates.get(vn) {
                let size = text(ct, &["spec", "resources", "requests", "storage"]).unwrap_or("1Gi");
                vt.insert("size".into(), s(envc_diff::facts::memory(size)));
                class_report(self.report, ct);
            } else if let Some(v) = pod_vols.get(vn) {
                if let Some(claim) = text(v, &["persistentVolumeClaim", "claimName"]) {
                    let found = self.objs.iter().find(|o| {
                        Self::kind(o) == "PersistentVolumeClaim"
                            && text(o, &["metadata", "name"]) == Some(claim)
                    });
                    let size = found
                        .and_then(|c| text(c, &["spec", "resources", "requests", "storage"]))
                        .unwrap_or("1Gi");
                    vt.insert("size".into(), s(envc_diff::facts::memory(size)));
                    if let Some(c) = found {
                        class_report(self.report, c);
                    }
                } else if let Some(e) = v.get("emptyDir") {
                    vt.insert("persistent".into(), Value::Boolean(false));
                    if let Some(sz) = e.get("sizeLimit").and_then(scalar) {
                        vt.insert("size".into(), s(envc_diff::facts::memory(&sz)));
                    }
                } else if let Some(cm) = text(v, &["configMap", "name"]) {
                    self.config_files(svc, cm, v, path, sub, &mut files);
                    continue;
                } else {
                    let what = v
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, _)| k.as_str())
                        .find(|k| *k != "name")
                        .unwrap_or("unknown");
                    self.report.push(
                        svc,
                        &key,
                        format!(
                            "a `{what}` volume has no counterpart in the model: not carried over"
                        ),
                    );
                    continue;
                }
            } else {
                self.report.push(
                    svc,
                    &key,
                    format!("volume `{vn}` is not declared by the pod"),
                );
                continue;
            }
            if ro {
                vt.insert("read_only".into(), Value::Boolean(true));
            }
            if let Some(sp) = sub {
                vt.insert("sub_path".into(), s(sp));
            }
            vols.insert(label, Value::Table(vt));
        }
        if !vols.is_empty() {
            t.insert("volumes".into(), Value::Table(vols));
        }
        if !files.is_empty() {
            t.insert("files".into(), Value::Table(files));
        }
    }

    /// A ConfigMap volume as config files, one per key (or per `items` entry).
    fn config_files(
        &mut self,
        svc: &str,
        cm: &str,
        v: &Y,
        path: &str,
        sub: Option<&str>,
        files: &mut Table,
    ) {
        let data = self.config_map(cm);
        let items: Vec<(String, String)> = match v
            .get("configMap")
            .and_then(|c| c.get("items"))
            .and_then(Y::as_sequence)
        {
            Some(items) => items
                .iter()
                .filter_map(|i| {
                    Some((
                        text(i, &["key"])?.to_string(),
                        text(i, &["path"])?.to_string(),
                    ))
                })
                .collect(),
            None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
        };
        for (key, rel) in items {
            if let Some(sp) = sub
                && sp != rel
            {
                continue;
            }
            let Some(content) = data.get(&key) else {
                self.report.push(
                    svc,
                    &format!("files.{path}"),
                    format!("ConfigMap `{cm}` key `{key}` is not in the manifests"),
                );
                continue;
            };
            let target = if sub.is_some() {
                path.to_string()
            } else {
                format!("{}/{rel}", path.trim_end_matches('/'))
            };
            let taken: Vec<String> = files.keys().cloned().collect();
            let fname = name::unique(name::label(&key, 63), &taken);
            let mut ft = Table::new();
            ft.insert("path".into(), s(target.clone()));
            if content.contains("{{") {
                ft.insert("content".into(), s(content.replace("$${", "$$${")));
            } else {
                let file = format!("{}/{svc}/{key}", self.env);
                ft.insert("template".into(), s(file.clone()));
                if !self.out.files.iter().any(|(p, _)| *p == file) {
                    self.out.files.push((file, content.clone()));
                }
                self.report.push(svc, &format!("files.{target}"), "envc adds a `# generated by envc` header line to files rendered from templates (YAML and other `#`-comment formats)");
            }
            files.insert(fname, Value::Table(ft));
        }
    }

    fn security(&mut self, svc: &str, spec: &Y, main: &Y, t: &mut Table) {
        let mut sec = Table::new();
        for (k, m) in [
            ("runAsUser", "run_as_user"),
            ("runAsGroup", "run_as_group"),
            ("fsGroup", "fs_group"),
        ] {
            let v = at(main, &["securityContext", k])
                .or_else(|| at(spec, &["securityContext", k]))
                .and_then(Y::as_i64);
            if let Some(n) = v {
                sec.insert(m.into(), Value::Integer(n));
            }
        }
        let flag = |k: &str| {
            at(main, &["securityContext", k])
                .or_else(|| at(spec, &["securityContext", k]))
                .and_then(Y::as_bool)
        };
        // What the manifests leave unset is what the container gets: writable, root allowed.
        sec.insert(
            "read_only_root_filesystem".into(),
            Value::Boolean(flag("readOnlyRootFilesystem") == Some(true)),
        );
        if flag("runAsNonRoot") != Some(true) {
            sec.insert("run_as_non_root".into(), Value::Boolean(false));
        }
        if flag("allowPrivilegeEscalation") != Some(false) {
            sec.insert("allow_privilege_escalation".into(), Value::Boolean(true));
        }
        let caps: Vec<String> = seq(main, &["securityContext", "capabilities", "add"])
            .filter_map(scalar)
            .collect();
        if !caps.is_empty() {
            sec.insert("capabilities_add".into(), strings(&caps));
        }
        if at(main, &["securityContext", "privileged"]).and_then(Y::as_bool) == Some(true) {
            self.report.push(
                svc,
                "fields",
                "a privileged container: the model has no privileged mode",
            );
        }
        t.insert("security".into(), Value::Table(sec));
    }

    /// Ports of the Services that select the pod: the Service port and NodePorts (for the k3s
    /// profile).
    fn service_ports(
        &mut self,
        svc: &str,
        ns: &str,
        pod_labels: &BTreeMap<String, String>,
        t: &mut Table,
        mode: &mut Table,
    ) -> Vec<(String, i64, String)> {
        let mut names = Vec::new();
        let mut ports = t
            .get("ports")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        let mut node_ports = Table::new();
        for o in self.objs.iter().filter(|o| Self::kind(o) == "Service") {
            let sel = labels(o, &["spec", "selector"]);
            let o_ns = text(o, &["metadata", "namespace"]).unwrap_or("default");
            if sel.is_empty()
                || o_ns != ns
                || !sel.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
            {
                continue;
            }
            let sname = text(o, &["metadata", "name"])
                .unwrap_or_default()
                .to_string();
            if sname != svc {
                self.report.push(&format!("Service/{ns}/{sname}"), "", format!("Service `{sname}` selects `{svc}`: envc names its Service after the service"));
            }
            if let Some(ty) = text(o, &["spec", "type"]).filter(|t| *t == "LoadBalancer") {
                self.report.push(
                    svc,
                    "",
                    format!(
                        "a {ty} Service: the model publishes ports through NodePorts and ingress"
                    ),
                );
            }
            for sp in seq(o, &["spec", "ports"]) {
                let Some(port) = at(sp, &["port"]).and_then(Y::as_i64) else {
                    continue;
                };
                let target = sp
                    .get("targetPort")
                    .cloned()
                    .unwrap_or(Y::Number(port.into()));
                let found = ports
                    .iter()
                    .find(|(k, v)| match &target {
                        Y::Number(n) => {
                            v.get("container").and_then(Value::as_integer) == n.as_i64()
                        }
                        Y::String(s) => *k == s,
                        _ => false,
                    })
                    .map(|(k, _)| k.clone());
                let pname = match found {
                    Some(p) => p,
                    None => {
                        let Some(n) = target.as_i64() else {
                            self.report.push(svc, "ports", format!("Service `{sname}` targets port `{}` the container does not name", scalar(&target).unwrap_or_default()));
                            continue;
                        };
                        let taken: Vec<String> = ports.keys().cloned().collect();
                        let p = name::unique(name::port(n as u16, "tcp"), &taken);
                        ports.insert(p.clone(), table1("container", Value::Integer(n)));
                        p
                    }
                };
                if let Some(Value::Table(pt)) = ports.get_mut(&pname)
                    && pt.get("container").and_then(Value::as_integer) != Some(port)
                {
                    pt.insert("service".into(), Value::Integer(port));
                }
                names.push((sname.clone(), port, pname.clone()));
                if let Some(np) = at(sp, &["nodePort"]).and_then(Y::as_i64) {
                    node_ports.insert(pname, table1("node_port", Value::Integer(np)));
                } else if text(o, &["spec", "type"]) == Some("NodePort") {
                    self.report.push(svc, "ports", "a NodePort Service without a fixed nodePort: the cluster picks one; the model needs a number");
                }
            }
        }
        if !ports.is_empty() {
            t.insert("ports".into(), Value::Table(ports));
        }
        if !node_ports.is_empty() {
            mode.insert("ports".into(), Value::Table(node_ports));
        }
        names
    }

    /// A HorizontalPodAutoscaler of the workload as `autoscaling`.
    fn autoscaling(&mut self, svc: &str, kind: &str, o: &Y, ns: &str, t: &mut Table) {
        let name = text(o, &["metadata", "name"]).unwrap_or_default();
        let Some(h) = self.objs.iter().find(|h| {
            Self::kind(h) == "HorizontalPodAutoscaler"
                && text(h, &["metadata", "namespace"]).unwrap_or("default") == ns
                && text(h, &["spec", "scaleTargetRef", "name"]) == Some(name)
                && text(h, &["spec", "scaleTargetRef", "kind"]) == Some(kind)
        }) else {
            return;
        };
        let mut a = Table::new();
        a.insert(
            "min".into(),
            Value::Integer(
                at(h, &["spec", "minReplicas"])
                    .and_then(Y::as_i64)
                    .unwrap_or(1),
            ),
        );
        if let Some(max) = at(h, &["spec", "maxReplicas"]).and_then(Y::as_i64) {
            a.insert("max".into(), Value::Integer(max));
        }
        for m in seq(h, &["spec", "metrics"]) {
            let (Some(r), Some(u)) = (
                text(m, &["resource", "name"]),
                at(m, &["resource", "target", "averageUtilization"]).and_then(Y::as_i64),
            ) else {
                self.report.push(
                    svc,
                    "autoscaling",
                    "an autoscaling metric other than CPU or memory utilisation: not carried over",
                );
                continue;
            };
            if r == "cpu" || r == "memory" {
                a.insert(r.into(), Value::Integer(u));
            }
        }
        t.remove("replicas");
        t.insert("autoscaling".into(), Value::Table(a));
    }

    /// Ingress rules to the workload's Services as its ports' `ingress` routes.
    fn ingress(&mut self, svc: &str, ns: &str, services: &[(String, i64, String)], t: &mut Table) {
        let mut routes: Vec<(String, String, String)> = Vec::new();
        for i in self.objs.iter().filter(|o| {
            Self::kind(o) == "Ingress"
                && text(o, &["metadata", "namespace"]).unwrap_or("default") == ns
        }) {
            for rule in seq(i, &["spec", "rules"]) {
                let host = text(rule, &["host"]).unwrap_or_default().to_string();
                for p in seq(rule, &["http", "paths"]) {
                    let backend = text(p, &["backend", "service", "name"]).unwrap_or_default();
                    let number =
                        at(p, &["backend", "service", "port", "number"]).and_then(Y::as_i64);
                    let port_name = text(p, &["backend", "service", "port", "name"]);
                    let found = services.iter().find(|(sn, sp, pn)| {
                        sn == backend && (number == Some(*sp) || port_name == Some(pn.as_str()))
                    });
                    if let Some((_, _, pname)) = found {
                        routes.push((
                            host.clone(),
                            text(p, &["path"]).unwrap_or("/").to_string(),
                            pname.clone(),
                        ));
                    }
                }
            }
        }
        let Some(ports) = t.get_mut("ports").and_then(Value::as_table_mut) else {
            return;
        };
        for (host, path, pname) in routes {
            let known = self
                .ingress_host
                .get_or_insert_with(|| host.clone())
                .clone();
            let mut route = Table::new();
            route.insert("path".into(), s(path));
            if host != known {
                match host.strip_suffix(&format!(".{known}")) {
                    Some(sub) => {
                        route.insert("subdomain".into(), s(sub));
                    }
                    None => {
                        self.report.push(svc, "exposure", format!("an ingress host `{host}` that is not under `{known}`: not carried over"));
                        continue;
                    }
                }
            }
            if let Some(Value::Table(pt)) = ports.get_mut(&pname) {
                pt.insert("ingress".into(), Value::Table(route));
            }
        }
    }

    /// A sidecar or init container as a step.
    fn step(&mut self, svc: &str, c: &Y, _i: usize) -> Table {
        let mut st = Table::new();
        if let Some(img) = self.image(svc, c) {
            st.insert("image".into(), s(img));
        }
        for k in ["command", "args"] {
            if c.get(k).is_some() {
                let w: Vec<String> = seq(c, &[k]).filter_map(scalar).collect();
                let w = self.secrets.words(svc, k, &w);
                st.insert(k.into(), strings(&kube_unescape(&w)));
            }
        }
        let env = self.env(svc, c);
        if !env.is_empty() {
            st.insert("env".into(), Value::Table(env));
        }
        let mut vols = Table::new();
        for m in seq(c, &["volumeMounts"]) {
            if let (Some(vn), Some(path)) = (text(m, &["name"]), text(m, &["mountPath"])) {
                vols.insert(name::label(vn, 63), table1("path", s(path)));
            }
        }
        if !vols.is_empty() {
            st.insert("volumes".into(), Value::Table(vols));
        }
        st
    }
}

/// A manifest's env value as the container gets it: `$$` is `$` (and `$(VAR)` is left as text).
fn kube_env(v: &str) -> String {
    v.replace("$$", "$")
}

fn kube_unescape(words: &[String]) -> Vec<String> {
    words.iter().map(|w| w.replace("$$(", "$(")).collect()
}

/// What the Kubernetes backend adds to every set, whatever the manifests said.
fn inherent(report: &mut Report) {
    const FIELDS: &[(&str, &str)] = &[
        (
            "fields.metadata",
            "envc labels every workload with the recommended labels (app.kubernetes.io/*)",
        ),
        (
            "fields.spec.selector",
            "envc selects pods by app.kubernetes.io/name and instance",
        ),
        (
            "fields.spec.template.metadata",
            "envc labels and annotates pod templates its own way",
        ),
        (
            "fields.spec.template.spec.automountServiceAccountToken",
            "envc gives each workload its own service account and mounts no token",
        ),
        (
            "fields.spec.template.spec.serviceAccountName",
            "envc gives each workload its own service account and mounts no token",
        ),
        (
            "fields.spec.template.spec.enableServiceLinks",
            "envc turns off Docker-link variables",
        ),
        (
            "fields.spec.template.spec.securityContext",
            "envc writes the pod's security context explicitly (seccomp RuntimeDefault)",
        ),
        (
            "fields.spec.template.spec.containers",
            "envc names the container after the service and writes its security context explicitly",
        ),
        (
            "fields.spec.template.spec.volumes",
            "envc declares the pod's volumes itself (claims of StatefulSets from claim templates, config files from a `<service>-files` ConfigMap)",
        ),
        (
            "fields.spec.volumeClaimTemplates",
            "a service with persistent volumes is a StatefulSet with a claim per replica",
        ),
        (
            "fields.spec.serviceName",
            "envc gives each StatefulSet a headless Service `<service>-headless`",
        ),
        ("security.cap_drop", "envc drops every capability"),
        (
            "security.seccomp",
            "envc sets the RuntimeDefault seccomp profile that the manifests leave unset",
        ),
        (
            "security.privilege_escalation",
            "envc writes what the manifests leave unset explicitly",
        ),
        (
            "security.read_only_root",
            "envc writes what the manifests leave unset explicitly",
        ),
    ];
    for (k, why) in FIELDS {
        report.push("*", k, *why);
    }
    for kind in KNOWN.iter().filter(|k| !WORKLOADS.contains(k)) {
        report.push(
            &format!("{kind}/*"),
            "",
            format!("envc writes the model's {kind} objects its own way (names, labels, generated policies); the input's are not compared line by line"),
        );
    }
}
