//! A promotion plan: per unit, what the target's lock and artifacts would become, with the
//! gates' verdicts; rendered for people (grouped by service) and for machines (JSON, format
//! version 1, documented in docs/promote.md and docs/promote.schema.json).

use envc_core::Ir;
use envc_diff::FileSet;
use envc_diff::compare::Comparison;
use envc_diff::facts::Facts;
use envc_emit::Artifact;
use envc_model::profile::Backend;
use envc_model::style::{Role, Stylesheet};
use schemars::JsonSchema;
use serde::Serialize;

use crate::gate::{Failure, Gate};
use envc_lock::release::{Action, Change, SHARED_UNIT};

/// JSON format version; bump on any incompatible change (docs/promote.md).
pub const FORMAT_VERSION: u32 = 1;

/// The facets `envc diff`'s facts have, for the schema: envc-diff's own list, so a new facet
/// cannot be missing here.
const FACETS: [&str; envc_diff::key::Facet::NAMES.len()] = envc_diff::key::Facet::NAMES;

/// The pattern of a configuration hash.
const HASH_PATTERN: &str = "^sha256:[0-9a-f]{64}$";

/// One difference in the target's artifacts, read back as facts (`envc diff`'s engine).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FactChange {
    /// Facet (`image`, `env`, `replicas`, ...).
    #[schemars(extend("enum" = FACETS))]
    pub facet: String,
    /// Full key (`env.LOG_LEVEL`).
    pub key: String,
    /// Before (secrets as hashes); `null` when absent.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
    /// Unified diff of a file's content (absent, never null, when there is none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub text_diff: Option<String>,
}

/// What happens to a unit in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitAction {
    /// Promoted: not in the target's lock yet.
    Add,
    /// Promoted: in the lock, different.
    Update,
    /// Promoted: leaves the lock.
    Remove,
    /// Not promoted, but its artifacts change because a unit it refers to is.
    Affected,
}

impl UnitAction {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitAction::Add => "add",
            UnitAction::Update => "update",
            UnitAction::Remove => "remove",
            UnitAction::Affected => "affected",
        }
    }
}

impl From<Action> for UnitAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Add => UnitAction::Add,
            Action::Update => UnitAction::Update,
            Action::Remove => UnitAction::Remove,
        }
    }
}

/// What happens to one unit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UnitPlan {
    /// A service, or `environment` for the environment-wide settings.
    pub unit: String,
    /// What happens to it.
    pub action: UnitAction,
    /// Image the target runs now.
    pub old_image: Option<String>,
    /// Image it will run.
    pub new_image: Option<String>,
    /// Configuration hash now.
    #[schemars(regex(pattern = HASH_PATTERN))]
    pub old_config: Option<String>,
    /// Configuration hash after.
    #[schemars(regex(pattern = HASH_PATTERN))]
    pub new_config: Option<String>,
    /// Differences in the target's artifacts.
    pub changes: Vec<FactChange>,
}

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It holds.
    Passed,
    /// It does not: the promotion is refused.
    Failed,
    /// It could not be checked because an earlier step failed (reported there).
    Skipped,
}

/// One gate in the plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GateResult {
    /// The gate.
    pub gate: Gate,
    /// Its verdict.
    pub verdict: Verdict,
    /// What it checks.
    pub checks: &'static str,
    /// Why it failed, per service.
    pub failures: Vec<Failure>,
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Summary {
    /// Units the promotion changes.
    pub promoted: usize,
    /// Services not promoted whose artifacts change too.
    pub affected: usize,
    /// Units that stay as they are.
    pub unchanged: usize,
    /// Units the target's lock holds after the promotion.
    pub locked: usize,
    /// Gates that failed.
    pub gates_failed: usize,
}

