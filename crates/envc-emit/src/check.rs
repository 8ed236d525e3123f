//! The checks a backend needs before it emits: what the IR can hold but the mode's backend
//! cannot express. Each problem is a diagnostic with the model path of the value to change
//! (no span: the IR has none); the caller locates it in the loaded tree
//! (`envc_model::LoadedMode::locate`), so it renders with file, line and column.

use envc_core::Ir;
use envc_model::profile::Backend;
use envc_model::{Diagnostic, Diagnostics};

use crate::artifact::Artifact;
use crate::{cloud, compose, name};

/// Every problem the mode's backend finds in the IR; empty when emission will succeed.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = backend(ir);
    d.extend(crate::external_secrets::check(ir));
    d
}

fn backend(ir: &Ir) -> Diagnostics {
    match ir.backend {
        // Validation already refuses what plain manifests cannot hold (managed services).
        Backend::Kubernetes => {
            let mut d = file_names(ir);
            d.extend(tls(ir));
            d.extend(crate::gateway::check(ir));
            d.extend(crate::monitoring::check(ir));
            d
        }
        Backend::Compose => compose::check(ir),
        Backend::Helm => {
            let mut d = file_names(ir);
            d.extend(tls(ir));
            d.extend(crate::gateway::check(ir));
            d.extend(crate::monitoring::check(ir));
            d.extend(cloud::check(ir));
            d
        }
    }
}

/// Ingress TLS names one source of certificates, with names Kubernetes accepts; ACM only where
/// the AWS Load Balancer Controller serves the Ingresses.
fn tls(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(t) = &ir.kubernetes.tls else {
        return d;
    };
    let sources = [t.cert_manager_issuer.is_some(), t.secret.is_some(), t.acm];
    if sources.iter().filter(|x| **x).count() != 1 {
        d.push(
            Diagnostic::error(
                "E-ingress-tls",
                "`kubernetes.tls` must name exactly one source of certificates",
            )
            .path("kubernetes.tls")
            .hint("set one of `cert_manager_issuer = \"<issuer>\"`, `secret = \"<tls secret>\"` or `acm = true`"),
        );
    }
    for (key, value) in [
        ("cert_manager_issuer", &t.cert_manager_issuer),
        ("secret", &t.secret),
    ] {
        if let Some(v) = value
            && !name::is_dns_subdomain(v)
        {
            d.push(
                Diagnostic::error(
                    "E-ingress-tls",
                    format!("`{v}` is not a Kubernetes object name"),
                )
                .path(format!("kubernetes.tls.{key}"))
                .hint("lower-case letters, digits, `-` and `.`, at most 253 characters, starting and ending with a letter or digit"),
            );
        }
    }
    let aws = ir
        .cloud
        .as_ref()
        .is_some_and(|c| c.provider == envc_model::profile::Provider::Aws);
    if t.acm && (!aws || ir.kubernetes.ingress_class.as_deref() != Some("alb")) {
        d.push(
            Diagnostic::error(
                "E-ingress-tls",
                "`acm = true` needs an AWS cloud and the `alb` ingress class",
            )
            .path("kubernetes.tls.acm")
            .hint("ACM certificates are served by the AWS Load Balancer Controller; elsewhere use `cert_manager_issuer` or `secret`"),
        );
    }
    d
}

/// Manifests and chart templates put each service in `<service>.yaml` beside the files of
/// the whole environment (`namespaces.yaml`, ...): a service may not take one of their names,
/// whether or not this mode writes that file today.
fn file_names(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    for s in &ir.services {
        let Some((_, holds)) = name::ENVIRONMENT_FILES
            .iter()
            .find(|(stem, _)| *stem == s.name)
        else {
            continue;
        };
        d.push(
            Diagnostic::error(
                "E-file-collision",
                format!(
                    "service `{}` would be written to {}.yaml, which holds {holds}",
                    s.name, s.name
                ),
            )
            .path(format!("services.{}", s.name))
            .hint(format!(
                "rename the service: Kubernetes sets write each service to <service>.yaml, and these names are taken by the files of the whole environment: {}",
                name::ENVIRONMENT_FILES
                    .iter()
                    .map(|(f, _)| format!("{f}.yaml"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    d
}

/// The last guard before writing: two artifacts of one set with the same path (a rule of
/// the backend's names that the checks above do not know yet). Each is named with the path.
pub fn duplicates(artifacts: &[Artifact]) -> Diagnostics {
    duplicate_paths(artifacts.iter().map(|a| a.path.as_str()))
}

/// [`duplicates`] over the paths alone.
pub fn duplicate_paths<'a>(paths: impl Iterator<Item = &'a str>) -> Diagnostics {
    let mut d = Diagnostics::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        if !seen.insert(path) {
            d.push(
                Diagnostic::error(
                    "E-file-collision",
                    format!("two parts of the model are both written to {path}"),
                )
                .hint("rename one of the services, files or secrets whose names make this path, and report the case: envc should have named them apart"),
            );
        }
    }
    d
}
