//! Integration tests of `segment-api`: every operation against `segment-mock`, error
//! classification, retries on a paused clock, URL-encoding properties and conformance
//! with the examples of Segment's OpenAPI document.
#![allow(clippy::unwrap_used)]

mod canned;
mod conformance;
mod encoding;
mod errors;
mod operations;
mod pagination;
mod retry;
mod support;
mod transport;
