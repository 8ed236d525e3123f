//! The Terraform root module of a prod mode: `versions.tf` (Terraform, providers and their
//! pinned versions), `main.tf` (the cluster, its network, node pools, storage classes,
//! workload identities and managed services, through pinned community modules) and
//! `outputs.tf` (every value the generated README tells people to read). It consumes the
//! variables of `variables.tf` and nothing else, so `terraform apply
//! -var-file=terraform.tfvars.json` runs on what envc writes.
//!
//! The modules are the terraform-aws-modules (VPC, EKS, IAM roles for service accounts, RDS,
//! ElastiCache, EFS) on AWS and the terraform-google-modules (network, GKE, workload identity,
//! Cloud SQL, Memorystore) on Google Cloud. Their pinned versions are in [`MODULES`]; the
//! conformance test checks every argument against each module's own `variables.tf` at that
//! version (vendored under `tests/fixtures/terraform-modules/`).

use envc_core::Ir;
use envc_core::ir::{EnvValue, Service};
use envc_model::profile::{CloudSettings, Provider};

use super::hcl::{Item, attr, attr_str, block, comment, file, object, string_list};
use super::hcl_string;
use crate::artifact::Artifact;
use crate::cloud::ManagedKind;
use crate::header;
use crate::name::tf_secret_variable;

/// A pinned community module: its registry source and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    /// Registry source (`terraform-aws-modules/eks/aws`, with `//modules/x` for a submodule).
    pub source: &'static str,
    /// Exact version.
    pub version: &'static str,
}

const VPC: Module = Module {
    source: "terraform-aws-modules/vpc/aws",
    version: "6.6.0",
};
const EKS: Module = Module {
    source: "terraform-aws-modules/eks/aws",
    version: "21.19.0",
};
pub(super) const IRSA: Module = Module {
    source: "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts",
    version: "6.5.0",
};
const RDS: Module = Module {
    source: "terraform-aws-modules/rds/aws",
    version: "7.2.0",
};
const ELASTICACHE: Module = Module {
    source: "terraform-aws-modules/elasticache/aws",
    version: "1.10.3",
};
const EFS: Module = Module {
    source: "terraform-aws-modules/efs/aws",
    version: "2.0.0",
};
const NETWORK: Module = Module {
    source: "terraform-google-modules/network/google",
    version: "18.1.0",
};
const GKE: Module = Module {
    source: "terraform-google-modules/kubernetes-engine/google",
    version: "44.2.0",
};
const WORKLOAD_IDENTITY: Module = Module {
    source: "terraform-google-modules/kubernetes-engine/google//modules/workload-identity",
    version: "44.2.0",
};
const CLOUD_SQL: Module = Module {
    source: "terraform-google-modules/sql-db/google//modules/postgresql",
    version: "28.1.1",
};
const MEMORYSTORE: Module = Module {
    source: "terraform-google-modules/memorystore/google",
    version: "16.0.1",
};

/// Every module the root modules use, for the conformance test and the docs.
pub const MODULES: &[Module] = &[
    VPC,
    EKS,
    IRSA,
    RDS,
    ELASTICACHE,
    EFS,
    NETWORK,
    GKE,
    WORKLOAD_IDENTITY,
    CLOUD_SQL,
    MEMORYSTORE,
];

/// The AWS Load Balancer Controller's chart version (controller v2.17.0): the prod Ingresses
/// use the `alb` class, which it serves.
const LB_CONTROLLER_CHART: &str = "1.17.0";

/// `versions.tf`, `main.tf` and `outputs.tf` of the mode's root module.
pub fn emit(ir: &Ir, cloud: &CloudSettings) -> Vec<Artifact> {
    let head = header::lines(&ir.header_lines(), "# ");
    let aws = cloud.provider == Provider::Aws;
    let plan = Plan::new(ir);
    let (versions, mut main, mut outputs) = if aws {
        (aws_versions(), aws_main(&plan), aws_outputs(&plan))
    } else {
        (gcp_versions(), gcp_main(&plan), gcp_outputs(&plan))
    };
    main.extend(super::secrets::main(ir, cloud));
    outputs.extend(super::secrets::outputs(ir, cloud));
    vec![
        Artifact::text("terraform/versions.tf", file(&head, &versions)),
        Artifact::text("terraform/main.tf", file(&head, &main)),
        Artifact::text("terraform/outputs.tf", file(&head, &outputs)),
    ]
}

/// What the mode needs from the cloud, decided once for both files.
struct Plan<'a> {
    managed: Vec<Managed<'a>>,
    /// Storage classes of shared (ReadWriteMany) volumes: EFS on AWS, Filestore on GKE.
    shared_classes: Vec<String>,
    /// Whether the Ingresses serve an ACM certificate that Terraform requests.
    acm: bool,
}

struct Managed<'a> {
    service: &'a Service,
    kind: ManagedKind,
    /// The Terraform variable of its admin password, if the service's env reads one.
    password: Option<String>,
}

