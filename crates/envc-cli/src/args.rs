//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str =
    "Compile one environment description into the artifacts of every deployment mode";

const LONG_ABOUT: &str = "\
envc reads an environment (environments/<env>.toml) and the deployment modes (profiles/<mode>.toml),
resolves them through a dependency graph, and writes what real tools deploy: Kubernetes manifests
with a kustomization (k3s), a Compose file (docker), a Helm chart and Terraform variables (eks, gke).";

const EXAMPLES: &str = "\
Examples:
  envc build                          build every environment for every mode
  envc build --target k3s             build the k3s mode of every environment
  envc build --env crypto-lakehouse --target k3s --out /tmp/out
  envc build --target all --check     fail (exit 1) when out/ is missing, stale or has extra files
  envc check                          validate the model and profiles, write nothing
  envc check --format json            the same, with every diagnostic as JSON (docs/cli.md)
  envc render k3s | kubectl apply -f -
                                      what a mode deploys, to stdout
  envc explain prefect-server.replicas
                                      a value in every mode, and the file:line that set it
  envc graph --format mermaid         the dependency graph
  envc endpoints --mode docker        every URL and host:port the mode exposes
  envc schema > envc.schema.json      JSON Schema of environment files, for editors
  envc list                           environments and modes with their backends
  envc diff docker k3s                semantic differences between two modes
  envc promote k3s eks                plan a release of what k3s runs into eks (--write to do it)
  envc completions bash > ~/.local/share/bash-completion/completions/envc
  envc man | man -l -                 the manual page

The project root is the nearest directory, from the current one upwards, holding environments/
and profiles/ (as cargo finds Cargo.toml); --root overrides it.

Exit status: 0 success, 1 a check failed, 2 invalid input or usage.";

/// The `envc` command line.
#[derive(Debug, Parser)]
#[command(name = "envc", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Project root: the directory holding environments/ and profiles/ (default: the nearest
    /// such directory, from the current one upwards).
    #[arg(
        long,
        global = true,
        default_value = ".",
        hide_default_value = true,
        value_name = "DIR"
    )]
    pub root: PathBuf,
    /// When to color output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When the stream is a terminal and NO_COLOR is unset (CLICOLOR and CLICOLOR_FORCE are honoured).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile environments into out/<env>/<mode>/
    #[command(after_help = BUILD_EXAMPLES)]
    Build(BuildArgs),
    /// Validate environments and profiles for every mode without writing anything
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print the JSON Schema of environment or profile files
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// List environments and modes (backend, tier, Kubernetes version, services)
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Compare modes, or artifact sets of any format, semantically
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Promote what a mode runs into a prod mode's release lock (dry run unless --write)
    #[command(after_help = PROMOTE_EXAMPLES)]
    Promote(PromoteArgs),
    /// Import a Compose project or Kubernetes manifests into a model (docs/import.md)
    Import(crate::import::ImportArgs),
    /// Print what a mode deploys to stdout: YAML for kubectl, the Compose file
    #[command(after_help = RENDER_EXAMPLES)]
    Render(RenderArgs),
    /// Show a service's values in each mode and the files and lines that set them
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Print the dependency graph of a mode (dot, mermaid or JSON)
    #[command(after_help = GRAPH_EXAMPLES)]
    Graph(GraphArgs),
    /// List every URL and host:port a mode exposes, to people and to other services
    #[command(after_help = ENDPOINTS_EXAMPLES)]
    Endpoints(EndpointsArgs),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the manual page, or write one per command into a directory
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

const RENDER_EXAMPLES: &str = "\
Examples:
  envc render k3s | kubectl apply -f -          deploy the k3s mode (namespaces first)
  envc render k3s | kubectl diff -f -           what applying it would change in the cluster
  envc render eks --service minio               the objects the chart renders for one service
  envc render docker | docker compose --project-directory out/crypto-lakehouse/docker -f - config

Kubernetes modes print every manifest of the set as one multi-document YAML stream, Helm modes
the objects the chart renders with its values.yaml (what `helm template` prints), the docker mode
its Compose file (the files it mounts are those `envc build` writes beside it). Nothing is
written. Exit status: 0 printed, 2 invalid input.";

/// `envc render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Mode to render (a profile in profiles/).
    #[arg(value_name = "MODE")]
    pub mode: String,
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Only this service's objects (Kubernetes and Helm: those labelled with its name;
    /// Compose: its entry under `services`).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
}

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  envc explain prefect-worker                   every value of the service, in every mode
  envc explain prefect-worker.replicas          one key: its value in each mode and what set it
  envc explain minio.env.MINIO_ROOT_USER --mode k3s
  envc explain postgres.image --format json

