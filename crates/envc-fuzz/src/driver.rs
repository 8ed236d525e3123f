//! The mutation loop: each case is drawn from (seed, case number), run under `catch_unwind`,
//! and checked against every [`Property`]; failing inputs can be saved as projects that
//! `envc check` reproduces.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use envc_diff::{FileSet, compare};
use envc_model::profile::Backend;
use serde_json::Value;

use crate::corpus::{self, Kind, SeedFile, SeedProject, SeedYaml};
use crate::mutate;
use crate::pipeline::{self, Build, Outcome};
use crate::property::{self, Finding, Property};
use crate::rng::Rng;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The repository whose projects and artifacts seed the corpus.
    pub repo: PathBuf,
    /// The run's seed: the same seed and case number give the same input.
    pub seed: u64,
    /// The first case number (to replay one case: its number and `cases = Some(1)`).
    pub first_case: u64,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// Where to save each failing input (a project directory per model case, a file per
    /// extractor case); nothing is saved without it.
    pub findings: Option<PathBuf>,
}

/// One case that broke a property.
#[derive(Debug, Clone)]
pub struct CaseFinding {
    /// The case number (replay with the same seed).
    pub case: u64,
    /// The seed project or file it was mutated from.
    pub seed: String,
    /// What broke.
    pub finding: Finding,
    /// Where the input was saved.
    pub saved: Option<PathBuf>,
}

/// What a run did and found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Cases run against the model pipeline.
    pub model_cases: u64,
    /// Of those, models accepted (artifacts emitted, checked, extracted, compared).
    pub accepted: u64,
    /// Cases run against the diff extractors with mutated YAML.
    pub extract_cases: u64,
    /// How often each diagnostic code was produced (what the cases reached).
    pub codes: BTreeMap<&'static str, u64>,
    /// Errors without a location or model path, by code.
    pub unlocated: BTreeMap<&'static str, u64>,
    /// The first case of each finding signature.
    pub findings: Vec<CaseFinding>,
    /// How many cases showed each finding signature.
    pub signatures: BTreeMap<String, u64>,
    /// How long the run took.
    pub elapsed: Duration,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into its message and place.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-string payload".to_string())
    })
}

/// A seed project copied into a temporary directory, where cases write their mutated files.
struct Workspace {
    seed: SeedProject,
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(seed: SeedProject) -> io::Result<Workspace> {
        let dir = tempfile::Builder::new().prefix("envc-fuzz-").tempdir()?;
        for f in &seed.files {
            write(dir.path(), &f.rel, &f.bytes)?;
        }
        Ok(Workspace { seed, dir })
    }
}

fn write(root: &Path, rel: &str, bytes: &[u8]) -> io::Result<()> {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(p, bytes)
}

