//! Facts of an artifact set envc has just built, read from the emitter's documents
//! (`envc_emit::kubernetes_values`) rather than parsed back from their YAML text: `envc diff`
//! of two modes spent about a third of its time parsing what it had just written.
//!
//! The documents are the values the text reads back as, and they go through the same
//! extractor as the read-back path ([`crate::k8s::extract_objects`]), in the same order (files
//! by path, as a [`crate::FileSet`] holds them), so both paths give the same facts; the tests
//! compare them on every committed environment. Sets envc did not just build (files on disk,
//! standard input, rendered charts) are read back as before.

use yaml_serde::Value as Y;

use crate::facts::Facts;

/// Facts of a Kubernetes artifact set given as its documents by file (`(path, documents)`),
/// the same as [`crate::k8s::extract`] gives for the set's files.
pub fn kubernetes(label: &str, files: Vec<(String, Vec<Y>)>) -> Facts {
    let mut files = files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut objects = Vec::new();
    for (path, docs) in files {
        if !crate::docs::is_manifest_name(&path) {
            continue;
        }
        for d in docs {
            unpack(d, &mut objects);
        }
    }
    crate::k8s::extract_objects(label, &objects, Vec::new())
}

/// Lists give their items; other documents are objects when they have a kind and an API
/// version (as [`crate::k8s::objects`] reads a file).
fn unpack(v: Y, out: &mut Vec<Y>) {
    let kind = v.get("kind").and_then(Y::as_str);
    let list = kind.is_some_and(|k| k.ends_with("List")) && v.get("items").is_some();
    if list {
        if let Some(items) = v.get("items").and_then(Y::as_sequence) {
            for i in items.clone() {
                unpack(i, out);
            }
        }
    } else if kind.is_some() && v.get("apiVersion").and_then(Y::as_str).is_some() {
        out.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileSet;

    /// Every committed environment's Kubernetes modes: the facts from the documents equal the
    /// facts read back from the YAML the same build writes, and a comparison of the two is
    /// empty.
    #[test]
    fn documents_and_text_give_the_same_facts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut project = envc_model::Project::load(&root)
            .unwrap_or_else(|f| panic!("the repository's project loads: {:?}", f.diagnostics));
        let envs: Vec<String> = project.environments.keys().cloned().collect();
        let modes: Vec<String> = project.profiles.keys().cloned().collect();
        let mut compared = 0;
        for env in &envs {
            for mode in &modes {
                let Ok(loaded) = project.mode(env, mode) else {
                    continue;
                };
                let Ok(c) = envc_core::resolve::compile(&mut project, &loaded) else {
                    continue;
                };
                let Ok(Some(values)) = envc_emit::kubernetes_values(&c.ir) else {
                    continue;
                };
                let artifacts = envc_emit::emit(&c.ir).unwrap_or_default();
                assert_eq!(
                    values.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
                    artifacts.iter().map(|a| a.path.clone()).collect::<Vec<_>>(),
                    "{env}/{mode}: the same files"
                );
                let set =
                    FileSet::from_memory("set", artifacts.into_iter().map(|a| (a.path, a.bytes)));
                let read = crate::k8s::extract(&set);
                let given = kubernetes("set", values);
                assert!(!read.services.is_empty(), "{env}/{mode}");
                assert_eq!(format!("{read:?}"), format!("{given:?}"), "{env}/{mode}");
                let c = crate::compare_modes(&read, &given, &Default::default());
                assert!(
                    c.differences.is_empty(),
                    "{env}/{mode}: {:?}",
                    c.differences
                );
                compared += 1;
            }
        }
        assert!(compared >= 2, "Kubernetes modes compared: {compared}");
    }
}
