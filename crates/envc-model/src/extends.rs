//! Service templates: `[templates.<name>]` tables of service keys, applied to a service with
//! `extends = ["name", ...]` when the environment file is read.
//!
//! A service that extends templates becomes the templates merged in order, then its own keys
//! on top: tables merge key by key, anything else is replaced (the profile overlay's rule).
//! Every value keeps the line it was written on, so an error in a value that came from a
//! template points at the template. The expansion happens once, on the environment file's
//! tree, before profiles overlay it: a profile's override still wins over both, and release
//! locks record the expanded definitions, so a prod build never needs the templates again.

use crate::diagnostic::did_you_mean;
use crate::node::{Node, NodeValue};
use crate::{Diagnostic, Diagnostics};

/// The key of the templates table in an environment file.
pub const TEMPLATES_KEY: &str = "templates";

/// The key of a service that names the templates it extends.
pub const EXTENDS_KEY: &str = "extends";

/// Expands every service's `extends` in an environment tree, in place, and removes the key;
/// unknown or malformed template names are reported and skipped.
pub fn expand(tree: &mut Node) -> Diagnostics {
    let mut d = Diagnostics::new();
    let templates: Vec<(String, Node)> = tree
        .get(TEMPLATES_KEY)
        .and_then(Node::as_table)
        .map(|t| t.iter().map(|(k, e)| (k.clone(), e.node.clone())).collect())
        .unwrap_or_default();
    for (name, t) in &templates {
        if t.get(EXTENDS_KEY).is_some() {
            d.push(
                Diagnostic::error(
                    "E-bad-template",
                    format!("template `{name}` extends other templates"),
                )
                .at(t.lookup(&[EXTENDS_KEY]).map_or(t.origin, |n| n.origin), "here")
                .hint("templates apply to services only: list every template on the service, in order (`extends = [\"base\", \"worker\"]`)"),
            );
        }
    }
    let mut used = vec![false; templates.len()];
    if let NodeValue::Table(top) = &mut tree.value
        && let Some(NodeValue::Table(services)) = std::sync::Arc::make_mut(top)
            .get_mut("services")
            .map(|e| &mut e.node.value)
    {
        expand_services(
            std::sync::Arc::make_mut(services),
            &templates,
            &mut used,
            &mut d,
        );
    }
    for ((name, _), used) in templates.iter().zip(used) {
        if !used {
            d.push(
                Diagnostic::warning(
                    "W-unused-template",
                    format!("no service extends template `{name}`"),
                )
                .at(tree.key_origin_of(&[TEMPLATES_KEY, name]), "declared here")
                .hint(format!(
                    "add `extends = [\"{name}\"]` to the services it is for, or remove it"
                )),
            );
        }
    }
    d
}

