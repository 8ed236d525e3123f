//! Facts of an artifact set envc has just built, read from the emitter's documents
//! (`envc_emit::kubernetes_documents`, `envc_emit::compose_document`) rather than parsed back
//! from their YAML text: `envc diff` of two modes spent about a third of its time parsing what
//! it had just written.
//!
//! A Kubernetes mode's objects stay typed: the extractor reads what each is (kind, name,
//! namespace) from its metadata, and makes its value (the value its text reads back as) only
//! where a fact needs it: first for the objects its index reads (Services, ConfigMaps, Secrets,
//! claims, autoscalers, routes), then one at a time, on the thread reading it, for workloads and
//! objects whose lines are compared. Making every value up front held them all at once.
//!
//! The documents are the values the text reads back as, and they go through the same
//! extractor as the read-back path ([`crate::k8s::extract_objects`]; for Compose the loader's
//! own steps, [`crate::compose::load::load_document`], then
//! [`crate::compose::extract_document`]), in the same order (files by path, as a
//! [`crate::FileSet`] holds them), so both paths give the same facts; the tests compare them
//! on every committed environment. Sets envc did not just build (files on disk, standard
//! input, rendered charts) are read back as before.

use yaml_serde::Value as Y;

use envc_emit::manifest::Doc;

use crate::facts::{Facts, Lines};
use crate::fileset::FileSet;
use crate::k8s::Obj;
use crate::split::Split;

/// Facts of a Compose artifact set given as its main file `main` as a document and its other
/// files (`.env`, secrets, mounted files), the same as [`crate::compose::extract`] gives for the
/// set's files. `None` when the document does not load (an interpolation error, whose message
/// names a line of the text): read the set's files back then, for the same message.
pub fn compose(
    label: &str,
    main: &str,
    doc: Y,
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
    lines: Lines,
) -> Option<Facts> {
    let set = FileSet::from_memory(label, files);
    let loaded = crate::compose::load::load_document(&set, main, doc).ok()?;
    Some(crate::compose::extract_document_with(
        &set,
        main,
        loaded.doc,
        loaded.notes,
        lines,
    ))
}

/// Facts of a Kubernetes artifact set given as its documents by file (`(path, documents)`,
/// as [`envc_emit::kubernetes_documents`] gives them), the same as [`crate::k8s::extract`]
/// gives for the set's files. Typed objects are made values only where a fact needs them, one
/// at a time.
pub fn kubernetes(label: &str, files: Vec<(String, Vec<Doc>)>, lines: Lines) -> Facts {
    kubernetes_split(label, files, lines, Split::BySize)
}

/// [`kubernetes`], the objects read on two threads as `split` says.
fn kubernetes_split(
    label: &str,
    files: Vec<(String, Vec<Doc>)>,
    lines: Lines,
    split: Split,
) -> Facts {
    let mut files = files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut docs = Vec::new();
    for (path, file_docs) in files {
        if !crate::docs::is_manifest_name(&path) {
            continue;
        }
        for d in file_docs {
            match d {
                Doc::Value(v) => unpack(v, &mut docs),
                // Typed objects are objects, never lists.
                typed @ Doc::Typed(_) => docs.push(typed),
            }
        }
    }
    // The set's order, the typed objects moved into it (the extractor drops each once read).
    let mut values = Vec::new();
    let mut order = Vec::with_capacity(docs.len());
    for d in docs {
        match d {
            Doc::Value(v) => {
                values.push(v);
                order.push(None);
            }
            Doc::Typed(m) => order.push(Some(m)),
        }
    }
    let mut values = values.iter();
    let set: Vec<Obj<'_>> = order
        .into_iter()
        .filter_map(|typed| match typed {
            Some(m) => Some(Obj::Typed(m)),
            None => values.next().map(Obj::Value),
        })
        .collect();
    crate::k8s::extract_set(label, set, Vec::new(), lines, split)
}

