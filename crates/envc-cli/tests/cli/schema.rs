//! `envc schema`: every committed environment and profile (the repository's and every test
//! scenario's) validates against the printed schema, with the real check-jsonschema; a file
//! envc refuses for its types fails it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{envc, parts, repo};
use crate::tools::tool;

/// The environment and profile files of every valid project in the repository.
fn committed_files() -> Vec<PathBuf> {
    let mut projects = vec![repo()];
    let mut scenarios: Vec<PathBuf> = fs::read_dir(repo().join("tests/scenarios"))
        .expect("scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    projects.extend(scenarios);
    let mut files = Vec::new();
    for p in projects {
        for d in ["environments", "profiles"] {
            let Ok(rd) = fs::read_dir(p.join(d)) else {
                continue;
            };
            let mut found: Vec<PathBuf> = rd
                .map(|e| e.expect("entry").path())
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    files
}

/// A TOML file as JSON, as editors' TOML language servers validate it.
fn as_json(toml_file: &Path, to: &Path) {
    let text = fs::read_to_string(toml_file).expect("read toml");
    let value: toml::Value = toml::from_str(&text).expect("parse toml");
    fs::write(to, serde_json::to_string(&value).expect("json")).expect("write json");
}

fn is_profile(f: &Path) -> bool {
    f.parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "profiles")
}

#[test]
fn every_committed_environment_and_profile_validates_against_the_schema() {
    let Some(cj) = tool("check-jsonschema", "schema validation of committed files") else {
        return;
    };
    let t = tempfile::tempdir().expect("tempdir");
    for (flag, name) in [
        (None, "environment.json"),
        (Some("--profile"), "profile.json"),
    ] {
        let args: Vec<&str> = std::iter::once("schema").chain(flag).collect();
        let (code, out, err) = parts(&envc(&repo(), &args));
        assert_eq!(code, 0, "{err}");
        fs::write(t.path().join(name), out).expect("write schema");
    }
    let files = committed_files();
    assert!(files.len() >= 10, "found only {files:?}");
    let mut failures = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let json = t.path().join(format!("{i}.json"));
        as_json(f, &json);
        let schema = if is_profile(f) {
            "profile.json"
        } else {
            "environment.json"
        };
        let o = Command::new(&cj)
            .arg("--schemafile")
            .arg(t.path().join(schema))
            .arg(&json)
            .output()
            .expect("run check-jsonschema");
        if !o.status.success() {
            failures.push(format!(
                "{}:\n{}",
                f.strip_prefix(repo()).unwrap_or(f).display(),
                String::from_utf8_lossy(&o.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The schema still refuses what envc refuses for its types.
    let bad = repo().join("tests/errors/wrong-type/environments/shop.toml");
    let json = t.path().join("bad.json");
    as_json(&bad, &json);
    let o = Command::new(&cj)
        .arg("--schemafile")
        .arg(t.path().join("environment.json"))
        .arg(&json)
        .output()
        .expect("run check-jsonschema");
    assert!(!o.status.success(), "replicas = \"two\" passed the schema");
    assert!(String::from_utf8_lossy(&o.stdout).contains("replicas"));
}

#[test]
fn schema_types_match_what_the_loader_accepts() {
    let (code, out, _) = parts(&envc(&repo(), &["schema"]));
    assert_eq!(code, 0);
    let s: serde_json::Value = serde_json::from_str(&out).expect("schema is JSON");
    let defs = &s["$defs"];
    // Numbers and booleans are environment values (`S5CMD_NUMWORKERS = 10`).
    let env_value = serde_json::to_string(&defs["EnvValue"]).expect("json");
    assert!(
        env_value.contains("number") && env_value.contains("boolean"),
        "{env_value}"
    );
    // `depends_on = ["postgres"]` is the short form of the table.
    let deps = serde_json::to_string(&defs["DependsOn"]).expect("json");
    assert!(deps.contains("array"), "{deps}");
    // A service may take any key from its templates.
    assert!(
        defs["Volume"].get("required").is_none(),
        "{}",
        defs["Volume"]
    );
    // A profile that extends another may leave out backend and tier.
    let (_, out, _) = parts(&envc(&repo(), &["schema", "--profile"]));
    let p: serde_json::Value = serde_json::from_str(&out).expect("schema is JSON");
    let settings = &p["$defs"]["ProfileSettings"];
    assert!(settings.get("required").is_none(), "{settings}");
    assert_eq!(
        settings["then"]["required"],
        serde_json::json!(["backend", "tier"])
    );
}
