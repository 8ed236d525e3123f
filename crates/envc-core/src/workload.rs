//! Checks of how services run: jobs and cron jobs (their settings, schedule and what may wait
//! for them), restart policies, init steps and sidecars (names, volumes, the Kubernetes version
//! native sidecars need), and the order Helm hooks impose.

use envc_model::diagnostic::did_you_mean;
use envc_model::load::{LoadedMode, is_dns_label};
use envc_model::model::{Condition, JobRun, Restart, Service, WorkloadKind};
use envc_model::profile::Backend;
use envc_model::{Diagnostic, Diagnostics, Project, cron};

use crate::edge::sub_origin;
use crate::scope::Scope;
use crate::validate::{check_image_ref, is_env_name};

/// The first Kubernetes minor version with native sidecars (init containers with
/// `restartPolicy: Always`) enabled by default.
pub const SIDECAR_MINOR: u32 = 29;

/// Prefix of the init containers that wait for a job; steps cannot use it.
pub const WAIT_PREFIX: &str = "wait-for-";

/// Runs every check of this module over the enabled services of the mode.
pub(crate) fn check(project: &Project, scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    for (name, t) in &scope.targets {
        let svc = t.svc;
        let kind = svc.workload.unwrap_or(WorkloadKind::Deployment);
        check_job_settings(project, m, name, svc, kind, d);
        check_restart(m, name, svc, kind, d);
        check_dependencies(scope, name, svc, d);
        check_steps(m, name, svc, d);
    }
    check_sidecar_version(scope, d);
    check_bind_mounts(scope, d);
}

/// Bind mounts: a folder of the project (never outside it), in dev modes only; in Kubernetes
/// a `hostPath` under the profile's `host_path_root`, in a `privileged` namespace (`baseline`
/// and `restricted` forbid hostPath volumes).
fn check_bind_mounts(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    let profile = &m.profile;
    // A managed service (`external`) is not deployed: its mounts never reach a node.
    for (name, t) in scope
        .targets
        .iter()
        .filter(|(_, t)| t.svc.external.is_none())
    {
        for (key, v) in &t.svc.volumes {
            let Some(source) = v.source.as_deref() else {
                continue;
            };
            if !crate::service::bind_wins(m, v) {
                continue; // this mode mounts the environment volume instead
            }
            let here = at(m, name, &["volumes", key, "source"]);
            if crate::service::bind_path(source).is_none() {
                d.push(
                    Diagnostic::error(
                        "E-path-outside",
                        format!("bind mount `{source}` of `{name}` is not a folder inside the project"),
                    )
                    .at(here, "here")
                    .hint("write a path relative to the environment file's folder that stays inside the project, such as `./dags`"),
                );
                continue;
            }
            for (field, set) in [
                ("size", v.size.is_some()),
                ("storage_class", v.storage_class.is_some()),
            ] {
                if set {
                    d.push(
                        Diagnostic::error(
                            "E-volume-settings",
                            format!("`{field}` of bind mount `{key}` of `{name}` has no meaning: the folder is the host's"),
                        )
                        .at(key_at(m, name, &["volumes", key, field]), "here")
                        .hint("remove it"),
                    );
                }
            }
            let replace = format!(
                "in this mode's profile, mount an environment volume instead: [services.{name}.volumes.{key}] volume = \"<name>\" (declared under [volumes])"
            );
            if profile.profile.tier == envc_model::profile::Tier::Prod {
                d.push(
                    Diagnostic::error(
                        "E-bind-mount",
                        format!("bind mount `{source}` of `{name}`: prod mode `{}` deploys no host folder", m.mode),
                    )
                    .at(here, "here")
                    .hint(replace),
                );
                continue;
            }
            if profile.profile.backend == Backend::Compose {
                continue;
            }
            if profile.kubernetes.host_path_root.is_none() {
                d.push(
                    Diagnostic::error(
                        "E-bind-mount",
                        format!("bind mount `{source}` of `{name}`: mode `{}` does not say where the project is on the node", m.mode),
                    )
                    .at(here, "here")
                    .hint(format!("set `kubernetes.host_path_root` in the profile (the checkout's path on the node, for a hostPath volume), or {replace}")),
                );
                continue;
            }
            let level = m
                .model
                .namespaces
                .get(&t.namespace_key)
                .map(|n| n.pod_security)
                .unwrap_or_default();
            if level != envc_model::model::PodSecurityLevel::Privileged {
                d.push(
                    Diagnostic::error(
                        "E-bind-mount",
                        format!("bind mount `{source}` of `{name}` would be a hostPath volume, which the `{}` Pod Security level of namespace `{}` forbids", level.as_str(), t.namespace),
                    )
                    .at(here, "here")
                    .hint(format!("set `pod_security = \"privileged\"` on the namespace in this mode's profile, or {replace}")),
                );
            }
        }
    }
}

