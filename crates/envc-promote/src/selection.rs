//! What a promotion takes: every unit, or the ones `--only` names, and the release the target
//! runs once they are promoted.

use envc_lock::release::{Release, SHARED_UNIT};

/// What to promote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every unit: the target becomes the source.
    All,
    /// These units (service names, or [`SHARED_UNIT`]).
    Only(Vec<String>),
}

impl Selection {
    /// Whether a unit is selected.
    pub fn selects(&self, unit: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(u) => u.iter().any(|x| x == unit),
        }
    }
}

/// What the target runs after promoting `selection` from `source` into `target`: selected
/// units take the source's version (or go, when the source has none); the others stay.
/// A full promotion takes the source's order; otherwise new services go last.
pub fn candidate(target: &Release, source: &Release, selection: &Selection) -> Release {
    if *selection == Selection::All {
        return source.clone();
    }
    let mut out = target.clone();
    if selection.selects(SHARED_UNIT) {
        out.shared.clone_from(&source.shared);
    }
    for (name, s) in &source.services {
        if selection.selects(name) {
            out.services.insert(name.clone(), s.clone());
        }
    }
    out.services
        .retain(|name, _| !selection.selects(name) || source.services.contains_key(name));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use envc_model::{FileId, Node};

    fn release(text: &str) -> Release {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        Release::from_tree(&n, |p| Ok(format!("template {p}"))).unwrap()
    }

    const OLD: &str =
        "[services.api]\nimage = \"api:1.0.0\"\n[services.db]\nimage = \"db:2.0.0\"\n";

    #[test]
    fn a_selection_takes_only_its_units() {
        let old = release(OLD);
        let new = release(&OLD.replace("api:1.0.0", "api:1.1.0").replace(
            "[services.db]",
            "[services.web]\nimage = \"web:1.0.0\"\n[services.db]\ncommand = [\"x\"]",
        ));
        let only = candidate(&old, &new, &Selection::Only(vec!["api".into()]));
        assert_eq!(only.services["api"].image, "api:1.1.0");
        assert!(!only.services.contains_key("web"));
        assert_eq!(only.services["db"], old.services["db"]);
        assert_eq!(candidate(&old, &new, &Selection::All), new);
        let dropped = candidate(&new, &old, &Selection::Only(vec!["web".into()]));
        assert!(
            !dropped.services.contains_key("web"),
            "a selected unit the source lacks goes"
        );
        assert_eq!(dropped.services["api"].image, "api:1.1.0");
    }
}
