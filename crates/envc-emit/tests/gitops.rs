//! The GitOps objects in the committed `out/`: every Argo CD Application and Flux object points
//! at an artifact set that exists in the repository and that its controller can deploy (a
//! kustomization, or a chart), follows the profile's repository and branch, and no two
//! objects of one kind share a name in a controller's namespace.

#![allow(clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use yaml_serde::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n---\n")
        .skip(1)
        .map(|d| yaml_serde::from_str(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("no string at {path:?} in {v:?}"))
}

/// (environment, mode, gitops folder) of every committed set with GitOps objects.
fn sets() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for env in fs::read_dir(root().join("out"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for mode in fs::read_dir(env.path()).into_iter().flatten().flatten() {
            let g = mode.path().join("gitops");
            if g.is_dir() {
                out.push((
                    env.file_name().to_string_lossy().to_string(),
                    mode.file_name().to_string_lossy().to_string(),
                    g,
                ));
            }
        }
    }
    out.sort();
    out
}

fn deployable(path: &str) -> bool {
    let dir = root().join(path.trim_start_matches("./"));
    dir.join("kustomization.yaml").is_file() || dir.join("Chart.yaml").is_file()
}

#[test]
fn every_object_points_at_a_set_its_controller_can_deploy() {
    let sets = sets();
    assert!(
        sets.len() >= 6,
        "expected k3s, eks and gke of two environments: {sets:?}"
    );
    let mut names: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (env, mode, dir) in &sets {
        let set = format!("out/{env}/{mode}");
        for a in docs(&dir.join("argocd.yaml")) {
            assert_eq!(s(&a, &["kind"]), "Application");
            let path = s(&a, &["spec", "source", "path"]);
            assert!(path.starts_with(&set), "{set}: Application deploys {path}");
            assert!(
                deployable(path),
                "{set}: {path} holds no kustomization or chart"
            );
            assert_eq!(s(&a, &["spec", "source", "targetRevision"]), "main");
            assert!(names.insert((
                "Application".to_string(),
                s(&a, &["metadata", "namespace"]).to_string(),
                s(&a, &["metadata", "name"]).to_string()
            )));
        }
        let flux = docs(&dir.join("flux.yaml"));
        let repo = flux
            .iter()
            .find(|d| s(d, &["kind"]) == "GitRepository")
            .unwrap_or_else(|| panic!("{set}: no GitRepository"));
        for d in &flux {
            let kind = s(d, &["kind"]);
            assert!(
                names.insert((
                    kind.to_string(),
                    s(d, &["metadata", "namespace"]).to_string(),
                    s(d, &["metadata", "name"]).to_string()
                )),
                "{set}: two {kind}s of one name"
            );
            let path = match kind {
                "Kustomization" => s(d, &["spec", "path"]),
                "HelmRelease" => s(d, &["spec", "chart", "spec", "chart"]),
                _ => continue,
            };
            assert!(
                path.starts_with(&format!("./{set}")),
                "{set}: {kind} deploys {path}"
            );
            assert!(
                deployable(path),
                "{set}: {path} holds no kustomization or chart"
            );
            let source = if kind == "HelmRelease" {
                &d["spec"]["chart"]["spec"]["sourceRef"]
            } else {
                &d["spec"]["sourceRef"]
            };
            assert_eq!(
                s(source, &["name"]),
                s(repo, &["metadata", "name"]),
                "{set}: {kind} reads another source"
            );
        }
        // The kustomization does not list the GitOps objects, so a controller never applies itself.
        if let Ok(k) = fs::read_to_string(root().join(&set).join("kustomization.yaml")) {
            assert!(
                !k.contains("gitops"),
                "{set}: kustomization.yaml lists gitops/"
            );
        }
    }
}
