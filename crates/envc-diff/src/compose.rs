//! Facts from a Compose file: envc's own or hand-written, with `.env` interpolation, secrets
//! read through `*_FILE` variables, bind-mounted files and `configs:` read from the set.

pub mod load;
mod pod;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use yaml_serde::Value as Y;

use crate::docs::{at, get};
use crate::facts::{
    Facts, FileFacts, Format, Lines, Part, ProbeFacts, ServiceFacts, Value, VolumeFacts,
    capabilities, cpu, credential_value, exec_target, mount_options, secret_hash, sensitive_name,
};
use crate::fileset::FileSet;
use crate::key::{Port, ProbeKind};

/// Whether a file name is a Compose file name.
pub fn is_compose_name(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    (base.starts_with("docker-compose") || base.starts_with("compose"))
        && (base.ends_with(".yml") || base.ends_with(".yaml"))
}

/// The Compose file of a set: the file the user named, else `docker-compose.yml` or
/// `compose.yaml` at the top, else the first Compose-named file.
pub fn compose_file(files: &FileSet) -> Option<String> {
    if let Some(p) = &files.primary {
        return Some(p.clone());
    }
    for n in [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yaml",
        "compose.yml",
    ] {
        if files.files.contains_key(n) {
            return Some(n.to_string());
        }
    }
    files
        .files
        .keys()
        .find(|k| !k.contains('/') && is_compose_name(k))
        .cloned()
}

fn text<'a>(v: &'a Y, key: &str) -> Option<&'a str> {
    get(v, key).and_then(Y::as_str)
}

fn scalar(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Null => Some(String::new()),
        _ => None,
    }
}

/// Joins a relative path onto a directory inside the set (`..` allowed while inside).
fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `KEY=VALUE` lines of an env file, as Compose reads them ([`load::parse_env_file`]).
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    load::parse_env_file(text)
}

struct Interp<'a> {
    vars: &'a BTreeMap<String, String>,
    unresolved: Vec<String>,
}

impl Interp<'_> {
    /// Compose variable interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
    /// `${VAR:?e}`, `${VAR?e}`, `${VAR:+a}`, `${VAR+a}`. Variables with credential names become
    /// secret parts.
    fn value(&mut self, s: &str) -> Value {
        let mut parts: Vec<Part> = Vec::new();
        let mut buf = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            buf.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                buf.push('$');
                rest = r;
                continue;
            }
            let (expr, consumed) = if let Some(body) = after.strip_prefix('{') {
                match body.find('}') {
                    Some(end) => (body[..end].to_string(), end + 2),
                    None => {
                        buf.push('$');
                        rest = after;
                        continue;
                    }
                }
            } else {
                let n: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if n.is_empty() {
                    buf.push('$');
                    rest = after;
                    continue;
                }
                let len = n.len();
                (n, len)
            };
            rest = &after[consumed..];
            let name: String = expr
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let op = &expr[name.len()..];
            let set = self
                .vars
                .get(&name)
                .filter(|v| !v.is_empty() || !op.starts_with(':'));
            let resolved: Option<String> =
                if let Some(alt) = op.strip_prefix(":+").or_else(|| op.strip_prefix('+')) {
                    Some(if set.is_some() {
                        alt.to_string()
                    } else {
                        String::new()
                    })
                } else if let Some(d) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
                    Some(set.cloned().unwrap_or_else(|| d.to_string()))
                } else {
                    set.cloned()
                };
            match resolved {
                Some(v) if credential_value(&name, &v) => {
                    if !buf.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut buf)));
                    }
                    parts.push(Part::Secret(secret_hash(v.as_bytes())));
                }
                Some(v) => buf.push_str(&v),
                None => {
                    self.unresolved.push(name.clone());
                    if sensitive_name(&name) {
                        if !buf.is_empty() {
                            parts.push(Part::Text(std::mem::take(&mut buf)));
                        }
                        parts.push(Part::Secret(secret_hash(
                            format!("unset:{name}").as_bytes(),
                        )));
                    } else {
                        buf.push_str(&format!("${{{name}}}"));
                    }
                }
            }
        }
        buf.push_str(rest);
        if parts.is_empty() {
            return Value::Text(buf);
        }
        if !buf.is_empty() {
            parts.push(Part::Text(buf));
        }
        Value::Parts(parts)
    }

    fn text(&mut self, s: &str) -> String {
        self.value(s).display()
    }
}

pub use crate::facts::seconds;
pub use crate::shell::split_words;

