//! `[kubernetes.gateway]`: routes as Gateway API `HTTPRoute`s attached to an existing Gateway,
//! in place of the mode's Ingresses.

use schemars::JsonSchema;
use serde::Deserialize;

/// The existing Gateway a mode's routes attach to. The Gateway (its listeners, addresses and
/// certificates) belongs to the cluster's platform, not to the environment: envc writes only
/// the routes, so TLS is the Gateway listener's business and `kubernetes.tls` does not apply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct GatewayRef {
    /// Name of the Gateway.
    pub name: String,
    /// Namespace of the Gateway; its listeners must admit routes from the environment's
    /// namespaces (`allowedRoutes`).
    pub namespace: String,
    /// One listener of the Gateway (`sectionName`), when the routes must attach to that one
    /// only (the HTTPS listener, say); all of its listeners that admit them otherwise.
    #[serde(default)]
    pub section: Option<String>,
    /// Whether the listener the routes attach to serves HTTPS (its certificate is the
    /// Gateway's): `${environment.ingress_scheme}` is then `https`.
    #[serde(default)]
    pub https: bool,
}
