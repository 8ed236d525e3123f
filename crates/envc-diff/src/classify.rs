//! Classifying differences: accepted (declared intended), expected (a profile sets the value,
//! or a reference resolves per mode), not representable (the format cannot express it), or
//! drift.

use envc_model::load::LoadedMode;
use envc_model::{Node, NodeValue, Origin, Sources};
use serde::{Deserialize, Serialize};

use crate::compare::{Class, Comparison, Difference, not_representable};
use crate::facts::{Facts, Format};
use crate::key::{Facet, JobField, Key, ProbeKind, ScheduleField, StepField};

/// A difference declared intended between two modes (a rule of `accepted.toml`).
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The two modes (either order); absent: any comparison.
    #[serde(default)]
    pub modes: Option<[String; 2]>,
    /// Environment; absent: every environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Service (or `*`).
    pub service: String,
    /// A facet (`replicas`) or a key or key prefix (`env.OTEL_RESOURCE_ATTRIBUTES`).
    pub key: String,
    /// The value on the first side the rule accepts (as printed); absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The value on the second side the rule accepts (as printed): a later, different change is
    /// drift again. Absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Why it is intended.
    pub reason: String,
    /// `file:line` where the rule is written (`accepted.toml:12`), filled in when loaded.
    #[serde(skip_deserializing, default)]
    pub at: String,
}

/// The accepted-differences file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedFile {
    /// Rules.
    #[serde(default)]
    pub accept: Vec<Accept>,
}

impl AcceptedFile {
    /// Parses the file; rule locations are `name:line`.
    pub fn parse(name: &str, text: &str) -> Result<AcceptedFile, String> {
        let mut f: AcceptedFile =
            toml::from_str(text).map_err(|e| format!("{name}: {}", e.to_string().trim()))?;
        // Locate each [[accept]] header in order.
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("[[accept]]"))
            .map(|(i, _)| i + 1)
            .collect();
        for (i, a) in f.accept.iter_mut().enumerate() {
            a.at = format!("{name}:{}", lines.get(i).copied().unwrap_or(0));
            let facet = a.key.split('.').next().unwrap_or_default();
            if !Facet::NAMES.contains(&facet) {
                let hint = envc_model::diagnostic::did_you_mean(facet, Facet::NAMES)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_else(|| format!(" (facets: {})", Facet::NAMES.join(", ")));
                return Err(format!(
                    "{}: unknown facet `{facet}` in key `{}`{hint}",
                    a.at, a.key
                ));
            }
        }
        Ok(f)
    }
}

/// Whether a rule is for this comparison (its modes and environment, when it names them).
fn applies(r: &Accept, env: Option<&str>, modes: Option<(&str, &str)>) -> bool {
    let modes_ok = match (&r.modes, modes) {
        (None, _) => true,
        (Some(m), Some((a, b))) => (m[0] == a && m[1] == b) || (m[0] == b && m[1] == a),
        (Some(_), None) => false,
    };
    let env_ok = match (&r.environment, env) {
        (Some(e), Some(env)) => e == env,
        _ => true,
    };
    modes_ok && env_ok
}

/// Rules of this comparison that name a service neither side has: an error (`file:line:
/// message`), with a did-you-mean hint.
pub fn unknown_services(c: &Comparison, ctx: &Context<'_>) -> Vec<String> {
    let modes = ctx.models.as_ref().map(|(a, b)| (a.mode, b.mode));
    // Services, and the objects read structurally (`volumes/pgdata`, `Namespace/shop`), which
    // a rule names the same way.
    let names: Vec<&str> = c
        .sides
        .iter()
        .flat_map(|f| {
            f.services
                .keys()
                .chain(f.objects.keys())
                .chain(f.duplicates.iter())
                .map(String::as_str)
        })
        .chain(c.differences.iter().map(|d| d.service.as_str()))
        .collect();
    ctx.accepted
        .iter()
        .filter(|r| applies(r, ctx.env, modes) && r.service != "*")
        .filter(|r| !names.contains(&r.service.as_str()))
        .map(|r| {
            let hint = envc_model::diagnostic::did_you_mean(&r.service, names.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!(
                "{}: unknown service or object `{}`: neither side has it{hint}",
                r.at, r.service
            )
        })
        .collect()
}

impl Accept {
    fn matches(&self, env: Option<&str>, modes: Option<(&str, &str)>, d: &Difference) -> bool {
        if let (Some(want), Some((a, b))) = (&self.modes, modes)
            && !((want[0] == a && want[1] == b) || (want[0] == b && want[1] == a))
        {
            return false;
        }
        if self.modes.is_some() && modes.is_none() {
            return false;
        }
        if let (Some(e), Some(env)) = (&self.environment, env)
            && e != env
        {
            return false;
        }
        let pinned = |want: &Option<String>, got: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| got.as_deref().unwrap_or("(none)") == w)
        };
        (self.service == "*" || self.service == d.service)
            && d.key.matches_rule(&self.key)
            && pinned(&self.from, &d.a)
            && pinned(&self.to, &d.b)
    }
}

