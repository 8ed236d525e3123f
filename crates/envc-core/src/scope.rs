//! What every phase of resolution looks things up in: the enabled services of a mode, their
//! namespaces, how other services reach them in the mode's backend, and every string of theirs
//! that may hold references, parsed once; and the errors for names the scope does not hold.

use envc_model::Diagnostic;
use envc_model::diagnostic::did_you_mean;
use envc_model::load::LoadedMode;
use envc_model::model::{self, EnvValue as ModelEnv};
use envc_model::profile::Backend;
use indexmap::IndexMap;

use crate::reference::{self, ParseError, Piece};

/// Where a string with references lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// An env value.
    Env,
    /// An element of `command`.
    Command,
    /// An element of `args`.
    Args,
}

impl Site {
    /// The service key that holds strings of this site.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Site::Env => "env",
            Site::Command => "command",
            Site::Args => "args",
        }
    }
}

/// One string of a service that may hold references, parsed.
pub(crate) struct Text<'a> {
    /// The init step or sidecar it belongs to (`["init", "migrate"]`), empty for the service's
    /// own container.
    pub step: Vec<String>,
    /// Where it is.
    pub site: Site,
    /// The env name, or the index in `command` or `args`.
    pub key: String,
    /// The string as written.
    pub text: &'a str,
    /// Its pieces, or why it does not parse.
    pub pieces: Result<Vec<Piece>, ParseError>,
}

impl Text<'_> {
    fn new<'t>(step: &[String], site: Site, key: String, text: &'t str) -> Text<'t> {
        Text {
            step: step.to_vec(),
            site,
            key,
            text,
            pieces: reference::parse(text),
        }
    }

    /// Its model path under `services.<service>`.
    pub(crate) fn path(&self, service: &str) -> Vec<String> {
        let mut p = vec!["services".to_string(), service.to_string()];
        p.extend(self.step.iter().cloned());
        p.push(self.site.key().to_string());
        p.push(self.key.clone());
        p
    }
}

/// The strings of one container that may hold references: env values, command and args.
pub(crate) struct Strings<'a> {
    /// Literal env values, by name, in declaration order.
    pub env: IndexMap<&'a str, Text<'a>>,
    /// `command`, element by element.
    pub command: Vec<Text<'a>>,
    /// `args`, element by element.
    pub args: Vec<Text<'a>>,
}

impl<'a> Strings<'a> {
    /// The strings of a container's env, command and args, under `step` in the service.
    fn new(
        step: &[String],
        env: &'a IndexMap<String, ModelEnv>,
        command: &'a Option<Vec<String>>,
        args: &'a Option<Vec<String>>,
    ) -> Strings<'a> {
        let list = |site: Site, l: &'a Option<Vec<String>>| -> Vec<Text<'a>> {
            l.iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| Text::new(step, site, i.to_string(), a))
                .collect()
        };
        Strings {
            env: env
                .iter()
                .filter_map(|(k, v)| match v {
                    ModelEnv::Text(t) => {
                        Some((k.as_str(), Text::new(step, Site::Env, k.clone(), t)))
                    }
                    ModelEnv::Secret(_) => None,
                })
                .collect(),
            command: list(Site::Command, command),
            args: list(Site::Args, args),
        }
    }

    /// Every string: env values, then command, then args.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &Text<'_>> {
        self.env
            .values()
            .chain(self.command.iter())
            .chain(self.args.iter())
    }
}

/// An init step or sidecar of a target and its strings.
pub(crate) struct StepStrings<'a> {
    /// `init` or `sidecars`.
    pub kind: &'static str,
    /// Its name.
    pub name: &'a str,
    /// Its model.
    pub step: &'a model::Step,
    /// Its strings.
    pub strings: Strings<'a>,
}

/// An enabled service and what references to it resolve against.
pub(crate) struct Target<'a> {
    /// Its model.
    pub svc: &'a model::Service,
    /// Its namespace's key in the model.
    pub namespace_key: String,
    /// Its namespace's Kubernetes name.
    pub namespace: String,
    /// Literal env values, by name, in declaration order.
    pub env: IndexMap<&'a str, Text<'a>>,
    /// `command`, element by element.
    pub command: Vec<Text<'a>>,
    /// `args`, element by element.
    pub args: Vec<Text<'a>>,
    /// Its init steps, then its sidecars, in declared order.
    pub steps: Vec<StepStrings<'a>>,
    /// The commands of its probes (`exec.command`, `http.command`), by probe kind
    /// (`liveness`, `readiness`, `startup`), element by element.
    pub probes: Vec<(&'static str, Vec<Text<'a>>)>,
}

impl Target<'_> {
    /// Every string that may hold references: env values, then command, then args, then those
    /// of the init steps and sidecars.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &Text<'_>> {
        self.env
            .values()
            .chain(self.command.iter())
            .chain(self.args.iter())
            .chain(self.steps.iter().flat_map(|s| s.strings.texts()))
            .chain(self.probes.iter().flat_map(|(_, t)| t.iter()))
    }

    /// The command strings of one probe kind.
    pub(crate) fn probe(&self, kind: &str) -> &[Text<'_>] {
        self.probes
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[], |(_, t)| t.as_slice())
    }
}

