//! `segment-mock`: a fake Twilio Segment Public API server (axum) for tests, benchmarks and the demo.
//!
//! It serves the operations of `segment-api.md` §9 over a generated ([`generate`]) or hand-written
//! ([`Workspace::from_json_file`]) workspace, with Segment's envelopes, pagination, media types,
//! plan/feature gating and a real rate limiter (fixed windows per token and per endpoint
//! class, truthful `X-RateLimit-*` headers, the documented 429 body; see [`RateLimits`]), plus
//! knobs for latency and deterministic fault injection ([`Faults`]). Counters and a request log are readable in
//! process ([`MockServer::counters`], [`MockServer::request_log`]) and over loopback-only
//! `/__admin/*` endpoints (see the `admin` module docs in the source).
//!
//! This crate must never depend on `segment-api` (whose tests dev-depend on this crate) nor on any
//! other crate of the workspace: it speaks only HTTP and its own serde types.
//!
//! Choices where Segment's behaviour is undocumented:
//! * Disabled features (spaces, warehouses, functions) answer **403** `forbidden`.
//! * Team plan: every `/groups*` and `/group*` path answers 400 `bad-request` with Segment's
//!   "Your plan does not include User Groups..." message; `GET /users/{id}/groups` returns an empty list.
//! * `addUsersToUserGroup`/`replaceUsersInUserGroup`: emails of users become members, emails of
//!   pending invites become group invitees, any other email fails the whole call with **404**.
//!   `memberCount` counts accepted members only. Emails are compared case-insensitively.
//! * `DELETE /invites` and `DELETE /group/{id}/users` ignore unknown emails (200, idempotent);
//!   `DELETE /users` with an unknown id fails with 404 and deletes nothing.
//! * `POST .../permissions` does not duplicate an identical permission (same role, resources
//!   and labels); unknown roles, resources or labels are 422 `input-validation`.
//! * Permission resources of a type the mock does not know (a future scope type such as
//!   `DESTINATION`) are kept verbatim as [`ResourceType::Other`] in fixtures and responses. In
//!   request bodies they are 422 unless [`MockConfig::accept_unknown_resource_types()`] is set;
//!   then any non-empty id is accepted, since the mock has nothing to check it against. An empty
//!   type, or a known name in another case (`source`), is always rejected.
//! * `getUser` lists direct permissions only (not the ones inherited from groups).
//! * Bad JSON bodies are 400 `bad-request`; a body over 25 MB is 413 `PayloadLimitError`.
//! * Query strings are decoded like Node's `qs`: `+` is a space, so clients must send `%2B`.
//! * Array query parameters are accepted only in indexed form (`emails.0`, `emails[0]`).

mod admin;
mod api;
mod config;
mod conn;
mod error;
mod generate;
mod ids;
mod model;
mod pipeline;
mod query;
mod ratelimit;
mod reply;
mod server;
mod wall_timer;

pub use config::{DEFAULT_TOKEN, Faults, Features, MockConfig, Plan};
pub use error::MockError;
pub use generate::{GenSpec, MINIMAL_WORKSPACE_ACCESS_ROLE_ID, WORKSPACE_OWNER_ROLE_ID, generate};
pub use model::{
    Function, FunctionKind, Group, Invite, Label, Logos, Permission, PermissionResource,
    ResourceType, Role, Source, SourceMetadata, Space, User, Warehouse, WarehouseMetadata,
    Workspace,
};
pub use ratelimit::{DEFAULT_WINDOW, RateLimits};
pub use server::{Counters, ERROR_JSON, LoggedRequest, MockServer, V1_JSON, V1ALPHA_JSON};
