//! The cloud settings of a prod mode as every artifact of the Helm mode reads them: the chart
//! (placement, identity, managed endpoints), the Terraform variables (node pools, identities)
//! and the README (sizing arithmetic, deploy commands). Kept below those three so each states
//! a rule once: which pool a service runs on, how pools are sized, how an identity is spelled.

use envc_core::Ir;
use envc_core::ir::{EnvValue, Segment, Service};
use envc_model::profile::{CloudSettings, Provider};
use envc_model::{Diagnostic, Diagnostics};

/// Node label Terraform puts on the nodes of each pool; workloads select their pool by it.
pub const NODE_POOL_LABEL: &str = "envc.dev/node-pool";

/// Top-level domain of placeholder endpoints (RFC 2606: never resolves).
pub const PLACEHOLDER_TLD: &str = "invalid";

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// The node pool a service runs on: the pool that lists it, else the first.
pub fn pool_of<'a>(cloud: &'a CloudSettings, service: &str) -> Option<&'a str> {
    cloud
        .node_pools
        .iter()
        .find(|(_, p)| p.services.iter().any(|s| s == service))
        .or_else(|| cloud.node_pools.first())
        .map(|(n, _)| n.as_str())
}

/// The ServiceAccount annotation that binds a service to its cloud identity.
pub fn identity_annotation(cloud: &CloudSettings, identity: &str) -> (String, String) {
    match cloud.provider {
        Provider::Aws => (
            "eks.amazonaws.com/role-arn".into(),
            format!("arn:aws:iam::{}:role/{identity}", cloud.account),
        ),
        Provider::Gcp => (
            "iam.gke.io/gcp-service-account".into(),
            format!("{identity}@{}.iam.gserviceaccount.com", cloud.account),
        ),
    }
}

/// The placeholder endpoint of a managed service until the deploy sets the real one.
pub fn placeholder_host(service: &str) -> String {
    format!("{service}.endpoint.{PLACEHOLDER_TLD}")
}

/// Terraform's name of a service's `<service>_host` output (the managed endpoint).
pub fn host_output(service: &str) -> String {
    format!("{}_host", service.replace('-', "_"))
}

/// Secrets the cloud needs: those a managed service's own env uses (its admin password).
/// Terraform declares them `sensitive`; the README says how to pass them.
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

/// Bytes in GiB, rounded up (disk and volume sizes).
pub fn gib(bytes: u64) -> u64 {
    div_ceil(bytes, GIB)
}

/// The CPU one replica of a service asks the scheduler for (millicores): its request, else its
/// limit (which Kubernetes then uses as the request).
pub fn request_cpu(s: &Service) -> u64 {
    let r = &s.resources;
    r.requests
        .cpu
        .as_ref()
        .or(r.limits.cpu.as_ref())
        .map_or(0, |c| c.millis)
}

/// The memory one replica of a service asks the scheduler for (bytes), as [`request_cpu`].
pub fn request_memory(s: &Service) -> u64 {
    let r = &s.resources;
    r.requests
        .memory
        .as_ref()
        .or(r.limits.memory.as_ref())
        .map_or(0, |b| b.bytes)
}

/// Managed offerings Terraform can create, by the `kind` a service's `external` table names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedKind {
    /// Amazon RDS for PostgreSQL.
    RdsPostgres,
    /// Amazon ElastiCache for Redis (a replication group).
    ElasticacheRedis,
    /// Cloud SQL for PostgreSQL.
    CloudSqlPostgres,
    /// Memorystore for Redis.
    MemorystoreRedis,
}