For each mode, the value and the chain of files and lines that set it, in the order they apply:
the environment file (through a template, when the service extends one), the release lock of a
prod mode, then each profile of the mode's `extends` chain. The last one wins.";

/// `envc explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// `SERVICE` or `SERVICE.KEY` (a dotted model path under the service: `replicas`,
    /// `env.PREFECT_API_URL`, `resources.limits.memory`).
    #[arg(value_name = "SERVICE[.KEY]")]
    pub what: String,
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Only this mode (default: every mode).
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const GRAPH_EXAMPLES: &str = "\
Examples:
  envc graph                                    the first mode's graph, as Graphviz dot
  envc graph --mode k3s | dot -Tsvg > graph.svg
  envc graph --mode eks --format mermaid        for Markdown (managed services drawn apart)
  envc graph --format json                      nodes in topological order, edges with file:line

An edge goes from a service to one it depends on: declared in depends_on, or implied by a
${...} reference (labelled with the port it names).";

/// `envc graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Mode (default: the first profile in profiles/, by name).
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// Output format of `envc graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// For machines (docs/cli.md).
    Json,
}

const ENDPOINTS_EXAMPLES: &str = "\
Examples:
  envc endpoints                                every mode
  envc endpoints --mode docker                  host ports on localhost, and Compose service names
  envc endpoints --mode k3s --format json

For people: Ingress URLs, NodePorts and published host ports. For other services: the in-cluster
(or Compose network) address of every port. Managed services (prod modes) are listed with the
placeholder the deployment replaces.";

/// `envc endpoints`.
#[derive(Debug, Args)]
pub struct EndpointsArgs {
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Only this mode (default: every mode).
    #[arg(long, value_name = "MODE")]
    pub mode: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  envc completions bash > ~/.local/share/bash-completion/completions/envc
  envc completions zsh > ~/.zfunc/_envc         (with fpath+=~/.zfunc before compinit)
  envc completions fish > ~/.config/fish/completions/envc.fish";

/// `envc completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

const MAN_EXAMPLES: &str = "\
Examples:
  envc man | man -l -                           read it now
  envc man --out target/man                     envc.1 and envc-<command>.1 for every command";

/// `envc man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write envc.1 and one page per command (envc-build.1, ...) into this directory instead of
    /// printing envc.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Output format of commands with a text and a JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines (docs/cli.md).
    Json,
}

const PROMOTE_EXAMPLES: &str = "\
Examples:
  envc promote k3s eks                          the plan: what eks would become, and the gates
  envc promote k3s eks --write                  write the eks lock, its log and eks's artifacts
  envc promote k3s eks --only prefect-server    one service (repeat --only, or separate with commas)
  envc promote staging-eks eks --format json    the plan for pipelines (docs/promote.md)
  envc promote k3s eks --digest minio=sha256:<64 hex> --write
                                                pin the digest your registry reports
  git show v1.4:locks/crypto-lakehouse/eks.toml > /tmp/eks-v1.4.toml
  envc promote /tmp/eks-v1.4.toml eks --write -m 'roll back to v1.4'
                                                roll back: promote an earlier lock

Prod modes with a lock are built from it; dev modes follow the model. Gates refuse unpinned
images, images the source does not run, dev secret values, unmet [promotion] requirements of
the target profile, stale source artifacts, and a target that does not build.
Exit status: 0 plan ok (and written with --write), 1 a gate failed (nothing written), 2 error.";

/// `envc promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Mode to promote from (`k3s`, `staging-eks`), or a lock file to roll back to.
    #[arg(value_name = "FROM")]
    pub from: String,
    /// Prod mode to promote into.
    #[arg(value_name = "TO")]
    pub to: String,
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Promote only these services (`environment` for the environment-wide settings).
    #[arg(long, value_name = "SERVICE", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Update TO's lock, append to its promotion log and rebuild its artifacts.
    #[arg(long)]
    pub write: bool,
    /// Pin an image digest in the lock: SERVICE=sha256:<64 hex>.
    #[arg(long, value_name = "SERVICE=DIGEST")]
    pub digest: Vec<String>,
    /// Why, recorded in the promotion log.
    #[arg(long, short, value_name = "TEXT")]
    pub message: Option<String>,
    /// Output directory holding the artifact sets.
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PromoteFormat::Text)]
    pub format: PromoteFormat,
}

/// Output format of `envc promote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromoteFormat {
    /// For people.
    Text,
    /// For machines (docs/promote.md).
    Json,
}

