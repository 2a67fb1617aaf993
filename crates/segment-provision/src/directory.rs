//! [`PrincipalDirectory`]: the principals of a c1z sync (user, group and invite ids), used to
//! find the type of a principal given without one.

use std::collections::{HashMap, HashSet};

use baton_c1z::{C1zReader, ResourceFilter};
use baton_model::{annotations, pb, profile};
use segment_scheme::PrincipalType;

use crate::ProvisionError;

/// The principals known from a sync: user ids (with their emails as synced), group ids and
/// invited emails. [`Provisioner::resolve_principal`](crate::Provisioner::resolve_principal)
/// uses it to find the type of an id given without one.
///
/// It is never the source of an email that is written: a c1z can be outdated (a user may have
/// changed address since), so group membership changes always read the user's email fresh
/// from Segment (`GET /users/{id}`). The emails here are informational.
#[derive(Debug, Clone, Default)]
pub struct PrincipalDirectory {
    emails: HashMap<String, String>,
    users: HashSet<String>,
    groups: HashSet<String>,
    /// Lowercase.
    invites: HashSet<String>,
}

impl PrincipalDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a user and its email (as synced).
    pub fn insert(&mut self, user_id: impl Into<String>, email: impl Into<String>) {
        let user_id = user_id.into();
        self.users.insert(user_id.clone());
        self.emails.insert(user_id, email.into());
    }

    /// Records a principal of `principal_type` with this id (an email for invites).
    pub fn insert_principal(&mut self, principal_type: PrincipalType, id: impl Into<String>) {
        let id = id.into();
        match principal_type {
            PrincipalType::User => {
                self.users.insert(id);
            }
            PrincipalType::Group => {
                self.groups.insert(id);
            }
            PrincipalType::Invite => {
                self.invites.insert(id.to_lowercase());
            }
        }
    }

    /// The email of a user as synced, if known (informational; never written, see the type's
    /// docs).
    pub fn email(&self, user_id: &str) -> Option<&str> {
        self.emails.get(user_id).map(String::as_str)
    }

    /// The types under which a principal with this id is known (invites compare
    /// case-insensitively), in the order user, group, invite.
    pub fn principal_types(&self, id: &str) -> Vec<PrincipalType> {
        let mut types = Vec::new();
        if self.users.contains(id) {
            types.push(PrincipalType::User);
        }
        if self.groups.contains(id) {
            types.push(PrincipalType::Group);
        }
        if self.invites.contains(&id.to_lowercase()) {
            types.push(PrincipalType::Invite);
        }
        types
    }

    /// Number of users with a known email.
    pub fn len(&self) -> usize {
        self.emails.len()
    }

    /// Whether no principal is known.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.invites.is_empty()
    }

    /// The `user`, `group` and `invite` resources of a sync of a c1z file (`sync_id`, else the
    /// latest sync), with each user's email as synced: the primary email of its UserTrait,
    /// else its first email, else its `email` profile value, else its login.
    pub fn from_c1z(reader: &C1zReader, sync_id: Option<&str>) -> Result<Self, ProvisionError> {
        let err = |e: baton_c1z::C1zError| ProvisionError::Directory {
            reason: e.to_string(),
        };
        let view = reader.view(sync_id).map_err(err)?;
        let mut directory = Self::new();
        for ptype in [
            PrincipalType::User,
            PrincipalType::Group,
            PrincipalType::Invite,
        ] {
            let filter = ResourceFilter {
                resource_type_id: Some(ptype.as_str().to_owned()),
                ..ResourceFilter::default()
            };
            for resource in view.resources(&filter) {
                let resource = resource.map_err(err)?;
                let Some(id) = resource.id.as_ref().map(|id| id.resource.clone()) else {
                    continue;
                };
                if ptype == PrincipalType::User
                    && let Some(email) = user_email(&resource)
                {
                    directory.insert(id.clone(), email);
                }
                directory.insert_principal(ptype, id);
            }
        }
        Ok(directory)
    }
}

/// The email of a user resource (see [`PrincipalDirectory::from_c1z`]).
fn user_email(resource: &pb::Resource) -> Option<String> {
    let user: Option<pb::UserTrait> = annotations::pick(&resource.annotations).ok().flatten();
    if let Some(user) = &user {
        let primary = user
            .emails
            .iter()
            .find(|e| e.is_primary && !e.address.is_empty());
        if let Some(email) = primary.or_else(|| user.emails.iter().find(|e| !e.address.is_empty()))
        {
            return Some(email.address.clone());
        }
    }
    let profile_email = resource
        .profile
        .as_ref()
        .or_else(|| user.as_ref().and_then(|u| u.profile.as_ref()))
        .and_then(|p| profile::get_str(p, "email"))
        .filter(|e| !e.is_empty());
    if let Some(email) = profile_email {
        return Some(email.to_owned());
    }
    user.map(|u| u.login).filter(|l| l.contains('@'))
}
