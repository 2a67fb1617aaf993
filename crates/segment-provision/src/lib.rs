//! `segment-provision`: the provisioning engine of the Segment connector. It grants and
//! revokes every entitlement the sync emits (group memberships, workspace roles, label-scoped
//! roles, roles on sources/warehouses/functions/spaces), creates accounts (invitations) and
//! deletes users and invitations; singly or as a bulk [`Plan`] with coalesced writes.
//!
//! Guarantees:
//! * **Idempotent**: every change is checked against a fresh read first; what is already in
//!   place is reported as `already_*` and not written. Re-running a plan after a partial
//!   failure applies nothing twice.
//! * **Fail-closed**: an entitlement whose role slug resolves to no role or to several is an
//!   error, never "already revoked"; nothing is written.
//! * **Never losing a permission**: a revoke removes exactly one (role, resource, labels)
//!   entry and writes every other permission back as read (labels, label descriptions,
//!   unknown resource types), then verifies; concurrent changes by others are detected and the
//!   change re-applied on the fresh state (bounded). Operations on one principal are
//!   serialized in this process, in submission order.
//! * **Dry run**: every read happens, no write is sent; outcomes list the exact writes.
//! * All writes go through the [`segment_cache::Session`]'s pacer (the shared write limit).
//!
//! Entry point: [`Provisioner`]. Results: [`Outcome`] / [`ApplyReport`]; errors:
//! [`ProvisionError`].
//!
//! Depends on `segment-api`, `segment-cache`, `segment-scheme`, `baton-model` and `baton-c1z`.
//! It must never depend on `segment-connector` (the sync engine), `segment-cli` or (outside
//! dev-dependencies) `segment-mock`, and it never prints: diagnostics go through `tracing`,
//! results through return values.

mod account;
mod context;
mod delete;
mod directory;
mod error;
mod member_batch;
mod op;
mod options;
mod outcome;
mod perm_batch;
mod perms;
mod plan;
mod principal_queue;
mod provisioner;
mod resolve;
mod run;

pub use account::AccountRequest;
pub use directory::PrincipalDirectory;
pub use error::ProvisionError;
pub use options::{ApplyProgress, ProvisionOptions};
pub use outcome::{Outcome, OutcomeKind, PlannedWrite};
pub use plan::{ApplyReport, OpReport, Plan, PlanOperation};
pub use provisioner::Provisioner;