impl<'a> Plan<'a> {
    fn new(ir: &'a Ir) -> Self {
        let managed = ir
            .services
            .iter()
            .filter(|s| !s.is_deployed())
            .filter_map(|s| {
                let kind = ManagedKind::parse(&s.external.as_ref()?.kind)?;
                Some(Managed {
                    service: s,
                    kind,
                    password: password_secret(s).map(|p| tf_secret_variable(&p)),
                })
            })
            .collect();
        let mut shared_classes: Vec<String> = Vec::new();
        for v in ir
            .volumes
            .iter()
            .filter(|v| v.access_mode == "ReadWriteMany")
        {
            let class = v.storage_class.clone().unwrap_or_default();
            if !class.is_empty() && !shared_classes.contains(&class) {
                shared_classes.push(class);
            }
        }
        Plan {
            managed,
            shared_classes,
            acm: ir.kubernetes.tls.as_ref().is_some_and(|t| t.acm),
        }
    }

    fn of(&self, kind: ManagedKind) -> impl Iterator<Item = &Managed<'a>> {
        self.managed.iter().filter(move |m| m.kind == kind)
    }
}

/// The secret a managed service's admin password comes from: the secret its env reads under a
/// name that says password, else the only secret it reads.
fn password_secret(s: &Service) -> Option<String> {
    let secrets: Vec<(&str, &str)> = s
        .env
        .iter()
        .filter_map(|e| match &e.value {
            EnvValue::Secret(n) => Some((e.name.as_str(), n.as_str())),
            _ => None,
        })
        .collect();
    secrets
        .iter()
        .find(|(name, _)| name.to_ascii_uppercase().contains("PASSWORD"))
        .or(if secrets.len() == 1 {
            secrets.first()
        } else {
            None
        })
        .map(|(_, n)| (*n).to_string())
}

/// A Terraform identifier for a service (`prefect-worker` -> `prefect_worker`).
fn ident(service: &str) -> String {
    service.replace('-', "_")
}

fn module_head(m: Module) -> Vec<Item> {
    vec![
        attr_str("source", m.source),
        attr_str("version", m.version),
        Item::Blank,
    ]
}

fn terraform_block(required: &str, providers: &[(&str, &str, &str)]) -> Item {
    let reqs: Vec<Item> = providers
        .iter()
        .map(|(n, s, v)| {
            attr(
                n,
                object(&[("source", hcl_string(s)), ("version", hcl_string(v))]),
            )
        })
        .collect();
    block(
        "terraform",
        &[],
        vec![
            attr_str("required_version", required),
            Item::Blank,
            block("required_providers", &[], reqs),
        ],
    )
}

fn locals_of_managed(plan: &Plan) -> Vec<Item> {
    let mut items: Vec<Item> = plan
        .managed
        .iter()
        .map(|m| {
            attr(
                &ident(&m.service.name),
                format!("var.managed_services[{}]", hcl_string(&m.service.name)),
            )
        })
        .collect();
    if !items.is_empty() {
        items.insert(
            0,
            comment("Managed services, by the name of the service they stand in for."),
        );
    }
    items
}

// ---------------------------------------------------------------------------------------------
// AWS

fn aws_versions() -> Vec<Item> {
    vec![
        terraform_block(
            ">= 1.11.1",
            &[
                ("aws", "hashicorp/aws", "~> 6.28"),
                ("helm", "hashicorp/helm", "~> 3.0"),
                ("kubernetes", "hashicorp/kubernetes", "~> 2.38"),
            ],
        ),
        block(
            "provider",
            &["aws"],
            vec![
                attr("region", "var.region"),
                attr("allowed_account_ids", "[var.account_id]"),
            ],
        ),
        block("provider", &["kubernetes"], aws_cluster_access()),
        block(
            "provider",
            &["helm"],
            vec![attr("kubernetes", object_of_items(&aws_cluster_access()))],
        ),
    ]
}

/// How the kubernetes and helm providers reach the new cluster: its endpoint and CA from the
/// EKS module, a token from `aws eks get-token` (no credentials in the state).
fn aws_cluster_access() -> Vec<Item> {
    vec![
        attr("host", "module.eks.cluster_endpoint"),
        attr(
            "cluster_ca_certificate",
            "base64decode(module.eks.cluster_certificate_authority_data)",
        ),
        Item::Blank,
        block(
            "exec",
            &[],
            vec![
                attr_str("api_version", "client.authentication.k8s.io/v1beta1"),
                attr_str("command", "aws"),
                attr(
                    "args",
                    "[\"eks\", \"get-token\", \"--cluster-name\", module.eks.cluster_name, \"--region\", var.region]",
                ),
            ],
        ),
    ]
}

/// A block body as an object expression (the helm provider 3.x takes `kubernetes = {...}`).
fn object_of_items(items: &[Item]) -> String {
    let mut entries: Vec<(&str, String)> = Vec::new();
    for i in items {
        match i {
            Item::Attr(n, v) => entries.push((n.as_str(), v.clone())),
            Item::Block(k, _, body) => entries.push((k.as_str(), object_of_items(body))),
            Item::Comment(_) | Item::Blank => {}
        }
    }
    object(&entries)
}