/// Compose's byte notation (`512m`, `1g`, `1gb`, `1024`) as a Kubernetes-style size.
fn compose_bytes(s: &str) -> String {
    let t = s.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix('b')
        .filter(|x| x.ends_with(['k', 'm', 'g', 't']))
        .unwrap_or(&t);
    let (num, mult): (&str, u64) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        Some('b') => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    match num.parse::<f64>() {
        Ok(n) => envc_model::quantity::Bytes::from_bytes((n * mult as f64) as u64).text,
        Err(_) => s.to_string(),
    }
}

/// What the services of a Compose project read from the project around them.
struct Project<'a> {
    files: &'a FileSet,
    /// The Compose file's directory in the set (`` at the top).
    dir: String,
    /// Top-level secrets: their content, when the set has it.
    secret_files: BTreeMap<String, Option<Vec<u8>>>,
    /// Top-level configs: their content (bytes, as a file's), when the set has it.
    configs: BTreeMap<String, Option<Vec<u8>>>,
    /// Top-level named volumes.
    named_volumes: Vec<String>,
    /// Which structural lines are taken.
    lines: Lines,
}

impl<'a> Project<'a> {
    fn new(
        files: &'a FileSet,
        dir: String,
        doc: &Y,
        vars: &BTreeMap<String, String>,
        lines: Lines,
    ) -> Self {
        let top = |key: &str| get(doc, key).and_then(Y::as_mapping).into_iter().flatten();
        let secret_files = top("secrets")
            .filter_map(|(k, v)| {
                let name = k.as_str()?.to_string();
                let file = text(v, "file")
                    .and_then(|f| join(&dir, f))
                    .and_then(|p| files.files.get(&p).cloned());
                let env = text(v, "environment")
                    .and_then(|e| vars.get(e))
                    .map(|s| s.clone().into_bytes());
                Some((name, file.or(env)))
            })
            .collect();
        let configs = top("configs")
            .filter_map(|(k, v)| {
                let name = k.as_str()?.to_string();
                let content = text(v, "content")
                    .map(|c| c.as_bytes().to_vec())
                    .or_else(|| {
                        text(v, "file")
                            .and_then(|f| join(&dir, f))
                            .and_then(|p| files.files.get(&p).cloned())
                    });
                Some((name, content))
            })
            .collect();
        let named_volumes = top("volumes")
            .filter_map(|(k, _)| k.as_str().map(String::from))
            .collect();
        Project {
            files,
            dir,
            secret_files,
            configs,
            named_volumes,
            lines,
        }
    }

    /// A text file of the set, by a path relative to the Compose file.
    fn text(&self, rel: &str) -> Option<&'a str> {
        join(&self.dir, rel).and_then(|p| self.files.text(&p))
    }

    /// A file of the set as bytes (text or not), by a path relative to the Compose file.
    fn bytes(&self, rel: &str) -> Option<&'a [u8]> {
        join(&self.dir, rel)
            .and_then(|p| self.files.files.get(&p))
            .map(Vec::as_slice)
    }
}

/// One published port as Compose states it: target, published port, protocol, host address.
type PortEntry = (Option<u16>, Option<u16>, String, Option<String>);

/// A port or a port range of Compose's short syntax (`8080`, `3000-3005`), as its ends.
fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
            (a <= b).then_some((a, b))
        }
        None => s.parse::<u16>().ok().map(|p| (p, p)),
    }
}

/// Extracts facts from the set's Compose file.
pub fn extract(files: &FileSet) -> Facts {
    let mut notes = Vec::new();
    let Some(main) = compose_file(files) else {
        notes.push("no Compose file in the set".into());
        let mut f = Facts::new(files.label.clone(), Format::Compose);
        f.notes = notes;
        return f;
    };
    let doc: Y = match load::load(files) {
        Ok(l) => {
            notes.extend(l.notes);
            l.doc
        }
        Err(e) => {
            notes.push(e.to_string());
            Y::Null
        }
    };
    extract_document(files, &main, doc, notes)
}

/// Extracts facts from a Compose document already read (merge keys applied) that is the file
/// `main` of the set (its mounts, secrets and `.env` are read from the set, next to it), with
/// the notes reading it left.
pub fn extract_document(files: &FileSet, main: &str, doc: Y, notes: Vec<String>) -> Facts {
    extract_document_with(files, main, doc, notes, Lines::All)
}

