//! The README's Secrets section for a mode whose Secrets come from a cloud store: how to put
//! each value into the store, with the exact names the chart and Terraform use.

use std::fmt::Write as _;

use envc_core::Ir;
use envc_model::secrets_store::{StoreProvider, StoreScope};

use crate::external_secrets::{self, Store};

/// The External Secrets Operator chart the README installs: the release whose CRDs
/// `tests/fixtures/crds` vendors and conformance validates the objects against.
pub const OPERATOR_CHART: &str = "2.9.0";

/// The deploy step that installs the operator (its CRDs come with it), before the chart.
pub fn install(ir: &Ir) -> Option<String> {
    external_secrets::plan(ir)?;
    Some(format!(
        "helm upgrade --install external-secrets external-secrets --repo https://charts.external-secrets.io \\\n  --namespace external-secrets --create-namespace --version {OPERATOR_CHART} --wait\n"
    ))
}

/// The section, or `None` without a store.
pub fn section(ir: &Ir, tf_secrets: &[(String, String)]) -> Option<String> {
    let st = external_secrets::plan(ir)?;
    let mut s = String::from("## Secrets\n\n");
    let (who, how) = match st.provider() {
        StoreProvider::AwsSecretsManager => (format!("the IAM role `{}`", st.identity), "IRSA"),
        StoreProvider::GcpSecretManager => (
            format!(
                "the Google service account `{}@{}.iam.gserviceaccount.com`",
                st.identity, st.cloud.account
            ),
            "Workload Identity",
        ),
    };
    let namespaces: Vec<String> = st
        .account_namespaces
        .iter()
        .map(|ns| format!("`{ns}`"))
        .collect();
    let _ = write!(
        s,
        "No file here holds a secret value. The External Secrets Operator (installed above) fills each\n\
         Secret the chart references (key `value`) from {title}:\n\n\
         - store: {kind} `{name}`{where_}\n\
         - reads as: the ServiceAccount `{sa}` in {namespaces}\n\
         - bound by {how} to {who} (Terraform output `secrets_store_identity`), which may read\n  exactly the entries below\n\n\
         Terraform creates each entry, never its value: after `terraform apply`, put every value once\n\
         (the prompt keeps it out of the shell's history):\n\n```sh\n",
        title = st.provider().title(),
        kind = st.kind,
        name = st.name,
        where_ = match st.settings.scope {
            StoreScope::Cluster => format!(
                ", used only by {}",
                st.namespaces
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            StoreScope::Namespace => " in each of these namespaces".to_string(),
        },
        sa = st.service_account,
        namespaces = namespaces.join(", "),
    );
    for sec in &st.secrets {
        s.push_str(&put_command(&st, &sec.name, &sec.remote_key));
    }
    s.push_str("```\n\n| secret | name in the store | Secret in |\n| --- | --- | --- |\n");
    for sec in &st.secrets {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} |",
            sec.name,
            sec.remote_key,
            sec.namespaces.join(", ")
        );
    }
    let _ = write!(
        s,
        "\nThe operator writes each Secret as soon as its value is in the store and reads the store\n\
         again every {refresh}; pods wait (CreateContainerConfigError) until their Secrets exist, and\n\
         read a rotated value at their next start. `kubectl -n <namespace> annotate externalsecret <secret>\n\
         force-sync=$(date +%s) --overwrite` reads one again now. To create the Secrets yourself\n\
         instead, install with `--set secretsStore.enabled=false`; to use a store of your own, set\n\
         `secretsStore.create=false` with its `secretsStore.kind` and `secretsStore.name`.\n",
        refresh = st.refresh(),
    );
    if !tf_secrets.is_empty() {
        let _ = writeln!(
            s,
            "Terraform needs {} too, for the managed services it creates: pass the same value as\n{} in the environment, never in a file.",
            tf_secrets
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            tf_secrets
                .iter()
                .map(|(_, v)| format!("`TF_VAR_{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Some(s)
}

/// The command that puts one value into the store.
fn put_command(st: &Store, secret: &str, key: &str) -> String {
    let read = format!("read -rsp '{secret}: ' value && ");
    match st.provider() {
        StoreProvider::AwsSecretsManager => format!(
            "{read}aws secretsmanager put-secret-value --region {} --secret-id {key} --secret-string \"$value\"\n",
            st.cloud.region
        ),
        StoreProvider::GcpSecretManager => format!(
            "{read}printf %s \"$value\" | gcloud secrets versions add {key} --project {} --data-file=-\n",
            st.cloud.account
        ),
    }
}
