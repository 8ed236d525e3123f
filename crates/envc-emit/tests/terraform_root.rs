//! The Terraform root modules in the committed `out/` (every environment, every Helm mode)
//! checked as `terraform validate` would check their module calls, without a Terraform binary:
//! every file parses as HCL; every module is pinned to a version whose interface is vendored
//! under `tests/fixtures/terraform-modules/` (its own `variables.tf` and `outputs.tf`, source
//! and licence in `SOURCE.md` there); every argument is one of the module's variables and
//! every required variable is given; attribute names of object-typed arguments are declared in
//! the variable's type; every `var.`, `local.` and `module.` reference resolves (module
//! outputs included); every declared variable is used; the providers' version constraints
//! meet every module's; and every `terraform output` the generated README names exists.

#![allow(clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use envc_emit::terraform::root::MODULES;
use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Element, Template};
use hcl::{Block, Body};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vendored() -> PathBuf {
    root().join("tests/fixtures/terraform-modules")
}

/// The vendored folder of a registry source.
fn interface_dir(source: &str) -> &'static str {
    match source {
        "terraform-aws-modules/vpc/aws" => "aws-vpc",
        "terraform-aws-modules/eks/aws" => "aws-eks",
        "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts" => {
            "aws-iam-role-for-service-accounts"
        }
        "terraform-aws-modules/rds/aws" => "aws-rds",
        "terraform-aws-modules/elasticache/aws" => "aws-elasticache",
        "terraform-aws-modules/efs/aws" => "aws-efs",
        "terraform-google-modules/network/google" => "google-network",
        "terraform-google-modules/kubernetes-engine/google" => "google-kubernetes-engine",
        "terraform-google-modules/kubernetes-engine/google//modules/workload-identity" => {
            "google-workload-identity"
        }
        "terraform-google-modules/sql-db/google//modules/postgresql" => "google-sql-db-postgresql",
        "terraform-google-modules/memorystore/google" => "google-memorystore",
        other => panic!("no vendored interface for module source {other}"),
    }
}

fn parse(path: &Path) -> Body {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hcl::parse(&text).unwrap_or_else(|e| panic!("{} is not valid HCL: {e}", path.display()))
}

fn label(b: &Block, i: usize) -> String {
    b.labels
        .get(i)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default()
}

fn attr<'a>(body: &'a Body, name: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == name)
        .map(|a| &a.expr)
}

/// A module's interface: its variables (with their type and whether they are required),
/// outputs and provider constraints.
struct Interface {
    variables: BTreeMap<String, (Option<Expression>, bool)>,
    outputs: BTreeSet<String>,
    providers: BTreeMap<String, String>,
}

fn interface(source: &str, version: &str) -> Interface {
    let dir = vendored()
        .join(interface_dir(source))
        .join(format!("v{version}"));
    assert!(
        dir.is_dir(),
        "module {source} {version}: no vendored interface at {}",
        dir.display()
    );
    let mut variables = BTreeMap::new();
    for b in parse(&dir.join("variables.tf"))
        .blocks()
        .filter(|b| b.identifier.as_str() == "variable")
    {
        let required = attr(&b.body, "default").is_none();
        variables.insert(label(b, 0), (attr(&b.body, "type").cloned(), required));
    }
    let outputs = parse(&dir.join("outputs.tf"))
        .blocks()
        .filter(|b| b.identifier.as_str() == "output")
        .map(|b| label(b, 0))
        .collect();
    let versions = dir.join("versions.tf");
    let providers = if versions.is_file() {
        required_providers(&parse(&versions))
    } else {
        BTreeMap::new()
    };
    Interface {
        variables,
        outputs,
        providers,
    }
}

/// Provider name -> version constraint of a `terraform { required_providers { ... } }` block.
fn required_providers(body: &Body) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in body
        .blocks()
        .filter(|b| b.identifier.as_str() == "terraform")
    {
        for rp in t
            .body
            .blocks()
            .filter(|b| b.identifier.as_str() == "required_providers")
        {
            for a in rp.body.attributes() {
                if let Expression::Object(o) = &a.expr {
                    for (k, v) in o {
                        if key_name(k).as_deref() == Some("version")
                            && let Expression::String(s) = v
                        {
                            out.insert(a.key.as_str().to_string(), s.clone());
                        }
                    }
                }
            }
        }
    }
    out
}

fn key_name(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Identifier(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_string()),
        _ => None,
    }
}

