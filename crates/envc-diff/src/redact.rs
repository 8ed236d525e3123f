//! Hiding the secrets of fact sets before they are compared ([`crate::secret`] finds them):
//! each side's own, then any word on either side that equals one of them.

use std::collections::HashSet;

use crate::facts::{Facts, Part, Value};
use crate::secret::{OPEN, hide_file, hide_text, id, marker, marker_of, secret_ranges};
use crate::split::{Split, both};

/// `s` with its secrets hidden, as value parts (`None` when it holds none).
fn hide(s: &str) -> Option<Vec<Part>> {
    let ranges = secret_ranges(s);
    if ranges.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut at = 0;
    for (a, b) in ranges {
        if a > at {
            parts.push(Part::Text(s[at..a].to_string()));
        }
        parts.push(Part::Secret(id(&s.as_bytes()[a..b])));
        at = b;
    }
    if at < s.len() {
        parts.push(Part::Text(s[at..].to_string()));
    }
    Some(parts)
}

/// A value with the secrets in its text parts hidden.
pub fn hide_value(v: &Value) -> Value {
    let parts = match v {
        Value::Text(t) => match hide(t) {
            Some(p) => p,
            None => return v.clone(),
        },
        Value::Parts(ps) => ps
            .iter()
            .flat_map(|p| match p {
                Part::Text(t) => hide(t).unwrap_or_else(|| vec![p.clone()]),
                s => vec![s.clone()],
            })
            .collect(),
    };
    Value::Parts(parts)
}

/// Hides the secrets of both sides of a comparison: first what each side spells as a secret
/// ([`redact`]), then any word of eight characters or more, anywhere on either side, that
/// equals a secret of either side (a password passed as a plain argument, a Secret's value
/// written into a script).
pub fn redact_pair(a: &mut Facts, b: &mut Facts) {
    redact_pair_split(a, b, Split::BySize);
}

/// [`redact_pair`], each side's passes on a thread of its own as `split` says (the two sides'
/// passes share nothing; the second pass needs both sides' ids).
pub(crate) fn redact_pair_split(a: &mut Facts, b: &mut Facts, split: Split) {
    let parallel = split.splits(a.services.len() + b.services.len(), PARALLEL_SERVICES);
    let (ia, ib) = both(parallel, &mut *a, &mut *b, |f: &mut Facts| {
        redact(f);
        side_ids(f)
    });
    let mut ids: HashSet<String> = ia.into_iter().chain(ib).collect();
    if ids.is_empty() {
        return;
    }
    ids.shrink_to_fit();
    both(parallel, a, b, |f: &mut Facts| {
        // Words repeat across services (`health`, a host name): each is hashed once.
        let mut seen = std::collections::HashMap::new();
        each_text(f, &mut |t| {
            if let Some(hidden) = hide_known(t, &ids, &mut seen) {
                *t = hidden;
            }
        });
    });
}

/// Services in both sets from which [`redact_pair`] works on each side on a thread of its own.
const PARALLEL_SERVICES: usize = 400;

/// The ids of every secret a side holds: its markers in text and its hidden values.
fn side_ids(f: &mut Facts) -> HashSet<String> {
    let mut ids = HashSet::new();
    each_text(f, &mut |t| collect_markers(t, &mut ids));
    each_value(f, &mut |v| {
        if let Value::Parts(ps) = v {
            for p in ps {
                if let Part::Secret(id) = p {
                    ids.insert(id.clone());
                }
            }
        }
    });
    ids
}

/// The ids of the markers in `t`.
fn collect_markers(t: &str, ids: &mut HashSet<String>) {
    let mut rest = t;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        let Some(end) = after.find('>') else { break };
        ids.insert(after[..end].to_string());
        rest = &after[end..];
    }
}

/// Words that are too short to stand for a secret of their own: a common word that happens to
/// be a demo password (`airflow`) would otherwise hide every mention of it.
const KNOWN_WORD_MIN: usize = 8;

