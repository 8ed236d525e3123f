//! Where other services reach a service, per backend: the one rule references
//! (`${postgres.address}`) resolve with and `envc endpoints` lists.

use envc_model::profile::Backend;

/// The host name other services reach `name` at: the service name in Compose (and when the
/// namespace is unknown), the cluster-local DNS name in Kubernetes.
pub fn host(backend: Backend, name: &str, namespace: Option<&str>) -> String {
    match (backend, namespace) {
        (Backend::Compose, _) | (_, None) => name.to_string(),
        (_, Some(ns)) => format!("{name}.{ns}.svc.cluster.local"),
    }
}

/// The port other services use: the Service port in Kubernetes, the container port in
/// Compose.
pub fn port(backend: Backend, container: u16, service: Option<u16>) -> u16 {
    match backend {
        Backend::Compose => container,
        _ => service.unwrap_or(container),
    }
}
