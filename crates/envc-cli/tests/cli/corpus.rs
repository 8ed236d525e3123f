//! The false-difference rate on a public corpus: kompose's test fixtures, Compose files with the
//! Kubernetes manifests kompose made from them (`tests/fixtures/kompose/`, see its SOURCE.md).
//! Every drift item `envc diff` reports is listed in `judged.tsv` with a verdict written by hand:
//! `true` (the two files say different things, kompose's doing included) or `false` (they say
//! the same). The test fails on an item nobody judged or a judged item that no longer occurs
//! (`ENVC_BLESS=1` rewrites the file, keeping verdicts and marking new items `?` to judge); the
//! acceptance test fails when 5% or more of the items are false.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{blessing, repo};

/// One drift item, spelled as in `judged.tsv`: case, service, key, side A -> side B.
fn items(root: &Path) -> Vec<String> {
    let cases = std::fs::read_to_string(root.join("cases.tsv")).expect("cases.tsv");
    let mut out = Vec::new();
    for line in cases
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, files, manifests, _flags, how] = cols[..] else {
            panic!("cases.tsv: 5 columns expected: {line}");
        };
        let files: Vec<&str> = files.split(' ').collect();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_envc"));
        cmd.current_dir(root).arg("diff").env_remove("COMPOSE_FILE");
        if how == "COMPOSE_FILE" {
            let dir = Path::new(files[0]).parent().expect("dir");
            let names: Vec<&str> = files
                .iter()
                .map(|f| f.rsplit('/').next().unwrap_or(f))
                .collect();
            cmd.env("COMPOSE_FILE", names.join(":"))
                .arg("--from")
                .arg(dir);
        } else {
            for f in &files {
                cmd.args(["--from", f]);
            }
        }
        if let Some(e) = how.strip_prefix("env-file=") {
            cmd.args(["--env-file", e]);
        }
        cmd.args(["--to", manifests, "--format", "json"]);
        let o = cmd.output().expect("run envc");
        let stdout = String::from_utf8_lossy(&o.stdout);
        let code = o.status.code().unwrap_or(-1);
        if code == 2 {
            // The error's first line (its hint follows on lines of its own).
            let stderr = String::from_utf8_lossy(&o.stderr);
            out.push(format!(
                "{name}\t(error)\t{}",
                stderr
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .replace(&root.display().to_string(), "")
            ));
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        for d in r["differences"].as_array().into_iter().flatten() {
            if d["class"] != "drift" {
                continue;
            }
            let show = |v: &serde_json::Value| v.as_str().unwrap_or("(none)").replace('\t', " ");
            out.push(format!(
                "{name}\t{}\t{}: {} -> {}",
                d["service"].as_str().unwrap_or_default(),
                d["key"].as_str().unwrap_or_default(),
                show(&d["a"]),
                show(&d["b"]),
            ));
        }
    }
    out
}

/// Every drift item judged, none stale; prints the false share.
#[test]
fn kompose_corpus_every_drift_item_is_judged() {
    corpus(false);
}

/// The acceptance bar of issue 12: under 5% of the drift items false (docs/diff.md, "Measured on
/// a public corpus").
#[test]
fn kompose_corpus_false_differences_stay_under_five_percent() {
    corpus(true);
}

fn corpus(bar: bool) {
    let root = repo().join("tests/fixtures/kompose");
    let found = items(&root);
    let path = root.join("judged.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    // item -> (verdict, reason)
    let mut judged: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut cols = line.splitn(5, '\t');
        let (Some(verdict), Some(case), Some(service), Some(item)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            panic!("judged.tsv: verdict, case, service, item, reason: {line}");
        };
        let reason = cols.next().unwrap_or_default();
        judged.insert(
            format!("{case}\t{service}\t{item}"),
            (verdict.to_string(), reason.to_string()),
        );
    }
    if blessing() {
        let mut out = String::from(
            "# verdict\tcase\tservice\tdrift item (key: side A -> side B)\twhy (judged by hand; see docs/diff.md)\n",
        );
        for f in &found {
            let (v, r) = judged
                .get(f)
                .cloned()
                .unwrap_or_else(|| ("?".into(), String::new()));
            out.push_str(&format!("{v}\t{f}\t{r}\n"));
        }
        std::fs::write(&path, out).expect("write judged.tsv");
        return;
    }
    let unjudged: Vec<&String> = found
        .iter()
        .filter(|f| {
            judged
                .get(*f)
                .is_none_or(|(v, _)| v != "true" && v != "false")
        })
        .collect();
    let stale: Vec<&String> = judged.keys().filter(|k| !found.contains(k)).collect();
    assert!(
        unjudged.is_empty() && stale.is_empty(),
        "judge these drift items in tests/fixtures/kompose/judged.tsv (ENVC_BLESS=1 adds them as `?`):\n{}\nno longer reported:\n{}",
        unjudged
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let false_items = found.iter().filter(|f| judged[*f].0 == "false").count();
    println!(
        "kompose corpus: {} cases, {} drift items, {false_items} false ({:.1}%)",
        std::fs::read_to_string(root.join("cases.tsv"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count(),
        found.len(),
        100.0 * false_items as f64 / found.len().max(1) as f64
    );
    assert!(
        !bar || false_items * 20 < found.len(),
        "{false_items} of {} drift items are false (5% or more)",
        found.len()
    );
}
