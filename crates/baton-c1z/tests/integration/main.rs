//! Integration tests of `baton-c1z`: compatibility with the Go SDK's files, round trips,
//! appending, malformed input, atomic replacement, locking, damaged databases, leftovers of
//! killed writers and the on-disk header bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod append;
mod atomicity;
mod common;
mod compat;
mod damaged;
mod header;
mod leftovers;
mod locking;
mod lookup;
mod malformed;
mod paging;
mod roundtrip;