/// `t` with every word whose id is a known secret's replaced by its marker, or `None` when no
/// word is. `seen` remembers each word's marker (`None`: not a secret's) across calls.
fn hide_known(
    t: &str,
    ids: &HashSet<String>,
    seen: &mut std::collections::HashMap<String, Option<String>>,
) -> Option<String> {
    // The text is copied only once a word is hidden: most texts hide none.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    while at < t.len() {
        let rest = &t[at..];
        let start = at + rest.find(|c| !boundary(c)).unwrap_or(rest.len());
        let rest = &t[start..];
        let end = start + rest.find(boundary).unwrap_or(rest.len());
        let word = &t[start..end];
        let hidden = if word.len() < KNOWN_WORD_MIN {
            None
        } else if let Some(m) = seen.get(word) {
            m.as_deref()
        } else {
            let i = id(word.as_bytes());
            let m = ids.contains(&i).then(|| marker_of(&i));
            seen.entry(word.to_string()).or_insert(m).as_deref()
        };
        if let Some(m) = hidden {
            let o = out.get_or_insert_with(|| String::with_capacity(t.len()));
            o.push_str(&t[copied..start]);
            o.push_str(m);
            copied = end;
        }
        at = end;
    }
    out.map(|mut o| {
        o.push_str(&t[copied..]);
        o
    })
}

/// What ends a word [`hide_known`] looks up: white space, quotes and the punctuation that
/// joins a secret to its neighbours in URLs, assignments and lists.
fn boundary(c: char) -> bool {
    if c.is_ascii() {
        matches!(
            c,
            ' ' | '\t'
                ..='\r'
                    | '"'
                    | '\''
                    | '='
                    | ':'
                    | ','
                    | ';'
                    | '@'
                    | '/'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '<'
                    | '>'
                    | '`'
        )
    } else {
        c.is_whitespace()
    }
}

/// Visits every text of the facts that is printed: env text, command and argument words, probe
/// targets, file contents, the same of init steps and sidecars.
fn each_text(f: &mut Facts, g: &mut dyn FnMut(&mut String)) {
    for s in f.services.values_mut() {
        let env_texts = |env: &mut std::collections::BTreeMap<String, Value>,
                         g: &mut dyn FnMut(&mut String)| {
            for v in env.values_mut() {
                match v {
                    Value::Text(t) => g(t),
                    Value::Parts(ps) => {
                        for p in ps {
                            if let Part::Text(t) = p {
                                g(t);
                            }
                        }
                    }
                }
            }
        };
        env_texts(&mut s.env, g);
        for w in [&mut s.command, &mut s.args].into_iter().flatten() {
            w.iter_mut().for_each(&mut *g);
        }
        for p in s.probes.values_mut() {
            g(&mut p.target);
        }
        for file in s.files.values_mut() {
            g(&mut file.content);
        }
        for step in s.init.values_mut().chain(s.sidecars.values_mut()) {
            env_texts(&mut step.env, g);
            for w in [&mut step.command, &mut step.args].into_iter().flatten() {
                w.iter_mut().for_each(&mut *g);
            }
        }
    }
}

fn each_value(f: &mut Facts, g: &mut dyn FnMut(&mut Value)) {
    for s in f.services.values_mut() {
        s.env.values_mut().for_each(&mut *g);
        for step in s.init.values_mut().chain(s.sidecars.values_mut()) {
            step.env.values_mut().for_each(&mut *g);
        }
    }
}

/// Hides every secret the facts hold in text: env values, commands and arguments, probe
/// commands, file contents, and init steps' and sidecars' env and words.
pub fn redact(facts: &mut Facts) {
    let words = |w: &mut Option<Vec<String>>| {
        if let Some(ws) = w {
            *ws = hide_words(ws);
        }
    };
    for s in facts.services.values_mut() {
        for (k, v) in s.env.iter_mut() {
            *v = hide_env(k, v);
        }
        words(&mut s.command);
        words(&mut s.args);
        for p in s.probes.values_mut() {
            p.target = hide_text(&p.target);
        }
        for (path, f) in s.files.iter_mut() {
            if !f.content.is_empty() {
                f.content = hide_file(path, &f.content);
            }
        }
        for step in s.init.values_mut().chain(s.sidecars.values_mut()) {
            for (k, v) in step.env.iter_mut() {
                *v = hide_env(k, v);
            }
            words(&mut step.command);
            words(&mut step.args);
        }
    }
}

