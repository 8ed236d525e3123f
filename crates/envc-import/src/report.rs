//! The import report: every part of the input the model does not express as written, and
//! every fact the compiled model adds that the input did not have.

use std::fmt;

/// One thing the import could not carry over as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The service it concerns (an input service's name), `*` for every service, or an
    /// object's key as `envc diff` spells it (`volumes/db_data`, `NetworkPolicy/*`).
    pub service: String,
    /// The `envc diff` key (or key prefix) the difference shows under: `image`,
    /// `fields.container_name`, `env.DB_HOST`; empty for the whole service or object.
    pub key: String,
    /// What happened and why, lowercase.
    pub message: String,
}

impl Item {
    /// Whether a difference `envc diff` reports on `service` under `key` is this item's: the
    /// service matches (`*` matches any, a trailing `/*` any object of a kind) and the key is
    /// this item's key or starts with it followed by `.`, `[` or `/`.
    pub fn covers(&self, service: &str, key: &str) -> bool {
        let service_ok = self.service == "*"
            || self.service == service
            || self
                .service
                .strip_suffix('*')
                .is_some_and(|prefix| prefix.ends_with('/') && service.starts_with(prefix));
        let key_ok = self.key.is_empty()
            || key == self.key
            || key
                .strip_prefix(&self.key)
                .is_some_and(|rest| rest.starts_with(['.', '[', '/']));
        service_ok && key_ok
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key.as_str() {
            "" => write!(f, "{}: {}", self.service, self.message),
            k => write!(f, "{} {k}: {}", self.service, self.message),
        }
    }
}

/// Every item of one import, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The items.
    pub items: Vec<Item>,
}

impl Report {
    /// Adds an item, once.
    pub fn push(&mut self, service: &str, key: &str, message: impl Into<String>) {
        let item = Item {
            service: service.to_string(),
            key: key.to_string(),
            message: message.into(),
        };
        if !self.items.contains(&item) {
            self.items.push(item);
        }
    }

    /// Whether some item explains a difference on `service` under `key`.
    pub fn covers(&self, service: &str, key: &str) -> bool {
        self.items.iter().any(|i| i.covers(service, key))
    }

    /// The items for people: those that say the same of several services on one line
    /// (`a, b env.X: ...`), in the order first found.
    pub fn lines(&self) -> Vec<String> {
        let mut groups: Vec<(&str, &str, Vec<&str>)> = Vec::new();
        for i in &self.items {
            match groups
                .iter_mut()
                .find(|(k, m, _)| *k == i.key && *m == i.message)
            {
                Some((_, _, services)) => services.push(&i.service),
                None => groups.push((&i.key, &i.message, vec![&i.service])),
            }
        }
        groups
            .into_iter()
            .map(|(key, message, services)| {
                let who = services.join(", ");
                match key {
                    "" => format!("{who}: {message}"),
                    k => format!("{who} {k}: {message}"),
                }
                .replace('\n', " ")
            })
            .collect()
    }

    /// The report as TOML comment lines (`# ...`), for the top of the written model.
    pub fn comment_block(&self, title: &str) -> String {
        let mut out = format!("# {title}\n#\n");
        if self.items.is_empty() {
            out.push_str("# import report: everything was carried over.\n");
            return out;
        }
        out.push_str("# import report: what the model does not express as the input wrote it\n");
        out.push_str("# (`envc diff --from <input> --to out/<env>/<mode>` shows exactly these):\n");
        for line in self.lines() {
            out.push_str(&format!("# - {line}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_cover_keys_on_segment_boundaries() {
        let i = Item {
            service: "*".into(),
            key: "fields.labels".into(),
            message: String::new(),
        };
        assert!(i.covers("db", "fields.labels.app.kubernetes.io/name"));
        assert!(i.covers("db", "fields.labels"));
        assert!(!i.covers("db", "fields.labelsx"));
        let o = Item {
            service: "NetworkPolicy/*".into(),
            key: String::new(),
            message: String::new(),
        };
        assert!(o.covers("NetworkPolicy/shop/db", "object"));
        assert!(!o.covers("Namespace/shop", "object"));
    }
}
