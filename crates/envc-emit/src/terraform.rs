//! Terraform variables of a prod mode's cluster: `terraform/variables.tf` (typed declarations
//! with descriptions; secrets `sensitive` and never given values) and
//! `terraform/terraform.tfvars.json` (their values). Both come from one list of
//! [`Variable`]s, so every value is declared with the type it has.
//!
//! Node pools are sized from the workloads: for each pool, the sum of requests times maximum
//! replicas of the services placed on it, plus the profile's headroom, divided by what one
//! node offers to pods, rounded up (see [`size_pools`]).

use std::fmt::Write as _;

use envc_core::Ir;
use envc_core::ir::{EnvValue, Segment, Service};
use envc_model::profile::{CloudSettings, Provider};
use serde_json::{Map, Value, json};

use crate::artifact::{Artifact, EmitError};
use crate::helm::{NODE_POOL_LABEL, parse_taint, pool_of};
use crate::yaml;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

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
    /// The value (`None` for sensitive variables).
    pub value: Option<Value>,
}

/// One service's share of a node pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolLine {
    /// Service.
    pub service: String,
    /// CPU request of one replica (millicores; the limit when no request is set).
    pub cpu_millis: u64,
    /// Memory request of one replica (bytes; the limit when no request is set).
    pub memory_bytes: u64,
    /// Maximum replicas.
    pub replicas: u32,
}

/// The sizing of one node pool, with every step of the arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSizing {
    /// Pool name.
    pub name: String,
    /// Instance or machine type.
    pub machine_type: String,
    /// Services on the pool.
    pub lines: Vec<PoolLine>,
    /// Sum of CPU requests x replicas (millicores).
    pub cpu_millis: u64,
    /// Sum of memory requests x replicas (bytes).
    pub memory_bytes: u64,
    /// With headroom (millicores).
    pub cpu_needed: u64,
    /// With headroom (bytes).
    pub memory_needed: u64,
    /// Allocatable CPU of one node (millicores).
    pub node_cpu: u64,
    /// Allocatable memory of one node (bytes).
    pub node_memory: u64,
    /// Nodes the CPU needs.
    pub nodes_for_cpu: u64,
    /// Nodes the memory needs.
    pub nodes_for_memory: u64,
    /// The pool's minimum (one per zone unless the profile says otherwise).
    pub min_nodes: u64,
    /// Nodes: the largest of the three (on GKE, rounded up to a multiple of the zones).
    pub nodes: u64,
    /// Nodes per zone (GKE node pools are sized per zone).
    pub nodes_per_zone: u64,
}

/// `a / b` rounded up (`b` > 0).
pub fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

/// Memory in MiB, as text (`1536Mi`).
pub fn mib(bytes: u64) -> String {
    format!("{}Mi", div_ceil(bytes, MIB))
}

fn request_cpu(s: &Service) -> u64 {
    let r = &s.resources;
    r.requests
        .cpu
        .as_ref()
        .or(r.limits.cpu.as_ref())
        .map_or(0, |c| c.millis)
}

fn request_memory(s: &Service) -> u64 {
    let r = &s.resources;
    r.requests
        .memory
        .as_ref()
        .or(r.limits.memory.as_ref())
        .map_or(0, |b| b.bytes)
}

/// Sizes the cloud's node pools for the deployed services at their maximum replicas.
pub fn size_pools(ir: &Ir) -> Result<Vec<PoolSizing>, EmitError> {
    let Some(cloud) = &ir.cloud else {
        return Ok(Vec::new());
    };
    size(cloud, ir.services.iter().filter(|s| s.is_deployed()))
}

