//! Every single-field edit of a committed artifact set is drift naming the object: for each set
//! under `out/` (k3s manifests, the Compose file, and the eks and gke charts rendered by
//! `helm template`), and the routes scenario's (HTTPRoutes in manifests and a chart), each
//! scalar is changed, each list item and each map key removed, and a key added to each
//! mapping, one at a time; the facts of the edited set, compared with the
//! set's own (as `envc diff --against` compares a fresh build with the files), must differ in
//! the edited object.
//!
//! An edit that leaves the set meaning what it meant is no drift, and is counted apart: removing
//! a field that holds the value the API server defaults it to (`protocol: TCP`), which
//! `envc_diff::structure::defaulted` lists, and changing text no reader of the set reads (YAML
//! comments are not in the tree at all).
//!
//! Needs helm for the chart sets: `$ENVC_TOOLS/bin/helm` (default `~/.cache/envc-tools/bin`),
//! then `PATH`. Without it those sets are skipped with a message, unless `ENVC_REQUIRE_TOOLS=1`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use envc_diff::facts::Facts;
use envc_diff::{FileSet, compare};
use yaml_serde::Value as Y;

use common::{helm_or_skip, rendered, repo};

/// One step from a value to a child.
#[derive(Debug, Clone)]
enum Step {
    Key(Y),
    Index(usize),
}

/// A single-field edit.
#[derive(Debug, Clone)]
enum Edit {
    /// The scalar at the path takes another value.
    Change(Vec<Step>),
    /// The map key or list item at the path goes.
    Remove(Vec<Step>),
    /// The mapping at the path gets one more key.
    Add(Vec<Step>),
}

fn edits(v: &Y, path: &mut Vec<Step>, out: &mut Vec<Edit>) {
    match v {
        Y::Mapping(m) => {
            out.push(Edit::Add(path.clone()));
            for (k, x) in m {
                path.push(Step::Key(k.clone()));
                out.push(Edit::Remove(path.clone()));
                edits(x, path, out);
                path.pop();
            }
        }
        Y::Sequence(s) => {
            for (i, x) in s.iter().enumerate() {
                path.push(Step::Index(i));
                out.push(Edit::Remove(path.clone()));
                edits(x, path, out);
                path.pop();
            }
        }
        Y::Tagged(t) => edits(&t.value, path, out),
        _ => out.push(Edit::Change(path.clone())),
    }
}

fn child<'a>(v: &'a mut Y, s: &Step) -> Option<&'a mut Y> {
    match (v, s) {
        (Y::Mapping(m), Step::Key(k)) => m.get_mut(k),
        (Y::Sequence(q), Step::Index(i)) => q.get_mut(*i),
        _ => None,
    }
}

/// Applies an edit; returns what it did, for messages.
fn apply(root: &mut Y, e: &Edit) -> String {
    let (path, last) = match e {
        Edit::Change(p) | Edit::Remove(p) | Edit::Add(p) => (p, p.last()),
    };
    let spelled = spell(path);
    let mut cur = root;
    let parents = match e {
        Edit::Remove(_) => &path[..path.len() - 1],
        _ => &path[..],
    };
    for s in parents {
        cur = match child(cur, s) {
            Some(c) => c,
            None => return format!("(unreachable {spelled})"),
        };
    }
    match e {
        Edit::Change(_) => {
            let before = format!("{cur:?}");
            *cur = match cur {
                Y::String(s) => Y::String(format!("{s}-edited")),
                Y::Number(n) => match n.as_u64() {
                    Some(u) => Y::Number((u + 1).into()),
                    None => Y::String(format!("{n}-edited")),
                },
                Y::Bool(b) => Y::Bool(!*b),
                _ => Y::String("edited".into()),
            };
            format!("change {spelled} ({before})")
        }
        Edit::Remove(_) => {
            match (cur, last) {
                (Y::Mapping(m), Some(Step::Key(k))) => {
                    m.remove(k);
                }
                (Y::Sequence(q), Some(Step::Index(i))) => {
                    q.remove(*i);
                }
                _ => {}
            }
            format!("remove {spelled}")
        }
        Edit::Add(_) => {
            if let Y::Mapping(m) = cur {
                m.insert(Y::String("envc-added".into()), Y::String("x".into()));
            }
            format!("add {spelled}.envc-added")
        }
    }
}