/// A variable's value: whole when its name is a credential's, else what [`hide_value`] finds.
fn hide_env(name: &str, v: &Value) -> Value {
    match v {
        Value::Text(t) if crate::facts::credential_value(name, t) => {
            Value::secret(id(t.as_bytes()))
        }
        _ => hide_value(v),
    }
}

/// Words of a command with secrets hidden, word boundaries kept: the words are read as one
/// line (a flag's value is the next word) and each hidden range replaced in its word.
fn hide_words(ws: &[String]) -> Vec<String> {
    let line = ws.join(" ");
    let ranges = secret_ranges(&line);
    let mut out = Vec::with_capacity(ws.len());
    let mut at = 0;
    for w in ws {
        let (start, end) = (at, at + w.len());
        let mut word = String::new();
        let mut pos = start;
        for &(a, b) in &ranges {
            let (a, b) = (a.max(start), b.min(end));
            if a >= b {
                continue;
            }
            word.push_str(&line[pos..a]);
            word.push_str(&marker(&line.as_bytes()[a..b]));
            pos = b;
        }
        word.push_str(&line[pos..end]);
        out.push(word);
        at = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_keep_their_boundaries() {
        let w = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let out = hide_words(&w(&["server", "--token", "abc", "--x"]));
        assert_eq!(out.len(), 4);
        assert!(
            out[2].starts_with(OPEN) && !out[2].contains("abc"),
            "{out:?}"
        );
        assert_eq!(out[3], "--x");
    }

    #[test]
    fn known_secrets_are_hidden_word_by_word_between_their_boundaries() {
        for c in (0..0x3100u32).filter_map(char::from_u32) {
            let first = c.is_whitespace() || "\"'=:,;@/()[]{}<>`".contains(c);
            assert_eq!(boundary(c), first, "{c:?}");
        }
        let secrets = [
            "s3cr3t-passw0rd",
            "hunter2hunter2",
            "tok\u{e9}n-\u{e9}t\u{e9}-2024",
        ];
        let ids: HashSet<String> = secrets.iter().map(|s| id(s.as_bytes())).collect();
        let texts = [
            "",
            "plain text with no secret at all",
            "s3cr3t-passw0rd",
            "postgres://app:s3cr3t-passw0rd@db:5432/app",
            " \t=s3cr3t-passw0rd, hunter2hunter2;\n",
            "KEY=hunter2hunter2\u{a0}tail s3cr3t-passw0rdX (s3cr3t-passw0rd)",
            "[tok\u{e9}n-\u{e9}t\u{e9}-2024]{hunter2}<s3cr3t-passw0rd>`x`",
            "\u{2003}s3cr3t-passw0rd\u{2003}",
            "short pw=abc",
        ];
        let m = |i: usize| marker_of(&id(secrets[i].as_bytes()));
        let expected: [Option<String>; 9] = [
            None,
            None,
            Some(m(0)),
            Some(format!("postgres://app:{}@db:5432/app", m(0))),
            Some(format!(" \t={}, {};\n", m(0), m(1))),
            // A no-break space is white space; a longer word is another word.
            Some(format!(
                "KEY={}\u{a0}tail s3cr3t-passw0rdX ({})",
                m(1),
                m(0)
            )),
            Some(format!("[{}]{{hunter2}}<{}>`x`", m(2), m(0))),
            Some(format!("\u{2003}{}\u{2003}", m(0))),
            None,
        ];
        let mut seen = Default::default();
        for (t, want) in texts.iter().zip(expected) {
            assert_eq!(hide_known(t, &ids, &mut seen), want, "{t:?}");
        }
        // Asked again, each word's answer is the one remembered.
        assert_eq!(
            hide_known(texts[3], &ids, &mut seen),
            Some(format!("postgres://app:{}@db:5432/app", m(0)))
        );
    }
}
