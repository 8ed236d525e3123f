//! The CI smoke of the fuzz harness: a fixed seed and a bounded number of cases over the
//! repository's projects and artifacts, with no property broken. `ENVC_FUZZ_CASES` and
//! `ENVC_FUZZ_SECS` run it longer (docs/testing.md; `scripts/fuzz` runs the release binary).

use std::path::PathBuf;
use std::time::Duration;

use envc_fuzz::{Config, run};

#[test]
fn fuzz_smoke_breaks_no_property() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let secs = var("ENVC_FUZZ_SECS");
    let config = Config {
        repo,
        seed: var("ENVC_FUZZ_SEED").unwrap_or(0x00e0_5eed),
        first_case: 0,
        cases: var("ENVC_FUZZ_CASES").or(if secs.is_some() { None } else { Some(150) }),
        time: secs.map(Duration::from_secs),
        findings: None,
    };
    let report = run(&config).expect("the harness runs");
    let total = report.model_cases + report.extract_cases;
    eprintln!(
        "fuzz smoke: {total} executions ({} model, {} accepted, {} extractor) in {:.1?}, {} diagnostic codes reached",
        report.model_cases,
        report.accepted,
        report.extract_cases,
        report.elapsed,
        report.codes.len()
    );
    // The harness must reach both sides of the pipeline, or it proves nothing.
    assert!(report.accepted > 0, "no mutated model was accepted");
    assert!(
        report.codes.len() > 10,
        "only {} diagnostic codes reached",
        report.codes.len()
    );
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "case {} (from {}): {}: {}",
                f.case, f.seed, f.finding.property, f.finding.detail
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "replay with `scripts/fuzz --seed {} --from CASE --cases 1 --findings DIR`:\n{}",
        config.seed,
        found.join("\n")
    );
}
