//! Compose spells one pod as several services: init steps are one-shot services the main one
//! waits for, sidecars share its network namespace, jobs are one-shot services their
//! dependents wait for, cron jobs carry their schedule in a label. This module folds them back
//! into the service they belong to, so Compose facts have the shape Kubernetes facts have.

use indexmap::IndexMap;

use crate::facts::{JobFacts, JobKind, ScheduleFacts, ServiceFacts, StepFacts, Value};
use crate::key::Key;

// The labels and the profile are the Compose backend's own.
pub use envc_emit::compose::SCHEDULED_PROFILE;
pub use envc_emit::name::{
    INIT_OF_LABEL as INIT_OF, SCHEDULE_LABEL as SCHEDULE, SIDECAR_OF_LABEL as SIDECAR_OF,
    WORKLOAD_LABEL as WORKLOAD,
};

/// What a Compose service is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A service of its own.
    Main,
    /// An init step of the named service.
    InitOf(String),
    /// A sidecar of the named service.
    SidecarOf(String),
}

/// A service's role from its labels, else from `network_mode: service:<x>` (a sidecar, in
/// files envc did not write).
pub fn role(labels: &IndexMap<String, String>, network_mode: Option<&str>) -> Role {
    if let Some(main) = labels.get(INIT_OF) {
        return Role::InitOf(main.clone());
    }
    if let Some(main) = labels.get(SIDECAR_OF) {
        return Role::SidecarOf(main.clone());
    }
    match network_mode.and_then(|m| m.strip_prefix("service:")) {
        Some(main) if !main.is_empty() => Role::SidecarOf(main.to_string()),
        _ => Role::Main,
    }
}

/// A restart policy as `(policy, retries)`: Compose's `on-failure:N` is `on-failure` with N
/// retries, as a Job's OnFailure with backoffLimit N.
fn split_restart(restart: &str) -> (String, Option<u32>) {
    match restart.strip_prefix("on-failure:") {
        Some(n) => match n.trim().parse() {
            Ok(n) => ("on-failure".into(), Some(n)),
            Err(_) => (restart.to_string(), None),
        },
        None => (restart.to_string(), None),
    }
}

/// Folds init steps and sidecars into their services and recognises jobs and cron jobs.
/// `schedules` are the cron expressions of services labelled with one.
pub fn fold(
    services: &mut IndexMap<String, ServiceFacts>,
    roles: &IndexMap<String, Role>,
    container_names: &IndexMap<String, String>,
    schedules: &IndexMap<String, String>,
    labelled_jobs: &[String],
    notes: &mut Vec<String>,
) {
    let mut moved: IndexMap<String, String> = IndexMap::new();
    let mut steps: IndexMap<String, Vec<(String, ServiceFacts)>> = IndexMap::new();
    for (name, role) in roles {
        let (Role::InitOf(main) | Role::SidecarOf(main)) = role else {
            continue;
        };
        if !services.contains_key(main) || main == name {
            notes.push(format!(
                "{name}: belongs to service {main}, which is not in the file; compared as a service"
            ));
            continue;
        }
        let Some(f) = services.shift_remove(name) else {
            continue;
        };
        // The container's name in the pod: its `container_name` where the file gives one
        // (converters name the pod's containers so), else the service's name without the
        // main service's prefix (`api-migrate` is `migrate` of `api`).
        let short = match container_names.get(name) {
            Some(c) => c.clone(),
            None => name
                .strip_prefix(main.as_str())
                .and_then(|r| r.strip_prefix('-'))
                .filter(|r| !r.is_empty())
                .unwrap_or(name)
                .to_string(),
        };
        moved.insert(name.clone(), main.clone());
        if let Some(m) = services.get_mut(main) {
            mark_shared(m, &f);
            let facet = match role {
                Role::SidecarOf(_) => "sidecars",
                _ => "init",
            };
            keep_unread(m, facet, &short, &f);
        }
        match role {
            Role::SidecarOf(_) => {
                if let Some(m) = services.get_mut(main) {
                    m.sidecars.insert(short, step(&f));
                }
            }
            _ => steps.entry(main.clone()).or_default().push((short, f)),
        }
    }
    for (main, list) in steps {
        if let Some(m) = services.get_mut(&main) {
            m.init = in_run_order(list);
        }
    }
    // Whatever waited for a folded service waits for the service it belongs to; a service
    // does not wait for its own steps and sidecars (the pod runs them).
    for (name, s) in services.iter_mut() {
        let deps = std::mem::take(&mut s.depends_on);
        for (d, condition) in deps {
            let target = moved.get(&d).cloned().unwrap_or(d);
            if target != *name {
                s.depends_on.entry(target).or_insert(condition);
            }
        }
    }
    recognise_jobs(services, schedules, labelled_jobs);
}

