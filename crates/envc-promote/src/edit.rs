//! Writing locks and promotion log entries with `toml_edit`: only the entries a promotion
//! changes are touched, and inside them only the values that differ, so comments and layout
//! anywhere else in the file survive every promotion.

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use envc_model::{Node, NodeValue};

use envc_lock::lock::{FORMAT, LOCKS_DIR, Meta};
use envc_lock::release::{Action, Change, Release, SHARED_UNIT, canonical};

/// Display path of a mode's promotion log: `locks/<env>/<mode>.log.toml`.
pub fn log_path(env: &str, mode: &str) -> String {
    format!("{LOCKS_DIR}/{env}/{mode}.log.toml")
}

/// The comment a new lock starts with.
fn lock_header(env: &str, mode: &str) -> String {
    format!(
        "# Release lock of environment `{env}` in mode `{mode}`: what the mode runs.\n\
         # `envc build` builds {mode} from this file, not from the current model; `envc promote FROM\n\
         # {mode} --write` updates it (comments and layout are kept). Roll back by promoting an earlier\n\
         # version of it (see the README, \"Promoting dev to prod\").\n"
    )
}

/// Writes `release`'s version of every unit in `changes` into a lock (the existing text, or a
/// new lock), stamping each with `meta` and the lock with release `number`. Units not in
/// `changes` are left as they are, byte for byte.
pub fn write_lock(
    existing: Option<&str>,
    (env, mode): (&str, &str),
    number: u64,
    release: &Release,
    changes: &[Change],
    meta: &Meta,
) -> Result<String, String> {
    let mut doc: DocumentMut = match existing {
        Some(t) => t
            .parse()
            .map_err(|e| format!("failed to parse the lock: {e}"))?,
        None => DocumentMut::new(),
    };
    if !doc.contains_key("lock") {
        let mut t = Table::new();
        t.decor_mut().set_prefix(lock_header(env, mode));
        doc.insert("lock", Item::Table(t));
    }
    {
        let lock = doc["lock"]
            .as_table_like_mut()
            .ok_or("`lock` is not a table")?;
        set(lock, "format", Value::from(FORMAT));
        set(lock, "environment", Value::from(env));
        set(lock, "mode", Value::from(mode));
    }
    for c in changes {
        if c.unit == SHARED_UNIT {
            match (&release.shared, c.action) {
                (Some(shared), Action::Add | Action::Update) => {
                    let t = table_at(doc.as_table_mut(), "shared", false)?;
                    set(t, "config", Value::from(shared.config.as_str()));
                    stamp(t, meta);
                    let def = table_at(t, "definition", false)?;
                    sync_table(def, &shared.definition, 0);
                }
                _ => {
                    doc.remove("shared");
                }
            }
            continue;
        }
        let service = match (release.services.get(&c.unit), c.action) {
            (Some(s), Action::Add | Action::Update) => s,
            _ => {
                if let Some(t) = doc.get_mut("services").and_then(Item::as_table_like_mut) {
                    t.remove(&c.unit);
                }
                continue;
            }
        };
        let services = table_at(doc.as_table_mut(), "services", true)?;
        let t = table_at(services, &c.unit, false)?;
        set(t, "image", Value::from(service.image.as_str()));
        match &service.digest {
            Some(d) => set(t, "digest", Value::from(d.as_str())),
            None => {
                t.remove("digest");
            }
        }
        set(t, "config", Value::from(service.hash.as_str()));
        stamp(t, meta);
        let def = table_at(t, "definition", false)?;
        sync_table(def, &service.definition, 0);
        if service.templates.is_empty() {
            t.remove("templates");
        } else {
            let tt = table_at(t, "templates", false)?;
            let stale: Vec<String> = tt
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| !service.templates.contains_key(k))
                .collect();
            for k in stale {
                tt.remove(&k);
            }
            for (path, text) in &service.templates {
                set(tt, path, Value::from(text.as_str()));
            }
        }
    }
    let names: Vec<String> = doc
        .get("services")
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    let mut list = toml_edit::Array::new();
    for n in &names {
        list.push(n.as_str());
    }
    if let Some(lock) = doc["lock"].as_table_like_mut() {
        set(lock, "services", Value::Array(list));
        set(
            lock,
            "release",
            Value::from(i64::try_from(number).unwrap_or(i64::MAX)),
        );
    }
    Ok(doc.to_string())
}

