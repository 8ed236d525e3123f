//! A Compose project into a model: the project is loaded as `docker compose config` loads it
//! ([`envc_diff::compose::load`]: files merged, `include`, `extends`, profiles, interpolation),
//! each service mapped key by key, `x-` blocks merged with `<<` made templates, one-shot
//! services others wait for made jobs, named volumes and bind-mounted folders several services
//! mount made environment volumes, mounted files made config files. With several files, the
//! first is the environment and what the others change is the docker profile's overlay.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envc_diff::compose::load;
use envc_diff::fileset::FileSet;
use indexmap::IndexMap;
use toml::{Table, Value};
use yaml_serde::Value as Y;

use crate::draft::{Draft, Import, ImportError, OutFile, Profile, s, strings, table1};
use crate::factor;
use crate::name;
use crate::report::Report;
use crate::secrets::{Secrets, escape};

/// What `envc import compose` reads.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// The project's files, merged in order (`docker compose -f A -f B`).
    pub files: Vec<PathBuf>,
    /// `--env-file` files, instead of the project's `.env`.
    pub env_files: Vec<PathBuf>,
    /// Compose profiles to activate; services of other profiles are imported disabled.
    pub profiles: Vec<String>,
    /// The environment's name (default: the project's `name:`, else its folder's).
    pub env: Option<String>,
    /// Images to pin, `image -> pinned image` (`grafana/grafana` to `grafana/grafana:11.2.0`):
    /// the model refuses `latest` and untagged images.
    pub pins: Vec<(String, String)>,
    /// Variables that win over `.env` in interpolation (the caller's environment).
    pub environ: BTreeMap<String, String>,
    /// Profiles the target project has (`mode -> text`): a `docker` one is added to rather
    /// than written anew.
    pub existing_profiles: BTreeMap<String, String>,
    /// The Compose project's folder as seen from the target's `environments/` folder, when it
    /// is inside the project: bind mounts and build contexts then point at it.
    pub source_dir: Option<String>,
}

/// The mode a Compose project is imported as.
const MODE: &str = "docker";

/// Imports a Compose project.
pub fn compose(opts: &ComposeOptions) -> Result<Import, ImportError> {
    let set = read_set(opts, &opts.files)?;
    let loaded = load::load(&set)?;
    let project_dir = set
        .named
        .first()
        .and_then(|f| f.rsplit_once('/').map(|(d, _)| d.to_string()))
        .unwrap_or_default();
    let env = env_name(opts, &loaded.doc)?;
    let vars = variables(&set, &project_dir, &opts.environ);
    let mut cx = Cx {
        env: env.clone(),
        set: &set,
        dir: project_dir,
        opts,
        secrets: Secrets::with_variables(vars.iter()),
        report: Report::default(),
        jobs: jobs(&loaded.doc),
        shared_named: shared(&loaded.doc, false),
        shared_binds: shared(&loaded.doc, true),
        volumes: IndexMap::new(),
        volume_names: IndexMap::new(),
        doc_secrets: loaded
            .doc
            .get("secrets")
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
            .collect(),
        doc_configs: loaded
            .doc
            .get("configs")
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
            .collect(),
        vars: vars.clone(),
        files: Vec::new(),
    };
    for n in loaded.notes {
        cx.report
            .push("*", "notes", format!("while loading the project: {n}"));
    }
    for (k, _) in loaded.doc.as_mapping().into_iter().flatten() {
        match k.as_str() {
            Some("version") => cx.report.push("version", "", "the obsolete `version:` key is not carried over (the Compose specification has none)"),
            Some("secrets") => cx.report.push("secrets/*", "", "envc declares the Compose secrets of the model's secrets that images read from files, with the mode's dev values under secrets/"),
            Some("configs") => cx.report.push("configs/*", "", "top-level `configs` become the model's files of the services that mount them; envc's Compose set bind-mounts each file"),
            _ => {}
        }
    }
    let full = cx.services(&loaded.doc);
    // With override files, the first file alone is the environment and the rest is the mode's.
    let base = if opts.files.len() > 1 {
        let first = read_set(opts, &opts.files[..1])?;
        let doc = load::load(&first)?.doc;
        Some(cx.services(&doc))
    } else {
        None
    };
    let mut draft = Draft {
        env: env.clone(),
        description: format!(
            "imported from {} by `envc import compose`",
            shown(&opts.files)
        ),
        ..Default::default()
    };
    let mut overlay_services = Table::new();
    for (svc, (table, docker)) in &full {
        let (env_table, mut over) = match base.as_ref().and_then(|b| b.get(svc)) {
            Some((bt, _)) => {
                let (o, lost) = factor::overlay(bt, table, "");
                for l in lost {
                    cx.report.push(
                        svc,
                        "",
                        format!("`{l}` of the first file is gone in a later one: a profile cannot remove a key"),
                    );
                }
                (bt.clone(), o)
            }
            None if base.is_some() => {
                let mut t = table.clone();
                t.insert("enabled".into(), Value::Boolean(false));
                (t, table1_table("enabled", Value::Boolean(true)))
            }
            None => (table.clone(), Table::new()),
        };
        for (k, v) in docker {
            over.insert(k.clone(), v.clone());
        }
        if !over.is_empty() {
            overlay_services.insert(svc.clone(), Value::Table(over));
        }
        draft.services.insert(svc.clone(), env_table);
    }
    templates(&mut draft, &set, &mut cx.report)?;
    if draft.services.values().any(runs_as_root) {
        let mut ns = Table::new();
        ns.insert("name".into(), s(env.clone()));
        // The restricted level refuses containers that run as root.
        ns.insert("pod_security".into(), s("baseline"));
        draft.namespaces.insert("app".into(), Value::Table(ns));
    }
    let overlays: Vec<Table> = overlay_services
        .values()
        .filter_map(|v| v.as_table().cloned())
        .collect();
    let mut literals = crate::secrets::literals(
        draft
            .services
            .values()
            .chain(draft.templates.values())
            .chain(overlays.iter()),
    );
    literals.extend(cx.files.iter().map(|(_, c)| c.clone()));
    cx.secrets.drop_colliding(&literals, &mut cx.report);
    inherent(&draft, &mut cx.report);
    draft.secrets = cx.secrets.found.clone();
    draft.volumes = cx.volumes.clone();
    draft.files = cx.files.clone();
    let mut overlay = Table::new();
    if !overlay_services.is_empty() {
        overlay.insert("services".into(), Value::Table(overlay_services));
    }
    let existing = opts.existing_profiles.get(MODE);
    if let Some(text) = existing
        && !text.contains("restart = \"no\"")
    {
        cx.report.push(
            "*",
            "restart",
            "the existing docker profile's default restart policy applies to services that set none (Compose's default is `no`)",
        );
    }
    let profile = Profile {
        mode: MODE.into(),
        settings: docker_settings(),
        overlay,
    };
    finish(
        draft,
        vec![profile],
        cx.report,
        opts.existing_profiles.clone(),
        &shown(&opts.files),
    )
}

