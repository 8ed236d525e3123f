//! The README of a prod (Helm) artifact set: what is here, the node pool sizing arithmetic, the
//! deploy commands, the managed services and the Secrets to create. It reads the same cloud
//! rules ([`crate::cloud`]) and names ([`crate::name`]) as the chart and the Terraform
//! variables, so the commands it prints match the files next to it.

use std::fmt::Write as _;

use envc_core::Ir;
use envc_core::ir::Service;
use envc_model::profile::{CloudSettings, Provider};

use crate::artifact::Artifact;
use crate::cloud::{PoolSizing, host_output, mib, sensitive_secrets, size_pools};
use crate::header;
use crate::name::tf_secret_variable;

mod secrets;

/// `README.md` of a prod artifact set.
pub fn emit(ir: &Ir) -> Artifact {
    Artifact::text("README.md", readme(ir))
}

/// The README, section by section.
pub fn readme(ir: &Ir) -> String {
    let mut s = intro(ir);
    s.push_str(&services(ir));
    if let Some(c) = &ir.cloud {
        s.push_str(&sizing(c, &size_pools(ir)));
    }
    s.push_str(&deploy(ir));
    s.push_str(&managed(ir));
    s.push_str(&secrets(ir));
    s
}

fn managed_services(ir: &Ir) -> impl Iterator<Item = &Service> {
    ir.services.iter().filter(|s| !s.is_deployed())
}

/// The endpoint the profile gives a managed service, if it does.
fn known_host(s: &Service) -> Option<&str> {
    s.external.as_ref().and_then(|e| e.host.as_deref())
}

/// The header (in an HTML comment), the title and the table of files.
fn intro(ir: &Ir) -> String {
    let mut s = header::html(
        &ir.header_lines(),
        "JSON files cannot carry comments: chart/values.schema.json has the header in `$comment`,\n\
         terraform/terraform.tfvars.json in its `//` key (Terraform ignores it).\n",
    );
    let _ = write!(s, "\n# {} on {}\n\n", ir.env, ir.mode);
    if let Some(d) = &ir.description {
        let _ = write!(s, "{d}\n\n");
    }
    s.push_str(
        "| path | what |\n| --- | --- |\n\
         | `chart/` | Helm chart: templates generated from the same objects as the k3s manifests, `values.yaml` with what a release may change, `values.schema.json` rejecting unknown keys |\n\
         | `terraform/variables.tf` | typed declarations of the cluster's variables (secrets are `sensitive` and get no value) |\n\
         | `terraform/terraform.tfvars.json` | their values for this mode, node pools sized from the workloads (Terraform loads it by itself) |\n\
         | `terraform/main.tf` | the root module: network, cluster, node pools, storage classes, workload identities and managed services through pinned community modules |\n\
         | `terraform/versions.tf`, `terraform/outputs.tf` | pinned Terraform and provider versions; the outputs used below |\n",
    );
    if let Some(g) = &ir.gitops {
        if g.argocd.is_some() {
            s.push_str("| `gitops/argocd.yaml` | an Argo CD Application that deploys the chart from the repository (docs/gitops.md) |\n");
        }
        if g.flux.is_some() {
            s.push_str(
                "| `gitops/flux.yaml` | a Flux GitRepository and HelmRelease that do the same |\n",
            );
        }
    }
    s.push('\n');
    s
}

/// Every service: where it runs, as what, with how many replicas.
fn services(ir: &Ir) -> String {
    let mut s = String::from(
        "## Services\n\n| service | namespace | runs as | replicas |\n| --- | --- | --- | --- |\n",
    );
    for svc in &ir.services {
        let (what, replicas) = match &svc.external {
            Some(e) => (
                format!("managed `{}` ({})", e.kind, e.instance),
                "-".to_string(),
            ),
            None => (
                format!("{} `{}`", svc.workload.k8s_kind(), svc.image),
                match &svc.autoscaling {
                    Some(a) => format!("{}-{} (HPA)", a.min, a.max),
                    None => svc.replicas.to_string(),
                },
            ),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {what} | {replicas} |",
            svc.name, svc.namespace
        );
    }
    s.push('\n');
    s
}