/// [`extract_document`], taking only the structural `lines` asked for. Each service's part of
/// the document is dropped once it is read (4 MB of a 1,000-service diff's 70 MB heap peak).
pub fn extract_document_with(
    files: &FileSet,
    main: &str,
    mut doc: Y,
    mut notes: Vec<String>,
    lines: Lines,
) -> Facts {
    let mut services = indexmap::IndexMap::new();
    // Nothing outside `services` reads a service (the project's secrets, configs and volumes;
    // the objects), and `extends` and `volumes_from` were applied when the document was read.
    let doc_services = match doc.get_mut("services").map(std::mem::take) {
        Some(Y::Mapping(m)) => m,
        _ => yaml_serde::Mapping::new(),
    };
    let dir = main
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let vars = load::variables(files, &dir);
    let project = Project::new(files, dir, &doc, &vars, lines);
    let mut it = Interp {
        vars: &vars,
        unresolved: Vec::new(),
    };
    let mut roles = IndexMap::new();
    let mut container_names: IndexMap<String, String> = IndexMap::new();
    let mut schedules = IndexMap::new();
    let mut labelled_jobs: Vec<String> = Vec::new();
    for (k, s) in doc_services {
        let s = &s;
        let Some(name) = k.as_str() else { continue };
        let mut read = Reader {
            name,
            project: &project,
            it: &mut it,
            notes: &mut notes,
        };
        services.insert(name.to_string(), read.service(s));
        let labels = labels(s);
        if let Some(cron) = labels.get(pod::SCHEDULE) {
            schedules.insert(name.to_string(), cron.clone());
        }
        if labels.get(pod::WORKLOAD).map(String::as_str) == Some("job") {
            labelled_jobs.push(name.to_string());
        }
        roles.insert(
            name.to_string(),
            pod::role(&labels, text(s, "network_mode")),
        );
        if let Some(c) = text(s, "container_name") {
            container_names.insert(name.to_string(), c.to_string());
        }
    }
    pod::fold(
        &mut services,
        &roles,
        &container_names,
        &schedules,
        &labelled_jobs,
        &mut notes,
    );
    let mut unresolved = it.unresolved;
    unresolved.sort();
    unresolved.dedup();
    if !unresolved.is_empty() {
        notes.push(format!(
            "variables not set in .env: {}",
            unresolved.join(", ")
        ));
    }
    let mut facts = Facts::new(files.label.clone(), Format::Compose);
    facts.services = services;
    facts.notes = notes;
    facts.objects = crate::structure::compose_objects(&doc)
        .into_iter()
        .collect();
    facts
}

/// Reads one service, interpolating with the project's variables and noting what it cannot
/// read.
struct Reader<'r, 'a> {
    name: &'r str,
    project: &'r Project<'a>,
    it: &'r mut Interp<'a>,
    notes: &'r mut Vec<String>,
}

impl Reader<'_, '_> {
    fn service(&mut self, s: &Y) -> ServiceFacts {
        let mut f = ServiceFacts {
            name: self.name.to_string(),
            workload: "compose".into(),
            ..Default::default()
        };
        f.image = text(s, "image").map(|i| self.it.text(i)).or_else(|| {
            let ctx = get(s, "build").and_then(|b| {
                b.as_str()
                    .map(String::from)
                    .or_else(|| text(b, "context").map(String::from))
            });
            ctx.map(|c| format!("build:{c}"))
        });
        f.command = get(s, "entrypoint").and_then(|v| self.words(v));
        f.args = get(s, "command").and_then(|v| self.words(v));
        let env = self.environment(s);
        f.env = self.secrets_read_from_files(s, env);
        self.ports(s, &mut f);
        self.volumes(s, &mut f);
        tmpfs(s, &mut f);
        self.configs(s, &mut f);
        resources(s, &mut f);
        if let Some(h) = self.healthcheck(s) {
            f.probes.insert(ProbeKind::Healthcheck, h);
        }
        relations_and_security(s, &mut f);
        // `user: ${UID:-50000}:0` is interpolated like every other value.
        f.security.user = f.security.user.take().map(|u| self.it.text(&u));
        if self.project.lines == Lines::All {
            f.fields = std::sync::Arc::new(crate::structure::compose_service_lines(s));
        }
        f
    }

