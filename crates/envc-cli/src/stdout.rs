//! `envc render MODE`: what a mode deploys, on stdout. Kubernetes modes: every manifest of the
//! set in the kustomization's order (namespaces and secrets first), one YAML stream; Helm
//! modes: the objects the chart renders with its values (`envc_emit::helm::manifests`);
//! Compose: the Compose file. Nothing is written.

use anyhow::Result;
use envc_core::Ir;
use envc_emit::Artifact;
use envc_model::diagnostic::did_you_mean;
use envc_model::profile::Backend;
use serde_json::Value;

use crate::Status;
use crate::args::{Cli, RenderArgs, SelectArgs};
use crate::build;
use crate::coded::coded;
use crate::diff::{load_project, pick_env};
use crate::output::Output;

/// The label every object of a service carries (the workload, its Service, ConfigMaps,
/// NetworkPolicy, autoscaler, disruption budget).
const NAME_LABEL: &str = "app.kubernetes.io/name";

/// `envc render`.
pub fn run(cli: &Cli, r: &RenderArgs, out: &Output) -> Result<Status> {
    let project = match load_project(cli, out)? {
        Ok(p) => p,
        Err(s) => return Ok(s),
    };
    let env = pick_env(&project, &r.env)?;
    drop(project);
    let select = SelectArgs {
        env: Some(env),
        target: r.mode.clone(),
    };
    let c = match build::compile(cli, &select, out) {
        Ok(c) => c,
        Err(s) => return Ok(s),
    };
    let Some(b) = c.builds.first() else {
        return Ok(Status::Invalid);
    };
    if let Some(s) = &r.service
        && !b.ir.services.iter().any(|x| &x.name == s)
    {
        let hint = did_you_mean(s, b.ir.services.iter().map(|x| x.name.as_str())).map_or_else(
            || "`envc list` and the environment file name the services".to_string(),
            |m| format!("did you mean `{m}`?"),
        );
        return Err(coded(
            "E-usage",
            format!("unknown service `{s}` in {}/{}", b.env, b.mode),
            hint,
        ));
    }
    let Some(artifacts) = &b.artifacts else {
        return Err(coded(
            "E-usage",
            format!("mode {} has no backend to render it yet", b.mode),
            "",
        ));
    };
    let text = match b.ir.backend {
        Backend::Kubernetes => manifests(&b.ir, artifacts, r.service.as_deref()),
        Backend::Helm => chart(&b.ir, r.service.as_deref())?,
        Backend::Compose => compose(artifacts, r.service.as_deref())?,
    };
    print!("{text}");
    Ok(Status::Ok)
}

/// The YAML documents of a multi-document file, without the header comments before the first
/// `---`.
fn documents(text: &str) -> Vec<String> {
    let mut docs: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.extend(current.take());
            current = Some(String::new());
        } else if let Some(c) = &mut current {
            c.push_str(line);
        }
    }
    docs.extend(current);
    docs.retain(|d| !d.trim().is_empty());
    docs
}

/// Whether an object belongs to the service (`None`: every object does).
fn belongs(object: &Value, service: Option<&str>) -> bool {
    service.is_none_or(|s| {
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(NAME_LABEL))
            .and_then(Value::as_str)
            == Some(s)
    })
}

fn header(ir: &Ir, what: &str) -> String {
    let mut h = envc_emit::header::lines(&ir.header_lines(), "# ");
    h.push_str(&format!("# {what}\n"));
    h
}

/// A Kubernetes set as one stream, in the kustomization's order.
fn manifests(ir: &Ir, artifacts: &[Artifact], service: Option<&str>) -> String {
    let mut text = header(
        ir,
        "envc render: every manifest of the set, for kubectl apply -f -",
    );
    // The manifests the kustomization lists; the GitOps objects beside them (`gitops/`) are
    // applied once by hand, not with the set.
    for a in artifacts.iter().filter(|a| {
        a.path != "kustomization.yaml" && a.path.ends_with(".yaml") && !a.path.contains('/')
    }) {
        for doc in documents(&String::from_utf8_lossy(&a.bytes)) {
            let keep = service.is_none()
                || yaml_serde::from_str::<Value>(&doc).is_ok_and(|o| belongs(&o, service));
            if keep {
                text.push_str("---\n");
                text.push_str(&doc);
            }
        }
    }
    text
}

/// What the chart of a Helm mode renders with its values.
fn chart(ir: &Ir, service: Option<&str>) -> Result<String> {
    let mut text = header(
        ir,
        "envc render: the objects the chart renders with its values.yaml (helm template)",
    );
    for o in envc_emit::helm::manifests(ir)? {
        if belongs(&o, service) {
            text.push_str("---\n");
            text.push_str(&envc_emit::yaml::value_to_yaml(&o)?);
        }
    }
    Ok(text)
}

/// The Compose file; with a service, the file with only that service.
fn compose(artifacts: &[Artifact], service: Option<&str>) -> Result<String> {
    let Some(file) = artifacts.iter().find(|a| a.path == "docker-compose.yml") else {
        anyhow::bail!("the compose set has no docker-compose.yml");
    };
    let text = String::from_utf8_lossy(&file.bytes).into_owned();
    let Some(service) = service else {
        return Ok(text);
    };
    let mut doc: Value = yaml_serde::from_str(&text)?;
    if let Some(Value::Object(services)) = doc.get_mut("services") {
        services.retain(|name, _| name == service);
    }
    let head: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    Ok(format!(
        "{head}# envc render --service {service}: the other services are left out\n{}",
        envc_emit::yaml::value_to_yaml(&doc)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_drop_the_header_and_keep_each_body() {
        let text =
            "# generated\n# sources:\n---\nkind: A\n---\nkind: B\nx: |\n  ---not a separator\n";
        assert_eq!(
            documents(text),
            vec![
                "kind: A\n".to_string(),
                "kind: B\nx: |\n  ---not a separator\n".to_string()
            ]
        );
    }

    #[test]
    fn objects_belong_by_their_name_label() {
        let o = serde_json::json!({"metadata": {"labels": {NAME_LABEL: "minio"}}});
        assert!(belongs(&o, Some("minio")));
        assert!(!belongs(&o, Some("redis")));
        assert!(belongs(&o, None));
        assert!(!belongs(
            &serde_json::json!({"kind": "Namespace"}),
            Some("minio")
        ));
    }
}
