//! Integration tests of `segment-connector`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod edge;
mod review_fixes;
mod support;
mod sync;