/// Lists give their items; other documents are objects when they have a kind and an API
/// version (as [`crate::k8s::objects`] reads a file).
fn unpack(v: Y, out: &mut Vec<Doc>) {
    let kind = v.get("kind").and_then(Y::as_str);
    let list = kind.is_some_and(|k| k.ends_with("List")) && v.get("items").is_some();
    if list {
        if let Some(items) = v.get("items").and_then(Y::as_sequence) {
            for i in items.clone() {
                unpack(i, out);
            }
        }
    } else if kind.is_some() && v.get("apiVersion").and_then(Y::as_str).is_some() {
        out.push(Doc::Value(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's project and every test scenario's, in order.
    fn project_and_scenarios() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let scenarios = std::fs::read_dir(root.join("tests/scenarios"))
            .into_iter()
            .flatten();
        let mut scenarios: Vec<_> = scenarios.flatten().map(|e| e.path()).collect();
        scenarios.sort();
        let mut roots = vec![root];
        roots.extend(scenarios);
        roots
    }

    /// Calls `f` with the environment, mode and IR of every mode of the project at `dir` that
    /// compiles (a mode an environment cannot build is skipped).
    fn each_mode(dir: &std::path::Path, mut f: impl FnMut(&str, &str, &envc_core::ir::Ir)) {
        let mut project = envc_model::Project::load(dir)
            .unwrap_or_else(|e| panic!("{} loads: {:?}", dir.display(), e.diagnostics));
        let envs: Vec<String> = project.environments.keys().cloned().collect();
        let modes: Vec<String> = project.profiles.keys().cloned().collect();
        for env in &envs {
            for mode in &modes {
                let Ok(loaded) = project.mode(env, mode) else {
                    continue;
                };
                if let Ok(c) = envc_core::resolve::compile(&mut project, &loaded) {
                    f(env, mode, &c.ir);
                }
            }
        }
    }

    /// The facts read back from a set's files (`read`) and those from its documents (`given`)
    /// are the same, some services among them, and a comparison of the two is empty.
    fn assert_same_facts(read: &Facts, given: &Facts, shown: &str) {
        assert!(!read.services.is_empty(), "{shown}");
        assert_eq!(format!("{read:?}"), format!("{given:?}"), "{shown}");
        let c = crate::compare_modes(read, given, &Default::default());
        assert!(c.differences.is_empty(), "{shown}: {:?}", c.differences);
    }

    /// Every committed environment's and test scenario's Kubernetes modes: the facts from the
    /// documents (typed objects, their values made only where a fact needs them) equal the
    /// facts read back from the YAML the same build writes, with every line and with a mode
    /// comparison's, and a comparison of the two is empty.
    #[test]
    fn documents_and_text_give_the_same_facts() {
        let mut compared = 0;
        for dir in &project_and_scenarios() {
            each_mode(dir, |env, mode, ir| {
                let docs = || envc_emit::kubernetes_documents(ir).ok().flatten();
                let Some(files) = docs() else {
                    return;
                };
                let shown = format!("{}: {env}/{mode}", dir.display());
                let artifacts = envc_emit::emit(ir).unwrap_or_default();
                assert_eq!(
                    files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
                    artifacts.iter().map(|a| a.path.clone()).collect::<Vec<_>>(),
                    "{shown}: the same files"
                );
                let set =
                    FileSet::from_memory("set", artifacts.into_iter().map(|a| (a.path, a.bytes)));
                for lines in [Lines::All, Lines::Modes] {
                    let mut notes = Vec::new();
                    let objects = crate::k8s::objects(&set, &mut notes);
                    let read = crate::k8s::extract_objects_with("set", &objects, notes, lines);
                    let given = kubernetes("set", docs().unwrap_or_default(), lines);
                    assert_same_facts(&read, &given, &shown);
                }
                compared += 1;
            });
        }
        assert!(compared >= 4, "Kubernetes modes compared: {compared}");
    }

    /// A typed Service's entry (read from the object, its value never made) is the entry its
    /// value gives, for every Service of every committed environment's and test scenario's
    /// Kubernetes modes: named target ports and node ports among them.
    #[test]
    fn typed_services_read_as_their_values() {
        let (mut services, mut named, mut node_ports) = (0, 0, 0);
        for dir in &project_and_scenarios() {
            each_mode(dir, |env, mode, ir| {
                let files = envc_emit::kubernetes_documents(ir).ok().flatten();
                for (_, docs) in files.unwrap_or_default() {
                    for d in docs {
                        let Doc::Typed(m) = d else { continue };
                        let Some(s) = m.service() else { continue };
                        let value = m.value().expect("a Service's value");
                        let typed = crate::service::ServiceEntry::of_typed(s);
                        assert_eq!(
                            typed,
                            crate::service::ServiceEntry::of_value(&value),
                            "{}: {env}/{mode}",
                            dir.display()
                        );
                        services += 1;
                        for p in &typed.ports {
                            named += usize::from(matches!(p.target_port, Some(Y::String(_))));
                            node_ports += usize::from(p.node_port.is_some());
                        }
                    }
                }
            });
        }
        assert!(services >= 20, "{services} Services");
        assert!(
            named > 0 && node_ports > 0,
            "{named} named target ports, {node_ports} node ports"
        );
    }

    /// Every committed environment's and test scenario's Compose modes: the facts from the
    /// document equal the facts read back from the files the same build writes, and a
    /// comparison of the two is empty.
    #[test]
    fn compose_document_and_text_give_the_same_facts() {
        let roots = project_and_scenarios();
        let mut compared = 0;
        for dir in &roots {
            each_mode(dir, |env, mode, ir| {
                let opts = envc_emit::Options::default();
                let Ok(Some((doc, rest))) = envc_emit::compose_document(ir, &opts) else {
                    return;
                };
                let artifacts = envc_emit::emit_with(ir, &opts).unwrap_or_default();
                let main = envc_emit::compose::COMPOSE_FILE;
                let rest: Vec<(String, Vec<u8>)> =
                    rest.into_iter().map(|a| (a.path, a.bytes)).collect();
                assert_eq!(
                    artifacts
                        .iter()
                        .map(|a| a.path.as_str())
                        .collect::<Vec<_>>(),
                    std::iter::once(main)
                        .chain(rest.iter().map(|(p, _)| p.as_str()))
                        .collect::<Vec<_>>(),
                    "{env}/{mode}: the same files"
                );
                let set =
                    FileSet::from_memory("set", artifacts.into_iter().map(|a| (a.path, a.bytes)));
                let read = crate::compose::extract(&set);
                let shown = format!("{}: {env}/{mode}", dir.display());
                let given = compose("set", main, doc, rest, Lines::All)
                    .unwrap_or_else(|| panic!("{shown}: the document loads"));
                assert_same_facts(&read, &given, &shown);
                compared += 1;
            });
        }
        assert!(compared >= 4, "Compose modes compared: {compared}");
    }

    /// The facts of a fresh build of one mode, with every structural line or only those a
    /// comparison of modes reads.
    fn in_memory(ir: &envc_core::ir::Ir, lines: Lines) -> Option<Facts> {
        if let Ok(Some(values)) = envc_emit::kubernetes_documents(ir) {
            return Some(kubernetes("set", values, lines));
        }
        let opts = envc_emit::Options::default();
        let (doc, rest) = envc_emit::compose_document(ir, &opts).ok()??;
        let rest = rest.into_iter().map(|a| (a.path, a.bytes));
        compose("set", envc_emit::compose::COMPOSE_FILE, doc, rest, lines)
    }

    /// Taking only the lines a comparison of modes reads ([`Lines::between`]) changes no
    /// comparison of two modes: every pair of modes of every committed environment and test
    /// scenario (Kubernetes against Compose, and each against itself) gives the same
    /// differences both ways, and the lines left out are there with [`Lines::All`]. Between
    /// formats ([`Lines::Kinds`]) no cluster object keeps a line, and still nothing changes.
    #[test]
    fn mode_lines_give_the_same_comparisons() {
        let roots = project_and_scenarios();
        let (mut pairs, mut between_formats, mut left_out, mut object_lines) = (0, 0, 0, 0);
        for dir in &roots {
            let mut built: Vec<(String, Facts, Facts, Facts)> = Vec::new();
            each_mode(dir, |env, mode, ir| {
                if let (Some(all), Some(modes), Some(kinds)) = (
                    in_memory(ir, Lines::All),
                    in_memory(ir, Lines::Modes),
                    in_memory(ir, Lines::Kinds),
                ) {
                    let name = format!("{}: {env}/{mode}", dir.display());
                    built.push((name, all, modes, kinds));
                }
            });
            // (A Compose pod's folded steps keep a few lines either way.)
            let lines = |f: &Facts| f.services.values().map(|s| s.fields.len()).sum::<usize>();
            let objects = |f: &Facts| {
                f.objects
                    .values()
                    .filter(|o| o.scope == crate::structure::Scope::Cluster)
                    .map(|o| o.lines.len())
                    .sum::<usize>()
            };
            for (_, all, modes, kinds) in &built {
                left_out += lines(all) - lines(modes);
                assert_eq!(objects(kinds), 0);
                assert_eq!(lines(kinds), lines(modes));
                object_lines += objects(modes);
            }
            for (na, all_a, modes_a, kinds_a) in &built {
                for (nb, all_b, modes_b, kinds_b) in &built {
                    let full = crate::compare_modes(all_a, all_b, &Default::default());
                    let (cut_a, cut_b) = match Lines::between(all_a.format, all_b.format) {
                        Lines::Kinds => {
                            between_formats += 1;
                            (kinds_a, kinds_b)
                        }
                        _ => (modes_a, modes_b),
                    };
                    let cut = crate::compare_modes(cut_a, cut_b, &Default::default());
                    assert_eq!(
                        format!("{:?}", full.differences),
                        format!("{:?}", cut.differences),
                        "{na} against {nb}"
                    );
                    assert_eq!(full.normalized, cut.normalized, "{na} against {nb}");
                    pairs += 1;
                }
            }
        }
        assert!(pairs >= 8, "pairs of modes compared: {pairs}");
        assert!(between_formats >= 4, "pairs of formats: {between_formats}");
        assert!(left_out > 100, "structural lines left out: {left_out}");
        assert!(object_lines > 100, "object lines left out: {object_lines}");
    }

    /// Splitting a comparison's work over two threads (as large sets are) gives what one pass
    /// gives: every pair of modes of the committed environments, split and not.
    #[test]
    fn split_comparisons_are_one_pass() {
        use crate::compare::compare_modes_split;
        use crate::split::Split;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut built = Vec::new();
        each_mode(&root, |_, _, ir| {
            if let Some(f) = in_memory(ir, Lines::Modes) {
                built.push(f);
            }
        });
        let mut pairs = 0;
        for a in &built {
            for b in &built {
                let one = compare_modes_split(a, b, &Default::default(), Split::Never);
                let split = compare_modes_split(a, b, &Default::default(), Split::Always);
                assert_eq!(
                    format!("{:?}", one.differences),
                    format!("{:?}", split.differences)
                );
                assert_eq!(
                    format!("{:?}", one.normalized_values),
                    format!("{:?}", split.normalized_values)
                );
                assert_eq!(format!("{:?}", one.sides), format!("{:?}", split.sides));
                assert_eq!(
                    (one.normalized, one.services),
                    (split.normalized, split.services)
                );
                if !one.differences.is_empty() {
                    pairs += 1;
                }
            }
        }
        assert!(pairs >= 2, "pairs that differ: {pairs}");
    }

    /// Reading a set's objects on two threads (as large sets are) gives the facts one pass
    /// gives, in the same order: every Kubernetes mode of every committed environment and test
    /// scenario, with every line and with a comparison's.
    #[test]
    fn split_extraction_is_one_pass() {
        use crate::split::Split;
        let mut read = 0;
        for dir in &project_and_scenarios() {
            each_mode(dir, |env, mode, ir| {
                let docs = || envc_emit::kubernetes_documents(ir).ok().flatten();
                if docs().is_none() {
                    return;
                }
                for lines in [Lines::All, Lines::Modes] {
                    let one =
                        kubernetes_split("set", docs().unwrap_or_default(), lines, Split::Never);
                    let split =
                        kubernetes_split("set", docs().unwrap_or_default(), lines, Split::Always);
                    assert!(!one.services.is_empty(), "{env}/{mode}");
                    assert_eq!(format!("{one:?}"), format!("{split:?}"), "{env}/{mode}");
                }
                read += 1;
            });
        }
        assert!(read >= 2, "Kubernetes modes read: {read}");
    }
}