/// The number of the release a promotion makes: one more than the lock's, or, for a lock
/// written before releases were numbered (or none), one more than the promotions its log
/// records, so the numbers continue the history.
pub fn next_release(lock_release: Option<u64>, log: Option<&str>) -> u64 {
    let previous = lock_release.unwrap_or_else(|| {
        log.and_then(|t| t.parse::<DocumentMut>().ok())
            .and_then(|d| {
                d.get("promotion")
                    .and_then(Item::as_array_of_tables)
                    .map(|a| a.len() as u64)
            })
            .unwrap_or(0)
    });
    previous.saturating_add(1)
}

fn stamp(t: &mut dyn TableLike, meta: &Meta) {
    for (key, v) in [
        ("from", &meta.from),
        ("revision", &meta.revision),
        ("promoted", &meta.promoted),
    ] {
        match v {
            Some(v) => {
                let value = match (key, v.parse::<toml_edit::Datetime>()) {
                    ("promoted", Ok(d)) => Value::from(d),
                    _ => Value::from(v.as_str()),
                };
                set(t, key, value);
            }
            None => {
                t.remove(key);
            }
        }
    }
}

/// The standard table under `key`, created when missing (implicit: no header of its own).
fn table_at<'a>(
    parent: &'a mut dyn TableLike,
    key: &str,
    implicit: bool,
) -> Result<&'a mut Table, String> {
    let present = parent.get(key).is_some_and(Item::is_table);
    if !present {
        let mut t = Table::new();
        t.set_implicit(implicit);
        parent.insert(key, Item::Table(t));
    }
    parent
        .get_mut(key)
        .and_then(Item::as_table_mut)
        .ok_or_else(|| format!("`{key}` is not a table"))
}

/// Sets a value unless it already holds an equal one; a replaced value keeps the comments
/// around it.
fn set(t: &mut dyn TableLike, key: &str, value: Value) {
    match t.get_mut(key) {
        Some(Item::Value(old)) => {
            if canonical_value(old) != canonical_value(&value) {
                let decor = old.decor().clone();
                let mut value = value;
                *value.decor_mut() = decor;
                *old = value;
            }
        }
        _ => {
            t.insert(key, Item::Value(value));
        }
    }
}

/// Tables of a definition written as `[...]` sections rather than inline: the usual sections
/// of a service (and of the environment-wide settings), and any table holding tables.
fn standard(key: &str, depth: usize, node: &Node) -> bool {
    depth == 0
        && ([
            "env",
            "ports",
            "files",
            "volumes",
            "probes",
            "environment",
            "namespaces",
            "secrets",
        ]
        .contains(&key)
            || node
                .as_table()
                .is_some_and(|t| t.values().any(|e| e.node.as_table().is_some())))
}

/// Makes a table hold exactly `new`'s keys and values, changing only what differs.
fn sync_table(t: &mut dyn TableLike, new: &Node, depth: usize) {
    let Some(nt) = new.as_table() else {
        return;
    };
    let stale: Vec<String> = t
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !nt.contains_key(k))
        .collect();
    for k in stale {
        t.remove(&k);
    }
    for (k, e) in nt {
        let want_standard = e.node.as_table().is_some() && standard(k, depth, &e.node);
        let same = t
            .get(k)
            .is_some_and(|old| canonical_item(old) == Some(canonical(&e.node)));
        match t.get_mut(k) {
            Some(Item::Table(old)) if want_standard => sync_table(old, &e.node, depth + 1),
            Some(_) if same => {}
            Some(Item::Value(Value::InlineTable(old)))
                if !want_standard && e.node.as_table().is_some() =>
            {
                sync_table(old, &e.node, depth + 1)
            }
            _ if want_standard => {
                let mut table = Table::new();
                sync_table(&mut table, &e.node, depth + 1);
                t.insert(k, Item::Table(table));
            }
            _ => set(t, k, to_value(&e.node)),
        }
    }
}

