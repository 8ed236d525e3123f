//! Matching services and comparing their facts facet by facet.

use std::collections::{BTreeMap, BTreeSet};

use envc_emit::healthcheck::healthcheck;
use schemars::JsonSchema;
use serde::Serialize;

use crate::facts::{Facts, Format, ProbeFacts, ServiceFacts, Value};
use crate::key::{Facet, JobField, Key, PortField, ProbeKind, ScheduleField};
use crate::normalize;
use crate::split::Split;

/// How a difference is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A profile sets it.
    Expected,
    /// The other format cannot express it.
    NotRepresentable,
    /// Declared as intended in the accepted-differences file.
    Accepted,
    /// The same value, plain on one side and read from a Secret on the other.
    MovedIntoSecret,
    /// Equal once host names, ports and restart policies are read per format (listed with
    /// `--show-normalized`; both files' own values are shown).
    Normalized,
    /// Nothing explains it.
    Drift,
}

impl Class {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Expected => "expected",
            Class::NotRepresentable => "not representable",
            Class::Accepted => "accepted",
            Class::MovedIntoSecret => "moved into a secret",
            Class::Normalized => "normalized",
            Class::Drift => "drift",
        }
    }
}

/// One difference between the two sides.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Difference {
    /// Service (after renames).
    pub service: String,
    /// Facet: `image`, `env`, `ports`, ... or `service` when one side lacks the service.
    pub facet: Facet,
    /// Full key, spelled `env.AWS_REGION`.
    #[schemars(with = "String")]
    pub key: Key,
    /// Value on side A (secrets hashed).
    pub a: Option<String>,
    /// Value on side B.
    pub b: Option<String>,
    /// Unified diff of a file's content, when the facet is a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub text_diff: Option<String>,
    /// Classification.
    pub class: Class,
    /// Why.
    pub reason: String,
    /// `file:line` of the profile value or accepted rule that explains the class
    /// (`profiles/docker.toml:12`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub at: Option<String>,
}

/// The outcome of comparing two fact sets.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Differences, grouped by service in a stable order.
    pub differences: Vec<Difference>,
    /// Values that differed only in host names, ports or restart policies each format spells
    /// its own way.
    pub normalized: usize,
    /// Services compared.
    pub services: usize,
    /// The values counted in `normalized`, as each file spells them (class `Normalized`).
    #[serde(skip)]
    pub normalized_values: Vec<Difference>,
    /// The two sides' facts as compared (renamed and normalised), for classification rules
    /// that look at another fact of the service or at another service.
    #[serde(skip)]
    pub sides: Box<[Facts; 2]>,
}

impl Difference {
    /// An unclassified difference (`Drift`, empty reason); [`crate::classify`] judges it.
    pub fn new(service: &str, key: Key, a: Option<String>, b: Option<String>) -> Difference {
        Difference {
            service: service.to_string(),
            facet: key.facet(),
            key,
            a,
            b,
            text_diff: None,
            class: Class::Drift,
            reason: String::new(),
            at: None,
        }
    }
}

