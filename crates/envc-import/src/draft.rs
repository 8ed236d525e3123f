//! The model being written: an environment as TOML tables, the profiles that hold what differs
//! per mode, and the files they become.

use indexmap::IndexMap;
use toml::{Table, Value};

use crate::report::Report;

/// A file of the imported model, relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    /// `environments/<env>.toml`, `environments/<env>/<file>`, `profiles/<mode>.toml`.
    pub path: String,
    /// The whole content to write (for an existing profile: its text with the import's block
    /// appended).
    pub text: String,
    /// Whether the file existed and the import adds to it (a profile the environment fits).
    pub extends_existing: bool,
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct Import {
    /// The environment's name.
    pub env: String,
    /// The modes whose profiles the import wrote or added to, in order: the round trip builds
    /// the first.
    pub modes: Vec<String>,
    /// Files to write.
    pub files: Vec<OutFile>,
    /// What did not map.
    pub report: Report,
}

/// An input that could not be imported: its file, with the line and column when known (the
/// document reader's error, which every reader of input files shares).
pub type ImportError = envc_diff::docs::DocError;

/// A secret found inline.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secret {
    /// Where it was found.
    pub description: String,
    /// The input's value, for the dev profiles; `None` when it cannot be kept (it equals a
    /// literal elsewhere in the model, which the model forbids).
    pub dev_value: Option<String>,
}

/// One mode's profile: its settings and what the environment sets differently there.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// Mode name.
    pub mode: String,
    /// `[profile]` and backend settings, for a profile the import creates.
    pub settings: Table,
    /// `[environments.<env>]` overlay: services, secrets.
    pub overlay: Table,
}

/// The environment being written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
    /// Environment name.
    pub env: String,
    /// One line saying where it came from.
    pub description: String,
    /// More `[environment]` settings (`network_policy`).
    pub settings: Table,
    /// `[namespaces]`, when the input names one.
    pub namespaces: Table,
    /// Secrets by name.
    pub secrets: IndexMap<String, Secret>,
    /// `[volumes]`: environment volumes by name.
    pub volumes: IndexMap<String, Table>,
    /// `[templates]` by name.
    pub templates: IndexMap<String, Table>,
    /// `[services]` by name, each with its keys.
    pub services: IndexMap<String, Table>,
    /// Config files the services' `files.*.template` name, relative to `environments/`.
    pub files: Vec<(String, String)>,
}

impl Draft {
    /// The environment file's text, with the report as its opening comment block.
    pub fn render(&self, title: &str, report: &Report) -> String {
        let mut root = Table::new();
        let mut environment = Table::new();
        environment.insert("name".into(), Value::String(self.env.clone()));
        environment.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        for (k, v) in &self.settings {
            environment.insert(k.clone(), v.clone());
        }
        root.insert("environment".into(), Value::Table(environment));
        let namespaces = if self.namespaces.is_empty() {
            let mut ns = Table::new();
            ns.insert("name".into(), Value::String(self.env.clone()));
            table1_t("app", Value::Table(ns))
        } else {
            self.namespaces.clone()
        };
        root.insert("namespaces".into(), Value::Table(namespaces));
        if !self.secrets.is_empty() {
            let mut t = Table::new();
            for (name, s) in &self.secrets {
                let mut st = Table::new();
                st.insert("description".into(), Value::String(s.description.clone()));
                t.insert(name.clone(), Value::Table(st));
            }
            root.insert("secrets".into(), Value::Table(t));
        }
        for (key, map) in [("volumes", &self.volumes), ("templates", &self.templates)] {
            if !map.is_empty() {
                let t: Table = map
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Table(v.clone())))
                    .collect();
                root.insert(key.into(), Value::Table(t));
            }
        }
        let services: Table = self
            .services
            .iter()
            .map(|(k, v)| (k.clone(), Value::Table(v.clone())))
            .collect();
        root.insert("services".into(), Value::Table(services));
        format!(
            "{}\n{}",
            report.comment_block(title),
            compact(&toml::to_string(&root).unwrap_or_default())
        )
    }

    /// A profile's text: a new profile's settings and overlay, or the block the import adds to
    /// an existing one.
    pub fn render_profile(&self, p: &Profile, existing: Option<&str>) -> String {
        let mut envs = Table::new();
        let mut overlay = p.overlay.clone();
        let mut dev = Table::new();
        for (name, s) in &self.secrets {
            if let Some(v) = &s.dev_value {
                let mut t = Table::new();
                t.insert("dev_value".into(), Value::String(v.clone()));
                dev.insert(name.clone(), Value::Table(t));
            }
        }
        let dev_tier = p
            .settings
            .get("profile")
            .and_then(|t| t.get("tier"))
            .and_then(Value::as_str)
            .is_none_or(|t| t == "dev");
        if !dev.is_empty() && dev_tier {
            overlay.insert("secrets".into(), Value::Table(dev));
        }
        let mut body = String::new();
        if !overlay.is_empty() {
            envs.insert(self.env.clone(), Value::Table(overlay));
            let mut root = Table::new();
            root.insert("environments".into(), Value::Table(envs));
            body = compact(&toml::to_string(&root).unwrap_or_default());
        }
        match existing {
            Some(text) => {
                let mut out = without_environment(text, &self.env).trim_end().to_string();
                out.push_str(&format!(
                    "\n\n# Added by `envc import` for environment `{}`.\n",
                    self.env
                ));
                out.push_str(&body);
                out
            }
            None => {
                let settings = toml::to_string(&p.settings).unwrap_or_default();
                format!(
                    "# Written by `envc import` for environment `{}`.\n{settings}\n{body}",
                    self.env
                )
            }
        }
    }
}

