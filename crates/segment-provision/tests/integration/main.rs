//! Integration tests of `segment-provision` against `segment-mock` in process (loopback only),
//! on the hand-written fixture workspace `tests/fixtures/workspace.json`.
#![allow(clippy::unwrap_used)]

mod accounts;
mod apply;
mod concurrency;
mod directory;
mod dry_run;
mod grant;
mod pacing;
mod review_fixes;
mod revoke;
mod support;