impl ManagedKind {
    /// Every kind, as a profile spells it.
    pub const ALL: [(&'static str, ManagedKind); 4] = [
        ("rds-postgres", ManagedKind::RdsPostgres),
        ("elasticache-redis", ManagedKind::ElasticacheRedis),
        ("cloud-sql-postgres", ManagedKind::CloudSqlPostgres),
        ("memorystore-redis", ManagedKind::MemorystoreRedis),
    ];

    /// The kind a profile names, if Terraform knows it.
    pub fn parse(kind: &str) -> Option<ManagedKind> {
        Self::ALL.iter().find(|(k, _)| *k == kind).map(|(_, m)| *m)
    }

    /// The cloud that offers it.
    pub fn provider(self) -> Provider {
        match self {
            ManagedKind::RdsPostgres | ManagedKind::ElasticacheRedis => Provider::Aws,
            ManagedKind::CloudSqlPostgres | ManagedKind::MemorystoreRedis => Provider::Gcp,
        }
    }

    /// The `settings` keys it reads (anything else is a model error).
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            ManagedKind::RdsPostgres | ManagedKind::CloudSqlPostgres => &["database", "username"],
            ManagedKind::ElasticacheRedis | ManagedKind::MemorystoreRedis => &[],
        }
    }
}

/// Services that cannot be placed: one replica asks for more CPU or memory than a node of its
/// pool offers to pods, so the scheduler would never run it and no node count is enough.
pub fn check(ir: &Ir) -> Diagnostics {
    let mut d = Diagnostics::new();
    let Some(cloud) = &ir.cloud else {
        return d;
    };
    for s in ir.services.iter().filter(|s| s.is_deployed()) {
        let Some((name, pool)) =
            pool_of(cloud, &s.name).and_then(|n| cloud.node_pools.get_key_value(n))
        else {
            continue;
        };
        let r = &s.resources;
        let asks = [
            (
                "cpu",
                "CPU",
                request_cpu(s) > pool.cpu.millis,
                r.requests.cpu.is_some(),
                r.requests
                    .cpu
                    .as_ref()
                    .or(r.limits.cpu.as_ref())
                    .map(|c| c.text.clone()),
                &pool.cpu.text,
            ),
            (
                "memory",
                "memory",
                request_memory(s) > pool.memory.bytes,
                r.requests.memory.is_some(),
                r.requests
                    .memory
                    .as_ref()
                    .or(r.limits.memory.as_ref())
                    .map(|b| b.text.clone()),
                &pool.memory.text,
            ),
        ];
        for (key, what, too_big, requested, amount, offers) in asks {
            if !too_big {
                continue;
            }
            let set = if requested { "requests" } else { "limits" };
            d.push(
                Diagnostic::error(
                    "E-pool-too-small",
                    format!(
                        "one replica of `{}` asks for {} {what}, more than a node of pool `{name}` ({}) offers to pods ({offers})",
                        s.name,
                        amount.unwrap_or_default(),
                        pool.machine_type
                    ),
                )
                .path(format!("services.{}.resources.{set}.{key}", s.name))
                .hint(format!(
                    "lower the {what} {}, give pool `{name}` larger nodes, or place `{}` on another pool (`cloud.node_pools.<pool>.services`)",
                    if requested { "request" } else { "limit (the request when none is set)" },
                    s.name
                )),
            );
        }
    }
    check_managed(ir, cloud, &mut d);
    d
}

