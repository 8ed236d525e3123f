//! Credentials found inline become secrets: values of variables named like credentials, URL
//! userinfo passwords, `--password VALUE` flags, and what Compose interpolated from `.env`
//! into a credential's variable. The model then refers to them; their values go to the dev
//! profiles only.

use indexmap::IndexMap;
use toml::Value;

use crate::draft::{Secret, s, table1};
use crate::name;
use crate::report::Report;

/// Whether a variable's name says it holds a credential: the one rule the model, the
/// promotion gates and `envc diff` share.
pub(crate) fn credential(name: &str) -> bool {
    envc_model::model::names_credential(name)
}

/// Secrets found so far, by value, with where each is used.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    /// Secret name by value.
    by_value: IndexMap<String, String>,
    /// Secrets by name.
    pub found: IndexMap<String, Secret>,
    /// `(service, diff key)` of each use, by secret name.
    pub uses: IndexMap<String, Vec<(String, String)>>,
    /// `(service, key)` of commands and arguments that hold a credential the model cannot take
    /// from a secret there.
    pub in_words: Vec<(String, String)>,
    /// Values Compose interpolated into credentials, by marker (`<secret:ID>`), with the
    /// variable's name.
    markers: Vec<(String, String, String)>,
}

impl Secrets {
    /// A collector that knows the variables Compose interpolated (name, value).
    pub fn with_variables<'a>(vars: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut me = Secrets::default();
        for (k, v) in vars {
            if !v.is_empty() && credential(k) {
                let m = envc_diff::secret::marker(v.as_bytes());
                me.markers.push((m, k.clone(), v.clone()));
            }
        }
        me
    }

    /// The secret holding `value`, declared under a name derived from `hint` if new.
    fn secret(&mut self, hint: &str, value: &str, service: &str, key: &str) -> String {
        let name = match self.by_value.get(value) {
            Some(n) => n.clone(),
            None => {
                let taken: Vec<String> = self.found.keys().cloned().collect();
                let n = name::unique(name::label(hint, 63), &taken);
                self.by_value.insert(value.to_string(), n.clone());
                self.found.insert(
                    n.clone(),
                    Secret {
                        description: format!("found inline in `{key}` of `{service}`"),
                        dev_value: Some(value.to_string()),
                    },
                );
                n
            }
        };
        let uses = self.uses.entry(name.clone()).or_default();
        let u = (service.to_string(), key.to_string());
        if !uses.contains(&u) {
            uses.push(u);
        }
        name
    }

    /// Declares a secret under its own name (a key of a Secret object) with the value the
    /// manifests give it, if any, used by `service` under `key`.
    pub fn declare(
        &mut self,
        name: &str,
        description: &str,
        value: Option<&str>,
        service: &str,
        key: &str,
    ) {
        let s = self
            .found
            .entry(name.to_string())
            .or_insert_with(|| Secret {
                description: description.to_string(),
                dev_value: value.map(String::from),
            });
        if s.dev_value.is_none() {
            s.dev_value = value.map(String::from);
        }
        let uses = self.uses.entry(name.to_string()).or_default();
        let u = (service.to_string(), key.to_string());
        if !uses.contains(&u) {
            uses.push(u);
        }
    }

    /// Markers Compose left for interpolated credentials, replaced by their values.
    pub fn unmark(&self, text: &str) -> (String, Option<String>) {
        let mut out = text.to_string();
        let mut var = None;
        for (m, k, v) in &self.markers {
            if out.contains(m.as_str()) {
                out = out.replace(m.as_str(), v);
                var = Some(k.clone());
            }
        }
        (out, var)
    }

    /// An environment variable's model value: `{ secret = ... }` for a credential,
    /// `${secret.x}` in place of a URL's password, else the text (escaped for the model).
    pub fn env_value(&mut self, service: &str, key: &str, raw: &str) -> Value {
        let (text, interpolated) = self.unmark(raw);
        let diff_key = format!("env.{key}");
        let whole = !text.is_empty() && !only_reference(&text);
        if whole && (credential(key) || interpolated.as_deref().is_some_and(|v| v == key)) {
            let n = self.secret(key, &text, service, &diff_key);
            return table1("secret", s(n));
        }
        if let Some(var) = interpolated.filter(|_| whole) {
            // A credential interpolated into a longer value: the variable's value is the secret.
            let (_, _, value) = self
                .markers
                .iter()
                .find(|(_, k, _)| *k == var)
                .cloned()
                .unwrap_or_default();
            let n = self.secret(&var, &value, service, &diff_key);
            let escaped = escape(&text).replace(&value, &format!("${{secret.{n}}}"));
            return s(escaped);
        }
        if let Some((start, end)) = userinfo_password(&text) {
            let pw = text[start..end].to_string();
            let n = self.secret(&format!("{key}-password"), &pw, service, &diff_key);
            let out = format!(
                "{}${{secret.{n}}}{}",
                escape(&text[..start]),
                escape(&text[end..])
            );
            return s(out);
        }
        s(escape(&text))
    }

    /// Command words as the model writes them. The model takes no secret in a command or
    /// its arguments (anyone who can read the pod spec sees them), so credentials found there
    /// (`--password VALUE`, `--password=VALUE`, URL passwords, known secret values) stay as
    /// written and are listed in [`Secrets::in_words`] for the report.
    pub fn words(&mut self, service: &str, key: &str, words: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(words.len());
        let mut flag = false;
        for w in words {
            let (w, var) = self.unmark(w);
            let found = (flag && !w.starts_with('-'))
                || var.is_some()
                || userinfo_password(&w).is_some()
                || w.strip_prefix("--").is_some_and(|b| {
                    b.split_once('=')
                        .is_some_and(|(f, v)| credential(f) && !v.is_empty())
                })
                || self
                    .by_value
                    .keys()
                    .any(|v| v.len() >= 8 && w.contains(v.as_str()));
            if found {
                let u = (service.to_string(), key.to_string());
                if !self.in_words.contains(&u) {
                    self.in_words.push(u);
                }
            }
            flag = w.strip_prefix("--").is_some_and(credential);
            out.push(escape(&w));
        }
        out
    }

    /// Secrets whose value is also a literal somewhere else in the model lose their dev value
    /// (the model refuses a literal that holds a secret's value), each use reported; so are
    /// credentials left in commands.
    pub fn drop_colliding(&mut self, literals: &[String], report: &mut Report) {
        for (svc, key) in &self.in_words {
            report.push(svc, key, "holds a credential, kept as written: the model takes no secret in a command or its arguments (anyone who can read the pod spec sees them); pass it through an env variable the program reads");
        }
        for (name, secret) in &mut self.found {
            let Some(v) = &secret.dev_value else { continue };
            if !literals.iter().any(|l| holds(l, v)) {
                continue;
            }
            secret.dev_value = None;
            for (svc, key) in self.uses.get(name).into_iter().flatten() {
                report.push(
                    svc,
                    key,
                    format!(
                        "secret `{name}` gets a derived dev value: the input's value is also written as a plain value elsewhere (a user or database name), which the model forbids next to a secret"
                    ),
                );
            }
        }
    }
}