/// Marks the named volumes of `main` that a folded step or sidecar mounts too.
fn mark_shared(main: &mut ServiceFacts, step: &ServiceFacts) {
    for v in main.volumes.values_mut() {
        if v.source.is_some()
            && step
                .volumes
                .values()
                .any(|sv| sv.source.is_some() && sv.source == v.source)
        {
            v.shared = true;
        }
    }
}

/// A folded service's facts that its step facts do not hold (ports, volumes, resources,
/// probes, security, its own fields, ...), kept as structural lines of the service it belongs
/// to (`fields.init.<step>.volumes./data`), so an edit to them is still seen between two
/// Compose files.
fn keep_unread(main: &mut ServiceFacts, facet: &str, short: &str, f: &ServiceFacts) {
    for (key, v) in f.flatten() {
        if matches!(key, Key::Image | Key::Command | Key::Args | Key::Env(_)) {
            continue;
        }
        std::sync::Arc::make_mut(&mut main.fields)
            .insert(format!("{facet}.{short}.{key}"), Value::Text(v));
    }
}

/// The step facts of a folded service.
fn step(f: &ServiceFacts) -> StepFacts {
    StepFacts {
        image: f.image.clone(),
        command: f.command.clone(),
        args: f.args.clone(),
        env: f.env.clone(),
    }
}

/// Init steps in the order they run: each waits for the one before it (file order breaks
/// ties).
fn in_run_order(mut list: Vec<(String, ServiceFacts)>) -> IndexMap<String, StepFacts> {
    let names: Vec<String> = list.iter().map(|(_, f)| f.name.clone()).collect();
    let mut out: IndexMap<String, StepFacts> = IndexMap::new();
    let mut placed: Vec<String> = Vec::new();
    while !list.is_empty() {
        let next = list
            .iter()
            .position(|(_, f)| {
                f.depends_on
                    .keys()
                    .all(|d| !names.contains(d) || placed.contains(d))
            })
            .unwrap_or(0);
        let (short, f) = list.remove(next);
        placed.push(f.name.clone());
        out.insert(short, step(&f));
    }
    out
}

/// A service labelled with a schedule is a cron job; a one-shot service (`restart: "no"` or
/// `on-failure`) that envc labelled a job, or that another waits for with
/// `service_completed_successfully`, is a job.
fn recognise_jobs(
    services: &mut IndexMap<String, ServiceFacts>,
    schedules: &IndexMap<String, String>,
    labelled_jobs: &[String],
) {
    let awaited: Vec<String> = services
        .values()
        .flat_map(|s| {
            s.depends_on
                .iter()
                .filter(|(_, c)| *c == "completed")
                .map(|(d, _)| d.clone())
        })
        .collect();
    for (name, s) in services.iter_mut() {
        let (policy, retries) = split_restart(s.restart.as_deref().unwrap_or("no"));
        let one_shot = policy == "no" || policy == "on-failure";
        let kind = if let Some(cron) = schedules.get(name) {
            s.schedule = Some(ScheduleFacts {
                cron: Some(cron.clone()),
                ..Default::default()
            });
            s.profiles.retain(|p| p != SCHEDULED_PROFILE);
            JobKind::Cronjob
        } else if one_shot && (awaited.contains(name) || labelled_jobs.contains(name)) {
            JobKind::Job
        } else {
            continue;
        };
        s.job_kind = Some(kind);
        s.restart = Some(policy);
        s.job = Some(JobFacts {
            retries,
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_with_retries_is_a_policy_and_a_count() {
        assert_eq!(
            split_restart("on-failure:5"),
            ("on-failure".into(), Some(5))
        );
        assert_eq!(split_restart("on-failure"), ("on-failure".into(), None));
        assert_eq!(
            split_restart("unless-stopped"),
            ("unless-stopped".into(), None)
        );
    }

    #[test]
    fn roles_from_labels_and_network_mode() {
        let labels = |k: &str, v: &str| IndexMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(
            role(&labels(INIT_OF, "web"), None),
            Role::InitOf("web".into())
        );
        assert_eq!(
            role(&labels(SIDECAR_OF, "web"), None),
            Role::SidecarOf("web".into())
        );
        assert_eq!(
            role(&IndexMap::new(), Some("service:vpn")),
            Role::SidecarOf("vpn".into())
        );
        assert_eq!(role(&IndexMap::new(), Some("host")), Role::Main);
    }
}