/// Runs the cases `config` selects and reports executions and findings.
pub fn run(config: &Config) -> io::Result<Report> {
    let start = Instant::now();
    let mut workspaces = corpus::projects(&config.repo)?
        .into_iter()
        .map(Workspace::new)
        .collect::<io::Result<Vec<_>>>()?;
    let yaml = corpus::yaml(&config.repo)?;
    let donors: Vec<Value> = workspaces
        .iter()
        .flat_map(|w| &w.seed.files)
        .filter(|f| f.kind != Kind::Asset)
        .filter_map(|f| mutate::toml_tree(&String::from_utf8_lossy(&f.bytes)))
        .collect();
    let yaml_donors: Vec<Value> = yaml
        .iter()
        .step_by(7)
        .flat_map(|y| mutate::yaml_trees(&y.text))
        .collect();
    let mut report = Report::default();
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
    }));
    let mut case = config.first_case;
    loop {
        let done = case - config.first_case;
        if config.cases.is_some_and(|n| done >= n)
            || config.time.is_some_and(|t| start.elapsed() >= t)
        {
            break;
        }
        let mut rng = Rng::for_case(config.seed, case);
        let found = if case % 3 == 2 || workspaces.is_empty() {
            report.extract_cases += 1;
            extract_case(&mut rng, &yaml, &yaml_donors, config, case)?
        } else {
            report.model_cases += 1;
            model_case(
                &mut rng,
                &mut workspaces,
                &donors,
                config,
                case,
                &mut report,
            )?
        };
        for f in found {
            let sig = f.finding.signature();
            let n = report.signatures.entry(sig).or_insert(0);
            if *n == 0 {
                report.findings.push(f);
            }
            *n += 1;
        }
        case += 1;
    }
    panic::set_hook(previous_hook);
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Picks a project (the root model about half the time), mutates one or two of its files,
/// builds everything, checks the properties, then restores the files.
fn model_case(
    rng: &mut Rng,
    workspaces: &mut [Workspace],
    donors: &[Value],
    config: &Config,
    case: u64,
    report: &mut Report,
) -> io::Result<Vec<CaseFinding>> {
    let w = if rng.chance(1, 2) {
        0
    } else {
        rng.below(workspaces.len())
    };
    let Some(ws) = workspaces.get_mut(w) else {
        return Ok(Vec::new());
    };
    let mut changed: Vec<(&SeedFile, Vec<u8>)> = Vec::new();
    for _ in 0..=rng.below(2) {
        let Some(file) = pick_file(rng, &ws.seed.files) else {
            break;
        };
        let text = String::from_utf8_lossy(&file.bytes);
        let bytes = match file.kind {
            Kind::Asset => mutate::bytes(rng, &file.bytes),
            _ => mutate::toml_document(rng, &text, donors),
        };
        write(ws.dir.path(), &file.rel, &bytes)?;
        changed.push((file, bytes));
    }
    let root = ws.dir.path();
    let mut found = Vec::new();
    match guarded(|| pipeline::build_all(root)) {
        Err(msg) => found.push(Finding::new(Property::NoPanic, msg)),
        Ok(first) => {
            tally(&first, report);
            found.extend(property::diagnostics(&first.diagnostics));
            for e in &first.internal {
                found.push(Finding::new(Property::NoInternalError, e.clone()));
            }
            // Only accepted models are built twice: a rejected one is cheap to rerun by hand,
            // and the second build is most of a case's cost.
            if first.accepted() {
                report.accepted += 1;
                found.extend(property::artifacts(&first.builds));
                found.extend(extract_builds(&first.builds));
                match guarded(|| pipeline::build_all(root)) {
                    Err(msg) => found.push(Finding::new(Property::NoPanic, msg)),
                    Ok(second) => found.extend(same(&first, &second)),
                }
            }
        }
    }
    let saved = if found.is_empty() {
        None
    } else {
        save_project(config, case, root)?
    };
    for (file, _) in &changed {
        write(root, &file.rel, &file.bytes)?;
    }
    Ok(found
        .into_iter()
        .map(|finding| CaseFinding {
            case,
            seed: ws.seed.name.clone(),
            finding,
            saved: saved.clone(),
        })
        .collect())
}

/// A file to mutate: the environment file most often, then profiles, locks and assets.
fn pick_file<'a>(rng: &mut Rng, files: &'a [SeedFile]) -> Option<&'a SeedFile> {
    let want = match rng.below(20) {
        0..=9 => Kind::Environment,
        10..=14 => Kind::Profile,
        15..=16 => Kind::Lock,
        _ => Kind::Asset,
    };
    let of_kind: Vec<&SeedFile> = files.iter().filter(|f| f.kind == want).collect();
    match rng.pick(&of_kind) {
        Some(f) => Some(f),
        None => rng.pick(files),
    }
}

fn tally(o: &Outcome, report: &mut Report) {
    for d in &o.diagnostics.0 {
        *report.codes.entry(d.code).or_insert(0) += 1;
    }
    for code in property::unlocated(&o.diagnostics) {
        *report.unlocated.entry(code).or_insert(0) += 1;
    }
}