/// The files of an import, the environment first.
pub(crate) fn finish(
    draft: Draft,
    profiles: Vec<Profile>,
    report: Report,
    existing: BTreeMap<String, String>,
    from: &str,
) -> Result<Import, ImportError> {
    let title = format!("Imported by `envc import` from {from}.");
    let mut files = vec![OutFile {
        path: format!("environments/{}.toml", draft.env),
        text: draft.render(&title, &report),
        extends_existing: false,
    }];
    for (path, text) in &draft.files {
        files.push(OutFile {
            path: format!("environments/{path}"),
            text: text.clone(),
            extends_existing: false,
        });
    }
    let mut modes = Vec::new();
    for p in &profiles {
        let old = existing.get(&p.mode).map(String::as_str);
        files.push(OutFile {
            path: format!("profiles/{}.toml", p.mode),
            text: draft.render_profile(p, old),
            extends_existing: old.is_some(),
        });
        modes.push(p.mode.clone());
    }
    Ok(Import {
        env: draft.env,
        modes,
        files,
        report,
    })
}

fn table1_table(k: &str, v: Value) -> Table {
    let mut t = Table::new();
    t.insert(k.into(), v);
    t
}

fn shown(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new docker profile: Compose's own defaults where envc's differ.
fn docker_settings() -> Table {
    let mut profile = Table::new();
    profile.insert(
        "description".into(),
        s("Docker Compose (dev tier), as the imported project ran"),
    );
    profile.insert("backend".into(), s("compose"));
    profile.insert("tier".into(), s("dev"));
    let mut t = Table::new();
    t.insert("profile".into(), Value::Table(profile));
    // Compose restarts nothing unless told to.
    t.insert("compose".into(), table1("restart", s("no")));
    t
}

/// The project's files as a set, with the Compose options and what the files refer to.
fn read_set(opts: &ComposeOptions, files: &[PathBuf]) -> Result<FileSet, ImportError> {
    let mut set = FileSet::read(files).map_err(|e| ImportError::at_file(e.path, e.message))?;
    set.environ = opts.environ.clone();
    for (i, p) in opts.env_files.iter().enumerate() {
        let bytes = envc_diff::fileset::read_regular(p)
            .map_err(|e| ImportError::at_file(e.path, e.message))?;
        let key = format!("\0env-file/{i}/{}", p.display());
        set.files.insert(key.clone(), bytes);
        set.env_files.push(key);
    }
    set.profiles = opts.profiles.clone();
    for _ in 0..2 {
        for r in load::references(&set) {
            set.add_referenced(&r);
        }
    }
    Ok(set)
}

/// The variables interpolation read: `--env-file` files (or `.env`), then the caller's.
fn variables(
    set: &FileSet,
    dir: &str,
    environ: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let files: Vec<String> = if set.env_files.is_empty() {
        vec![if dir.is_empty() {
            ".env".to_string()
        } else {
            format!("{dir}/.env")
        }]
    } else {
        set.env_files.clone()
    };
    for f in files {
        if let Some(t) = set.text(&f) {
            vars.extend(load::parse_env_file(t));
        }
    }
    vars.extend(environ.clone());
    vars
}

fn env_name(opts: &ComposeOptions, doc: &Y) -> Result<String, ImportError> {
    let raw = match (&opts.env, doc.get("name").and_then(Y::as_str)) {
        (Some(e), _) => e.clone(),
        (None, Some(n)) => n.to_string(),
        (None, None) => opts
            .files
            .first()
            .and_then(|f| std::fs::canonicalize(f).ok())
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().to_string())
            })
            .unwrap_or_else(|| "imported".into()),
    };
    let n = name::label(&raw, 63);
    if n.is_empty() {
        return Err(ImportError::at_file(
            shown(&opts.files),
            format!("failed to name the environment after `{raw}`: give one with --env"),
        ));
    }
    Ok(n)
}

