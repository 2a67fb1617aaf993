//! Access-review queries over a Baton `.c1z` file (ours or one written by the Go SDK): the
//! questions an access review starts with, answered from the file alone.
//!
//! - Listings of one sync: [`listing`] (resources, entitlements, grants, syncs, stats).
//! - Who holds an entitlement or anything on a resource, directly or through group
//!   membership: [`who_has`]. What a principal holds: [`access`] (the principal found by id,
//!   email or invitation email with [`resolve_principal`]). Both follow `GrantExpandable`
//!   annotations transitively (honouring `shallow` and the principal types it names), never
//!   loop, and give the path of every inherited holding ("via group Engineering").
//! - What changed between two syncs, of one file or of two: [`diff()`].
//! - Files for auditors, one per table: [`export()`].
//!
//! Results are rows with documented, stable columns (the `*_COLUMNS` constants) that
//! [`TableWriter`] renders as an aligned text table, JSON lines or CSV.
//!
//! Reading never modifies the file: `baton-c1z`'s reader works on a private decompressed copy.
//! Depends on `baton-model` and `baton-c1z` only among the workspace crates; it must never
//! depend on an async runtime, an HTTP stack or any `segment-*` crate, and it never prints
//! (callers choose where rows go).

mod diff;
mod error;
mod expansion;
mod export;
mod holdings;
pub mod listing;
mod names;
mod principal;
mod table;

pub use diff::{Change, ChangeKind, DIFF_COLUMNS, DiffSummary, SyncDiff, default_pair, diff};
pub use error::{AccessError, Result};
pub use export::{ExportFile, ExportFormat, PRINCIPAL_COLUMNS, export};
pub use holdings::{HOLDING_COLUMNS, Holding, Named, access, who_has};
pub use principal::resolve_principal;
pub use table::{OutputFormat, TableWriter};
