//! Which Kubernetes probe a Compose healthcheck stands for, and with which timings.
//!
//! Compose has one health signal where Kubernetes has three probes. The Compose backend writes
//! the healthcheck from this rule, and the diff, reading Kubernetes artifacts back, derives the
//! healthcheck they stand for from the same rule, so the two cannot disagree. The rule is generic
//! over [`Timings`] so that it runs on the IR's probes and on probes read back from manifests.

use envc_core::ir::Probe;

/// Seconds between checks when a probe sets none (the kubelet's default).
pub const DEFAULT_PERIOD: u32 = 10;

/// Seconds a check may take when a probe sets none (the kubelet's default).
pub const DEFAULT_TIMEOUT: u32 = 1;

/// Failures before failing when a probe sets none (the kubelet's default).
pub const DEFAULT_FAILURES: u32 = 3;

/// A probe's timings as the kubelet applies them (its defaults filled in), in seconds.
pub trait Timings {
    /// Seconds before the first check.
    fn initial_delay(&self) -> u32;
    /// Seconds between checks.
    fn period(&self) -> u32;
    /// Seconds a check may take.
    fn timeout(&self) -> u32;
    /// Failures before the probe fails.
    fn failure_threshold(&self) -> u32;
}

impl Timings for Probe {
    fn initial_delay(&self) -> u32 {
        self.initial_delay.map_or(0, |d| d.seconds)
    }
    fn period(&self) -> u32 {
        self.period.map_or(DEFAULT_PERIOD, |d| d.seconds)
    }
    fn timeout(&self) -> u32 {
        self.timeout.map_or(DEFAULT_TIMEOUT, |d| d.seconds)
    }
    fn failure_threshold(&self) -> u32 {
        self.failure_threshold.unwrap_or(DEFAULT_FAILURES)
    }
}

/// The probe a healthcheck is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The readiness probe (preferred: Compose's `service_healthy` gates dependants, as
    /// readiness gates traffic).
    Readiness,
    /// The liveness probe, when the readiness probe cannot be run by Compose.
    Liveness,
}

impl Source {
    /// Name as in messages (`readiness`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Readiness => "readiness",
            Source::Liveness => "liveness",
        }
    }
}

/// A healthcheck: what its probe maps to, and its timings in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck<T> {
    /// The probe it is made from.
    pub source: Source,
    /// What the caller mapped that probe to (Compose's `test`, or facts read back).
    pub test: T,
    /// Seconds between checks.
    pub interval: u32,
    /// Seconds a check may take.
    pub timeout: u32,
    /// Failures before unhealthy.
    pub retries: u32,
    /// Seconds during which failures do not count; 0 for none.
    pub start_period: u32,
}

/// The healthcheck a service's probes stand for: from its readiness probe, else its liveness
/// probe, whichever `map` first accepts (Compose can only run a command in the container). A
/// startup probe's budget (initial delay plus period times failure threshold) becomes the start
/// period, as Kubernetes holds the other probes until the startup probe passes; without one, the
/// chosen probe's initial delay does.
///
/// When neither probe maps, returns why, per probe tried (empty: the service has neither).
pub fn healthcheck<P: Timings, T, E>(
    readiness: Option<&P>,
    liveness: Option<&P>,
    startup: Option<&P>,
    mut map: impl FnMut(&P) -> Result<T, E>,
) -> Result<Healthcheck<T>, Vec<(Source, E)>> {
    let mut reasons = Vec::new();
    for (source, probe) in [(Source::Readiness, readiness), (Source::Liveness, liveness)] {
        let Some(p) = probe else { continue };
        match map(p) {
            Ok(test) => {
                let start_period = match startup {
                    Some(st) => st
                        .initial_delay()
                        .saturating_add(st.period().saturating_mul(st.failure_threshold())),
                    None => p.initial_delay(),
                };
                return Ok(Healthcheck {
                    source,
                    test,
                    interval: p.period(),
                    timeout: p.timeout(),
                    retries: p.failure_threshold(),
                    start_period,
                });
            }
            Err(why) => reasons.push((source, why)),
        }
    }
    Err(reasons)
}

/// Why a service has no healthcheck, from the reasons [`healthcheck`] returned.
pub fn why_none(reasons: &[(Source, &str)]) -> String {
    match reasons {
        [] => "no readiness or liveness probe".to_string(),
        [(a, x), (b, y)] if x == y => format!("{} and {}: {x}", a.as_str(), b.as_str()),
        _ => {
            let parts: Vec<String> = reasons
                .iter()
                .map(|(k, w)| format!("{}: {w}", k.as_str()))
                .collect();
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct T(u32, u32, u32, u32, bool);

    impl Timings for T {
        fn initial_delay(&self) -> u32 {
            self.0
        }
        fn period(&self) -> u32 {
            self.1
        }
        fn timeout(&self) -> u32 {
            self.2
        }
        fn failure_threshold(&self) -> u32 {
            self.3
        }
    }

    fn runnable(p: &T) -> Result<(), &'static str> {
        if p.4 { Ok(()) } else { Err("no command") }
    }

    #[test]
    fn readiness_first_then_liveness_with_the_startup_budget() {
        let ready = T(5, 10, 2, 3, true);
        let live = T(0, 30, 5, 3, true);
        let h = healthcheck(Some(&ready), Some(&live), None, runnable).ok();
        assert_eq!(h.as_ref().map(|h| h.source), Some(Source::Readiness));
        assert_eq!(h.map(|h| (h.interval, h.start_period)), Some((10, 5)));

        let blind = T(5, 10, 2, 3, false);
        let startup = T(10, 5, 1, 36, true);
        let h = healthcheck(Some(&blind), Some(&live), Some(&startup), runnable).ok();
        assert_eq!(h.as_ref().map(|h| h.source), Some(Source::Liveness));
        assert_eq!(h.map(|h| (h.interval, h.start_period)), Some((30, 190)));
    }

    #[test]
    fn reasons_when_nothing_maps() {
        let blind = T(0, 10, 1, 3, false);
        let why = healthcheck(Some(&blind), Some(&blind), None, runnable).err();
        assert_eq!(
            why.as_deref().map(why_none),
            Some("readiness and liveness: no command".to_string())
        );
        let why = healthcheck::<T, (), &str>(None, None, None, runnable).err();
        assert_eq!(
            why.as_deref().map(why_none),
            Some("no readiness or liveness probe".to_string())
        );
    }
}
