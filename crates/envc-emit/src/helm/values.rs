//! The chart's values: only what a deployer may change per release (images, replicas,
//! resources, the names of existing Secrets, managed service endpoints), typed, so the values
//! file and its JSON Schema come from one definition.

use std::collections::BTreeMap;

use envc_core::Ir;
use envc_core::ir::Service;
use indexmap::IndexMap;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::artifact::EmitError;
use crate::labels::image_version;
use crate::name::SECRET_KEY;
use crate::pod;

/// The values of a chart envc generates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "envc chart values")]
pub struct Values {
    /// Settings of the whole release.
    pub global: Global,
    /// The existing Secrets that hold the secrets, by secret name; the chart never holds a
    /// value.
    pub secrets: IndexMap<String, SecretValues>,
    /// How the Secrets are filled from the cloud store (modes with `[secrets_store]` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_store: Option<super::secrets::SecretsStoreValues>,
    /// Managed services (not deployed by the chart), by service name.
    pub external: IndexMap<String, ExternalValues>,
    /// Deployed services, by name.
    pub services: IndexMap<String, ServiceValues>,
}

/// Settings of the whole release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Global {
    /// Whether the chart creates the environment's namespaces (with their Pod Security
    /// labels); turn off where a platform team creates them.
    pub create_namespaces: bool,
    /// The containers' image pull policy; the cluster's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Always", "IfNotPresent", "Never"]))]
    pub image_pull_policy: Option<String>,
}

/// Where a secret's value is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretValues {
    /// Name of the existing Secret, in every namespace that uses it.
    #[schemars(length(min = 1))]
    pub existing_secret: String,
    /// Key of the value in that Secret.
    #[schemars(length(min = 1))]
    pub key: String,
    /// The secret's name in the cloud store the Secret is filled from (modes with a store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub remote_key: Option<String>,
}

/// The endpoint of a managed service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalValues {
    /// DNS name (an `ExternalName` Service) or IPv4 address (a Service with an
    /// EndpointSlice), usually a Terraform output.
    #[schemars(length(min = 1))]
    pub host: String,
}

/// What a release may change of a deployed service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceValues {
    /// Container image (the release lock's image in a prod mode).
    pub image: String,
    /// The `app.kubernetes.io/version` label: the image's tag, set together with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Replicas of a service without an autoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<u32>,
    /// Bounds of the autoscaler of an autoscaled service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// Container resources; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// Bounds of an autoscaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest replicas.
    #[schemars(range(min = 1))]
    pub min: u32,
    /// Most replicas.
    #[schemars(range(min = 1))]
    pub max: u32,
}

/// Container requests and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Amounts>,
    /// What the container may use at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Amounts>,
}

/// CPU and memory quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Amounts {
    /// CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

/// A Kubernetes quantity: `500m`, `"1"`, `2Gi`, or a plain number (`--set ...cpu=2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Quantity {
    /// As Kubernetes writes it; envc writes this form.
    Text(String),
    /// A number of cores or bytes.
    Number(f64),
}

fn amounts(m: Option<&BTreeMap<String, K8sQuantity>>) -> Option<Amounts> {
    let m = m?;
    Some(Amounts {
        cpu: m.get("cpu").map(|q| Quantity::Text(q.0.clone())),
        memory: m.get("memory").map(|q| Quantity::Text(q.0.clone())),
    })
}

/// Whether `replicas` is a value of the service: servers without an autoscaler, and jobs
/// that run several pods (their number of completions).
pub fn replicas_value(s: &Service) -> bool {
    match &s.job {
        Some(j) => j.parallelism.is_some() && j.schedule.is_none(),
        None => s.autoscaling.is_none(),
    }
}

/// The values of one deployed service, from the same resources the pod template has.
pub fn service_values(s: &Service) -> ServiceValues {
    ServiceValues {
        image: s.image.clone(),
        version: image_version(&s.image),
        replicas: replicas_value(s).then_some(s.replicas),
        autoscaling: s.autoscaling.as_ref().map(|a| Autoscaling {
            min: a.min,
            max: a.max,
        }),
        resources: pod::resources(s).map(|r| Resources {
            requests: amounts(r.requests.as_ref()),
            limits: amounts(r.limits.as_ref()),
        }),
    }
}

/// The namespaces of deployed services that use a secret, in first-use order.
pub fn secret_namespaces<'a>(ir: &'a Ir, secret: &str) -> Vec<&'a str> {
    ir.secret(secret)
        .map(|sec| ir.secret_namespaces(sec))
        .unwrap_or_default()
}

