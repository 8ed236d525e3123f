//! What `envc diff --against` must see and must not see: a live cluster's dump of a set is the
//! set (no drift), and the edits issue 12 measured as unseen are drift (an eks render without
//! its disruption budgets, network policies and quotas, with privileged namespaces; a Compose
//! port published on every address instead of 127.0.0.1).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;

use envc_diff::classify::{Context, classify};
use envc_diff::compare::{Class, Comparison};
use envc_diff::facts::{Facts, Format};
use envc_diff::key::Key;
use envc_diff::{FileSet, compare};
use yaml_serde::Value as Y;

use common::{helm_or_skip, rendered, repo};

fn one_file(label: &str, text: String) -> FileSet {
    FileSet::from_memory(label, [("-".to_string(), text.into_bytes())])
}

/// Compared and classified as `--against` does (no models: no difference is expected).
fn against(a: &Facts, b: &Facts) -> Comparison {
    let mut c = compare(a, b, &BTreeMap::new());
    classify(
        &mut c,
        &Context {
            a_format: a.format,
            b_format: b.format,
            models: None,
            sources: None,
            accepted: &[],
            env: None,
        },
    );
    c
}

fn shown(c: &Comparison) -> Vec<String> {
    c.differences
        .iter()
        .map(|d| {
            format!(
                "{} {}: {:?} -> {:?} ({})",
                d.service,
                d.key,
                d.a,
                d.b,
                d.class.as_str()
            )
        })
        .collect()
}

/// The fixture is what `kubectl get ns,quota,limits,netpol,pdb,deploy,sts,ds,job,cronjob,svc,
/// cm,secret,hpa,ing,pvc,sa,role,rolebinding,clusterrole,clusterrolebinding -A -l app.kubernetes.io/part-of=crypto-lakehouse
/// -o yaml` returns for out/crypto-lakehouse/k3s once applied (tests/fixtures/live-dump/README.md
/// says how it was made): status, managedFields, uids, Service cluster IPs, the fields the API
/// server defaults, Secrets as base64 `data`.
#[test]
fn a_live_dump_of_the_k3s_set_shows_no_drift() {
    let fixture = repo().join("tests/fixtures/live-dump/crypto-lakehouse-k3s.yaml");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    for live in [
        "kind: List",
        "managedFields:",
        "status:",
        "clusterIP: 10.43.",
        "terminationMessagePath: /dev/termination-log",
        "uid: ",
    ] {
        assert!(text.contains(live), "the fixture is a live dump: {live}");
    }
    assert!(
        !text.contains("stringData"),
        "live Secrets have base64 data"
    );
    let set = FileSet::read(&[repo().join("out/crypto-lakehouse/k3s")]).expect("read set");
    let files = envc_diff::k8s::extract(&set);
    let dump = envc_diff::k8s::extract(&one_file("live", text.clone()));
    assert_eq!(dump.services.len(), files.services.len());
    assert!(dump.objects.len() > 20, "namespaces, quotas, policies, ...");
    let c = against(&files, &dump);
    assert_eq!(shown(&c), Vec::<String>::new(), "a live dump is the set");

    // An edit in the cluster is still seen.
    let edited = text.replacen(
        "pod-security.kubernetes.io/enforce: restricted",
        "pod-security.kubernetes.io/enforce: privileged",
        1,
    );
    assert_ne!(edited, text);
    let c = against(&files, &envc_diff::k8s::extract(&one_file("live", edited)));
    assert_eq!(
        shown(&c),
        [
            "Namespace/crypto-lakehouse object.metadata.labels.pod-security.kubernetes.io/enforce: Some(\"restricted\") -> Some(\"privileged\") (drift)"
        ]
    );
}

/// Deleting every PodDisruptionBudget, NetworkPolicy and ResourceQuota from an eks render and
/// making its namespaces privileged was 0 drift; each is drift now.
#[test]
fn an_eks_render_without_its_policies_is_drift() {
    let Some(helm) = helm_or_skip("the eks deletions") else {
        return;
    };
    let chart = rendered(&helm, &repo().join("out/crypto-lakehouse/eks/chart"));
    let render = chart.text("-").expect("utf-8").to_string();
    let mut notes = Vec::new();
    let objs = envc_diff::k8s::objects(&one_file("eks", render.clone()), &mut notes);
    let policy = ["PodDisruptionBudget", "NetworkPolicy", "ResourceQuota"];
    let kind = |o: &Y| {
        o.get("kind")
            .and_then(Y::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let deleted: Vec<String> = objs
        .iter()
        .filter(|o| policy.contains(&kind(o).as_str()))
        .map(|o| {
            let m = |k: &str| {
                o.get("metadata")
                    .and_then(|x| x.get(k))
                    .and_then(Y::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            format!("{}/{}/{}", kind(o), m("namespace"), m("name"))
        })
        .collect();
    for k in policy {
        assert!(
            deleted.iter().any(|d| d.starts_with(k)),
            "the render has a {k}"
        );
    }
    let mut edited: Vec<Y> = objs
        .iter()
        .filter(|o| !policy.contains(&kind(o).as_str()))
        .cloned()
        .collect();
    let mut namespaces = 0;
    for o in edited.iter_mut().filter(|o| kind(o) == "Namespace") {
        if let Some(Y::Mapping(labels)) = o.get_mut("metadata").and_then(|m| m.get_mut("labels")) {
            for mode in ["enforce", "audit", "warn"] {
                labels.insert(
                    Y::String(format!("pod-security.kubernetes.io/{mode}")),
                    Y::String("privileged".into()),
                );
            }
            namespaces += 1;
        }
    }
    assert!(namespaces > 0);
    let a = envc_diff::k8s::extract_objects("eks", &objs, Vec::new());
    let b = envc_diff::k8s::extract_objects("edited", &edited, Vec::new());
    let c = against(&a, &b);
    assert!(
        c.differences.iter().all(|d| d.class == Class::Drift),
        "{:#?}",
        shown(&c)
    );
    for d in &deleted {
        assert!(
            c.differences
                .iter()
                .any(|x| x.service == *d && x.key == Key::Object && x.b.is_none()),
            "{d} deleted: {:#?}",
            shown(&c)
        );
    }
    let privileged = c
        .differences
        .iter()
        .filter(|d| d.service.starts_with("Namespace/") && d.b.as_deref() == Some("privileged"))
        .count();
    assert_eq!(privileged, namespaces * 3, "{:#?}", shown(&c));
    assert_eq!(c.differences.len(), deleted.len() + privileged);
}

/// A published port moved from 127.0.0.1 to every address is drift, both ways of writing it.
#[test]
fn a_compose_port_published_on_every_address_is_drift() {
    let dir = repo().join("out/crypto-lakehouse/docker");
    let set = FileSet::read(std::slice::from_ref(&dir)).expect("read");
    let main = envc_diff::compose::compose_file(&set).expect("compose file");
    let text = set.text(&main).expect("text").to_string();
    assert!(text.contains("- 127.0.0.1:9000:9000/tcp"));
    let a = envc_diff::compose::extract(&set);
    assert_eq!(a.format, Format::Compose);
    for every in ["- 0.0.0.0:9000:9000/tcp", "- 9000:9000/tcp"] {
        let mut edited = set.clone();
        edited.files.insert(
            main.clone(),
            text.replace("- 127.0.0.1:9000:9000/tcp", every)
                .into_bytes(),
        );
        let c = against(&a, &envc_diff::compose::extract(&edited));
        assert_eq!(
            shown(&c),
            ["minio ports.9000/tcp.host_ip: Some(\"127.0.0.1\") -> None (drift)"],
            "{every}"
        );
    }
}