/// A node as an inline TOML value.
fn to_value(node: &Node) -> Value {
    match &node.value {
        NodeValue::String(s) => Value::from(s.as_str()),
        NodeValue::Integer(i) => Value::from(*i),
        NodeValue::Float(f) => Value::from(*f),
        NodeValue::Bool(b) => Value::from(*b),
        NodeValue::Datetime(d) => match d.parse::<toml_edit::Datetime>() {
            Ok(d) => Value::from(d),
            Err(_) => Value::from(d.as_str()),
        },
        NodeValue::Array(a) => {
            let mut arr = toml_edit::Array::new();
            for n in a {
                arr.push(to_value(n));
            }
            Value::Array(arr)
        }
        NodeValue::Table(t) => {
            let mut it = InlineTable::new();
            for (k, e) in t.iter() {
                it.insert(k, to_value(&e.node));
            }
            Value::InlineTable(it)
        }
    }
}

/// The same canonical JSON as [`canonical`] for a `toml_edit` item (`None` for array of
/// tables, which definitions never hold).
fn canonical_item(item: &Item) -> Option<serde_json::Value> {
    match item {
        Item::Value(v) => Some(canonical_value(v)),
        Item::Table(t) => {
            let mut keys: Vec<(&str, &Item)> = t.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let mut m = serde_json::Map::new();
            for (k, v) in keys {
                m.insert(k.to_string(), canonical_item(v)?);
            }
            Some(serde_json::Value::Object(m))
        }
        _ => None,
    }
}

fn canonical_value(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::String(s) => json!(s.value()),
        Value::Integer(i) => json!(i.value()),
        Value::Float(f) => json!({ "float": f.value().to_string() }),
        Value::Boolean(b) => json!(b.value()),
        Value::Datetime(d) => json!({ "datetime": d.value().to_string() }),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(canonical_value).collect()),
        Value::InlineTable(t) => {
            let mut keys: Vec<(&str, &Value)> = t.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let mut m = serde_json::Map::new();
            for (k, v) in keys {
                m.insert(k.to_string(), canonical_value(v));
            }
            serde_json::Value::Object(m)
        }
    }
}

/// One promotion, as the log records it.
#[derive(Debug, Clone)]
pub struct LogEntry<'a> {
    /// When (RFC 3339).
    pub at: &'a str,
    /// Environment.
    pub environment: &'a str,
    /// Source mode, or the lock file promoted from.
    pub from: &'a str,
    /// Target mode.
    pub to: &'a str,
    /// The release number the promotion made (the lock's `[lock] release`).
    pub release: u64,
    /// Git revision of the model, when known.
    pub revision: Option<&'a str>,
    /// Whether the working tree had uncommitted changes to the model.
    pub dirty: bool,
    /// Why, as the release engineer said (`--message`).
    pub message: Option<&'a str>,
    /// What changed.
    pub changes: &'a [Change],
}

/// The comment a new log starts with.
fn log_header(env: &str, mode: &str) -> String {
    format!(
        "# Promotion log of environment `{env}` in mode `{mode}`: one [[promotion]] per\n\
         # `envc promote --write`, appended, never rewritten. With `git log` it answers what went to\n\
         # {mode}, when, and from where.\n\n"
    )
}

