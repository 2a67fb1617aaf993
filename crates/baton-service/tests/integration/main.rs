//! Integration tests of baton-service: the scenarios of docs/c1-service-mode.md §15.3, run
//! against the fake tenant of c1-mock over TLS on loopback, with a test connector.

#![allow(clippy::unwrap_used, reason = "tests")]

mod health;
mod loop_control;
mod provisioning;
mod secrecy;
mod shutdown;
mod startup;
mod support;
mod sync;