/// Locals and the VPC: private subnets for nodes and pods, public ones for the load balancer,
/// database and cache subnets when a managed service needs them.
fn aws_network(plan: &Plan) -> Vec<Item> {
    let mut items = Vec::new();
    let has_rds = plan.of(ManagedKind::RdsPostgres).next().is_some();
    let cache = plan.of(ManagedKind::ElasticacheRedis).next().is_some();

    let mut locals = vec![
        comment("The VPC is the range the load balancer reaches pods from (target-type ip)."),
        attr("vpc_cidr", "var.load_balancer_cidrs[0]"),
        comment(
            "Its last eighth holds the public, database and cache subnets (a /24 each in a /16).",
        ),
        attr("small_subnets", "cidrsubnet(local.vpc_cidr, 3, 7)"),
    ];
    locals.extend(locals_of_managed(plan));
    items.push(block("locals", &[], locals));

    let mut vpc = module_head(VPC);
    vpc.extend([
        attr("name", "var.cluster_name"),
        attr("cidr", "local.vpc_cidr"),
        attr("azs", "var.zones"),
        Item::Blank,
        comment("Nodes and pods in one private subnet per zone, the load balancer in public ones."),
        attr(
            "private_subnets",
            "[for i, zone in var.zones : cidrsubnet(local.vpc_cidr, 3, i)]",
        ),
        attr(
            "public_subnets",
            "[for i, zone in var.zones : cidrsubnet(local.small_subnets, 5, i)]",
        ),
    ]);
    if has_rds {
        vpc.push(attr(
            "database_subnets",
            "[for i, zone in var.zones : cidrsubnet(local.small_subnets, 5, 8 + i)]",
        ));
    }
    if cache {
        vpc.push(attr(
            "elasticache_subnets",
            "[for i, zone in var.zones : cidrsubnet(local.small_subnets, 5, 16 + i)]",
        ));
    }
    vpc.extend([
        Item::Blank,
        attr("enable_nat_gateway", "true"),
        attr("one_nat_gateway_per_az", "true"),
        attr("enable_dns_hostnames", "true"),
        Item::Blank,
        comment("The AWS Load Balancer Controller finds its subnets by these tags."),
        attr(
            "public_subnet_tags",
            object(&[("kubernetes.io/role/elb", "1".into())]),
        ),
        attr(
            "private_subnet_tags",
            object(&[("kubernetes.io/role/internal-elb", "1".into())]),
        ),
    ]);
    items.push(block("module", &["vpc"], vpc));

    items
}

/// The EKS cluster with its add-ons and node groups, the IAM roles of the add-ons, and the
/// AWS Load Balancer Controller.
fn aws_cluster(plan: &Plan) -> Vec<Item> {
    let mut items = Vec::new();
    let efs = !plan.shared_classes.is_empty();
    let mut addons = vec![
        ("coredns", "{}".to_string()),
        ("kube-proxy", "{}".to_string()),
        ("vpc-cni", object(&[("before_compute", "true".into())])),
        ("eks-pod-identity-agent", "{}".to_string()),
        (
            "aws-ebs-csi-driver",
            object(&[("service_account_role_arn", "module.ebs_csi_role.arn".into())]),
        ),
    ];
    if efs {
        addons.push((
            "aws-efs-csi-driver",
            object(&[("service_account_role_arn", "module.efs_csi_role.arn".into())]),
        ));
    }
    let mut eks = module_head(EKS);
    eks.extend([
        attr("name", "var.cluster_name"),
        attr("kubernetes_version", "var.kubernetes_version"),
        attr("vpc_id", "module.vpc.vpc_id"),
        attr("subnet_ids", "module.vpc.private_subnets"),
        Item::Blank,
        attr("endpoint_public_access", "true"),
        attr("enable_cluster_creator_admin_permissions", "true"),
        attr("enable_irsa", "true"),
        Item::Blank,
        attr("addons", object(&addons)),
        Item::Blank,
        comment("One managed node group per pool, sized by envc from the workloads (variables.tf)."),
        attr(
            "eks_managed_node_groups",
            "{\n  for group in var.node_groups : group.name => {\n    instance_types             = group.instance_types\n    min_size                   = group.min_size\n    desired_size               = group.desired_size\n    max_size                   = group.max_size\n    use_custom_launch_template = false\n    disk_size                  = group.disk_size_gib\n    labels                     = group.labels\n    taints                     = { for taint in group.taints : taint.key => taint }\n  }\n}",
        ),
    ]);
    items.push(block("module", &["eks"], eks));

    items.push(irsa_role(
        "ebs_csi_role",
        "the EBS CSI driver (persistent volumes)",
        "kube-system:ebs-csi-controller-sa",
        "attach_ebs_csi_policy",
    ));
    if efs {
        items.push(irsa_role(
            "efs_csi_role",
            "the EFS CSI driver (shared volumes)",
            "kube-system:efs-csi-controller-sa",
            "attach_efs_csi_policy",
        ));
    }
    items.push(irsa_role(
        "load_balancer_controller_role",
        "the AWS Load Balancer Controller (the `alb` ingress class)",
        "kube-system:aws-load-balancer-controller",
        "attach_load_balancer_controller_policy",
    ));
    items.push(block(
        "resource",
        &["helm_release", "aws_load_balancer_controller"],
        vec![
            attr_str("name", "aws-load-balancer-controller"),
            attr_str("repository", "https://aws.github.io/eks-charts"),
            attr_str("chart", "aws-load-balancer-controller"),
            attr_str("version", LB_CONTROLLER_CHART),
            attr_str("namespace", "kube-system"),
            Item::Blank,
            attr(
                "set",
                "[\n  { name = \"clusterName\", value = module.eks.cluster_name },\n  { name = \"region\", value = var.region },\n  { name = \"vpcId\", value = module.vpc.vpc_id },\n  { name = \"serviceAccount.name\", value = \"aws-load-balancer-controller\" },\n  { name = \"serviceAccount.annotations.eks\\\\.amazonaws\\\\.com/role-arn\", value = module.load_balancer_controller_role.arn },\n]",
            ),
        ],
    ));

    items
}