/// Whether a value is only a variable reference (`$X`, `${X}`): it names a secret elsewhere.
fn only_reference(v: &str) -> bool {
    let v = v.trim();
    (v.starts_with("${") && v.ends_with('}') && !v[2..].contains('$'))
        || (v.starts_with('$')
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Byte range of the password in `scheme://user:password@host`.
pub(crate) fn userinfo_password(s: &str) -> Option<(usize, usize)> {
    let start = s.find("://")? + 3;
    let rest = &s[start..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..auth_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    let (a, b) = (start + colon + 1, start + at);
    (b > a && !only_reference(&s[a..b])).then_some((a, b))
}

/// The model's reading of a literal: `${` is a reference, so a literal one is `$${`.
pub(crate) fn escape(s: &str) -> String {
    s.replace("${", "$${")
}

/// Whether a literal holds `value` as the model's check finds it: as a whole token (split at
/// white space and `:@=,;&?` and quotes), or anywhere when the value has such characters.
pub(crate) fn holds(literal: &str, value: &str) -> bool {
    const SEP: &[char] = &[':', '@', '=', ',', ';', '&', '?', '"', '\''];
    if value.chars().any(|c| c.is_whitespace() || SEP.contains(&c)) {
        return literal.contains(value);
    }
    literal
        .split(|c: char| c.is_whitespace() || SEP.contains(&c))
        .any(|t| t == value)
}

/// Every literal string of a model's tables (secret references left out), where the model
/// refuses a secret's value.
pub(crate) fn literals<'a>(tables: impl IntoIterator<Item = &'a toml::Table>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Table(t) if !t.contains_key("secret") => t.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in tables {
        t.values().for_each(|v| walk(v, &mut out));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_secrets() {
        let mut s = Secrets::default();
        let v = s.env_value("db", "POSTGRES_PASSWORD", "hunter22");
        assert_eq!(v.to_string(), "{ secret = \"postgres-password\" }");
        let url = s.env_value("app", "DATABASE_URL", "postgres://u:hunter22@db/app");
        assert_eq!(
            url.as_str(),
            Some("postgres://u:${secret.postgres-password}@db/app")
        );
        let w = s.words(
            "cache",
            "args",
            &[
                "redis-server".into(),
                "--requirepass".into(),
                "s3cret-pw".into(),
            ],
        );
        assert_eq!(w[2], "s3cret-pw");
        assert_eq!(s.in_words, [("cache".to_string(), "args".to_string())]);
        assert_eq!(
            s.env_value("x", "HOME", "${HOME}").as_str(),
            Some("$${HOME}")
        );
        assert!(holds("postgres://gitea:gitea@db", "gitea"));
        assert!(!holds("/opt/airflow/dags", "airflow"));
    }
}
