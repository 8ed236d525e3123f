//! From a loaded mode to the IR, as named phases over memory: the static checks, the edges
//! (every reference checked on the way), the checks across services, the graph, the lowering
//! of services (references, files) and of secrets, and the checks over what was lowered.
//!
//! The only disk access, reading the templates and checking the build contexts a mode names,
//! happens before all of them ([`envc_model::asset::read`]); [`resolve`] takes its result.

use envc_model::asset::{self, Assets};
use envc_model::load::LoadedMode;
use envc_model::{Diagnostics, Project};

use crate::check;
use crate::edge;
use crate::file;
use crate::graph::Graph;
use crate::ir::{self, Ir};
use crate::scope::Scope;
use crate::secret;
use crate::service;
use crate::validate;
use crate::workload;

pub use crate::check::{cross_environment_checks, looks_secret};
pub use crate::secret::derived_secret;

/// A compiled mode: the IR, its graph, and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The IR.
    pub ir: Ir,
    /// The dependency graph.
    pub graph: Graph,
    /// Warnings (never errors).
    pub warnings: Diagnostics,
}

/// Compiles one loaded mode into its IR, or returns every error found: reads the files the
/// mode names ([`asset::read`]), then [`resolve`]s.
pub fn compile(project: &mut Project, m: &LoadedMode) -> Result<Compiled, Diagnostics> {
    let assets = asset::read(project, m);
    resolve(project, m, &assets)
}

/// Resolves one loaded mode into its IR, with the templates and build-context checks read
/// before ([`asset::read`]); touches no file. Returns every error found.
pub fn resolve(
    project: &Project,
    m: &LoadedMode,
    assets: &Assets,
) -> Result<Compiled, Diagnostics> {
    let mut d = validate::check(m);
    let scope = Scope::new(m);
    workload::check(project, &scope, &mut d);
    let edges = edge::collect(project, &scope, assets, &mut d);
    d.extend(assets.diagnostics.clone());
    let secret_values = secret::dev_values(m);
    secret::warn_weak_dev_values(m, &mut d);
    check::across_services(&scope, &secret_values, &mut d);
    let graph = match Graph::build(&scope.names(), edges.edges) {
        Ok(g) => Some(g),
        Err(e) => {
            d.push(e);
            None
        }
    };
    let Some(graph) = graph.filter(|_| !d.has_errors()) else {
        return Err(sorted(d));
    };

    let mut sources: Vec<String> = m
        .source_files
        .iter()
        .map(|f| project.sources.get(*f).name.clone())
        .collect();
    // The templates' context holds every service: built only when a template will read it.
    let templated = m
        .model
        .services
        .values()
        .any(|s| s.files.values().any(|f| f.template.is_some()));
    let context = std::cell::RefCell::new(handlebars::Context::from(if templated {
        file::context(&scope, &graph)
    } else {
        serde_json::Value::Null
    }));
    let inputs = service::Inputs {
        project,
        assets,
        graph: &graph,
        scrapers: &edges.scrapers,
        context: &context,
    };
    let services = service::lower(&scope, &inputs, &mut sources, &mut d);
    let secrets = secret::lower(m, &services, &secret_values, &mut d);
    check::lowered(m, &services, &secret_values, &mut d);
    if d.has_errors() {
        return Err(sorted(d));
    }

    let ir = ir_of(m, sources, secrets, services);
    Ok(Compiled {
        ir,
        graph,
        warnings: sorted(d),
    })
}

fn sorted(mut d: Diagnostics) -> Diagnostics {
    d.sort();
    d
}

/// The IR: the lowered services and secrets, with the namespaces they use and the mode's
/// settings.
fn ir_of(
    m: &LoadedMode,
    sources: Vec<String>,
    secrets: Vec<ir::Secret>,
    services: Vec<ir::Service>,
) -> Ir {
    let model = &m.model;
    let namespaces = model
        .namespaces
        .iter()
        .filter(|(k, _)| services.iter().any(|s| &s.namespace_key == *k))
        .map(|(k, n)| ir::Namespace {
            key: k.clone(),
            name: n.name.clone(),
            pod_security: n.pod_security,
            quota: n.quota.clone(),
        })
        .collect();
    let volumes = shared_volumes(m, &services);
    Ir {
        env: m.env.clone(),
        mode: m.mode.clone(),
        description: model.environment.description.clone(),
        backend: m.profile.profile.backend,
        tier: m.profile.profile.tier,
        sources,
        ingress_host: model.environment.ingress_host.clone(),
        network_policy: model.environment.network_policy,
        labels: model.environment.labels.clone(),
        namespaces,
        secrets,
        services,
        volumes,
        kubernetes: m.profile.kubernetes.clone(),
        compose: m.profile.compose.clone(),
        cloud: m.profile.cloud.clone(),
        index: Default::default(),
        gitops: m.profile.gitops.clone(),
        release: m.release.clone(),
        secrets_store: m.profile.secrets_store.clone(),
    }
}