    /// A command in shell form or as a list, interpolated.
    fn words(&mut self, v: &Y) -> Option<Vec<String>> {
        match v {
            Y::String(s) => Some(split_words(&self.it.text(s))),
            Y::Sequence(seq) => Some(
                seq.iter()
                    .filter_map(scalar)
                    .map(|w| self.it.text(&w))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Environment: `env_file` first, then `environment`.
    fn environment(&mut self, s: &Y) -> BTreeMap<String, Value> {
        let mut env: BTreeMap<String, Value> = BTreeMap::new();
        let env_files: Vec<String> = match get(s, "env_file") {
            Some(Y::String(p)) => vec![p.clone()],
            Some(Y::Sequence(seq)) => seq
                .iter()
                .filter_map(|x| {
                    x.as_str()
                        .map(String::from)
                        .or_else(|| text(x, "path").map(String::from))
                })
                .collect(),
            _ => Vec::new(),
        };
        for ef in env_files {
            match self.project.text(&ef) {
                Some(t) => {
                    // Compose interpolates an env file's values with the project's variables
                    // (a single-quoted one is taken as written).
                    for (k, v, interpolated) in load::env_entries(t) {
                        let v = if interpolated {
                            self.it.value(&v)
                        } else {
                            Value::Text(v)
                        };
                        env.insert(k, v);
                    }
                }
                None => self
                    .notes
                    .push(format!("{}: env_file {ef} is not in the set", self.name)),
            }
        }
        match get(s, "environment") {
            Some(Y::Mapping(m)) => {
                for (k, v) in m {
                    if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                        env.insert(k.to_string(), self.it.value(&v));
                    }
                }
            }
            Some(Y::Sequence(seq)) => {
                for e in seq.iter().filter_map(Y::as_str) {
                    let value = match e.split_once('=') {
                        Some((k, v)) => Some((k.to_string(), self.it.value(v))),
                        None => None,
                    };
                    let (k, v) = value.unwrap_or_else(|| {
                        (e.to_string(), Value::Text(format!("<from the shell: {e}>")))
                    });
                    env.insert(k, v);
                }
            }
            _ => {}
        }
        env
    }

    /// Secrets mounted in /run/secrets and read through `X_FILE` / `X__FILE` variables are the
    /// same fact as `X` holding the secret; literals in credential-named variables are hashed.
    fn secrets_read_from_files(
        &self,
        s: &Y,
        env: BTreeMap<String, Value>,
    ) -> BTreeMap<String, Value> {
        let mounted: BTreeMap<String, String> = get(s, "secrets")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|x| match x {
                Y::String(n) => Some((format!("/run/secrets/{n}"), n.clone())),
                _ => {
                    let src = text(x, "source")?.to_string();
                    let target = text(x, "target")
                        .map(String::from)
                        .unwrap_or_else(|| src.clone());
                    let target = if target.starts_with('/') {
                        target
                    } else {
                        format!("/run/secrets/{target}")
                    };
                    Some((target, src))
                }
            })
            .collect();
        let mut out = BTreeMap::new();
        for (k, v) in env {
            let file_var = k.strip_suffix("__FILE").or_else(|| k.strip_suffix("_FILE"));
            if let (Some(base), Value::Text(path)) = (file_var, &v)
                && let Some(sname) = mounted.get(path)
            {
                let hash = match self.project.secret_files.get(sname) {
                    Some(Some(bytes)) => secret_hash(trim_newline(bytes)),
                    _ => secret_hash(format!("ref:{sname}").as_bytes()),
                };
                out.insert(base.to_string(), Value::secret(hash));
                continue;
            }
            let v = match v {
                Value::Text(t) if credential_value(&k, &t) => {
                    Value::secret(secret_hash(t.as_bytes()))
                }
                other => other,
            };
            out.insert(k, v);
        }
        out
    }

    /// `ports` (short and long syntax) and `expose`.
    fn ports(&mut self, s: &Y, f: &mut ServiceFacts) {
        for p in get(s, "ports")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            // Each entry is one port, or (short syntax) a range: `3000-3005`,
            // `9090-9091:8080-8081`, `127.0.0.1:5000-5010:5000-5010`.
            let entries: Vec<PortEntry> = match p {
                Y::Mapping(_) => vec![(
                    get(p, "target")
                        .and_then(scalar)
                        .and_then(|t| t.parse::<u16>().ok()),
                    get(p, "published")
                        .and_then(scalar)
                        .and_then(|t| self.it.text(&t).parse::<u16>().ok()),
                    text(p, "protocol").unwrap_or("tcp").to_string(),
                    text(p, "host_ip").map(|h| self.it.text(h)),
                )],
                _ => {
                    let spec = scalar(p).map(|x| self.it.text(&x)).unwrap_or_default();
                    let (spec, proto) = spec
                        .split_once('/')
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .unwrap_or((spec.clone(), "tcp".into()));
                    let fields: Vec<&str> = spec.rsplitn(3, ':').collect();
                    // `[::1]:8080:80` keeps its brackets off.
                    let host_ip = fields
                        .get(2)
                        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
                    let targets = fields.first().and_then(|t| port_range(t));
                    let published = fields.get(1).and_then(|t| port_range(t));
                    match targets {
                        Some((lo, hi)) => (lo..=hi)
                            .enumerate()
                            .map(|(i, t)| {
                                // A published range maps one to one; a single published port
                                // with a target range is Compose's "any of these".
                                let host = match published {
                                    Some((plo, phi)) if phi > plo => {
                                        u16::try_from(i).ok().and_then(|i| plo.checked_add(i))
                                    }
                                    Some((plo, _)) => Some(plo),
                                    None => None,
                                };
                                (Some(t), host, proto.clone(), host_ip.clone())
                            })
                            .collect(),
                        None => {
                            self.notes
                                .push(format!("{}: port {spec} not understood", self.name));
                            Vec::new()
                        }
                    }
                }
            };
            for (target, published, proto, host_ip) in entries {
                if let Some(t) = target {
                    let e = f.ports.entry(Port::new(t, &proto)).or_default();
                    e.host_port = published;
                    // Every address is the default: `0.0.0.0` says it again.
                    e.host_ip = host_ip.filter(|h| !h.is_empty() && h != "0.0.0.0");
                }
            }
        }
        for spec in get(s, "expose")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(scalar)
        {
            let (n, proto) = spec.split_once('/').unwrap_or((&spec, "tcp"));
            if let Ok(n) = n.parse::<u16>() {
                f.ports.entry(Port::new(n, proto)).or_default();
            }
        }
    }

