//! What an operation did (or, in a dry run, would do): [`Outcome`], [`OutcomeKind`] and the
//! exact API writes, [`PlannedWrite`].

use std::fmt;

use baton_model::ids::{EntitlementId, ResourceRef};
use segment_api::WriteRequest;
use serde::{Serialize, Serializer};

/// What happened to one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The entitlement was granted.
    Granted,
    /// The principal already had the entitlement; nothing was written.
    AlreadyGranted,
    /// The entitlement was revoked.
    Revoked,
    /// The principal did not have the entitlement; nothing was written.
    AlreadyRevoked,
    /// An invitation was sent.
    Invited,
    /// The email already has a pending invitation; nothing was sent.
    AlreadyInvited,
    /// The email already belongs to a workspace member; nothing was sent.
    AlreadyAMember,
    /// The user or invitation was removed from the workspace.
    Removed,
    /// The user or invitation did not exist; nothing was written.
    AlreadyGone,
}

impl OutcomeKind {
    /// Whether the operation changed nothing because the state was already as asked.
    pub fn is_noop(self) -> bool {
        matches!(
            self,
            Self::AlreadyGranted
                | Self::AlreadyRevoked
                | Self::AlreadyInvited
                | Self::AlreadyAMember
                | Self::AlreadyGone
        )
    }

    /// The snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::AlreadyGranted => "already_granted",
            Self::Revoked => "revoked",
            Self::AlreadyRevoked => "already_revoked",
            Self::Invited => "invited",
            Self::AlreadyInvited => "already_invited",
            Self::AlreadyAMember => "already_a_member",
            Self::Removed => "removed",
            Self::AlreadyGone => "already_gone",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One API write, exactly as sent (or, in a dry run, as it would be sent).
///
/// `Display`: `POST /users/abc/permissions {"permissions":[...]}` (the body is compact JSON
/// with keys in sorted order; the path carries the percent-encoded query, e.g.
/// `DELETE /invites?emails.0=a%40example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedWrite {
    /// Segment operationId (e.g. `addPermissionsToUser`).
    pub operation: &'static str,
    /// HTTP method (`POST`, `PUT`, `DELETE`).
    pub method: &'static str,
    /// Path with percent-encoded segments and query.
    pub path: String,
    /// JSON body, when the write has one.
    pub body: Option<serde_json::Value>,
}

impl fmt::Display for PlannedWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(body) = &self.body {
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

impl From<&WriteRequest> for PlannedWrite {
    /// The description segment-api sends: the same operation, method, encoded path and body.
    fn from(request: &WriteRequest) -> Self {
        Self {
            operation: request.operation(),
            method: request.method(),
            path: request.path_and_query(),
            body: request.body(),
        }
    }
}

/// What one operation did (or would do, in a dry run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// What happened.
    pub kind: OutcomeKind,
    /// The entitlement granted or revoked.
    #[serde(
        serialize_with = "display_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub entitlement: Option<EntitlementId>,
    /// The principal of a grant or revoke.
    #[serde(
        serialize_with = "display_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub principal: Option<ResourceRef>,
    /// The account or resource created, found or deleted (`invite:<email>`, `user:<id>`).
    #[serde(
        serialize_with = "display_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource: Option<ResourceRef>,
    /// The email of an account operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The writes made (or planned, in a dry run). In a bulk plan a coalesced write is listed
    /// in the outcome of every operation it carries.
    pub writes: Vec<PlannedWrite>,
    /// Whether this was a dry run (nothing was written).
    pub dry_run: bool,
    /// How many times the change was re-applied because someone else changed the principal
    /// between the write and its verification.
    pub conflict_retries: u32,
    /// Extra information, also shown by `Display`: why nothing was done (e.g. "user:u1 does
    /// not exist in Segment"), or what an account operation applied after the invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The entitlements an account operation applied besides the invitation, one outcome each:
    /// the group memberships of a new or pending invitation, or the requested roles and groups
    /// granted to an existing member (`already_a_member`). Empty for other operations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<Outcome>,
    /// Roles an account request asked for that were not applied: the address already has a
    /// pending invitation, whose permissions Segment can neither read nor amend (they are in
    /// place only if that invitation already carried them). Also said in the note; an outcome
    /// with such roles is never a no-op. Empty for other operations.
    #[serde(serialize_with = "display_vec", skip_serializing_if = "Vec::is_empty")]
    pub roles_not_applied: Vec<EntitlementId>,
}

fn display_opt<T: fmt::Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_none(),
    }
}

fn display_vec<T: fmt::Display, S: Serializer>(
    values: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(ToString::to_string))
}

impl Outcome {
    /// An outcome of `kind` with nothing filled in.
    pub(crate) fn new(kind: OutcomeKind, dry_run: bool) -> Self {
        Self {
            kind,
            entitlement: None,
            principal: None,
            resource: None,
            email: None,
            writes: Vec::new(),
            dry_run,
            conflict_retries: 0,
            note: None,
            applied: Vec::new(),
            roles_not_applied: Vec::new(),
        }
    }

    /// A grant or revoke outcome.
    pub(crate) fn for_grant(
        kind: OutcomeKind,
        dry_run: bool,
        entitlement: &EntitlementId,
        principal: &ResourceRef,
    ) -> Self {
        Self {
            entitlement: Some(entitlement.clone()),
            principal: Some(principal.clone()),
            ..Self::new(kind, dry_run)
        }
    }