/// One side's model, when the side was built from the model.
pub struct ModelSide<'a> {
    /// Mode name.
    pub mode: &'a str,
    /// The loaded mode (tree with provenance, decoded model).
    pub loaded: &'a LoadedMode,
    /// The mode's IR, for the backends' own rules.
    pub ir: &'a envc_core::Ir,
}

/// What classification may use.
pub struct Context<'a> {
    /// Format of side A.
    pub a_format: Format,
    /// Format of side B.
    pub b_format: Format,
    /// Both sides' models, for mode-to-mode comparisons.
    pub models: Option<(ModelSide<'a>, ModelSide<'a>)>,
    /// Source files (for locations).
    pub sources: Option<&'a Sources>,
    /// Accepted differences.
    pub accepted: &'a [Accept],
    /// Environment name, if known.
    pub env: Option<&'a str>,
}

/// Classifies every difference in place; returns the accepted rules that matched nothing
/// (stale).
pub fn classify(c: &mut Comparison, ctx: &Context<'_>) -> Vec<Accept> {
    let modes = ctx.models.as_ref().map(|(a, b)| (a.mode, b.mode));
    let sides = &c.sides;
    // Each difference is classified on its own: a large comparison's in two halves at once.
    let used_by_half = crate::split::in_halves_mut(
        crate::split::Split::BySize,
        &mut c.differences,
        PARALLEL_DIFFERENCES,
        |half| {
            let mut used = vec![false; ctx.accepted.len()];
            for d in half {
                if let Some(i) = classify_one(d, ctx, sides, modes) {
                    used[i] = true;
                }
            }
            used
        },
    );
    let used = (0..ctx.accepted.len()).map(|i| used_by_half.iter().any(|u| u[i]));
    ctx.accepted
        .iter()
        .zip(used)
        .filter(|(r, used)| {
            !used
                && r.modes.as_ref().is_none_or(|m| {
                    modes.is_some_and(|(a, b)| (m[0] == a && m[1] == b) || (m[0] == b && m[1] == a))
                })
        })
        .map(|(r, _)| r.clone())
        .collect()
}

/// Differences from which classification is split over two threads.
const PARALLEL_DIFFERENCES: usize = 2000;

