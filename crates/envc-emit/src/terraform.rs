//! Terraform variables of a prod mode's cluster: `terraform/variables.tf` (typed declarations
//! with descriptions; secrets `sensitive` and never given values) and
//! `terraform/terraform.tfvars.json` (their values). Both come from one list of
//! [`Variable`]s, so every value is declared with the type it has.
//!
//! Node pools are sized from the workloads: for each pool, the sum of requests times maximum
//! replicas of the services placed on it, plus the profile's headroom, divided by what one
//! node offers to pods, rounded up (see [`crate::cloud::size`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use envc_core::Ir;
use envc_model::profile::{CloudSettings, Provider, Taint, TaintEffect};
use serde_json::{Map, Value, json};

use crate::artifact::{Artifact, EmitError};
use crate::cloud::{
    NODE_POOL_LABEL, PoolSizing, gib, identity_annotation, mib, sensitive_secrets, size_pools,
};
use crate::header;
use crate::name::tf_secret_variable;

mod hcl;
pub mod root;
mod secrets;

/// A Terraform type constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<TfType>),
    /// `map(T)`.
    Map(Box<TfType>),
    /// `object({ ... })`, attributes in order.
    Object(Vec<(&'static str, TfType)>),
}

impl TfType {
    /// The type as HCL writes it, indented for nesting at `indent` spaces.
    pub fn hcl(&self, indent: usize) -> String {
        match self {
            TfType::String => "string".into(),
            TfType::Number => "number".into(),
            TfType::Bool => "bool".into(),
            TfType::List(t) => format!("list({})", t.hcl(indent)),
            TfType::Map(t) => format!("map({})", t.hcl(indent)),
            TfType::Object(attrs) => {
                let pad = " ".repeat(indent + 2);
                let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                let mut s = "object({\n".to_string();
                for (k, t) in attrs {
                    let _ = writeln!(s, "{pad}{k:width$} = {}", t.hcl(indent + 2));
                }
                s.push_str(&format!("{}}})", " ".repeat(indent)));
                s
            }
        }
    }

    /// Whether a JSON value has this type (objects need exactly the declared attributes).
    pub fn check(&self, v: &Value, at: &str) -> Result<(), String> {
        let bad = |what: &str| Err(format!("{at}: expected {what}, found {v}"));
        match (self, v) {
            (TfType::String, Value::String(_))
            | (TfType::Number, Value::Number(_))
            | (TfType::Bool, Value::Bool(_)) => Ok(()),
            (TfType::List(t), Value::Array(a)) => a
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| t.check(x, &format!("{at}[{i}]"))),
            (TfType::Map(t), Value::Object(o)) => o
                .iter()
                .try_for_each(|(k, x)| t.check(x, &format!("{at}.{k}"))),
            (TfType::Object(attrs), Value::Object(o)) => {
                for (k, t) in attrs {
                    match o.get(*k) {
                        Some(x) => t.check(x, &format!("{at}.{k}"))?,
                        None => return Err(format!("{at}: attribute `{k}` is missing")),
                    }
                }
                match o.keys().find(|k| !attrs.iter().any(|(a, _)| a == k)) {
                    Some(k) => Err(format!("{at}: attribute `{k}` is not declared")),
                    None => Ok(()),
                }
            }
            (TfType::String, _) => bad("a string"),
            (TfType::Number, _) => bad("a number"),
            (TfType::Bool, _) => bad("a bool"),
            (TfType::List(_), _) => bad("a list"),
            (TfType::Map(_), _) | (TfType::Object(_), _) => bad("an object"),
        }
    }
}

/// One Terraform variable: declaration and (unless sensitive) value.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: TfType,
    /// Description.
    pub description: String,
    /// Comment lines written above the declaration.
    pub comment: Vec<String>,
    /// Sensitive variables get no value: they are passed at apply time.
    pub sensitive: bool,
    /// The value (`None` for sensitive variables and for inputs with a default).
    pub value: Option<Value>,
    /// A default, for inputs envc cannot know and people may give in a tfvars file of their
    /// own (the IAM policies of a workload identity).
    pub default: Option<Value>,
}

