//! Table arithmetic on service definitions: the part several services share (a template they
//! extend), what is left of each, and what a later input changes (a profile's overlay).

use toml::{Table, Value};

/// The keys every table in `group` has with one value; for tables (`env`, `volumes`), the
/// entries they all share. A service extending the result and keeping [`minus`] is itself
/// again, since `extends` merges tables key by key and replaces everything else.
pub(crate) fn common(group: &[&Table]) -> Table {
    let Some((first, rest)) = group.split_first() else {
        return Table::new();
    };
    let mut out = Table::new();
    for (k, v) in first.iter() {
        match v {
            Value::Table(t) => {
                let mut shared = Table::new();
                for (ek, ev) in t {
                    if rest
                        .iter()
                        .all(|o| o.get(k).and_then(|x| x.get(ek)) == Some(ev))
                    {
                        shared.insert(ek.clone(), ev.clone());
                    }
                }
                // A table all of whose entries are not shared stays with the services.
                if !shared.is_empty() && rest.iter().all(|o| o.get(k).is_some_and(Value::is_table))
                {
                    out.insert(k.clone(), Value::Table(shared));
                }
            }
            _ => {
                if rest.iter().all(|o| o.get(k) == Some(v)) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// `service` without what `template` gives it.
pub(crate) fn minus(service: &Table, template: &Table) -> Table {
    let mut out = Table::new();
    for (k, v) in service {
        match (v, template.get(k)) {
            (Value::Table(t), Some(Value::Table(tt))) => {
                let rest: Table = t
                    .iter()
                    .filter(|(ek, ev)| tt.get(*ek) != Some(*ev))
                    .map(|(a, b)| (a.clone(), b.clone()))
                    .collect();
                if !rest.is_empty() {
                    out.insert(k.clone(), Value::Table(rest));
                }
            }
            (_, Some(tv)) if tv == v => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// What `later` sets that `base` does not have or has otherwise, as an overlay (tables merge
/// key by key, anything else replaces); and the keys `later` lost, which an overlay cannot
/// remove, as dotted paths.
pub(crate) fn overlay(base: &Table, later: &Table, path: &str) -> (Table, Vec<String>) {
    let mut out = Table::new();
    let mut lost = Vec::new();
    for (k, v) in later {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match (base.get(k), v) {
            (Some(Value::Table(b)), Value::Table(l)) => {
                let (o, mut l2) = overlay(b, l, &p);
                if !o.is_empty() {
                    out.insert(k.clone(), Value::Table(o));
                }
                lost.append(&mut l2);
            }
            (Some(b), _) if b == v => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for k in base.keys() {
        if !later.contains_key(k) {
            lost.push(if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            });
        }
    }
    (out, lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Table {
        toml::from_str(s).unwrap_or_default()
    }

    #[test]
    fn a_template_and_the_rest_give_the_service_back() {
        let a = t("image = 'x:1'\nargs = ['a']\n[env]\nA = '1'\nB = '2'\n");
        let b = t("image = 'x:1'\nargs = ['b']\n[env]\nA = '1'\nB = '3'\n");
        let c = common(&[&a, &b]);
        assert_eq!(c, t("image = 'x:1'\n[env]\nA = '1'\n"));
        assert_eq!(minus(&a, &c), t("args = ['a']\n[env]\nB = '2'\n"));
        let (o, lost) = overlay(&a, &b, "");
        assert_eq!(o, t("args = ['b']\n[env]\nB = '3'\n"));
        assert!(lost.is_empty());
    }
}