fn size<'a>(
    cloud: &CloudSettings,
    services: impl Iterator<Item = &'a Service>,
) -> Result<Vec<PoolSizing>, EmitError> {
    let services: Vec<&Service> = services.collect();
    let zones = cloud.zones.len().max(1) as u64;
    let mut out = Vec::new();
    for (name, pool) in &cloud.node_pools {
        let lines: Vec<PoolLine> = services
            .iter()
            .filter(|s| pool_of(cloud, &s.name) == Some(name.as_str()))
            .map(|s| PoolLine {
                service: s.name.clone(),
                cpu_millis: request_cpu(s),
                memory_bytes: request_memory(s),
                replicas: s.max_replicas(),
            })
            .collect();
        let node_cpu = pool.cpu.millis;
        let node_memory = pool.memory.bytes;
        if node_cpu == 0 || node_memory == 0 {
            return Err(EmitError::NotRepresentable(
                format!("cloud.node_pools.{name}"),
                "a node must offer some CPU and memory to pods".into(),
            ));
        }
        for l in &lines {
            if l.cpu_millis > node_cpu || l.memory_bytes > node_memory {
                return Err(EmitError::NotRepresentable(
                    format!("services.{}.resources.requests", l.service),
                    format!(
                        "one replica requests more than a node of pool `{name}` ({}) offers",
                        pool.machine_type
                    ),
                ));
            }
        }
        let cpu_millis: u64 = lines
            .iter()
            .map(|l| l.cpu_millis * u64::from(l.replicas))
            .sum();
        let memory_bytes: u64 = lines
            .iter()
            .map(|l| l.memory_bytes * u64::from(l.replicas))
            .sum();
        let factor = 100 + u64::from(cloud.headroom_percent);
        let cpu_needed = div_ceil(cpu_millis * factor, 100);
        let memory_needed = div_ceil(memory_bytes * factor, 100);
        let nodes_for_cpu = div_ceil(cpu_needed, node_cpu);
        let nodes_for_memory = div_ceil(memory_needed, node_memory);
        let min_nodes = pool.min_nodes.map_or(zones, u64::from).max(1);
        let mut nodes = nodes_for_cpu.max(nodes_for_memory).max(min_nodes);
        let nodes_per_zone = div_ceil(nodes, zones);
        if cloud.provider == Provider::Gcp {
            nodes = nodes_per_zone * zones;
        }
        out.push(PoolSizing {
            name: name.clone(),
            machine_type: pool.machine_type.clone(),
            lines,
            cpu_millis,
            memory_bytes,
            cpu_needed,
            memory_needed,
            node_cpu,
            node_memory,
            nodes_for_cpu,
            nodes_for_memory,
            min_nodes,
            nodes,
            nodes_per_zone,
        });
    }
    Ok(out)
}