fn spell(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(Y::String(k)) => format!(".{k}"),
            Step::Key(k) => format!(".{k:?}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// The results for one set.
#[derive(Default)]
struct Tally {
    edits: usize,
    caught: usize,
    defaulted: usize,
    missed: Vec<String>,
}

/// Whether the comparison reports drift naming `names` (the object's service or key).
fn names_object(a: &Facts, b: &Facts, names: &[String]) -> Result<(), String> {
    let c = compare(a, b, &BTreeMap::new());
    if c.differences.is_empty() {
        return Err("no difference".into());
    }
    // A name `/<ns>/<name>` names the object whatever its kind became.
    // A name ending in `/` (`volumes/`) names every entry under it.
    let named = |s: &str| {
        names.iter().any(|n| {
            n == s
                || (n.starts_with('/') && s.ends_with(n.as_str()))
                || (n.ends_with('/') && s.starts_with(n.as_str()))
        })
    };
    if c.differences.iter().any(|d| named(&d.service)) {
        return Ok(());
    }
    Err(format!(
        "differences name {:?}",
        c.differences
            .iter()
            .map(|d| format!("{} {}", d.service, d.key))
            .collect::<Vec<_>>()
    ))
}

/// Whether the edit removed a field holding the value the API server defaults it to.
fn removes_default(obj: &Y, e: &Edit) -> bool {
    let Edit::Remove(path) = e else { return false };
    let mut cur = obj;
    for s in path {
        let next = match (cur, s) {
            (Y::Mapping(m), Step::Key(k)) => m.get(k),
            (Y::Sequence(q), Step::Index(i)) => q.get(*i),
            _ => None,
        };
        let Some(n) = next else { return false };
        cur = n;
    }
    let kind = obj.get("kind").and_then(Y::as_str).unwrap_or_default();
    let mut lines = BTreeMap::new();
    envc_diff::structure::flatten(cur, &spell_structural(obj, path), &mut lines);
    !lines.is_empty()
        && lines
            .iter()
            .all(|(p, v)| envc_diff::structure::defaulted(kind, p, &v.display()))
}

/// Whether the edit removed a Compose service's field that holds the value Compose uses when
/// it is not set (`restart: "no"`).
fn compose_removes_default(doc: &Y, e: &Edit) -> bool {
    let Edit::Remove(path) = e else { return false };
    let mut cur = doc;
    for s in path {
        let next = match (cur, s) {
            (Y::Mapping(m), Step::Key(k)) => m.get(k),
            (Y::Sequence(q), Step::Index(i)) => q.get(*i),
            _ => None,
        };
        let Some(n) = next else { return false };
        cur = n;
    }
    let spelled = spell_structural(doc, path);
    match cur {
        Y::String(_) | Y::Bool(_) | Y::Number(_) => {
            let v = match cur {
                Y::String(s) => s.clone(),
                Y::Number(n) => n.to_string(),
                other => format!("{}", other.as_bool().unwrap_or_default()),
            };
            path.len() > 2 && envc_diff::structure::compose_defaulted(&spelled, &v)
        }
        _ => false,
    }
}

/// A path as `envc_diff::structure::flatten` spells it (named list items by name).
fn spell_structural(obj: &Y, path: &[Step]) -> String {
    let mut out = String::new();
    let mut cur = obj;
    for s in path {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k.as_str().unwrap_or("?"));
                cur = cur.get(k).unwrap_or(&Y::Null);
            }
            Step::Index(i) => {
                let items = cur.as_sequence().map(Vec::as_slice).unwrap_or_default();
                let names: Vec<Option<&str>> = items
                    .iter()
                    .map(|x| x.get("name").and_then(Y::as_str))
                    .collect();
                let mut distinct: Vec<&str> = names.iter().flatten().copied().collect();
                distinct.sort_unstable();
                distinct.dedup();
                match names.get(*i) {
                    Some(Some(n)) if distinct.len() == names.len() => {
                        out.push_str(&format!("[{n}]"))
                    }
                    _ => out.push_str(&format!("[{i}]")),
                }
                cur = items.get(*i).unwrap_or(&Y::Null);
            }
        }
    }
    out
}