/// The attribute names an object type declares, looking through `map(...)`, `list(...)`,
/// `set(...)` and `optional(...)`; `None` for `any` and other open types.
fn object_attributes(ty: &Expression) -> Option<BTreeMap<String, Expression>> {
    let Expression::FuncCall(f) = ty else {
        return None;
    };
    let name = f.name.name.as_str();
    match name {
        "object" => match f.args.first() {
            Some(Expression::Object(o)) => Some(
                o.iter()
                    .filter_map(|(k, v)| key_name(k).map(|k| (k, v.clone())))
                    .collect(),
            ),
            _ => None,
        },
        "map" | "list" | "set" | "optional" => f.args.first().and_then(object_attributes),
        _ => None,
    }
}

fn is_collection_of_objects(ty: &Expression) -> bool {
    matches!(ty, Expression::FuncCall(f) if matches!(f.name.name.as_str(), "map" | "list" | "set"))
}

/// Object literals an argument's value is made of: the value itself, the values of a map
/// literal or a `for` expression, the items of a list.
fn value_objects<'a>(value: &'a Expression, collection: bool, out: &mut Vec<&'a Expression>) {
    match value {
        Expression::ForExpr(f) => value_objects(&f.value_expr, false, out),
        Expression::Array(items) => items.iter().for_each(|i| value_objects(i, false, out)),
        Expression::Object(o) if collection => {
            o.iter().for_each(|(_, v)| value_objects(v, false, out))
        }
        Expression::Object(_) => out.push(value),
        _ => {}
    }
}

/// Checks the attribute names of `value` against the object type `ty`, recursively.
fn check_object(at: &str, ty: &Expression, value: &Expression, errors: &mut Vec<String>) {
    let Some(attrs) = object_attributes(ty) else {
        return;
    };
    let mut objects = Vec::new();
    value_objects(value, is_collection_of_objects(ty), &mut objects);
    for o in objects {
        let Expression::Object(o) = o else { continue };
        for (k, v) in o {
            let Some(k) = key_name(k) else { continue };
            match attrs.get(&k) {
                None => errors.push(format!(
                    "{at}: attribute `{k}` is not in the variable's type (known: {})",
                    attrs.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
                Some(t) => check_object(&format!("{at}.{k}"), t, v, errors),
            }
        }
    }
}

/// Every reference in an expression: (root, first attribute, rest) for `var.x`, `local.x`,
/// `module.m[...].o`.
#[derive(Debug, Default)]
struct Refs {
    vars: BTreeSet<String>,
    locals: BTreeSet<String>,
    /// (module, output or "")
    modules: BTreeSet<(String, String)>,
    /// Resources referenced as `<type>.<name>` (types start with a provider's name and `_`).
    resources: BTreeSet<(String, String)>,
    /// Data sources referenced as `data.<type>.<name>`.
    data: BTreeSet<(String, String)>,
}

/// Provider prefixes of resource types: a traversal rooted at `aws_x` is a resource, one
/// rooted at `entry` a `for` variable.
const RESOURCE_PREFIXES: [&str; 4] = ["aws_", "google_", "kubernetes_", "helm_"];

fn walk(e: &Expression, refs: &mut Refs) {
    match e {
        Expression::Traversal(t) => {
            if let Expression::Variable(root) = &t.expr {
                let names: Vec<Option<&str>> = t
                    .operators
                    .iter()
                    .map(|op| match op {
                        TraversalOperator::GetAttr(i) => Some(i.as_str()),
                        _ => None,
                    })
                    .collect();
                match (root.as_str(), names.first().copied().flatten()) {
                    ("var", Some(n)) => {
                        refs.vars.insert(n.to_string());
                    }
                    ("local", Some(n)) => {
                        refs.locals.insert(n.to_string());
                    }
                    ("data", Some(t)) => {
                        if let Some(n) = names.get(1).copied().flatten() {
                            refs.data.insert((t.to_string(), n.to_string()));
                        }
                    }
                    (t, Some(n)) if RESOURCE_PREFIXES.iter().any(|p| t.starts_with(p)) => {
                        refs.resources.insert((t.to_string(), n.to_string()));
                    }
                    ("module", Some(m)) => {
                        // module.m.output, or module.m["key"].output for a module with for_each.
                        let output = t.operators.iter().skip(1).find_map(|op| match op {
                            TraversalOperator::GetAttr(i) => Some(i.as_str().to_string()),
                            _ => None,
                        });
                        refs.modules
                            .insert((m.to_string(), output.unwrap_or_default()));
                    }
                    _ => {}
                }
            } else {
                walk(&t.expr, refs);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    walk(i, refs);
                }
            }
        }
        Expression::Array(a) => a.iter().for_each(|x| walk(x, refs)),
        Expression::Object(o) => o.iter().for_each(|(k, v)| {
            if let ObjectKey::Expression(k) = k {
                walk(k, refs);
            }
            walk(v, refs);
        }),
        Expression::Parenthesis(p) => walk(p, refs),
        Expression::FuncCall(f) => f.args.iter().for_each(|x| walk(x, refs)),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, refs);
            walk(&c.true_expr, refs);
            walk(&c.false_expr, refs);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => walk(&u.expr, refs),
            hcl::expr::Operation::Binary(b) => {
                walk(&b.lhs_expr, refs);
                walk(&b.rhs_expr, refs);
            }
        },
        Expression::ForExpr(f) => {
            walk(&f.collection_expr, refs);
            if let Some(k) = &f.key_expr {
                walk(k, refs);
            }
            walk(&f.value_expr, refs);
            if let Some(c) = &f.cond_expr {
                walk(c, refs);
            }
        }
        Expression::TemplateExpr(t) => walk_template(t, refs),
        _ => {}
    }
}

