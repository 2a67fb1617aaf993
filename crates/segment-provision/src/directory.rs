//! [`PrincipalDirectory`]: user emails known in advance (from a c1z sync), so group membership
//! changes need no `GET /users/{id}` per user.

use std::collections::HashMap;

use baton_c1z::{C1zReader, ResourceFilter};
use baton_model::{annotations, pb, profile};
use segment_connector::scheme;

use crate::ProvisionError;

/// User id -> email, used to find the email of a `user` principal. A user missing here is
/// looked up with `GET /users/{id}`.
#[derive(Debug, Clone, Default)]
pub struct PrincipalDirectory {
    emails: HashMap<String, String>,
}

impl PrincipalDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the email of a user.
    pub fn insert(&mut self, user_id: impl Into<String>, email: impl Into<String>) {
        self.emails.insert(user_id.into(), email.into());
    }

    /// The email of a user, if known.
    pub fn email(&self, user_id: &str) -> Option<&str> {
        self.emails.get(user_id).map(String::as_str)
    }

    /// Number of users known.
    pub fn len(&self) -> usize {
        self.emails.len()
    }

    /// Whether no user is known.
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty()
    }

    /// The emails of every `user` resource of a sync of a c1z file (`sync_id`, else the latest
    /// sync): the primary email of its UserTrait, else its first email, else its `email`
    /// profile value, else its login. Users without any are skipped.
    pub fn from_c1z(reader: &C1zReader, sync_id: Option<&str>) -> Result<Self, ProvisionError> {
        let err = |e: baton_c1z::C1zError| ProvisionError::Directory {
            reason: e.to_string(),
        };
        let view = reader.view(sync_id).map_err(err)?;
        let filter = ResourceFilter {
            resource_type_id: Some(scheme::USER.to_owned()),
            ..ResourceFilter::default()
        };
        let mut directory = Self::new();
        for resource in view.resources(&filter) {
            let resource = resource.map_err(err)?;
            let Some(id) = resource.id.as_ref().map(|id| id.resource.clone()) else {
                continue;
            };
            if let Some(email) = user_email(&resource) {
                directory.insert(id, email);
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