/// Managed services Terraform cannot create: a kind it does not know, one of the other
/// cloud, or settings it would not read.
fn check_managed(ir: &Ir, cloud: &CloudSettings, d: &mut Diagnostics) {
    for s in ir.services.iter().filter(|s| !s.is_deployed()) {
        let Some(e) = &s.external else { continue };
        let at = format!("services.{}.external", s.name);
        let Some(kind) = ManagedKind::parse(&e.kind) else {
            let known: Vec<&str> = ManagedKind::ALL
                .iter()
                .filter(|(_, k)| k.provider() == cloud.provider)
                .map(|(n, _)| *n)
                .collect();
            d.push(
                Diagnostic::error(
                    "E-managed-kind",
                    format!("unknown managed service kind `{}` for `{}`", e.kind, s.name),
                )
                .path(format!("{at}.kind"))
                .hint(format!("this cloud offers: {}", known.join(", "))),
            );
            continue;
        };
        if kind.provider() != cloud.provider {
            d.push(
                Diagnostic::error(
                    "E-managed-kind",
                    format!(
                        "`{}` is a managed service of another cloud than mode `{}`'s",
                        e.kind, ir.mode
                    ),
                )
                .path(format!("{at}.kind"))
                .hint(format!(
                    "name one of this cloud's: {}",
                    ManagedKind::ALL
                        .iter()
                        .filter(|(_, k)| k.provider() == cloud.provider)
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        for key in e.settings.keys() {
            if !kind.settings().contains(&key.as_str()) {
                d.push(
                    Diagnostic::error(
                        "E-managed-setting",
                        format!("`{}` does not read setting `{key}`", e.kind),
                    )
                    .path(format!("{at}.settings.{key}"))
                    .hint(if kind.settings().is_empty() {
                        format!("`{}` takes no settings: remove it", e.kind)
                    } else {
                        format!("known settings: {}", kind.settings().join(", "))
                    }),
                );
            }
        }
    }
}

/// Sizes the cloud's node pools for the deployed services at their maximum replicas.
pub fn size_pools(ir: &Ir) -> Vec<PoolSizing> {
    let Some(cloud) = &ir.cloud else {
        return Vec::new();
    };
    size(cloud, ir.services.iter().filter(|s| s.is_deployed()))
}

/// Sizes every pool of `cloud` for `services`. The inputs are checked before emission
/// (a replica that fits no node is `E-pool-too-small`); the arithmetic saturates rather than
/// overflows on absurd quantities.
pub fn size<'a>(
    cloud: &CloudSettings,
    services: impl Iterator<Item = &'a Service>,
) -> Vec<PoolSizing> {
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
        let total = |f: fn(&PoolLine) -> u64| {
            lines.iter().fold(0u64, |acc, l| {
                acc.saturating_add(f(l).saturating_mul(u64::from(l.replicas)))
            })
        };
        let cpu_millis = total(|l| l.cpu_millis);
        let memory_bytes = total(|l| l.memory_bytes);
        let factor = 100 + u64::from(cloud.headroom_percent);
        let cpu_needed = div_ceil(cpu_millis.saturating_mul(factor), 100);
        let memory_needed = div_ceil(memory_bytes.saturating_mul(factor), 100);
        let (node_cpu, node_memory) = (pool.cpu.millis, pool.memory.bytes);
        let nodes_for_cpu = div_ceil(cpu_needed, node_cpu);
        let nodes_for_memory = div_ceil(memory_needed, node_memory);
        let min_nodes = pool.min_nodes.map_or(zones, u64::from).max(1);
        let mut nodes = nodes_for_cpu.max(nodes_for_memory).max(min_nodes);
        let nodes_per_zone = div_ceil(nodes, zones);
        if cloud.provider == Provider::Gcp {
            nodes = nodes_per_zone.saturating_mul(zones);
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
    out
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
            cpu: Cpu::parse(cpu).unwrap_or_else(|_| Cpu::from_millis(1)),
            memory: Bytes::parse(mem).unwrap_or_else(|_| Bytes::from_bytes(1)),
            disk: Bytes::from_bytes(100 * GIB),
            min_nodes: None,
            services: services.iter().map(|s| s.to_string()).collect(),
            labels: IndexMap::new(),
            taints: Vec::new(),
        }
    }

    /// A cloud with three zones and the given pools.
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
        let sized = size(&c, services.iter());
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
    fn gke_rounds_to_whole_zones() {
        let c = cloud(Provider::Gcp, vec![("general", pool("1", "4Gi", &[]))]);
        let services = [svc("api", "900m", "1Gi", 4)];
        let sized = size(&c, services.iter());
        // 3600m x 1.25 = 4500m / 1000m -> 5 nodes -> 2 per zone -> 6.
        assert_eq!(
            (
                sized[0].nodes_for_cpu,
                sized[0].nodes_per_zone,
                sized[0].nodes
            ),
            (5, 2, 6)
        );
    }

    #[test]
    fn absurd_quantities_saturate_instead_of_overflowing() {
        let c = cloud(Provider::Aws, vec![("general", pool("1", "4Gi", &[]))]);
        let services = [svc("api", "1", "8E", u32::MAX)];
        let sized = size(&c, services.iter());
        assert_eq!(sized[0].memory_bytes, u64::MAX);
    }
}