fn walk_template(t: &TemplateExpr, refs: &mut Refs) {
    let Ok(template) = Template::from_expr(t) else {
        return;
    };
    walk_elements(template.elements(), refs);
}

fn walk_elements(elements: &[Element], refs: &mut Refs) {
    for el in elements {
        match el {
            Element::Interpolation(i) => walk(&i.expr, refs),
            Element::Directive(_) | Element::Literal(_) => {}
        }
    }
}

fn walk_body(body: &Body, refs: &mut Refs) {
    for a in body.attributes() {
        walk(&a.expr, refs);
    }
    for b in body.blocks() {
        walk_body(&b.body, refs);
    }
}

/// `(lower, upper)` of a constraint such as `>= 6.28`, `~> 6.28`, `>= 7.17.0, < 8`.
fn bounds(constraint: &str) -> (Vec<u64>, Option<Vec<u64>>) {
    let mut lower = vec![0];
    let mut upper: Option<Vec<u64>> = None;
    for part in constraint.split(',') {
        let part = part.trim();
        let (op, v) = part
            .find(|c: char| c.is_ascii_digit())
            .map_or(("", part), |i| (part[..i].trim(), part[i..].trim()));
        let ver: Vec<u64> = v.split('.').filter_map(|p| p.parse().ok()).collect();
        match op {
            ">=" | ">" | "=" | "" => lower = lower.max(ver.clone()),
            "<" | "<=" => upper = Some(ver),
            "~>" => {
                lower = lower.max(ver.clone());
                let mut up = ver[..ver.len().saturating_sub(1).max(1)].to_vec();
                if let Some(last) = up.last_mut() {
                    *last += 1;
                }
                if up.len() == ver.len() {
                    up = vec![ver[0] + 1];
                }
                upper = Some(up);
            }
            other => panic!("unknown constraint operator `{other}` in `{constraint}`"),
        }
    }
    (lower, upper)
}

fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        v.resize(n, 0);
        v
    };
    pad(a).cmp(&pad(b))
}

/// Variables no expression reads, with the reason they are declared anyway.
const READ_BY_PEOPLE: &[(&str, &str)] = &[
    (
        "namespaces",
        "documents the namespaces the chart creates, for IAM and quota reviews",
    ),
    (
        "ingress_hosts",
        "the DNS records and certificates the operator creates for the Ingresses",
    ),
    (
        "load_balancer_cidrs",
        "on GKE the chart's NetworkPolicies admit these ranges; GKE's ingress controller opens its own firewall rules",
    ),
];