/// Why a fact cannot be expressed in a format, if it cannot.
pub fn not_representable(format: Format, key: &Key) -> Option<&'static str> {
    match (format, key) {
        (Format::Compose, Key::Autoscaling) => Some("Compose cannot autoscale"),
        (Format::Compose, Key::Exposure(_) | Key::Route(..)) => Some("Compose has no ingress"),
        (Format::Compose, Key::Namespace) => Some("Compose has networks, not namespaces"),
        (Format::Compose, Key::Probe(k) | Key::ProbeTiming(k)) if *k != ProbeKind::Healthcheck => {
            Some(
                "Compose has one healthcheck, compared as `probes.healthcheck`; it has no separate liveness, readiness and startup probes",
            )
        }
        (Format::Compose, Key::PortField(_, PortField::NodePort)) => {
            Some("Compose has no NodePorts")
        }
        (Format::Compose, Key::PortField(_, PortField::Service)) => {
            Some("Compose services are reached on their container ports")
        }
        (Format::Compose, Key::VolumeSize(_)) => Some("Compose volumes have no size"),
        (Format::Compose, Key::VolumeClass(_) | Key::VolumeAccess(_)) => Some(
            "Compose volumes have no storage class or access modes: a named volume is the Docker host's",
        ),
        (Format::Compose, Key::Job(field)) => Some(match field {
            JobField::Retries => {
                "with restart \"no\" Compose runs a job once; Kubernetes replaces a failed pod up to backoffLimit times"
            }
            JobField::Deadline => {
                "Compose has no job deadline; Kubernetes stops a job that runs longer than activeDeadlineSeconds"
            }
            JobField::Ttl => {
                "Compose keeps a finished job's container until `docker compose down`; Kubernetes deletes a finished Job after ttlSecondsAfterFinished"
            }
            JobField::Parallelism => {
                "Compose starts a job's replicas at once; Kubernetes runs `parallelism` pods at a time until `completions` succeed"
            }
            JobField::Run => {
                "Compose has no release hooks: dependents wait for the job with `service_completed_successfully`, where Helm runs it as a pre-install,pre-upgrade hook"
            }
        }),
        (Format::Compose, Key::Schedule(ScheduleField::Cron)) => Some(
            "Compose has no scheduler: run the job with `docker compose run --rm <service>` (Kubernetes runs the CronJob on its schedule)",
        ),
        (Format::Compose, Key::Schedule(_)) => Some(
            "Compose has no scheduler; Kubernetes' CronJob controller applies the concurrency policy, time zone and history limits",
        ),
        (Format::Kubernetes, Key::Profiles) => Some(
            "Kubernetes has no Compose profiles: every workload in the set is deployed (a CronJob runs on its schedule)",
        ),
        (Format::Kubernetes, Key::DependsOn(_)) => Some(
            "Kubernetes has no start order: readiness probes and retries take its place; only dependents of a job wait for it, with an init container running `kubectl wait`",
        ),
        (Format::Kubernetes, Key::Namespace) => {
            Some("Kubernetes has namespaces, not Compose networks")
        }
        (Format::Compose, Key::Object) => Some(
            "Compose has no cluster objects: no namespaces (nor their Pod Security levels), quotas, limit ranges, network policies or disruption budgets",
        ),
        (Format::Kubernetes, Key::PortField(_, PortField::HostPort | PortField::HostIp)) => {
            Some("Kubernetes reaches pods through Services (NodePort) or ingress, not host ports")
        }
        _ => None,
    }
}

/// What is compared besides the facts every comparison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Two sets of files (or a fresh build against files): every structural line too, when
    /// the formats are the same.
    Files,
    /// Two modes, both built from the model: the structural lines each mode's backend writes
    /// its own way (labels, a Helm chart's shape) are not compared; cluster objects are.
    Modes,
}

/// Compares two fact sets after renaming B's services with `renames` (B name -> A name) and
/// normalising host names, ports and (between formats) restart policies. Differences come out
/// unclassified (`Drift`, empty reason); the caller classifies them.
///
/// Between two sets of the same format every structural line is compared too (a service's
/// `fields`, every object); between formats only the cluster objects (namespaces, quotas,
/// network policies, disruption budgets), which the other format cannot express.
pub fn compare(a: &Facts, b: &Facts, renames: &BTreeMap<String, String>) -> Comparison {
    compare_reaching(a.clone(), b.clone(), renames, Reach::Files, Split::BySize)
}

/// Compares two sets both built from the model (two modes, or one mode before and after a
/// promotion), as [`compare`] does, but without the structural lines each backend writes its
/// own way: only service facts and cluster objects (their backends' management labels left
/// out).
pub fn compare_modes(a: &Facts, b: &Facts, renames: &BTreeMap<String, String>) -> Comparison {
    compare_modes_owned(a.clone(), b.clone(), renames)
}

