//! `envc import compose|k8s`: reads a Compose project or a manifest set into a model
//! ([`envc_import`]), prints the import report on stderr and writes the files atomically.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::Status;
use crate::coded::coded;

const IMPORT_EXAMPLES: &str = "\
Examples:
  envc import compose docker-compose.yml        environments/<name>.toml, profiles/docker.toml
  envc import compose compose.yaml compose.override.yaml
                                                the override's changes: the docker profile
  envc import compose compose.yaml --profile debug --env shop --out ../shop
  envc import compose compose.yaml --pin grafana/grafana=grafana/grafana:11.2.0
                                                pin an image the model refuses unpinned
  envc import k8s k8s/                          environments/<name>.toml, profiles/k3s.toml
  envc import k8s dev/ --prod prod/             what prod/ changes: profiles/prod.toml

Then `envc build` and `envc diff --from <input> --to out/<env>/<mode>`: the differences are the
report's items (printed on stderr and kept at the top of the environment file).
Exit status: 0 imported, 2 invalid input or usage (nothing written).";

/// `envc import`.
#[derive(Debug, Args)]
#[command(after_help = IMPORT_EXAMPLES)]
pub struct ImportArgs {
    /// What to import.
    #[command(subcommand)]
    pub source: ImportSource,
}

/// The input formats.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A Compose project: its files, merged as `docker compose -f A -f B` merges them
    Compose(ComposeArgs),
    /// Kubernetes manifests: files or a folder
    K8s(K8sArgs),
}

/// Where and how to write.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Environment name (default: the Compose project's name, or the folder's / namespace's).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Project to write into: environments/ and profiles/ under it (default: --root).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing environment of the same name.
    #[arg(long)]
    pub force: bool,
    /// Pin an image the model would refuse (`latest`, no tag): IMAGE=PINNED (repeatable).
    #[arg(long, value_name = "IMAGE=PINNED")]
    pub pin: Vec<String>,
}

/// `envc import compose`.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// The Compose files, in merge order.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Env file for interpolation instead of the project's `.env` (repeatable).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Compose profile to activate (repeatable); services of other profiles are imported
    /// disabled.
    #[arg(long = "profile", value_name = "NAME")]
    pub profile: Vec<String>,
    /// Where and how to write.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `envc import k8s`.
#[derive(Debug, Args)]
pub struct K8sArgs {
    /// Manifest files or one folder (the dev set: the k3s mode).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The prod manifests of the same system (files or a folder): what they change goes to
    /// a `prod` profile.
    #[arg(long, value_name = "PATH")]
    pub prod: Vec<PathBuf>,
    /// Where and how to write.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Runs `envc import` in the project `root` (`--root`); `done` prints the closing line (the
/// caller's styled output, so this module needs neither the arguments nor the stylesheet).
pub fn run(root: &Path, args: &ImportArgs, done: &dyn Fn(&str, &str)) -> Result<Status> {
    let w = match &args.source {
        ImportSource::Compose(c) => &c.write,
        ImportSource::K8s(k) => &k.write,
    };
    let root = w.out.clone().unwrap_or_else(|| root.to_path_buf());
    let pins = pins(&w.pin)?;
    let existing = existing_profiles(&root)?;
    let result = match &args.source {
        ImportSource::Compose(c) => {
            let opts = envc_import::ComposeOptions {
                files: c.files.clone(),
                env_files: c.env_file.clone(),
                profiles: c.profile.clone(),
                env: w.env.clone(),
                pins,
                environ: std::env::vars().collect(),
                existing_profiles: existing,
                source_dir: c.files.first().and_then(|f| from_environments(&root, f)),
            };
            envc_import::compose(&opts)
        }
        ImportSource::K8s(k) => {
            let opts = envc_import::K8sOptions {
                paths: k.paths.clone(),
                prod: k.prod.clone(),
                env: w.env.clone(),
                pins,
                existing_profiles: existing,
            };
            envc_import::k8s(&opts)
        }
    };
    let import = result.map_err(|e| {
        coded(
            "E-import-input",
            format!("failed to import: {e}"),
            "see `envc import --help` for what each argument takes",
        )
    })?;
    for line in import.report.lines() {
        eprintln!("import report: {line}");
    }
    write_all(&root, &import, w.force)?;
    let written: Vec<&str> = import.files.iter().map(|f| f.path.as_str()).collect();
    done(
        "imported",
        &format!(
            "environment `{}` into {} ({}); {} report item(s) above. Next: envc build --env {} --target {}",
            import.env,
            root.display(),
            written.join(", "),
            import.report.items.len(),
            import.env,
            import.modes.first().map_or("all", String::as_str),
        ),
    );
    Ok(Status::Ok)
}

/// `IMAGE=PINNED` pairs.
fn pins(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|p| match p.split_once('=') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
            _ => Err(coded(
                "E-import-input",
                format!("failed to read --pin `{p}`: expected IMAGE=PINNED"),
                "for example --pin grafana/grafana=grafana/grafana:11.2.0",
            )),
        })
        .collect()
}

/// The project's profiles, by mode: an import adds to one that exists rather than replacing it.
fn existing_profiles(root: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let dir = root.join("profiles");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let p = e.path();
        if let (Some(stem), Some("toml")) = (
            p.file_stem().and_then(|s| s.to_str()),
            p.extension().and_then(|s| s.to_str()),
        ) {
            let text = fs::read_to_string(&p)
                .with_context(|| format!("failed to read {}", p.display()))?;
            out.insert(stem.to_string(), text);
        }
    }
    Ok(out)
}

/// The folder of `file` as seen from `root/environments`, when it is inside `root`.
fn from_environments(root: &Path, file: &Path) -> Option<String> {
    let root = fs::canonicalize(root).ok()?;
    let dir = fs::canonicalize(file).ok()?.parent()?.to_path_buf();
    let rel = dir.strip_prefix(&root).ok()?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    Some(if rel.is_empty() {
        "..".to_string()
    } else {
        format!("../{rel}")
    })
}

/// Writes every file of the import, or none: each is written to a temporary file next to its
/// place, and all are renamed once all are written. An existing environment is kept unless
/// `force`.
fn write_all(root: &Path, import: &envc_import::Import, force: bool) -> Result<()> {
    let env_file = root.join(format!("environments/{}.toml", import.env));
    if env_file.exists() && !force {
        return Err(coded(
            "E-import-exists",
            format!("failed to import: {} exists", env_file.display()),
            "choose another name with --env, or replace it with --force",
        ));
    }
    let mut staged: Vec<(tempfile::NamedTempFile, PathBuf)> = Vec::new();
    for f in &import.files {
        let target = root.join(&f.path);
        let dir = target.parent().unwrap_or(root);
        fs::create_dir_all(dir).map_err(|e| {
            coded(
                "E-write",
                format!("failed to create {}: {e}", dir.display()),
                "check that the output folder is writable",
            )
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
            coded(
                "E-write",
                format!("failed to write in {}: {e}", dir.display()),
                "check that the output folder is writable",
            )
        })?;
        use std::io::Write as _;
        tmp.write_all(f.text.as_bytes()).map_err(|e| {
            coded(
                "E-write",
                format!("failed to write {}: {e}", target.display()),
                "check free space and permissions",
            )
        })?;
        staged.push((tmp, target));
    }
    for (tmp, target) in staged {
        tmp.persist(&target).map_err(|e| {
            coded(
                "E-write",
                format!("failed to write {}: {}", target.display(), e.error),
                "check that the output folder is writable",
            )
        })?;
    }
    Ok(())
}
