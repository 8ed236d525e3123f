//! Gates: the checks a promotion must pass before anything is written. Each failure names the
//! gate, the service (when one is at fault), the reason and the fix.

use envc_core::Ir;
use envc_core::validate::{Pin, image_pin};
use envc_emit::Artifact;
use envc_model::diagnostic::did_you_mean;
use envc_model::model::literal_is_credential;
use envc_model::profile::{Backend, PromotionSettings};
use envc_model::{Diagnostics, Node, NodeValue};
use schemars::JsonSchema;
use serde::Serialize;

use envc_lock::release::{Action, Change, Release, SHARED_UNIT, split_digest};

/// A gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// The target's profile allows promotions from the source (`[promotion] from`).
    SourceAllowed,
    /// The source's committed artifacts equal a fresh build of it.
    SourceUpToDate,
    /// Every promoted image is pinned by a version tag or a digest.
    PinnedImage,
    /// Every promoted image runs in the source's committed artifacts.
    VerifiedImage,
    /// No dev secret value or credential literal reaches the target.
    DevSecret,
    /// The target's `[promotion]` requirements hold after the promotion.
    ProdRequirements,
    /// The target builds and validates with the promoted lock.
    TargetBuilds,
}

impl Gate {
    /// Every gate, in the order they are reported.
    pub const ALL: [Gate; 7] = [
        Gate::SourceAllowed,
        Gate::SourceUpToDate,
        Gate::PinnedImage,
        Gate::VerifiedImage,
        Gate::DevSecret,
        Gate::ProdRequirements,
        Gate::TargetBuilds,
    ];

    /// The gate's name.
    pub fn id(self) -> &'static str {
        match self {
            Gate::SourceAllowed => "source-allowed",
            Gate::SourceUpToDate => "source-up-to-date",
            Gate::PinnedImage => "pinned-image",
            Gate::VerifiedImage => "verified-image",
            Gate::DevSecret => "dev-secret",
            Gate::ProdRequirements => "prod-requirements",
            Gate::TargetBuilds => "target-builds",
        }
    }

    /// What the gate checks, in a few words.
    pub fn checks(self) -> &'static str {
        match self {
            Gate::SourceAllowed => "the target's profile allows promotions from the source",
            Gate::SourceUpToDate => "the source's committed artifacts equal a fresh build",
            Gate::PinnedImage => "promoted images are pinned by version tag or digest",
            Gate::VerifiedImage => "promoted images run in the source's committed artifacts",
            Gate::DevSecret => "no dev secret value or credential literal reaches the target",
            Gate::ProdRequirements => "the target profile's [promotion] requirements hold",
            Gate::TargetBuilds => "the target builds and validates with the promoted lock",
        }
    }
}

/// A gate that failed, for one service or for the whole promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Failure {
    /// The gate.
    pub gate: Gate,
    /// The service at fault; null when the whole promotion is.
    pub service: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// How to fix it.
    pub fix: String,
}

impl Failure {
    /// A failure.
    pub fn new(
        gate: Gate,
        service: Option<&str>,
        reason: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Failure {
            gate,
            service: service.map(String::from),
            reason: reason.into(),
            fix: fix.into(),
        }
    }
}

/// Units the promotion adds or updates (gates look at what changes).
fn incoming(changes: &[Change]) -> impl Iterator<Item = &Change> {
    changes
        .iter()
        .filter(|c| c.action != Action::Remove && c.unit != SHARED_UNIT)
}

/// `source-allowed`: `[promotion] from` of the target names the source mode (a lock file
/// counts as the mode it locks; the target's own lock, a rollback, is always allowed).
pub fn source_allowed(
    source_mode: &str,
    target: &str,
    settings: &PromotionSettings,
) -> Vec<Failure> {
    if settings.from.is_empty()
        || source_mode == target
        || settings.from.iter().any(|m| m == source_mode)
    {
        return Vec::new();
    }
    vec![Failure::new(
        Gate::SourceAllowed,
        None,
        format!(
            "the {target} profile allows promotions from {} only, not from {source_mode}",
            settings.from.join(", ")
        ),
        format!(
            "promote through one of those modes (`envc promote {} {target}`), or add `{source_mode}` to `[promotion] from` of the {target} profile",
            settings.from[0]
        ),
    )]
}