/// [`Property::Deterministic`]: two builds of the same input.
fn same(a: &Outcome, b: &Outcome) -> Vec<Finding> {
    if a.diagnostics != b.diagnostics {
        return vec![Finding::new(
            Property::Deterministic,
            "two runs on the same input gave different diagnostics",
        )];
    }
    let mut out = Vec::new();
    for (x, y) in a.builds.iter().zip(&b.builds) {
        for (p, q) in x.artifacts.iter().zip(&y.artifacts) {
            if p != q {
                out.push(Finding::new(
                    Property::Deterministic,
                    format!("{}/{}/{} differs between two builds", x.env, x.mode, p.path),
                ));
            }
        }
        if x.artifacts.len() != y.artifacts.len() {
            out.push(Finding::new(
                Property::Deterministic,
                format!(
                    "{}/{}: two builds wrote different file lists",
                    x.env, x.mode
                ),
            ));
        }
    }
    out
}

/// The accepted model's sets read back by the diff extractors, and each set compared with the
/// environment's first one.
fn extract_builds(builds: &[Build]) -> Vec<Finding> {
    let result = guarded(|| {
        let mut firsts: BTreeMap<&str, envc_diff::Facts> = BTreeMap::new();
        for b in builds {
            let set = FileSet::from_memory(
                format!("{}/{}", b.env, b.mode),
                b.artifacts
                    .iter()
                    .map(|a| (a.path.clone(), a.bytes.clone())),
            );
            let facts = match b.backend {
                Backend::Compose => envc_diff::compose::extract(&set),
                Backend::Kubernetes | Backend::Helm => envc_diff::k8s::extract(&set),
            };
            match firsts.get(b.env.as_str()) {
                Some(first) => {
                    compare(first, &facts, &BTreeMap::new());
                }
                None => {
                    firsts.insert(&b.env, facts);
                }
            }
        }
    });
    match result {
        Ok(()) => Vec::new(),
        Err(msg) => vec![Finding::new(
            Property::NoPanic,
            format!("extracting envc's own artifacts: {msg}"),
        )],
    }
}

/// Names an extractor case's mutated file may take: what decides how the extractors read it.
const EXTRACT_NAMES: &[&str] = &[
    "docker-compose.yml",
    "compose.yaml",
    "manifest.yaml",
    "all.yml",
    "kustomization.yaml",
    "-",
];

/// Mutates one artifact (YAML or JSON) and reads it with both extractors, then compares the two
/// results.
fn extract_case(
    rng: &mut Rng,
    yaml: &[SeedYaml],
    donors: &[Value],
    config: &Config,
    case: u64,
) -> io::Result<Vec<CaseFinding>> {
    let Some(seed) = rng.pick(yaml) else {
        return Ok(Vec::new());
    };
    let bytes = mutate::yaml_document(rng, &seed.text, donors);
    let original = seed.rel.rsplit('/').next().unwrap_or("-");
    let name = if rng.chance(1, 2) {
        original
    } else {
        rng.pick(EXTRACT_NAMES).copied().unwrap_or("-")
    };
    let mut files = vec![(name.to_string(), bytes.clone())];
    if let Some(other) = rng.pick(yaml).filter(|_| rng.chance(1, 3)) {
        let other_name = other.rel.rsplit('/').next().unwrap_or("other.yaml");
        if other_name != name {
            files.push((other_name.to_string(), other.text.clone().into_bytes()));
        }
    }
    let set = FileSet::from_memory(format!("case {case}"), files);
    let result = guarded(|| {
        let a = envc_diff::compose::extract(&set);
        let b = envc_diff::k8s::extract(&set);
        compare(&a, &b, &BTreeMap::new());
    });
    let Err(msg) = result else {
        return Ok(Vec::new());
    };
    let saved = match &config.findings {
        Some(dir) => {
            let p = dir.join(format!("extract-{case}")).join(name);
            write(&dir.join(format!("extract-{case}")), name, &bytes)?;
            Some(p)
        }
        None => None,
    };
    Ok(vec![CaseFinding {
        case,
        seed: seed.rel.clone(),
        finding: Finding::new(Property::NoPanic, msg),
        saved,
    }])
}

/// Copies the mutated project of a failing case under the findings directory.
fn save_project(config: &Config, case: u64, root: &Path) -> io::Result<Option<PathBuf>> {
    let Some(dir) = &config.findings else {
        return Ok(None);
    };
    let to = dir.join(format!("model-{case}"));
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                write(&to, &rel.to_string_lossy(), &fs::read(&p)?)?;
            }
        }
    }
    Ok(Some(to))
}