impl Variable {
    /// A variable with a value and no comment.
    fn new(name: &str, ty: TfType, description: &str, value: Value) -> Self {
        Variable {
            name: name.into(),
            ty,
            description: description.into(),
            comment: Vec::new(),
            sensitive: false,
            value: Some(value),
            default: None,
        }
    }

    /// An input with a default and no value from envc.
    fn optional(name: &str, ty: TfType, description: &str, default: Value) -> Self {
        Variable {
            name: name.into(),
            ty,
            description: description.into(),
            comment: Vec::new(),
            sensitive: false,
            value: None,
            default: Some(default),
        }
    }
}

/// Every variable of the mode, in file order. `None` without a `[cloud]` table, which
/// validation refuses for helm modes before they get here.
pub fn variables(ir: &Ir) -> Option<Vec<Variable>> {
    let cloud = ir.cloud.as_ref()?;
    let mut vars = cluster(ir, cloud);
    vars.push(node_pools(ir, cloud));
    vars.push(storage(ir, cloud));
    vars.push(managed_services(ir));
    vars.push(workload_identities(ir, cloud));
    vars.push(identity_grants(cloud));
    vars.extend(secrets(ir));
    vars.extend(secrets::variable(ir));
    Some(vars)
}

/// The cluster: name, region, zones, account, version, namespaces, load balancer ranges and
/// ingress hosts.
fn cluster(ir: &Ir, cloud: &CloudSettings) -> Vec<Variable> {
    let aws = cloud.provider == Provider::Aws;
    let strings = || TfType::List(Box::new(TfType::String));
    let mut hosts: Vec<&String> = Vec::new();
    for s in ir.services.iter().filter(|s| s.is_deployed()) {
        for p in &s.ports {
            if let Some(i) = &p.ingress
                && !hosts.contains(&&i.host)
            {
                hosts.push(&i.host);
            }
        }
    }
    vec![
        Variable::new(
            "cluster_name",
            TfType::String,
            "Name of the Kubernetes cluster",
            json!(cloud.cluster_name),
        ),
        Variable::new(
            "region",
            TfType::String,
            if aws {
                "AWS region"
            } else {
                "Google Cloud region (regional cluster)"
            },
            json!(cloud.region),
        ),
        Variable::new(
            "zones",
            strings(),
            "Zones the nodes run in; replicated services spread over them",
            json!(cloud.zones),
        ),
        Variable::new(
            if aws { "account_id" } else { "project_id" },
            TfType::String,
            if aws {
                "AWS account that holds the cluster and the IAM roles"
            } else {
                "Google Cloud project that holds the cluster and the service accounts"
            },
            json!(cloud.account),
        ),
        Variable::new(
            "kubernetes_version",
            TfType::String,
            "Kubernetes minor version of the control plane and nodes",
            json!(ir.kubernetes.version.clone().unwrap_or_default()),
        ),
        Variable::new(
            "namespaces",
            strings(),
            "Namespaces the Helm chart creates (for IAM bindings and quotas)",
            json!(ir.namespaces.iter().map(|n| &n.name).collect::<Vec<_>>()),
        ),
        Variable::new(
            "load_balancer_cidrs",
            strings(),
            if aws {
                "Address ranges the ALB reaches pods from (the VPC CIDR, target-type ip); NetworkPolicies admit them on ingress ports"
            } else {
                "Google front-end and health-check ranges; NetworkPolicies admit them on ingress ports"
            },
            json!(cloud.load_balancer_cidrs),
        ),
        Variable::new(
            "ingress_hosts",
            strings(),
            "Host names the ingress serves (DNS records and certificates)",
            json!(hosts),
        ),
    ]
}

/// A taint as the EKS and GKE APIs both spell it (effects in upper snake case).
fn taint(t: &Taint) -> Value {
    let effect = match t.effect {
        TaintEffect::NoSchedule => "NO_SCHEDULE",
        TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
        TaintEffect::NoExecute => "NO_EXECUTE",
    };
    json!({"key": t.key, "value": t.value.clone().unwrap_or_default(), "effect": effect})
}

