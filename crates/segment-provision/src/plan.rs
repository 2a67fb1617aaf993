//! Bulk plans ([`Plan`], [`PlanOperation`]) and their per-operation report ([`ApplyReport`]).

use std::collections::BTreeMap;
use std::fmt;

use baton_model::ids::{EntitlementId, GrantId, ResourceRef};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::{AccountRequest, Outcome, PlannedWrite, ProvisionError};

/// A bulk plan: operations applied by [`Provisioner::apply`](crate::Provisioner::apply) with
/// the fewest API writes.
///
/// JSON:
/// ```json
/// {"operations": [
///   {"op": "grant", "entitlement": "role:r1:member", "principal": "u1", "principal_type": "user"},
///   {"op": "revoke", "grant": "group:g1:member:user:u1"},
///   {"op": "revoke", "entitlement": "source:s1:source_admin", "principal": "group:g2"},
///   {"op": "create_account", "email": "new@example.com", "entitlements": ["group:g1:member"]},
///   {"op": "delete", "resource_type": "user", "resource": "u9"}
/// ]}
/// ```
/// `principal` (and a delete's `resource`) may also be written `<type>:<id>` without
/// `principal_type` (`resource_type`).
///
/// How it runs: the operations' principals are queued (as for single operations); then
/// 1. `create_account`s: one `GET /invites` and `GET /users` listing to find addresses that
///    are already invited or members, then one `POST /invites` for all new ones (their group
///    memberships join step 2);
/// 2. grants and revokes: per user or group principal one read and at most one permission
///    write (one `POST .../permissions` carrying all its grants, or, when anything is revoked,
///    one `PUT` of the resulting list; then verified); per group one read of its members and
///    invitees, one `POST /groups/{id}/users` with all addresses to add and one
///    `DELETE /group/{id}/users` with all to remove;
/// 3. `delete`s: one existence check, one `DELETE /users` and one `DELETE /invites`.
///
/// Operations on one principal apply in plan order. Batches are capped at `max_batch` items.
/// When Segment rejects a coalesced write, its operations are retried one by one, so one bad
/// operation fails alone. Re-running a plan after a partial failure applies nothing twice:
/// what was applied shows up as `already_*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The operations, in order.
    pub operations: Vec<PlanOperation>,
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a plan from JSON. A plan that is not valid JSON of this shape is refused as a
    /// whole (nothing runs); invalid ids inside operations fail those operations only.
    pub fn from_json(json: &str) -> Result<Self, ProvisionError> {
        serde_json::from_str(json).map_err(|e| ProvisionError::InvalidPlan {
            reason: e.to_string(),
        })
    }

    /// The plan as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Appends an operation.
    pub fn push(&mut self, operation: PlanOperation) -> &mut Self {
        self.operations.push(operation);
        self
    }
}

/// One operation of a [`Plan`]. Ids are kept as text so that a malformed one fails only its
/// own operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PlanOperation {
    /// Grant an entitlement.
    Grant {
        /// Entitlement id.
        entitlement: String,
        /// Principal id (or `<type>:<id>` when `principal_type` is absent).
        principal: String,
        /// `user`, `group` or `invite`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        principal_type: Option<String>,
    },
    /// Revoke a grant: `grant`, or `entitlement` + `principal` (+ `principal_type`).
    Revoke {
        /// Grant id (`<entitlement>:<principal type>:<principal id>`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<String>,
        /// Entitlement id (with `principal`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entitlement: Option<String>,
        /// Principal id (or `<type>:<id>` when `principal_type` is absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        principal: Option<String>,
        /// `user`, `group` or `invite`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        principal_type: Option<String>,
    },
    /// Create an account (an invitation); see [`AccountRequest`].
    CreateAccount {
        /// The address to invite.
        email: String,
        /// Entitlement ids to give it (roles in the invitation, then group memberships).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        entitlements: Vec<String>,
    },
    /// Delete a user or an invitation.
    Delete {
        /// `user` or `invite` (absent: `resource` is `<type>:<id>`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_type: Option<String>,
        /// The user id or invited email.
        resource: String,
    },
}

impl PlanOperation {
    /// `grant` of `entitlement` to `principal`.
    pub fn grant(entitlement: &EntitlementId, principal: &ResourceRef) -> Self {
        Self::Grant {
            entitlement: entitlement.to_string(),
            principal: principal.resource().to_owned(),
            principal_type: Some(principal.resource_type().to_string()),
        }
    }