/// The node pool sizing, every step of the arithmetic of [`crate::cloud::size`].
fn sizing(c: &CloudSettings, pools: &[PoolSizing]) -> String {
    let gcp = c.provider == Provider::Gcp;
    let mut s = String::from("## Node pool sizing\n\n");
    let _ = write!(
        s,
        "Each pool needs the sum over its services of requests x maximum replicas, plus {}% headroom,\n\
         divided by what one node offers to pods (allocatable), rounded up; at least one node per\n\
         zone ({} zones).{}\n\n",
        c.headroom_percent,
        c.zones.len(),
        if gcp {
            " GKE node counts are per zone: the total is rounded up to a multiple of the zones."
        } else {
            ""
        }
    );
    for p in pools {
        let _ = write!(s, "### {} ({})\n\n", p.name, p.machine_type);
        s.push_str("| service | CPU request | memory request | max replicas | CPU | memory |\n| --- | --- | --- | --- | --- | --- |\n");
        for l in &p.lines {
            let replicas = u64::from(l.replicas);
            let _ = writeln!(
                s,
                "| {} | {}m | {} | {} | {}m | {} |",
                l.service,
                l.cpu_millis,
                mib(l.memory_bytes),
                l.replicas,
                l.cpu_millis.saturating_mul(replicas),
                mib(l.memory_bytes.saturating_mul(replicas)),
            );
        }
        let total = if gcp {
            format!(
                " = {}; {} per zone in {} zones: **{}**",
                p.nodes_for_cpu.max(p.nodes_for_memory).max(p.min_nodes),
                p.nodes_per_zone,
                c.zones.len(),
                p.nodes
            )
        } else {
            format!(" = **{}**", p.nodes)
        };
        let _ = write!(
            s,
            "\n- requests: {}m CPU, {}; with {}% headroom: {}m CPU, {}\n\
             - one node offers {}m CPU, {}: ceil({}m / {}m) = {} nodes for CPU, ceil({} / {}) = {} for memory\n\
             - nodes: max({}, {}, minimum {}){total}\n\n",
            p.cpu_millis,
            mib(p.memory_bytes),
            c.headroom_percent,
            p.cpu_needed,
            mib(p.memory_needed),
            p.node_cpu,
            mib(p.node_memory),
            p.cpu_needed,
            p.node_cpu,
            p.nodes_for_cpu,
            mib(p.memory_needed),
            mib(p.node_memory),
            p.nodes_for_memory,
            p.nodes_for_cpu,
            p.nodes_for_memory,
            p.min_nodes,
        );
    }
    s
}

