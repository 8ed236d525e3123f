//! A Compose project as `docker compose config` would see it, handed to the extractor as one
//! document: the files of the project (`-f A -f B`, `COMPOSE_FILE`, or the standard file and
//! its `.override` file) each interpolated and then merged as Compose merges them, with
//! `include`, `extends`, `volumes_from` and `profiles` applied and the old layout without
//! `services:` read as services.
//!
//! Interpolation follows Compose: the caller's environment before `.env` (or the `--env-file`
//! files), `$$`, `$VAR`, `${VAR}`, `${VAR:-default}` / `-`, `${VAR:?error}` / `?` (an error when
//! unset), `${VAR:+alt}` / `+`, defaults and alternatives nested (`${A:-${B:-x}}`). A variable
//! whose name is a credential's is substituted by a secret marker, never by its text. The
//! result is escaped again (`$` as `$$`) since the extractor reads values through Compose's
//! rules itself.

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::{Mapping, Value as Y};

use crate::docs::DocError;
use crate::fileset::FileSet;

/// The standard Compose file names, in the order `docker compose` looks for them.
const STANDARD: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged document (`services`, `volumes`, `secrets`, ...).
    pub doc: Y,
    /// What loading noticed (unset variables, skipped `container:` references).
    pub notes: Vec<String>,
}

/// `KEY=VALUE` lines of an env file as Compose reads them: `#` comments (whole lines, and
/// after an unquoted value when preceded by a space), `export `, single and double quotes
/// (double quotes with `\n` escapes), blank values.
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    env_entries(text)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect()
}

/// An env file's entries in order, each with whether Compose interpolates it: every value but a
/// single-quoted one (`KEY='$literal'`).
pub fn env_entries(text: &str) -> Vec<(String, String, bool)> {
    let mut m = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let interpolated = !v.starts_with('\'');
        let value = if let Some(q) = v.strip_prefix('"') {
            q.rsplit_once('"')
                .map_or(q, |(inner, _)| inner)
                .replace("\\n", "\n")
                .replace("\\\"", "\"")
        } else if let Some(q) = v.strip_prefix('\'') {
            q.rsplit_once('\'')
                .map_or(q, |(inner, _)| inner)
                .to_string()
        } else {
            match v.find(" #") {
                Some(i) => v[..i].trim_end().to_string(),
                None => v.to_string(),
            }
        };
        m.push((k.trim().to_string(), value, interpolated));
    }
    m
}

/// The files of the project, in merge order: those the user named; else `COMPOSE_FILE`
/// (`:`-separated, from the environment or `.env`); else the standard file and its override.
pub fn project_files(files: &FileSet) -> Vec<String> {
    if !files.named.is_empty() {
        return files.named.clone();
    }
    let dotenv = files.text(".env").map(parse_env_file).unwrap_or_default();
    if let Some(list) = files
        .environ
        .get("COMPOSE_FILE")
        .or_else(|| dotenv.get("COMPOSE_FILE"))
    {
        let sep = files
            .environ
            .get("COMPOSE_PATH_SEPARATOR")
            .map_or(":", String::as_str);
        return list
            .split(sep)
            .filter(|s| !s.is_empty())
            .map(crate::fileset::normal_key)
            .collect();
    }
    for n in STANDARD {
        if files.files.contains_key(n) {
            let (stem, ext) = n.rsplit_once('.').unwrap_or((n, "yaml"));
            let over = format!("{stem}.override.{ext}");
            return if files.files.contains_key(&over) {
                vec![n.to_string(), over]
            } else {
                vec![n.to_string()]
            };
        }
    }
    crate::compose::compose_file(files).into_iter().collect()
}

/// The variables interpolation reads, for a project whose folder is `dir` in the set: the
/// caller's environment over the `--env-file` files (or `dir/.env`). Each env file value is
/// interpolated as Compose reads it, from the caller's environment and the entries before it
/// (`A=${A:-x}`, then `B=${A}`); a single-quoted value is taken as written.
pub fn variables(files: &FileSet, dir: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let env_files: Vec<String> = if files.env_files.is_empty() {
        vec![join(dir, ".env")]
    } else {
        files.env_files.clone()
    };
    for f in env_files {
        if let Some(t) = files.text(&f) {
            for (k, v, interpolated) in env_entries(t) {
                let v = if interpolated && v.contains('$') {
                    let mut known = vars.clone();
                    known.extend(files.environ.clone());
                    let mut unset = BTreeSet::new();
                    let mut it = Interp {
                        file: &f,
                        text: t,
                        vars: &known,
                        unset: &mut unset,
                    };
                    // The value as the container gets it; one Compose cannot read is kept.
                    it.string(&v).map(|s| s.replace("$$", "$")).unwrap_or(v)
                } else {
                    v
                };
                vars.insert(k, v);
            }
        }
    }
    vars.extend(files.environ.clone());
    vars
}

fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return rel.to_string();
    }
    crate::fileset::normal_key(&format!("{dir}/{rel}"))
}

fn dir_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

/// Interpolation of one file.
struct Interp<'a> {
    file: &'a str,
    text: &'a str,
    vars: &'a BTreeMap<String, String>,
    unset: &'a mut BTreeSet<String>,
}

