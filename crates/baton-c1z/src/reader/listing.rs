//! The public types of listings: sync runs, page requests and pages, filters, and counts.

use baton_model::pb;
use std::collections::BTreeMap;

/// Largest page a listing returns (a page size of 0 or above this means this).
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// One row of `v1_sync_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncRun {
    /// The sync's KSUID.
    pub sync_id: String,
    /// Start time as stored (Go layout `YYYY-MM-DD HH:MM:SS[.fff]`, local time, no zone).
    pub started_at: String,
    /// End time as stored; `None` while the sync is unfinished.
    pub ended_at: Option<String>,
    /// The syncer's checkpoint (JSON, or empty).
    pub sync_token: String,
    /// `sync_type` (`"full"` when the file predates that column).
    pub sync_type: String,
    /// `parent_sync_id` (empty when absent).
    pub parent_sync_id: String,
}

impl SyncRun {
    /// Whether the sync has ended.
    pub fn is_finished(&self) -> bool {
        self.ended_at.is_some()
    }
}

/// Pagination request: the Go SDK's `page_token` / `page_size`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// `""` for the first page, else the `next_page_token` of the previous page.
    pub page_token: String,
    /// Rows per page; 0 or more than [`MAX_PAGE_SIZE`] means [`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

impl PageRequest {
    /// A request for the first page of `size` rows.
    pub fn first(size: u32) -> Self {
        Self {
            page_token: String::new(),
            page_size: size,
        }
    }
    /// A request for the page starting at `token`.
    pub fn at(token: impl Into<String>, size: u32) -> Self {
        Self {
            page_token: token.into(),
            page_size: size,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The objects, in row-id order.
    pub items: Vec<T>,
    /// Token of the next page (decimal row id), `""` when this is the last page.
    pub next_page_token: String,
}

/// Filter of resource listings (all set fields must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only resources of this type.
    pub resource_type_id: Option<String>,
    /// Only children of this resource.
    pub parent: Option<pb::ResourceId>,
}

/// Filter of entitlement listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementFilter {
    /// Only entitlements of resources of this type.
    pub resource_type_id: Option<String>,
    /// Only entitlements of this resource.
    pub resource: Option<pb::ResourceId>,
}

/// Filter of grant listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only grants of this entitlement id.
    pub entitlement_id: Option<String>,
    /// Only grants on entitlements of resources of this type.
    pub resource_type_id: Option<String>,
    /// Only grants on entitlements of this resource.
    pub resource: Option<pb::ResourceId>,
    /// Only grants to this principal.
    pub principal: Option<pb::ResourceId>,
    /// Only grants whose principal type is one of these (ignored when empty).
    pub principal_resource_type_ids: Vec<String>,
    /// Only grants of one of these entitlement ids (ignored when empty): one listing for
    /// several entitlements.
    pub entitlement_ids: Vec<String>,
    /// Only grants to one of these principals (ignored when empty).
    pub principals: Vec<pb::ResourceId>,
}

/// Object counts of one sync (what `baton stats` shows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncStats {
    /// Resource types.
    pub resource_types: u64,
    /// Resources.
    pub resources: u64,
    /// Resources per resource type id.
    pub resources_by_type: BTreeMap<String, u64>,
    /// Entitlements.
    pub entitlements: u64,
    /// Grants.
    pub grants: u64,
}