fn services_of(doc: &Y) -> Vec<(String, &Y)> {
    doc.get("services")
        .and_then(Y::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
        .collect()
}

/// Services other services wait for with `service_completed_successfully`: jobs.
fn jobs(doc: &Y) -> Vec<String> {
    let mut out = Vec::new();
    for (_, s) in services_of(doc) {
        if let Some(Y::Mapping(m)) = s.get("depends_on") {
            for (k, v) in m {
                if v.get("condition").and_then(Y::as_str) == Some("service_completed_successfully")
                    && let Some(k) = k.as_str()
                    && !out.contains(&k.to_string())
                {
                    out.push(k.to_string());
                }
            }
        }
    }
    out
}

/// Named volumes (or bind-mounted folders) mounted by more than one service.
fn shared(doc: &Y, binds: bool) -> Vec<String> {
    let mut count: IndexMap<String, Vec<String>> = IndexMap::new();
    for (svc, s) in services_of(doc) {
        for m in s
            .get("volumes")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(mount)
        {
            if m.bind == binds && !m.source.is_empty() {
                let users = count.entry(m.source.clone()).or_default();
                if !users.contains(&svc) {
                    users.push(svc.clone());
                }
            }
        }
    }
    count
        .into_iter()
        .filter(|(_, u)| u.len() > 1)
        .map(|(k, _)| k)
        .collect()
}

/// A volume entry of a service.
#[derive(Debug, Clone, Default)]
struct Mount {
    source: String,
    target: String,
    read_only: bool,
    bind: bool,
    sub_path: Option<String>,
    extra: Vec<String>,
}

fn mount(v: &Y) -> Option<Mount> {
    match v {
        Y::String(spec) => {
            let parts: Vec<&str> = spec.split(':').collect();
            let (source, target, mode) = match parts.as_slice() {
                [t] => ("", *t, ""),
                [s, t] => (*s, *t, ""),
                [s, t, m] => (*s, *t, *m),
                _ => return None,
            };
            Some(Mount {
                source: source.to_string(),
                target: target.to_string(),
                read_only: mode.split(',').any(|o| o == "ro"),
                bind: is_path(source),
                ..Default::default()
            })
        }
        Y::Mapping(m) => {
            let text = |k: &str| v.get(k).and_then(Y::as_str).unwrap_or_default().to_string();
            let kind = text("type");
            let extra = m
                .keys()
                .filter_map(Y::as_str)
                .filter(|k| {
                    !["type", "source", "target", "read_only", "volume", "bind"].contains(k)
                })
                .map(String::from)
                .collect();
            Some(Mount {
                source: text("source"),
                target: text("target"),
                read_only: v.get("read_only").and_then(Y::as_bool).unwrap_or(false),
                bind: kind == "bind",
                sub_path: v
                    .get("volume")
                    .and_then(|x| x.get("subpath"))
                    .and_then(Y::as_str)
                    .map(String::from),
                extra: if kind == "tmpfs" || kind == "volume" || kind == "bind" {
                    extra
                } else {
                    vec![format!("type {kind}")]
                },
            })
        }
        _ => None,
    }
}

fn is_path(s: &str) -> bool {
    s.starts_with('.') || s.starts_with('/') || s.starts_with('~')
}

/// A string of the loaded document as the container gets it (the loader escapes `$` as `$$`).
fn text_of(v: &Y) -> Option<String> {
    let t = match v {
        Y::String(s) => s.clone(),
        Y::Number(n) => n.to_string(),
        Y::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(t.replace("$$", "$"))
}

fn words_of(v: &Y) -> Option<Vec<String>> {
    match v {
        Y::Sequence(seq) => Some(seq.iter().filter_map(text_of).collect()),
        Y::String(_) => text_of(v).map(|t| envc_diff::shell::split_words(&t)),
        _ => None,
    }
}

/// Compose keys the import maps (anything else is reported).
const HANDLED: &[&str] = &[
    "image",
    "build",
    "entrypoint",
    "command",
    "working_dir",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "tmpfs",
    "healthcheck",
    "depends_on",
    "restart",
    "user",
    "read_only",
    "cap_add",
    "cap_drop",
    "security_opt",
    "deploy",
    "stop_grace_period",
    "profiles",
    "networks",
    "secrets",
    "configs",
];

/// The state of one import.
struct Cx<'a> {
    env: String,
    set: &'a FileSet,
    dir: String,
    opts: &'a ComposeOptions,
    secrets: Secrets,
    report: Report,
    jobs: Vec<String>,
    shared_named: Vec<String>,
    shared_binds: Vec<String>,
    volumes: IndexMap<String, Table>,
    /// Environment volume names by the named volume or folder they stand for.
    volume_names: IndexMap<String, String>,
    /// The project's top-level `secrets`.
    doc_secrets: IndexMap<String, Y>,
    /// The project's top-level `configs`.
    doc_configs: IndexMap<String, Y>,
    /// The variables interpolation read.
    vars: BTreeMap<String, String>,
    files: Vec<(String, String)>,
}

/// A service's environment table and its docker profile overlay.
type Converted = (Table, Table);

impl Cx<'_> {
    fn services(&mut self, doc: &Y) -> IndexMap<String, Converted> {
        let mut out = IndexMap::new();
        for (name, s) in services_of(doc) {
            if s.get("image").is_none() && s.get("build").is_none() {
                self.report.push(
                    &name,
                    "",
                    "neither an image nor a build (Compose itself refuses it): not imported",
                );
                continue;
            }
            let label = name::label(&name, 54);
            if label != name {
                self.report.push(
                    &name,
                    "",
                    format!("renamed `{label}`: service names are DNS labels (compare with `envc diff --map {name}={label}`)"),
                );
                self.report.push(
                    &label,
                    "",
                    format!("the input's `{name}`, renamed: it is only on one side of a diff without `--map`"),
                );
            }
            out.insert(label, self.service(&name, s));
        }
        out
    }

    fn service(&mut self, name: &str, s: &Y) -> Converted {
        let mut t = Table::new();
        let mut docker = Table::new();
        let is_job = self.jobs.iter().any(|j| j == name);
        for k in s
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str())
        {
            if !HANDLED.contains(&k) {
                self.report.push(
                    name,
                    &format!("fields.{k}"),
                    format!("`{k}` has no counterpart in the model"),
                );
            }
        }
        self.image(name, s, &mut t);
        if let Some(w) = s.get("entrypoint").and_then(words_of) {
            t.insert(
                "command".into(),
                strings(&self.secrets.words(name, "command", &w)),
            );
        }
        if let Some(w) = s.get("command").and_then(words_of) {
            t.insert(
                "args".into(),
                strings(&self.secrets.words(name, "args", &w)),
            );
        }
        if let Some(w) = s.get("working_dir").and_then(text_of) {
            t.insert("working_dir".into(), s_(w));
        }
        if is_job {
            t.insert("workload".into(), s_("job"));
        }
        if let Some(r) = s.get("restart").and_then(text_of) {
            self.restart(name, &r, is_job, &mut t);
        }
        if let Some(p) = s.get("profiles").and_then(Y::as_sequence) {
            let names: Vec<String> = p.iter().filter_map(text_of).collect();
            if self.opts.profiles.iter().any(|a| names.contains(a)) {
                self.report.push(name, "profiles", format!("in Compose profile(s) {}: imported enabled (activated with --profile); the model has no Compose profiles", names.join(", ")));
            } else {
                t.insert("enabled".into(), Value::Boolean(false));
                self.report.push(name, "", format!("in Compose profile(s) {}, off unless asked for: imported with `enabled = false`; a profile turns it on with `[environments.{}.services.{name}] enabled = true`", names.join(", "), self.env));
            }
        }
        let env = self.environment(name, s);
        if !env.is_empty() {
            t.insert("env".into(), Value::Table(env));
        }
        let ports = self.ports(name, s, &mut docker);
        if !ports.is_empty() {
            t.insert("ports".into(), Value::Table(ports));
        }
        self.storage(name, s, &mut t);
        self.healthcheck(name, s, is_job, &mut t);
        self.depends_on(name, s, &mut t);
        self.deploy(name, s, &mut t);
        if let Some(g) = s.get("stop_grace_period").and_then(text_of) {
            match envc_diff::facts::seconds(&g) {
                Some(sec) => {
                    t.insert(
                        "stop_grace_period".into(),
                        s_(envc_diff::facts::duration(sec)),
                    );
                }
                None => self.report.push(
                    name,
                    "fields.stop_grace_period",
                    format!("`{g}` is not a duration"),
                ),
            }
        }
        self.security(name, s, &mut t, &mut docker);
        (t, docker)
    }

    fn image(&mut self, name: &str, s: &Y, t: &mut Table) {
        let image = s.get("image").and_then(text_of);
        if let Some(b) = s.get("build") {
            let mut bt = Table::new();
            let ctx = b
                .as_str()
                .map(String::from)
                .or_else(|| b.get("context").and_then(text_of))
                .unwrap_or_else(|| ".".into());
            bt.insert("context".into(), s_(self.project_path(name, "build", &ctx)));
            for k in ["dockerfile", "target"] {
                if let Some(v) = b.get(k).and_then(text_of) {
                    bt.insert(k.into(), s_(v));
                }
            }
            if let Some(Y::Mapping(args)) = b.get("args") {
                let a: Table = args
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), s_(text_of(v)?))))
                    .collect();
                bt.insert("args".into(), Value::Table(a));
            }
            t.insert("build".into(), Value::Table(bt));
            self.report.push(
                name,
                "fields.build.context",
                "the build context is written relative to the mode's folder (out/<env>/<mode>)",
            );
            if image.is_none() {
                let tag = format!("{}/{name}:0.1.0", self.env);
                self.report.push(
                    name,
                    "image",
                    format!(
                        "built from source with no image name: the built image is tagged `{tag}`"
                    ),
                );
                t.insert("image".into(), s_(tag));
                return;
            }
        }
        let Some(img) = image else {
            self.report
                .push(name, "image", "no image: the model requires one");
            return;
        };
        let pinned = self
            .opts
            .pins
            .iter()
            .find(|(from, _)| *from == img)
            .map(|(_, to)| to.clone());
        if let Some(p) = pinned {
            self.report
                .push(name, "image", format!("`{img}` pinned to `{p}` (--pin)"));
            t.insert("image".into(), s_(p));
            return;
        }
        if envc_core::validate::image_pin(&img) == envc_core::validate::Pin::Latest {
            self.report.push(name, "image", format!("`{img}` is not pinned to a version, which the model refuses (E-unpinned-image): pin one with --pin {img}=<image:version>"));
        }
        t.insert("image".into(), s_(img));
    }

    fn restart(&mut self, name: &str, r: &str, is_job: bool, t: &mut Table) {
        let (policy, retries) = match r.split_once(':') {
            Some((p, n)) => (p, Some(n)),
            None => (r, None),
        };
        if is_job && matches!(policy, "always" | "unless-stopped") {
            self.report.push(name, "restart", format!("`restart: {r}` on a one-shot service others wait for: jobs are not restarted once done (`no`)"));
            return;
        }
        if !matches!(policy, "no" | "always" | "on-failure" | "unless-stopped") {
            self.report.push(
                name,
                "restart",
                format!("`restart: {r}` is not a restart policy"),
            );
            return;
        }
        t.insert("restart".into(), s_(policy));
        if let Some(n) = retries {
            match (is_job, n.parse::<i64>()) {
                (true, Ok(n)) => {
                    t.insert("job".into(), table1("retries", Value::Integer(n)));
                }
                _ => self.report.push(name, "restart", format!("`{r}`: the model's `on-failure` has no retry count for long-running services")),
            }
        }
    }

    fn environment(&mut self, name: &str, s: &Y) -> Table {
        let mut raw: IndexMap<String, Option<String>> = IndexMap::new();
        let env_files: Vec<(String, bool)> = match s.get("env_file") {
            Some(Y::String(p)) => vec![(p.clone(), true)],
            Some(Y::Sequence(seq)) => seq
                .iter()
                .filter_map(|x| {
                    let required = x.get("required").and_then(Y::as_bool).unwrap_or(true);
                    x.as_str()
                        .map(String::from)
                        .or_else(|| x.get("path").and_then(Y::as_str).map(String::from))
                        .map(|p| (p, required))
                })
                .collect(),
            _ => Vec::new(),
        };
        for (f, required) in env_files {
            let key = if self.dir.is_empty() {
                f.clone()
            } else {
                format!("{}/{f}", self.dir)
            };
            match self.set.text(&envc_diff::fileset::normal_key(&key)) {
                Some(text) => {
                    for (k, v) in load::parse_env_file(text) {
                        raw.insert(k, Some(v));
                    }
                }
                None if required => self.report.push(
                    name,
                    "env",
                    format!("env_file `{f}` was not found: its variables are missing"),
                ),
                None => {}
            }
        }
        match s.get("environment") {
            Some(Y::Mapping(m)) => {
                for (k, v) in m {
                    if let Some(k) = k.as_str() {
                        raw.insert(k.to_string(), text_of(v));
                    }
                }
            }
            Some(Y::Sequence(seq)) => {
                for e in seq.iter().filter_map(Y::as_str) {
                    match e.split_once('=') {
                        Some((k, v)) => raw.insert(k.to_string(), Some(v.replace("$$", "$"))),
                        None => raw.insert(e.to_string(), None),
                    };
                }
            }
            _ => {}
        }
        let mounted = self.mounted_secrets(name, s);
        let mut out = Table::new();
        for (k, v) in raw {
            if let (Some(base), Some(v)) = (k.strip_suffix("_FILE"), v.as_deref())
                && let Some((secret, _)) = mounted.iter().find(|(_, target)| target == v)
            {
                // The image reads the value from the file the variable names: a secret with
                // `file_env`, which Compose mounts there again.
                let n = name::label(secret, 63);
                let value = self.compose_secret_value(secret);
                let what = format!("Compose secret `{secret}`");
                self.secrets
                    .declare(&n, &what, value.as_deref(), name, &format!("env.{base}"));
                let mut st = Table::new();
                st.insert("secret".into(), s_(n));
                st.insert("file_env".into(), s_(k.clone()));
                out.insert(base.to_string(), Value::Table(st));
                continue;
            }
            let Some(v) = v else {
                self.report.push(name, &format!("env.{k}"), "taken from the shell that runs `docker compose`: the model has no such pass-through");
                continue;
            };
            out.insert(k.clone(), self.secrets.env_value(name, &k, &v));
        }
        out
    }

    /// The Compose secrets a service mounts, with where (`/run/secrets/<name>` unless a
    /// `target` says otherwise); those no `*_FILE` variable names are reported.
    fn mounted_secrets(&mut self, name: &str, s: &Y) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in s
            .get("secrets")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let (src, target) = match e {
                Y::String(n) => (n.clone(), format!("/run/secrets/{n}")),
                _ => {
                    let Some(src) = e.get("source").and_then(Y::as_str) else {
                        continue;
                    };
                    let t = e.get("target").and_then(Y::as_str).unwrap_or(src);
                    let t = if t.starts_with('/') {
                        t.to_string()
                    } else {
                        format!("/run/secrets/{t}")
                    };
                    (src.to_string(), t)
                }
            };
            out.push((src, target));
        }
        let env_text = format!("{:?}", s.get("environment"));
        for (secret, target) in &out {
            if !env_text.contains(target.as_str()) {
                self.report.push(name, "fields.secrets", format!("reads Compose secret `{secret}` as the file {target} with no `*_FILE` variable naming it: the model hands secrets to containers through env variables (`file_env`), so it is not mounted"));
            }
        }
        out
    }

    /// A top-level Compose secret's value: its file's content, or its variable's value.
    fn compose_secret_value(&self, secret: &str) -> Option<String> {
        let def = self.doc_secrets.get(secret)?;
        if let Some(f) = def.get("file").and_then(Y::as_str) {
            let key = if self.dir.is_empty() {
                f.to_string()
            } else {
                format!("{}/{f}", self.dir)
            };
            return self
                .set
                .text(&envc_diff::fileset::normal_key(&key))
                .map(String::from);
        }
        let var = def.get("environment").and_then(Y::as_str)?;
        self.vars.get(var).cloned()
    }

    fn ports(&mut self, name: &str, s: &Y, docker: &mut Table) -> Table {
        let mut specs: Vec<(u16, String, Option<u16>, Option<String>)> = Vec::new();
        for p in s
            .get("ports")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            match port_spec(p) {
                Some(spec) => specs.push(spec),
                None => self.report.push(
                    name,
                    "ports",
                    format!(
                        "port `{}` is a range or not a port: not carried over",
                        text_of(p).unwrap_or_default()
                    ),
                ),
            }
        }
        for p in s
            .get("expose")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let t = text_of(p).unwrap_or_default();
            let (num, proto) = t.split_once('/').unwrap_or((&t, "tcp"));
            match num.parse::<u16>() {
                Ok(n) => {
                    if !specs.iter().any(|x| x.0 == n && x.1 == proto) {
                        specs.push((n, proto.to_string(), None, None));
                    }
                }
                Err(_) => self.report.push(
                    name,
                    "ports",
                    format!("exposed `{t}` is a range or not a port: not carried over"),
                ),
            }
        }
        let mut out = Table::new();
        let mut host_ports = Table::new();
        let mut taken: Vec<String> = Vec::new();
        for (container, proto, host, ip) in specs {
            let pname = name::unique(name::port(container, &proto), &taken);
            taken.push(pname.clone());
            let mut pt = Table::new();
            pt.insert("container".into(), Value::Integer(container.into()));
            if proto == "udp" {
                pt.insert("protocol".into(), s_("udp"));
            }
            out.insert(pname.clone(), Value::Table(pt));
            if let Some(h) = host {
                host_ports.insert(pname, table1("host_port", Value::Integer(h.into())));
                let key = format!("ports.{container}/{proto}.host_ip");
                match ip.as_deref() {
                    Some("127.0.0.1") => {}
                    Some(other) => self.report.push(name, &key, format!("published on {other} in the input; envc publishes dev ports on 127.0.0.1")),
                    None => self.report.push(name, &key, "published on every address in the input; envc publishes dev ports on 127.0.0.1"),
                }
            }
        }
        if !host_ports.is_empty() {
            docker.insert("ports".into(), Value::Table(host_ports));
        }
        out
    }

    /// Volumes, tmpfs and mounted files.
    fn storage(&mut self, name: &str, s: &Y, t: &mut Table) {
        let mut vols = Table::new();
        let mut files = Table::new();
        let mut taken: Vec<String> = Vec::new();
        for v in s
            .get("volumes")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let Some(m) = mount(v) else {
                self.report.push(
                    name,
                    "volumes",
                    "a volume entry that is not a mount: not carried over",
                );
                continue;
            };
            let key = format!("volumes.{}", m.target);
            for e in &m.extra {
                self.report.push(
                    name,
                    &format!("fields.volumes[{}]", m.target),
                    format!("mount option `{e}` has no counterpart in the model"),
                );
            }
            let vname = name::unique(
                name::label(
                    m.target
                        .rsplit('/')
                        .find(|x| !x.is_empty())
                        .unwrap_or("data"),
                    63,
                ),
                &taken,
            );
            if m.bind {
                if self.file_mount(name, &m, &mut files, &taken) {
                    taken.push(vname);
                    continue;
                }
                taken.push(vname.clone());
                if m.source.starts_with('/') || m.source.starts_with('~') {
                    self.report.push(name, &key, format!("bind mount of `{}`, outside the project: the model's bind mounts stay inside it (E-path-outside); not carried over", m.source));
                    continue;
                }
                let mut vt = Table::new();
                let source = self.project_path(name, &key, &m.source);
                let shared = self.shared_binds.contains(&m.source);
                // A folder of state the service writes (a database's data) is a claim where
                // bind mounts do not exist. Anything else stays a bind mount, refused there
                // until the model says where it comes from: content (config, code) mounted
                // as an empty claim would break silently, and a claim at a file's path would
                // be a folder.
                if shared || holds_state(&m.target) && !looks_like_file(&m.source) {
                    let volume = self.bind_volume(&m.source, shared);
                    if !shared {
                        self.report.push(name, &key, format!("the folder is bind-mounted in docker only; other modes mount the environment volume `{volume}` instead, empty at first (state the service writes, such as a database's, needs nothing more; content it reads belongs in the image or in `files`)"));
                    }
                    vt.insert("volume".into(), s_(volume));
                }
                vt.insert("source".into(), s_(source));
                vt.insert("path".into(), s_(m.target.clone()));
                if m.read_only {
                    vt.insert("read_only".into(), Value::Boolean(true));
                    self.report.push(
                        name,
                        "fields.volumes",
                        "envc writes read-only bind mounts in the long syntax (`read_only: true`)",
                    );
                }
                vols.insert(vname, Value::Table(vt));
                continue;
            }
            taken.push(vname.clone());
            let mut vt = Table::new();
            if !m.source.is_empty() {
                self.report.push(
                    name,
                    &format!("fields.volumes.{}.source", m.target),
                    format!("Compose volume `{}` is named by envc", m.source),
                );
            }
            if !m.source.is_empty() && self.shared_named.contains(&m.source) {
                let shared = self.shared_volume(&m.source, false);
                vt.insert("volume".into(), s_(shared));
                vt.insert("path".into(), s_(m.target.clone()));
            } else {
                vt.insert("path".into(), s_(m.target.clone()));
                vt.insert("size".into(), s_("1Gi"));
                self.report.push(name, &format!("{key}.size"), "a size the input does not give (Compose volumes have none): 1Gi, for the claims of Kubernetes modes");
            }
            if m.read_only {
                vt.insert("read_only".into(), Value::Boolean(true));
            }
            if let Some(sp) = m.sub_path {
                vt.insert("sub_path".into(), s_(sp));
            }
            vols.insert(vname, Value::Table(vt));
        }
        let tmpfs: Vec<String> = match s.get("tmpfs") {
            Some(Y::Sequence(seq)) => seq.iter().filter_map(text_of).collect(),
            Some(v) => text_of(v).into_iter().collect(),
            None => Vec::new(),
        };
        for spec in tmpfs {
            let (path, opts) = spec.split_once(':').unwrap_or((&spec, ""));
            if !opts.is_empty() {
                self.report.push(
                    name,
                    &format!("volumes.{path}"),
                    format!("tmpfs options `{opts}` are not carried over"),
                );
            }
            let vname = name::unique(
                name::label(
                    path.rsplit('/').find(|x| !x.is_empty()).unwrap_or("tmp"),
                    63,
                ),
                &taken,
            );
            taken.push(vname.clone());
            let mut vt = Table::new();
            vt.insert("path".into(), s_(path));
            vt.insert("persistent".into(), Value::Boolean(false));
            vols.insert(vname, Value::Table(vt));
        }
        self.configs(name, s, &mut files, &mut taken);
        if !vols.is_empty() {
            t.insert("volumes".into(), Value::Table(vols));
        }
        if !files.is_empty() {
            t.insert("files".into(), Value::Table(files));
        }
    }

    /// The Compose configs a service mounts: a config of a project file is that file, one of
    /// inline `content` its content, each a file of the model at the config's target (by
    /// default `/<config>`, as Compose mounts it).
    fn configs(&mut self, name: &str, s: &Y, files: &mut Table, taken: &mut Vec<String>) {
        for c in s
            .get("configs")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let (source, target) = match c {
                Y::Mapping(_) => {
                    let Some(src) = c.get("source").and_then(text_of) else {
                        self.report.push(
                            name,
                            "configs",
                            "a config without `source`: not carried over",
                        );
                        continue;
                    };
                    for opt in ["uid", "gid", "mode"] {
                        if c.get(opt).is_some() {
                            self.report.push(name, &format!("fields.configs.{src}.{opt}"), format!("config option `{opt}` has no counterpart in the model (files are mounted read-only, mode 0444)"));
                        }
                    }
                    let tgt = c
                        .get("target")
                        .and_then(text_of)
                        .unwrap_or_else(|| format!("/{src}"));
                    (src, tgt)
                }
                _ => match text_of(c) {
                    Some(src) => (src.clone(), format!("/{src}")),
                    None => continue,
                },
            };
            let Some(def) = self.doc_configs.get(&source).cloned() else {
                self.report.push(name, "configs", format!("config `{source}` is not declared under top-level `configs` (Compose refuses it): not carried over"));
                continue;
            };
            if let Some(file) = def.get("file").and_then(text_of) {
                let m = Mount {
                    source: file.clone(),
                    target: target.clone(),
                    read_only: true,
                    bind: true,
                    sub_path: None,
                    extra: Vec::new(),
                };
                let fname = name::unique(name::label(&source, 63), taken);
                if self.file_mount(name, &m, files, taken) {
                    taken.push(fname);
                } else {
                    self.report.push(name, &format!("files.{target}"), format!("config `{source}` names `{file}`, which the import cannot read: not carried over"));
                }
            } else if let Some(content) = def.get("content").and_then(text_of) {
                let fname = name::unique(name::label(&source, 63), taken);
                taken.push(fname.clone());
                let mut ft = Table::new();
                ft.insert("path".into(), s_(target));
                ft.insert("content".into(), s_(content.replace("$${", "$$${")));
                files.insert(fname, Value::Table(ft));
            } else {
                self.report.push(name, &format!("files.{target}"), format!("config `{source}` comes from outside the project (`external` or `environment`): not carried over; give the model the file"));
            }
        }
    }

    /// A bind mount of a file of the project: a config file of the model, copied next to the
    /// environment file.
    fn file_mount(&mut self, name: &str, m: &Mount, files: &mut Table, taken: &[String]) -> bool {
        let key = envc_diff::fileset::normal_key(&if self.dir.is_empty() {
            m.source.clone()
        } else {
            format!("{}/{}", self.dir, m.source)
        });
        let Some(content) = self.set.text(&key) else {
            return false;
        };
        let base = m.source.rsplit('/').next().unwrap_or("file").to_string();
        let fname = name::unique(name::label(&base, 63), taken);
        let mut ft = Table::new();
        ft.insert("path".into(), s_(m.target.clone()));
        if content.contains("{{") {
            // Handlebars would read it: the content goes inline, literally.
            ft.insert("content".into(), s_(content.replace("$${", "$$${")));
        } else {
            let rel = format!("{}/{name}/{base}", self.env);
            ft.insert("template".into(), s_(format!("{}/{name}/{base}", self.env)));
            if !self.files.iter().any(|(p, _)| *p == rel) {
                self.files.push((rel, content.to_string()));
            }
        }
        self.report.push(
            name,
            "fields.volumes",
            "envc mounts config files read-only, in the long syntax",
        );
        if ft.contains_key("template") {
            self.report.push(name, &format!("files.{}", m.target), "envc adds a `# generated by envc` header line to files rendered from templates (YAML and other `#`-comment formats)");
        }
        files.insert(fname, Value::Table(ft));
        true
    }

    /// The environment volume that stands for a bound folder in modes without bind mounts:
    /// shared when several services mount the folder, one pod's (ReadWriteOnce) otherwise.
    fn bind_volume(&mut self, source: &str, shared: bool) -> String {
        if shared {
            return self.shared_volume(source, true);
        }
        let n = self.volume_for(source);
        let mut vt = Table::new();
        vt.insert("size".into(), s_("1Gi"));
        vt.insert(
            "description".into(),
            s_(format!("the folder `{source}`, bind-mounted in docker")),
        );
        self.volumes.entry(n.clone()).or_insert(vt);
        n
    }

    /// The environment volume's name for a Compose source (named volume or folder), unique.
    fn volume_for(&mut self, source: &str) -> String {
        if let Some(n) = self.volume_names.get(source) {
            return n.clone();
        }
        let taken: Vec<String> = self.volumes.keys().cloned().collect();
        let base = source
            .trim_start_matches("./")
            .rsplit('/')
            .find(|x| !x.is_empty())
            .unwrap_or("shared");
        let n = name::unique(name::label(base, 63), &taken);
        self.volume_names.insert(source.to_string(), n.clone());
        n
    }

    /// The environment volume for a named volume or bound folder several services mount.
    fn shared_volume(&mut self, source: &str, bind: bool) -> String {
        if let Some(n) = self.volume_names.get(source) {
            return n.clone();
        }
        let n = self.volume_for(source);
        {
            let mut vt = Table::new();
            vt.insert("size".into(), s_("1Gi"));
            vt.insert("access".into(), s_("shared"));
            let what = if bind {
                format!("the folder `{source}`, bind-mounted in docker")
            } else {
                format!("Compose volume `{source}`")
            };
            vt.insert(
                "description".into(),
                s_(format!("{what}, mounted by several services")),
            );
            self.volumes.insert(n.clone(), vt);
        }
        n
    }

    /// A path of the Compose project as the model writes it: relative to the environment file.
    fn project_path(&mut self, name: &str, key: &str, rel: &str) -> String {
        let rel = rel.trim_start_matches("./");
        let p = match &self.opts.source_dir {
            Some(dir) => envc_diff::fileset::normal_key(&format!("{dir}/{rel}")),
            None => {
                // `../config/x` of a project elsewhere: `config/x` next to the environment file.
                let mut inside = rel;
                while let Some(r) = inside.strip_prefix("../") {
                    inside = r;
                }
                self.report.push(name, key, format!("`{rel}` is outside the project: the model points at `environments/{}/{inside}`, which you create", self.env));
                format!("{}/{inside}", self.env)
            }
        };
        if p.starts_with("../") || p.starts_with("./") {
            p
        } else {
            format!("./{p}")
        }
    }

    fn healthcheck(&mut self, name: &str, s: &Y, is_job: bool, t: &mut Table) {
        let Some(h) = s.get("healthcheck") else {
            return;
        };
        if h.get("disable").and_then(Y::as_bool) == Some(true) {
            return;
        }
        let test = match h.get("test") {
            Some(Y::Sequence(seq)) => seq.iter().filter_map(text_of).collect::<Vec<_>>(),
            Some(v) => text_of(v)
                .map(|t| vec!["CMD-SHELL".to_string(), t])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let command: Vec<String> = match test.split_first() {
            Some((k, rest)) if k == "CMD" => rest.to_vec(),
            Some((k, rest)) if k == "CMD-SHELL" => {
                vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]
            }
            _ => return,
        };
        if is_job {
            self.report.push(
                name,
                "probes.healthcheck",
                "a healthcheck on a one-shot service: a job has no readiness probe",
            );
            return;
        }
        let command: Vec<String> = command.iter().map(|c| escape(c)).collect();
        let secs = |k: &str, d: u32| {
            h.get(k)
                .and_then(text_of)
                .and_then(|v| envc_diff::facts::seconds(&v))
                .unwrap_or(d)
        };
        let mut p = Table::new();
        p.insert("exec".into(), table1("command", strings(&command)));
        p.insert(
            "period".into(),
            s_(envc_diff::facts::duration(secs("interval", 30))),
        );
        p.insert(
            "timeout".into(),
            s_(envc_diff::facts::duration(secs("timeout", 30))),
        );
        let retries = h.get("retries").and_then(Y::as_i64).unwrap_or(3);
        p.insert("failure_threshold".into(), Value::Integer(retries));
        let start = secs("start_period", 0);
        if start > 0 {
            p.insert(
                "initial_delay".into(),
                s_(envc_diff::facts::duration(start)),
            );
        }
        if h.get("start_interval").is_some() {
            self.report.push(
                name,
                "fields.healthcheck.start_interval",
                "`start_interval` has no counterpart in the model's probes",
            );
        }
        t.insert("probes".into(), table1("readiness", Value::Table(p)));
    }

    fn depends_on(&mut self, name: &str, s: &Y, t: &mut Table) {
        let mut deps = Table::new();
        match s.get("depends_on") {
            Some(Y::Sequence(seq)) => {
                for d in seq.iter().filter_map(text_of) {
                    deps.insert(d, s_("started"));
                }
            }
            Some(Y::Mapping(m)) => {
                for (k, v) in m {
                    let Some(k) = k.as_str() else { continue };
                    let cond = match v.get("condition").and_then(Y::as_str) {
                        Some("service_healthy") => "healthy",
                        Some("service_completed_successfully") => "completed",
                        _ => "started",
                    };
                    for extra in ["restart", "required"] {
                        if v.get(extra).is_some() {
                            self.report.push(
                                name,
                                &format!("fields.depends_on.{k}.{extra}"),
                                format!("`depends_on.{k}.{extra}` has no counterpart in the model"),
                            );
                        }
                    }
                    deps.insert(name::label(k, 54), s_(cond));
                }
            }
            _ => {}
        }
        if !deps.is_empty() {
            t.insert("depends_on".into(), Value::Table(deps));
        }
    }

    fn deploy(&mut self, name: &str, s: &Y, t: &mut Table) {
        let Some(d) = s.get("deploy") else { return };
        for k in d
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str())
        {
            if !["resources", "replicas"].contains(&k) {
                self.report.push(
                    name,
                    &format!("fields.deploy.{k}"),
                    format!("`deploy.{k}` has no counterpart in the model"),
                );
            }
        }
        if let Some(n) = d.get("replicas").and_then(Y::as_i64) {
            t.insert("replicas".into(), Value::Integer(n));
        }
        let mut res = Table::new();
        for (from, to) in [("reservations", "requests"), ("limits", "limits")] {
            let Some(r) = d.get("resources").and_then(|r| r.get(from)) else {
                continue;
            };
            let mut rt = Table::new();
            if let Some(c) = r.get("cpus").and_then(text_of) {
                rt.insert("cpu".into(), s_(envc_diff::facts::cpu(&c)));
            }
            if let Some(m) = r.get("memory").and_then(text_of) {
                rt.insert("memory".into(), s_(memory(&m)));
            }
            if !rt.is_empty() {
                res.insert(to.into(), Value::Table(rt));
            }
        }
        if !res.is_empty() {
            t.insert("resources".into(), Value::Table(res));
        }
    }

    /// Security settings: the environment keeps envc's defaults for Kubernetes; the docker
    /// profile gives the containers what the input gave them.
    fn security(&mut self, name: &str, s: &Y, t: &mut Table, docker: &mut Table) {
        let mut sec = Table::new();
        if let Some(u) = s.get("user").and_then(text_of) {
            let (user, group) = match u.split_once(':') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (u.clone(), None),
            };
            match (user.parse::<i64>(), group.as_deref().map(str::parse::<i64>)) {
                (Ok(uid), None | Some(Ok(_))) => {
                    sec.insert("run_as_user".into(), Value::Integer(uid));
                    if let Some(Ok(g)) = group.as_deref().map(str::parse::<i64>) {
                        sec.insert("run_as_group".into(), Value::Integer(g));
                    }
                    if uid == 0 {
                        sec.insert("run_as_non_root".into(), Value::Boolean(false));
                    }
                }
                _ => self.report.push(
                    name,
                    "security.user",
                    format!("user `{u}` is a name: the model takes numeric ids"),
                ),
            }
        }
        if let Some(caps) = s.get("cap_add").and_then(Y::as_sequence) {
            let c: Vec<String> = caps.iter().filter_map(text_of).collect();
            sec.insert("capabilities_add".into(), strings(&c));
        }
        if !sec.is_empty() {
            t.insert("security".into(), Value::Table(sec));
        }
        let mut relaxed = Table::new();
        if s.get("read_only").and_then(Y::as_bool) != Some(true) {
            relaxed.insert("read_only_root_filesystem".into(), Value::Boolean(false));
            self.report.push(name, "security.read_only_root", "the input's writable root filesystem is kept in the docker profile (written `read_only: false`); the environment keeps envc's read-only default for other modes");
        }
        for o in s
            .get("security_opt")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(text_of)
        {
            if !o.starts_with("no-new-privileges") {
                self.report.push(
                    name,
                    "fields.security_opt",
                    format!("`security_opt: {o}` has no counterpart in the model"),
                );
            }
        }
        if let Some(drop) = s.get("cap_drop").and_then(Y::as_sequence) {
            let d: Vec<String> = drop.iter().filter_map(text_of).collect();
            if d != ["ALL"] {
                self.report.push(
                    name,
                    "security.cap_drop",
                    format!(
                        "`cap_drop: [{}]`: envc drops every capability",
                        d.join(", ")
                    ),
                );
            }
        }
        if !relaxed.is_empty() {
            docker.insert("security".into(), Value::Table(relaxed));
        }
    }
}

