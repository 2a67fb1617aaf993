//! Integration tests of `segment-cache` against `segment-mock` (loopback only,
//! tokio's paused clock for everything time-related).
#![allow(clippy::unwrap_used)]

mod adaptive;
mod pacing;
mod roles;
mod support;
