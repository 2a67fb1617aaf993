//! `segment-scheme`: the Segment <-> Baton identifier scheme, and the pure mapping of Segment
//! API models to Baton objects.
//!
//! Every id this connector writes into a `.c1z` and every id it accepts back (from the CLI, a
//! bulk plan or ConductorOne in service mode) goes through this crate, so the sync side
//! (`segment-connector`) and the write side (`segment-provision`) can never disagree on it.
//!
//! | Entitlement | Id |
//! |---|---|
//! | [`SegmentEntitlement::WorkspaceMember`] | `workspace:<wsId>:member` |
//! | [`SegmentEntitlement::GroupMember`] | `group:<groupId>:member` |
//! | [`SegmentEntitlement::RoleMember`] | `role:<roleId>:member[@<labels>]` |
//! | [`SegmentEntitlement::Scoped`] | `<source\|warehouse\|function\|space>:<id>:<role slug>[@<labels>]` |
//!
//! Principals are `user:<userId>`, `group:<groupId>` and `invite:<email>`
//! ([`SegmentPrincipal`]); a grant id is `<entitlement id>:<principal>` ([`SegmentGrant`]).
//! `<labels>` is a [`LabelSet`] in its canonical encoding. Parsing and formatting are exact
//! inverses: parsing accepts only the canonical form, so one permission entry has exactly one
//! id.
//!
//! - [`resource_types`]: the resource type ids, [`ScopeType`], [`PrincipalType`].
//! - [`role_slug`], [`resolve_role_slug`]: role names as they appear in scoped ids.
//! - [`LabelSet`], [`SegmentEntitlement`], [`SegmentPrincipal`], [`SegmentGrant`],
//!   [`PermissionKey`]: the typed ids and the permission entry each entitlement stands for.
//! - [`mapping`]: pure functions from `segment-api` models to `baton-model` objects.
//!
//! It depends only on `baton-model` and `segment-api` (plus small pure helpers). It must
//! never depend on `segment-cache`, `segment-connector`, `segment-provision`, `segment-mock`,
//! `baton-c1z`, an HTTP client or an async runtime: it does no I/O and never logs.

mod entitlement;
mod error;
mod grant;
mod labels;
pub mod mapping;
mod permission;
pub mod resource_types;
mod roles;

pub use entitlement::SegmentEntitlement;
pub use error::SchemeError;
pub use grant::{SegmentGrant, SegmentPrincipal};
pub use labels::LabelSet;
pub use permission::{PermissionKey, permission_matches};
pub use resource_types::{
    ALL_RESOURCE_TYPES, FUNCTION, GROUP, INVITE, MEMBER_SLUG, PrincipalType, ROLE, SOURCE, SPACE,
    ScopeType, USER, WAREHOUSE, WORKSPACE,
};
pub use roles::{resolve_role_slug, role_slug, roles_with_slug};