/// Classifies one difference in place; the index of the accepted rule it matched, if any.
fn classify_one(
    d: &mut Difference,
    ctx: &Context<'_>,
    sides: &[Facts; 2],
    modes: Option<(&str, &str)>,
) -> Option<usize> {
    if let Some(i) = ctx
        .accepted
        .iter()
        .position(|r| r.matches(ctx.env, modes, d))
    {
        d.class = Class::Accepted;
        d.reason = ctx.accepted[i].reason.clone();
        d.at = Some(ctx.accepted[i].at.clone());
        return Some(i);
    }
    if moved_into_secret(d) {
        d.class = Class::MovedIntoSecret;
        d.reason = "the same value: plain on one side, read from a secret on the other".into();
        return None;
    }
    let profiles = ctx.models.as_ref().map(|(a, b)| {
        [
            (a.mode, &a.loaded.profile_tree),
            (b.mode, &b.loaded.profile_tree),
        ]
    });
    let formats_differ = ctx.a_format != ctx.b_format;
    if let Some((representable, reason, at)) =
        crate::monitor::classify(d, formats_differ, profiles, ctx.sources)
    {
        d.class = if representable {
            Class::Expected
        } else {
            Class::NotRepresentable
        };
        d.reason = reason;
        d.at = at;
        return None;
    }
    if let Some((reason, at)) = ctx.models.as_ref().and_then(|(a, b)| {
        crate::secret_source::expected([&secret_side(a), &secret_side(b)], ctx.sources, d)
    }) {
        d.class = Class::Expected;
        d.reason = reason;
        d.at = at;
        return None;
    }
    if let Some(reason) = shaped_by_modes(ctx, d) {
        d.class = Class::Expected;
        d.reason = reason;
        return None;
    }
    if let Some((a, b)) = &ctx.models
        && let Some((reason, at)) = expected(a, b, ctx.sources, d)
    {
        d.class = Class::Expected;
        d.reason = reason;
        d.at = at;
        return None;
    }
    if let Some((a, b)) = &ctx.models
        && let Some(reason) = healthcheck_not_representable(a, b, ctx, d)
    {
        d.class = Class::NotRepresentable;
        d.reason = reason;
        return None;
    }
    if let Some(reason) = pod_shape(sides, d) {
        d.class = Class::NotRepresentable;
        d.reason = reason;
        return None;
    }
    if let Some(reason) = representability(ctx.a_format, ctx.b_format, d) {
        d.class = Class::NotRepresentable;
        d.reason = reason;
        return None;
    }
    d.class = Class::Drift;
    d.reason = match (&d.a, &d.b) {
        (Some(_), None) => "only on side A".into(),
        (None, Some(_)) => "only on side B".into(),
        _ => "values differ".into(),
    };
    None
}

/// A side as the secret facts' classification reads it.
fn secret_side<'a>(m: &ModelSide<'a>) -> crate::secret_source::Side<'a> {
    crate::secret_source::Side {
        mode: m.mode,
        loaded: m.loaded,
        ir: m.ir,
    }
}

/// One side is a secret whose value is the other side's plain text. The plain side is then
/// shown as that secret too: the value is a secret on the other side, so it is not printed.
fn moved_into_secret(d: &mut Difference) -> bool {
    let whole = |v: &Option<String>| {
        v.as_deref()
            .and_then(|v| v.strip_prefix("<secret:"))
            .and_then(|v| v.strip_suffix('>'))
            .filter(|id| !id.contains('<'))
            .map(String::from)
    };
    let plain = |v: &Option<String>| v.clone().filter(|v| !v.contains("<secret:"));
    for (secret, other) in [(whole(&d.a), plain(&d.b)), (whole(&d.b), plain(&d.a))] {
        if let (Some(id), Some(text)) = (secret, other)
            && crate::secret::id(text.as_bytes()) == id
        {
            let marker = crate::secret::marker(text.as_bytes());
            d.a = Some(marker.clone());
            d.b = Some(marker);
            return true;
        }
    }
    false
}

/// Between two modes of one format, both built from the model, cluster objects are what each
/// mode's backend and tier make of the model's namespaces (a prod tier adds disruption
/// budgets, a Helm chart its own network policies): they show, as expected, and an edit to
/// them shows as drift against the files (`--against`).
fn shaped_by_modes(ctx: &Context<'_>, d: &Difference) -> Option<String> {
    let (a, b) = ctx.models.as_ref()?;
    (ctx.a_format == ctx.b_format && matches!(d.key, Key::Object | Key::ObjectField(_))).then(|| {
        format!(
            "cluster objects follow each mode's backend and tier ({} {}, {} {}); compare a mode with its files (`--against`) to see edits",
            a.mode,
            tier_name(a),
            b.mode,
            tier_name(b)
        )
    })
}

/// A service the Compose backend gives no healthcheck (its probes have no command Compose could
/// run: images without a shell or HTTP client, such as the OpenTelemetry collector's) has none
/// to compare with the probe Kubernetes checks. Kubernetes manifests do not show whether an
/// HTTP probe has a command for Compose, so the Compose side's IR answers, by the backend's
/// own rule.
fn healthcheck_not_representable(
    a: &ModelSide<'_>,
    b: &ModelSide<'_>,
    ctx: &Context<'_>,
    d: &Difference,
) -> Option<String> {
    let (Key::Probe(ProbeKind::Healthcheck) | Key::ProbeTiming(ProbeKind::Healthcheck)) = d.key
    else {
        return None;
    };
    if ctx.a_format == ctx.b_format {
        return None;
    }
    let (compose_side, missing) = if ctx.a_format == Format::Compose {
        (a, d.a.is_none())
    } else {
        (b, d.b.is_none())
    };
    if !missing {
        return None;
    }
    envc_emit::compose::services_without_healthcheck(compose_side.ir)
        .iter()
        .any(|(service, _)| *service == d.service)
        .then(|| "its probes have no command Compose could run (set `command` on the http probe when the image has a client)".into())
}