fn s_(v: impl Into<String>) -> Value {
    s(v)
}

/// `host:container/proto` in the short or long syntax.
fn port_spec(p: &Y) -> Option<(u16, String, Option<u16>, Option<String>)> {
    if let Y::Mapping(_) = p {
        let target = p.get("target").and_then(text_of)?.parse().ok()?;
        let proto = p
            .get("protocol")
            .and_then(text_of)
            .unwrap_or_else(|| "tcp".into());
        let host = p
            .get("published")
            .and_then(text_of)
            .and_then(|h| h.parse().ok());
        let ip = p
            .get("host_ip")
            .and_then(text_of)
            .filter(|i| i != "0.0.0.0");
        return Some((target, proto, host, ip));
    }
    let t = text_of(p)?;
    let (spec, proto) = t.split_once('/').unwrap_or((&t, "tcp"));
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    let (container, host, ip) = match parts.as_slice() {
        [c] => (*c, None, None),
        [c, h] => (*c, Some(*h), None),
        [c, h, ip] => (*c, Some(*h), Some(ip.to_string())),
        _ => return None,
    };
    let container: u16 = container.parse().ok()?;
    let host: Option<u16> = match host {
        Some("") | None => None,
        Some(h) => Some(h.parse().ok()?),
    };
    let ip = ip.filter(|i| i != "0.0.0.0");
    Some((container, proto.to_string(), host, ip))
}