/// The command strings of a service's probes, by kind, as [`Target::probes`] holds them.
fn probe_strings(svc: &model::Service) -> Vec<(&'static str, Vec<Text<'_>>)> {
    let probes = &svc.probes;
    [
        ("liveness", &probes.liveness),
        ("readiness", &probes.readiness),
        ("startup", &probes.startup),
    ]
    .into_iter()
    .filter_map(|(kind, p)| {
        let p = p.as_ref()?;
        let (action, command) = match (&p.exec, &p.http) {
            (Some(e), _) => ("exec", &e.command),
            (None, Some(h)) => ("http", h.command.as_ref()?),
            _ => return None,
        };
        let step = ["probes".to_string(), kind.to_string(), action.to_string()];
        let texts = command
            .iter()
            .enumerate()
            .map(|(i, a)| Text::new(&step, Site::Command, i.to_string(), a))
            .collect();
        Some((kind, texts))
    })
    .collect()
}

/// The enabled services of one loaded mode.
pub(crate) struct Scope<'a> {
    /// The mode.
    pub m: &'a LoadedMode,
    /// Its backend.
    pub backend: Backend,
    /// Enabled services, in declaration order.
    pub targets: IndexMap<&'a str, Target<'a>>,
}

impl<'a> Scope<'a> {
    /// The scope of a loaded mode.
    pub(crate) fn new(m: &'a LoadedMode) -> Scope<'a> {
        let model = &m.model;
        // Services that name no namespace are in the first of `[namespaces]`.
        let default_namespace = model.namespaces.keys().next().cloned().unwrap_or_default();
        let mut targets = IndexMap::new();
        for (name, svc) in model.services.iter().filter(|(_, s)| s.enabled) {
            let namespace_key = svc
                .namespace
                .clone()
                .unwrap_or_else(|| default_namespace.clone());
            let namespace = model
                .namespaces
                .get(&namespace_key)
                .map(|n| n.name.clone())
                .unwrap_or_else(|| namespace_key.clone());
            let own = Strings::new(&[], &svc.env, &svc.command, &svc.args);
            let steps = [("init", &svc.init), ("sidecars", &svc.sidecars)]
                .into_iter()
                .flat_map(|(kind, steps)| {
                    steps.iter().map(move |(step_name, step)| StepStrings {
                        kind,
                        name: step_name,
                        step,
                        strings: Strings::new(
                            &[kind.to_string(), step_name.clone()],
                            &step.env,
                            &step.command,
                            &step.args,
                        ),
                    })
                })
                .collect();
            targets.insert(
                name.as_str(),
                Target {
                    svc,
                    namespace_key,
                    namespace,
                    env: own.env,
                    command: own.command,
                    args: own.args,
                    steps,
                    probes: probe_strings(svc),
                },
            );
        }
        Scope {
            m,
            backend: m.profile.profile.backend,
            targets,
        }
    }

    /// Names of the enabled services, in declaration order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.targets.keys().map(|s| s.to_string()).collect()
    }

    /// The host name other services reach `name` at: the service name in Compose, the
    /// cluster-local DNS name in Kubernetes.
    pub(crate) fn host(&self, name: &str) -> String {
        let namespace = self.targets.get(name).map(|t| t.namespace.as_str());
        crate::address::host(self.backend, name, namespace)
    }

    /// The port other services use: the Service port in Kubernetes, the container port in
    /// Compose.
    pub(crate) fn port(&self, p: &model::Port) -> u16 {
        crate::address::port(self.backend, p.container, p.service)
    }
}

/// The error for a service name that names no service.
pub(crate) fn unknown_service(model: &model::EnvironmentFile, name: &str) -> Diagnostic {
    let d = Diagnostic::error("E-unknown-service", format!("unknown service `{name}`"));
    match did_you_mean(name, model.services.keys().map(String::as_str)) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None => d.hint(format!(
            "services are: {}",
            model
                .services
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The error for a secret name that names no secret.
pub(crate) fn unknown_secret(model: &model::EnvironmentFile, name: &str) -> Diagnostic {
    let d = Diagnostic::error("E-unknown-secret", format!("unknown secret `{name}`"));
    match did_you_mean(name, model.secrets.keys().map(String::as_str)) {
        Some(s) => d.hint(format!("did you mean `{s}`?")),
        None => d.hint(format!("declare it under [secrets.{name}]")),
    }
}

/// The error for a reference to, or a dependency on, a service the mode disables.
pub(crate) fn disabled_service(m: &LoadedMode, name: &str) -> Diagnostic {
    let o = m.tree.origin_of(&["services", name, "enabled"]);
    Diagnostic::error(
        "E-disabled-service",
        format!("service `{name}` is disabled in mode `{}`", m.mode),
    )
    .also(o, "disabled here")
    .hint("enable it in this mode, or remove what depends on it")
}