/// The sizing arithmetic of one pool, as a comment line above the declaration.
fn sizing_comment(p: &PoolSizing, aws: bool) -> String {
    format!(
        "  {}: cpu {}m -> {}m / {}m = {}; memory {} -> {} / {} = {}; min {} => {} nodes{}",
        p.name,
        p.cpu_millis,
        p.cpu_needed,
        p.node_cpu,
        p.nodes_for_cpu,
        mib(p.memory_bytes),
        mib(p.memory_needed),
        mib(p.node_memory),
        p.nodes_for_memory,
        p.min_nodes,
        p.nodes,
        if aws {
            String::new()
        } else {
            format!(" ({} per zone)", p.nodes_per_zone)
        }
    )
}

/// EKS managed node groups or GKE node pools, sized from the workloads ([`crate::cloud::size`]).
fn node_pools(ir: &Ir, cloud: &CloudSettings) -> Variable {
    let aws = cloud.provider == Provider::Aws;
    let mut pools = Vec::new();
    let mut comment = vec![format!(
        "Sizes: requests x max replicas of the services on each pool, + {}% headroom, / allocatable per node, rounded up.",
        cloud.headroom_percent
    )];
    for p in &size_pools(ir) {
        let Some(pool) = cloud.node_pools.get(p.name.as_str()) else {
            continue;
        };
        let mut labels: BTreeMap<String, String> = pool
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(NODE_POOL_LABEL.into(), p.name.clone());
        let taints: Vec<Value> = pool.taints.iter().map(taint).collect();
        comment.push(sizing_comment(p, aws));
        let disk = gib(pool.disk.bytes);
        pools.push(if aws {
            json!({
                "name": p.name,
                "instance_types": [p.machine_type],
                "min_size": p.nodes,
                "desired_size": p.nodes,
                "max_size": p.nodes.saturating_mul(2),
                "disk_size_gib": disk,
                "labels": labels,
                "taints": taints,
            })
        } else {
            json!({
                "name": p.name,
                "machine_type": p.machine_type,
                "node_count_per_zone": p.nodes_per_zone,
                "min_node_count_per_zone": p.nodes_per_zone,
                "max_node_count_per_zone": p.nodes_per_zone.saturating_mul(2),
                "disk_size_gib": disk,
                "labels": labels,
                "taints": taints,
            })
        });
    }
    Variable {
        name: if aws {
            "node_groups".into()
        } else {
            "node_pools".into()
        },
        ty: TfType::List(Box::new(node_pool_type(aws))),
        description: if aws {
            "EKS managed node groups; nodes carry the label envc.dev/node-pool=<name> the chart selects on".into()
        } else {
            "GKE node pools (counts per zone); nodes carry the label envc.dev/node-pool=<name> the chart selects on".into()
        },
        comment,
        sensitive: false,
        value: Some(json!(pools)),
        default: None,
    }
}

/// The type of one node group (AWS) or node pool (GCP, counts per zone).
fn node_pool_type(aws: bool) -> TfType {
    let taint_ty = TfType::Object(vec![
        ("key", TfType::String),
        ("value", TfType::String),
        ("effect", TfType::String),
    ]);
    let counts: [&'static str; 4] = if aws {
        ["instance_types", "min_size", "desired_size", "max_size"]
    } else {
        [
            "machine_type",
            "node_count_per_zone",
            "min_node_count_per_zone",
            "max_node_count_per_zone",
        ]
    };
    let machine = if aws {
        TfType::List(Box::new(TfType::String))
    } else {
        TfType::String
    };
    TfType::Object(vec![
        ("name", TfType::String),
        (counts[0], machine),
        (counts[1], TfType::Number),
        (counts[2], TfType::Number),
        (counts[3], TfType::Number),
        ("disk_size_gib", TfType::Number),
        ("labels", TfType::Map(Box::new(TfType::String))),
        ("taints", TfType::List(Box::new(taint_ty))),
    ])
}

