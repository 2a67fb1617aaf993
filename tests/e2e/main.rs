//! End-to-end tests of the `segment-cli` program: each test starts segment-mock in process on
//! loopback and runs the program (built by Cargo from `src/bin/segment-cli-e2e.rs`, the same
//! entry point as the `segment-cli` binary) against it as a child process.

#![allow(clippy::unwrap_used)]

mod access;
mod c1z;
mod c1z_safety;
mod common;
mod errors;
mod faults;
mod generated;
mod provision;
mod review_fixes;
mod snapshot;
mod sync;
