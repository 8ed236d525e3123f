//! The Terraform side of a secret store (`[secrets_store]`): the variable naming the store's
//! entries and identity, one entry per secret the chart reads (never a value or a version:
//! people put the values, as the README says), and the identity the External Secrets
//! Operator reads them as, allowed to read exactly those entries and trusted by exactly the
//! store's ServiceAccounts.

use envc_core::Ir;
use envc_model::profile::{CloudSettings, Provider};
use serde_json::{Map, json};

use super::hcl::{Item, attr, attr_str, block, comment, object};
use super::root::IRSA;
use super::{TfType, Variable};
use crate::external_secrets::{self, Store};

/// The `secrets_store` variable, for a mode with a store.
pub fn variable(ir: &Ir) -> Option<Variable> {
    let st = external_secrets::plan(ir)?;
    let mut secrets = Map::new();
    for s in &st.secrets {
        let description = s
            .description
            .clone()
            .unwrap_or_else(|| format!("Secret `{}`", s.name));
        secrets.insert(
            s.name.clone(),
            json!({"name": s.remote_key, "description": format!("{description} ({} {})", ir.env, ir.mode)}),
        );
    }
    let accounts: Vec<_> = st
        .trusted()
        .into_iter()
        .map(|(ns, name)| json!({"namespace": ns, "name": name}))
        .collect();
    Some(Variable::new(
        "secrets_store",
        TfType::Object(vec![
            ("identity", TfType::String),
            (
                "service_accounts",
                TfType::List(Box::new(TfType::Object(vec![
                    ("namespace", TfType::String),
                    ("name", TfType::String),
                ]))),
            ),
            (
                "secrets",
                TfType::Map(Box::new(TfType::Object(vec![
                    ("name", TfType::String),
                    ("description", TfType::String),
                ]))),
            ),
        ]),
        match st.cloud.provider {
            Provider::Aws => {
                "AWS Secrets Manager entries of the chart's secrets (by secret: name in the store), the IAM role the External Secrets Operator reads them as, and the ServiceAccounts it trusts"
            }
            Provider::Gcp => {
                "Google Secret Manager entries of the chart's secrets (by secret: secret id), the Google service account the External Secrets Operator reads them as, and the ServiceAccounts bound to it"
            }
        },
        json!({"identity": st.identity, "service_accounts": accounts, "secrets": secrets}),
    ))
}

/// What `main.tf` gets for the store, after everything else.
pub fn main(ir: &Ir, cloud: &CloudSettings) -> Vec<Item> {
    let Some(st) = external_secrets::plan(ir) else {
        return Vec::new();
    };
    match cloud.provider {
        Provider::Aws => aws(&st),
        Provider::Gcp => gcp(),
    }
}

/// What `outputs.tf` gets for the store.
pub fn outputs(ir: &Ir, cloud: &CloudSettings) -> Vec<Item> {
    if external_secrets::plan(ir).is_none() {
        return Vec::new();
    }
    let (identity, entries) = match cloud.provider {
        Provider::Aws => (
            (
                "IAM role ARN the External Secrets Operator reads the store as",
                "module.secrets_store_identity.arn",
            ),
            (
                "ARN of each secret's entry in AWS Secrets Manager, by secret",
                "{ for secret, entry in aws_secretsmanager_secret.store : secret => entry.arn }",
            ),
        ),
        Provider::Gcp => (
            (
                "Google service account the External Secrets Operator reads the store as",
                "google_service_account.secrets_store.email",
            ),
            (
                "Resource name of each secret's entry in Google Secret Manager, by secret",
                "{ for secret, entry in google_secret_manager_secret.store : secret => entry.id }",
            ),
        ),
    };
    vec![
        output("secrets_store_identity", identity.0, identity.1),
        output("secrets_store_entries", entries.0, entries.1),
    ]
}

fn output(name: &str, description: &str, value: &str) -> Item {
    block(
        "output",
        &[name],
        vec![attr_str("description", description), attr("value", value)],
    )
}

