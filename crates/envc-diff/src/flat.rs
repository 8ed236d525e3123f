//! A service's facts flattened to `key -> value` entries in the keys' order ([`Flat`]), and
//! the list they are made in ([`Entries`]).

use crate::key::Key;

/// A service's facts flattened ([`crate::facts::ServiceFacts::flatten`]): `key -> value`, one
/// entry per key, in the keys' order. A sorted list rather than a map: a service's few dozen
/// facts are made once, then read in order and looked up while walked in order; sorting them
/// once costs a fraction of inserting each into a tree, which was a third of comparing 1,000
/// services.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flat(Vec<(Key, String)>);

impl Flat {
    /// The value of `key`.
    pub fn get(&self, key: &Key) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The entries in the keys' order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// A cursor that looks keys up in ascending order, each in the time of the steps between
    /// it and the previous one.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor { rest: &self.0 }
    }
}

impl IntoIterator for Flat {
    type Item = (Key, String);
    type IntoIter = std::vec::IntoIter<(Key, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Looks a [`Flat`]'s keys up in ascending order (see [`Flat::cursor`]).
pub(crate) struct Cursor<'f> {
    rest: &'f [(Key, String)],
}

impl<'f> Cursor<'f> {
    /// The value of `key`; keys sought must not decrease.
    pub(crate) fn seek(&mut self, key: &Key) -> Option<&'f String> {
        while let Some(((k, v), rest)) = self.rest.split_first() {
            match k.cmp(key) {
                std::cmp::Ordering::Less => self.rest = rest,
                std::cmp::Ordering::Equal => return Some(v),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }
}

/// The first 16 bytes of a key's spelling (zeros past its end) as a big-endian number: two
/// keys whose numbers differ order as the numbers do (a zero is below every byte, and a
/// spelling that ends first is the lesser), equal numbers say nothing.
fn head(key: &Key) -> u128 {
    let mut buf = [0u8; 16];
    key.with_parts(|parts| {
        let mut at = 0;
        for p in parts {
            let n = p.len().min(16 - at);
            buf[at..at + n].copy_from_slice(&p.as_bytes()[..n]);
            at += n;
            if at == 16 {
                break;
            }
        }
    });
    u128::from_be_bytes(buf)
}

/// A [`Flat`] being made: entries in any order, a later one of a key replacing the value of
/// an earlier one (as a map's insert does).
#[derive(Default)]
pub(crate) struct Entries(Vec<(Key, String)>);

impl Entries {
    /// A list with room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Entries {
        Entries(Vec::with_capacity(n))
    }

    /// Adds an entry (a later one of the same key replaces its value once sorted).
    pub(crate) fn insert(&mut self, key: Key, value: String) {
        self.0.push((key, value));
    }

