//! Integration tests of c1-proto: field numbers and type URLs match the spec's tables
//! (docs/c1-service-mode.md §5, §6, §8.10).

mod wire;