/// Differences in how jobs run, which each format expresses its own way: a Helm hook instead
/// of wait containers, a Compose one-shot service instead of a Job, Kubernetes' one restart
/// policy for long-running workloads. The rules read other facts of the two sides.
fn pod_shape(sides: &[Facts; 2], d: &Difference) -> Option<String> {
    let values = [&d.a, &d.b];
    // The side that lacks the fact, and the other.
    let lacking = values.iter().position(|v| v.is_none());
    let service = |side: usize, name: &str| sides[side].services.get(name);
    match &d.key {
        Key::DependsOn(job) => {
            let side = lacking?;
            service(side, job)
                .and_then(|j| j.job.as_ref())
                .is_some_and(|j| j.before)
                .then(|| {
                    format!(
                        "in {} {job} is a Helm pre-install,pre-upgrade hook: it runs to completion before the release's workloads start, so nothing waits for it",
                        sides[side].label
                    )
                })
        }
        Key::Job(JobField::Run) => {
            let side = lacking?;
            let other = 1 - side;
            (sides[side].format == Format::Kubernetes
                && sides[other].format == Format::Kubernetes
                && !sides[side].helm)
                .then(|| {
                    "Kubernetes manifests without Helm have no hooks: the job starts with the workloads, and its dependents wait for it with an init container running `kubectl wait`".to_string()
                })
        }
        Key::Workload => {
            let side = lacking?;
            let s = service(side, &d.service)?;
            let one_shot = s
                .restart
                .as_deref()
                .is_some_and(|r| r == "no" || r.starts_with("on-failure"));
            if sides[side].format != Format::Compose
                || sides[1 - side].format != Format::Kubernetes
                || !one_shot
            {
                return None;
            }
            Some(match values[1 - side].as_deref() {
                Some("cronjob") => "Compose has no scheduler: a cron job is a one-shot service (restart \"no\") labelled `envc.dev/schedule`, run with `docker compose run --rm`; Kubernetes runs it as a CronJob".into(),
                _ => "Compose has no job kind: a job is a one-shot service (restart \"no\") that dependents wait for with `service_completed_successfully`, and none waits for this one; Kubernetes runs it as a Job".into(),
            })
        }
        Key::Volume(path) => {
            let compose = sides.iter().position(|f| f.format == Format::Compose)?;
            let shared = service(compose, &d.service)
                .and_then(|s| s.volumes.get(path))
                .is_some_and(|v| v.shared);
            (shared
                && sides[1 - compose].format == Format::Kubernetes
                && values[compose].as_deref() == Some("persistent")
                && values[1 - compose].as_deref() == Some("scratch"))
            .then(|| {
                "Compose cannot share a tmpfs between containers: a scratch volume that init steps or sidecars mount is a named volume there (in Kubernetes an emptyDir the pod's containers share)".into()
            })
        }
        Key::VolumeSize(_) => {
            let compose = sides.iter().position(|f| f.format == Format::Compose)?;
            let bind = values[compose]
                .as_deref()
                .is_some_and(|v| v.starts_with("bind "));
            (bind && sides[1 - compose].format == Format::Kubernetes).then(|| {
                "a bind mount of a host folder has no size: a dev Compose mode bind-mounts the project folder a mount names in `source`, where Kubernetes mounts a claim (the environment volume the mount names in `volume`, or a volume of its own)".into()
            })
        }
        Key::Restart => {
            let (a, b) = (d.a.as_deref()?, d.b.as_deref()?);
            let k8s = sides.iter().position(|f| f.format == Format::Kubernetes)?;
            if sides[1 - k8s].format != Format::Compose {
                return None;
            }
            let long_running = service(k8s, &d.service).is_some_and(|s| s.job_kind.is_none());
            let compose = if k8s == 0 { b } else { a };
            (long_running && [a, b][k8s] == "always").then(|| {
                format!(
                    "Kubernetes always restarts a long-running workload's containers (restartPolicy Always is the only one a Deployment or StatefulSet allows); Compose's `{compose}` has no counterpart"
                )
            })
        }
        _ => None,
    }
}

