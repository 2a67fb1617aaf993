//! Integration tests of `baton-access`: who-has and access over a hand-built c1z with nested
//! groups, shallow and type-limited expansions and a loop; diffs of two syncs and two files
//! (and of the official Go SDK fixture's two syncs); export files; errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;
mod diff;
mod export;
mod holdings;