fn check_root(dir: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let files: Vec<(String, Body)> = ["versions.tf", "main.tf", "outputs.tf", "variables.tf"]
        .iter()
        .map(|f| (f.to_string(), parse(&dir.join(f))))
        .collect();
    let mut variables = BTreeSet::new();
    let mut locals = BTreeSet::new();
    let mut modules: BTreeMap<String, Interface> = BTreeMap::new();
    let mut outputs = BTreeSet::new();
    let mut resources = BTreeSet::new();
    let mut data = BTreeSet::new();
    let mut root_providers = BTreeMap::new();
    let mut refs = Refs::default();
    for (name, body) in &files {
        root_providers.extend(required_providers(body));
        for b in body.blocks() {
            match b.identifier.as_str() {
                "variable" => {
                    variables.insert(label(b, 0));
                }
                "locals" => locals.extend(b.body.attributes().map(|a| a.key.as_str().to_string())),
                "output" => {
                    outputs.insert(label(b, 0));
                }
                "resource" => {
                    resources.insert((label(b, 0), label(b, 1)));
                }
                "data" => {
                    data.insert((label(b, 0), label(b, 1)));
                }
                "module" => {
                    let m = label(b, 0);
                    let at = format!("{}/{name}: module `{m}`", dir.display());
                    let (Some(Expression::String(source)), Some(Expression::String(version))) =
                        (attr(&b.body, "source"), attr(&b.body, "version"))
                    else {
                        errors.push(format!("{at}: needs a literal source and an exact version"));
                        continue;
                    };
                    if !MODULES
                        .iter()
                        .any(|x| x.source == source && x.version == version)
                    {
                        errors.push(format!("{at}: {source} {version} is not in root::MODULES"));
                    }
                    let i = interface(source, version);
                    let given: BTreeSet<&str> =
                        b.body.attributes().map(|a| a.key.as_str()).collect();
                    for a in b.body.attributes() {
                        let k = a.key.as_str();
                        if [
                            "source",
                            "version",
                            "for_each",
                            "count",
                            "depends_on",
                            "providers",
                        ]
                        .contains(&k)
                        {
                            continue;
                        }
                        match i.variables.get(k) {
                            None => errors.push(format!(
                                "{at}: `{k}` is not a variable of {source} {version}"
                            )),
                            Some((Some(ty), _)) => {
                                check_object(&format!("{at}: {k}"), ty, &a.expr, &mut errors)
                            }
                            Some((None, _)) => {}
                        }
                    }
                    for (v, (_, required)) in &i.variables {
                        if *required && !given.contains(v.as_str()) {
                            errors.push(format!(
                                "{at}: required variable `{v}` of {source} {version} is not given"
                            ));
                        }
                    }
                    modules.insert(m, i);
                }
                _ => {}
            }
        }
        walk_body(body, &mut refs);
    }
    for v in &refs.vars {
        if !variables.contains(v) {
            errors.push(format!(
                "{}: var.{v} is not declared in variables.tf",
                dir.display()
            ));
        }
    }
    for v in &variables {
        if !refs.vars.contains(v) && !READ_BY_PEOPLE.iter().any(|(n, _)| n == v) {
            errors.push(format!(
                "{}: variable `{v}` is declared but nothing uses it",
                dir.display()
            ));
        }
    }
    for l in &refs.locals {
        if !locals.contains(l) {
            errors.push(format!("{}: local.{l} is not defined", dir.display()));
        }
    }
    for r in &refs.resources {
        if !resources.contains(r) {
            errors.push(format!(
                "{}: resource {}.{} is not declared",
                dir.display(),
                r.0,
                r.1
            ));
        }
    }
    for r in &refs.data {
        if !data.contains(r) {
            errors.push(format!(
                "{}: data.{}.{} is not declared",
                dir.display(),
                r.0,
                r.1
            ));
        }
    }
    for (m, o) in &refs.modules {
        match modules.get(m) {
            None => errors.push(format!("{}: module.{m} is not declared", dir.display())),
            Some(i) if !o.is_empty() && !i.outputs.contains(o) => errors.push(format!(
                "{}: module.{m}.{o} is not an output of the module",
                dir.display()
            )),
            Some(_) => {}
        }
    }
    // Provider constraints: the root's range must lie inside every module's.
    for (m, i) in &modules {
        for (p, c) in &i.providers {
            let Some(rc) = root_providers.get(p) else {
                continue;
            };
            let (rlo, rhi) = bounds(rc);
            let (mlo, mhi) = bounds(c);
            if cmp(&rlo, &mlo).is_lt() {
                errors.push(format!(
                    "{}: provider {p} `{rc}` allows versions below module {m}'s `{c}`",
                    dir.display()
                ));
            }
            if let Some(mhi) = mhi
                && rhi.as_ref().is_none_or(|rhi| cmp(rhi, &mhi).is_gt())
            {
                errors.push(format!(
                    "{}: provider {p} `{rc}` allows versions above module {m}'s `{c}`",
                    dir.display()
                ));
            }
        }
    }
    // The README's `terraform output` commands.
    if let Ok(readme) = fs::read_to_string(dir.join("../README.md")) {
        for part in readme.split("output -raw ").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !outputs.contains(&name) {
                errors.push(format!(
                    "{}: the README reads output `{name}`, which outputs.tf does not define",
                    dir.display()
                ));
            }
        }
    }
    errors
}