fn representability(a: Format, b: Format, d: &Difference) -> Option<String> {
    if a == b {
        return None;
    }
    // Kubernetes can wait for a job: an init container running `kubectl wait` does.
    if matches!(d.key, Key::DependsOn(_))
        && [&d.a, &d.b]
            .iter()
            .any(|v| v.as_deref() == Some("completed"))
    {
        return None;
    }
    if d.a.is_none()
        && let Some(r) = not_representable(a, &d.key)
    {
        return Some(r.to_string());
    }
    if d.b.is_none()
        && let Some(r) = not_representable(b, &d.key)
    {
        return Some(r.to_string());
    }
    match &d.key {
        Key::Namespace => not_representable(a, &d.key)
            .or(not_representable(b, &d.key))
            .map(String::from),
        // Compose runs commands for health; Kubernetes probes HTTP and TCP itself.
        Key::Probe(_) => {
            let kinds: Vec<&str> = [&d.a, &d.b]
                .iter()
                .filter_map(|v| v.as_deref())
                .filter_map(|v| v.split(' ').next())
                .collect();
            (kinds.len() == 2 && kinds[0] != kinds[1] && kinds.contains(&"exec")).then(|| {
                "Compose runs the probe's command where Kubernetes checks HTTP or TCP itself".into()
            })
        }
        _ => None,
    }
}

/// Model paths that produce a fact key of a service.
fn model_paths(loaded: &LoadedMode, service: &str, key: &Key) -> Vec<Vec<String>> {
    let base = |rest: &[&str]| -> Vec<String> {
        ["services", service]
            .iter()
            .chain(rest.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let svc = loaded.model.services.get(service);
    match key {
        Key::Service => vec![base(&["enabled"]), base(&["external"])],
        Key::Image => vec![base(&["image"])],
        Key::Command => vec![base(&["command"])],
        Key::Args => vec![base(&["args"])],
        Key::Env(name) => vec![base(&["env", name])],
        Key::Replicas => vec![base(&["replicas"]), base(&["autoscaling"])],
        Key::Autoscaling => vec![base(&["autoscaling"])],
        Key::Resource(_) => vec![base(&["resources"])],
        Key::Security(_) => vec![base(&["security"])],
        Key::DependsOn(_) => vec![base(&["depends_on"])],
        Key::Probe(kind) | Key::ProbeTiming(kind) => vec![base(&["probes", kind.as_str()])],
        Key::Port(port) | Key::PortField(port, _) => {
            let field = match key {
                Key::PortField(_, f) => Some(f.as_str()),
                _ => None,
            };
            svc.map(|s| &s.ports)
                .into_iter()
                .flatten()
                .filter(|(_, p)| p.container == port.number)
                .map(|(pname, _)| match field {
                    Some(f) => base(&["ports", pname, f]),
                    None => base(&["ports", pname]),
                })
                .collect()
        }
        Key::Exposure(_) | Key::Route(..) => svc
            .map(|s| &s.ports)
            .into_iter()
            .flatten()
            .map(|(pname, _)| base(&["ports", pname, "ingress"]))
            .collect(),
        Key::Volume(path)
        | Key::VolumeSize(path)
        | Key::VolumeClass(path)
        | Key::VolumeAccess(path) => svc
            .map(|s| &s.volumes)
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.path == *path)
            .map(|(n, _)| base(&["volumes", n]))
            .collect(),
        Key::File(path) => svc
            .map(|s| &s.files)
            .into_iter()
            .flatten()
            .filter(|(_, f)| f.path == *path)
            .map(|(n, _)| base(&["files", n]))
            .collect(),
        Key::Namespace | Key::Profiles => Vec::new(),
        Key::Workload => vec![base(&["workload"])],
        Key::Restart => vec![base(&["restart"])],
        Key::Job(field) => vec![base(&["job", field.as_str()])],
        Key::Schedule(field) => {
            let name = match field {
                ScheduleField::Cron => "schedule",
                other => other.as_str(),
            };
            vec![base(&["job", name])]
        }
        // Structural lines, objects and duplicates have no one place in the model.
        Key::Field(_) | Key::Object | Key::ObjectField(_) | Key::Duplicate => Vec::new(),
        Key::InitOrder => vec![base(&["init"])],
        Key::Init(step, field) => vec![step_path(base(&["init", step]), field)],
        Key::Sidecar(side, field) => vec![step_path(base(&["sidecars", side]), field)],
    }
}

/// The model path of an init step's or sidecar's field under the step's path.
fn step_path(mut path: Vec<String>, field: &StepField) -> Vec<String> {
    match field {
        StepField::Image => path.push("image".into()),
        StepField::Command => path.push("command".into()),
        StepField::Args => path.push("args".into()),
        StepField::Env(name) => path.extend(["env".to_string(), name.clone()]),
    }
    path
}

/// The first leaf under `node` that a profile file set.
fn profile_leaf(node: &Node, profile_files: &[envc_model::FileId]) -> Option<Origin> {
    match &node.value {
        NodeValue::Table(t) => t.values().find_map(|e| {
            if profile_files.contains(&e.key_origin.file)
                && !matches!(e.node.value, NodeValue::Table(_))
            {
                return Some(e.node.origin);
            }
            profile_leaf(&e.node, profile_files)
        }),
        _ => profile_files
            .contains(&node.origin.file)
            .then_some(node.origin),
    }
}

/// Where the model sets the value a difference is about, on a side built from the model:
/// `file:line`, and for a value taken from a template also the service's `extends` line, so a
/// changed template shows on every service that extends it with both lines named.
pub fn model_location(side: &ModelSide<'_>, sources: &Sources, d: &Difference) -> Option<String> {
    model_paths(side.loaded, &d.service, &d.key)
        .iter()
        .find_map(|path| side.loaded.tree.lookup(path))
        .map(|n| sources.file_line(n.origin))
}

fn location(sources: Option<&Sources>, o: Origin) -> Option<String> {
    sources.map(|s| s.file_line(o))
}

/// The model's env value of a service on one side.
fn model_env<'m>(
    s: &'m ModelSide<'_>,
    service: &str,
    name: &str,
) -> Option<&'m envc_model::model::EnvValue> {
    s.loaded.model.services.get(service)?.env.get(name)
}

