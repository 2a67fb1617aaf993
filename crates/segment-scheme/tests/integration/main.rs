//! Integration tests of `segment-scheme`.
#![allow(clippy::unwrap_used)]

mod grant;
mod mapping;
mod properties;
mod unit;
