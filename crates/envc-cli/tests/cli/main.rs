//! End-to-end tests of the `envc` binary: one test binary, modules by topic, each test in its
//! own temporary directory. Golden files are re-blessed with `ENVC_BLESS=1`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

mod airflow;
mod build;
mod commands;
mod compose;
mod corpus;
mod diff;
mod docs;
mod errors;
mod golden;
mod harden;
mod import;
mod inputs;
mod lakehouse;
mod monitoring;
mod parity;
mod promote;
mod robustness;
mod schema;
mod secrets;
mod secrets_store;
mod tools;
