//! Integration tests of `segment-connector`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod edge;
mod mapping;
mod review_fixes;
mod scheme;
mod support;
mod sync;