/// `pinned-image`: every incoming image that the target deploys is pinned by a version tag or
/// a digest (a service the target replaces by a managed one runs no image there).
pub fn pinned_images(
    candidate: &Release,
    changes: &[Change],
    source: &str,
    target_deploys: &dyn Fn(&str) -> bool,
) -> Vec<Failure> {
    let mut out = Vec::new();
    for c in incoming(changes).filter(|c| target_deploys(&c.unit)) {
        let Some(s) = candidate.services.get(&c.unit) else {
            continue;
        };
        let image = s.reference();
        let why = match image_pin(&image) {
            Pin::Latest => format!("image `{image}` is not pinned (`latest`, or no tag)"),
            Pin::Floating => {
                format!("image `{image}` has a floating tag that moves between releases")
            }
            Pin::Version | Pin::Digest => continue,
        };
        out.push(Failure::new(
            Gate::PinnedImage,
            Some(&c.unit),
            why,
            format!(
                "pin a version tag or a digest in the model (`repo:1.2.3` or `repo@sha256:…`), rebuild and verify {source}, then promote again"
            ),
        ));
    }
    out
}

/// What the source of a promotion is, for `verified-image`.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A mode, with its fresh build (`None` when it does not build) and its committed
    /// artifact files (path, bytes), empty when it was never built.
    Mode {
        /// Mode name.
        name: &'a str,
        /// Its IR, when it builds.
        ir: Option<&'a Ir>,
        /// Its committed artifacts.
        committed: &'a [(String, Vec<u8>)],
        /// Where they are (`out/<env>/<mode>`).
        dir: &'a str,
    },
    /// An earlier lock (a rollback, or another prod mode's lock): its images ran where it was
    /// deployed.
    Lock,
}

