//! GitOps objects of a Kubernetes mode (`[gitops]` in its profile): an Argo CD `Application`
//! (`gitops/argocd.yaml`) and Flux's `GitRepository` with a `Kustomization` for manifests or a
//! `HelmRelease` for a chart (`gitops/flux.yaml`), each pointing at the committed artifact set
//! `out/<env>/<mode>` in the repository. They live beside the set, not in it: the
//! kustomization and the chart list their own files, so a controller never applies itself.
//!
//! Applied once by hand (`kubectl apply -f out/<env>/<mode>/gitops/argocd.yaml`), they keep the
//! cluster at what the branch holds.

use envc_core::Ir;
use envc_model::profile::{ArgoCdSettings, Backend, FluxSettings, GitOpsSettings};
use serde_json::{Value, json};

use crate::artifact::{Artifact, EmitError};
use crate::labels;
use crate::yaml::{self, value_to_yaml};

/// Namespace a chart's release record lives in (the chart creates the environment's
/// namespaces itself; see the README of a prod mode).
const RELEASE_NAMESPACE: &str = "default";

/// The GitOps files of the mode; none without `[gitops]` or for Compose modes.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    let header = ir.header_lines();
    documents(ir)
        .into_iter()
        .map(|(path, docs)| {
            let texts = docs
                .iter()
                .map(value_to_yaml)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Artifact::text(path, yaml::documents(&header, &texts)))
        })
        .collect()
}

/// The GitOps objects of the mode by file (`gitops/argocd.yaml`, `gitops/flux.yaml`), as
/// values: what [`emit`] writes, and what `envc diff` reads of a mode without writing it.
pub fn documents(ir: &Ir) -> Vec<(String, Vec<Value>)> {
    let Some(g) = &ir.gitops else {
        return Vec::new();
    };
    if ir.backend == Backend::Compose {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(a) = &g.argocd {
        out.push((
            "gitops/argocd.yaml".to_string(),
            vec![application(ir, g, a)],
        ));
    }
    if let Some(f) = &g.flux {
        out.push(("gitops/flux.yaml".to_string(), flux(ir, g, f)));
    }
    out
}

/// The set's folder in the repository: the chart for Helm modes, the kustomization otherwise.
fn source_path(ir: &Ir, g: &GitOpsSettings) -> String {
    let set = g.directory.join(&format!("out/{}/{}", ir.env, ir.mode));
    match ir.backend {
        Backend::Helm => format!("{set}/chart"),
        Backend::Kubernetes | Backend::Compose => set,
    }
}

fn name(ir: &Ir) -> String {
    format!("{}-{}", ir.env, ir.mode)
}

fn metadata(ir: &Ir, name: &str, namespace: &str) -> Value {
    let mut l = labels::environment(ir);
    l.insert("envc.dev/mode".into(), ir.mode.clone());
    json!({"name": name, "namespace": namespace, "labels": l})
}

fn application(ir: &Ir, g: &GitOpsSettings, a: &ArgoCdSettings) -> Value {
    let mut source = json!({
        "repoURL": g.repository.0,
        "targetRevision": g.branch,
        "path": source_path(ir, g),
    });
    let mut destination = json!({"server": "https://kubernetes.default.svc"});
    if ir.backend == Backend::Helm {
        source["helm"] = json!({"releaseName": ir.env, "valueFiles": ["values.yaml"]});
        destination["namespace"] = json!(RELEASE_NAMESPACE);
    }
    let mut meta = metadata(ir, &name(ir), &a.namespace);
    // Deleting the Application deletes what it deployed, as `helm uninstall` would.
    meta["finalizers"] = json!(["resources-finalizer.argocd.argoproj.io"]);
    let mut spec = json!({
        "project": a.project,
        "source": source,
        "destination": destination,
    });
    let mut sync = json!({"syncOptions": ["ServerSideApply=true"]});
    if a.auto_sync {
        sync["automated"] = json!({"prune": true, "selfHeal": true});
    }
    spec["syncPolicy"] = sync;
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": spec,
    })
}

fn flux(ir: &Ir, g: &GitOpsSettings, f: &FluxSettings) -> Vec<Value> {
    let interval = f.interval.to_string();
    let repo = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": metadata(ir, &name(ir), &f.namespace),
        "spec": {
            "interval": interval,
            "url": g.repository.0,
            "ref": {"branch": g.branch},
        },
    });
    let source_ref = json!({"kind": "GitRepository", "name": name(ir)});
    let deploy = match ir.backend {
        Backend::Helm => json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": metadata(ir, &name(ir), &f.namespace),
            "spec": {
                "interval": interval,
                "releaseName": ir.env,
                "targetNamespace": RELEASE_NAMESPACE,
                "storageNamespace": RELEASE_NAMESPACE,
                "chart": {"spec": {
                    "chart": format!("./{}", source_path(ir, g)),
                    "sourceRef": source_ref,
                    // A new chart on every commit of the set, whatever its version says.
                    "reconcileStrategy": "Revision",
                }},
                "install": {"remediation": {"retries": 3}},
                "upgrade": {"remediation": {"retries": 3}},
            },
        }),
        Backend::Kubernetes | Backend::Compose => json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": metadata(ir, &name(ir), &f.namespace),
            "spec": {
                "interval": interval,
                "path": format!("./{}", source_path(ir, g)),
                "prune": true,
                "wait": true,
                "timeout": "5m",
                "sourceRef": source_ref,
            },
        }),
    };
    vec![repo, deploy]
}
