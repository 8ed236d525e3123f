//! A promotion plan: per unit, what the target's lock and artifacts would become, with the
//! gates' verdicts; rendered for people (grouped by service) and for machines (JSON, format
//! version 1, documented in docs/promote.md and docs/promote.schema.json).

use envc_core::Ir;
use envc_diff::compare::Comparison;
use envc_diff::facts::Facts;
use envc_diff::{FileSet, compare};
use envc_emit::Artifact;
use envc_model::profile::Backend;
use serde::Serialize;

use crate::gate::{Failure, Gate};
use crate::release::{Change, SHARED_UNIT};

/// JSON format version; bump on any incompatible change (docs/promote.md).
pub const FORMAT_VERSION: u32 = 1;

/// One difference in the target's artifacts, read back as facts (`envc diff`'s engine).
#[derive(Debug, Clone, Serialize)]
pub struct FactChange {
    /// Facet (`image`, `env`, `replicas`, ...).
    pub facet: String,
    /// Full key (`env.LOG_LEVEL`).
    pub key: String,
    /// Before (secrets as hashes); `null` when absent.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
    /// Unified diff of a file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
}

/// What happens to one unit.
#[derive(Debug, Clone, Serialize)]
pub struct UnitPlan {
    /// Service name, or `environment` for the environment-wide settings.
    pub unit: String,
    /// `add`, `update`, `remove`, or `affected` (not promoted, but its artifacts change
    /// because a unit it refers to is).
    pub action: String,
    /// Image the target runs now.
    pub old_image: Option<String>,
    /// Image it will run.
    pub new_image: Option<String>,
    /// Configuration hash now.
    pub old_config: Option<String>,
    /// Configuration hash after.
    pub new_config: Option<String>,
    /// Differences in the target's artifacts.
    pub changes: Vec<FactChange>,
}

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Default, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Format version of this JSON.
    pub format_version: u32,
    /// Environment.
    pub environment: String,
    /// Source: a mode, or a lock file.
    pub from: String,
    /// Target mode.
    pub to: String,
    /// The target's lock file.
    pub lock: String,
    /// Whether the target has no lock yet (this promotion creates it).
    pub first_release: bool,
    /// Units asked for with `--only` (empty: every unit).
    pub only: Vec<String>,
    /// Whether the lock, the log and the artifacts were written.
    pub written: bool,
    /// Units that change, then affected services.
    pub units: Vec<UnitPlan>,
    /// Units that stay.
    pub unchanged: Vec<String>,
    /// Every gate.
    pub gates: Vec<GateResult>,
    /// Counts.
    pub summary: Summary,
    /// Anything else worth knowing.
    pub notes: Vec<String>,
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

/// Compares the target's facts before and after.
pub fn compare_facts(before: &Facts, after: &Facts) -> Comparison {
    compare(before, after, &Default::default())
}

impl Plan {
    /// Assembles the units of a plan from the lock changes and the artifact comparison.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        environment: &str,
        from: &str,
        to: &str,
        lock: &str,
        first_release: bool,
        only: Vec<String>,
        changes: &[Change],
        comparison: Option<&Comparison>,
        all_units: &[String],
        locked: usize,
    ) -> Plan {
        let mut units: Vec<UnitPlan> = Vec::new();
        let diffs = |unit: &str| -> Vec<FactChange> {
            comparison
                .map(|c| {
                    c.differences
                        .iter()
                        .filter(|d| d.service == unit)
                        .map(|d| FactChange {
                            facet: d.facet.as_str().to_string(),
                            key: d.key.to_string(),
                            old: d.a.clone(),
                            new: d.b.clone(),
                            text_diff: d.text_diff.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for c in changes {
            units.push(UnitPlan {
                unit: c.unit.clone(),
                action: c.action.as_str().to_string(),
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
                action: "affected".into(),
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
            first_release,
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

    /// Text for people.
    pub fn text(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let short = |h: &Option<String>| {
            h.as_deref()
                .map(|h| h.get(..19).unwrap_or(h).to_string())
                .unwrap_or_else(|| "(none)".into())
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let mut out = format!(
            "{} {} -> {} ({}), lock {}{}\n",
            paint("1", "envc promote:"),
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
        for u in &self.units {
            let action = match u.action.as_str() {
                "add" => paint("32", "add"),
                "remove" => paint("31", "remove"),
                "update" => paint("33", "update"),
                other => paint("36", other),
            };
            let label = if u.unit == SHARED_UNIT {
                "environment (environment-wide settings)".to_string()
            } else {
                u.unit.clone()
            };
            out.push_str(&format!("\n{} {action}\n", paint("1", &label)));
            if u.action == "affected" {
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
                    short(&u.old_config),
                    short(&u.new_config)
                ));
            }
            // The image line above already says what the artifacts' image change says.
            let same_image = |c: &&FactChange| {
                c.key == "image"
                    && c.old.as_deref().map(strip_digest)
                        == u.old_image.as_deref().map(strip_digest)
                    && c.new.as_deref().map(strip_digest)
                        == u.new_image.as_deref().map(strip_digest)
            };
            let shown: Vec<&FactChange> = u.changes.iter().filter(|c| !same_image(c)).collect();
            let affects_others =
                u.unit == SHARED_UNIT && self.units.iter().any(|x| x.action == "affected");
            if affects_others && u.changes.is_empty() {
                out.push_str("  its changes reach the services listed as affected\n");
            } else if u.changes.is_empty() && u.action != "affected" {
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
                    out.push_str(&envc_diff::render::unified_diff_text(t, color, "        "));
                }
            }
        }
        if !self.unchanged.is_empty() {
            out.push_str(&format!("\nunchanged: {}\n", self.unchanged.join(", ")));
        }
        out.push_str(&format!("\n{}\n", paint("1", "gates")));
        for g in &self.gates {
            let (code, v) = match g.verdict {
                Verdict::Passed => ("32", "pass"),
                Verdict::Failed => ("1;31", "FAIL"),
                Verdict::Skipped => ("33", "skip"),
            };
            out.push_str(&format!(
                "  {} {:<18} {}\n",
                paint(code, v),
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
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        let s = &self.summary;
        let what = if self.first_release {
            format!(
                "first release: the new lock pins {} unit{}; {} differ from what {} runs now, {} affected, {} unchanged",
                s.locked,
                if s.locked == 1 { "" } else { "s" },
                s.promoted,
                self.to,
                s.affected,
                s.unchanged
            )
        } else {
            format!(
                "{} unit{} to promote, {} affected, {} unchanged",
                s.promoted,
                if s.promoted == 1 { "" } else { "s" },
                s.affected,
                s.unchanged
            )
        };
        out.push_str(&format!(
            "\n{what}; {}\n",
            if s.gates_failed == 0 {
                paint("32", "every gate passed")
            } else {
                paint(
                    "1;31",
                    &format!(
                        "{} gate{} failed: promotion refused, nothing written",
                        s.gates_failed,
                        if s.gates_failed == 1 { "" } else { "s" }
                    ),
                )
            }
        ));
        out
    }
}

fn strip_digest(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}