/// Persistent volumes: the default storage class, its disk type, and every claim at the
/// services' maximum replicas.
fn storage(ir: &Ir, cloud: &CloudSettings) -> Variable {
    let aws = cloud.provider == Provider::Aws;
    let mut volumes = Vec::new();
    let mut total: u64 = 0;
    for s in ir.services.iter().filter(|s| s.is_deployed()) {
        for v in s.volumes.iter().filter(|v| v.owned_claim()) {
            let size = gib(v.size.as_ref().map_or(0, |b| b.bytes));
            let count = u64::from(s.max_replicas());
            total = total.saturating_add(size.saturating_mul(count));
            let class = v.storage_class.clone().unwrap_or_default();
            volumes.push(json!({"service": s.name, "volume": v.name, "storage_class": class, "size_gib": size, "count": count}));
        }
    }
    // Environment volumes: one claim each, whoever mounts them ("service" lists them).
    for v in &ir.volumes {
        let size = gib(v.size.bytes);
        total = total.saturating_add(size);
        let class = v.storage_class.clone().unwrap_or_default();
        volumes.push(json!({"service": v.used_by.join(","), "volume": v.name, "storage_class": class, "size_gib": size, "count": 1}));
    }
    let default_class = ir.kubernetes.storage_class.clone().unwrap_or_default();
    let disk_type = if aws {
        default_class.clone()
    } else if default_class.starts_with("premium") {
        "pd-ssd".into()
    } else {
        "pd-balanced".to_string()
    };
    Variable {
        name: "storage".into(),
        ty: TfType::Object(vec![
            ("storage_class", TfType::String),
            ("create_storage_class", TfType::Bool),
            ("disk_type", TfType::String),
            ("total_gib", TfType::Number),
            (
                "volumes",
                TfType::List(Box::new(TfType::Object(vec![
                    ("service", TfType::String),
                    ("volume", TfType::String),
                    ("storage_class", TfType::String),
                    ("size_gib", TfType::Number),
                    ("count", TfType::Number),
                ]))),
            ),
        ]),
        description: if aws {
            "Persistent volumes (EBS through the EBS CSI driver): the default storage class, whether Terraform creates it, and every claim".into()
        } else {
            "Persistent volumes (Persistent Disk through the PD CSI driver): the default storage class and every claim".into()
        },
        comment: vec![format!("{} claims, {total} GiB in all", volumes.len())],
        sensitive: false,
        default: None,
        value: Some(json!({
            "storage_class": default_class,
            "create_storage_class": cloud.create_storage_class,
            "disk_type": disk_type,
            "total_gib": total,
            "volumes": volumes,
        })),
    }
}

/// Managed services that replace in-cluster ones.
fn managed_services(ir: &Ir) -> Variable {
    let mut managed = Map::new();
    for s in ir.services.iter().filter(|s| !s.is_deployed()) {
        let Some(e) = &s.external else { continue };
        managed.insert(
            s.name.clone(),
            json!({
                "kind": e.kind,
                "engine_version": e.version.clone().unwrap_or_default(),
                "instance": e.instance,
                "storage_gib": e.storage.as_ref().map_or(0, |b| gib(b.bytes)),
                "memory_gib": e.memory.as_ref().map_or(0, |b| gib(b.bytes)),
                "high_availability": e.high_availability,
                "port": s.ports.first().map_or(0, |p| p.service),
                "namespace": s.namespace,
                "settings": e.settings.iter().collect::<BTreeMap<_, _>>(),
            }),
        );
    }
    Variable {
        name: "managed_services".into(),
        ty: TfType::Map(Box::new(TfType::Object(vec![
            ("kind", TfType::String),
            ("engine_version", TfType::String),
            ("instance", TfType::String),
            ("storage_gib", TfType::Number),
            ("memory_gib", TfType::Number),
            ("high_availability", TfType::Bool),
            ("port", TfType::Number),
            ("namespace", TfType::String),
            ("settings", TfType::Map(Box::new(TfType::String))),
        ]))),
        description: "Managed services that replace in-cluster ones; output <name>_host feeds the chart's external.<name>.host".into(),
        comment: Vec::new(),
        sensitive: false,
        default: None,
        value: Some(Value::Object(managed)),
    }
}

