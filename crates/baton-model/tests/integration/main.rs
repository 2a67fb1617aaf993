//! Integration tests of `baton-model`: typed IDs, wire encoding and builders.
#![allow(clippy::unwrap_used)]

mod builders;
mod ids;
mod wire;
