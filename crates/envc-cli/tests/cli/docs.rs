//! The documentation covers what the code has: every model key and every diagnostic code.

use std::fs;
use std::path::Path;

use crate::common::{envc, parts, repo};

fn keys(schema: &serde_json::Value, out: &mut Vec<String>) {
    match schema {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            for v in m.values() {
                keys(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn every_model_key_is_documented() {
    let doc = fs::read_to_string(repo().join("docs/model.md")).expect("docs/model.md");
    let t = tempfile::tempdir().expect("tempdir");
    for args in [vec!["schema"], vec!["schema", "--profile"]] {
        let (code, out, _) = parts(&envc(t.path(), &args));
        assert_eq!(code, 0);
        let schema: serde_json::Value = serde_json::from_str(&out).expect("json");
        let mut all = Vec::new();
        keys(&schema, &mut all);
        assert!(all.len() > 10, "{args:?}");
        for k in all {
            assert!(
                doc.contains(&format!("`{k}`")),
                "docs/model.md does not document `{k}`"
            );
        }
    }
}

fn codes_in(dir: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            codes_in(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = fs::read_to_string(&p).expect("read");
            for (i, _) in text.match_indices("\"E-").chain(text.match_indices("\"W-")) {
                let code: String = text[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if code.len() > 3 {
                    out.push(code);
                }
            }
        }
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc = fs::read_to_string(repo().join("docs/errors.md")).expect("docs/errors.md");
    let mut codes = Vec::new();
    codes_in(&repo().join("crates"), &mut codes);
    codes.sort();
    codes.dedup();
    assert!(codes.len() > 30);
    for c in codes {
        assert!(
            doc.contains(&format!("`{c}`")),
            "docs/errors.md does not document `{c}`"
        );
    }
}
