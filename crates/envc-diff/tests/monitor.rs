//! The Prometheus Operator's objects read back as named facts: an edit planted in a
//! PodMonitor or a PrometheusRule of the shop scenario's staging set (the one whose profile
//! says the cluster runs the operator) is a difference naming the endpoint or the alert and
//! the field, and removing one rule touches that rule only (rules are keyed by group and name,
//! not by position).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;

use envc_diff::facts::Facts;
use envc_diff::{FileSet, compare};

use common::repo;

const STAGING: &str = "tests/scenarios/shop/expected/shop/staging";

/// The staging set's files, with `(file, from, to)` replacements applied.
fn staging(edits: &[(&str, &str, &str)]) -> Facts {
    let dir = repo().join(STAGING);
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).expect("staging set") {
        let path = e.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut text = std::fs::read_to_string(&path).expect("read");
        for (file, from, to) in edits.iter().filter(|(f, _, _)| *f == name) {
            assert!(text.contains(from), "{file} does not contain {from:?}");
            text = text.replacen(from, to, 1);
        }
        files.push((name, text.into_bytes()));
    }
    files.sort();
    envc_diff::k8s::extract(&FileSet::from_memory(STAGING.to_string(), files))
}

/// `(object, key)` of every difference between the committed set and the edited one.
fn differences(edits: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    let c = compare(&staging(&[]), &staging(edits), &BTreeMap::new());
    c.differences
        .iter()
        .map(|d| (d.service.clone(), d.key.to_string()))
        .collect()
}

#[test]
fn the_committed_set_holds_the_named_facts() {
    let f = staging(&[]);
    let monitor = f.objects.get("PodMonitor/shop/api").expect("PodMonitor");
    let line = |o: &envc_diff::facts::ObjectFacts, k: &str| {
        o.lines
            .get(k)
            .map(|v| v.display())
            .unwrap_or_else(|| panic!("no line {k} in {:?}", o.lines.keys().collect::<Vec<_>>()))
    };
    assert_eq!(line(monitor, "scrape[http].path"), "/metrics");
    assert_eq!(line(monitor, "scrape[http].interval"), "30s");
    let rule = f.objects.get("PrometheusRule/shop/api").expect("rule");
    assert_eq!(
        line(rule, "alert[shop.api/ServiceDown].expr"),
        "up{job=\"api\", namespace=\"shop\"} == 0"
    );
    assert_eq!(line(rule, "alert[shop.api/ServiceDown].for"), "5m");
    // No positional line is left for what the named lines hold.
    assert!(
        !rule.lines.keys().any(|k| k.starts_with("spec.groups")),
        "{:?}",
        rule.lines.keys().collect::<Vec<_>>()
    );
    // A service without a metrics port has rules but no monitor.
    assert!(f.objects.contains_key("PrometheusRule/shop/worker"));
    assert!(!f.objects.contains_key("PodMonitor/shop/worker"));
}

#[test]
fn planted_edits_name_the_alert_or_endpoint_and_field() {
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        (
            "api.yaml",
            "expr: up{job=\"api\", namespace=\"shop\"} == 0",
            "expr: up{job=\"api\", namespace=\"shop\"} == 1",
            "PrometheusRule/shop/api",
            "object.alert[shop.api/ServiceDown].expr",
        ),
        (
            "api.yaml",
            "path: /metrics",
            "path: /stats",
            "PodMonitor/shop/api",
            "object.scrape[http].path",
        ),
        (
            "api.yaml",
            "interval: 30s",
            "interval: 1m",
            "PodMonitor/shop/api",
            "object.scrape[http].interval",
        ),
        (
            "api.yaml",
            "severity: info",
            "severity: warning",
            "PrometheusRule/shop/api",
            "object.alert[shop.api/ContainerCpuThrottled].labels.severity",
        ),
        (
            "db.yaml",
            "      for: 10m\n",
            "      for: 1m\n",
            "PrometheusRule/shop/db",
            "object.alert[shop.db/ServiceNotRunning].for",
        ),
    ];
    for (file, from, to, object, key) in cases {
        let d = differences(&[(file, from, to)]);
        assert_eq!(
            d,
            vec![(object.to_string(), key.to_string())],
            "{file}: {from:?} -> {to:?}"
        );
    }
}

#[test]
fn a_removed_rule_is_that_rule_only() {
    let db = std::fs::read_to_string(repo().join(STAGING).join("db.yaml")).expect("db.yaml");
    let start = db.find("    - alert: ContainerRestarting").expect("rule");
    let end = start
        + db[start..]
            .find("    - alert: ContainerMemoryNearLimit")
            .expect("next");
    let d = differences(&[("db.yaml", &db[start..end], "")]);
    assert!(!d.is_empty());
    for (object, key) in &d {
        assert_eq!(object, "PrometheusRule/shop/db");
        assert!(
            key.starts_with("object.alert[shop.db/ContainerRestarting]."),
            "{key}: the other rules kept their keys"
        );
    }
}