/// A promotion plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(
    deny_unknown_fields,
    title = "envc promote plan, format version 1",
    extend("$id" = "https://envc.dev/schemas/promote-v1.json")
)]
pub struct Plan {
    /// Format version of this JSON.
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    /// Environment.
    pub environment: String,
    /// Source: a mode, or `lock:<path>` for a lock file (a rollback).
    pub from: String,
    /// Target mode.
    pub to: String,
    /// The target's lock, `locks/<env>/<mode>.toml`.
    pub lock: String,
    /// Whether the target has no lock yet (this promotion creates it).
    pub first_release: bool,
    /// The release number the lock holds now (`[lock] release`): null without a lock, or for
    /// a lock written before releases were numbered (its chart's version is `0.1.0`).
    pub previous_release: Option<u64>,
    /// The release number the lock holds once this promotion is written (`[lock] release`;
    /// a Helm mode's chart version is `<release>.0.0`).
    pub release: u64,
    /// Units asked for with `--only` (empty: every unit).
    pub only: Vec<String>,
    /// Whether the lock, the log and the artifacts were written.
    pub written: bool,
    /// Units that change, then affected services.
    pub units: Vec<UnitPlan>,
    /// Units that stay.
    pub unchanged: Vec<String>,
    /// Every gate, in a fixed order.
    #[schemars(length(min = Gate::ALL.len(), max = Gate::ALL.len()))]
    pub gates: Vec<GateResult>,
    /// Counts.
    pub summary: Summary,
    /// Anything else worth knowing.
    pub notes: Vec<String>,
}

/// The release numbers of a promotion: the lock's now (none without a lock or number) and
/// once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    /// Whether the target has no lock yet.
    pub first_release: bool,
    /// `[lock] release` now.
    pub previous: Option<u64>,
    /// `[lock] release` once written.
    pub release: u64,
}

impl Numbers {
    /// The line of the text plan that says which release the promotion makes and what the
    /// chart's version becomes.
    fn text(&self) -> String {
        let chart = |n: Option<u64>| {
            n.map_or_else(
                || envc_emit::labels::CHART_VERSION.to_string(),
                |n| format!("{n}.0.0"),
            )
        };
        let to = chart(Some(self.release));
        match self.previous {
            _ if self.first_release => {
                format!("release {} once written (chart version {to})", self.release)
            }
            Some(p) => format!(
                "release {p} -> {} once written (chart version {} -> {to})",
                self.release,
                chart(Some(p))
            ),
            None => format!(
                "release {} once written, the lock's first number (chart version {} -> {to})",
                self.release,
                chart(None)
            ),
        }
    }
}

/// Facts of a mode's artifacts. A Helm chart's facts are read from the Kubernetes manifests of
/// the same IR (its deployed services: the chart renders the same containers, which
/// `scripts/conformance-helm` checks), so planning needs neither Helm nor a cluster.
pub fn facts(ir: &Ir, artifacts: &[Artifact]) -> Result<Facts, String> {
    let set = |label: &str, a: Vec<(String, Vec<u8>)>| FileSet::from_memory(label.to_string(), a);
    let label = format!("mode {}", ir.mode);
    let pairs = |a: &[Artifact]| -> Vec<(String, Vec<u8>)> {
        a.iter()
            .map(|x| (x.path.clone(), x.bytes.clone()))
            .collect()
    };
    Ok(match ir.backend {
        Backend::Compose => envc_diff::compose::extract(&set(&label, pairs(artifacts))),
        Backend::Kubernetes => envc_diff::k8s::extract(&set(&label, pairs(artifacts))),
        Backend::Helm => {
            let mut deployed = ir.clone();
            deployed.backend = Backend::Kubernetes;
            deployed.services.retain(|s| s.is_deployed());
            let names: Vec<String> = deployed.services.iter().map(|s| s.name.clone()).collect();
            for s in &mut deployed.services {
                s.clients.retain(|c| names.contains(&c.service));
                s.depends_on.retain(|d| names.contains(&d.service));
            }
            let manifests = envc_emit::k8s::emit(&deployed).map_err(|e| e.to_string())?;
            envc_diff::k8s::extract(&set(&label, pairs(&manifests)))
        }
    })
}

/// The JSON Schema of [`Plan`] (draft-07), as committed in `docs/promote.schema.json`.
pub fn schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07()
        .for_serialize()
        .into_generator();
    generator.into_root_schema_for::<Plan>().to_value()
}

/// Compares the target's services' facts before and after. Both are built from the model, so
/// structural lines and objects that are not services (whose version labels follow a promoted
/// image) are left out: a plan lists what changes in the services.
pub fn compare_facts(before: &Facts, after: &Facts) -> Comparison {
    let services = |f: &Facts| {
        let mut f = f.clone();
        f.objects.clear();
        f
    };
    envc_diff::compare_modes(&services(before), &services(after), &Default::default())
}

