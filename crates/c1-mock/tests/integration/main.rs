//! Integration tests of c1-mock: the tenant is strict (it refuses and records what a real
//! tenant would refuse) and its fault knobs do what they say.

#![allow(clippy::unwrap_used, reason = "tests")]

mod strictness;