/// `verified-image`: every incoming image that the target deploys runs in the source's
/// committed artifacts, in the service promoted.
pub fn verified_images(
    candidate: &Release,
    changes: &[Change],
    source: Source<'_>,
    target_deploys: &dyn Fn(&str) -> bool,
) -> Vec<Failure> {
    let Source::Mode {
        name,
        ir,
        committed,
        dir,
    } = source
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in incoming(changes) {
        let Some(s) = candidate.services.get(&c.unit) else {
            continue;
        };
        if !target_deploys(&c.unit) {
            continue;
        }
        let fail = |reason: String, fix: String| {
            Failure::new(Gate::VerifiedImage, Some(&c.unit), reason, fix)
        };
        let rebuild =
            format!("run `envc build --target {name}`, verify {name}, commit {dir}, then promote");
        let Some(ir) = ir else {
            out.push(fail(
                format!(
                    "{name} does not build, so `{}` was never verified there",
                    s.image
                ),
                format!("fix {name} first (`envc check --target {name}`)"),
            ));
            continue;
        };
        match ir.service(&c.unit) {
            None => out.push(fail(
                format!(
                    "{name} does not run `{}` (the service is disabled there)",
                    c.unit
                ),
                format!("promote from a mode that runs it, or enable it in {name}"),
            )),
            Some(svc) if !svc.is_deployed() => out.push(fail(
                format!(
                    "{name} replaces `{}` with a managed service, so `{}` never ran there",
                    c.unit, s.image
                ),
                "promote it from a mode that deploys it".to_string(),
            )),
            Some(svc) if split_digest(&svc.image).0 != s.image => out.push(fail(
                format!(
                    "{name} runs `{}`, not `{}` (its profile overrides the image)",
                    svc.image, s.image
                ),
                format!("promote from a mode that runs `{}`", s.image),
            )),
            Some(_) => {
                let seen = committed
                    .iter()
                    .any(|(_, bytes)| contains_reference(bytes, s.image.as_bytes()));
                if !seen {
                    out.push(fail(
                        format!(
                            "`{}` is not in {name}'s committed artifacts ({dir})",
                            s.image
                        ),
                        rebuild.clone(),
                    ));
                }
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether an image reference appears whole (`redis:7.4.11` is not in `redis:7.4.11-alpine`).
fn contains_reference(hay: &[u8], image: &[u8]) -> bool {
    let n = image.len();
    !image.is_empty()
        && (0..hay.len().saturating_sub(n - 1)).any(|i| {
            hay[i..i + n] == *image
                && hay
                    .get(i + n)
                    .is_none_or(|c| matches!(c, b'"' | b'\'' | b'\n' | b'\r' | b' ' | b'@' | b','))
                && (i == 0 || matches!(hay[i - 1], b'"' | b'\'' | b' ' | b':' | b'='))
        })
}

/// Dev secret values to look for: (secret name, value), values of at least four characters.
pub type DevValues = [(String, String)];

/// `dev-secret` on the promoted configuration: no string in an incoming unit's definition or
/// templates contains a dev secret value, no env variable named like a credential holds a
/// literal, and no URL carries a literal password.
pub fn dev_secrets(candidate: &Release, changes: &[Change], dev: &DevValues) -> Vec<Failure> {
    let mut out = Vec::new();
    let fix = "reference the secret instead (`{ secret = \"<name>\" }`, or `${secret.<name>}` inside a value): prod modes read it from a Secret created at deploy time";
    let scan = |unit: &str, what: &str, text: &str, out: &mut Vec<Failure>| {
        for (name, value) in dev {
            if value.len() >= 4 && text.contains(value.as_str()) {
                out.push(Failure::new(
                    Gate::DevSecret,
                    (unit != SHARED_UNIT).then_some(unit),
                    format!("{what} holds the dev value of secret `{name}`"),
                    fix,
                ));
            }
        }
    };
    for c in changes.iter().filter(|c| c.action != Action::Remove) {
        if c.unit == SHARED_UNIT {
            if let Some(s) = &candidate.shared {
                walk(&s.definition, &mut Vec::new(), &mut |path, text| {
                    scan(SHARED_UNIT, &format!("`{path}`"), text, &mut out)
                });
            }
            continue;
        }
        let Some(s) = candidate.services.get(&c.unit) else {
            continue;
        };
        walk(&s.definition, &mut Vec::new(), &mut |path, text| {
            scan(&c.unit, &format!("`{path}`"), text, &mut out)
        });
        for (path, text) in &s.templates {
            scan(&c.unit, &format!("template {path}"), text, &mut out);
        }
        for (k, e) in s
            .definition
            .get("env")
            .and_then(Node::as_table)
            .into_iter()
            .flatten()
        {
            let Some(v) = e.node.as_str() else { continue };
            let literal = !v.is_empty() && !is_only_references(v);
            if literal && literal_is_credential(k, v) {
                out.push(Failure::new(
                    Gate::DevSecret,
                    Some(&c.unit),
                    format!("env `{k}` looks like a credential but holds a literal value"),
                    fix,
                ));
            } else if let Some(user) = url_password(v) {
                out.push(Failure::new(
                    Gate::DevSecret,
                    Some(&c.unit),
                    format!("env `{k}` holds a URL with a literal password for `{user}`"),
                    fix,
                ));
            }
        }
    }
    out
}

/// Every string leaf of a node with its dotted path.
fn walk(node: &Node, path: &mut Vec<String>, f: &mut dyn FnMut(&str, &str)) {
    match &node.value {
        NodeValue::String(s) => f(&path.join("."), s),
        NodeValue::Array(a) => {
            for (i, n) in a.iter().enumerate() {
                path.push(i.to_string());
                walk(n, path, f);
                path.pop();
            }
        }
        NodeValue::Table(t) => {
            for (k, e) in t.iter() {
                path.push(k.clone());
                walk(&e.node, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_only_references(v: &str) -> bool {
    let mut rest = v;
    while !rest.is_empty() {
        let Some(r) = rest.strip_prefix("${") else {
            return false;
        };
        let Some(end) = r.find('}') else {
            return false;
        };
        rest = &r[end + 1..];
    }
    true
}

/// The user of a `scheme://user:password@host` URL whose password is a literal (not a
/// `${...}` reference).
fn url_password(v: &str) -> Option<String> {
    let (_, rest) = v.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    (!password.is_empty() && !is_only_references(password)).then(|| user.to_string())
}

/// `dev-secret` on the target's artifacts: none contains a dev secret value.
pub fn artifact_secrets(
    artifacts: &[Artifact],
    services: &[String],
    dev: &DevValues,
) -> Vec<Failure> {
    let mut out = Vec::new();
    for a in artifacts {
        for (name, value) in dev {
            if value.len() >= 4 && contains(&a.bytes, value.as_bytes()) {
                let stem = a
                    .path
                    .rsplit('/')
                    .next()
                    .and_then(|f| f.split('.').next())
                    .unwrap_or_default();
                let service = services.iter().find(|s| s.as_str() == stem);
                out.push(Failure::new(
                    Gate::DevSecret,
                    service.map(String::as_str),
                    format!("{} would carry the dev value of secret `{name}`", a.path),
                    "prod artifacts reference Secrets created at deploy time: find where the value is written in the model and reference the secret there",
                ));
            }
        }
    }
    out
}

/// `prod-requirements`: what the target profile's `[promotion]` table requires of the target
/// as it would be after the promotion.
pub fn requirements(ir: &Ir, settings: &PromotionSettings, profile: &str) -> Vec<Failure> {
    let mut out = Vec::new();
    let names: Vec<&str> = ir.services.iter().map(|s| s.name.as_str()).collect();
    let unknown = |svc: &str, key: &str| {
        let hint = did_you_mean(svc, names.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Failure::new(
            Gate::ProdRequirements,
            Some(svc),
            format!(
                "`[promotion] {key}` names `{svc}`, which {} does not run{hint}",
                ir.mode
            ),
            format!("correct the name in {profile}"),
        )
    };
    for (svc, min) in &settings.min_replicas {
        match ir.service(svc) {
            None => out.push(unknown(svc, "min_replicas")),
            Some(s) if !s.is_deployed() => {}
            Some(s) if s.replicas < *min => out.push(Failure::new(
                Gate::ProdRequirements,
                Some(svc),
                format!(
                    "runs {} replica{} at least, {profile} requires {min}",
                    s.replicas,
                    if s.replicas == 1 { "" } else { "s" }
                ),
                format!(
                    "set `replicas` (or `autoscaling.min`) of `{svc}` to {min} or more in {profile}"
                ),
            )),
            Some(_) => {}
        }
    }
    for svc in &settings.require_pdb {
        match ir.service(svc) {
            None => out.push(unknown(svc, "require_pdb")),
            Some(s) if !s.is_deployed() => {}
            Some(_) if ir.backend != Backend::Helm => out.push(Failure::new(
                Gate::ProdRequirements,
                Some(svc),
                format!("the {} backend writes no PodDisruptionBudget", ir.backend.as_str()),
                "use the helm backend for this mode, or drop the requirement",
            )),
            Some(s) if s.max_replicas() < 2 => out.push(Failure::new(
                Gate::ProdRequirements,
                Some(svc),
                "runs one replica, so it gets no PodDisruptionBudget (a budget for a single pod would block every node drain)",
                format!("run `{svc}` with 2 replicas or more in {profile}"),
            )),
            Some(_) => {}
        }
    }
    if settings.require_limits {
        for s in ir.services.iter().filter(|s| s.is_deployed()) {
            let l = &s.resources.limits;
            let missing: Vec<&str> = [("cpu", l.cpu.is_none()), ("memory", l.memory.is_none())]
                .into_iter()
                .filter(|(_, m)| *m)
                .map(|(k, _)| k)
                .collect();
            if !missing.is_empty() {
                out.push(Failure::new(
                    Gate::ProdRequirements,
                    Some(&s.name),
                    format!("sets no {} limit", missing.join(" or ")),
                    format!(
                        "set `resources.limits` of `{}` in the model or in {profile}",
                        s.name
                    ),
                ));
            }
        }
    }
    if settings.require_quota {
        for n in ir.namespaces.iter().filter(|n| n.quota.is_none()) {
            out.push(Failure::new(
                Gate::ProdRequirements,
                None,
                format!("namespace `{}` has no ResourceQuota", n.name),
                format!("set `[namespaces.{}.quota]` in {profile}", n.key),
            ));
        }
    }
    out
}

/// `target-builds`: the errors that stop the target from building with the promoted lock.
/// `not_promoted` are the model's services the target's lock would not hold: a promoted
/// service that needs one of them is told to take it along.
pub fn target_builds(
    diags: &Diagnostics,
    target: &str,
    promoted: &[String],
    not_promoted: &[String],
) -> Vec<Failure> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let service = d
                .path
                .as_deref()
                .and_then(|p| p.strip_prefix("services."))
                .and_then(|p| p.split('.').next());
            let missing = not_promoted
                .iter()
                .find(|s| d.message.contains(&format!("`{s}`")));
            let fix = match missing {
                Some(m) => format!(
                    "`{m}` is not promoted to {target} yet: promote it along (`--only {},{m}`)",
                    if promoted.is_empty() {
                        "...".to_string()
                    } else {
                        promoted.join(",")
                    }
                ),
                None => d.hints.first().cloned().unwrap_or_else(|| {
                    format!("fix the model or the {target} profile (the errors are shown above)")
                }),
            };
            Failure::new(
                Gate::TargetBuilds,
                service,
                format!("{}: {}", d.code, d.message),
                fix,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use envc_lock::release::changes;
    use envc_model::FileId;

    fn release(text: &str) -> Release {
        let (n, d) = Node::parse(FileId(0), text);
        assert!(d.is_empty(), "{d:?}");
        Release::from_tree(&n, |_| Ok("scrape: {{x}}\n".into())).unwrap()
    }

    fn gates(text: &str) -> Vec<(Gate, Option<String>)> {
        let r = release(text);
        let c = changes(&Release::default(), &r);
        let dev = [("pw".to_string(), "hunter2-dev".to_string())];
        let mut f = pinned_images(&r, &c, "dev", &|_| true);
        f.extend(dev_secrets(&r, &c, &dev));
        f.into_iter().map(|f| (f.gate, f.service)).collect()
    }

    #[test]
    fn images_must_be_pinned() {
        assert!(gates("[services.a]\nimage = \"a:1.2.3\"\n").is_empty());
        for img in ["a", "a:latest", "a:3-latest", "a:7-alpine"] {
            assert_eq!(
                gates(&format!("[services.a]\nimage = \"{img}\"\n")),
                [(Gate::PinnedImage, Some("a".into()))],
                "{img}"
            );
        }
    }

    #[test]
    fn dev_secrets_and_credential_literals_are_refused() {
        for env in [
            "X = \"pre-hunter2-dev\"",
            "DB_PASSWORD = \"changeme\"",
            "URL = \"postgres://app:changeme@db/app\"",
        ] {
            let g = gates(&format!(
                "[services.a]\nimage = \"a:1.2.3\"\nenv = {{ {env} }}\n"
            ));
            assert_eq!(g, [(Gate::DevSecret, Some("a".into()))], "{env}");
        }
        for env in [
            "DB_PASSWORD = { secret = \"pw\" }",
            "URL = \"postgres://app:${secret.pw}@db/app\"",
            "TOKEN_FILE = \"/run/secrets/t\"",
        ] {
            let g = gates(&format!(
                "[services.a]\nimage = \"a:1.2.3\"\nenv = {{ {env} }}\n"
            ));
            assert!(g.is_empty(), "{env}: {g:?}");
        }
        let g = gates("[services.a]\nimage = \"a:1.2.3\"\nargs = [\"--pw=hunter2-dev\"]\n");
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn image_references_match_whole() {
        assert!(contains_reference(
            b"image: redis:7.4.11\n",
            b"redis:7.4.11"
        ));
        assert!(contains_reference(
            b"\"image\": \"redis:7.4.11\"",
            b"redis:7.4.11"
        ));
        assert!(!contains_reference(
            b"image: redis:7.4.11-alpine\n",
            b"redis:7.4.11"
        ));
        assert!(!contains_reference(
            b"image: myredis:7.4.11\n",
            b"redis:7.4.11"
        ));
    }

    #[test]
    fn only_an_allowed_source_may_promote() {
        let s = PromotionSettings {
            from: vec!["staging".into()],
            ..PromotionSettings::default()
        };
        assert!(source_allowed("staging", "prod", &s).is_empty());
        assert!(source_allowed("prod", "prod", &s).is_empty());
        assert_eq!(source_allowed("dev", "prod", &s).len(), 1);
        assert!(source_allowed("dev", "prod", &PromotionSettings::default()).is_empty());
    }
}