    /// `volumes`: named volumes, bind-mounted files (read from the set), tmpfs mounts.
    fn volumes(&mut self, s: &Y, f: &mut ServiceFacts) {
        for v in get(s, "volumes")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let opts = match v {
                Y::String(spec) => {
                    let spec = self.it.text(spec);
                    let mode = spec.split(':').nth(2).unwrap_or("");
                    mount_options(mode.split(',').any(|o| o == "ro"), None)
                }
                _ => mount_options(
                    get(v, "read_only").and_then(Y::as_bool).unwrap_or(false),
                    get(v, "volume")
                        .and_then(|o| get(o, "subpath"))
                        .and_then(scalar)
                        .as_deref(),
                ),
            };
            let (kind, source, target, size) = match v {
                Y::String(spec) => {
                    let spec = self.it.text(spec);
                    let parts: Vec<&str> = spec.split(':').collect();
                    match parts.as_slice() {
                        [t] => ("volume".to_string(), String::new(), t.to_string(), None),
                        [s, t, ..] => {
                            let kind =
                                if s.starts_with('.') || s.starts_with('/') || s.starts_with('~') {
                                    "bind"
                                } else {
                                    "volume"
                                };
                            (kind.to_string(), s.to_string(), t.to_string(), None)
                        }
                        _ => continue,
                    }
                }
                _ => (
                    text(v, "type").unwrap_or("volume").to_string(),
                    text(v, "source")
                        .map(|x| self.it.text(x))
                        .unwrap_or_default(),
                    text(v, "target").map(String::from).unwrap_or_default(),
                    get(v, "tmpfs")
                        .and_then(|t| get(t, "size"))
                        .and_then(scalar)
                        .map(|x| compose_bytes(&x)),
                ),
            };
            let key = target.clone();
            match kind.as_str() {
                "bind" => match self.project.bytes(&source) {
                    Some(bytes) => {
                        f.files.insert(target, FileFacts::from_bytes(bytes));
                    }
                    None => {
                        self.notes.push(format!(
                            "{}: bind mount {source} is not in the set; compared as a volume",
                            self.name
                        ));
                        f.volumes.insert(
                            target,
                            VolumeFacts {
                                persistent: true,
                                size: Some(format!("bind {source}")),
                                ..Default::default()
                            },
                        );
                    }
                },
                "tmpfs" => {
                    f.volumes.insert(
                        target,
                        VolumeFacts {
                            persistent: false,
                            size,
                            ..Default::default()
                        },
                    );
                }
                // A type this reader does not know (`npipe`, `cluster`, `image`) is a volume
                // of that type from that source.
                other if other != "volume" => {
                    f.volumes.insert(
                        target,
                        VolumeFacts {
                            persistent: true,
                            size: Some(format!("{other} {source}")),
                            ..Default::default()
                        },
                    );
                }
                _ => {
                    // An anonymous volume (`- /data`) is a volume too: Compose keeps it across
                    // restarts and hands it to a re-created container; scratch is `tmpfs`.
                    let persistent = kind == "volume"
                        || !source.is_empty()
                        || self.project.named_volumes.contains(&source);
                    f.volumes.insert(
                        target,
                        VolumeFacts {
                            persistent,
                            size: None,
                            source: (!source.is_empty()).then(|| source.clone()),
                            ..Default::default()
                        },
                    );
                }
            }
            if let Some(v) = f.volumes.get_mut(&key) {
                v.mount = opts;
            }
        }
    }

    /// `configs`, with content from the project's top-level configs.
    fn configs(&mut self, s: &Y, f: &mut ServiceFacts) {
        for c in get(s, "configs")
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
        {
            let (src, target) = match c {
                Y::String(n) => (n.clone(), format!("/{n}")),
                _ => {
                    let Some(src) = text(c, "source") else {
                        continue;
                    };
                    (
                        src.to_string(),
                        text(c, "target")
                            .map(String::from)
                            .unwrap_or_else(|| format!("/{src}")),
                    )
                }
            };
            match self.project.configs.get(&src) {
                Some(Some(content)) => {
                    f.files.insert(target, FileFacts::from_bytes(content));
                }
                _ => self.notes.push(format!(
                    "{}: config {src} content is not in the set",
                    self.name
                )),
            }
        }
    }

    /// The healthcheck: Compose's one health signal (readiness and restart policy in one),
    /// with Docker's defaults.
    fn healthcheck(&mut self, s: &Y) -> Option<ProbeFacts> {
        let h = get(s, "healthcheck")?;
        if get(h, "disable").and_then(Y::as_bool).unwrap_or(false) {
            return None;
        }
        let test: Vec<String> = match get(h, "test") {
            Some(Y::String(t)) => vec!["CMD-SHELL".into(), self.it.text(t)],
            Some(Y::Sequence(seq)) => seq
                .iter()
                .filter_map(scalar)
                .map(|w| self.it.text(&w))
                .collect(),
            _ => Vec::new(),
        };
        let (first, rest) = test.split_first()?;
        if first == "NONE" {
            return None;
        }
        let (kind, target) = match first.as_str() {
            "CMD" => ("exec", exec_target(rest)),
            // Docker runs a CMD-SHELL test with `/bin/sh -c`.
            "CMD-SHELL" => (
                "exec",
                exec_target(&["/bin/sh".into(), "-c".into(), rest.join(" ")]),
            ),
            // Docker refuses a test list that does not start with NONE, CMD or CMD-SHELL.
            _ => ("invalid", exec_target(&test)),
        };
        let secs = |k: &str, d: u32| {
            h.get(k)
                .and_then(scalar)
                .and_then(|x| seconds(&x))
                .unwrap_or(d)
        };
        Some(ProbeFacts {
            kind: kind.into(),
            target,
            period: secs("interval", 30),
            timeout: secs("timeout", 30),
            failure_threshold: get(h, "retries").and_then(Y::as_u64).unwrap_or(3) as u32,
            initial_delay: secs("start_period", 0),
        })
    }
}