fn tier_name(s: &ModelSide<'_>) -> &'static str {
    s.loaded.profile.profile.tier.as_str()
}

/// A claim's storage class or access modes that differ between two modes where the model leaves
/// them to the modes' Kubernetes settings (`kubernetes.storage_class`,
/// `kubernetes.shared_volume_access`): the profile line that sets them.
fn claim_setting(
    a: &ModelSide<'_>,
    b: &ModelSide<'_>,
    sources: Option<&Sources>,
    d: &Difference,
) -> Option<(String, Option<String>)> {
    let (setting, path) = match &d.key {
        Key::VolumeClass(p) => ("storage_class", p),
        Key::VolumeAccess(p) => ("shared_volume_access", p),
        _ => return None,
    };
    // Between formats, a class on one side only is Compose's lack of one (not representable).
    if d.a.is_none() || d.b.is_none() {
        return None;
    }
    // Access modes are the profile's only for a shared volume (ReadWriteMany where allowed).
    if setting == "shared_volume_access"
        && ![&d.a, &d.b]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.contains("ReadWriteMany")))
    {
        return None;
    }
    // An environment volume's own class, set by a profile (`[environments.<env>.volumes]`).
    for side in [a, b] {
        let profiles = &side.loaded.source_files[1.min(side.loaded.source_files.len())..];
        let env_volume = side
            .loaded
            .model
            .services
            .get(&d.service)
            .and_then(|s| s.volumes.values().find(|v| v.path == *path))
            .and_then(|v| v.volume.clone());
        if let Some(ev) = env_volume
            && setting == "storage_class"
            && let Some(n) = side.loaded.tree.lookup(&["volumes", &ev, "storage_class"])
            && profiles.contains(&n.origin.file)
        {
            return Some((
                format!("set by the {} profile (volume {ev})", side.mode),
                location(sources, n.origin),
            ));
        }
    }
    for side in [a, b] {
        if let Some(n) = side.loaded.profile_tree.lookup(&["kubernetes", setting]) {
            return Some((
                format!("set by the {} profile (kubernetes.{setting})", side.mode),
                location(sources, n.origin),
            ));
        }
    }
    Some((
        format!(
            "each mode's Kubernetes settings give its claims' {} (kubernetes.{setting})",
            if setting == "storage_class" {
                "storage class"
            } else {
                "access modes"
            }
        ),
        None,
    ))
}

