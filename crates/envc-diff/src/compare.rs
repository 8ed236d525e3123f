//! Matching services and comparing their facts facet by facet.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::{Facts, Format};
use crate::normalize;

/// How a difference is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A profile sets it.
    Expected,
    /// The other format cannot express it.
    NotRepresentable,
    /// Declared as intended in the accepted-differences file.
    Accepted,
    /// Nothing explains it.
    Drift,
}

impl Class {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Expected => "expected",
            Class::NotRepresentable => "not representable",
            Class::Accepted => "accepted",
            Class::Drift => "drift",
        }
    }
}

/// One difference between the two sides.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Service (after renames).
    pub service: String,
    /// Facet: `image`, `env`, `ports`, ... or `service` when one side lacks the service.
    pub facet: String,
    /// Full key (`env.AWS_REGION`).
    pub key: String,
    /// Value on side A (secrets hashed).
    pub a: Option<String>,
    /// Value on side B.
    pub b: Option<String>,
    /// Unified diff of file contents, when the facet is a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
    /// Classification.
    pub class: Class,
    /// Why.
    pub reason: String,
    /// Where the reason is written (`profiles/docker.toml:12`), if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The outcome of comparing two fact sets.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Differences, grouped by service in a stable order.
    pub differences: Vec<Difference>,
    /// Values that differed only in host names or ports each format spells its own way.
    pub normalized: usize,
    /// Services compared.
    pub services: usize,
}

/// Why a facet cannot be compared across formats, if it cannot.
pub fn not_representable(format: Format, key: &str) -> Option<&'static str> {
    let facet = key.split('.').next().unwrap_or(key);
    match format {
        Format::Compose => match facet {
            "autoscaling" => Some("Compose cannot autoscale"),
            "exposure" => Some("Compose has no ingress"),
            "namespace" => Some("Compose has networks, not namespaces"),
            "probes" if key.starts_with("probes.liveness") || key.starts_with("probes.startup") => {
                Some("Compose has one healthcheck (from the readiness probe); it cannot restart on liveness or hold probes for startup")
            }
            "ports" if key.ends_with(".node_port") => Some("Compose has no NodePorts"),
            "ports" if key.ends_with(".service") => Some("Compose services are reached on their container ports"),
            "volumes" if key.ends_with(".size") => Some("Compose volumes have no size"),
            _ => None,
        },
        Format::Kubernetes => match facet {
            "depends_on" => Some("Kubernetes has no start order (readiness probes and retries take its place)"),
            "namespace" => Some("Kubernetes has namespaces, not Compose networks"),
            "ports" if key.ends_with(".host_port") => Some("Kubernetes reaches pods through Services (NodePort) or ingress, not host ports"),
            _ => None,
        },
    }
}

/// Compares two fact sets after renaming B's services with `renames` (B name -> A name) and
/// normalising host names and ports. Differences come out unclassified (`Drift`, empty reason);
/// the caller classifies them.
pub fn compare(a: &Facts, b: &Facts, renames: &BTreeMap<String, String>) -> Comparison {
    let mut a = a.clone();
    let mut b = b.clone();
    normalize::rename(&mut b, renames);
    let raw_a = a.clone();
    let raw_b = b.clone();
    let ra = normalize::host_rewriter(&a, &BTreeMap::new());
    let rb = normalize::host_rewriter(&b, renames);
    normalize::rewrite(&mut a, &ra);
    normalize::rewrite(&mut b, &rb);

    let mut names: Vec<String> = a.services.keys().cloned().collect();
    for n in b.services.keys() {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names.sort();
    let mut differences = Vec::new();
    let mut normalized = 0;
    let mut services = 0;
    for n in &names {
        let (sa, sb) = (a.services.get(n), b.services.get(n));
        let (Some(sa), Some(sb)) = (sa, sb) else {
            differences.push(Difference {
                service: n.clone(),
                facet: "service".into(),
                key: "service".into(),
                a: sa.map(|s| s.workload.clone()),
                b: sb.map(|s| s.workload.clone()),
                text_diff: None,
                class: Class::Drift,
                reason: String::new(),
                at: None,
            });
            continue;
        };
        services += 1;
        let fa = sa.flatten();
        let fb = sb.flatten();
        let raw_fa = raw_a.services.get(n).map(|s| s.flatten()).unwrap_or_default();
        let raw_fb = raw_b.services.get(n).map(|s| s.flatten()).unwrap_or_default();
        let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let va = fa.get(k);
            let vb = fb.get(k);
            if va.map(|x| &x.1) == vb.map(|x| &x.1) {
                if raw_fa.get(k).map(|x| &x.1) != raw_fb.get(k).map(|x| &x.1) {
                    normalized += 1;
                }
                continue;
            }
            let facet = va.or(vb).map(|x| x.0.clone()).unwrap_or_default();
            let text_diff = if facet == "files" {
                let path = &k["files.".len()..];
                let ca = sa.files.get(path).map(|f| f.content.as_str()).unwrap_or("");
                let cb = sb.files.get(path).map(|f| f.content.as_str()).unwrap_or("");
                (!ca.is_empty() || !cb.is_empty()).then(|| {
                    similar::TextDiff::from_lines(ca, cb)
                        .unified_diff()
                        .context_radius(2)
                        .header(&format!("a{path}"), &format!("b{path}"))
                        .to_string()
                })
            } else {
                None
            };
            differences.push(Difference {
                service: n.clone(),
                facet,
                key: k.clone(),
                a: va.map(|x| x.1.clone()),
                b: vb.map(|x| x.1.clone()),
                text_diff,
                class: Class::Drift,
                reason: String::new(),
                at: None,
            });
        }
    }
    Comparison { differences, normalized, services }
}
