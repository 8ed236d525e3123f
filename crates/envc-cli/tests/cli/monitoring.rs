//! Prometheus Operator output: the rules of the PrometheusRules are the lakehouse's own rule
//! template's (one set of alerts, whichever Prometheus loads them), and `envc diff` explains a
//! monitor that one mode has and another has not by the profile line that asks for it.

use std::collections::BTreeSet;
use std::fs;

use yaml_serde::Value as Y;

use crate::common::{LAKEHOUSE, copy_dir, envc, lakehouse_project, parts, repo};

/// `(alert, service, severity, for, expr, summary, description)` of a rule.
type Rule = (String, String, String, String, String, String, String);

fn rule(r: &Y) -> Rule {
    let s = |path: &[&str]| {
        let mut v = r;
        for p in path {
            v = v.get(*p).unwrap_or(&Y::Null);
        }
        v.as_str().unwrap_or_default().to_string()
    };
    (
        s(&["alert"]),
        s(&["labels", "service"]),
        s(&["labels", "severity"]),
        s(&["for"]),
        s(&["expr"]),
        s(&["annotations", "summary"]),
        s(&["annotations", "description"]),
    )
}

fn rules_of(doc: &Y) -> Vec<Rule> {
    doc.get("groups")
        .and_then(Y::as_sequence)
        .into_iter()
        .flatten()
        .flat_map(|g| {
            g.get("rules")
                .and_then(Y::as_sequence)
                .cloned()
                .unwrap_or_default()
        })
        .map(|r| rule(&r))
        .collect()
}

#[test]
fn operator_rules_are_the_lakehouse_rule_templates() {
    let t = lakehouse_project();
    let profile = t.path().join("profiles/k3s.toml");
    let mut text = fs::read_to_string(&profile).expect("k3s profile");
    text.push_str("\n[kubernetes.prometheus_operator]\nlabels = { release = \"kps\" }\n");
    fs::write(&profile, text).expect("write profile");
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{err}");
    let set = t.path().join("out").join(LAKEHOUSE).join("k3s");
    let mut operator = BTreeSet::new();
    let mut template = BTreeSet::new();
    let mut monitors = BTreeSet::new();
    for e in fs::read_dir(&set).expect("set") {
        let path = e.expect("entry").path();
        if path.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue; // gitops/
        }
        let text = fs::read_to_string(&path).expect("read");
        for d in serde_yaml_documents(&text) {
            match d.get("kind").and_then(Y::as_str) {
                Some("PrometheusRule") => operator.extend(rules_of(&d["spec"])),
                Some("PodMonitor") => {
                    monitors.insert(
                        d["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
                Some("ConfigMap") if d["metadata"]["name"] == "prometheus-files" => {
                    let rules = d["data"]["rules"].as_str().expect("rules file");
                    let doc: Y = yaml_serde::from_str(rules).expect("rules yaml");
                    template.extend(rules_of(&doc));
                }
                _ => {}
            }
        }
    }
    assert!(!template.is_empty() && !operator.is_empty());
    // The operator's Prometheus scrapes other namespaces too: ServiceDown names the
    // namespace besides the job; nothing else differs.
    let operator: BTreeSet<Rule> = operator
        .into_iter()
        .map(|mut r| {
            if r.0 == "ServiceDown" {
                let ns = format!(", namespace=\"{}\"", "crypto-lakehouse");
                let ns2 = format!(", namespace=\"{}\"", "crypto-lakehouse-monitoring");
                r.4 = r.4.replace(&ns2, "").replace(&ns, "");
            }
            r
        })
        .collect();
    let only_template: Vec<_> = template.difference(&operator).collect();
    let only_operator: Vec<_> = operator.difference(&template).collect();
    assert!(
        only_template.is_empty() && only_operator.is_empty(),
        "only in the template: {only_template:#?}\nonly in the PrometheusRules: {only_operator:#?}"
    );
    // A PodMonitor for exactly the services the template scrapes.
    let scraped: BTreeSet<String> = template
        .iter()
        .filter(|r| r.0 == "ServiceDown")
        .map(|r| r.1.clone())
        .collect();
    assert_eq!(monitors, scraped);
}

fn serde_yaml_documents(text: &str) -> Vec<Y> {
    use serde::Deserialize;
    yaml_serde::Deserializer::from_str(text)
        .filter_map(|d| Y::deserialize(d).ok())
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
fn a_monitor_of_one_mode_only_is_explained_by_its_profile() {
    let t = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("tests/scenarios/shop"), t.path());
    let (_, out, err) = parts(&envc(
        t.path(),
        &["diff", "k3s", "staging", "--format", "json"],
    ));
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let find = |service: &str| {
        v["differences"]
            .as_array()
            .expect("differences")
            .iter()
            .find(|d| d["service"] == service && d["key"] == "object")
            .unwrap_or_else(|| panic!("no difference of {service} in {v:#}"))
            .clone()
    };
    for object in ["PodMonitor/shop/api", "PrometheusRule/shop/db"] {
        let d = find(object);
        assert_eq!(d["class"], "expected", "{d:#}");
        assert!(
            d["at"]
                .as_str()
                .is_some_and(|a| a.starts_with("profiles/staging.toml:")),
            "{d:#}"
        );
    }
    let (_, out, _) = parts(&envc(
        t.path(),
        &["diff", "docker", "staging", "--format", "json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let d = v["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .find(|d| d["service"] == "PodMonitor/shop/api")
        .expect("PodMonitor against Compose")
        .clone();
    assert_eq!(d["class"], "not-representable", "{d:#}");
}