fn expand_services(
    services: &mut indexmap::IndexMap<String, crate::node::Entry>,
    templates: &[(String, Node)],
    used: &mut [bool],
    d: &mut Diagnostics,
) {
    for (svc, entry) in services.iter_mut() {
        let Some(extends) = entry.node.remove(EXTENDS_KEY) else {
            continue;
        };
        let names: Vec<(String, crate::Origin)> = match &extends.node.value {
            NodeValue::Array(items) => items
                .iter()
                .filter_map(|n| match n.as_str() {
                    Some(s) => Some((s.to_string(), n.origin)),
                    None => {
                        d.push(not_a_list(svc, n.origin));
                        None
                    }
                })
                .collect(),
            NodeValue::String(s) => vec![(s.clone(), extends.node.origin)],
            _ => {
                d.push(not_a_list(svc, extends.node.origin));
                continue;
            }
        };
        let mut merged: Option<Node> = None;
        for (name, origin) in &names {
            let Some(index) = templates.iter().position(|(k, _)| k == name) else {
                let mut diag = Diagnostic::error(
                    "E-unknown-template",
                    format!("service `{svc}` extends unknown template `{name}`"),
                )
                .at(*origin, "no such template");
                diag = match did_you_mean(name, templates.iter().map(|(k, _)| k.as_str())) {
                    Some(s) => diag.hint(format!("did you mean `{s}`?")),
                    None if templates.is_empty() => {
                        diag.hint("declare it as [templates.<name>] with the service keys it sets")
                    }
                    None => diag.hint(format!(
                        "templates are: {}",
                        templates
                            .iter()
                            .map(|(k, _)| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                d.push(diag);
                continue;
            };
            used[index] = true;
            let mut t = templates[index].1.clone();
            t.remove(EXTENDS_KEY);
            t.mark_via(origin.span);
            match &mut merged {
                None => merged = Some(t),
                Some(m) => m.overlay(&t),
            }
        }
        if let Some(mut m) = merged {
            m.overlay(&entry.node);
            m.origin = entry.node.origin;
            entry.node = m;
        }
    }
}

fn not_a_list(svc: &str, origin: crate::Origin) -> Diagnostic {
    Diagnostic::error(
        "E-bad-template",
        format!("`extends` of `{svc}` must list template names"),
    )
    .at(origin, "here")
    .hint("write `extends = [\"name\", ...]`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn expanded(text: &str) -> (Node, Diagnostics) {
        let (mut n, d) = Node::parse(FileId(0), text);
        assert!(!d.has_errors());
        let d = expand(&mut n);
        (n, d)
    }

    #[test]
    fn templates_merge_in_order_and_the_service_wins() {
        let (n, d) = expanded(
            "[templates.base]\nimage = 'app:1'\nenv = { A = '1', B = '1' }\nuser = 'x'\n\
             [templates.worker]\nenv = { B = '2' }\nargs = ['work']\n\
             [services.w]\nextends = ['base', 'worker']\nenv = { C = '3' }\nuser = 'y'\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let w = n.lookup(&["services", "w"]).expect("w");
        let s = |p: &[&str]| w.lookup(p).and_then(Node::as_str).map(str::to_string);
        assert_eq!(s(&["image"]).as_deref(), Some("app:1"));
        assert_eq!(s(&["env", "A"]).as_deref(), Some("1"));
        assert_eq!(s(&["env", "B"]).as_deref(), Some("2"));
        assert_eq!(s(&["env", "C"]).as_deref(), Some("3"));
        assert_eq!(s(&["user"]).as_deref(), Some("y"));
        assert!(w.get(EXTENDS_KEY).is_none());
        // The image keeps the template's line as its origin, and the `extends` entry it came
        // through; the service's own value has no such entry.
        let image = w.lookup(&["image"]).expect("image").origin;
        let templ = n.lookup(&["templates", "base", "image"]).expect("t").origin;
        assert_eq!((image.file, image.span), (templ.file, templ.span));
        let via = image.via_origin().expect("via");
        let text = "[templates.base]\nimage = 'app:1'\nenv = { A = '1', B = '1' }\nuser = 'x'\n\
             [templates.worker]\nenv = { B = '2' }\nargs = ['work']\n\
             [services.w]\nextends = ['base', 'worker']\nenv = { C = '3' }\nuser = 'y'\n";
        assert_eq!(&text[via.span.range()], "'base'");
        let args = w.lookup(&["args"]).expect("args").origin.via.expect("via");
        assert_eq!(&text[args.range()], "'worker'");
        assert_eq!(w.lookup(&["user"]).expect("user").origin.via, None);
    }

    #[test]
    fn unknown_templates_are_reported_with_a_suggestion() {
        let (_, d) =
            expanded("[templates.base]\nimage = 'a:1'\n[services.w]\nextends = ['bsae']\n");
        let msgs: Vec<String> = d
            .iter()
            .map(|x| format!("{} {} {:?}", x.code, x.message, x.hints))
            .collect();
        // The misspelt name leaves `base` unused: a warning after the error.
        assert_eq!(d.len(), 2, "{msgs:?}");
        assert!(msgs[1].starts_with("W-unused-template"), "{msgs:?}");
        assert!(
            msgs[0].contains("unknown template `bsae`") && msgs[0].contains("`base`"),
            "{msgs:?}"
        );
    }
}