/// The cloud identities of deployed services and the ServiceAccounts bound to them.
fn workload_identities(ir: &Ir, cloud: &CloudSettings) -> Variable {
    let aws = cloud.provider == Provider::Aws;
    let mut ids = Map::new();
    for (svc, id) in &cloud.identities {
        let Some(s) = ir.service(svc).filter(|s| s.is_deployed()) else {
            continue;
        };
        let (_, principal) = identity_annotation(cloud, id);
        ids.insert(
            svc.clone(),
            json!({"name": id, "principal": principal, "namespace": s.namespace, "service_account": s.name}),
        );
    }
    Variable {
        name: "workload_identities".into(),
        ty: TfType::Map(Box::new(TfType::Object(vec![
            ("name", TfType::String),
            ("principal", TfType::String),
            ("namespace", TfType::String),
            ("service_account", TfType::String),
        ]))),
        description: if aws {
            "IAM roles for service accounts (IRSA): role name, its ARN, and the ServiceAccount it trusts".into()
        } else {
            "Workload Identity: Google service account, its email, and the Kubernetes ServiceAccount bound to it".into()
        },
        comment: Vec::new(),
        sensitive: false,
        value: Some(Value::Object(ids)),
        default: None,
    }
}

/// What each workload identity may do: envc knows which services need a cloud identity, not
/// which buckets or topics they touch, so the grants are an input with an empty default.
fn identity_grants(cloud: &CloudSettings) -> Variable {
    if cloud.provider == Provider::Aws {
        Variable::optional(
            "identity_policies",
            TfType::Map(Box::new(TfType::Map(Box::new(TfType::String)))),
            "IAM policies attached to each workload identity's role, by service: { service = { name = policy ARN } } (give them in a tfvars file of your own)",
            json!({}),
        )
    } else {
        Variable::optional(
            "identity_roles",
            TfType::Map(Box::new(TfType::List(Box::new(TfType::String)))),
            "IAM roles granted to each workload identity's Google service account, by service: { service = [\"roles/storage.objectUser\"] } (give them in a tfvars file of your own)",
            json!({}),
        )
    }
}

/// The secrets managed services need, `sensitive` and without values.
fn secrets(ir: &Ir) -> Vec<Variable> {
    sensitive_secrets(ir)
        .into_iter()
        .map(|sec| {
            let description = ir
                .secret(&sec)
                .and_then(|s| s.description.clone())
                .unwrap_or_else(|| format!("Secret `{sec}`"));
            let name = tf_secret_variable(&sec);
            Variable {
                description: format!("{description} (pass as TF_VAR_{name}; never in a file)"),
                name,
                ty: TfType::String,
                comment: Vec::new(),
                sensitive: true,
                value: None,
                default: None,
            }
        })
        .collect()
}

/// `variables.tf` and `terraform.tfvars.json` under `terraform/`.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    let Some(vars) = variables(ir) else {
        return Err(EmitError::NotRepresentable(
            "cloud".into(),
            format!(
                "mode `{}` reached the Terraform variables without a [cloud] table",
                ir.mode
            ),
        ));
    };
    let header = ir.header_lines();
    let mut out = vec![
        Artifact::text("terraform/variables.tf", variables_tf(&header, &vars)),
        Artifact::text(
            "terraform/terraform.tfvars.json",
            tfvars_json(&header, &vars)?,
        ),
    ];
    if let Some(cloud) = &ir.cloud {
        out.extend(root::emit(ir, cloud));
    }
    Ok(out)
}

fn variables_tf(header: &[String], vars: &[Variable]) -> String {
    let mut s = header::lines(header, "# ");
    for v in vars {
        s.push('\n');
        for c in &v.comment {
            let _ = writeln!(s, "# {c}");
        }
        let _ = writeln!(s, "variable \"{}\" {{", v.name);
        let _ = writeln!(s, "  description = {}", hcl_string(&v.description));
        let _ = writeln!(s, "  type        = {}", v.ty.hcl(2));
        if v.sensitive {
            s.push_str("  sensitive   = true\n");
        }
        if let Some(d) = &v.default {
            let _ = writeln!(s, "  default     = {d}");
        }
        s.push_str("}\n");
    }
    s
}