fn expected(
    a: &ModelSide<'_>,
    b: &ModelSide<'_>,
    sources: Option<&Sources>,
    d: &Difference,
) -> Option<(String, Option<String>)> {
    // A route both modes serve, served another way: the profile's routing settings; a route
    // one mode serves under another host: the ingress host.
    if let Some(found) = crate::route::setting(
        [(a.mode, a.loaded), (b.mode, b.loaded)],
        sources,
        &d.key,
        d.a.is_some() && d.b.is_some(),
    ) {
        return Some(found);
    }
    for side in [a, b] {
        let profiles: Vec<envc_model::FileId> =
            side.loaded.source_files.iter().skip(1).copied().collect();
        for path in model_paths(side.loaded, &d.service, &d.key) {
            let node = side.loaded.tree.lookup(&path);
            let origin = match node {
                Some(n) => profile_leaf(n, &profiles),
                None => None,
            };
            if let Some(o) = origin {
                return Some((
                    format!("set by the {} profile", side.mode),
                    location(sources, o),
                ));
            }
        }
    }
    if let Some(found) = claim_setting(a, b, sources, d) {
        return Some(found);
    }

    // The same model text resolves differently per mode (`${mode.name}`, hosts, ports).
    if let Key::Env(name) = &d.key {
        let name = name.as_str();
        // A secret's value belongs to the tier: dev modes carry a dev value, prod modes a
        // reference to a Secret created at deploy time.
        let secret = |s: &ModelSide<'_>| match model_env(s, &d.service, name) {
            Some(envc_model::model::EnvValue::Secret(r)) => Some(r.secret.clone()),
            Some(envc_model::model::EnvValue::Text(t)) if t.contains("${secret.") => {
                Some(t.clone())
            }
            _ => None,
        };
        if a.loaded.profile.profile.tier != b.loaded.profile.profile.tier
            && let (Some(sa), Some(sb)) = (secret(a), secret(b))
            && sa == sb
        {
            let o = a
                .loaded
                .tree
                .origin_of(&["services", &d.service, "env", name]);
            return Some((
                format!(
                    "a secret: dev modes carry a dev value, prod modes ({}) a Secret created at deploy time",
                    if tier_name(a) == "prod" {
                        a.mode
                    } else {
                        b.mode
                    }
                ),
                location(sources, o),
            ));
        }
        let text = |s: &ModelSide<'_>| match model_env(s, &d.service, name) {
            Some(envc_model::model::EnvValue::Text(t)) => Some(t.clone()),
            _ => None,
        };
        if let (Some(ta), Some(tb)) = (text(a), text(b))
            && ta == tb
            && ta.contains("${")
        {
            let o = a
                .loaded
                .tree
                .origin_of(&["services", &d.service, "env", name]);
            return Some((format!("`{ta}` resolves per mode"), location(sources, o)));
        }
    }
    // A template rendered per mode.
    if let Key::File(path) = &d.key
        && let Some((fname, f)) = a
            .loaded
            .model
            .services
            .get(&d.service)
            .and_then(|s| s.files.iter().find(|(_, f)| f.path == *path))
        && let Some(t) = &f.template
    {
        let o = a
            .loaded
            .tree
            .origin_of(&["services", &d.service, "files", fname, "template"]);
        // The build read the template into the sources; the library reads no files itself.
        let path = a.loaded.env_dir.join(t);
        let text = sources
            .and_then(|s| s.find(&path).map(|id| s.get(id).text.as_str()))
            .unwrap_or_default();
        if text.contains("mode.") {
            return Some((
                format!("template {t} renders per mode"),
                location(sources, o),
            ));
        }
    }
    None
}
