//! Kubernetes objects the backends built, typed, for a reader in memory: what it needs of an
//! object before, or instead of, its value (kind, API version, metadata), and the value made
//! only when asked for.
//!
//! `envc diff` of two modes reads most objects of a Kubernetes mode by their kind and name
//! only, and the rest (workloads, cluster-level objects) one at a time: making every object's
//! value up front held them all at once, and their values were the largest part of the diff's
//! memory and a third of its time.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::artifact::EmitError;
use crate::gateway::Route;
use crate::object::Object;

/// An object the Kubernetes backend built.
pub trait Manifest: Send + Sync {
    /// Its `kind`.
    fn kind(&self) -> &str;
    /// Its `apiVersion`.
    fn api_version(&self) -> &str;
    /// Its `metadata`.
    fn meta(&self) -> &ObjectMeta;
    /// Its value: what the YAML the backend writes of it reads back as.
    fn value(&self) -> Result<yaml_serde::Value, EmitError>;
    /// The Service it is, if it is one: a reader that needs only a Service's selector and
    /// ports takes them from the typed object, without making its value.
    fn service(&self) -> Option<&k8s_openapi::api::core::v1::Service> {
        None
    }
}

/// The value of a serialisable object, as YAML reads it back.
pub fn value_of<T: Serialize>(object: &T) -> Result<yaml_serde::Value, EmitError> {
    #[cfg(test)]
    if BY_YAML_SERDE.get() {
        return yaml_serde::to_value(object).map_err(|e| EmitError::Serialize(e.to_string()));
    }
    crate::to_value::to_value(object).map_err(|e| EmitError::Serialize(e.to_string()))
}

#[cfg(test)]
thread_local! {
    /// Whether [`value_of`] asks yaml_serde itself, on this thread (see [`by_yaml_serde`]).
    static BY_YAML_SERDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f()` with every value made by `yaml_serde::to_value`, for the tests that hold
/// [`crate::to_value`] to it.
#[cfg(test)]
pub(crate) fn by_yaml_serde<R>(f: impl FnOnce() -> R) -> R {
    BY_YAML_SERDE.set(true);
    let r = f();
    BY_YAML_SERDE.set(false);
    r
}

/// Every k8s-openapi object (and every other type with their metadata).
impl<T> Manifest for T
where
    T: k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize + Send + Sync,
{
    fn kind(&self) -> &str {
        T::KIND
    }
    fn api_version(&self) -> &str {
        T::API_VERSION
    }
    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }
    fn value(&self) -> Result<yaml_serde::Value, EmitError> {
        value_of(self)
    }
}

/// The kind, API version and metadata of an [`Object`].
fn head(o: &Object) -> (&str, &str, &ObjectMeta) {
    fn of<T: Manifest>(x: &T) -> (&str, &str, &ObjectMeta) {
        (x.kind(), x.api_version(), x.meta())
    }
    match o {
        Object::ServiceAccount(x) => of(x),
        Object::ConfigMap(x) => of(x),
        Object::Claim(x) => of(x),
        Object::Service(x) => of(x),
        Object::Role(x) => of(x),
        Object::RoleBinding(x) => of(x),
        Object::ClusterRole(x) => of(x),
        Object::ClusterRoleBinding(x) => of(x),
        Object::Deployment(x) => of(&**x),
        Object::StatefulSet(x) => of(&**x),
        Object::Job(x) => of(&**x),
        Object::CronJob(x) => of(&**x),
        Object::Autoscaler(x) => of(x),
        Object::DisruptionBudget(x) => of(x),
        Object::PodMonitor(m) => (&m.kind, &m.api_version, &m.metadata),
        Object::PrometheusRule(r) => (&r.kind, &r.api_version, &r.metadata),
    }
}

impl Manifest for Object {
    fn kind(&self) -> &str {
        head(self).0
    }
    fn api_version(&self) -> &str {
        head(self).1
    }
    fn meta(&self) -> &ObjectMeta {
        head(self).2
    }
    fn value(&self) -> Result<yaml_serde::Value, EmitError> {
        // `Object` serialises as the object inside it.
        value_of(self)
    }
    fn service(&self) -> Option<&k8s_openapi::api::core::v1::Service> {
        match self {
            Object::Service(s) => Some(s),
            _ => None,
        }
    }
}

impl Manifest for Route {
    fn kind(&self) -> &str {
        match self {
            Route::Ingress(i) => i.kind(),
            Route::Http(h) => h.kind,
        }
    }
    fn api_version(&self) -> &str {
        match self {
            Route::Ingress(i) => i.api_version(),
            Route::Http(h) => h.api_version,
        }
    }
    fn meta(&self) -> &ObjectMeta {
        match self {
            Route::Ingress(i) => i.meta(),
            Route::Http(h) => &h.metadata,
        }
    }
    fn value(&self) -> Result<yaml_serde::Value, EmitError> {
        value_of(self)
    }
}

/// One document of a Kubernetes mode read in memory: a value (`kustomization.yaml`, GitOps
/// objects), or an object whose value is made when a reader asks for it.
pub enum Doc {
    /// A document as a value.
    Value(yaml_serde::Value),
    /// A typed object.
    Typed(Box<dyn Manifest>),
}