/// The environment volumes that deployed services mount, with their claim's settings for the
/// mode: storage class (volume, then environment, then profile) and access mode (`shared`
/// volumes take the profile's `shared_volume_access`, ReadWriteMany by default).
fn shared_volumes(m: &LoadedMode, services: &[ir::Service]) -> Vec<ir::SharedVolume> {
    let model = &m.model;
    let k8s = &m.profile.kubernetes;
    model
        .volumes
        .iter()
        .filter_map(|(name, v)| {
            let users: Vec<&ir::Service> = services
                .iter()
                .filter(|s| s.is_deployed())
                .filter(|s| {
                    s.volumes
                        .iter()
                        .any(|x| x.shared.as_deref() == Some(name.as_str()))
                })
                .collect();
            let first = users.first()?;
            Some(ir::SharedVolume {
                name: name.clone(),
                description: v.description.clone(),
                namespace: first.namespace.clone(),
                size: v.size.clone(),
                access_mode: match v.access {
                    envc_model::model::VolumeAccess::Single => "ReadWriteOnce".to_string(),
                    envc_model::model::VolumeAccess::Shared => k8s
                        .shared_volume_access
                        .clone()
                        .unwrap_or_else(|| "ReadWriteMany".to_string()),
                },
                storage_class: v
                    .storage_class
                    .clone()
                    .or_else(|| model.environment.storage_class.clone())
                    .or_else(|| k8s.storage_class.clone()),
                used_by: users.iter().map(|s| s.name.clone()).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use envc_model::SourceFile;
    use std::path::{Path, PathBuf};

    const ENV: &str = r#"
[environment]
name = "shop"

[namespaces.app]
name = "shop"

[services.db]
image = "postgres:17.11-alpine"
ports = { pg = { container = 5432, service = 15432 } }
files = { motd = { path = "/etc/motd", content = "home $${HOME}, path ${PATH}\n" } }

[services.api]
image = "example/api:1.2.3"
env = { DB = "${db.address}", WHERE = "${mode.name}/${namespace.app}" }
files = { conf = { path = "/etc/api.yaml", template = "templates/api.yaml.hbs" } }
"#;

    /// A project whose root does not exist: nothing can come from disk.
    fn project() -> Project {
        let root = Path::new("/nonexistent/envc-resolve-test");
        let file = |name: &str, text: &str| (name.to_string(), root.join(name), text.to_string());
        let files = vec![
            file("environments/shop.toml", ENV),
            file(
                "profiles/k3s.toml",
                "[profile]\nbackend = \"kubernetes\"\ntier = \"dev\"\n",
            ),
        ];
        match Project::from_files(root, files) {
            Ok(p) => p,
            Err(f) => panic!("{:?}", f.diagnostics),
        }
    }

    #[test]
    fn resolution_reads_templates_from_memory_only() {
        let mut project = project();
        let Ok(m) = project.mode("shop", "k3s") else {
            panic!("the test model loads")
        };
        // Through the file-reading step, the template is missing...
        let read = asset::read(&mut project, &m);
        let codes: Vec<&str> = read.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["E-missing-file"]);
        assert!(resolve(&project, &m, &read).is_err());

        // ...and given in memory, resolution renders it and resolves every reference.
        let text = "db: {{services.db.ports.pg.address}}\n";
        let path = PathBuf::from("/nowhere/api.yaml.hbs");
        let id = project
            .sources
            .add(SourceFile::new("templates/api.yaml.hbs", path, text));
        let mut assets = Assets::default();
        assets.templates.insert(("api".into(), "conf".into()), id);
        let c = match resolve(&project, &m, &assets) {
            Ok(c) => c,
            Err(d) => panic!("{d:?}"),
        };
        let api = c.ir.service("api");
        let file = api
            .and_then(|s| s.files.first())
            .map(|f| f.content.as_str());
        assert_eq!(
            file,
            Some(
                "# generated by envc from templates/api.yaml.hbs, do not edit\ndb: db.shop.svc.cluster.local:15432\n"
            )
        );
        let env: Vec<String> = api
            .map(|s| {
                s.env
                    .iter()
                    .map(|e| format!("{}={:?}", e.name, e.value))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            env,
            [
                "DB=Text(\"db.shop.svc.cluster.local:15432\")",
                "WHERE=Text(\"k3s/shop\")"
            ]
        );
        // Content holds no references: `$${` is the model's literal `${`, `${` stays as written.
        let motd = c.ir.service("db").and_then(|s| s.files.first());
        assert_eq!(
            motd.map(|f| f.content.as_str()),
            Some("home ${HOME}, path ${PATH}\n")
        );
        assert_eq!(c.graph.order, ["db", "api"]);
        assert!(c.ir.sources.iter().any(|s| s == "templates/api.yaml.hbs"));
    }

    #[test]
    fn credential_names() {
        assert!(looks_secret("POSTGRES_PASSWORD"));
        assert!(looks_secret("AWS_SECRET_ACCESS_KEY"));
        assert!(looks_secret("AWS_ACCESS_KEY_ID"));
        assert!(!looks_secret("POSTGRES_PASSWORD_FILE"));
        assert!(!looks_secret("MINIO_PROMETHEUS_AUTH_TYPE"));
    }
}