/// The service-level `tmpfs` list.
fn tmpfs(s: &Y, f: &mut ServiceFacts) {
    let entries: Vec<&str> = match get(s, "tmpfs") {
        Some(Y::String(t)) => vec![t.as_str()],
        Some(Y::Sequence(seq)) => seq.iter().filter_map(Y::as_str).collect(),
        _ => Vec::new(),
    };
    let single = matches!(get(s, "tmpfs"), Some(Y::String(_)));
    for t in entries {
        let (path, opts) = t.split_once(':').unwrap_or((t, ""));
        // A single string is a path (options ignored, as before); list entries may carry
        // `size=`.
        let size = if single {
            None
        } else {
            opts.split(',')
                .find_map(|o| o.strip_prefix("size="))
                .map(compose_bytes)
        };
        f.volumes.insert(
            path.to_string(),
            VolumeFacts {
                persistent: false,
                size,
                ..Default::default()
            },
        );
    }
}

/// `deploy.resources` (or the legacy `cpus` and `mem_limit`) and replicas.
fn resources(s: &Y, f: &mut ServiceFacts) {
    let deploy = get(s, "deploy").unwrap_or(&Y::Null);
    let res = |kind: &str, key: &str| at(deploy, &["resources", kind, key]).and_then(scalar);
    f.resources.limits_cpu = res("limits", "cpus").map(|c| cpu(&c));
    f.resources.limits_memory = res("limits", "memory").map(|m| compose_bytes(&m));
    f.resources.requests_cpu = res("reservations", "cpus").map(|c| cpu(&c));
    f.resources.requests_memory = res("reservations", "memory").map(|m| compose_bytes(&m));
    if f.resources.limits_cpu.is_none() {
        f.resources.limits_cpu = get(s, "cpus").and_then(scalar).map(|c| cpu(&c));
    }
    if f.resources.limits_memory.is_none() {
        f.resources.limits_memory = get(s, "mem_limit")
            .and_then(scalar)
            .map(|m| compose_bytes(&m));
    }
    f.replicas = Some(
        get(deploy, "replicas")
            .and_then(Y::as_u64)
            .or_else(|| get(s, "scale").and_then(Y::as_u64))
            .unwrap_or(1) as u32,
    );
}