/// The chart's values for the mode, in IR order.
pub fn values(ir: &Ir) -> Values {
    let secrets = ir
        .secrets
        .iter()
        .filter(|sec| !ir.secret_namespaces(sec).is_empty())
        .map(|sec| {
            (
                sec.name.clone(),
                SecretValues {
                    existing_secret: sec.name.clone(),
                    key: SECRET_KEY.into(),
                    remote_key: super::secrets::remote_key(ir, &sec.name),
                },
            )
        })
        .collect();
    let external = ir
        .services
        .iter()
        .filter(|s| !s.is_deployed())
        .map(|s| {
            (
                s.name.clone(),
                ExternalValues {
                    host: s
                        .external
                        .as_ref()
                        .and_then(|e| e.host.clone())
                        .unwrap_or_else(|| crate::cloud::placeholder_host(&s.name)),
                },
            )
        })
        .collect();
    let services = ir
        .services
        .iter()
        .filter(|s| s.is_deployed())
        .map(|s| (s.name.clone(), service_values(s)))
        .collect();
    Values {
        global: Global {
            create_namespaces: true,
            image_pull_policy: ir.kubernetes.image_pull_policy.clone(),
        },
        secrets,
        secrets_store: super::secrets::values(ir),
        external,
        services,
    }
}

/// The values' JSON Schema, closed for this chart: `additionalProperties: false` on every
/// object, and the maps by name list exactly the chart's secrets, managed services and
/// services, each service with only the keys its templates read. A typo anywhere fails
/// `helm lint --strict`, `helm template` and `helm install`.
///
/// Entries of the same shape share one definition under `$defs` (`secret`, `external`,
/// `service-<the optional keys it has>`) that the map refers to: the schema grows by one
/// reference per service, not by a copy of the service schema, which kept a chart of a
/// thousand services under Helm's 5 MiB file limit.
pub fn schema(values: &Values, comment: &str) -> Result<Value, EmitError> {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let root = settings.into_generator().into_root_schema_for::<Values>();
    let mut schema = serde_json::to_value(root).map_err(|e| EmitError::Serialize(e.to_string()))?;
    let given = serde_json::to_value(values).map_err(|e| EmitError::Serialize(e.to_string()))?;
    // A chart without a store has no `secretsStore` to set.
    if values.secrets_store.is_none()
        && let Some(p) = schema
            .pointer_mut("/properties")
            .and_then(Value::as_object_mut)
    {
        p.shift_remove("secretsStore");
    }
    let mut defs = Map::new();
    for (key, kind, always) in [
        ("secrets", "secret", &[][..]),
        ("external", "external", &[][..]),
        ("services", "service", &["resources"][..]),
    ] {
        let Some(map) = schema.pointer_mut(&format!("/properties/{key}")) else {
            continue;
        };
        let entry = map
            .get("additionalProperties")
            .cloned()
            .unwrap_or(json!({}));
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, v) in given[key].as_object().into_iter().flatten() {
            let present: Vec<&str> = v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect();
            let def = definition_name(kind, &entry, &present);
            if !defs.contains_key(&def) {
                let mut e = entry.clone();
                // Keys the templates of this entry do not read are rejected too.
                if let Some(props) = e.get_mut("properties").and_then(Value::as_object_mut) {
                    props.retain(|k, _| {
                        present.contains(&k.as_str()) || always.contains(&k.as_str())
                    });
                }
                e["required"] = json!(present);
                defs.insert(def.clone(), e);
            }
            properties.insert(name.clone(), json!({ "$ref": format!("#/$defs/{def}") }));
            required.push(json!(name));
        }
        *map = json!({
            "description": map.get("description").cloned().unwrap_or(Value::Null),
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
    }
    if let Some(o) = schema.as_object_mut() {
        o.insert("$defs".into(), Value::Object(defs));
    }
    one_line_descriptions(&mut schema);
    if let Some(o) = schema.as_object_mut() {
        let mut with_comment = Map::new();
        for (k, v) in o.iter() {
            with_comment.insert(k.clone(), v.clone());
            if k == "$schema" {
                with_comment.insert("$comment".into(), json!(comment));
            }
        }
        *o = with_comment;
    }
    Ok(schema)
}

/// The `$defs` name of an entry schema: its kind, then the keys it has that the type leaves
/// optional (`service-version-replicas-resources`), so one name is one shape.
fn definition_name(kind: &str, entry: &Value, present: &[&str]) -> String {
    let required: Vec<&str> = entry["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut name = kind.to_string();
    for k in present.iter().filter(|k| !required.contains(k)) {
        name.push('-');
        name.push_str(k);
    }
    name
}

/// Doc comments wrap at 100 columns; a description in an editor's tooltip should not.
fn one_line_descriptions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(d) if k == "description" => *d = d.replace('\n', " "),
                    _ => one_line_descriptions(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(one_line_descriptions),
        _ => {}
    }
}