/// [`compare_modes`] of facts the caller is done with: the comparison keeps them as its sides
/// rather than copies (a 1,000-service set's facts are a few MiB).
pub fn compare_modes_owned(a: Facts, b: Facts, renames: &BTreeMap<String, String>) -> Comparison {
    compare_reaching(a, b, renames, Reach::Modes, Split::BySize)
}

fn compare_reaching(
    mut a: Facts,
    mut b: Facts,
    renames: &BTreeMap<String, String>,
    reach: Reach,
    split: Split,
) -> Comparison {
    crate::redact::redact_pair_split(&mut a, &mut b, split);
    let structural = reach == Reach::Files && a.format == b.format;
    if structural {
        // Within one format a named volume's name is comparable: another name is another
        // volume (between formats names are each format's own).
        for f in [&mut a, &mut b] {
            // Every Secret and ExternalSecret is compared line by line here already.
            f.objects
                .retain(|_, o| o.scope != crate::structure::Scope::Secret);
            for s in f.services.values_mut() {
                for (path, v) in &s.volumes {
                    if let Some(source) = &v.source {
                        std::sync::Arc::make_mut(&mut s.fields).insert(
                            format!("volumes.{path}.source"),
                            Value::Text(source.clone()),
                        );
                    }
                }
            }
        }
    } else {
        let same_format = a.format == b.format;
        for f in [&mut a, &mut b] {
            for s in f.services.values_mut() {
                s.fields = Default::default();
            }
            f.objects.retain(|_, o| {
                o.scope == crate::structure::Scope::Cluster
                    || (same_format && o.scope == crate::structure::Scope::Secret)
            });
            for o in f.objects.values_mut() {
                std::sync::Arc::make_mut(&mut o.lines).retain(|path, _| {
                    !crate::structure::MANAGEMENT_LABELS
                        .iter()
                        .any(|l| path.strip_prefix("metadata.labels.") == Some(l))
                });
            }
        }
    }
    if a.format != b.format {
        synthesize_healthchecks(&mut a);
        synthesize_healthchecks(&mut b);
    }
    normalize::rename(&mut b, renames);
    // Services normalise and compare independently: pair by pair, each shown as it was from a
    // copy of that pair only; a large set is split in two halves, one per core, and the
    // halves' results joined in order (the same output as one pass).
    let normalizer = normalize::normalizer(&a, &b, renames);
    let mut pairs = pairs(&mut a.services, &mut b.services);
    let mut found = Services::default();
    let parts = crate::split::in_halves_mut(split, &mut pairs, PARALLEL_SERVICES, |half| {
        services(half, &normalizer)
    });
    for part in parts {
        found.append(part);
    }
    drop(pairs);
    let Services {
        mut differences,
        normalized,
        normalized_values,
        services,
    } = found;
    compare_objects(&a, &b, &mut differences);
    for (side, f) in [&a, &b].into_iter().enumerate() {
        for name in &f.duplicates {
            let what = Some(format!("more than one object named {name}"));
            let (va, vb) = if side == 0 {
                (what, None)
            } else {
                (None, what)
            };
            differences.push(Difference::new(name, Key::Duplicate, va, vb));
        }
    }
    Comparison {
        differences,
        normalized,
        services,
        normalized_values,
        sides: Box::new([a, b]),
    }
}

/// [`compare_modes`], its work split over threads as `split` says.
#[cfg(test)]
pub(crate) fn compare_modes_split(
    a: &Facts,
    b: &Facts,
    renames: &BTreeMap<String, String>,
    split: Split,
) -> Comparison {
    compare_reaching(a.clone(), b.clone(), renames, Reach::Modes, split)
}

/// Services from which [`compare`] splits the services' comparison over two threads (below,
/// a thread costs more than it saves).
const PARALLEL_SERVICES: usize = 200;

/// A service name and its service on either side.
type Pair<'f> = (
    &'f String,
    Option<&'f mut ServiceFacts>,
    Option<&'f mut ServiceFacts>,
);

