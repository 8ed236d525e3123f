//! Corrections to the JSON Schema schemars derives from the model's types, where a type's
//! `Deserialize` is written by hand and accepts more than its derived schema says, or where the
//! file on disk may leave out what the decoded model requires. The types name them in
//! `#[schemars(transform = ...)]`; [`crate::schema`] applies the one that needs the whole
//! schema.

use schemars::Schema;
use serde_json::{Value, json};

/// `EnvValue`: the decoder also takes numbers and booleans (`S5CMD_NUMWORKERS = 10`), which
/// it turns into text.
pub fn env_value(schema: &mut Schema) {
    if let Some(Value::Array(any)) = schema.get_mut("anyOf") {
        any.push(json!({ "type": ["number", "boolean"] }));
    }
}

/// `DependsOn`: an array of service names is the short form of a table of conditions.
pub fn depends_on(schema: &mut Schema) {
    let Some(table) = schema.as_object_mut() else {
        return;
    };
    let description = table.remove("description");
    let table = Value::Object(std::mem::take(table));
    let mut either = serde_json::Map::new();
    if let Some(d) = description {
        either.insert("description".into(), d);
    }
    either.insert(
        "anyOf".into(),
        json!([table, { "type": "array", "items": { "type": "string" } }]),
    );
    *schema = Schema::from(either);
}

/// `ProfileSettings`: `backend` and `tier` may come from the profile it `extends`.
pub fn profile_settings(schema: &mut Schema) {
    if let Some(o) = schema.as_object_mut() {
        let required = o.remove("required");
        if let Some(required) = required {
            o.insert("if".into(), json!({ "not": { "required": ["extends"] } }));
            o.insert("then".into(), json!({ "required": required }));
        }
    }
}

/// `Service` (of services and templates): a service that `extends` templates takes any key,
/// at any depth, from them (a volume's `path`, a port's `container`), so the file itself
/// may leave out every key the decoded model requires; `envc check` reports what is still
/// missing after the templates are merged. Applied to the root, once its `$defs` exist.
pub fn partial_services(schema: &mut Schema) {
    let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) else {
        return;
    };
    // The definitions a service reaches, through `$ref`s, from `Service` itself.
    let mut reached: Vec<String> = vec!["Service".into()];
    let mut i = 0;
    while i < reached.len() {
        let mut refs = Vec::new();
        if let Some(d) = defs.get(&reached[i]) {
            collect_refs(d, &mut refs);
        }
        for r in refs {
            if !reached.contains(&r) {
                reached.push(r);
            }
        }
        i += 1;
    }
    for name in &reached {
        if let Some(d) = defs.get_mut(name) {
            strip_required(d);
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                out.push(name.to_string());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn strip_required(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("required").is_some_and(Value::is_array) {
                m.remove("required");
            }
            m.values_mut().for_each(strip_required);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_required),
        _ => {}
    }
}