const DIFF_EXAMPLES: &str = "\
Examples:
  envc diff docker k3s                          two modes of the environment, built in memory
  envc diff k3s eks --format json               the same for pipelines (docs/diff.md)
  envc diff --against out/crypto-lakehouse/k3s k3s
                                                a hand-edited or deployed copy vs a fresh build
  kubectl get namespace,resourcequota,limitrange,networkpolicy,pdb,deploy,sts,ds,job,cronjob,\
    svc,cm,secret,hpa,ingress,pvc,serviceaccount,role,rolebinding,clusterrole,clusterrolebinding \
    -A -l app.kubernetes.io/part-of=crypto-lakehouse -o yaml | envc diff --against - k3s
                                                a live cluster vs a fresh build (every kind envc writes)
  envc diff --from compose.yml --to k3s.yml --map minio=minio-local
                                                two hand-written sets, services renamed
  envc diff --from compose.yml --from compose.prod.yml --to k8s/
                                                a Compose project of two files vs a folder of manifests

Each difference is expected (a profile sets it; the profile line is shown), not representable
(the format cannot express it), accepted (accepted.toml) or drift.
Exit status: 0 no drift, 1 drift, 2 error.";

/// `envc diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Two modes to compare (`docker k3s`), or one mode with --against.
    #[arg(value_name = "MODE")]
    pub modes: Vec<String>,
    /// Environment (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Compare a fresh build of MODE with this artifact set (a directory, a file, or `-` for
    /// a YAML stream on stdin).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["from", "to"])]
    pub against: Option<String>,
    /// First existing artifact set: a folder, a file, or `-` for stdin; repeat for the files
    /// of one Compose project (`--from a.yml --from b.yml`, merged as `docker compose -f a.yml
    /// -f b.yml` merges them).
    #[arg(long, value_name = "PATH", requires = "to")]
    pub from: Vec<String>,
    /// Second existing artifact set (as --from).
    #[arg(long, value_name = "PATH", requires = "from")]
    pub to: Vec<String>,
    /// Env file for Compose interpolation instead of the project's `.env` (repeatable, later
    /// files win; the shell environment wins over all), as `docker compose --env-file`.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Compose profile to activate (repeatable); without one, every service is read.
    #[arg(long = "profile", value_name = "NAME")]
    pub profile: Vec<String>,
    /// Service renames, `A=B`: service B of the second set is service A of the first.
    #[arg(long = "map", value_name = "A=B")]
    pub map: Vec<String>,
    /// Accepted differences (default: accepted.toml in the project root, if present).
    #[arg(long, value_name = "FILE")]
    pub accepted: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Show drift only (the summary still counts everything).
    #[arg(long)]
    pub drift_only: bool,
    /// Also list values equal only once host names, ports and restart policies are read per
    /// format (counted as `normalized` otherwise).
    #[arg(long)]
    pub show_normalized: bool,
    /// Fail (exit 1) when an accepted difference no longer occurs (a stale rule).
    #[arg(long)]
    pub strict: bool,
}

/// Output format of `envc diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For people.
    Text,
    /// For machines (docs/diff.md).
    Json,
}

const LIST_EXAMPLES: &str = "\
Examples:
  envc list                                     a table of environments and modes
  envc list --format json                       the same for scripts (one object per line,
                                                docs/cli.md)";

/// `envc list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output format of `envc list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Text,
    /// One JSON object per line.
    Json,
}

const BUILD_EXAMPLES: &str = "\
Examples:
  envc build                                    every environment, every mode
  envc build --target k3s                       one mode
  envc build --env crypto-lakehouse --target docker
  envc build --target all --check               CI: exit 1 if out/ differs from a fresh build
  envc build --format json                      what was written, and every diagnostic, as JSON

Writes are atomic: each out/<env>/<mode>/ is built in a temporary directory next to it and
renamed into place, and nothing is written when any input is invalid.";

const CHECK_EXAMPLES: &str = "\
Examples:
  envc check                                    every environment in every mode
  envc check --env crypto-lakehouse --target eks
  envc check --format json                      each mode and every diagnostic as JSON (docs/cli.md)";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  envc schema > envc.schema.json                environment files
  envc schema --profile > profile.schema.json   profile settings";

/// Which environments and modes.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Environment to build (default: every file in environments/).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Mode to build, or `all` for every profile in profiles/.
    #[arg(long, default_value = "all", value_name = "MODE|all")]
    pub target: String,
}

/// `envc build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Which environments and modes.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output directory, relative to the project root (`-` is refused: `envc render MODE`
    /// prints a mode to stdout).
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Write nothing; exit 1 if the output directory is missing, stale or holds extra files.
    #[arg(long)]
    pub check: bool,
    /// Output format: JSON on stdout says what was written (or found stale) and every
    /// diagnostic.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `envc check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Which environments and modes.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `envc schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The schema of profile settings instead of environment files.
    #[arg(long)]
    pub profile: bool,
}
