//! The Kubernetes backend: plain manifests and a `kustomization.yaml` (`kubectl apply -k`).
//!
//! The objects come from [`crate::object`] (shared with the Helm chart) in the manifests'
//! flavour; this backend adds what only plain manifests have (dev-tier Secrets with their
//! values) and serialises them. k8s-openapi's field order and sorted label maps make the output
//! byte-identical on every run.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_model::profile::Tier;
use k8s_openapi::api::core::v1::Secret as K8sSecret;
use serde::Serialize;

use crate::artifact::{Artifact, EmitError};
use crate::labels::{self, Flavour};
use crate::manifest::{Doc, Manifest, value_of};
use crate::name::SECRET_KEY;
use crate::object::{self, meta};
use crate::yaml;

/// Annotation marking a Secret that holds a dev-tier default value.
pub const DEV_DEFAULT_ANNOTATION: &str = "envc.dev/dev-default";

const FLAVOUR: Flavour = Flavour::Manifests;

/// Compiles the IR into manifests plus `kustomization.yaml`.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    let header = ir.header_lines();
    let files = files(ir, &Text)?;
    let mut out: Vec<Artifact> = Vec::new();
    out.push(Artifact::text(
        "kustomization.yaml",
        kustomization(&header, files.iter().map(|(n, _)| n.as_str())),
    ));
    for (name, docs) in files {
        out.push(Artifact::text(name, yaml::documents(&header, &docs)));
    }
    Ok(out)
}

/// Files and their documents, `(path, documents)`, in the order of the artifact set.
pub type Documents<D = yaml_serde::Value> = Vec<(String, Vec<D>)>;

/// The documents of every file [`emit`] writes, `kustomization.yaml` first, in memory rather
/// than as text: what a caller that reads the set in memory (`envc diff` of two modes) would
/// otherwise parse back. Objects stay typed ([`Doc::Typed`]), their values made only when the
/// caller asks (the values are those the YAML text reads back as).
pub fn documents(ir: &Ir) -> Result<Documents<Doc>, EmitError> {
    let files = files(ir, &Typed)?;
    let resources: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    let mut out = vec![(
        "kustomization.yaml".to_string(),
        vec![Doc::Value(value_of(&kustomization)?)],
    )];
    out.extend(files);
    Ok(out)
}

/// How documents are made: YAML text for the artifact set, or typed objects read in memory.
trait Sink {
    type Doc;
    fn typed<T: Manifest + Serialize + 'static>(&self, object: T) -> Result<Self::Doc, EmitError>;
}

struct Text;

impl Sink for Text {
    type Doc = String;
    fn typed<T: Manifest + Serialize + 'static>(&self, object: T) -> Result<String, EmitError> {
        crate::yaml::to_yaml(&object)
    }
}

struct Typed;

impl Sink for Typed {
    type Doc = Doc;
    fn typed<T: Manifest + Serialize + 'static>(&self, object: T) -> Result<Doc, EmitError> {
        Ok(Doc::Typed(Box::new(object)))
    }
}

/// Every manifest file but `kustomization.yaml`, in the order it lists them: `(name, its
/// documents)`.
fn files<S: Sink>(ir: &Ir, sink: &S) -> Result<Documents<S::Doc>, EmitError> {
    if let Some(s) = ir.services.iter().find(|s| !s.is_deployed()) {
        return Err(EmitError::NotRepresentable(
            format!("services.{}.external", s.name),
            "managed services are a feature of the helm backend; plain manifests deploy every service".into(),
        ));
    }
    let mut files: Documents<S::Doc> = Vec::new();

    // Namespaces and quotas.
    let mut docs = Vec::new();
    for ns in &ir.namespaces {
        docs.push(sink.typed(object::namespace(
            ir,
            &ns.name,
            ns.pod_security.as_str(),
            FLAVOUR,
        ))?);
        if let Some(q) = &ns.quota {
            docs.push(sink.typed(object::quota(ir, &ns.name, q, FLAVOUR))?);
        }
    }
    files.push(("namespaces.yaml".into(), docs));

    // Dev-tier secrets.
    if ir.tier == Tier::Dev && !ir.secrets.is_empty() {
        let mut docs = Vec::new();
        for s in &ir.secrets {
            let Some(v) = &s.value else { continue };
            for ns in &s.namespaces {
                docs.push(sink.typed(secret(
                    ir,
                    &s.name,
                    s.description.as_deref(),
                    ns,
                    &v.value,
                    v.derived,
                ))?);
            }
        }
        files.push(("secrets.yaml".into(), docs));
    }

    // Volumes several services mount.
    let docs = object::shared_claims(ir, FLAVOUR)
        .into_iter()
        .map(|o| sink.typed(o))
        .collect::<Result<Vec<_>, _>>()?;
    if !docs.is_empty() {
        files.push(("volumes.yaml".into(), docs));
    }

    // One file per service, in topological order.
    for s in &ir.services {
        let docs = object::service(ir, s, FLAVOUR)
            .into_iter()
            .map(|o| sink.typed(o))
            .collect::<Result<Vec<_>, _>>()?;
        files.push((format!("{}.yaml", s.name), docs));
    }

    // Routes: an Ingress per namespace with routes, or HTTPRoutes on the profile's Gateway.
    let mut docs = Vec::new();
    for ns in &ir.namespaces {
        for r in crate::gateway::routes(ir, &ns.name, FLAVOUR) {
            docs.push(sink.typed(r)?);
        }
    }
    if !docs.is_empty() {
        files.push(("ingress.yaml".into(), docs));
    }

    // NetworkPolicies.
    let docs = object::network_policies(ir, FLAVOUR)
        .into_iter()
        .map(|o| sink.typed(o))
        .collect::<Result<Vec<_>, _>>()?;
    if !docs.is_empty() {
        files.push(("network-policies.yaml".into(), docs));
    }

    Ok(files)
}

fn kustomization<'a>(header: &[String], resources: impl Iterator<Item = &'a str>) -> String {
    let mut s = crate::header::lines(header, "# ");
    s.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    for r in resources {
        s.push_str(&format!("  - {r}\n"));
    }
    s
}

fn secret(
    ir: &Ir,
    name: &str,
    description: Option<&str>,
    ns: &str,
    value: &str,
    derived: bool,
) -> K8sSecret {
    let mut m = meta(name, Some(ns), labels::environment(ir));
    let mut ann = BTreeMap::from([(
        DEV_DEFAULT_ANNOTATION.to_string(),
        if derived {
            "derived".to_string()
        } else {
            "model".to_string()
        },
    )]);
    if let Some(d) = description {
        ann.insert("envc.dev/description".into(), d.to_string());
    }
    m.annotations = Some(ann);
    K8sSecret {
        metadata: m,
        type_: Some("Opaque".into()),
        string_data: Some(BTreeMap::from([(
            SECRET_KEY.to_string(),
            value.to_string(),
        )])),
        ..Default::default()
    }
}