/// A service's labels, from a mapping or a list of `key=value`.
fn labels(s: &Y) -> IndexMap<String, String> {
    match get(s, "labels") {
        Some(Y::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v)?)))
            .collect(),
        Some(Y::Sequence(seq)) => seq
            .iter()
            .filter_map(Y::as_str)
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect(),
        _ => IndexMap::new(),
    }
}

/// `depends_on` with each condition in the model's words (`started`, `healthy`, `completed`);
/// the list form and a missing condition mean started.
fn depends_on(v: Option<&Y>) -> BTreeMap<String, String> {
    let condition = |c: Option<&str>| match c {
        Some("service_healthy") => "healthy".to_string(),
        Some("service_completed_successfully") => "completed".to_string(),
        Some("service_started") | None => "started".to_string(),
        Some(other) => other.to_string(),
    };
    match v {
        Some(Y::Mapping(m)) => m
            .iter()
            .filter_map(|(k, d)| Some((k.as_str()?.to_string(), condition(text(d, "condition")))))
            .collect(),
        other => names(other)
            .into_iter()
            .map(|n| (n, condition(None)))
            .collect(),
    }
}

/// The restart policy: `restart`, else Swarm's `deploy.restart_policy`, else Docker's default
/// (`no`).
fn restart(s: &Y) -> String {
    match get(s, "restart") {
        Some(Y::Bool(false)) => return "no".into(),
        Some(v) => {
            if let Some(r) = scalar(v).filter(|r| !r.is_empty()) {
                return r;
            }
        }
        None => {}
    }
    let policy = get(s, "deploy").and_then(|d| get(d, "restart_policy"));
    let attempts = policy
        .and_then(|p| get(p, "max_attempts"))
        .and_then(Y::as_u64);
    match (policy.and_then(|p| text(p, "condition")), attempts) {
        (Some("none"), _) => "no".into(),
        (Some("on-failure"), Some(n)) => format!("on-failure:{n}"),
        (Some("on-failure"), None) => "on-failure".into(),
        (Some(_), _) | (None, Some(_)) => "always".into(),
        (None, None) if policy.is_some() => "always".into(),
        (None, None) => "no".into(),
    }
}