/// A profile without its overlay for `env` (what an earlier import of it added), so that an
/// import with `--force` replaces the overlay rather than adding a second one.
fn without_environment(text: &str, env: &str) -> String {
    let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else {
        return text.to_string();
    };
    let Some(envs) = doc
        .get_mut("environments")
        .and_then(|e| e.as_table_like_mut())
    else {
        return text.to_string();
    };
    if envs.remove(env).is_none() {
        return text.to_string();
    }
    if envs.is_empty() {
        doc.remove("environments");
    }
    doc.to_string()
}

/// A TOML string value.
pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// A TOML array of strings.
pub(crate) fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|x| s(x.clone())).collect())
}

/// A table with one key.
pub(crate) fn table1(k: &str, v: Value) -> Value {
    let mut t = Table::new();
    t.insert(k.to_string(), v);
    Value::Table(t)
}

/// Service keys written inline whole (`depends_on = { db = "healthy" }`).
const INLINE_WHOLE: &[&str] = &["depends_on", "resources", "security", "build", "job"];

/// Service keys whose entries are written inline (`POSTGRES_PASSWORD = { secret = "..." }`,
/// `http = { container = 80 }`).
const INLINE_ENTRIES: &[&str] = &["env", "ports", "volumes", "files", "probes"];

/// The TOML of a model with each service's small tables inline, as people write the model.
fn compact(text: &str) -> String {
    let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else {
        return text.to_string();
    };
    for section in ["services", "templates"] {
        if let Some(t) = doc.get_mut(section).and_then(|x| x.as_table_mut()) {
            compact_services(t);
        }
    }
    if let Some(envs) = doc.get_mut("environments").and_then(|x| x.as_table_mut()) {
        for (_, e) in envs.iter_mut() {
            if let Some(s) = e.get_mut("services").and_then(|x| x.as_table_mut()) {
                compact_services(s);
            }
        }
    }
    doc.to_string()
}

fn compact_services(services: &mut toml_edit::Table) {
    for (_, svc) in services.iter_mut() {
        let Some(svc) = svc.as_table_mut() else {
            continue;
        };
        for (mut k, v) in svc.iter_mut() {
            if INLINE_WHOLE.contains(&k.get()) {
                inline(v);
                k.leaf_decor_mut().set_suffix(" ");
            } else if INLINE_ENTRIES.contains(&k.get())
                && let Some(t) = v.as_table_mut()
            {
                for (mut key, e) in t.iter_mut() {
                    inline(e);
                    // A key that headed a table has no space before the `=` it now takes.
                    key.leaf_decor_mut().set_suffix(" ");
                }
            }
        }
    }
}

fn inline(item: &mut toml_edit::Item) {
    let taken = std::mem::take(item);
    *item = match taken.into_table() {
        Ok(t) => {
            let mut it = t.into_inline_table();
            for (_, v) in it.iter_mut() {
                flatten_value(v);
            }
            it.fmt();
            let mut v = toml_edit::Value::InlineTable(it);
            v.decor_mut().set_prefix(" ");
            toml_edit::Item::Value(v)
        }
        Err(other) => other,
    };
}

fn flatten_value(v: &mut toml_edit::Value) {
    if let toml_edit::Value::InlineTable(t) = v {
        for (_, x) in t.iter_mut() {
            flatten_value(x);
        }
        t.fmt();
    }
}

fn table1_t(k: &str, v: Value) -> Table {
    let mut t = Table::new();
    t.insert(k.to_string(), v);
    t
}