fn aws_main(plan: &Plan) -> Vec<Item> {
    let mut items = aws_network(plan);
    items.extend(aws_cluster(plan));
    let efs = !plan.shared_classes.is_empty();
    if plan.acm {
        items.push(block(
            "resource",
            &["aws_acm_certificate", "ingress"],
            vec![
                comment("The certificate the ALB serves: the AWS Load Balancer Controller finds it by the Ingresses' hosts."),
                comment("It is issued once the records of output acm_validation_records exist in the hosts' DNS zone."),
                attr("domain_name", "var.ingress_hosts[0]"),
                attr(
                    "subject_alternative_names",
                    "slice(var.ingress_hosts, 1, length(var.ingress_hosts))",
                ),
                attr_str("validation_method", "DNS"),
                Item::Blank,
                block(
                    "lifecycle",
                    &[],
                    vec![attr("create_before_destroy", "true")],
                ),
            ],
        ));
    }
    items.push(block(
        "resource",
        &["kubernetes_storage_class_v1", "default"],
        vec![
            comment("EKS ships only gp2: the chart's claims ask for this class (storage.storage_class)."),
            attr("count", "var.storage.create_storage_class ? 1 : 0"),
            Item::Blank,
            block(
                "metadata",
                &[],
                vec![
                    attr("name", "var.storage.storage_class"),
                    attr(
                        "annotations",
                        object(&[(
                            "storageclass.kubernetes.io/is-default-class",
                            hcl_string("true"),
                        )]),
                    ),
                ],
            ),
            attr_str("storage_provisioner", "ebs.csi.aws.com"),
            attr_str("volume_binding_mode", "WaitForFirstConsumer"),
            attr_str("reclaim_policy", "Retain"),
            attr("allow_volume_expansion", "true"),
            attr(
                "parameters",
                object(&[
                    ("type", "var.storage.disk_type".into()),
                    ("encrypted", hcl_string("true")),
                ]),
            ),
        ],
    ));

    if efs {
        let mut fs = module_head(EFS);
        fs.extend([
            attr("name", "\"${var.cluster_name}-shared\""),
            attr("encrypted", "true"),
            Item::Blank,
            comment("A mount target in every zone the nodes run in."),
            attr(
                "mount_targets",
                "{\n  for i, zone in var.zones : zone => { subnet_id = module.vpc.private_subnets[i] }\n}",
            ),
            attr("security_group_vpc_id", "module.vpc.vpc_id"),
            attr(
                "security_group_ingress_rules",
                object(&[(
                    "nodes",
                    object(&[
                        ("description", hcl_string("NFS from the cluster's nodes")),
                        (
                            "referenced_security_group_id",
                            "module.eks.node_security_group_id".into(),
                        ),
                    ]),
                )]),
            ),
        ]);
        items.push(block("module", &["efs"], fs));
        for class in &plan.shared_classes {
            items.push(block(
                "resource",
                &["kubernetes_storage_class_v1", &ident(class)],
                vec![
                    comment("Shared (ReadWriteMany) volumes: one EFS access point per claim."),
                    block("metadata", &[], vec![attr_str("name", class)]),
                    attr_str("storage_provisioner", "efs.csi.aws.com"),
                    attr_str("reclaim_policy", "Retain"),
                    attr(
                        "parameters",
                        object(&[
                            ("provisioningMode", hcl_string("efs-ap")),
                            ("fileSystemId", "module.efs.id".into()),
                            ("directoryPerms", hcl_string("770")),
                        ]),
                    ),
                ],
            ));
        }
    }

    {
        let wi = vec![
            comment(
                "An IAM role per service that has one (IRSA), trusted by its ServiceAccount only.",
            ),
            attr("source", hcl_string(IRSA.source)),
            attr("version", hcl_string(IRSA.version)),
            attr("for_each", "var.workload_identities"),
            Item::Blank,
            comment(
                "The chart annotates the ServiceAccount with the role's ARN, so the name is exact.",
            ),
            attr("name", "each.value.name"),
            attr("use_name_prefix", "false"),
            attr(
                "oidc_providers",
                "{\n  cluster = {\n    provider_arn               = module.eks.oidc_provider_arn\n    namespace_service_accounts = [\"${each.value.namespace}:${each.value.service_account}\"]\n  }\n}",
            ),
            attr("policies", "lookup(var.identity_policies, each.key, {})"),
        ];
        items.push(block("module", &["workload_identity"], wi));
    }

    for m in plan.of(ManagedKind::RdsPostgres) {
        items.extend(rds(m));
    }
    for m in plan.of(ManagedKind::ElasticacheRedis) {
        items.extend(elasticache(m));
    }
    items
}