/// The log with `entry` appended (to the existing text, or to a new log). Only appends: earlier
/// entries, comments and all, are kept byte for byte.
pub fn append_log(existing: Option<&str>, entry: &LogEntry<'_>) -> Result<String, String> {
    let mut t = Table::new();
    let at = entry
        .at
        .parse::<toml_edit::Datetime>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(entry.at));
    t.insert("at", Item::Value(at));
    t.insert("environment", toml_edit::value(entry.environment));
    t.insert("from", toml_edit::value(entry.from));
    t.insert("to", toml_edit::value(entry.to));
    t.insert(
        "release",
        toml_edit::value(i64::try_from(entry.release).unwrap_or(i64::MAX)),
    );
    if let Some(r) = entry.revision {
        t.insert("revision", toml_edit::value(r));
        if entry.dirty {
            t.insert("uncommitted_changes", toml_edit::value(true));
        }
    }
    if let Some(m) = entry.message {
        t.insert("message", toml_edit::value(m));
    }
    let mut units = toml_edit::Array::new();
    for c in entry.changes {
        units.push(c.unit.as_str());
    }
    t.insert("units", toml_edit::value(units));
    let mut changes = ArrayOfTables::new();
    for c in entry.changes {
        let mut ct = Table::new();
        ct.insert("unit", toml_edit::value(c.unit.as_str()));
        ct.insert("action", toml_edit::value(c.action.as_str()));
        for (k, v) in [
            ("old_image", &c.old_image),
            ("new_image", &c.new_image),
            ("old_config", &c.old_config),
            ("new_config", &c.new_config),
        ] {
            if let Some(v) = v {
                ct.insert(k, toml_edit::value(v.as_str()));
            }
        }
        changes.push(ct);
    }
    t.insert("change", Item::ArrayOfTables(changes));
    let mut aot = ArrayOfTables::new();
    aot.push(t);
    let mut doc = DocumentMut::new();
    doc.insert("promotion", Item::ArrayOfTables(aot));
    let text = doc.to_string();
    let mut out = match existing {
        Some(e) if !e.trim().is_empty() => {
            let mut e = e.to_string();
            if !e.ends_with('\n') {
                e.push('\n');
            }
            e.push('\n');
            e
        }
        _ => log_header(entry.environment, entry.to),
    };
    out.push_str(&text);
    out.parse::<DocumentMut>()
        .map_err(|e| format!("the promotion log would not be valid TOML: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use envc_lock::release::{Release, changes};
    use envc_model::FileId;

    fn release(text: &str) -> Release {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        Release::from_tree(&n, |p| Ok(format!("template of {p}\nline two\n"))).unwrap()
    }

    const MODEL: &str = r#"
[environment]
name = "e"
[namespaces.app]
name = "e"
[services.api]
image = "api:1.0.0"
args = ["serve", "--port", "80"]
resources = { limits = { cpu = "1", memory = "1Gi" } }
[services.api.env]
A = "1"
B = "2"
[services.api.files]
c = { path = "/c", template = "e/c.hbs" }
[services.db]
image = "db:2.0.0"
"#;

    fn meta() -> Meta {
        Meta {
            from: Some("dev".into()),
            revision: Some("abc123".into()),
            promoted: Some("2026-11-27T10:00:00Z".into()),
        }
    }

    fn parse_lock(text: &str) -> envc_lock::Lock {
        let (n, d) = Node::parse(FileId(1), text);
        assert!(d.is_empty(), "{d:?}\n{text}");
        envc_lock::lock::parse(FileId(1), &n, "e", "prod")
            .unwrap_or_else(|d| panic!("{d:?}\n{text}"))
    }

    #[test]
    fn a_new_lock_round_trips() {
        let r = release(MODEL);
        let all = changes(&Release::default(), &r);
        let text = write_lock(None, ("e", "prod"), 1, &r, &all, &meta()).unwrap();
        assert!(
            text.starts_with("# Release lock of environment `e`"),
            "{text}"
        );
        assert!(text.contains("[services.api.definition.env]"), "{text}");
        assert!(text.contains("promoted = 2026-11-27T10:00:00Z"), "{text}");
        let lock = parse_lock(&text);
        assert!(changes(&lock.release, &r).is_empty(), "{text}");
        assert_eq!(lock.meta["api"].from.as_deref(), Some("dev"));
        assert_eq!(lock.number, Some(1), "{text}");
        let number = lock.release_number().unwrap();
        assert_eq!(
            (number.chart_version(), number.app_version()),
            ("1.0.0".to_string(), "abc123".to_string())
        );
    }

    #[test]
    fn release_numbers_continue_the_log_of_an_unnumbered_lock() {
        let r = release(MODEL);
        let all = changes(&Release::default(), &r);
        let numbered = write_lock(None, ("e", "prod"), 1, &r, &all, &meta()).unwrap();
        // A lock written before releases were numbered: it still loads, without a number.
        let old = numbered.replace("release = 1\n", "");
        assert!(!old.contains("release ="), "{old}");
        assert_eq!(parse_lock(&old).number, None);
        let entry = log_entry(&all);
        let log = append_log(None, &entry).unwrap();
        let log = append_log(Some(&log), &entry).unwrap();
        assert_eq!(next_release(None, Some(&log)), 3);
        assert_eq!(next_release(None, None), 1);
        assert_eq!(next_release(Some(7), Some(&log)), 8);
        // The next promotion numbers it, and only the number is added.
        let next = release(&MODEL.replace("api:1.0.0", "api:1.1.0"));
        let c = changes(&r, &next);
        let text = write_lock(Some(&old), ("e", "prod"), 3, &next, &c, &meta()).unwrap();
        assert_eq!(parse_lock(&text).number, Some(3));
        assert!(text.contains("release = 3\n"), "{text}");
        let zero = text.replace("release = 3", "release = 0");
        let (n, _) = Node::parse(FileId(1), &zero);
        let err = envc_lock::lock::parse(FileId(1), &n, "e", "prod").unwrap_err();
        assert_eq!(
            err.iter().next().map(|d| d.message.as_str()),
            Some("release numbers start at 1")
        );
    }

    #[test]
    fn updates_keep_comments_and_untouched_entries() {
        let r = release(MODEL);
        let all = changes(&Release::default(), &r);
        let first = write_lock(None, ("e", "prod"), 1, &r, &all, &meta()).unwrap();
        // A release engineer annotates the lock.
        let annotated = first
            .replace(
                "[services.db]\n",
                "# db is pinned by the DBA team\n[services.db]\n",
            )
            .replace("B = \"2\"\n", "B = \"2\" # tuned for prod\n")
            .replace("A = \"1\"\n", "# why A\nA = \"1\"\n");
        let next = release(
            &MODEL
                .replace("api:1.0.0", "api:1.1.0")
                .replace("A = \"1\"", "A = \"one\"")
                .replace("db:2.0.0", "db:2.1.0"),
        );
        let c: Vec<Change> = changes(&r, &next)
            .into_iter()
            .filter(|c| c.unit == "api")
            .collect();
        let text = write_lock(Some(&annotated), ("e", "prod"), 2, &next, &c, &meta()).unwrap();
        assert!(
            text.contains("# db is pinned by the DBA team\n[services.db]\nimage = \"db:2.0.0\""),
            "{text}"
        );
        assert!(text.contains("B = \"2\" # tuned for prod\n"), "{text}");
        assert!(text.contains("# why A\nA = \"one\"\n"), "{text}");
        assert!(text.contains("image = \"api:1.1.0\""), "{text}");
        let lock = parse_lock(&text);
        assert_eq!(
            lock.release.services["api"].config,
            next.services["api"].config
        );
        assert_eq!(lock.release.services["db"].config, r.services["db"].config);
        // Only the changed lines differ.
        let changed: Vec<(&str, &str)> = annotated
            .lines()
            .zip(text.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert!(changed.len() <= 4, "{changed:#?}");
    }

    #[test]
    fn removing_and_adding_services() {
        let r = release(MODEL);
        let text = write_lock(
            None,
            ("e", "prod"),
            1,
            &r,
            &changes(&Release::default(), &r),
            &meta(),
        )
        .unwrap();
        let next = release(&MODEL.replace("[services.db]", "[services.cache]"));
        let c = changes(&r, &next);
        let text = write_lock(Some(&text), ("e", "prod"), 2, &next, &c, &meta()).unwrap();
        assert!(!text.contains("[services.db]"), "{text}");
        let lock = parse_lock(&text);
        assert_eq!(
            lock.release.services.keys().collect::<Vec<_>>(),
            ["api", "cache"]
        );
    }

    /// The first promotion of `e` from dev to prod, outside git, with no message.
    fn log_entry(changes: &[Change]) -> LogEntry<'_> {
        LogEntry {
            at: "2026-11-27T10:00:00Z",
            environment: "e",
            from: "dev",
            to: "prod",
            release: 1,
            revision: None,
            dirty: false,
            message: None,
            changes,
        }
    }

    #[test]
    fn the_log_only_grows() {
        let r = release(MODEL);
        let c = changes(&Release::default(), &r);
        let entry = LogEntry {
            revision: Some("abc123"),
            dirty: true,
            message: Some("first release"),
            ..log_entry(&c)
        };
        let one = append_log(None, &entry).unwrap();
        let two = append_log(Some(&format!("{one}# a note\n")), &entry).unwrap();
        assert!(two.starts_with(&format!("{one}# a note\n")));
        let v: toml_edit::DocumentMut = two.parse().unwrap();
        let entries = v["promotion"].as_array_of_tables().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries.get(1).unwrap()["change"]
                .as_array_of_tables()
                .unwrap()
                .len(),
            3
        );
    }
}
