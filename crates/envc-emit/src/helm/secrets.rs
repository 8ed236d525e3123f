//! The chart's External Secrets Operator objects (`templates/external-secrets.yaml`), driven
//! by `secretsStore` in the values: `enabled` off leaves the Secrets to the deployer (as
//! without a store), `create` off uses a store of the deployer's own (`kind`, `name`), and
//! every ExternalSecret fills the Secret `secrets.<name>.existingSecret` at key `.key` from
//! `.remoteKey` in the store.

use envc_core::Ir;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::template::{Holes, quoted};
use super::values::Values;
use crate::artifact::EmitError;
use crate::external_secrets::{self, Fields};

/// File of the template under `templates/`.
pub const TEMPLATE: &str = "external-secrets.yaml";

/// How the release's Secrets are filled from the cloud store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretsStoreValues {
    /// Whether the chart writes ExternalSecrets that fill each Secret from the store; off,
    /// create the Secrets `secrets.<name>.existingSecret` yourself.
    pub enabled: bool,
    /// Whether the chart creates the store and the ServiceAccount it reads as; off, the
    /// ExternalSecrets use the store of your own named by `kind` and `name`.
    pub create: bool,
    /// The store's kind.
    #[schemars(extend("enum" = ["ClusterSecretStore", "SecretStore"]))]
    pub kind: String,
    /// The store's name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// How often the operator reads the store again (a Go duration: `1h`, `15m`).
    #[schemars(length(min = 1))]
    pub refresh_interval: String,
}

/// The values of the mode's store, if it has one.
pub fn values(ir: &Ir) -> Option<SecretsStoreValues> {
    let st = external_secrets::plan(ir)?;
    Some(SecretsStoreValues {
        enabled: true,
        create: true,
        kind: st.kind.into(),
        name: st.name.clone(),
        refresh_interval: st.refresh(),
    })
}

/// A secret's name in the store, as `secrets.<name>.remoteKey`.
pub fn remote_key(ir: &Ir, secret: &str) -> Option<String> {
    external_secrets::plan(ir)?
        .secrets
        .into_iter()
        .find(|s| s.name == secret)
        .map(|s| s.remote_key)
}

/// The template of the store's objects; `None` without a store.
pub fn template(ir: &Ir) -> Result<Option<String>, EmitError> {
    let Some(st) = external_secrets::plan(ir) else {
        return Ok(None);
    };
    let mut h = Holes::default();
    let store_name = h.scalar("$store.name | quote");
    let store_kind = h.scalar("$store.kind | quote");
    let refresh = h.scalar("$store.refreshInterval | quote");
    let mut entries = Vec::new();
    for sec in &st.secrets {
        let entry = format!("(index $.Values.secrets {})", quoted(&sec.name));
        let missing = quoted(&format!(
            "secrets.{}.existingSecret: name the Secret the store fills",
            sec.name
        ));
        entries.push((
            sec.name.clone(),
            [
                h.scalar(&format!(
                    "required {missing} {entry}.existingSecret | quote"
                )),
                h.scalar(&format!("{entry}.key | quote")),
                h.scalar(&format!("{entry}.remoteKey | quote")),
            ],
        ));
    }
    let lookup = |name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| [Value::Null, Value::Null, Value::Null])
    };
    let f = Fields {
        store_name,
        store_kind,
        refresh,
        secret: &lookup,
    };
    let mut text = format!(
        "{{{{- $store := .Values.secretsStore }}}}\n\
         {{{{- if $store.enabled }}}}\n\
         {{{{- if $store.create }}}}\n\
         {{{{- if ne $store.kind {kind} }}}}\n\
         {{{{- fail {message} }}}}\n\
         {{{{- end }}}}\n",
        kind = quoted(st.kind),
        message = quoted(&format!(
            "secretsStore.kind: the chart creates a {}; set secretsStore.create=false to use a store of your own",
            st.kind
        )),
    );
    let with_store = external_secrets::objects(ir, &st, &f, true);
    let stores = with_store.len() - external_secrets::objects(ir, &st, &f, false).len();
    for (i, mut o) in with_store.into_iter().enumerate() {
        if i == stores {
            text.push_str("{{- end }}\n");
        }
        // `helm.sh/chart` from the chart being rendered, as in every other template.
        super::template::each_object(&mut o, &mut |m| super::chart_label(&mut h, m));
        h.document_into(&o, &mut text)?;
    }
    text.push_str("{{- end }}\n");
    Ok(Some(text))
}

/// The objects the template renders with the chart's values.
pub fn rendered(ir: &Ir, v: &Values) -> Vec<Value> {
    let (Some(st), Some(sv)) = (external_secrets::plan(ir), &v.secrets_store) else {
        return Vec::new();
    };
    if !sv.enabled {
        return Vec::new();
    }
    let lookup = |name: &str| match v.secrets.get(name) {
        Some(s) => [
            json!(s.existing_secret),
            json!(s.key),
            json!(s.remote_key.clone().unwrap_or_default()),
        ],
        None => [Value::Null, Value::Null, Value::Null],
    };
    let f = Fields {
        store_name: json!(sv.name),
        store_kind: json!(sv.kind),
        refresh: json!(sv.refresh_interval),
        secret: &lookup,
    };
    external_secrets::objects(ir, &st, &f, sv.create)
}