const WORKLOADS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
];

fn namespace(o: &Y) -> String {
    o.get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Y::as_str)
        .unwrap_or("default")
        .to_string()
}

fn meta_name(o: &Y) -> String {
    o.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Y::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Every string in a value.
fn strings(v: &Y) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        match x {
            Y::String(s) => {
                out.insert(s.clone());
            }
            Y::Mapping(m) => stack.extend(m.values()),
            Y::Sequence(q) => stack.extend(q.iter()),
            Y::Tagged(t) => stack.push(&t.value),
            _ => {}
        }
    }
    out
}

/// Kubernetes objects: each object edited in place, its facts read again. The facts of an
/// object that is not a workload are its own lines, whatever else the set holds; a workload's
/// come from it and the objects of the kinds it reads (Services, claims, ConfigMaps,
/// Secrets, autoscalers, ingresses). So each edit reads only those, which keeps the test fast;
/// the whole set is read once to check it has services.
fn kubernetes(label: &str, files: &FileSet) -> Tally {
    let mut notes = Vec::new();
    let objs = envc_diff::k8s::objects(files, &mut notes);
    let whole = envc_diff::k8s::extract_objects(label, &objs, Vec::new());
    assert!(
        !whole.services.is_empty() || !whole.objects.is_empty(),
        "{label}: nothing read"
    );
    let is_workload =
        |o: &Y| WORKLOADS.contains(&o.get("kind").and_then(Y::as_str).unwrap_or_default());
    // What a workload's facts read: its Services, claims, ConfigMaps, Secrets, autoscaler,
    // ingress.
    let read = [
        "Service",
        "PersistentVolumeClaim",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
        "Ingress",
        "HTTPRoute",
    ];
    let others: Vec<&Y> = objs
        .iter()
        .filter(|o| read.contains(&o.get("kind").and_then(Y::as_str).unwrap_or_default()))
        .collect();
    let mut t = Tally::default();
    for original in &objs {
        let workload = is_workload(original);
        // The edited object first, then what its facts may read: objects of its namespace
        // that select it or that it names.
        let mut subset = vec![original.clone()];
        if workload {
            let words = strings(original);
            let ns = namespace(original);
            subset.extend(
                others
                    .iter()
                    .filter(|o| namespace(o) == ns)
                    .filter(|o| {
                        let k = o.get("kind").and_then(Y::as_str).unwrap_or_default();
                        matches!(
                            k,
                            "Service" | "HorizontalPodAutoscaler" | "Ingress" | "HTTPRoute"
                        ) || words.contains(&meta_name(o))
                    })
                    .map(|o| (*o).clone()),
            );
        }
        let base = envc_diff::k8s::extract_objects(label, &subset, Vec::new());
        let kind = original
            .get("kind")
            .and_then(Y::as_str)
            .unwrap_or_default()
            .to_string();
        let meta = |k: &str| {
            original
                .get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Y::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (name, ns) = (meta("name"), meta("namespace"));
        let ns = if ns.is_empty() {
            "default".to_string()
        } else {
            ns
        };
        // The object's own key (every field of an object that is not a workload is one of
        // its lines), or the service a workload is.
        let names = vec![
            format!("{kind}/{ns}/{name}"),
            format!("{kind}/{name}"),
            format!("/{ns}/{name}"),
            name.clone(),
        ];
        let mut list = Vec::new();
        edits(original, &mut Vec::new(), &mut list);
        for e in &list {
            let what = apply(&mut subset[0], e);
            t.edits += 1;
            if removes_default(original, e) {
                t.defaulted += 1;
            } else {
                let b = envc_diff::k8s::extract_objects(label, &subset, Vec::new());
                match names_object(&base, &b, &names) {
                    Ok(()) => t.caught += 1,
                    Err(why) => t.missed.push(format!("{kind}/{ns}/{name}: {what}: {why}")),
                }
            }
            subset[0] = original.clone();
        }
    }
    t
}

/// A Compose file: the document edited, its facts read again. A service's facts come from it
/// and the services it is folded with (its steps and sidecars, named after it), that it waits
/// for and that wait for it; each edit of a service reads only those, and an edit elsewhere
/// (`volumes`, `networks`, `name`) only the entries outside `services`.
fn compose(label: &str, dir: &Path) -> Tally {
    let set = FileSet::read(&[dir.to_path_buf()]).expect("read set");
    let main = envc_diff::compose::compose_file(&set).expect("compose file");
    let doc: Y = yaml_serde::from_str(set.text(&main).expect("text")).expect("yaml");
    let read = |doc: &Y| {
        let mut f = envc_diff::compose::extract_document(&set, &main, doc.clone(), Vec::new());
        f.label = label.to_string();
        f
    };
    assert!(!read(&doc).services.is_empty(), "{label}: no services read");
    let services = doc
        .get("services")
        .and_then(Y::as_mapping)
        .cloned()
        .unwrap_or_default();
    let related = |a: &str, b: &str, sa: &Y, sb: &Y| {
        let waits = |s: &Y, on: &str| {
            strings(&s.get("depends_on").cloned().unwrap_or(Y::Null)).contains(on)
                || s.get("depends_on").and_then(|d| d.get(on)).is_some()
        };
        a == b
            || a.starts_with(&format!("{b}-"))
            || b.starts_with(&format!("{a}-"))
            || waits(sa, b)
            || waits(sb, a)
    };
    // The document with the services `keep` says, and every other top-level entry.
    let subset = |keep: &dyn Fn(&str, &Y) -> bool| {
        let mut d = doc.clone();
        if let Some(Y::Mapping(m)) = d.get_mut("services") {
            m.retain(|k, v| keep(k.as_str().unwrap_or_default(), v));
        }
        d
    };
    let mut t = Tally::default();
    let mut list = Vec::new();
    edits(&doc, &mut Vec::new(), &mut list);
    for e in &list {
        let path = match e {
            Edit::Change(p) | Edit::Remove(p) | Edit::Add(p) => p,
        };
        let top = |i: usize| match path.get(i) {
            Some(Step::Key(Y::String(k))) => k.clone(),
            _ => String::new(),
        };
        let edited_service = (top(0) == "services" && path.len() > 1).then(|| top(1));
        let mut base_doc = match &edited_service {
            Some(s) => {
                let sv = services
                    .get(Y::String(s.clone()))
                    .cloned()
                    .unwrap_or(Y::Null);
                subset(&|k, v| related(k, s, v, &sv))
            }
            None if top(0) == "services" => doc.clone(),
            None => subset(&|_, _| false),
        };
        let base = read(&base_doc);
        t.edits += 1;
        if compose_removes_default(&base_doc, e) {
            t.defaulted += 1;
            continue;
        }
        let what = apply(&mut base_doc, e);
        let b = read(&base_doc);
        // The object is the service edited (or the one it belongs to) or the top-level entry.
        let names: Vec<String> = match (&edited_service, top(0).as_str()) {
            (None, "services") => base.services.keys().cloned().collect(),
            (Some(s), _) => base
                .services
                .keys()
                .filter(|n| *n == s || s.starts_with(&format!("{n}-")))
                .cloned()
                .chain([s.clone()])
                .collect(),
            (None, t0) if path.len() <= 1 => vec![t0.to_string(), format!("{t0}/")],
            (None, t0) => vec![t0.to_string(), format!("{t0}/{}", top(1))],
        };
        // A key added names itself (a service or a top-level entry of that name).
        let names: Vec<String> = match e {
            Edit::Add(p) if p.len() <= 1 => names
                .into_iter()
                .chain(["envc-added".to_string()])
                .collect(),
            _ => names,
        };
        match names_object(&base, &b, &names) {
            Ok(()) => t.caught += 1,
            Err(why) => t.missed.push(format!("{what}: {why}")),
        }
    }
    t
}

/// The monitoring.coreos.com documents of a set, as one file.
fn operator_objects(set: &FileSet) -> FileSet {
    let mut text = String::new();
    for f in set.files.keys() {
        let Some(t) = set.text(f) else { continue };
        for doc in envc_diff::docs::parse(f, t).expect("parse") {
            let api = doc
                .get("apiVersion")
                .and_then(Y::as_str)
                .unwrap_or_default();
            if api.starts_with("monitoring.coreos.com/") {
                text.push_str("---\n");
                text.push_str(&yaml_serde::to_string(&doc).expect("yaml"));
            }
        }
    }
    assert!(text.contains("kind: PodMonitor") && text.contains("kind: PrometheusRule"));
    FileSet::from_memory(
        "operator".to_string(),
        [("operator.yaml".to_string(), text.into_bytes())],
    )
}

#[test]
fn every_single_field_edit_of_every_committed_set_is_drift() {
    let out = repo().join("out");
    let mut envs: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("out/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    envs.sort();
    assert!(!envs.is_empty());
    let helm = helm_or_skip("the eks and gke sets");
    // Every set, read or rendered up front; then checked on two threads (CI has two cores).
    enum Set {
        Kubernetes(FileSet),
        Compose(PathBuf),
    }
    let mut sets: Vec<(String, Set)> = Vec::new();
    for env in &envs {
        let e = env.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let k3s = FileSet::read(&[env.join("k3s")]).expect("read k3s");
        sets.push((format!("out/{e}/k3s"), Set::Kubernetes(k3s)));
        sets.push((format!("out/{e}/docker"), Set::Compose(env.join("docker"))));
        if let Some(h) = &helm {
            for mode in ["eks", "gke"] {
                let files = rendered(h, &env.join(mode).join("chart"));
                sets.push((
                    format!("out/{e}/{mode} (helm template)"),
                    Set::Kubernetes(files),
                ));
            }
        }
    }
    // Gateway API routes are in no committed set of out/: the routes scenario's reviewed sets
    // have them (HTTPRoutes in manifests and in a chart, beside the same routes as an Ingress).
    let routes = repo().join("tests/scenarios/routes/expected/portal");
    for mode in ["k3s", "gateway"] {
        let files = FileSet::read(&[routes.join(mode)]).expect("read routes scenario");
        sets.push((format!("scenario routes/{mode}"), Set::Kubernetes(files)));
    }
    if let Some(h) = &helm {
        let files = rendered(h, &routes.join("prod/chart"));
        sets.push((
            "scenario routes/prod (helm template)".to_string(),
            Set::Kubernetes(files),
        ));
    }
    // The Prometheus Operator's objects (PodMonitor, PrometheusRule) are in the scenarios'
    // staging set and prod chart; only they are taken (the rest is what out/ covers).
    let scenarios = repo().join("tests/scenarios");
    let staging = FileSet::read(&[scenarios.join("shop/expected/shop/staging")]).expect("staging");
    sets.push((
        "scenario shop/staging, operator objects".into(),
        Set::Kubernetes(operator_objects(&staging)),
    ));
    if let Some(h) = &helm {
        let files = rendered(h, &scenarios.join("jobs/expected/batch/prod/chart"));
        sets.push((
            "scenario batch/prod (helm template), operator objects".into(),
            Set::Kubernetes(operator_objects(&files)),
        ));
    }
    let check = |(label, set): &(String, Set)| {
        let start = std::time::Instant::now();
        let t = match set {
            Set::Kubernetes(files) => kubernetes(label, files),
            Set::Compose(dir) => compose(label, dir),
        };
        (label.clone(), t, start.elapsed())
    };
    let results: Vec<(String, Tally, std::time::Duration)> = std::thread::scope(|scope| {
        let (odd, even): (Vec<_>, Vec<_>) = sets.iter().enumerate().partition(|(i, _)| i % 2 == 1);
        let other = scope.spawn(move || odd.into_iter().map(|(_, s)| check(s)).collect::<Vec<_>>());
        let mut here: Vec<_> = even.into_iter().map(|(_, s)| check(s)).collect();
        here.extend(other.join().expect("thread"));
        here
    });
    let mut report = Vec::new();
    let mut missed = Vec::new();
    for (label, t, took) in results {
        report.push(format!(
            "{label}: {} edits, {} drift naming the object, {} removals of defaulted fields ({took:.1?})",
            t.edits, t.caught, t.defaulted
        ));
        missed.extend(t.missed.into_iter().map(|m| format!("{label}: {m}")));
    }
    println!("{}", report.join("\n"));
    eprintln!("{}", report.join("\n"));
    assert!(
        missed.is_empty(),
        "{} edits unseen:\n{}",
        missed.len(),
        missed.join("\n")
    );
}