    /// Whether the operation changed (or, in a dry run, would change) nothing and left
    /// nothing requested undone: its kind is a no-op kind (`already_*`), it made (planned) no
    /// write and [`roles_not_applied`](Self::roles_not_applied) is empty. E.g. an
    /// `already_a_member` account whose requested roles were granted to the member is not a
    /// no-op, nor is an `already_invited` one whose requested roles could not be applied.
    pub fn is_noop(&self) -> bool {
        self.kind.is_noop()
            && self.writes.is_empty()
            && self.roles_not_applied.is_empty()
            && self.applied.iter().all(Outcome::is_noop)
    }
}

/// `" (2 writes)"`, `" (dry run: 1 write planned)"`, or nothing without writes.
struct WriteCount<'a>(&'a Outcome);

impl fmt::Display for WriteCount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.writes.len();
        if n == 0 {
            return Ok(());
        }
        let plural = if n == 1 { "" } else { "s" };
        if self.0.dry_run {
            write!(f, " (dry run: {n} write{plural} planned)")
        } else {
            write!(f, " ({n} write{plural})")
        }
    }
}

/// Text of an optional id, `?` when absent.
struct Opt<'a, T>(&'a Option<T>);

impl<T: fmt::Display> fmt::Display for Opt<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("?"),
        }
    }
}

impl fmt::Display for Outcome {
    /// One line, e.g. `granted role:r1:member to user:u1 (1 write)` or
    /// `user:u1 already has role:r1:member; nothing to do`, followed by `; <note>` when there
    /// is a note (e.g. `user:u1 does not have role:r1:member; nothing to do; user:u1 does not
    /// exist in Segment`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ent = Opt(&self.entitlement);
        let principal = Opt(&self.principal);
        let resource = Opt(&self.resource);
        let email = self.email.as_deref().unwrap_or("?");
        let would = if self.dry_run { "would " } else { "" };
        match self.kind {
            OutcomeKind::Granted if self.dry_run => write!(f, "would grant {ent} to {principal}")?,
            OutcomeKind::Granted => write!(f, "granted {ent} to {principal}")?,
            OutcomeKind::AlreadyGranted => {
                write!(f, "{principal} already has {ent}; nothing to do")?;
            }
            OutcomeKind::Revoked if self.dry_run => {
                write!(f, "would revoke {ent} from {principal}")?;
            }
            OutcomeKind::Revoked => write!(f, "revoked {ent} from {principal}")?,
            OutcomeKind::AlreadyRevoked => {
                write!(f, "{principal} does not have {ent}; nothing to do")?;
            }
            OutcomeKind::Invited if self.dry_run => {
                write!(f, "would invite {email} ({resource})")?;
            }
            OutcomeKind::Invited => write!(f, "invited {email} ({resource})")?,
            OutcomeKind::AlreadyInvited => write!(
                f,
                "{email} already has a pending invitation ({resource}); no invitation {would}sent"
            )?,
            OutcomeKind::AlreadyAMember => write!(
                f,
                "{email} is already a workspace member ({resource}); no invitation {would}sent"
            )?,
            OutcomeKind::Removed if self.dry_run => write!(f, "would delete {resource}")?,
            OutcomeKind::Removed => write!(f, "deleted {resource}")?,
            OutcomeKind::AlreadyGone => {
                write!(
                    f,
                    "{resource} does not exist (already deleted); nothing to do"
                )?;
            }
        }
        write!(f, "{}", WriteCount(self))?;
        if self.conflict_retries > 0 {
            write!(
                f,
                " [re-applied {} time(s) after concurrent changes]",
                self.conflict_retries
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_are_described_as_the_client_sends_them() {
        let request = WriteRequest::delete_invites(&["foo@example.com", "a+b&c=d#e"]).unwrap();
        let w = PlannedWrite::from(&request);
        assert_eq!(
            w.path,
            "/invites?emails.0=foo%40example.com&emails.1=a%2Bb%26c%3Dd%23e"
        );
        assert_eq!(w.to_string(), request.to_string());
        let request = WriteRequest::add_users_to_user_group("a/b?c#d%e f", &["x@y.z"]).unwrap();
        assert_eq!(
            PlannedWrite::from(&request).path,
            "/groups/a%2Fb%3Fc%23d%25e%20f/users"
        );
    }

    #[test]
    fn display_and_json() {
        let w = PlannedWrite {
            operation: "deleteInvites",
            method: "DELETE",
            path: "/invites?emails.0=a%40b.co".into(),
            body: None,
        };
        assert_eq!(w.to_string(), "DELETE /invites?emails.0=a%40b.co");
        let ent: EntitlementId = "role:r1:member".parse().unwrap();
        let p: ResourceRef = "user:u1".parse().unwrap();
        let mut o = Outcome::for_grant(OutcomeKind::Granted, false, &ent, &p);
        o.writes.push(PlannedWrite {
            operation: "addPermissionsToUser",
            method: "POST",
            path: "/users/u1/permissions".into(),
            body: Some(serde_json::json!({"permissions": []})),
        });
        assert_eq!(o.to_string(), "granted role:r1:member to user:u1 (1 write)");
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["kind"], "granted");
        assert_eq!(v["entitlement"], "role:r1:member");
        assert_eq!(v["principal"], "user:u1");
        assert!(v.get("resource").is_none());
        assert!(OutcomeKind::AlreadyGone.is_noop());
        assert!(!OutcomeKind::Invited.is_noop());
    }
}
