//! Integration tests of `segment-mock`: the §11 fidelity checklist over HTTP, conformance with
//! Segment's OpenAPI document, generator and fixtures, rate limits and faults.
#![allow(clippy::unwrap_used)]

mod admin;
mod common;
mod conformance;
mod faults;
mod fidelity;
mod generator;
mod ratelimit;
mod semantics;
mod unknown_types;
