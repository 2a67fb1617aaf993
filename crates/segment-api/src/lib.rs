//! `segment-api`: a typed async client of the Twilio Segment Public API
//! (`https://api.segmentapis.com`), covering what an identity-governance connector needs:
//! workspace, users, groups, roles, invites, sources, warehouses, functions, spaces and
//! labels, plus membership and permission changes.
//!
//! It knows nothing of Baton and must never depend on any other crate of this workspace
//! (`baton-*`, `segment-cache`, `segment-connector`, ...); `segment-mock` is only a
//! dev-dependency of its tests.
//!
//! Highlights: cursor pagination as pages and item streams; hand-built query strings in
//! Segment's dotted form; percent-encoded path segments; typed errors that tell apart
//! auth, plan gating, duplicates, validation, rate limits, server and transport failures;
//! bounded retries that honour `msBeforeNext`; a [`hooks::RequestHook`] around every
//! attempt. The API token appears only in the (sensitive) `Authorization` header.

pub mod hooks;

mod client;
mod config;
mod encode;
mod envelope;
mod error;
mod models;
mod ops;
mod pagination;
mod rate_limit_headers;
mod token;
mod write_request;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
    MAX_PAGE_SIZE,
};
pub use config::{Region, RetryPolicy};
pub use error::Error;
pub use models::{
    Function, FunctionKind, InviteInput, InvitePermissionInput, Label, MinimalUser,
    MinimalUserGroup, Permission, PermissionInput, PermissionResource, ResourceKind, Role, Source,
    Space, User, UserGroup, Warehouse, WarehouseMetadata, Workspace,
};
pub use pagination::Page;
pub use token::Token;
pub use write_request::WriteRequest;