impl Interp<'_> {
    fn error(&self, expr: &str, message: String) -> DocError {
        let (line, column) = locate(self.text, expr);
        DocError {
            file: self.file.to_string(),
            line,
            column,
            message,
        }
    }

    /// `s` interpolated, `$` escaped again for the extractor.
    fn string(&mut self, s: &str) -> Result<String, DocError> {
        if !s.contains('$') {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                out.push_str("$$");
                rest = r;
            } else if let Some(body) = after.strip_prefix('{') {
                let Some(end) = closing_brace(body) else {
                    return Err(self.error(
                        &rest[i..],
                        format!("invalid interpolation format for `{}`", &rest[i..]),
                    ));
                };
                out.push_str(&self.braced(&body[..end])?);
                rest = &body[end + 1..];
            } else {
                let n = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                if n == 0 {
                    out.push_str("$$");
                    rest = after;
                    continue;
                }
                out.push_str(&self.variable(&after[..n], None));
                rest = &after[n..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `${...}`'s body: `NAME`, then an operator and a word that is interpolated itself.
    fn braced(&mut self, body: &str) -> Result<String, DocError> {
        let n = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let (name, op) = body.split_at(n);
        if name.is_empty() {
            return Err(self.error(
                body,
                format!("invalid interpolation format for `${{{body}}}`"),
            ));
        }
        let value = self.vars.get(name);
        let set_nonempty = value.is_some_and(|v| !v.is_empty());
        let set = value.is_some();
        for (prefix, colon) in [(":-", true), ("-", false)] {
            if let Some(word) = op.strip_prefix(prefix) {
                let use_default = if colon { !set_nonempty } else { !set };
                return if use_default {
                    self.string(word)
                } else {
                    Ok(self.variable(name, value))
                };
            }
        }
        for (prefix, colon) in [(":?", true), ("?", false)] {
            if let Some(word) = op.strip_prefix(prefix) {
                let missing = if colon { !set_nonempty } else { !set };
                if missing {
                    let why = self.string(word)?;
                    let why = if why.is_empty() {
                        format!("required variable {name} is missing a value")
                    } else {
                        format!("required variable {name} is missing a value: {why}")
                    };
                    return Err(self.error(&format!("${{{body}}}"), why));
                }
                return Ok(self.variable(name, value));
            }
        }
        for (prefix, colon) in [(":+", true), ("+", false)] {
            if let Some(word) = op.strip_prefix(prefix) {
                let present = if colon { set_nonempty } else { set };
                return if present {
                    self.string(word)
                } else {
                    Ok(String::new())
                };
            }
        }
        if !op.is_empty() {
            return Err(self.error(
                body,
                format!("invalid interpolation format for `${{{body}}}`"),
            ));
        }
        Ok(self.variable(name, value))
    }

    /// A variable's value (escaped), a secret marker for credential names, empty (noted) when
    /// unset, as Compose substitutes it.
    fn variable(&mut self, name: &str, value: Option<&String>) -> String {
        let value = value.or_else(|| self.vars.get(name));
        let Some(v) = value else {
            self.unset.insert(name.to_string());
            return String::new();
        };
        if envc_model::model::literal_is_credential(name, v) {
            return crate::secret::marker(v.as_bytes());
        }
        v.replace('$', "$$")
    }
}

/// The index of the `}` closing a `${` whose body starts `body` (nested `${...}` skipped).
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Line and column of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (Option<usize>, Option<usize>) {
    let probe: String = needle.chars().take(40).collect();
    let Some(at) = text.find(&probe) else {
        return (None, None);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

/// Interpolates every string value (keys are left alone, as Compose does).
fn interpolate(v: &mut Y, it: &mut Interp<'_>) -> Result<(), DocError> {
    match v {
        // Most strings have no `$`: they stay as they are (no copy).
        Y::String(s) if s.contains('$') => *s = it.string(s)?,
        Y::Sequence(items) => {
            for i in items {
                interpolate(i, it)?;
            }
        }
        Y::Mapping(m) => {
            for (_, x) in m.iter_mut() {
                interpolate(x, it)?;
            }
        }
        Y::Tagged(t) => interpolate(&mut t.value, it)?,
        _ => {}
    }
    Ok(())
}

/// One file of the project, parsed, with YAML merge keys applied, the old layout read as
/// services, interpolated.
fn read_file(
    files: &FileSet,
    path: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut BTreeSet<String>,
) -> Result<Y, DocError> {
    let shown = files.display(path);
    let Some(text) = files.text(path) else {
        return Err(DocError {
            file: shown,
            line: None,
            column: None,
            message: if files.files.contains_key(path) {
                "not UTF-8 text".into()
            } else {
                "no such file in the project".into()
            },
        });
    };
    let mut docs = crate::docs::parse(&shown, text)?;
    let doc = match docs.len() {
        0 => {
            return Err(DocError {
                file: shown,
                line: None,
                column: None,
                message: "empty: no Compose services".into(),
            });
        }
        _ => docs.swap_remove(0),
    };
    if !doc.is_mapping() {
        return Err(DocError {
            file: shown,
            line: Some(1),
            column: Some(1),
            message: "not a Compose file: the top level is not a mapping".into(),
        });
    }
    prepare(doc, &shown, text, vars, unset)
}

/// A file's document as Compose reads it: merge keys applied, the first format's layout
/// read, variables interpolated (`text` locates interpolation errors).
fn prepare(
    mut doc: Y,
    shown: &str,
    text: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut BTreeSet<String>,
) -> Result<Y, DocError> {
    let _ = doc.apply_merge();
    old_layout(&mut doc);
    let mut it = Interp {
        file: shown,
        text,
        vars,
        unset,
    };
    interpolate(&mut doc, &mut it)?;
    Ok(doc)
}

/// Compose's first file format had no `services:`: every top-level entry was a service.
fn old_layout(doc: &mut Y) {
    let Some(m) = doc.as_mapping() else { return };
    let known = [
        "services", "version", "volumes", "networks", "secrets", "configs", "include", "name",
    ];
    if m.keys().any(|k| {
        k.as_str()
            .is_some_and(|k| known.contains(&k) || k.starts_with("x-"))
    }) {
        return;
    }
    let all_services = !m.is_empty()
        && m.values()
            .all(|v| v.get("image").is_some() || v.get("build").is_some());
    if all_services {
        let mut top = Mapping::new();
        top.insert(Y::from("services"), doc.clone());
        *doc = Y::Mapping(top);
    }
}

/// Whether a file's text is a Compose file of the first format (services at the top, no
/// `services:`).
pub fn is_old_layout(text: &str) -> bool {
    let Ok(mut docs) = crate::docs::parse("-", text) else {
        return false;
    };
    if docs.len() != 1 {
        return false;
    }
    let mut d = docs.swap_remove(0);
    if d.get("services").is_some() || d.get("apiVersion").is_some() {
        return false;
    }
    old_layout(&mut d);
    d.get("services").is_some()
}

/// Loads the set's Compose project into one document.
pub fn load(files: &FileSet) -> Result<Loaded, DocError> {
    load_given(files, project_files(files), None)
}

/// Loads a one-file project whose file `main` is given as the document its text parses to
/// rather than as text in the set (a set envc has just built, [`crate::memory::compose`]); the
/// rest of the project (`.env`, mounted files) is read from the set as [`load`] reads it.
/// Errors of interpolation carry no line, having no text to point into.
pub fn load_document(files: &FileSet, main: &str, doc: Y) -> Result<Loaded, DocError> {
    load_given(files, vec![main.to_string()], Some(doc))
}

/// [`load`] of the files `list`, the first given as a document when `given` is.
fn load_given(files: &FileSet, list: Vec<String>, given: Option<Y>) -> Result<Loaded, DocError> {
    let mut given = given;
    let Some(first) = list.first() else {
        return Err(DocError {
            file: files.label.clone(),
            line: None,
            column: None,
            message: "no Compose file".into(),
        });
    };
    let dir = dir_of(first);
    let vars = variables(files, &dir);
    let mut unset = BTreeSet::new();
    let mut notes = Vec::new();
    let mut doc = Y::Mapping(Mapping::new());
    for path in &list {
        let mut d = match given.take() {
            Some(doc) => prepare(doc, &files.display(path), "", &vars, &mut unset)?,
            None => read_file(files, path, &vars, &mut unset)?,
        };
        include(
            files,
            &mut d,
            &dir_of(path),
            &dir,
            &mut unset,
            &mut notes,
            0,
        )?;
        merge_top(&mut doc, d);
    }
    extends(files, &mut doc, &dir, &vars, &mut unset)?;
    volumes_from(&mut doc, &mut notes);
    bind_specs(&mut doc, files, &dir);
    profiles(&mut doc, files, &vars);
    if !unset.is_empty() {
        notes.push(format!(
            "variables not set (Compose substitutes an empty string): {}",
            unset.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Loaded { doc, notes })
}

/// `include:`: each named project is loaded (with its own `.env`), its relative paths made
/// relative to the including project, and its top-level entries added.
fn include(
    files: &FileSet,
    doc: &mut Y,
    file_dir: &str,
    project_dir: &str,
    unset: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
    depth: usize,
) -> Result<(), DocError> {
    let Some(items) = doc
        .as_mapping_mut()
        .and_then(|m| m.remove("include"))
        .and_then(|v| v.as_sequence().cloned())
    else {
        return Ok(());
    };
    if depth > 8 {
        notes.push("include nested more than 8 deep; the rest is not read".into());
        return Ok(());
    }
    for item in items {
        let paths: Vec<String> = match &item {
            Y::String(s) => vec![s.clone()],
            _ => match item.get("path") {
                Some(Y::String(s)) => vec![s.clone()],
                Some(Y::Sequence(s)) => s
                    .iter()
                    .filter_map(|x| x.as_str())
                    .map(String::from)
                    .collect(),
                _ => continue,
            },
        };
        let mut sub = Y::Mapping(Mapping::new());
        for p in &paths {
            let key = join(file_dir, p);
            let sub_dir = dir_of(&key);
            let vars = variables(files, &sub_dir);
            let mut d = read_file(files, &key, &vars, unset)?;
            include(files, &mut d, &sub_dir, &sub_dir, unset, notes, depth + 1)?;
            rebase_services(&mut d, &sub_dir, project_dir);
            merge_top(&mut sub, d);
        }
        if let (Some(target), Y::Mapping(src)) = (doc.as_mapping_mut(), sub) {
            for (k, v) in src {
                match (target.get_mut(&k), v) {
                    (Some(Y::Mapping(t)), Y::Mapping(s)) => {
                        for (sk, sv) in s {
                            t.entry(sk).or_insert(sv);
                        }
                    }
                    (None, v) => {
                        target.insert(k, v);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Relative paths of services read from `from` (a folder of the set) made relative to `to`.
fn rebase_services(doc: &mut Y, from: &str, to: &str) {
    if from == to {
        return;
    }
    let Some(services) = doc.get_mut("services").and_then(Y::as_mapping_mut) else {
        return;
    };
    for (_, s) in services.iter_mut() {
        rebase_service(s, from, to);
    }
}

/// A path relative to folder `from` as seen from folder `to` (both in the set).
fn rebase_path(p: &str, from: &str, to: &str) -> String {
    if p.starts_with('/') || p.starts_with('~') || p.contains("://") {
        return p.to_string();
    }
    let full = join(from, p);
    let depth = to.split('/').filter(|s| !s.is_empty()).count();
    let prefix = to.trim_end_matches('/');
    match full.strip_prefix(&format!("{prefix}/")) {
        Some(rest) if !prefix.is_empty() => format!("./{rest}"),
        _ if prefix.is_empty() => format!("./{full}"),
        _ => format!("{}{full}", "../".repeat(depth)),
    }
}

fn rebase_service(s: &mut Y, from: &str, to: &str) {
    let Some(m) = s.as_mapping_mut() else { return };
    if let Some(vols) = m.get_mut("volumes").and_then(Y::as_sequence_mut) {
        for v in vols {
            match v {
                Y::String(spec) => {
                    if let Some((src, rest)) = spec.split_once(':')
                        && (src.starts_with('.'))
                    {
                        *spec = format!("{}:{rest}", rebase_path(src, from, to));
                    }
                }
                Y::Mapping(lm) => {
                    if let Some(Y::String(src)) = lm.get_mut("source")
                        && src.starts_with('.')
                    {
                        *src = rebase_path(src, from, to);
                    }
                }
                _ => {}
            }
        }
    }
    match m.get_mut("env_file") {
        Some(Y::String(p)) => *p = rebase_path(p, from, to),
        Some(Y::Sequence(list)) => {
            for e in list {
                match e {
                    Y::String(p) => *p = rebase_path(p, from, to),
                    Y::Mapping(em) => {
                        if let Some(Y::String(p)) = em.get_mut("path") {
                            *p = rebase_path(p, from, to);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    match m.get_mut("build") {
        Some(Y::String(p)) => *p = rebase_path(p, from, to),
        Some(Y::Mapping(b)) => {
            if let Some(Y::String(p)) = b.get_mut("context") {
                *p = rebase_path(p, from, to);
            }
        }
        _ => {}
    }
}

/// Merges a later file of the project onto the document so far.
fn merge_top(doc: &mut Y, next: Y) {
    let (Some(d), Y::Mapping(n)) = (doc.as_mapping_mut(), next) else {
        return;
    };
    for (k, v) in n {
        let key = k.as_str().unwrap_or_default().to_string();
        match (d.get_mut(&k), v) {
            (Some(Y::Mapping(base)), Y::Mapping(over)) if key == "services" => {
                for (name, s) in over {
                    match base.get_mut(&name) {
                        Some(b) => merge_service(b, s),
                        None => {
                            base.insert(name, s);
                        }
                    }
                }
            }
            (Some(base @ Y::Mapping(_)), over @ Y::Mapping(_)) => deep_merge(base, over),
            (_, v) => {
                d.insert(k, v);
            }
        }
    }
}

/// Mappings merge key by key; anything else is replaced.
fn deep_merge(base: &mut Y, over: Y) {
    match (base, over) {
        (Y::Mapping(b), Y::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(x) => deep_merge(x, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Keys merged as mappings (the list form `- K=V` read as one).
const MAPPING_KEYS: [&str; 6] = [
    "environment",
    "labels",
    "annotations",
    "extra_hosts",
    "sysctls",
    "ulimits",
];
/// Keys whose lists are appended, without repeats.
const APPENDED_KEYS: [&str; 14] = [
    "ports",
    "expose",
    "external_links",
    "links",
    "dns",
    "dns_search",
    "dns_opt",
    "tmpfs",
    "cap_add",
    "cap_drop",
    "security_opt",
    "group_add",
    "env_file",
    "profiles",
];
/// Keys of list entries merged by their target path.
const BY_TARGET_KEYS: [&str; 2] = ["volumes", "devices"];
/// Keys whose list form names entries of a mapping form.
const NAMED_KEYS: [&str; 4] = ["depends_on", "networks", "secrets", "configs"];

/// Compose's merge of one service's definition in a later file onto an earlier one.
fn merge_service(base: &mut Y, over: Y) {
    let (Some(b), Y::Mapping(o)) = (base.as_mapping_mut(), over) else {
        return;
    };
    for (k, v) in o {
        let key = k.as_str().unwrap_or_default().to_string();
        let Some(existing) = b.get_mut(&k) else {
            b.insert(k, v);
            continue;
        };
        if MAPPING_KEYS.contains(&key.as_str()) {
            let mut m = as_map(existing);
            for (mk, mv) in as_map(&v) {
                m.insert(mk, mv);
            }
            *existing = Y::Mapping(m);
        } else if APPENDED_KEYS.contains(&key.as_str()) {
            let mut list = as_list(existing);
            for x in as_list(&v) {
                if !list.contains(&x) {
                    list.push(x);
                }
            }
            *existing = Y::Sequence(list);
        } else if BY_TARGET_KEYS.contains(&key.as_str()) {
            let mut list = as_list(existing);
            for x in as_list(&v) {
                let t = mount_target(&x);
                match list
                    .iter()
                    .position(|y| t.is_some() && mount_target(y) == t)
                {
                    Some(i) => list[i] = x,
                    None => list.push(x),
                }
            }
            *existing = Y::Sequence(list);
        } else if NAMED_KEYS.contains(&key.as_str()) && (existing.is_sequence() || v.is_sequence())
        {
            let mut m = named_map(existing);
            for (mk, mv) in named_map(&v) {
                m.insert(mk, mv);
            }
            *existing = if matches!(key.as_str(), "secrets" | "configs") {
                Y::Sequence(
                    m.into_iter()
                        .map(|(k, v)| if v.is_null() { k } else { v })
                        .collect(),
                )
            } else {
                Y::Mapping(m)
            };
        } else {
            deep_merge(existing, v);
        }
    }
}

fn as_list(v: &Y) -> Vec<Y> {
    match v {
        Y::Sequence(s) => s.clone(),
        Y::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// `environment`-like values as a mapping: `- K=V` is `K: V`, `- K` is `K: null`.
fn as_map(v: &Y) -> Mapping {
    match v {
        Y::Mapping(m) => m.clone(),
        Y::Sequence(s) => s
            .iter()
            .filter_map(|x| {
                let t = x.as_str()?;
                Some(match t.split_once(['=', ':']) {
                    Some((k, v)) if !t.starts_with('=') => {
                        (Y::from(k.trim()), Y::from(v.trim_start()))
                    }
                    _ => (Y::from(t), Y::Null),
                })
            })
            .collect(),
        _ => Mapping::new(),
    }
}

/// `depends_on`, `networks`, `secrets`, `configs` entries by name (`source` for the long
/// syntax of secrets and configs).
fn named_map(v: &Y) -> Mapping {
    match v {
        Y::Mapping(m) => m.clone(),
        Y::Sequence(s) => s
            .iter()
            .filter_map(|x| match x {
                Y::String(_) => Some((x.clone(), Y::Null)),
                Y::Mapping(_) => Some((x.get("source")?.clone(), x.clone())),
                _ => None,
            })
            .collect(),
        _ => Mapping::new(),
    }
}

/// Where a volume or device entry is mounted.
fn mount_target(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            Some(match parts.as_slice() {
                [t] => t.to_string(),
                [_, t, ..] => t.to_string(),
                [] => return None,
            })
        }
        _ => v.get("target").and_then(Y::as_str).map(String::from),
    }
}

/// `extends`: a service's definition merged onto the one it extends (in this project or in
/// another file, whose relative paths are made the project's), recursively.
fn extends(
    files: &FileSet,
    doc: &mut Y,
    dir: &str,
    vars: &BTreeMap<String, String>,
    unset: &mut BTreeSet<String>,
) -> Result<(), DocError> {
    let names: Vec<Y> = doc
        .get("services")
        .and_then(Y::as_mapping)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    // Most files extend nothing: then the copy of the document below, and of every service,
    // is not made.
    let extending = doc
        .get("services")
        .and_then(Y::as_mapping)
        .is_some_and(|m| m.values().any(|s| s.get("extends").is_some()));
    if !extending {
        return Ok(());
    }
    let snapshot = doc.clone();
    for name in names {
        let mut seen = Vec::new();
        let resolved = resolve_extends(files, &snapshot, dir, &name, vars, unset, &mut seen)?;
        if let Some(s) = doc
            .get_mut("services")
            .and_then(Y::as_mapping_mut)
            .and_then(|m| m.get_mut(&name))
        {
            *s = resolved;
        }
    }
    Ok(())
}

fn resolve_extends(
    files: &FileSet,
    doc: &Y,
    dir: &str,
    name: &Y,
    vars: &BTreeMap<String, String>,
    unset: &mut BTreeSet<String>,
    seen: &mut Vec<String>,
) -> Result<Y, DocError> {
    let Some(mut service) = doc.get("services").and_then(|s| s.get(name)).cloned() else {
        return Ok(Y::Null);
    };
    let Some(ext) = service.as_mapping_mut().and_then(|m| m.remove("extends")) else {
        return Ok(service);
    };
    let (base_name, file) = match &ext {
        Y::String(s) => (s.clone(), None),
        _ => (
            ext.get("service")
                .and_then(Y::as_str)
                .unwrap_or_default()
                .to_string(),
            ext.get("file").and_then(Y::as_str).map(String::from),
        ),
    };
    let here = format!("{}:{}", file.as_deref().unwrap_or(""), base_name);
    if seen.contains(&here) || seen.len() > 16 {
        return Err(DocError {
            file: files.label.clone(),
            line: None,
            column: None,
            message: format!("extends loops: {} -> {here}", seen.join(" -> ")),
        });
    }
    seen.push(here);
    let base = match &file {
        None => resolve_extends(
            files,
            doc,
            dir,
            &Y::from(base_name.as_str()),
            vars,
            unset,
            seen,
        )?,
        Some(f) => {
            let key = join(dir, f);
            let other = read_file(files, &key, vars, unset)?;
            let mut b = resolve_extends(
                files,
                &other,
                &dir_of(&key),
                &Y::from(base_name.as_str()),
                vars,
                unset,
                seen,
            )?;
            rebase_service(&mut b, &dir_of(&key), dir);
            b
        }
    };
    if base.is_null() {
        return Err(DocError {
            file: files.label.clone(),
            line: None,
            column: None,
            message: format!(
                "service `{}` extends `{base_name}`, which is not defined",
                name.as_str().unwrap_or_default()
            ),
        });
    }
    let mut merged = base;
    merge_service(&mut merged, service);
    Ok(merged)
}

/// `volumes_from: [service, service:ro, container:name]`: the other service's volumes mounted
/// here too (read-only with `:ro`), unless this service mounts something at the same path.
fn volumes_from(doc: &mut Y, notes: &mut Vec<String>) {
    // Most files take no service's volumes: then the copy of every service below is not made.
    let Some(services) = doc
        .get("services")
        .and_then(Y::as_mapping)
        .filter(|m| m.values().any(|s| s.get("volumes_from").is_some()))
        .cloned()
    else {
        return;
    };
    let resolve = |name: &str| -> Vec<Y> { volumes_of(&services, name, 0) };
    let Some(target) = doc.get_mut("services").and_then(Y::as_mapping_mut) else {
        return;
    };
    for (name, s) in target.iter_mut() {
        let Some(m) = s.as_mapping_mut() else {
            continue;
        };
        let Some(from) = m.remove("volumes_from") else {
            continue;
        };
        let mut vols = m.get("volumes").map(as_list).unwrap_or_default();
        for f in as_list(&from) {
            let Some(f) = f.as_str() else { continue };
            if f.starts_with("container:") {
                notes.push(format!(
                    "{}: volumes_from {f} names a container outside the project; not read",
                    name.as_str().unwrap_or_default()
                ));
                continue;
            }
            let (src, mode) = f.split_once(':').unwrap_or((f, "rw"));
            for v in resolve(src) {
                let t = mount_target(&v);
                if vols.iter().any(|x| mount_target(x) == t) {
                    continue;
                }
                vols.push(if mode == "ro" { read_only(v) } else { v });
            }
        }
        m.insert(Y::from("volumes"), Y::Sequence(vols));
    }
}

fn volumes_of(services: &Mapping, name: &str, depth: usize) -> Vec<Y> {
    let Some(s) = services.get(name) else {
        return Vec::new();
    };
    let mut vols = s.get("volumes").map(as_list).unwrap_or_default();
    if depth < 8 {
        for f in s.get("volumes_from").map(as_list).unwrap_or_default() {
            if let Some(f) = f.as_str().filter(|f| !f.starts_with("container:")) {
                let src = f.split_once(':').map_or(f, |(a, _)| a);
                vols.extend(volumes_of(services, src, depth + 1));
            }
        }
    }
    vols
}

fn read_only(v: Y) -> Y {
    match v {
        Y::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [_, _] => Y::from(format!("{s}:ro")),
                [a, b, opts] if !opts.split(',').any(|o| o == "ro") => {
                    Y::from(format!("{a}:{b}:{opts},ro"))
                }
                _ => Y::from(s),
            }
        }
        Y::Mapping(mut m) => {
            m.insert(Y::from("read_only"), Y::Bool(true));
            Y::Mapping(m)
        }
        other => other,
    }
}

/// Most files a bind-mounted folder may hold to be read file by file.
const FOLDER_FILES: usize = 64;

/// Bind mounts as Compose reads them: a Windows path (`C:\\data:D:\\config:rw`) split at the
/// right colons, and a bind of a folder whose files are in the set mounted file by file (what
/// the container sees at each path), so that it compares with a ConfigMap of those files.
fn bind_specs(doc: &mut Y, files: &FileSet, dir: &str) {
    let Some(services) = doc.get_mut("services").and_then(Y::as_mapping_mut) else {
        return;
    };
    for (_, s) in services.iter_mut() {
        let Some(vols) = s.get_mut("volumes").and_then(Y::as_sequence_mut) else {
            continue;
        };
        let mut out = Vec::with_capacity(vols.len());
        for v in vols.drain(..) {
            let v = match &v {
                Y::String(spec) => windows_spec(spec).unwrap_or(v),
                _ => v,
            };
            out.extend(folder_files(&v, files, dir).unwrap_or_else(|| vec![v]));
        }
        *vols = out;
    }
}

/// `C:\\x:D:\\y[:mode]` (either side a drive path) in the long syntax.
fn windows_spec(spec: &str) -> Option<Y> {
    let drive = |s: &str| {
        let b = s.as_bytes();
        b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'\\' || b[2] == b'/')
    };
    let (source, rest) = if drive(spec) {
        let i = spec[2..].find(':')? + 2;
        (&spec[..i], &spec[i + 1..])
    } else {
        spec.split_once(':')?
    };
    if !drive(spec) && !drive(rest) {
        return None;
    }
    let (target, mode) = if drive(rest) {
        match rest[2..].find(':') {
            Some(i) => (&rest[..i + 2], &rest[i + 3..]),
            None => (rest, ""),
        }
    } else {
        rest.split_once(':').unwrap_or((rest, ""))
    };
    let mut m = Mapping::new();
    m.insert(Y::from("type"), Y::from("bind"));
    m.insert(Y::from("source"), Y::from(source));
    m.insert(Y::from("target"), Y::from(target));
    if mode.split(',').any(|o| o == "ro") {
        m.insert(Y::from("read_only"), Y::Bool(true));
    }
    Some(Y::Mapping(m))
}

/// A bind of a folder of the set, as one bind per file in it (at most [`FOLDER_FILES`]).
fn folder_files(v: &Y, files: &FileSet, dir: &str) -> Option<Vec<Y>> {
    let (source, target, ro) = match v {
        Y::String(spec) => {
            let parts: Vec<&str> = spec.split(':').collect();
            match parts.as_slice() {
                [s, t] => (s.to_string(), t.to_string(), false),
                [s, t, o] => (
                    s.to_string(),
                    t.to_string(),
                    o.split(',').any(|x| x == "ro"),
                ),
                _ => return None,
            }
        }
        _ if v.get("type").and_then(Y::as_str) == Some("bind") => (
            v.get("source")?.as_str()?.to_string(),
            v.get("target")?.as_str()?.to_string(),
            v.get("read_only").and_then(Y::as_bool).unwrap_or(false),
        ),
        _ => return None,
    };
    if !source.starts_with('.') {
        return None;
    }
    let key = join(dir, &source);
    // A folder outside the project's folder is not the project's to read.
    if key.starts_with("..") {
        return None;
    }
    if files.files.contains_key(&key) {
        return None;
    }
    let prefix = if key.is_empty() {
        String::new()
    } else {
        format!("{key}/")
    };
    let inside: Vec<&String> = files
        .files
        .keys()
        .filter(|k| k.starts_with(&prefix) && !k.starts_with('\0'))
        .collect();
    if inside.is_empty() || inside.len() > FOLDER_FILES || key.is_empty() {
        return None;
    }
    Some(
        inside
            .into_iter()
            .map(|k| {
                let rel = &k[prefix.len()..];
                let spec = format!(
                    "{}/{rel}:{}/{rel}{}",
                    source.trim_end_matches('/'),
                    target.trim_end_matches('/'),
                    if ro { ":ro" } else { "" }
                );
                Y::from(spec)
            })
            .collect(),
    )
}

/// With profiles chosen (`--profile`, or `COMPOSE_PROFILES`), services of other profiles are
/// left out, as `docker compose up` leaves them out; with none chosen every service is read, so
/// that nothing of the file goes unseen.
fn profiles(doc: &mut Y, files: &FileSet, vars: &BTreeMap<String, String>) {
    let mut chosen: Vec<String> = files.profiles.clone();
    if chosen.is_empty()
        && let Some(p) = vars.get("COMPOSE_PROFILES")
    {
        chosen = p
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if chosen.is_empty() || chosen.iter().any(|p| p == "*") {
        return;
    }
    let Some(services) = doc.get_mut("services").and_then(Y::as_mapping_mut) else {
        return;
    };
    services.retain(|_, s| {
        let own = s.get("profiles").map(as_list).unwrap_or_default();
        own.is_empty()
            || own
                .iter()
                .any(|p| p.as_str().is_some_and(|p| chosen.iter().any(|c| c == p)))
    });
}

/// Files the project refers to, relative to the set's base: `.env`, env files, extended and
/// included files, bind-mount sources, secrets' and configs' files. Read as plain text, before
/// interpolation, so a path that holds a variable is found once the variable is resolved by the
/// caller reading again.
pub fn references(files: &FileSet) -> Vec<String> {
    let mut out = vec![".env".to_string()];
    out.extend(files.env_files.iter().cloned());
    let mut queue: Vec<String> = project_files(files);
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) || seen.len() > 64 {
            continue;
        }
        out.push(path.clone());
        let dir = dir_of(&path);
        if dir != dir_of(queue.first().unwrap_or(&path)) {
            out.push(join(&dir, ".env"));
        }
        let Some(doc) = files
            .text(&path)
            .and_then(|t| crate::docs::parse(&path, t).ok())
            .and_then(|mut d| (!d.is_empty()).then(|| d.swap_remove(0)))
        else {
            continue;
        };
        let mut doc = doc;
        old_layout(&mut doc);
        for i in doc.get("include").map(as_list).unwrap_or_default() {
            let paths = match &i {
                Y::String(s) => vec![s.clone()],
                _ => i
                    .get("path")
                    .map(as_list)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect(),
            };
            queue.extend(paths.iter().map(|p| join(&dir, p)));
        }
        for top in ["secrets", "configs"] {
            for (_, v) in doc.get(top).and_then(Y::as_mapping).into_iter().flatten() {
                if let Some(f) = v.get("file").and_then(Y::as_str) {
                    out.push(join(&dir, f));
                }
            }
        }
        for (_, s) in doc
            .get("services")
            .and_then(Y::as_mapping)
            .into_iter()
            .flatten()
        {
            if let Some(f) = s
                .get("extends")
                .and_then(|e| e.get("file"))
                .and_then(Y::as_str)
            {
                queue.push(join(&dir, f));
            }
            for e in s.get("env_file").map(as_list).unwrap_or_default() {
                let p = e
                    .as_str()
                    .map(String::from)
                    .or_else(|| e.get("path").and_then(Y::as_str).map(String::from));
                if let Some(p) = p {
                    out.push(join(&dir, &p));
                }
            }
            for v in s.get("volumes").map(as_list).unwrap_or_default() {
                let src = match &v {
                    Y::String(spec) => spec.split(':').next().map(String::from),
                    _ => v.get("source").and_then(Y::as_str).map(String::from),
                };
                if let Some(src) = src.filter(|s| s.starts_with('.')) {
                    out.push(join(&dir, &src));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> FileSet {
        FileSet::from_memory(
            "test",
            files
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())),
        )
    }

    fn service<'a>(l: &'a Loaded, name: &str) -> &'a Y {
        l.doc
            .get("services")
            .and_then(|s| s.get(name))
            .unwrap_or(&Y::Null)
    }

    #[test]
    fn interpolation_as_compose_does_it() {
        let files = set(&[
            (
                "compose.yaml",
                "services:\n  web:\n    image: \"app:${TAG:-${FALLBACK:-1.0}}\"\n    command: echo $$HOME ${UNSET}\n    environment:\n      A: ${SET:+yes}\n      B: ${EMPTY-dash}\n      C: ${EMPTY:-colon}\n      DB: postgres://u:${DB_PASSWORD}@db\n",
            ),
            (
                ".env",
                "# a comment\nSET=1\nEMPTY=\nDB_PASSWORD=\"hunter2\" \nFALLBACK=2.0 # trailing\n",
            ),
        ]);
        let l = load(&files).unwrap_or_else(|e| panic!("{e}"));
        let web = service(&l, "web");
        assert_eq!(web["image"].as_str(), Some("app:2.0"));
        assert_eq!(web["command"].as_str(), Some("echo $$HOME "));
        assert_eq!(web["environment"]["A"].as_str(), Some("yes"));
        assert_eq!(web["environment"]["B"].as_str(), Some(""));
        assert_eq!(web["environment"]["C"].as_str(), Some("colon"));
        let db = web["environment"]["DB"].as_str().unwrap_or_default();
        assert!(
            db.starts_with("postgres://u:<secret:") && !db.contains("hunter2"),
            "{db}"
        );
        assert!(l.notes.iter().any(|n| n.contains("UNSET")), "{:?}", l.notes);
    }

    #[test]
    fn required_variables_fail_with_a_location() {
        let files = set(&[(
            "compose.yaml",
            "services:\n  web:\n    image: \"${TAG:?set TAG}\"\n",
        )]);
        let e = load(&files).map(|_| ()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(13)), "{e}");
        assert!(
            e.message.contains("TAG") && e.message.contains("set TAG"),
            "{e}"
        );
    }

    #[test]
    fn files_merge_as_compose_merges_them() {
        let mut files = set(&[
            (
                "a.yaml",
                "services:\n  web:\n    image: app:1\n    command: [a]\n    ports: [\"80:80\"]\n    environment: [X=1, Y=2]\n    volumes: [\"data:/data\", \"./a:/a\"]\n",
            ),
            (
                "b.yaml",
                "services:\n  web:\n    image: app:2\n    command: [b]\n    ports: [\"443:443\"]\n    environment:\n      Y: \"3\"\n    volumes: [\"other:/data\"]\n  db:\n    image: pg\n",
            ),
        ]);
        files.named = vec!["a.yaml".into(), "b.yaml".into()];
        let l = load(&files).unwrap_or_else(|e| panic!("{e}"));
        let web = service(&l, "web");
        assert_eq!(web["image"].as_str(), Some("app:2"));
        assert_eq!(web["command"][0].as_str(), Some("b"));
        assert_eq!(web["ports"].as_sequence().map(Vec::len), Some(2));
        assert_eq!(web["environment"]["X"].as_str(), Some("1"));
        assert_eq!(web["environment"]["Y"].as_str(), Some("3"));
        let vols: Vec<&str> = web["volumes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Y::as_str)
            .collect();
        assert_eq!(vols, ["other:/data", "./a:/a"]);
        assert!(!service(&l, "db").is_null());
    }

    #[test]
    fn override_file_and_compose_file() {
        let files = set(&[
            (
                "docker-compose.yml",
                "services:\n  web:\n    image: app:1\n",
            ),
            (
                "docker-compose.override.yml",
                "services:\n  web:\n    image: app:dev\n",
            ),
        ]);
        assert_eq!(
            project_files(&files),
            ["docker-compose.yml", "docker-compose.override.yml"]
        );
        let mut files = files;
        files
            .environ
            .insert("COMPOSE_FILE".into(), "docker-compose.yml".into());
        assert_eq!(project_files(&files), ["docker-compose.yml"]);
    }

    #[test]
    fn extends_include_volumes_from_profiles_and_the_old_layout() {
        let mut files = set(&[
            (
                "compose.yaml",
                "include:\n  - sub/inc.yaml\nservices:\n  base:\n    image: app\n    environment: {A: \"1\"}\n    volumes: [\"data:/data\"]\n  web:\n    extends: base\n    environment: {B: \"2\"}\n  other:\n    extends: {file: common.yaml, service: tmpl}\n  reader:\n    image: r\n    volumes_from: [\"base:ro\"]\n  debug:\n    image: d\n    profiles: [debug]\n",
            ),
            (
                "common.yaml",
                "services:\n  tmpl:\n    image: tmpl:1\n    env_file: ./x.env\n",
            ),
            (
                "sub/inc.yaml",
                "services:\n  inc:\n    image: inc\n    volumes: [\"./conf:/conf\"]\n",
            ),
        ]);
        let l = load(&files).unwrap_or_else(|e| panic!("{e}"));
        let web = service(&l, "web");
        assert_eq!(web["image"].as_str(), Some("app"));
        assert_eq!(web["environment"]["A"].as_str(), Some("1"));
        assert_eq!(web["environment"]["B"].as_str(), Some("2"));
        assert_eq!(service(&l, "other")["image"].as_str(), Some("tmpl:1"));
        assert_eq!(
            service(&l, "reader")["volumes"][0].as_str(),
            Some("data:/data:ro")
        );
        assert_eq!(
            service(&l, "inc")["volumes"][0].as_str(),
            Some("./sub/conf:/conf")
        );
        assert!(
            !service(&l, "debug").is_null(),
            "no profile chosen: every service is read"
        );
        files.profiles = vec!["other".into()];
        let l = load(&files).unwrap_or_else(|e| panic!("{e}"));
        assert!(service(&l, "debug").is_null());

        let old = set(&[(
            "docker-compose.yml",
            "web:\n  image: app\n  links: [db]\ndb:\n  image: pg\n",
        )]);
        let l = load(&old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(service(&l, "db")["image"].as_str(), Some("pg"));
    }

    #[test]
    fn windows_paths_and_bound_folders() {
        let files = set(&[
            (
                "compose.yaml",
                "services:\n  db:\n    image: x\n    volumes:\n      - C:\\Users\\data:D:\\config:rw\n      - ./tls:/etc/tls:ro\n      - ./big:/big\n",
            ),
            ("tls/a.crt", "crt"),
            ("tls/sub/b.pem", "pem"),
        ]);
        let l = load(&files).unwrap_or_else(|e| panic!("{e}"));
        let vols = &service(&l, "db")["volumes"];
        assert_eq!(vols[0]["source"].as_str(), Some("C:\\Users\\data"));
        assert_eq!(vols[0]["target"].as_str(), Some("D:\\config"));
        assert_eq!(vols[1].as_str(), Some("./tls/a.crt:/etc/tls/a.crt:ro"));
        assert_eq!(
            vols[2].as_str(),
            Some("./tls/sub/b.pem:/etc/tls/sub/b.pem:ro")
        );
        assert_eq!(vols[3].as_str(), Some("./big:/big"));
    }

    #[test]
    fn env_files() {
        let m = parse_env_file("A=1\n# c\nexport B='x y'\nC=\"l1\\nl2\"\nD=v # note\nE=\n");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "x y");
        assert_eq!(m["C"], "l1\nl2");
        assert_eq!(m["D"], "v");
        assert_eq!(m["E"], "");
    }
}