fn irsa_role(name: &str, what: &str, service_account: &str, policy: &str) -> Item {
    let mut body = vec![comment(format!("The IAM role of {what}."))];
    body.extend(module_head(IRSA));
    body.extend([
        attr("name", format!("\"${{var.cluster_name}}-{}\"", name.replace('_', "-"))),
        attr(policy, "true"),
        attr(
            "oidc_providers",
            format!(
                "{{\n  cluster = {{\n    provider_arn               = module.eks.oidc_provider_arn\n    namespace_service_accounts = {}\n  }}\n}}",
                string_list(&[service_account])
            ),
        ),
    ]);
    block("module", &[name], body)
}

fn rds(m: &Managed) -> Vec<Item> {
    let id = ident(&m.service.name);
    let l = format!("local.{id}");
    let settings = &m.service.external.as_ref().map(|e| &e.settings);
    let mut body = module_head(RDS);
    body.extend([
        attr(
            "identifier",
            format!("\"${{var.cluster_name}}-{}\"", m.service.name),
        ),
        attr_str("engine", "postgres"),
        attr("engine_version", format!("{l}.engine_version")),
        attr(
            "family",
            format!("\"postgres${{split(\".\", {l}.engine_version)[0]}}\""),
        ),
        attr(
            "major_engine_version",
            format!("split(\".\", {l}.engine_version)[0]"),
        ),
        attr("instance_class", format!("{l}.instance")),
        attr("allocated_storage", format!("{l}.storage_gib")),
        attr("multi_az", format!("{l}.high_availability")),
        attr("port", format!("{l}.port")),
    ]);
    if let Some(s) = settings {
        if s.contains_key("database") {
            body.push(attr("db_name", format!("{l}.settings[\"database\"]")));
        }
        if s.contains_key("username") {
            body.push(attr("username", format!("{l}.settings[\"username\"]")));
        }
    }
    body.push(Item::Blank);
    match &m.password {
        Some(p) => body.extend([
            comment("The services read this password from their Secret; Terraform sets it (write-only, not kept in the state)."),
            attr("manage_master_user_password", "false"),
            attr("password_wo", format!("var.{p}")),
            attr("password_wo_version", "1"),
        ]),
        None => body.push(attr("manage_master_user_password", "true")),
    }
    body.extend([
        Item::Blank,
        attr("create_db_subnet_group", "true"),
        attr("subnet_ids", "module.vpc.database_subnets"),
        attr(
            "vpc_security_group_ids",
            format!("[aws_security_group.{id}.id]"),
        ),
        Item::Blank,
        attr("storage_encrypted", "true"),
        attr("deletion_protection", "true"),
        attr("backup_retention_period", "7"),
        attr(
            "final_snapshot_identifier_prefix",
            format!("\"${{var.cluster_name}}-{}-final\"", m.service.name),
        ),
    ]);
    vec![
        block("module", &[&id], body),
        security_group(&id, &m.service.name, &l),
    ]
}

/// A security group admitting the cluster's nodes (and so its pods) on the service's port.
fn security_group(id: &str, service: &str, local: &str) -> Item {
    block(
        "resource",
        &["aws_security_group", id],
        vec![
            attr(
                "name_prefix",
                format!("\"${{var.cluster_name}}-{service}-\""),
            ),
            attr_str(
                "description",
                &format!("{service}: reached from the cluster's nodes only"),
            ),
            attr("vpc_id", "module.vpc.vpc_id"),
            Item::Blank,
            block(
                "ingress",
                &[],
                vec![
                    attr_str("description", "from the cluster's nodes"),
                    attr("from_port", format!("{local}.port")),
                    attr("to_port", format!("{local}.port")),
                    attr_str("protocol", "tcp"),
                    attr("security_groups", "[module.eks.node_security_group_id]"),
                ],
            ),
        ],
    )
}