fn aws(st: &Store) -> Vec<Item> {
    let entry = block(
        "resource",
        &["aws_secretsmanager_secret", "store"],
        vec![
            comment(
                "One entry per secret the chart reads; the values are put by hand (README), never by Terraform.",
            ),
            attr("for_each", "var.secrets_store.secrets"),
            Item::Blank,
            attr("name", "each.value.name"),
            attr("description", "each.value.description"),
        ],
    );
    let mut role = vec![
        comment(format!(
            "The role of the {} `{}`: it may read exactly the entries above, and only its ServiceAccounts may assume it.",
            st.kind, st.name
        )),
        attr_str("source", IRSA.source),
        attr_str("version", IRSA.version),
        Item::Blank,
        attr("name", "var.secrets_store.identity"),
        attr("use_name_prefix", "false"),
        attr(
            "oidc_providers",
            "{\n  cluster = {\n    provider_arn               = module.eks.oidc_provider_arn\n    namespace_service_accounts = [for a in var.secrets_store.service_accounts : \"${a.namespace}:${a.name}\"]\n  }\n}",
        ),
        Item::Blank,
        comment(
            "The operator reads values only (no metadata, no listing): GetSecretValue on these entries.",
        ),
    ];
    role.push(attr(
        "permissions",
        object(&[(
            "ReadTheModesSecrets",
            object(&[
                ("actions", "[\"secretsmanager:GetSecretValue\"]".into()),
                (
                    "resources",
                    "[for entry in aws_secretsmanager_secret.store : entry.arn]".into(),
                ),
            ]),
        )]),
    ));
    vec![entry, block("module", &["secrets_store_identity"], role)]
}

fn gcp() -> Vec<Item> {
    vec![
        block(
            "resource",
            &["google_project_service", "secret_manager"],
            vec![
                attr_str("service", "secretmanager.googleapis.com"),
                attr("disable_on_destroy", "false"),
            ],
        ),
        block(
            "resource",
            &["google_secret_manager_secret", "store"],
            vec![
                comment(
                    "One secret per secret the chart reads; its versions (the values) are added by hand (README), never by Terraform.",
                ),
                attr("for_each", "var.secrets_store.secrets"),
                Item::Blank,
                attr("secret_id", "each.value.name"),
                attr(
                    "annotations",
                    object(&[("description", "each.value.description".into())]),
                ),
                block("replication", &[], vec![block("auto", &[], vec![])]),
                Item::Blank,
                attr("depends_on", "[google_project_service.secret_manager]"),
            ],
        ),
        block(
            "resource",
            &["google_service_account", "secrets_store"],
            vec![
                attr("account_id", "var.secrets_store.identity"),
                attr_str("display_name", "External Secrets Operator"),
                attr(
                    "description",
                    "\"Reads the secrets of ${var.cluster_name} from Secret Manager\"",
                ),
            ],
        ),
        block(
            "resource",
            &["google_secret_manager_secret_iam_member", "secrets_store"],
            vec![
                comment(
                    "Read access to exactly these secrets, one binding per secret (no project-wide role).",
                ),
                attr("for_each", "google_secret_manager_secret.store"),
                Item::Blank,
                attr("secret_id", "each.value.id"),
                attr_str("role", "roles/secretmanager.secretAccessor"),
                attr(
                    "member",
                    "\"serviceAccount:${google_service_account.secrets_store.email}\"",
                ),
            ],
        ),
        block(
            "resource",
            &[
                "google_service_account_iam_member",
                "secrets_store_workload_identity",
            ],
            vec![
                comment(
                    "Workload Identity: the store's Kubernetes ServiceAccounts act as the Google service account.",
                ),
                attr(
                    "for_each",
                    "{ for a in var.secrets_store.service_accounts : \"${a.namespace}/${a.name}\" => a }",
                ),
                Item::Blank,
                attr(
                    "service_account_id",
                    "google_service_account.secrets_store.name",
                ),
                attr_str("role", "roles/iam.workloadIdentityUser"),
                attr(
                    "member",
                    "\"serviceAccount:${var.project_id}.svc.id.goog[${each.key}]\"",
                ),
                Item::Blank,
                comment("The identity pool `<project>.svc.id.goog` exists once the cluster does."),
                attr("depends_on", "[module.gke]"),
            ],
        ),
    ]
}
