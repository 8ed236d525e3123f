//! A value made of a serialisable object: what `yaml_serde::to_value` gives, with each mapping
//! and sequence made at the size the object states. yaml_serde starts every struct's and map's
//! mapping empty and grows it field by field (its entries and its hash table each reallocated
//! several times per object); k8s-openapi's objects and serde's derived ones state how many
//! fields they serialise, so the mapping is made at that size once. Values of `envc diff`'s
//! in-memory modes are made this way: a tenth of its instructions were inserts into mappings,
//! most of them growing them.
//!
//! What is not a struct, a map or a sequence (scalars, enum variants, a map of one entry, which
//! yaml_serde reads as a tag when its key is a `!tag`) is made by yaml_serde itself, so the two
//! agree by construction there; `tests` hold them equal, in value and in order, on every kind
//! of object the backends build.

use serde::Serialize;
use serde::ser::{self, Error as _};
use yaml_serde::value::Serializer as Yaml;
use yaml_serde::{Error, Mapping, Value};

/// `yaml_serde::to_value(object)`, with mappings and sequences made at their final size.
pub fn to_value<T: ?Sized + Serialize>(object: &T) -> Result<Value, Error> {
    object.serialize(AtSize)
}

/// The serializer of [`to_value`].
struct AtSize;

/// A sequence (or tuple) being made.
struct Seq(Vec<Value>);

/// A struct being made: its mapping, at the size the struct stated.
struct Struct(Mapping);

/// A map being made: one of one entry by yaml_serde (it may be a tag), any other here.
enum Map {
    Yaml(<Yaml as ser::Serializer>::SerializeMap),
    Own {
        mapping: Mapping,
        key: Option<Value>,
    },
}