/// The services of both sides by name, in the names' order.
fn pairs<'f>(
    a: &'f mut indexmap::IndexMap<String, ServiceFacts>,
    b: &'f mut indexmap::IndexMap<String, ServiceFacts>,
) -> Vec<Pair<'f>> {
    let sorted = |m: &'f mut indexmap::IndexMap<String, ServiceFacts>| {
        let mut v: Vec<_> = m.iter_mut().collect();
        v.sort_unstable_by(|x, y| x.0.cmp(y.0));
        v.into_iter().peekable()
    };
    let (mut a, mut b) = (sorted(a), sorted(b));
    let mut out = Vec::new();
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        let pair = match order {
            std::cmp::Ordering::Less => a.next().map(|(n, s)| (n, Some(s), None)),
            std::cmp::Ordering::Greater => b.next().map(|(n, s)| (n, None, Some(s))),
            std::cmp::Ordering::Equal => match (a.next(), b.next()) {
                (Some((n, sa)), Some((_, sb))) => Some((n, Some(sa), Some(sb))),
                _ => None,
            },
        };
        out.extend(pair);
    }
    out
}

/// What comparing some services found.
#[derive(Default)]
struct Services {
    differences: Vec<Difference>,
    normalized: usize,
    normalized_values: Vec<Difference>,
    services: usize,
}

impl Services {
    /// `later`'s findings after these.
    fn append(&mut self, mut later: Services) {
        self.differences.append(&mut later.differences);
        self.normalized += later.normalized;
        self.normalized_values.append(&mut later.normalized_values);
        self.services += later.services;
    }
}

/// Normalises the services of `pairs` (in order) and compares them fact by fact.
fn services<A, B>(pairs: &mut [Pair<'_>], normalizer: &normalize::Normalizer<A, B>) -> Services
where
    A: Fn(&str) -> String,
    B: Fn(&str) -> String,
{
    let mut out = Services::default();
    for (n, sa, sb) in pairs.iter_mut() {
        let n: &String = n;
        let (Some(sa), Some(sb)) = (sa.as_deref_mut(), sb.as_deref_mut()) else {
            let workload = |s: &Option<&mut ServiceFacts>| s.as_ref().map(|s| s.workload.clone());
            out.differences
                .push(Difference::new(n, Key::Service, workload(sa), workload(sb)));
            normalizer.pair(sa.as_deref_mut(), sb.as_deref_mut());
            continue;
        };
        out.services += 1;
        // Each side's facts as its files have them, flattened before the pair normalises.
        let (raw_a, raw_b) = (sa.flatten(), sb.flatten());
        normalizer.pair(Some(&mut *sa), Some(&mut *sb));
        let (sa, sb) = (&*sa, &*sb);
        let (fa, fb) = (sa.flatten(), sb.flatten());
        // The keys come in order: the raw values are found walking along.
        let (mut ra, mut rb) = (raw_a.cursor(), raw_b.cursor());
        for (k, va, vb) in union(fa.iter(), fb.iter()) {
            let (raw_va, raw_vb) = (ra.seek(k), rb.seek(k));
            if va == vb {
                if raw_va != raw_vb {
                    out.normalized += 1;
                    let mut d = Difference::new(n, k.clone(), raw_va.cloned(), raw_vb.cloned());
                    d.class = Class::Normalized;
                    out.normalized_values.push(d);
                }
                continue;
            }
            // Each file's own value is shown; the normalised ones were compared.
            let shown = |raw: Option<&String>, v: Option<&String>| {
                raw.or(v).cloned().filter(|_| v.is_some())
            };
            let mut d = Difference::new(n, k.clone(), shown(raw_va, va), shown(raw_vb, vb));
            if let Key::File(path) = k {
                d.text_diff = text_diff(path, sa, sb);
            }
            out.differences.push(d);
        }
    }
    out
}

/// The keys of two maps (or of any two lists of entries in ascending key order) in order, each
/// with its value on either side: one pass over both, rather than collecting, sorting and
/// looking up every key.
fn union<'m, K: Ord + 'm, V: 'm>(
    a: impl IntoIterator<Item = (&'m K, &'m V)>,
    b: impl IntoIterator<Item = (&'m K, &'m V)>,
) -> impl Iterator<Item = (&'m K, Option<&'m V>, Option<&'m V>)> {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (None, None) => None,
        (Some(_), None) => a.next().map(|(k, v)| (k, Some(v), None)),
        (None, Some(_)) => b.next().map(|(k, v)| (k, None, Some(v))),
        (Some((ka, _)), Some((kb, _))) => match ka.cmp(kb) {
            std::cmp::Ordering::Less => a.next().map(|(k, v)| (k, Some(v), None)),
            std::cmp::Ordering::Greater => b.next().map(|(k, v)| (k, None, Some(v))),
            std::cmp::Ordering::Equal => {
                let (k, va) = a.next()?;
                let (_, vb) = b.next()?;
                Some((k, Some(va), Some(vb)))
            }
        },
    })
}