/// Secrets Terraform needs: those a managed service's own env uses (its admin password).
pub fn sensitive_secrets(ir: &Ir) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in ir.services.iter().filter(|s| !s.is_deployed()) {
        for e in &s.env {
            let names: Vec<&String> = match &e.value {
                EnvValue::Secret(n) => vec![n],
                EnvValue::Template(segs) => segs
                    .iter()
                    .filter_map(|x| match x {
                        Segment::Secret(n) => Some(n),
                        Segment::Text(_) => None,
                    })
                    .collect(),
                EnvValue::Text(_) => Vec::new(),
            };
            for n in names {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
    }
    out
}

/// The Terraform variable name of a secret.
pub fn secret_variable(secret: &str) -> String {
    secret.replace('-', "_")
}

fn gib(bytes: u64) -> u64 {
    div_ceil(bytes, GIB)
}

/// Every variable of the mode, in file order.
pub fn variables(ir: &Ir) -> Result<Vec<Variable>, EmitError> {
    let Some(cloud) = &ir.cloud else {
        return Err(EmitError::NotRepresentable(
            "cloud".into(),
            format!(
                "mode `{}` uses the helm backend but its profile has no [cloud] table",
                ir.mode
            ),
        ));
    };
    let aws = cloud.provider == Provider::Aws;
    let var = |name: &str, ty: TfType, description: &str, value: Value| Variable {
        name: name.into(),
        ty,
        description: description.into(),
        comment: Vec::new(),
        sensitive: false,
        value: Some(value),
    };
    let mut vars = vec![
        var(
            "cluster_name",
            TfType::String,
            "Name of the Kubernetes cluster",
            json!(cloud.cluster_name),
        ),
        var(
            "region",
            TfType::String,
            if aws {
                "AWS region"
            } else {
                "Google Cloud region (regional cluster)"
            },
            json!(cloud.region),
        ),
        var(
            "zones",
            TfType::List(Box::new(TfType::String)),
            "Zones the nodes run in; replicated services spread over them",
            json!(cloud.zones),
        ),
        var(
            if aws { "account_id" } else { "project_id" },
            TfType::String,
            if aws {
                "AWS account that holds the cluster and the IAM roles"
            } else {
                "Google Cloud project that holds the cluster and the service accounts"
            },
            json!(cloud.account),
        ),
        var(
            "kubernetes_version",
            TfType::String,
            "Kubernetes minor version of the control plane and nodes",
            json!(ir.kubernetes.version.clone().unwrap_or_default()),
        ),
        var(
            "namespaces",
            TfType::List(Box::new(TfType::String)),
            "Namespaces the Helm chart creates (for IAM bindings and quotas)",
            json!(ir.namespaces.iter().map(|n| &n.name).collect::<Vec<_>>()),
        ),
        var(
            "load_balancer_cidrs",
            TfType::List(Box::new(TfType::String)),
            if aws {
                "Address ranges the ALB reaches pods from (the VPC CIDR, target-type ip); NetworkPolicies admit them on ingress ports"
            } else {
                "Google front-end and health-check ranges; NetworkPolicies admit them on ingress ports"
            },
            json!(cloud.load_balancer_cidrs),
        ),
    ];
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
    vars.push(var(
        "ingress_hosts",
        TfType::List(Box::new(TfType::String)),
        "Host names the ingress serves (DNS records and certificates)",
        json!(hosts),
    ));

    // Node pools.
    let sizing = size_pools(ir)?;
    let taint_ty = TfType::Object(vec![
        ("key", TfType::String),
        ("value", TfType::String),
        ("effect", TfType::String),
    ]);
    let mut pools = Vec::new();
    let mut comment = vec![format!(
        "Sizes: requests x max replicas of the services on each pool, + {}% headroom, / allocatable per node, rounded up.",
        cloud.headroom_percent
    )];
    for p in &sizing {
        let pool = &cloud.node_pools[p.name.as_str()];
        let mut labels: std::collections::BTreeMap<String, String> = pool
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(NODE_POOL_LABEL.into(), p.name.clone());
        let mut taints = Vec::new();
        for t in &pool.taints {
            let Some((key, value, effect)) = parse_taint(t) else {
                return Err(EmitError::NotRepresentable(
                    format!("cloud.node_pools.{}.taints", p.name),
                    format!("`{t}` is not a taint"),
                ));
            };
            // The EKS and GKE APIs both spell effects in upper snake case.
            let effect = match effect.as_str() {
                "NoSchedule" => "NO_SCHEDULE",
                "PreferNoSchedule" => "PREFER_NO_SCHEDULE",
                _ => "NO_EXECUTE",
            };
            taints.push(json!({"key": key, "value": value.unwrap_or_default(), "effect": effect}));
        }
        comment.push(format!(
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
        ));
        let disk = gib(pool.disk.bytes);
        pools.push(if aws {
            json!({
                "name": p.name,
                "instance_types": [p.machine_type],
                "min_size": p.nodes,
                "desired_size": p.nodes,
                "max_size": p.nodes * 2,
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
                "max_node_count_per_zone": p.nodes_per_zone * 2,
                "disk_size_gib": disk,
                "labels": labels,
                "taints": taints,
            })
        });
    }
    let pool_ty = if aws {
        TfType::Object(vec![
            ("name", TfType::String),
            ("instance_types", TfType::List(Box::new(TfType::String))),
            ("min_size", TfType::Number),
            ("desired_size", TfType::Number),
            ("max_size", TfType::Number),
            ("disk_size_gib", TfType::Number),
            ("labels", TfType::Map(Box::new(TfType::String))),
            ("taints", TfType::List(Box::new(taint_ty))),
        ])
    } else {
        TfType::Object(vec![
            ("name", TfType::String),
            ("machine_type", TfType::String),
            ("node_count_per_zone", TfType::Number),
            ("min_node_count_per_zone", TfType::Number),
            ("max_node_count_per_zone", TfType::Number),
            ("disk_size_gib", TfType::Number),
            ("labels", TfType::Map(Box::new(TfType::String))),
            ("taints", TfType::List(Box::new(taint_ty))),
        ])
    };
    vars.push(Variable {
        name: if aws { "node_groups".into() } else { "node_pools".into() },
        ty: TfType::List(Box::new(pool_ty)),
        description: if aws {
            "EKS managed node groups; nodes carry the label envc.dev/node-pool=<name> the chart selects on".into()
        } else {
            "GKE node pools (counts per zone); nodes carry the label envc.dev/node-pool=<name> the chart selects on".into()
        },
        comment,
        sensitive: false,
        value: Some(json!(pools)),
    });

    // Storage.
    let mut volumes = Vec::new();
    let mut total = 0;
    let mut classes: Vec<String> = Vec::new();
    for s in ir.services.iter().filter(|s| s.is_deployed()) {
        for v in s.volumes.iter().filter(|v| v.persistent) {
            let size = gib(v.size.as_ref().map_or(0, |b| b.bytes));
            let count = u64::from(s.max_replicas());
            total += size * count;
            let class = v.storage_class.clone().unwrap_or_default();
            if !classes.contains(&class) {
                classes.push(class.clone());
            }
            volumes.push(json!({"service": s.name, "volume": v.name, "storage_class": class, "size_gib": size, "count": count}));
        }
    }
    let default_class = ir.kubernetes.storage_class.clone().unwrap_or_default();
    vars.push(Variable {
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
        value: Some(json!({
            "storage_class": default_class,
            "create_storage_class": cloud.create_storage_class,
            "disk_type": if aws { default_class.clone() } else if default_class.starts_with("premium") { "pd-ssd".into() } else { "pd-balanced".to_string() },
            "total_gib": total,
            "volumes": volumes,
        })),
    });

    // Managed services.
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
                "settings": e.settings.iter().collect::<std::collections::BTreeMap<_, _>>(),
            }),
        );
    }
    vars.push(Variable {
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
        value: Some(Value::Object(managed)),
    });

    // Workload identities.
    let mut ids = Map::new();
    for (svc, id) in &cloud.identities {
        let Some(s) = ir.service(svc).filter(|s| s.is_deployed()) else {
            continue;
        };
        let (_, principal) = crate::helm::identity_annotation(cloud, id);
        ids.insert(
            svc.clone(),
            json!({"name": id, "principal": principal, "namespace": s.namespace, "service_account": s.name}),
        );
    }
    vars.push(Variable {
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
    });

    for sec in sensitive_secrets(ir) {
        let description = ir
            .secret(&sec)
            .and_then(|s| s.description.clone())
            .unwrap_or_else(|| format!("Secret `{sec}`"));
        vars.push(Variable {
            name: secret_variable(&sec),
            ty: TfType::String,
            description: format!(
                "{description} (pass as TF_VAR_{}; never in a file)",
                secret_variable(&sec)
            ),
            comment: Vec::new(),
            sensitive: true,
            value: None,
        });
    }
    Ok(vars)
}