fn elasticache(m: &Managed) -> Vec<Item> {
    let id = ident(&m.service.name);
    let l = format!("local.{id}");
    let mut body = module_head(ELASTICACHE);
    body.extend([
        attr(
            "replication_group_id",
            format!("\"${{var.cluster_name}}-{}\"", m.service.name),
        ),
        attr_str("engine", "redis"),
        attr("engine_version", format!("{l}.engine_version")),
        attr("node_type", format!("{l}.instance")),
        attr("port", format!("{l}.port")),
        Item::Blank,
        comment("High availability: a replica in a second zone and automatic failover."),
        attr(
            "num_cache_clusters",
            format!("{l}.high_availability ? 2 : 1"),
        ),
        attr(
            "automatic_failover_enabled",
            format!("{l}.high_availability"),
        ),
        attr("multi_az_enabled", format!("{l}.high_availability")),
        Item::Blank,
        attr("create_parameter_group", "true"),
        attr(
            "parameter_group_family",
            format!("\"redis${{split(\".\", {l}.engine_version)[0]}}\""),
        ),
        Item::Blank,
    ]);
    match &m.password {
        Some(p) => body.extend([
            comment("AUTH needs TLS in transit."),
            attr("transit_encryption_enabled", "true"),
            attr("auth_token", format!("var.{p}")),
        ]),
        None => body.extend([
            comment("The services connect with redis:// and no password, as the model says."),
            attr("transit_encryption_enabled", "false"),
        ]),
    }
    body.extend([
        attr("at_rest_encryption_enabled", "true"),
        Item::Blank,
        attr("vpc_id", "module.vpc.vpc_id"),
        attr("subnet_ids", "module.vpc.elasticache_subnets"),
        attr(
            "security_group_rules",
            object(&[(
                "nodes",
                object(&[
                    ("type", hcl_string("ingress")),
                    ("description", hcl_string("from the cluster's nodes")),
                    (
                        "referenced_security_group_id",
                        "module.eks.node_security_group_id".into(),
                    ),
                ]),
            )]),
        ),
    ]);
    vec![block("module", &[&id], body)]
}

fn aws_outputs(plan: &Plan) -> Vec<Item> {
    let mut items = vec![
        output(
            "cluster_name",
            "Name of the EKS cluster",
            "module.eks.cluster_name",
        ),
        output(
            "cluster_endpoint",
            "API server endpoint of the cluster",
            "module.eks.cluster_endpoint",
        ),
        output(
            "kubeconfig_command",
            "Command that writes a kubeconfig for the cluster",
            "\"aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}\"",
        ),
    ];
    {
        items.push(output(
            "workload_identity_roles",
            "IAM role ARN of each service with a workload identity",
            "{ for service, role in module.workload_identity : service => role.arn }",
        ));
    }
    if plan.acm {
        items.push(output(
            "acm_validation_records",
            "DNS records that prove the ingress hosts are yours: create them in their zone",
            "aws_acm_certificate.ingress.domain_validation_options",
        ));
    }
    for m in plan.of(ManagedKind::RdsPostgres) {
        items.push(host_output(m, "db_instance_address"));
    }
    for m in plan.of(ManagedKind::ElasticacheRedis) {
        items.push(host_output(m, "replication_group_primary_endpoint_address"));
    }
    items
}

fn host_output(m: &Managed, attribute: &str) -> Item {
    output(
        &format!("{}_host", ident(&m.service.name)),
        &format!(
            "Address of {}: the chart's external.{}.host",
            m.service.name, m.service.name
        ),
        &format!("module.{}.{attribute}", ident(&m.service.name)),
    )
}

fn output(name: &str, description: &str, value: &str) -> Item {
    block(
        "output",
        &[name],
        vec![attr_str("description", description), attr("value", value)],
    )
}

// ---------------------------------------------------------------------------------------------
// Google Cloud

fn gcp_versions() -> Vec<Item> {
    vec![
        terraform_block(
            ">= 1.5.7",
            &[
                ("google", "hashicorp/google", "~> 7.22"),
                ("google-beta", "hashicorp/google-beta", "~> 7.22"),
                ("kubernetes", "hashicorp/kubernetes", "~> 2.38"),
            ],
        ),
        block(
            "provider",
            &["google"],
            vec![
                attr("project", "var.project_id"),
                attr("region", "var.region"),
            ],
        ),
        block(
            "provider",
            &["google-beta"],
            vec![
                attr("project", "var.project_id"),
                attr("region", "var.region"),
            ],
        ),
        block("data", &["google_client_config", "default"], vec![]),
        block(
            "provider",
            &["kubernetes"],
            vec![
                attr("host", "\"https://${module.gke.endpoint}\""),
                attr("token", "data.google_client_config.default.access_token"),
                attr(
                    "cluster_ca_certificate",
                    "base64decode(module.gke.ca_certificate)",
                ),
            ],
        ),
    ]
}