/// Compose's memory notation (`512m`, `1g`, `1gb`, bytes) in the model's (`512Mi`).
fn memory(m: &str) -> String {
    let l = m.trim().to_ascii_lowercase();
    let l = l.strip_suffix('b').unwrap_or(&l);
    for (suffix, unit) in [("k", "Ki"), ("m", "Mi"), ("g", "Gi"), ("t", "Ti")] {
        if let Some(n) = l.strip_suffix(suffix)
            && n.chars().all(|c| c.is_ascii_digit())
        {
            return envc_diff::facts::memory(&format!("{n}{unit}"));
        }
    }
    envc_diff::facts::memory(l)
}

/// `x-` blocks that services merge with `<<` become templates: the part of those services
/// that is the same in all of them.
fn templates(draft: &mut Draft, set: &FileSet, report: &mut Report) -> Result<(), ImportError> {
    let Some(first) = set.named.first() else {
        return Ok(());
    };
    let Some(text) = set.text(first) else {
        return Ok(());
    };
    let docs = envc_diff::docs::parse(&set.display(first), text)?;
    let Some(raw) = docs.first() else {
        return Ok(());
    };
    let anchors: Vec<(String, &Y)> = raw
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let k = k.as_str()?;
            (k.starts_with("x-") && v.is_mapping()).then(|| (k.to_string(), v))
        })
        .collect();
    let mut groups: IndexMap<String, Vec<String>> = IndexMap::new();
    // Services that read one env file share what it sets (and often more), anchor or not.
    let mut by_env_file: IndexMap<String, Vec<String>> = IndexMap::new();
    for (svc, s) in services_of(raw) {
        if let Some(first) = env_files(s).first() {
            by_env_file
                .entry(first.clone())
                .or_default()
                .push(name::label(&svc, 54));
        }
        let merged: Vec<&Y> = match s.get("<<") {
            Some(Y::Sequence(seq)) => seq.iter().collect(),
            Some(v) => vec![v],
            None => continue,
        };
        for m in merged {
            if let Some((a, _)) = anchors.iter().find(|(_, v)| *v == m) {
                groups
                    .entry(a.clone())
                    .or_default()
                    .push(name::label(&svc, 54));
            }
        }
    }
    for (anchor, members) in groups {
        extract_template(draft, anchor.trim_start_matches("x-"), &members);
    }
    for (file, members) in by_env_file {
        let base = file.trim_start_matches("./").trim_start_matches('.');
        if let Some(t) = extract_template(draft, base, &members) {
            report.push(
                &members.join(", "),
                "extends",
                format!("the services reading `{file}` extend template `{t}`, which holds what they share"),
            );
        }
    }
    Ok(())
}