fn at(m: &LoadedMode, name: &str, rest: &[&str]) -> envc_model::Origin {
    let mut p = vec!["services", name];
    p.extend_from_slice(rest);
    m.tree.origin_of(&p)
}

fn key_at(m: &LoadedMode, name: &str, rest: &[&str]) -> envc_model::Origin {
    let mut p = vec!["services", name];
    p.extend_from_slice(rest);
    m.tree.key_origin_of(&p)
}

/// `[job]` only on jobs, what a job cannot have (autoscaling, replicas without parallelism,
/// ingress, readiness), and the schedule of a cron job.
fn check_job_settings(
    project: &Project,
    m: &LoadedMode,
    name: &str,
    svc: &Service,
    kind: WorkloadKind,
    d: &mut Diagnostics,
) {
    if !kind.runs_to_completion() {
        if svc.job.is_some() {
            d.push(
                Diagnostic::error(
                    "E-job-settings",
                    format!("`{name}` is a {} but has [job] settings", kind.as_str()),
                )
                .at(key_at(m, name, &["job"]), "here")
                .hint("set `workload = \"job\"` (runs to completion) or `\"cronjob\"` (runs on a schedule), or remove [job]"),
            );
        }
        return;
    }
    let what = kind.as_str();
    if svc.autoscaling.is_some() {
        d.push(
            Diagnostic::error("E-job-shape", format!("{what} `{name}` cannot autoscale"))
                .at(key_at(m, name, &["autoscaling"]), "here")
                .hint(
                    "a job runs to completion; set `job.parallelism` to run several pods at once",
                ),
        );
    }
    let parallelism = svc.job.as_ref().and_then(|j| j.parallelism);
    if svc.replicas.is_some_and(|r| r > 1) && parallelism.is_none() {
        d.push(
            Diagnostic::error(
                "E-job-shape",
                format!("{what} `{name}` has replicas above 1 but no `job.parallelism`"),
            )
            .at(at(m, name, &["replicas"]), "here")
            .hint("for a job, `replicas` is how many runs must succeed; set `job.parallelism` to how many run at once, or remove `replicas`"),
        );
    }
    if parallelism == Some(0) {
        d.push(
            Diagnostic::error("E-job-shape", "`job.parallelism` must be at least 1")
                .at(at(m, name, &["job", "parallelism"]), "here")
                .hint("it is how many pods run at once: 1 or more, or remove it for one pod"),
        );
    }
    for (pname, p) in &svc.ports {
        if p.ingress.is_some() {
            d.push(
                Diagnostic::error(
                    "E-job-shape",
                    format!("{what} `{name}` exposes port `{pname}` through the ingress"),
                )
                .at(key_at(m, name, &["ports", pname, "ingress"]), "here")
                .hint("a job stops when its work is done, so nothing can route traffic to it; remove `ingress`"),
            );
        }
    }
    if svc.probes.readiness.is_some() {
        d.push(
            Diagnostic::error("E-job-shape", format!("{what} `{name}` has a readiness probe"))
                .at(key_at(m, name, &["probes", "readiness"]), "here")
                .hint("nothing waits for a job to be ready: dependents wait for it to complete (`depends_on = { job = \"completed\" }`); remove the probe"),
        );
    }
    let job = svc.job.clone().unwrap_or_default();
    if kind == WorkloadKind::Job
        && job.ttl.is_some()
        && m.profile.profile.backend != Backend::Compose
        && crate::service::awaited_in(&m.model, name)
    {
        d.push(
            Diagnostic::warning(
                "W-ttl-awaited",
                format!("job `{name}` is deleted `job.ttl` after it finishes, but other services wait for it"),
            )
            .at(at(m, name, &["job", "ttl"]), "here")
            .hint("a dependent pod that restarts after the Job is gone waits for it until the manifests are applied again; remove `ttl` (envc then keeps the Job)"),
        );
    }
    if kind == WorkloadKind::Job {
        for (key, set) in [
            ("schedule", job.schedule.is_some()),
            ("time_zone", job.time_zone.is_some()),
            ("successful_history", job.successful_history.is_some()),
            ("failed_history", job.failed_history.is_some()),
        ] {
            if set {
                d.push(
                    Diagnostic::error(
                        "E-job-settings",
                        format!("`job.{key}` is a cron job setting, but `{name}` is a job"),
                    )
                    .at(key_at(m, name, &["job", key]), "here")
                    .hint("set `workload = \"cronjob\"` to run it on a schedule"),
                );
            }
        }
        return;
    }
    if job.run == JobRun::Before {
        d.push(
            Diagnostic::error(
                "E-job-settings",
                format!("cron job `{name}` cannot run before the release"),
            )
            .at(at(m, name, &["job", "run"]), "here")
            .hint("`run = \"before\"` is for jobs (`workload = \"job\"`); a cron job runs on its schedule"),
        );
    }
    match &job.schedule {
        None => d.push(
            Diagnostic::error("E-bad-schedule", format!("cron job `{name}` has no schedule"))
                .at(at(m, name, &["workload"]), "here")
                .hint("add `[services.<name>.job] schedule = \"0 3 * * *\"` (minute hour day month weekday) or `@daily`"),
        ),
        Some(expr) => {
            if let Err(e) = cron::check(expr) {
                let origin = at(m, name, &["job", "schedule"]);
                let mut diag = Diagnostic::error(
                    "E-bad-schedule",
                    format!("invalid schedule `{expr}`: {}", e.message),
                )
                .at(sub_origin(project, origin, expr, e.offset, e.len.max(1)), "here");
                if let Some(h) = e.hint {
                    diag = diag.hint(h);
                }
                d.push(diag);
            }
        }
    }
    if let Some(tz) = &job.time_zone
        && let Err(e) = cron::check_time_zone(tz)
    {
        let origin = at(m, name, &["job", "time_zone"]);
        let mut diag = Diagnostic::error("E-bad-schedule", e.message).at(
            sub_origin(project, origin, tz, e.offset, e.len.max(1)),
            "here",
        );
        diag = diag.hint(e.hint.unwrap_or_else(|| {
            "use an IANA time zone name such as `Etc/UTC` or `Europe/Paris`".into()
        }));
        d.push(diag);
    }
}

