//! The recommended `app.kubernetes.io/*` labels, shared by the Kubernetes-based backends.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::Service;

/// Version of a chart whose mode has no numbered release (no lock, or a lock written before
/// releases were numbered); a numbered release's chart is `<release>.0.0`
/// ([`envc_model::release::ReleaseNumber::chart_version`]).
pub const CHART_VERSION: &str = "0.1.0";

/// The chart version of a mode: its release's, or [`CHART_VERSION`].
pub fn chart_version(ir: &Ir) -> String {
    ir.release
        .as_ref()
        .map_or_else(|| CHART_VERSION.to_string(), |r| r.chart_version())
}

/// The `helm.sh/chart` label, which objects carry and pod templates do not: a pod template
/// that changed with the chart version would restart every pod of the environment at each
/// promotion, whatever it promoted.
pub const CHART_LABEL: &str = "helm.sh/chart";

/// Who applies the objects, which is what the `managed-by` label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Plain manifests, applied with `kubectl apply -k`: `managed-by: envc`.
    Manifests,
    /// Templates of a Helm chart: `managed-by: Helm` and `helm.sh/chart`, the labels Helm's
    /// own chart starter puts on every object (`.Release.Service` is always `Helm`).
    Chart,
}

/// Labels of objects that belong to the whole environment, in plain manifests.
pub fn environment(ir: &Ir) -> BTreeMap<String, String> {
    environment_in(ir, Flavour::Manifests)
}

/// Labels of objects that belong to the whole environment.
pub fn environment_in(ir: &Ir, flavour: Flavour) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = ir
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    l.insert("app.kubernetes.io/part-of".into(), ir.env.clone());
    match flavour {
        Flavour::Manifests => {
            l.insert("app.kubernetes.io/managed-by".into(), "envc".into());
        }
        Flavour::Chart => {
            l.insert("app.kubernetes.io/managed-by".into(), "Helm".into());
            l.insert(CHART_LABEL.into(), chart_label(&ir.env, &chart_version(ir)));
        }
    }
    l
}

/// The `helm.sh/chart` label: chart name and version, as Helm's chart starter writes it.
fn chart_label(chart: &str, version: &str) -> String {
    let v: String = format!("{chart}-{version}")
        .replace('+', "_")
        .chars()
        .take(63)
        .collect();
    v.trim_end_matches('-').to_string()
}

/// The selector labels of a service: stable across image updates.
pub fn selector(ir: &Ir, s: &Service) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), s.name.clone()),
        ("app.kubernetes.io/instance".to_string(), ir.env.clone()),
    ])
}

/// Every label of a service's objects, in plain manifests.
pub fn service(ir: &Ir, s: &Service) -> BTreeMap<String, String> {
    service_in(ir, s, Flavour::Manifests)
}

/// The labels of a service's pod templates: its objects' labels without the chart's version
/// ([`CHART_LABEL`]).
pub fn pod_in(ir: &Ir, s: &Service, flavour: Flavour) -> BTreeMap<String, String> {
    let mut l = service_in(ir, s, flavour);
    l.remove(CHART_LABEL);
    l
}

/// Every label of a service's objects.
pub fn service_in(ir: &Ir, s: &Service, flavour: Flavour) -> BTreeMap<String, String> {
    let mut l = environment_in(ir, flavour);
    l.extend(selector(ir, s));
    if let Some(c) = &s.component {
        l.insert("app.kubernetes.io/component".into(), c.clone());
    }
    if let Some(v) = image_version(&s.image) {
        l.insert("app.kubernetes.io/version".into(), v);
    }
    l
}

/// The version part of an image reference, made a valid label value.
pub fn image_version(image: &str) -> Option<String> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let (_, tag) = last.split_once(':')?;
    let v: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    let v = v
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_label_values() {
        assert_eq!(
            image_version("postgres:17.11-alpine").as_deref(),
            Some("17.11-alpine")
        );
        assert_eq!(
            image_version("localhost:5000/a/b:1.2").as_deref(),
            Some("1.2")
        );
        assert_eq!(image_version("a/b@sha256:abc"), None);
    }
}