/// A quoted HCL string holding `text` literally: HCL's escapes (`\\`, `\"`, `\n`, `\r`,
/// `\t`, `\uNNNN` for other control characters), and `$${` and `%%{`, which HCL reads as a
/// literal `${` and `%{` instead of starting an interpolation or a directive (a description
/// that says `${user}` stays text).
pub fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The tfvars file: a JSON object whose `//` key (ignored by Terraform) holds the header.
fn tfvars_json(header: &[String], vars: &[Variable]) -> Result<String, EmitError> {
    let mut m = Map::new();
    m.insert("//".into(), json!(header::one_line(header)));
    for v in vars {
        if let Some(val) = &v.value
            && !v.sensitive
        {
            m.insert(v.name.clone(), val.clone());
        }
    }
    let mut s = serde_json::to_string_pretty(&Value::Object(m))
        .map_err(|e| EmitError::Serialize(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_strings_hold_text_literally() {
        assert_eq!(hcl_string("plain"), "\"plain\"");
        assert_eq!(
            hcl_string("password of ${user} and %{if x}"),
            "\"password of $${user} and %%{if x}\""
        );
        assert_eq!(hcl_string("$ and % alone, $${"), "\"$ and % alone, $$${\"");
        assert_eq!(
            hcl_string("a \"b\" \\ c\nd\u{7}"),
            "\"a \\\"b\\\" \\\\ c\\nd\\u0007\""
        );
    }

    #[test]
    fn taints_use_the_cloud_apis_spelling() {
        let t = Taint::parse("dedicated=storage:PreferNoSchedule").map(|t| taint(&t));
        assert_eq!(
            t,
            Some(json!({"key": "dedicated", "value": "storage", "effect": "PREFER_NO_SCHEDULE"}))
        );
        let t = Taint::parse("gpu:NoExecute").map(|t| taint(&t));
        assert_eq!(
            t,
            Some(json!({"key": "gpu", "value": "", "effect": "NO_EXECUTE"}))
        );
    }

    #[test]
    fn types_render_and_check() {
        let t = TfType::List(Box::new(TfType::Object(vec![
            ("name", TfType::String),
            ("size", TfType::Number),
        ])));
        assert_eq!(
            t.hcl(2),
            "list(object({\n    name = string\n    size = number\n  }))"
        );
        assert!(t.check(&json!([{"name": "a", "size": 1}]), "v").is_ok());
        assert!(t.check(&json!([{"name": "a"}]), "v").is_err());
        assert!(t.check(&json!([{"name": "a", "size": "1"}]), "v").is_err());
        assert!(
            t.check(&json!([{"name": "a", "size": 1, "extra": true}]), "v")
                .is_err()
        );
        assert!(
            TfType::Map(Box::new(TfType::Bool))
                .check(&json!({"a": true, "b": 1}), "m")
                .is_err()
        );
    }

    #[test]
    fn tfvars_hold_every_value_but_the_sensitive_ones() {
        let vars = vec![
            Variable {
                name: "a".into(),
                ty: TfType::String,
                description: "d".into(),
                comment: vec![],
                sensitive: false,
                value: Some(json!("x")),
                default: None,
            },
            Variable {
                name: "pw".into(),
                ty: TfType::String,
                description: "d".into(),
                comment: vec![],
                sensitive: true,
                value: None,
                default: None,
            },
        ];
        let j = tfvars_json(&["h".into()], &vars).unwrap_or_default();
        let v: Value = serde_json::from_str(&j).unwrap_or(Value::Null);
        assert_eq!(v, json!({"//": "h", "a": "x"}));
        let tf = variables_tf(&["h".into()], &vars);
        assert!(tf.contains("variable \"pw\" {\n  description = \"d\"\n  type        = string\n  sensitive   = true\n}"));
    }
}