/// Objects that are not services: one difference when one side lacks the object (`object`,
/// its kind), else one per line that differs (`object.<path>`). The object's key stands in the
/// service's place.
fn compare_objects(a: &Facts, b: &Facts, out: &mut Vec<Difference>) {
    let keys: BTreeSet<&String> = a.objects.keys().chain(b.objects.keys()).collect();
    for k in keys {
        let (Some(oa), Some(ob)) = (a.objects.get(k), b.objects.get(k)) else {
            let kind = |f: &Facts| f.objects.get(k).map(|o| o.kind.clone());
            // A kustomization is how a set is applied, not an object a cluster holds: a
            // live dump has none.
            let kustomize = |f: &Facts| {
                f.objects.get(k).is_some_and(|o| {
                    o.kind == "Kustomization"
                        && o.lines
                            .get("apiVersion")
                            .is_none_or(|v| v.display().starts_with("kustomize.config.k8s.io"))
                })
            };
            if kustomize(a) || kustomize(b) {
                continue;
            }
            out.push(Difference::new(k, Key::Object, kind(a), kind(b)));
            continue;
        };
        for (p, va, vb) in union(oa.lines.iter(), ob.lines.iter()) {
            if va != vb {
                out.push(Difference::new(
                    k,
                    Key::ObjectField(p.clone()),
                    va.map(Value::display),
                    vb.map(Value::display),
                ));
            }
        }
    }
}

/// A unified diff of a file's content on the two sides, when either has content and neither
/// is binary (a binary file's bytes are never printed, and text against bytes is no line diff).
fn text_diff(path: &str, a: &ServiceFacts, b: &ServiceFacts) -> Option<String> {
    fn content<'s>(s: &'s ServiceFacts, path: &str) -> &'s str {
        s.files.get(path).map_or("", |f| f.content.as_str())
    }
    let binary = |s: &ServiceFacts| s.files.get(path).is_some_and(|f| f.binary.is_some());
    if binary(a) || binary(b) {
        return None;
    }
    let (ca, cb) = (content(a, path), content(b, path));
    (!ca.is_empty() || !cb.is_empty()).then(|| {
        similar::TextDiff::from_lines(ca, cb)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a{path}"), &format!("b{path}"))
            .to_string()
    })
}

/// The healthcheck Kubernetes probes stand for, by the Compose backend's own rule
/// ([`envc_emit::healthcheck`]): the readiness probe, else the liveness probe, that Compose could
/// run, first checked once the startup probe's budget has passed. Added to Kubernetes facts when
/// they are compared with Compose facts.
fn synthesize_healthchecks(f: &mut Facts) {
    if f.format != Format::Kubernetes {
        return;
    }
    for s in f.services.values_mut() {
        let probe = |k| s.probes.get(&k);
        let Ok(h) = healthcheck(
            probe(ProbeKind::Readiness),
            probe(ProbeKind::Liveness),
            probe(ProbeKind::Startup),
            runnable_by_compose,
        ) else {
            continue;
        };
        let synthesized = ProbeFacts {
            period: h.interval,
            timeout: h.timeout,
            failure_threshold: h.retries,
            initial_delay: h.start_period,
            ..h.test
        };
        s.probes.insert(ProbeKind::Healthcheck, synthesized);
    }
}