/// A job restarts at most on failure: `always` would run it forever.
fn check_restart(
    m: &LoadedMode,
    name: &str,
    svc: &Service,
    kind: WorkloadKind,
    d: &mut Diagnostics,
) {
    let backend = m.profile.profile.backend;
    if let Some(r @ (Restart::No | Restart::OnFailure)) = svc.restart
        && !kind.runs_to_completion()
        && backend != Backend::Compose
    {
        d.push(
            Diagnostic::warning(
                "W-restart-ignored",
                format!("restart `{}` of `{name}` has no effect in mode `{}`", r.as_str(), m.mode),
            )
            .at(at(m, name, &["restart"]), "here")
            .hint(format!("a Kubernetes {} always restarts its containers; if `{name}` runs to completion, make it a job (`workload = \"job\"`)", kind.k8s_kind())),
        );
    }
    let schedule = svc.job.as_ref().and_then(|j| j.schedule.as_deref());
    if kind == WorkloadKind::Cronjob
        && backend == Backend::Compose
        && let Some(schedule) = schedule.filter(|s| cron::check(s).is_ok())
    {
        d.push(
            Diagnostic::warning(
                "W-no-scheduler",
                format!("Compose has no scheduler: cron job `{name}` (\"{schedule}\") does not run by itself in mode `{}`", m.mode),
            )
            .at(at(m, name, &["workload"]), "here")
            .hint(format!("it is in the Compose profile `scheduled`: run it with `docker compose run --rm {name}`, or from the host's cron")),
        );
    }
    if let Some(r @ (Restart::Always | Restart::UnlessStopped)) = svc.restart
        && kind.runs_to_completion()
    {
        d.push(
            Diagnostic::error(
                "E-job-restart",
                format!("{} `{name}` cannot use restart `{}`", kind.as_str(), r.as_str()),
            )
            .at(at(m, name, &["restart"]), "here")
            .hint("a job runs to completion: use `no` (retried as new pods, `job.retries` times) or `on-failure` (retried in place)"),
        );
    }
}

/// `completed` only on jobs; nothing waits for a cron job.
fn check_dependencies(scope: &Scope<'_>, name: &str, svc: &Service, d: &mut Diagnostics) {
    let m = scope.m;
    let kind_of = |dep: &str| {
        scope
            .targets
            .get(dep)
            .map(|t| t.svc.workload.unwrap_or(WorkloadKind::Deployment))
    };
    for (dep, cond) in &svc.depends_on.0 {
        let Some(kind) = kind_of(dep) else { continue };
        if kind == WorkloadKind::Cronjob {
            d.push(
                Diagnostic::error(
                    "E-bad-dependency",
                    format!("`{name}` depends on cron job `{dep}`, which runs only on its schedule"),
                )
                .at(at(m, name, &["depends_on", dep]), "here")
                .hint("nothing can wait for a scheduled run; make the work a job (`workload = \"job\"`) to wait for it, or remove the dependency"),
            );
        } else if *cond == Condition::Completed && kind != WorkloadKind::Job {
            d.push(
                Diagnostic::error(
                    "E-bad-dependency",
                    format!("`{name}` waits for `{dep}` to complete, but `{dep}` is a {} that runs until stopped", kind.as_str()),
                )
                .at(at(m, name, &["depends_on", dep]), "here")
                .hint(format!("wait for it to be `healthy` or `started`, or set `workload = \"job\"` on `{dep}` if it runs to completion")),
            );
        }
    }
}