/// Whether a container path is where services keep state they write (data, logs, caches),
/// by the file system hierarchy's conventions and common image layouts.
fn holds_state(target: &str) -> bool {
    const UNDER: &[&str] = &[
        "/var/lib/",
        "/var/log/",
        "/var/cache/",
        "/var/spool/",
        "/data/",
        "/srv/",
    ];
    const LAST: &[&str] = &[
        "data", "db", "logs", "log", "cache", "storage", "state", "uploads",
    ];
    let t = target.trim_end_matches('/');
    let last = t.rsplit('/').next().unwrap_or("");
    UNDER.iter().any(|u| format!("{t}/").starts_with(u)) || LAST.contains(&last)
}

/// Whether a bind mount's source reads as a file (`prometheus.yml`, `servers.json`) rather than
/// a folder (`./data`, `./postgres14`), when the import cannot look.
fn looks_like_file(source: &str) -> bool {
    let last = source
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    match last.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// The `env_file` entries of a raw service, as written.
fn env_files(s: &Y) -> Vec<String> {
    match s.get("env_file") {
        Some(Y::Sequence(seq)) => seq
            .iter()
            .filter_map(|e| text_of(e).or_else(|| e.get("path").and_then(text_of)))
            .collect(),
        Some(v) => text_of(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Makes what `members` share a template named after `base` that they extend; the template's
/// name, or `None` when fewer than two of them are imported or they share nothing.
fn extract_template(draft: &mut Draft, base: &str, members: &[String]) -> Option<String> {
    {
        let tables: Vec<&Table> = members
            .iter()
            .filter_map(|m| draft.services.get(m))
            .collect();
        if tables.len() < 2 {
            return None;
        }
        let mut common = factor::common(&tables);
        common.remove("enabled");
        common.remove("workload");
        common.remove("job");
        common.remove("extends");
        if common.is_empty() {
            return None;
        }
        let taken: Vec<String> = draft.templates.keys().cloned().collect();
        let tname = name::unique(name::label(base, 63), &taken);
        for m in members {
            let Some(svc) = draft.services.get(m) else {
                continue;
            };
            let rest = factor::minus(svc, &common);
            let mut out = Table::new();
            let mut ext: Vec<String> = svc
                .get("extends")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            ext.push(tname.clone());
            out.insert("extends".into(), strings(&ext));
            for (k, v) in rest {
                if k != "extends" {
                    out.insert(k, v);
                }
            }
            draft.services.insert(m.clone(), out);
        }
        draft.templates.insert(tname.clone(), common);
        Some(tname)
    }
}

fn runs_as_root(t: &Table) -> bool {
    t.get("security")
        .and_then(|s| s.get("run_as_non_root"))
        .and_then(Value::as_bool)
        == Some(false)
}

/// What the Compose backend adds to every service, whatever the input said.
fn inherent(draft: &Draft, report: &mut Report) {
    report.push("*", "fields.labels", "envc labels every container (app.kubernetes.io/name, instance, part-of, managed-by, version, component); the input's labels are not carried over");
    report.push(
        "*",
        "namespace",
        "envc puts every service on one network named after the environment",
    );
    report.push(
        "networks/*",
        "",
        "envc declares one network, named after the environment",
    );
    report.push(
        "*",
        "security.cap_drop",
        "envc drops every capability of every container",
    );
    report.push(
        "*",
        "security.privilege_escalation",
        "envc runs every container with no-new-privileges (setuid binaries do not gain privileges)",
    );
    if draft.services.values().any(|s| s.get("volumes").is_some()) {
        report.push("volumes/*", "", "envc names a service's Compose volumes `<env>-<service>-<volume>` (or the environment volume's name) and labels them");
    }
    if !draft.secrets.is_empty() {
        report.push("*", "fields.environment", "secret values reach containers through `${ENVC_SECRET_*}` from the mode's .env, not inline");
    }
    report.push(
        "name",
        "",
        "the Compose project is named after the environment",
    );
}