fn gcp_main(plan: &Plan) -> Vec<Item> {
    let mut items = Vec::new();
    let private_services = !plan.managed.is_empty();
    let mut locals = vec![
        attr("network_name", "\"${var.cluster_name}-network\""),
        attr("subnet_name", "\"${var.cluster_name}-nodes\""),
    ];
    locals.extend(locals_of_managed(plan));
    items.push(block("locals", &[], locals));

    let mut net = module_head(NETWORK);
    net.extend([
        attr("project_id", "var.project_id"),
        attr("network_name", "local.network_name"),
        Item::Blank,
        comment("Nodes in one subnet; pods and Services in its secondary ranges (VPC-native)."),
        attr(
            "subnets",
            "[\n  {\n    subnet_name           = local.subnet_name\n    subnet_ip             = \"10.0.0.0/20\"\n    subnet_region         = var.region\n    subnet_private_access = \"true\"\n  },\n]",
        ),
        attr(
            "secondary_ranges",
            "{\n  (local.subnet_name) = [\n    { range_name = \"pods\", ip_cidr_range = \"10.16.0.0/14\" },\n    { range_name = \"services\", ip_cidr_range = \"10.20.0.0/20\" },\n  ]\n}",
        ),
    ]);
    items.push(block("module", &["network"], net));

    let mut gke = module_head(GKE);
    gke.extend([
        attr("project_id", "var.project_id"),
        attr("name", "var.cluster_name"),
        attr("region", "var.region"),
        attr("regional", "true"),
        attr("zones", "var.zones"),
        attr("kubernetes_version", "var.kubernetes_version"),
        attr_str("release_channel", "REGULAR"),
        attr("deletion_protection", "true"),
        Item::Blank,
        attr("network", "module.network.network_name"),
        attr("subnetwork", "module.network.subnets_names[0]"),
        attr_str("ip_range_pods", "pods"),
        attr_str("ip_range_services", "services"),
        Item::Blank,
        comment("Dataplane V2 enforces the chart's NetworkPolicies."),
        attr_str("datapath_provider", "ADVANCED_DATAPATH"),
        attr("http_load_balancing", "true"),
        attr("horizontal_pod_autoscaling", "true"),
        attr(
            "filestore_csi_driver",
            if plan.shared_classes.is_empty() {
                "false"
            } else {
                "true"
            },
        ),
        Item::Blank,
        comment("One node pool per pool, sized by envc from the workloads (variables.tf); counts are per zone."),
        attr("remove_default_node_pool", "true"),
        attr(
            "node_pools",
            "[\n  for pool in var.node_pools : {\n    name               = pool.name\n    machine_type       = pool.machine_type\n    initial_node_count = pool.node_count_per_zone\n    min_count          = pool.min_node_count_per_zone\n    max_count          = pool.max_node_count_per_zone\n    disk_size_gb       = pool.disk_size_gib\n    disk_type          = \"pd-balanced\"\n    auto_repair        = true\n    auto_upgrade       = true\n  }\n]",
        ),
        attr(
            "node_pools_labels",
            "{ for pool in var.node_pools : pool.name => pool.labels }",
        ),
        attr(
            "node_pools_taints",
            "{ for pool in var.node_pools : pool.name => pool.taints }",
        ),
    ]);
    items.push(block("module", &["gke"], gke));

    items.push(block(
        "resource",
        &["kubernetes_storage_class_v1", "default"],
        vec![
            comment("GKE has premium-rwo and standard-rwo; this is only created when the profile asks for it."),
            attr("count", "var.storage.create_storage_class ? 1 : 0"),
            Item::Blank,
            block("metadata", &[], vec![attr("name", "var.storage.storage_class")]),
            attr_str("storage_provisioner", "pd.csi.storage.gke.io"),
            attr_str("volume_binding_mode", "WaitForFirstConsumer"),
            attr_str("reclaim_policy", "Retain"),
            attr("allow_volume_expansion", "true"),
            attr("parameters", object(&[("type", "var.storage.disk_type".into())])),
        ],
    ));

    {
        let mut wi = vec![comment(
            "A Google service account per service that has one, bound to its Kubernetes ServiceAccount.",
        )];
        wi.extend([
            attr("source", hcl_string(WORKLOAD_IDENTITY.source)),
            attr("version", hcl_string(WORKLOAD_IDENTITY.version)),
            attr("for_each", "var.workload_identities"),
            Item::Blank,
            attr("project_id", "var.project_id"),
            attr("name", "each.value.name"),
            attr("namespace", "each.value.namespace"),
            Item::Blank,
            comment("The chart creates and annotates the ServiceAccount."),
            attr("use_existing_k8s_sa", "true"),
            attr("k8s_sa_name", "each.value.service_account"),
            attr("annotate_k8s_sa", "false"),
            attr("cluster_name", "module.gke.name"),
            attr("location", "var.region"),
            attr("roles", "lookup(var.identity_roles, each.key, [])"),
        ]);
        items.push(block("module", &["workload_identity"], wi));
    }

    if private_services {
        items.push(block(
            "resource",
            &["google_compute_global_address", "private_services"],
            vec![
                comment(
                    "Cloud SQL and Memorystore reach the network through private services access.",
                ),
                attr("name", "\"${var.cluster_name}-private-services\""),
                attr_str("purpose", "VPC_PEERING"),
                attr_str("address_type", "INTERNAL"),
                attr("prefix_length", "16"),
                attr("network", "module.network.network_self_link"),
            ],
        ));
        items.push(block(
            "resource",
            &["google_service_networking_connection", "private_services"],
            vec![
                attr("network", "module.network.network_self_link"),
                attr_str("service", "servicenetworking.googleapis.com"),
                attr(
                    "reserved_peering_ranges",
                    "[google_compute_global_address.private_services.name]",
                ),
            ],
        ));
    }
    for m in plan.of(ManagedKind::CloudSqlPostgres) {
        items.push(cloud_sql(m));
    }
    for m in plan.of(ManagedKind::MemorystoreRedis) {
        items.push(memorystore(m));
    }
    items
}

