//! Integration tests of `baton-access` (placeholder module list; filled below).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