/// The deploy commands: Terraform, cluster credentials, Helm with the managed endpoints.
fn deploy(ir: &Ir) -> String {
    let generated = format!("out/{}/{}/terraform", ir.env, ir.mode);
    let work = format!("infra/{}-{}", ir.env, ir.mode);
    let chart = format!("out/{}/{}/chart", ir.env, ir.mode);
    let mut s = String::from("## Deploy\n\n");
    s.push_str(
        "`terraform/` is a complete root module. envc replaces `out/` on every build, so Terraform runs\n\
         from a working copy that keeps its provider lock file and state (use a remote backend for a team):\n\n```sh\n",
    );
    let _ = writeln!(
        s,
        "rsync -a --delete --exclude='.terraform*' --exclude='*.tfstate*' {generated}/ {work}/"
    );
    for sec in &sensitive_secrets(ir) {
        let _ = writeln!(
            s,
            "export TF_VAR_{}=...   # {}",
            tf_secret_variable(sec),
            ir.secret(sec)
                .and_then(|x| x.description.clone())
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        s,
        "terraform -chdir={work} init\nterraform -chdir={work} apply"
    );
    if let Some(c) = &ir.cloud {
        let _ = match c.provider {
            Provider::Aws => writeln!(
                s,
                "aws eks update-kubeconfig --region {} --name {}",
                c.region, c.cluster_name
            ),
            Provider::Gcp => writeln!(
                s,
                "gcloud container clusters get-credentials {} --region {} --project {}",
                c.cluster_name, c.region, c.account
            ),
        };
    }
    if let Some(step) = secrets::install(ir) {
        s.push_str(&step);
    }
    let _ = write!(
        s,
        "helm lint --strict {chart}\nhelm upgrade --install {} {chart} --namespace default",
        ir.env
    );
    for m in managed_services(ir) {
        let _ = write!(
            s,
            " \\\n  --set external.{}.host=\"$(terraform -chdir={work} output -raw {})\"",
            m.name,
            host_output(&m.name)
        );
    }
    s.push_str("\n```\n\n");
    s.push_str(
        "The release record lives in `default`; the chart creates the environment's namespaces itself\n\
         (with their Pod Security labels), so they must not be the release namespace.\n\n",
    );
    s.push_str(&jobs(ir));
    s
}

/// What `helm install` and `helm upgrade` do with the jobs: hooks first, the rest with the
/// release.
fn jobs(ir: &Ir) -> String {
    let before: Vec<&str> = ir
        .services
        .iter()
        .filter(|x| x.runs_before())
        .map(|x| x.name.as_str())
        .collect();
    let scheduled: Vec<&str> = ir
        .services
        .iter()
        .filter(|x| x.job.as_ref().is_some_and(|j| j.schedule.is_some()))
        .map(|x| x.name.as_str())
        .collect();
    let mut s = String::new();
    if !before.is_empty() {
        s.push_str(&format!(
            "Before the release's workloads, on every install and upgrade, Helm runs the pre-install and\n\
             pre-upgrade hook Job{} {} and waits for {} (up to `--timeout`, 5m by default: raise it\n\
             for longer runs). A failed run fails the install or upgrade and changes nothing else\n\
             (`kubectl -n <namespace> logs job/<name>` says why). Hook objects are not part of the\n\
             release: `helm uninstall` leaves them (and a namespace created for them).\n\n",
            if before.len() > 1 { "s" } else { "" },
            before.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            if before.len() > 1 { "them" } else { "it" },
        ));
    }
    if !scheduled.is_empty() {
        s.push_str(&format!(
            "Cron jobs ({}) run on their schedules; `kubectl -n <namespace> create job --from=cronjob/<name>\n\
             <name>-manual` runs one now.\n\n",
            scheduled.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        ));
    }
    s
}

/// The managed services and how their endpoints reach the chart.
fn managed(ir: &Ir) -> String {
    let managed: Vec<&Service> = managed_services(ir).collect();
    if managed.is_empty() {
        return String::new();
    }
    let mut s = String::from("## Managed services\n\n");
    s.push_str(
        "These services are not deployed: the chart creates a Service of the same name that points at\n\
         the managed endpoint, so every reference (`${postgres.host}` is still\n\
         `postgres.<namespace>.svc.cluster.local`) keeps working. A DNS name becomes an\n\
         `ExternalName` Service, an IP address a selector-less Service with an EndpointSlice. The\n\
         endpoint comes from Terraform: its output `<service>_host` goes to `external.<service>.host`,\n\
         with `--set` at deploy time (the commands above). `host` in the service's `external` block\n\
         of the profile makes it the chart's default, which is what Argo CD and Flux deploy. Until\n\
         one of them sets it, the placeholder `<service>.endpoint.invalid` never resolves and\n\
         `helm install` prints a warning. The managed service must listen on the model's port.\n\n\
         | service | managed as | port | Helm value | Terraform output | endpoint |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for m in managed {
        let kind = m
            .external
            .as_ref()
            .map(|e| e.kind.clone())
            .unwrap_or_default();
        let port = m
            .ports
            .first()
            .map(|p| p.service.to_string())
            .unwrap_or_default();
        let endpoint = match known_host(m) {
            Some(h) => format!("`{h}` (profile)"),
            None => "at deploy time".to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | `{kind}` | {port} | `external.{}.host` | `{}` | {endpoint} |",
            m.name,
            m.name,
            host_output(&m.name)
        );
    }
    s.push('\n');
    s
}

/// The Secrets to create in each namespace, and the ones Terraform needs too.
fn secrets(ir: &Ir) -> String {
    let tf: Vec<(String, String)> = sensitive_secrets(ir)
        .into_iter()
        .map(|x| {
            let v = tf_secret_variable(&x);
            (x, v)
        })
        .collect();
    if let Some(s) = secrets::section(ir, &tf) {
        return s;
    }
    let mut s = String::from(
        "## Secrets\n\nNo file here holds a secret value. The chart references existing Secrets (key `value`),\nnamed in `secrets.<name>.existingSecret`; create them in each namespace listed, with\nExternal Secrets, the Secrets Store CSI driver or by hand:\n\n```sh\n",
    );
    for sec in &ir.secrets {
        for ns in ir.secret_namespaces(sec) {
            let _ = writeln!(
                s,
                "kubectl -n {ns} create secret generic {} --from-literal=value=...",
                sec.name
            );
        }
    }
    s.push_str("```\n\nPods wait (CreateContainerConfigError) until their Secrets exist.\n");
    let sensitive = sensitive_secrets(ir);
    if !sensitive.is_empty() {
        let _ = writeln!(
            s,
            "Terraform needs {} too, for the managed services it creates: pass {} in the\nenvironment, never in a file.",
            if sensitive.len() == 1 {
                "one of them"
            } else {
                "some of them"
            },
            sensitive
                .iter()
                .map(|x| format!("`TF_VAR_{}`", tf_secret_variable(x)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}