/// Init step and sidecar names: DNS labels, distinct from each other and from the service's
/// own container; the volumes they mount are the service's.
fn check_steps(m: &LoadedMode, name: &str, svc: &Service, d: &mut Diagnostics) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (kind, steps) in [("init", &svc.init), ("sidecars", &svc.sidecars)] {
        for (sname, step) in steps {
            let here = key_at(m, name, &[kind, sname]);
            if !is_dns_label(sname) || sname.len() > 63 {
                d.push(
                    Diagnostic::error(
                        "E-bad-name",
                        format!("`{sname}` is not a valid container name"),
                    )
                    .at(here, "here")
                    .hint("use lowercase letters, digits and `-`, starting with a letter"),
                );
            }
            let clash = if sname == name {
                Some(format!("the service's own container is named `{name}`"))
            } else if let Some((other, _)) = seen.iter().find(|(_, n)| n == sname) {
                Some(format!("`{other}.{sname}` has the same name"))
            } else if sname.starts_with(WAIT_PREFIX) {
                Some(format!(
                    "names starting with `{WAIT_PREFIX}` are the containers that wait for jobs"
                ))
            } else {
                None
            };
            if let Some(why) = clash {
                d.push(
                    Diagnostic::error(
                        "E-name-collision",
                        format!("container name `{sname}` of `{name}` is taken: {why}"),
                    )
                    .at(here, "here")
                    .hint("rename the step or sidecar: container names must be unique in a pod"),
                );
            }
            seen.push((kind, sname));
            if let Some(img) = &step.image {
                check_image_ref(m, at(m, name, &[kind, sname, "image"]), img, d);
            }
            for k in step.env.keys() {
                if !is_env_name(k) {
                    d.push(
                        Diagnostic::error(
                            "E-bad-name",
                            format!("`{k}` is not a portable environment variable name"),
                        )
                        .at(key_at(m, name, &[kind, sname, "env", k]), "here")
                        .hint("use letters, digits and `_`, not starting with a digit"),
                    );
                }
            }
            for (vname, mount) in &step.volumes {
                if let Some(p) = mount.path.as_deref().filter(|p| !p.starts_with('/')) {
                    d.push(
                        Diagnostic::error(
                            "E-bad-path",
                            format!("mount path `{p}` of `{kind}.{sname}` is not absolute"),
                        )
                        .at(
                            at(m, name, &[kind, sname, "volumes", vname, "path"]),
                            "here",
                        )
                        .hint("write the absolute path in the container, such as `/data`"),
                    );
                }
                if !svc.volumes.contains_key(vname) {
                    let mut diag = Diagnostic::error(
                        "E-unknown-volume",
                        format!(
                            "`{kind}.{sname}` mounts `{vname}`, which is not a volume of `{name}`"
                        ),
                    )
                    .at(key_at(m, name, &[kind, sname, "volumes", vname]), "here");
                    diag = match did_you_mean(vname, svc.volumes.keys().map(String::as_str)) {
                        Some(s) => diag.hint(format!("did you mean `{s}`?")),
                        None => diag.hint(format!(
                            "declare it under [services.{name}.volumes]; steps and sidecars share the service's volumes"
                        )),
                    };
                    d.push(diag);
                }
            }
        }
    }
}

/// Native sidecars need Kubernetes 1.29 or later.
fn check_sidecar_version(scope: &Scope<'_>, d: &mut Diagnostics) {
    let m = scope.m;
    if scope.backend == Backend::Compose {
        return;
    }
    let Some(version) = m.profile.kubernetes.version.as_deref() else {
        return;
    };
    let minor = version
        .strip_prefix("1.")
        .and_then(|r| r.split('.').next())
        .and_then(|n| n.parse::<u32>().ok());
    if minor.is_none_or(|n| n >= SIDECAR_MINOR) {
        return;
    }
    for (name, t) in &scope.targets {
        if let Some(first) = t.svc.sidecars.keys().next() {
            d.push(
                Diagnostic::error(
                    "E-sidecar-version",
                    format!("`{name}` has sidecars, which need Kubernetes 1.{SIDECAR_MINOR} or later; mode `{}` targets {version}", m.mode),
                )
                .at(m.profile_tree.origin_of(&["kubernetes", "version"]), "Kubernetes version set here")
                .also(key_at(m, name, &["sidecars", first]), "sidecar declared here")
                .hint(format!("raise `kubernetes.version` to \"1.{SIDECAR_MINOR}\" or later, or run the sidecar's work as an init step")),
            );
        }
    }
}