    /// Sorted (stably: the entries of one key stay in the order they came), one entry per key
    /// keeping the first key and the last value. Keys order as their spellings' bytes do:
    /// each entry's first 16 bytes, read as one number, order most pairs at the cost of one
    /// comparison, and only entries whose spellings share them are compared as keys.
    pub(crate) fn sorted(mut self) -> Flat {
        let entries = &mut self.0;
        let mut order: Vec<(u128, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (head(k), i))
            .collect();
        order.sort_by(|&(hi, i), &(hj, j)| {
            hi.cmp(&hj).then_with(|| entries[i].0.cmp(&entries[j].0))
        });
        let mut out: Vec<(Key, String)> = Vec::with_capacity(entries.len());
        for (_, i) in order {
            // Each entry is taken once (a unit key left in its place).
            let k = std::mem::replace(&mut entries[i].0, Key::Service);
            let v = std::mem::take(&mut entries[i].1);
            match out.last_mut() {
                Some(last) if last.0.cmp(&k) == std::cmp::Ordering::Equal => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Flat(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::key::{
        JobField, Port, PortField, ProbeKind, Resource, RouteField, ScheduleField, Security,
        StepField,
    };

    /// Every key variant, with names that share long prefixes, differ past 16 bytes, are
    /// empty or hold a zero byte, and some keys twice.
    fn assorted_keys() -> Vec<Key> {
        let names = [
            "",
            "A",
            "AB",
            "A\0",
            "PATH",
            "PATH_EXTRA",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ_2",
            "ABCDEFGHIJKLM",
            "/data",
            "/data/x",
            "web",
            "z",
        ];
        let port = |n: u16, p: &str| Port::new(n, p);
        let mut keys = vec![
            Key::Service,
            Key::Image,
            Key::Command,
            Key::Args,
            Key::Replicas,
            Key::Autoscaling,
            Key::Namespace,
            Key::Workload,
            Key::Restart,
            Key::InitOrder,
            Key::Profiles,
        ];
        for n in names {
            keys.extend([
                Key::Env(n.into()),
                Key::Volume(n.into()),
                Key::VolumeSize(n.into()),
                Key::VolumeClass(n.into()),
                Key::VolumeAccess(n.into()),
                Key::File(n.into()),
                Key::DependsOn(n.into()),
                Key::Exposure(n.into()),
                Key::Field(n.into()),
                Key::ObjectField(n.into()),
                Key::Route(n.into(), RouteField::Parent),
                Key::Route(n.into(), RouteField::Tls),
                Key::Init(n.into(), StepField::Image),
                Key::Init(n.into(), StepField::Env(n.into())),
                Key::Sidecar(n.into(), StepField::Command),
            ]);
        }
        for p in [
            port(80, "tcp"),
            port(8080, "tcp"),
            port(8, "udp"),
            port(443, "tcp"),
        ] {
            keys.push(Key::Port(p.clone()));
            for f in [
                PortField::Service,
                PortField::HostPort,
                PortField::NodePort,
                PortField::HostIp,
            ] {
                keys.push(Key::PortField(p.clone(), f));
            }
        }
        keys.extend(Resource::ALL.into_iter().map(Key::Resource));
        for k in [
            ProbeKind::Healthcheck,
            ProbeKind::Liveness,
            ProbeKind::Readiness,
            ProbeKind::Startup,
        ] {
            keys.extend([Key::Probe(k), Key::ProbeTiming(k)]);
        }
        keys.extend([
            Key::Job(JobField::Retries),
            Key::Schedule(ScheduleField::Cron),
        ]);
        keys.extend([
            Key::Security(Security::User),
            Key::Security(Security::Seccomp),
        ]);
        let again: Vec<Key> = keys.iter().step_by(7).cloned().collect();
        keys.extend(again);
        keys
    }

    #[test]
    fn flat_entries_sort_and_replace_as_a_map_does() {
        let keys = assorted_keys();
        // Several orders of the same entries: as listed, reversed, and shuffled by a fixed
        // stride; each value says which insert it was, so "the last value wins" is checked.
        let n = keys.len();
        let orders: Vec<Vec<usize>> = vec![
            (0..n).collect(),
            (0..n).rev().collect(),
            (0..n).map(|i| (i * 37 + 11) % n).collect(),
        ];
        for order in orders {
            let mut map = BTreeMap::new();
            let mut entries = Entries::default();
            for (step, &i) in order.iter().enumerate() {
                map.insert(keys[i].clone(), step.to_string());
                entries.insert(keys[i].clone(), step.to_string());
            }
            let flat = entries.sorted();
            let from_map: Vec<(String, String)> = map
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let from_flat: Vec<(String, String)> = flat
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            assert_eq!(from_flat, from_map);
            for (k, v) in &map {
                assert_eq!(flat.get(k), Some(v), "{k}");
            }
            let mut cursor = flat.cursor();
            for (k, v) in &map {
                assert_eq!(cursor.seek(k), Some(v), "{k}");
            }
            assert_eq!(flat.cursor().seek(&Key::Env("NOT_THERE".into())), None);
        }
    }
}