/// `variables.tf` and `terraform.tfvars.json` under `terraform/`.
pub fn emit(ir: &Ir) -> Result<Vec<Artifact>, EmitError> {
    let vars = variables(ir)?;
    let header = ir.header_lines();
    Ok(vec![
        Artifact::text("terraform/variables.tf", variables_tf(&header, &vars)),
        Artifact::text(
            "terraform/terraform.tfvars.json",
            tfvars_json(&header, &vars)?,
        ),
    ])
}

fn variables_tf(header: &[String], vars: &[Variable]) -> String {
    let mut s = yaml::header(header, "# ");
    for v in vars {
        s.push('\n');
        for c in &v.comment {
            let _ = writeln!(s, "# {c}");
        }
        let _ = writeln!(s, "variable \"{}\" {{", v.name);
        let _ = writeln!(
            s,
            "  description = {}",
            serde_json::to_string(&v.description).unwrap_or_default()
        );
        let _ = writeln!(s, "  type        = {}", v.ty.hcl(2));
        if v.sensitive {
            s.push_str("  sensitive   = true\n");
        }
        s.push_str("}\n");
    }
    s
}

/// The tfvars file: a JSON object whose `//` key (ignored by Terraform) holds the header.
fn tfvars_json(header: &[String], vars: &[Variable]) -> Result<String, EmitError> {
    let mut m = Map::new();
    m.insert("//".into(), json!(crate::helm::header_one_line(header)));
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
    use envc_model::model::{CpuMemory, Resources};
    use envc_model::profile::NodePool;
    use envc_model::quantity::{Bytes, Cpu};
    use indexmap::IndexMap;

    fn pool(cpu: &str, mem: &str, services: &[&str]) -> NodePool {
        NodePool {
            machine_type: "m".into(),
            cpu: Cpu::parse(cpu).unwrap_or_else(|_| Cpu::from_millis(0)),
            memory: Bytes::parse(mem).unwrap_or_else(|_| Bytes::from_bytes(0)),
            disk: Bytes::from_bytes(100 * GIB),
            min_nodes: None,
            services: services.iter().map(|s| s.to_string()).collect(),
            labels: IndexMap::new(),
            taints: Vec::new(),
        }
    }

    fn cloud(provider: Provider, pools: Vec<(&str, NodePool)>) -> CloudSettings {
        CloudSettings {
            provider,
            cluster_name: "c".into(),
            region: "r".into(),
            zones: vec!["a".into(), "b".into(), "c".into()],
            account: "1".into(),
            load_balancer_cidrs: Vec::new(),
            headroom_percent: 25,
            node_pools: pools.into_iter().map(|(n, p)| (n.to_string(), p)).collect(),
            identities: IndexMap::new(),
            create_storage_class: false,
        }
    }

    fn svc(name: &str, cpu: &str, mem: &str, replicas: u32) -> Service {
        let mut s = Service::new(name, "app", "x:1.0.0");
        s.resources = Resources {
            requests: CpuMemory {
                cpu: Cpu::parse(cpu).ok(),
                memory: Bytes::parse(mem).ok(),
            },
            limits: CpuMemory::default(),
        };
        s.replicas = replicas;
        s
    }

    #[test]
    fn pools_cover_requests_times_replicas_plus_headroom() {
        let c = cloud(
            Provider::Aws,
            vec![
                ("general", pool("2", "8Gi", &[])),
                ("storage", pool("4", "16Gi", &["minio"])),
            ],
        );
        let services = [
            svc("api", "500m", "1Gi", 6),
            svc("minio", "1", "4Gi", 4),
            svc("web", "250m", "512Mi", 2),
        ];
        let sized = size(&c, services.iter()).unwrap_or_default();
        let general = &sized[0];
        // 500m x 6 + 250m x 2 = 3500m; x 1.25 = 4375m; / 2000m = 2.19 -> 3.
        assert_eq!(
            (
                general.cpu_millis,
                general.cpu_needed,
                general.nodes_for_cpu
            ),
            (3500, 4375, 3)
        );
        // 1Gi x 6 + 512Mi x 2 = 7Gi; x 1.25 = 8.75Gi; / 8Gi -> 2.
        assert_eq!(
            (general.memory_bytes, general.nodes_for_memory),
            (7 * GIB, 2)
        );
        assert_eq!(general.nodes, 3);
        let storage = &sized[1];
        // 4 x 1 CPU = 4000m -> 5000m / 4000m -> 2; 16Gi -> 20Gi / 16Gi -> 2; three zones win.
        assert_eq!(
            (
                storage.nodes_for_cpu,
                storage.nodes_for_memory,
                storage.min_nodes,
                storage.nodes
            ),
            (2, 2, 3, 3)
        );
        for p in &sized {
            assert!(
                p.nodes * p.node_cpu >= p.cpu_millis && p.nodes * p.node_memory >= p.memory_bytes
            );
        }
    }

    #[test]
    fn gke_rounds_to_whole_zones_and_oversized_pods_are_refused() {
        let c = cloud(Provider::Gcp, vec![("general", pool("1", "4Gi", &[]))]);
        let services = [svc("api", "900m", "1Gi", 4)];
        let sized = size(&c, services.iter()).unwrap_or_default();
        // 3600m x 1.25 = 4500m / 1000m -> 5 nodes -> 2 per zone -> 6.
        assert_eq!(
            (
                sized[0].nodes_for_cpu,
                sized[0].nodes_per_zone,
                sized[0].nodes
            ),
            (5, 2, 6)
        );
        let too_big = [svc("big", "2", "1Gi", 1)];
        assert!(
            matches!(size(&c, too_big.iter()), Err(EmitError::NotRepresentable(p, _)) if p == "services.big.resources.requests")
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
            },
            Variable {
                name: "pw".into(),
                ty: TfType::String,
                description: "d".into(),
                comment: vec![],
                sensitive: true,
                value: None,
            },
        ];
        let j = tfvars_json(&["h".into()], &vars).unwrap_or_default();
        let v: Value = serde_json::from_str(&j).unwrap_or(Value::Null);
        assert_eq!(v, json!({"//": "h", "a": "x"}));
        let tf = variables_tf(&["h".into()], &vars);
        assert!(tf.contains("variable \"pw\" {\n  description = \"d\"\n  type        = string\n  sensitive   = true\n}"));
    }
}
