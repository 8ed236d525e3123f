//! `envc-fuzz`: runs the harness for a number of cases or a length of time and prints what it
//! executed and found (see docs/testing.md).
//!
//! Usage: `envc-fuzz [--seed N] [--cases N] [--from N] [--secs N] [--findings DIR] [--repo DIR]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use envc_fuzz::{Config, Report, run};

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("envc-fuzz: error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(report) => {
            print(&config, &report);
            if report.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("envc-fuzz: error: failed to run: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<Config, String> {
    let mut c = Config {
        repo: PathBuf::from("."),
        seed: envc_fuzz_seed(),
        first_case: 0,
        cases: None,
        time: None,
        findings: None,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|e| format!("bad number `{v}`: {e}"))
        };
        match a.as_str() {
            "--seed" => c.seed = number(value()?)?,
            "--cases" => c.cases = Some(number(value()?)?),
            "--from" => c.first_case = number(value()?)?,
            "--secs" => c.time = Some(Duration::from_secs(number(value()?)?)),
            "--findings" => c.findings = Some(PathBuf::from(value()?)),
            "--repo" => c.repo = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err(
                    "usage: envc-fuzz [--seed N] [--cases N] [--from N] [--secs N] [--findings DIR] [--repo DIR]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if c.cases.is_none() && c.time.is_none() {
        c.cases = Some(1000);
    }
    Ok(c)
}

/// The default seed: the smoke test's, so a bare run repeats CI's cases first.
fn envc_fuzz_seed() -> u64 {
    0x00e0_5eed
}

fn print(config: &Config, r: &Report) {
    let total = r.model_cases + r.extract_cases;
    println!(
        "envc-fuzz: seed {}, cases {}..{}, {} executions in {:.1?} ({:.0}/s)",
        config.seed,
        config.first_case,
        config.first_case + total,
        total,
        r.elapsed,
        total as f64 / r.elapsed.as_secs_f64().max(0.001)
    );
    println!(
        "  model pipeline: {} cases, {} accepted (built twice, artifacts parsed, read back by the diff extractors)",
        r.model_cases, r.accepted
    );
    println!(
        "  diff extractors: {} cases of mutated YAML",
        r.extract_cases
    );
    println!("  diagnostic codes reached: {}", r.codes.len());
    for (code, n) in &r.codes {
        println!("    {code:<28} {n}");
    }
    if !r.unlocated.is_empty() {
        println!("  errors without a location or model path (by code):");
        for (code, n) in &r.unlocated {
            println!("    {code:<28} {n}");
        }
    }
    println!("  findings: {}", r.findings.len());
    for f in &r.findings {
        let n = r
            .signatures
            .get(&f.finding.signature())
            .copied()
            .unwrap_or(1);
        println!(
            "  - case {} (from {}, {n} case{}): {}: {}",
            f.case,
            f.seed,
            if n == 1 { "" } else { "s" },
            f.finding.property,
            f.finding.detail.replace('\n', "\n      ")
        );
        if let Some(p) = &f.saved {
            println!("      saved: {}", p.display());
        }
    }
}