/// Whether Compose could run a probe read from Kubernetes manifests: a command, or an HTTP
/// check (for which the model may give Compose an equivalent command; manifests cannot say).
/// Compose cannot make TCP or gRPC checks.
fn runnable_by_compose(p: &ProbeFacts) -> Result<ProbeFacts, &'static str> {
    match p.kind.as_str() {
        "exec" | "http" => Ok(p.clone()),
        _ => Err("Compose can only run a command in the container"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The merged walk gives every key once, in order, with its value on each side: what
    /// collecting, sorting and deduplicating both maps' keys gave.
    #[test]
    fn union_walks_both_maps_in_order() {
        let a: BTreeMap<u32, &str> = [(1, "a1"), (3, "a3"), (4, "a4"), (9, "a9")].into();
        let b: BTreeMap<u32, &str> = [(0, "b0"), (3, "b3"), (5, "b5"), (9, "b9")].into();
        let got: Vec<(u32, Option<&str>, Option<&str>)> = union(&a, &b)
            .map(|(k, x, y)| (*k, x.copied(), y.copied()))
            .collect();
        let mut keys: Vec<&u32> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        let want: Vec<(u32, Option<&str>, Option<&str>)> = keys
            .into_iter()
            .map(|k| (*k, a.get(k).copied(), b.get(k).copied()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(union(&a, &BTreeMap::new()).count(), a.len());
        assert_eq!(
            union(&BTreeMap::<u32, u32>::new(), &BTreeMap::new()).count(),
            0
        );
    }

    fn facts(format: Format, probes: &[(ProbeKind, &str, &str, u32)]) -> Facts {
        let mut s = ServiceFacts {
            name: "db".into(),
            ..Default::default()
        };
        for (kind, how, target, delay) in probes {
            s.probes.insert(
                *kind,
                ProbeFacts {
                    kind: how.to_string(),
                    target: target.to_string(),
                    period: 10,
                    timeout: 1,
                    failure_threshold: 3,
                    initial_delay: *delay,
                },
            );
        }
        let mut f = Facts::new(format.as_str(), format);
        f.services = [("db".to_string(), s)].into_iter().collect();
        f
    }

    fn healthcheck_differences(c: &Comparison) -> Vec<String> {
        c.differences
            .iter()
            .filter(|d| {
                matches!(
                    d.key,
                    Key::Probe(ProbeKind::Healthcheck) | Key::ProbeTiming(ProbeKind::Healthcheck)
                )
            })
            .map(|d| format!("{}: {:?} -> {:?}", d.key, d.a, d.b))
            .collect()
    }

    /// The Compose backend makes the healthcheck from the liveness probe when the readiness
    /// probe is a TCP check; the diff reads the Kubernetes side by the same rule.
    #[test]
    fn kubernetes_probes_stand_for_the_healthcheck_compose_would_have() {
        let compose = facts(
            Format::Compose,
            &[(ProbeKind::Healthcheck, "exec", "pg_isready", 40)],
        );
        let k8s = facts(
            Format::Kubernetes,
            &[
                (ProbeKind::Readiness, "tcp", ":5432", 0),
                (ProbeKind::Liveness, "exec", "pg_isready", 0),
                (ProbeKind::Startup, "exec", "pg_isready", 10),
            ],
        );
        let c = compare(&compose, &k8s, &BTreeMap::new());
        assert_eq!(healthcheck_differences(&c), Vec::<String>::new());

        // Nothing Compose could run: no healthcheck stands for the probes.
        let blind = facts(
            Format::Kubernetes,
            &[(ProbeKind::Readiness, "tcp", ":5432", 0)],
        );
        let c = compare(&compose, &blind, &BTreeMap::new());
        assert_eq!(
            healthcheck_differences(&c),
            [
                "probes.healthcheck: Some(\"exec pg_isready\") -> None",
                "probes.healthcheck.timing: Some(\"period 10s, timeout 1s, failures 3, delay 40s\") -> None"
            ]
        );
    }
}