impl Plan {
    /// Assembles the units of a plan from the lock changes and the artifact comparison.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        environment: &str,
        from: &str,
        to: &str,
        lock: &str,
        numbers: Numbers,
        only: Vec<String>,
        changes: &[Change],
        comparison: Option<&Comparison>,
        all_units: &[String],
        locked: usize,
    ) -> Plan {
        let mut units: Vec<UnitPlan> = Vec::new();
        // Secrets as labels numbered within the plan, never the per-run ids.
        let labels = std::cell::RefCell::new(envc_diff::secret::Labels::default());
        let relabel = |v: &Option<String>| v.as_ref().map(|v| labels.borrow_mut().relabel(v));
        let diffs = |unit: &str| -> Vec<FactChange> {
            comparison
                .map(|c| {
                    c.differences
                        .iter()
                        .filter(|d| d.service == unit)
                        .map(|d| FactChange {
                            facet: d.facet.as_str().to_string(),
                            key: d.key.to_string(),
                            old: relabel(&d.a),
                            new: relabel(&d.b),
                            text_diff: relabel(&d.text_diff),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for c in changes {
            units.push(UnitPlan {
                unit: c.unit.clone(),
                action: c.action.into(),
                old_image: c.old_image.clone(),
                new_image: c.new_image.clone(),
                old_config: c.old_config.clone(),
                new_config: c.new_config.clone(),
                changes: diffs(&c.unit),
            });
        }
        let mut affected: Vec<String> = Vec::new();
        if let Some(c) = comparison {
            for d in &c.differences {
                if !changes.iter().any(|c| c.unit == d.service) && !affected.contains(&d.service) {
                    affected.push(d.service.clone());
                }
            }
        }
        for a in &affected {
            units.push(UnitPlan {
                unit: a.clone(),
                action: UnitAction::Affected,
                old_image: None,
                new_image: None,
                old_config: None,
                new_config: None,
                changes: diffs(a),
            });
        }
        let unchanged: Vec<String> = all_units
            .iter()
            .filter(|u| !units.iter().any(|p| &p.unit == *u))
            .cloned()
            .collect();
        let summary = Summary {
            promoted: changes.len(),
            affected: affected.len(),
            unchanged: unchanged.len(),
            locked,
            gates_failed: 0,
        };
        Plan {
            format_version: FORMAT_VERSION,
            environment: environment.into(),
            from: from.into(),
            to: to.into(),
            lock: lock.into(),
            first_release: numbers.first_release,
            previous_release: numbers.previous,
            release: numbers.release,
            only,
            written: false,
            units,
            unchanged,
            gates: Vec::new(),
            summary,
            notes: Vec::new(),
        }
    }

    /// Records every gate's verdict: failed when it has failures, skipped when listed in
    /// `skipped`, passed otherwise.
    pub fn set_gates(&mut self, failures: Vec<Failure>, skipped: &[Gate]) {
        self.gates = Gate::ALL
            .iter()
            .map(|g| {
                let f: Vec<Failure> = failures.iter().filter(|f| f.gate == *g).cloned().collect();
                let verdict = if !f.is_empty() {
                    Verdict::Failed
                } else if skipped.contains(g) {
                    Verdict::Skipped
                } else {
                    Verdict::Passed
                };
                GateResult {
                    gate: *g,
                    verdict,
                    checks: g.checks(),
                    failures: f,
                }
            })
            .collect();
        self.summary.gates_failed = self
            .gates
            .iter()
            .filter(|g| g.verdict == Verdict::Failed)
            .count();
    }

    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.summary.gates_failed == 0
    }

    /// Whether the promotion changes anything (or creates the first lock).
    pub fn changes_anything(&self) -> bool {
        self.first_release || self.summary.promoted > 0
    }

    /// JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Text for people, styled by `style` (the CLI decides whether colour is on).
    pub fn text(&self, style: Stylesheet) -> String {
        let mut out = format!(
            "{} {} -> {} ({}), lock {}{}\n",
            style.paint(Role::Heading, "envc promote:"),
            self.from,
            self.to,
            self.environment,
            self.lock,
            if self.first_release {
                " (first release: the lock does not exist yet)"
            } else {
                ""
            }
        );
        let numbers = Numbers {
            first_release: self.first_release,
            previous: self.previous_release,
            release: self.release,
        };
        out.push_str(&numbers.text());
        out.push('\n');
        for u in &self.units {
            self.unit_text(u, style, &mut out);
        }
        if !self.unchanged.is_empty() {
            out.push_str(&format!("\nunchanged: {}\n", self.unchanged.join(", ")));
        }
        self.gates_text(style, &mut out);
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out.push_str(&self.summary_text(style));
        out
    }

    /// One unit: its action, image and configuration, and what changes in the artifacts.
    fn unit_text(&self, u: &UnitPlan, style: Stylesheet, out: &mut String) {
        let role = match u.action {
            UnitAction::Add => Role::Added,
            UnitAction::Remove => Role::Removed,
            UnitAction::Update => Role::Changed,
            UnitAction::Affected => Role::Info,
        };
        let label = if u.unit == SHARED_UNIT {
            "environment (environment-wide settings)".to_string()
        } else {
            u.unit.clone()
        };
        out.push_str(&format!(
            "\n{} {}\n",
            style.paint(Role::Heading, &label),
            style.paint(role, u.action.as_str())
        ));
        if u.action == UnitAction::Affected {
            out.push_str(
                "  not promoted: its artifacts change with what is (a service it refers to, environment-wide settings)\n",
            );
        }
        if u.old_image.is_some() || u.new_image.is_some() {
            if u.old_image == u.new_image {
                out.push_str(&format!("  image   {} (unchanged)\n", show(&u.new_image)));
            } else {
                out.push_str(&format!(
                    "  image   {} -> {}\n",
                    show(&u.old_image),
                    show(&u.new_image)
                ));
            }
        }
        if u.old_config != u.new_config {
            out.push_str(&format!(
                "  config  {} -> {}\n",
                short_hash(&u.old_config),
                short_hash(&u.new_config)
            ));
        }
        self.artifact_changes_text(u, style, out);
    }

    /// What changes in the target's artifacts for one unit.
    fn artifact_changes_text(&self, u: &UnitPlan, style: Stylesheet, out: &mut String) {
        // The image line already says what the artifacts' image change says.
        let same_image = |c: &&FactChange| {
            c.key == "image"
                && c.old.as_deref().map(strip_digest) == u.old_image.as_deref().map(strip_digest)
                && c.new.as_deref().map(strip_digest) == u.new_image.as_deref().map(strip_digest)
        };
        let shown: Vec<&FactChange> = u.changes.iter().filter(|c| !same_image(c)).collect();
        let affects_others =
            u.unit == SHARED_UNIT && self.units.iter().any(|x| x.action == UnitAction::Affected);
        if affects_others && u.changes.is_empty() {
            out.push_str("  its changes reach the services listed as affected\n");
        } else if u.changes.is_empty() && u.action != UnitAction::Affected {
            out.push_str(&format!(
                "  no change to {}'s artifacts (its profile overrides what changed, or the service is not deployed there)\n",
                self.to
            ));
        } else if shown.is_empty() {
            out.push_str(&format!("  in {}'s artifacts: the image only\n", self.to));
        } else {
            out.push_str(&format!("  in {}'s artifacts:\n", self.to));
        }
        for c in shown {
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                c.key,
                show(&c.old),
                show(&c.new)
            ));
            if let Some(t) = &c.text_diff {
                out.push_str(&envc_diff::render::unified_diff_text(
                    t,
                    style.is_styled(),
                    "        ",
                ));
            }
        }
    }

    /// Every gate's verdict, with each failure's reason and fix.
    fn gates_text(&self, style: Stylesheet, out: &mut String) {
        out.push_str(&format!("\n{}\n", style.paint(Role::Heading, "gates")));
        for g in &self.gates {
            let (role, v) = match g.verdict {
                Verdict::Passed => (Role::Success, "pass"),
                Verdict::Failed => (Role::Error, "FAIL"),
                Verdict::Skipped => (Role::Warning, "skip"),
            };
            out.push_str(&format!(
                "  {} {:<18} {}\n",
                style.paint(role, v),
                g.gate.id(),
                g.checks
            ));
            for f in &g.failures {
                let who = f
                    .service
                    .as_deref()
                    .map(|s| format!("{s}: "))
                    .unwrap_or_default();
                out.push_str(&format!("       {who}{}\n", f.reason));
                out.push_str(&format!("         fix: {}\n", f.fix));
            }
        }
    }

    /// The closing line: counts and the verdict.
    fn summary_text(&self, style: Stylesheet) -> String {
        let s = &self.summary;
        let what = if self.first_release {
            format!(
                "first release: the new lock pins {}; {} differ from what {} runs now, {} affected, {} unchanged",
                plural(s.locked, "unit"),
                s.promoted,
                self.to,
                s.affected,
                s.unchanged
            )
        } else {
            format!(
                "{} to promote, {} affected, {} unchanged",
                plural(s.promoted, "unit"),
                s.affected,
                s.unchanged
            )
        };
        let verdict = if s.gates_failed == 0 {
            style.paint(Role::Success, "every gate passed")
        } else {
            style.paint(
                Role::Error,
                format!(
                    "{} failed: promotion refused, nothing written",
                    plural(s.gates_failed, "gate")
                ),
            )
        };
        format!("\n{what}; {verdict}\n")
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".into())
}

/// `sha256:` and the first twelve hex digits.
fn short_hash(h: &Option<String>) -> String {
    h.as_deref()
        .map(|h| h.get(..19).unwrap_or(h).to_string())
        .unwrap_or_else(|| "(none)".into())
}

fn strip_digest(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::gate::Failure;

    /// `docs/promote.schema.json` is generated from the plan types; `ENVC_BLESS=1 cargo test
    /// -p envc-promote` rewrites it (review `git diff docs/` like any blessed change).
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/promote.schema.json");
        let generated = format!("{}\n", serde_json::to_string_pretty(&schema()).unwrap());
        if std::env::var_os("ENVC_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == generated,
            "docs/promote.schema.json is not the schema of the plan types; regenerate it with `ENVC_BLESS=1 cargo test -p envc-promote`"
        );
    }

    fn plan() -> Plan {
        let change = Change {
            unit: "api".into(),
            action: Action::Update,
            old_image: Some("api:1.0.0".into()),
            new_image: Some("api:1.1.0".into()),
            old_config: Some(format!("sha256:{}", "a".repeat(64))),
            new_config: Some(format!("sha256:{}", "a".repeat(64))),
        };
        let mut p = Plan::new(
            "e",
            "dev",
            "prod",
            "locks/e/prod.toml",
            Numbers {
                first_release: false,
                previous: Some(2),
                release: 3,
            },
            Vec::new(),
            &[change],
            None,
            &["api".into(), "db".into()],
            2,
        );
        p.set_gates(
            vec![Failure::new(Gate::PinnedImage, Some("api"), "why", "how")],
            &[Gate::TargetBuilds],
        );
        p
    }

    #[test]
    fn plans_are_painted_by_role_only_when_styled() {
        let p = plan();
        let plain = p.text(Stylesheet::plain());
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            plain.contains("\napi update\n  image   api:1.0.0 -> api:1.1.0\n"),
            "{plain}"
        );
        assert!(
            plain.contains("\nrelease 2 -> 3 once written (chart version 2.0.0 -> 3.0.0)\n"),
            "{plain}"
        );
        assert!(plain.contains("  FAIL pinned-image"), "{plain}");
        assert!(plain.contains("  skip target-builds"), "{plain}");
        assert!(plain.ends_with(
            "1 unit to promote, 0 affected, 1 unchanged; 1 gate failed: promotion refused, nothing written\n"
        ), "{plain}");
        let styled = p.text(Stylesheet::styled());
        let s = Stylesheet::styled();
        for painted in [
            s.paint(Role::Heading, "envc promote:"),
            s.paint(Role::Changed, "update"),
            s.paint(Role::Error, "FAIL"),
            s.paint(Role::Warning, "skip"),
            s.paint(Role::Success, "pass"),
        ] {
            assert!(styled.contains(&painted), "{painted:?} in {styled}");
        }
    }

    #[test]
    fn plan_json_matches_the_schema_shape() {
        let json: serde_json::Value = serde_json::from_str(&plan().json()).unwrap();
        let schema = schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(required, keys, "every field is required, in order");
        assert_eq!(json["release"], 3);
        assert_eq!(json["previous_release"], 2);
        assert_eq!(json["units"][0]["action"], "update");
        assert_eq!(json["gates"][2]["gate"], "pinned-image");
        assert_eq!(json["gates"][6]["verdict"], "skipped");
    }
}