    /// `revoke` of a grant.
    pub fn revoke(grant: &GrantId) -> Self {
        Self::Revoke {
            grant: Some(grant.to_string()),
            entitlement: None,
            principal: None,
            principal_type: None,
        }
    }

    /// `create_account`.
    pub fn create_account(request: &AccountRequest) -> Self {
        Self::CreateAccount {
            email: request.email.clone(),
            entitlements: request
                .entitlements
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// `delete` of a user or invitation.
    pub fn delete(resource: &ResourceRef) -> Self {
        Self::Delete {
            resource_type: Some(resource.resource_type().to_string()),
            resource: resource.resource().to_owned(),
        }
    }

    /// The `op` name (`grant`, `revoke`, `create_account`, `delete`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::CreateAccount { .. } => "create_account",
            Self::Delete { .. } => "delete",
        }
    }
}

/// The report of one operation of a plan.
#[derive(Debug, Clone)]
pub struct OpReport {
    /// Position in the plan (0-based).
    pub index: usize,
    /// The operation as given.
    pub operation: PlanOperation,
    /// Its outcome or its error.
    pub result: Result<Outcome, ProvisionError>,
}

impl Serialize for OpReport {
    /// `{"index":0,"operation":{..},"status":"ok","outcome":{..}}` or
    /// `{"index":1,"operation":{..},"status":"error","error":{"kind":..,"message":..,"retryable":..}}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct ErrorJson {
            kind: &'static str,
            message: String,
            retryable: bool,
        }
        let mut s = serializer.serialize_struct("OpReport", 4)?;
        s.serialize_field("index", &self.index)?;
        s.serialize_field("operation", &self.operation)?;
        match &self.result {
            Ok(outcome) => {
                s.serialize_field("status", "ok")?;
                s.serialize_field("outcome", outcome)?;
            }
            Err(e) => {
                s.serialize_field("status", "error")?;
                s.serialize_field(
                    "error",
                    &ErrorJson {
                        kind: e.kind(),
                        message: e.to_string(),
                        retryable: e.is_retryable(),
                    },
                )?;
            }
        }
        s.end()
    }
}

impl fmt::Display for OpReport {
    /// `#3 grant: granted role:r1:member to user:u1 (1 write)` or `#4 revoke: error: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}: ", self.index, self.operation.name())?;
        match &self.result {
            Ok(outcome) => write!(f, "{outcome}"),
            Err(e) => write!(f, "error: {e}"),
        }
    }
}

/// The report of [`Provisioner::apply`](crate::Provisioner::apply): every operation's outcome
/// or error, in plan order, and every write made (or planned, in a dry run) once each.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// One entry per plan operation, in plan order.
    pub results: Vec<OpReport>,
    /// Every write made (planned), in the order made, each once.
    pub writes: Vec<PlannedWrite>,
}

impl ApplyReport {
    /// Whether every operation succeeded.
    pub fn is_success(&self) -> bool {
        self.results.iter().all(|r| r.result.is_ok())
    }

    /// The operations that succeeded.
    pub fn succeeded(&self) -> impl Iterator<Item = &OpReport> + '_ {
        self.results.iter().filter(|r| r.result.is_ok())
    }

    /// The operations that failed.
    pub fn failed(&self) -> impl Iterator<Item = &OpReport> + '_ {
        self.results.iter().filter(|r| r.result.is_err())
    }

    /// Number of succeeded operations per outcome kind (`granted`, `already_granted`, ...).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for r in self.succeeded() {
            if let Ok(o) = &r.result {
                *counts.entry(o.kind.as_str()).or_default() += 1;
            }
        }
        counts
    }
}

impl fmt::Display for ApplyReport {
    /// One summary line: `12 operations: 10 succeeded (granted 3, already_granted 7), 2 failed (#4, #9); 2 writes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ok = self.succeeded().count();
        write!(f, "{} operations: {ok} succeeded", self.results.len())?;
        let counts = self.counts();
        if !counts.is_empty() {
            let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        let failed: Vec<String> = self.failed().map(|r| format!("#{}", r.index)).collect();
        write!(f, ", {} failed", failed.len())?;
        if !failed.is_empty() {
            write!(f, " ({})", failed.join(", "))?;
        }
        let n = self.writes.len();
        if self.dry_run {
            write!(f, "; dry run: {n} write(s) planned, none sent")
        } else {
            write!(f, "; {n} write(s)")
        }
    }
}