fn cloud_sql(m: &Managed) -> Item {
    let id = ident(&m.service.name);
    let l = format!("local.{id}");
    let settings = m.service.external.as_ref().map(|e| &e.settings);
    let mut body = module_head(CLOUD_SQL);
    body.extend([
        attr("project_id", "var.project_id"),
        attr(
            "name",
            format!("\"${{var.cluster_name}}-{}\"", m.service.name),
        ),
        attr(
            "database_version",
            format!("\"POSTGRES_${{replace({l}.engine_version, \".\", \"_\")}}\""),
        ),
        attr("region", "var.region"),
        attr("zone", "var.zones[0]"),
        attr("tier", format!("{l}.instance")),
        attr(
            "availability_type",
            format!("{l}.high_availability ? \"REGIONAL\" : \"ZONAL\""),
        ),
        attr("disk_size", format!("{l}.storage_gib")),
        attr("deletion_protection", "true"),
    ]);
    if let Some(s) = settings {
        if s.contains_key("database") {
            body.push(attr("db_name", format!("{l}.settings[\"database\"]")));
        }
        if s.contains_key("username") {
            body.push(attr("user_name", format!("{l}.settings[\"username\"]")));
        }
    }
    if let Some(p) = &m.password {
        body.push(attr("user_password", format!("var.{p}")));
    }
    body.extend([
        Item::Blank,
        comment("Private IP only, in the cluster's network."),
        attr(
            "ip_configuration",
            object(&[
                ("ipv4_enabled", "false".into()),
                ("private_network", "module.network.network_self_link".into()),
                ("ssl_mode", hcl_string("ENCRYPTED_ONLY")),
            ]),
        ),
        attr(
            "depends_on",
            "[google_service_networking_connection.private_services]",
        ),
    ]);
    block("module", &[&id], body)
}

fn memorystore(m: &Managed) -> Item {
    let id = ident(&m.service.name);
    let l = format!("local.{id}");
    let mut body = module_head(MEMORYSTORE);
    body.extend([
        attr("project_id", "var.project_id"),
        attr("region", "var.region"),
        attr(
            "name",
            format!("\"${{var.cluster_name}}-{}\"", m.service.name),
        ),
        attr("tier", format!("{l}.instance")),
        attr("memory_size_gb", format!("max({l}.memory_gib, 1)")),
        attr(
            "redis_version",
            format!("\"REDIS_${{replace({l}.engine_version, \".\", \"_\")}}\""),
        ),
        Item::Blank,
        attr("authorized_network", "module.network.network_id"),
        attr_str("connect_mode", "PRIVATE_SERVICE_ACCESS"),
    ]);
    match &m.password {
        Some(_) => body.extend([
            comment("Memorystore generates the AUTH string (output auth_string); TLS carries it."),
            attr("auth_enabled", "true"),
            attr_str("transit_encryption_mode", "SERVER_AUTHENTICATION"),
        ]),
        None => body.extend([
            comment("The services connect with redis:// and no password, as the model says."),
            attr_str("transit_encryption_mode", "DISABLED"),
        ]),
    }
    body.push(attr(
        "depends_on",
        "[google_service_networking_connection.private_services]",
    ));
    block("module", &[&id], body)
}

fn gcp_outputs(plan: &Plan) -> Vec<Item> {
    let mut items = vec![
        output("cluster_name", "Name of the GKE cluster", "module.gke.name"),
        output(
            "cluster_endpoint",
            "API server endpoint of the cluster",
            "module.gke.endpoint",
        ),
        output(
            "kubeconfig_command",
            "Command that writes a kubeconfig for the cluster",
            "\"gcloud container clusters get-credentials ${module.gke.name} --region ${var.region} --project ${var.project_id}\"",
        ),
    ];
    {
        items.push(output(
            "workload_identity_service_accounts",
            "Google service account email of each service with a workload identity",
            "{ for service, sa in module.workload_identity : service => sa.gcp_service_account_email }",
        ));
    }
    for m in plan.of(ManagedKind::CloudSqlPostgres) {
        items.push(host_output(m, "private_ip_address"));
    }
    for m in plan.of(ManagedKind::MemorystoreRedis) {
        items.push(host_output(m, "host"));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_name_their_cloud() {
        assert_eq!(
            ManagedKind::parse("rds-postgres").map(ManagedKind::provider),
            Some(Provider::Aws)
        );
        assert_eq!(
            ManagedKind::parse("memorystore-redis").map(ManagedKind::provider),
            Some(Provider::Gcp)
        );
        assert_eq!(ManagedKind::parse("rds-mysql"), None);
    }

    #[test]
    fn every_module_is_pinned_to_an_exact_version() {
        for m in MODULES {
            assert!(
                m.version.split('.').count() == 3
                    && m.version.split('.').all(|p| p.parse::<u32>().is_ok()),
                "{} {}",
                m.source,
                m.version
            );
        }
    }
}