/// Every generated root module: the committed `out/` and the reviewed scenario outputs.
fn roots() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut sets: Vec<PathBuf> = vec![root().join("out")];
    for scenario in fs::read_dir(root().join("tests/scenarios"))
        .into_iter()
        .flatten()
        .flatten()
    {
        sets.push(scenario.path().join("expected"));
    }
    for set in sets {
        for env in fs::read_dir(&set).into_iter().flatten().flatten() {
            for mode in fs::read_dir(env.path()).into_iter().flatten().flatten() {
                let tf = mode.path().join("terraform");
                if tf.join("main.tf").is_file() {
                    out.push(tf);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_root_module_calls_its_modules_as_their_interfaces_declare() {
    let roots = roots();
    assert!(
        roots.len() >= 4,
        "expected eks and gke of two environments, found {roots:?}"
    );
    let errors: Vec<String> = roots.iter().flat_map(|r| check_root(r)).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_checker_catches_what_terraform_would_refuse() {
    // Planted mistakes, one per rule, on a copy of a committed root module.
    let Some(src) = roots()
        .into_iter()
        .find(|r| r.to_string_lossy().contains("eks"))
    else {
        panic!("no eks root module in out/");
    };
    let plant = |file: &str, from: &str, to: &str| -> Vec<String> {
        let tmp = tempdir(&src);
        let path = tmp.join(file);
        let text = fs::read_to_string(&path).unwrap_or_default();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        let _ = fs::write(&path, text.replacen(from, to, 1));
        let errors = check_root(&tmp);
        let _ = fs::remove_dir_all(&tmp);
        errors
    };
    let cases = [
        (
            "main.tf",
            "  kubernetes_version = var.kubernetes_version",
            "  cluster_version = var.kubernetes_version",
            "is not a variable of",
        ),
        (
            "main.tf",
            "identifier",
            "# identifier",
            "required variable `identifier`",
        ),
        (
            "main.tf",
            "use_custom_launch_template",
            "use_custom_template",
            "is not in the variable's type",
        ),
        (
            "main.tf",
            "module.eks.oidc_provider_arn",
            "module.eks.oidc_arn",
            "is not an output",
        ),
        ("main.tf", "var.zones", "var.zone_list", "is not declared"),
        (
            "main.tf",
            "[aws_security_group.postgres.id]",
            "[aws_security_group.pg.id]",
            "resource aws_security_group.pg is not declared",
        ),
        ("versions.tf", "~> 6.28", "~> 6.0", "allows versions below"),
        (
            "outputs.tf",
            "output \"postgres_host\"",
            "output \"db_host\"",
            "the README reads output `postgres_host`",
        ),
    ];
    for (file, from, to, expect) in cases {
        let errors = plant(file, from, to);
        assert!(
            errors.iter().any(|e| e.contains(expect)),
            "planting {to:?} in {file}: expected an error containing {expect:?}, got {errors:#?}"
        );
    }
}

fn tempdir(src: &Path) -> PathBuf {
    let n = std::process::id();
    let stamp = src.to_string_lossy().len();
    let dst = std::env::temp_dir().join(format!("envc-tf-{n}-{stamp}-{}", rand_suffix()));
    let _ = fs::create_dir_all(dst.join("terraform"));
    for f in ["versions.tf", "main.tf", "outputs.tf", "variables.tf"] {
        let _ = fs::copy(src.join(f), dst.join("terraform").join(f));
    }
    let _ = fs::copy(src.join("../README.md"), dst.join("README.md"));
    dst.join("terraform")
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn constraints_bound_as_terraform_reads_them() {
    assert_eq!(bounds("~> 6.28"), (vec![6, 28], Some(vec![7])));
    assert_eq!(bounds(">= 7.17.0, < 8"), (vec![7, 17, 0], Some(vec![8])));
    assert_eq!(bounds("~> 3.1.0"), (vec![3, 1, 0], Some(vec![3, 2])));
    assert_eq!(bounds(">= 6.28"), (vec![6, 28], None));
}