impl ser::Serializer for AtSize {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = <Yaml as ser::Serializer>::SerializeTupleVariant;
    type SerializeMap = Map;
    type SerializeStruct = Struct;
    type SerializeStructVariant = <Yaml as ser::Serializer>::SerializeStructVariant;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        ser::Serializer::serialize_i128(Yaml, v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        ser::Serializer::serialize_u128(Yaml, v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        ser::Serializer::serialize_f32(Yaml, v)
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        ser::Serializer::serialize_f64(Yaml, v)
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        ser::Serializer::serialize_char(Yaml, v)
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        ser::Serializer::serialize_bytes(Yaml, v)
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        ser::Serializer::serialize_unit_variant(Yaml, name, index, variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        ser::Serializer::serialize_newtype_variant(Yaml, name, index, variant, value)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len)))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        ser::Serializer::serialize_tuple_variant(Yaml, name, index, variant, len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map, Error> {
        if len == Some(1) {
            return Ok(Map::Yaml(ser::Serializer::serialize_map(Yaml, len)?));
        }
        Ok(Map::Own {
            mapping: Mapping::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Struct, Error> {
        Ok(Struct(Mapping::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        ser::Serializer::serialize_struct_variant(Yaml, name, index, variant, len)
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Sequence(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeStruct for Struct {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0
            .insert(Value::String(key.to_owned()), to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Mapping(self.0))
    }
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        match self {
            Map::Yaml(m) => m.serialize_key(key),
            Map::Own { key: next, .. } => {
                *next = Some(to_value(key)?);
                Ok(())
            }
        }
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        match self {
            Map::Yaml(m) => m.serialize_value(value),
            Map::Own { mapping, key } => {
                let Some(k) = key.take() else {
                    return Err(Error::custom("a map's value came before its key"));
                };
                mapping.insert(k, to_value(value)?);
                Ok(())
            }
        }
    }
    fn serialize_entry<K: ?Sized + Serialize, V: ?Sized + Serialize>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        match self {
            Map::Yaml(m) => m.serialize_entry(key, value),
            Map::Own { mapping, .. } => {
                mapping.insert(to_value(key)?, to_value(value)?);
                Ok(())
            }
        }
    }
    fn end(self) -> Result<Value, Error> {
        match self {
            Map::Yaml(m) => m.end(),
            Map::Own { mapping, .. } => Ok(Value::Mapping(mapping)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Equal as values and in every mapping's order (a mapping's `==` ignores the order).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Mapping(x), Value::Mapping(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
            }
            (Value::Sequence(x), Value::Sequence(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            (Value::Tagged(x), Value::Tagged(y)) => x.tag == y.tag && same(&x.value, &y.value),
            _ => a == b,
        }
    }

    fn check<T: Serialize>(what: &str, object: &T) {
        let ours = to_value(object).map_err(|e| e.to_string());
        let theirs = yaml_serde::to_value(object).map_err(|e| e.to_string());
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert!(same(a, b), "{what}: {a:?}\n!=\n{b:?}"),
            _ => assert_eq!(ours, theirs, "{what}"),
        }
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        New(u8),
        Pair(u8, String),
        Named { x: i64, tags: Vec<String> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Odd {
        #[serde(skip_serializing_if = "Option::is_none")]
        missing: Option<u32>,
        none: Option<u32>,
        big: u128,
        negative: i128,
        float: f64,
        letter: char,
        bytes: serde_bytes_like::Bytes,
        shapes: Vec<Shape>,
        tuple: (u8, bool, &'static str),
        unit: Unit,
        one_tag: BTreeMap<String, u8>,
        one_plain: BTreeMap<String, u8>,
        two: BTreeMap<String, Vec<u8>>,
        numbers_as_keys: BTreeMap<u16, String>,
        empty: BTreeMap<String, String>,
        tagged: Value,
    }

    mod serde_bytes_like {
        /// Serialised as bytes (what `serde_bytes` does), without the crate.
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn values_are_what_yaml_serde_makes_in_value_and_order() {
        let odd = Odd {
            missing: None,
            none: None,
            big: u128::MAX,
            negative: i128::MIN,
            float: 0.25,
            letter: 'é',
            bytes: serde_bytes_like::Bytes(vec![0, 7, 255]),
            shapes: vec![
                Shape::Unit,
                Shape::New(3),
                Shape::Pair(1, "a".into()),
                Shape::Named {
                    x: -4,
                    tags: vec!["t".into()],
                },
            ],
            tuple: (1, true, "x"),
            unit: Unit,
            one_tag: BTreeMap::from([("!thing".to_string(), 1)]),
            one_plain: BTreeMap::from([("plain".to_string(), 2)]),
            two: BTreeMap::from([("b".to_string(), vec![1]), ("a".to_string(), vec![])]),
            numbers_as_keys: BTreeMap::from([(80, "http".into()), (443, "https".into())]),
            empty: BTreeMap::new(),
            // A tagged value serialises as a map of one entry whose key is the `!tag`,
            // which yaml_serde reads back as the tag.
            tagged: Value::Tagged(Box::new(yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new("thing"),
                value: Value::Sequence(vec![Value::Bool(true)]),
            })),
        };
        check("assorted", &odd);
        assert!(matches!(to_value(&odd.tagged), Ok(Value::Tagged(_))));
    }

    #[test]
    fn a_deployment_is_made_as_yaml_serde_makes_it() {
        use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
        use k8s_openapi::api::core::v1::{
            Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Probe, TCPSocketAction,
        };
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let d = Deployment {
            metadata: ObjectMeta {
                name: Some("web".into()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(2),
                selector: LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..Default::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "web".into(),
                            image: Some("nginx:1.27".into()),
                            env: Some(vec![EnvVar {
                                name: "A".into(),
                                value: Some("1".into()),
                                ..Default::default()
                            }]),
                            ports: Some(vec![ContainerPort {
                                container_port: 80,
                                ..Default::default()
                            }]),
                            readiness_probe: Some(Probe {
                                tcp_socket: Some(TCPSocketAction {
                                    port: IntOrString::String("http".into()),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
                                limits: Some(BTreeMap::from([(
                                    "memory".to_string(),
                                    Quantity("64Mi".into()),
                                )])),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        check("deployment", &d);
    }

    /// Every value the backends make of the committed projects' modes (the repository's and
    /// each test scenario's): objects, Kustomization, GitOps documents, Compose documents.
    #[test]
    fn every_value_the_backends_make_is_what_yaml_serde_makes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut roots = vec![root.clone()];
        let mut scenarios: Vec<_> = std::fs::read_dir(root.join("tests/scenarios"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        scenarios.sort();
        roots.extend(scenarios);
        let mut compared = 0;
        for dir in roots {
            let Ok(mut project) = envc_model::Project::load(&dir) else {
                continue;
            };
            let envs: Vec<String> = project.environments.keys().cloned().collect();
            let modes: Vec<String> = project.profiles.keys().cloned().collect();
            for (env, mode) in envs.iter().flat_map(|e| modes.iter().map(move |m| (e, m))) {
                let Ok(loaded) = project.mode(env, mode) else {
                    continue;
                };
                let Ok(c) = envc_core::resolve::compile(&mut project, &loaded) else {
                    continue;
                };
                let ours = values(&c.ir);
                let theirs = crate::manifest::by_yaml_serde(|| values(&c.ir));
                assert_eq!(ours.len(), theirs.len(), "{env}/{mode}");
                for ((what, a), (_, b)) in ours.iter().zip(&theirs) {
                    assert!(same(a, b), "{}: {env}/{mode} {what}", dir.display());
                }
                compared += ours.len();
            }
        }
        assert!(compared > 150, "{compared} values compared");
    }

    /// The values a mode's backend makes, each named.
    fn values(ir: &envc_core::ir::Ir) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        if let Ok(Some(files)) = crate::kubernetes_documents(ir) {
            for (file, docs) in files {
                for doc in docs {
                    let v = match doc {
                        crate::manifest::Doc::Value(v) => Ok(v),
                        crate::manifest::Doc::Typed(m) => m.value(),
                    };
                    out.push((file.clone(), v.unwrap_or(Value::Null)));
                }
            }
        }
        if let Ok(Some((doc, _))) = crate::compose_document(ir, &crate::Options::default()) {
            out.push(("compose".to_string(), doc));
        }
        out
    }
}