/// Names in a list or the keys of a mapping (`depends_on`, `networks`).
fn names(v: Option<&Y>) -> Vec<String> {
    match v {
        Some(Y::Sequence(seq)) => seq
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(Y::Mapping(m)) => m
            .keys()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Dependencies, networks and security settings.
fn relations_and_security(s: &Y, f: &mut ServiceFacts) {
    f.depends_on = depends_on(get(s, "depends_on"));
    f.restart = Some(restart(s));
    f.profiles = names(get(s, "profiles"));
    // A service is on a set of networks (the order says nothing); naming only `default` is
    // what leaving `networks` out means.
    let mut networks = names(get(s, "networks"));
    networks.sort();
    networks.dedup();
    f.namespace = (!networks.is_empty() && networks != ["default"]).then(|| networks.join(","));
    f.security.user = get(s, "user").and_then(scalar);
    f.security.read_only_root = get(s, "read_only").and_then(Y::as_bool);
    let list = |key: &str| -> Vec<String> {
        get(s, key)
            .and_then(Y::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(scalar)
            .collect()
    };
    let opts = list("security_opt");
    if opts
        .iter()
        .any(|o| o.starts_with("no-new-privileges") && !o.ends_with("false"))
    {
        f.security.privilege_escalation = Some(false);
    }
    f.security.seccomp = opts.iter().find_map(|o| seccomp_option(o));
    // `privileged: false` is the default written out: the same as leaving it unset.
    f.security.privileged = get(s, "privileged").and_then(Y::as_bool).filter(|p| *p);
    f.security.cap_drop = capabilities(&list("cap_drop"));
    f.security.cap_add = capabilities(&list("cap_add"));
}

/// A `security_opt` entry's seccomp profile, spelled as Kubernetes' `seccompProfile` facts are:
/// `seccomp:unconfined` (or `seccomp=unconfined`) is `unconfined`, `seccomp:builtin` Docker's
/// default profile (`runtime-default`), any other value a profile file (`localhost <file>`).
fn seccomp_option(o: &str) -> Option<String> {
    let v = o
        .strip_prefix("seccomp:")
        .or_else(|| o.strip_prefix("seccomp="))?;
    Some(match v {
        "unconfined" => "unconfined".into(),
        "builtin" => "runtime-default".into(),
        file => format!("localhost {file}"),
    })
}

fn trim_newline(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\n").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_like_compose() {
        let vars = BTreeMap::from([
            ("HOST".to_string(), "db".to_string()),
            ("DB_PASSWORD".to_string(), "s3cret".to_string()),
        ]);
        let mut it = Interp {
            vars: &vars,
            unresolved: Vec::new(),
        };
        assert_eq!(it.text("$$HOME ${HOST}:${PORT:-5432}"), "$HOME db:5432");
        let v = it.value("postgres://u:${DB_PASSWORD}@$HOST");
        assert!(v.has_secret() && !v.display().contains("s3cret"));
        assert_eq!(it.text("${MISSING}"), "${MISSING}");
        assert_eq!(it.unresolved, ["MISSING"]);
    }

    /// The model's rule: a DSN that spells no password is shown, one with a password hidden.
    #[test]
    fn dsns_are_hidden_when_they_hold_a_password() {
        let yml = "services:\n  web:\n    image: app\n    environment:\n      SENTRY_DSN: https://examplePublicKey@o0.ingest.sentry.io/0\n      DATABASE_DSN: postgres://app:hunter2@db/app\n      DB_PASS: hunter2\n";
        let fs = FileSet::from_memory("x", [("compose.yaml".to_string(), yml.as_bytes().to_vec())]);
        let f = extract(&fs);
        let env = &f.services["web"].env;
        assert_eq!(
            env["SENTRY_DSN"],
            Value::Text("https://examplePublicKey@o0.ingest.sentry.io/0".into())
        );
        assert!(env["DATABASE_DSN"].has_secret() && env["DB_PASS"].has_secret());
        assert!(!env["DATABASE_DSN"].display().contains("hunter2"));
    }

    /// `.env` and env files are interpolated as Compose reads them: from the entries before,
    /// single-quoted values as written.
    #[test]
    fn env_files_are_interpolated() {
        let yml = "services:\n  web:\n    image: app\n    env_file: .env\n    environment:\n      A: from-environment\n";
        let env = "A=${A:-x}\nB=${A}\nC='$A'\nD=\"$${A}\"\n";
        let fs = FileSet::from_memory(
            "x",
            [
                ("compose.yaml".to_string(), yml.as_bytes().to_vec()),
                (".env".to_string(), env.as_bytes().to_vec()),
            ],
        );
        let f = extract(&fs);
        let env = &f.services["web"].env;
        let text = |k: &str| env[k].display();
        assert_eq!(text("A"), "from-environment");
        assert_eq!(text("B"), "x");
        assert_eq!(text("C"), "$A");
        assert_eq!(text("D"), "${A}");
    }

    #[test]
    fn words_durations_sizes() {
        assert_eq!(
            split_words("server /data --console-address \":9001\""),
            ["server", "/data", "--console-address", ":9001"]
        );
        assert_eq!(seconds("1m30s"), Some(90));
        assert_eq!(seconds("500ms"), Some(1));
        assert_eq!(compose_bytes("512m"), "512Mi");
        assert_eq!(compose_bytes("1gb"), "1Gi");
    }

    #[test]
    fn reads_a_hand_written_compose_file() {
        let yml = "services:\n  db:\n    image: postgres:15-alpine\n    ports: ['5432:5432']\n    environment:\n      POSTGRES_PASSWORD: prefect123\n      POSTGRES_USER: prefect\n    volumes: [pg:/var/lib/postgresql/data]\n    healthcheck:\n      test: [CMD-SHELL, pg_isready -U prefect]\n      interval: 10s\n    deploy:\n      resources:\n        limits: {cpus: '0.5', memory: 1G}\nvolumes:\n  pg: {}\n";
        let fs = FileSet::from_memory(
            "x",
            [("docker-compose.yml".to_string(), yml.as_bytes().to_vec())],
        );
        let f = extract(&fs);
        let db = &f.services["db"];
        assert_eq!(db.ports[&Port::new(5432, "tcp")].host_port, Some(5432));
        assert!(!db.env["POSTGRES_PASSWORD"].display().contains("prefect123"));
        assert_eq!(db.env["POSTGRES_USER"], Value::Text("prefect".into()));
        assert!(db.volumes["/var/lib/postgresql/data"].persistent);
        assert_eq!(
            db.probes[&ProbeKind::Healthcheck].target,
            "pg_isready -U prefect"
        );
        assert_eq!(db.probes[&ProbeKind::Healthcheck].period, 10);
        assert_eq!(db.resources.limits_cpu.as_deref(), Some("500m"));
        assert_eq!(db.resources.limits_memory.as_deref(), Some("1Gi"));
    }
}
