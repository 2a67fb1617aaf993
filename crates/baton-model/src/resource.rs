//! Builders for resource types and resources (users, groups, roles, apps).
//!
//! Like baton-sdk, the builders set both the newer `Resource` fields (`profile`, `status`,
//! `created_at`) and the deprecated trait fields (`UserTrait.status`, `UserTrait.profile`,
//! `GroupTrait.profile`, ...) so that old and new readers see the same data
//! (c1z-format.md §3.2/§3.3), and mark every resource `CONNECTOR_LIST_RESOURCES`.

use prost::Name;
use prost_types::{Struct, Timestamp, Value};

use crate::ids::{ResourceRef, ResourceTypeId};
use crate::pb::{self, resource_type::Trait};
use crate::{Error, annotations, profile};

/// Profile key holding a user's first name.
pub const PROFILE_FIRST_NAME: &str = "first_name";
/// Profile key holding a user's last name.
pub const PROFILE_LAST_NAME: &str = "last_name";
/// Profile key holding a user's login.
pub const PROFILE_LOGIN: &str = "login";
/// Profile key holding a user's id in the source system.
pub const PROFILE_USER_ID: &str = "user_id";

/// The typed reference of a wire resource (fails when its id is absent or breaks the rules).
pub fn resource_ref(resource: &pb::Resource) -> Result<ResourceRef, Error> {
    let id = resource
        .id
        .as_ref()
        .ok_or(Error::MissingId { what: "resource" })?;
    Ok(ResourceRef::try_from(id)?)
}

/// Builds a [`pb::ResourceType`].
#[derive(Debug, Clone)]
pub struct ResourceTypeBuilder {
    rt: pb::ResourceType,
}

impl ResourceTypeBuilder {
    /// A resource type with `id` and `display_name`, no traits.
    pub fn new(id: &ResourceTypeId, display_name: impl Into<String>) -> Self {
        Self {
            rt: pb::ResourceType {
                id: id.as_str().to_owned(),
                display_name: display_name.into(),
                ..Default::default()
            },
        }
    }

    /// Adds a trait (kept unique).
    pub fn with_trait(mut self, t: Trait) -> Self {
        if !self.rt.traits.contains(&(t as i32)) {
            self.rt.traits.push(t as i32);
        }
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.rt.description = description.into();
        self
    }

    /// Adds an annotation (replacing one of the same type).
    pub fn annotation<M: Name>(mut self, msg: &M) -> Self {
        annotations::update(&mut self.rt.annotations, msg);
        self
    }

    /// Marks the type as having neither entitlements nor grants.
    pub fn skip_entitlements_and_grants(self) -> Self {
        self.annotation(&pb::SkipEntitlementsAndGrants {})
    }

    /// The resource type.
    pub fn build(self) -> pb::ResourceType {
        self.rt
    }
}

/// Status of a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UserStatus {
    /// The account is usable (baton-sdk's default).
    #[default]
    Enabled,
    /// The account exists but cannot be used.
    Disabled,
    /// The account is deleted.
    Deleted,
}

impl UserStatus {
    fn trait_status(self) -> pb::user_trait::status::Status {
        match self {
            Self::Enabled => pb::user_trait::status::Status::Enabled,
            Self::Disabled => pb::user_trait::status::Status::Disabled,
            Self::Deleted => pb::user_trait::status::Status::Deleted,
        }
    }

    fn resource_status(self) -> pb::status::ResourceStatus {
        match self {
            Self::Enabled => pb::status::ResourceStatus::Enabled,
            Self::Disabled => pb::status::ResourceStatus::Disabled,
            Self::Deleted => pb::status::ResourceStatus::Deleted,
        }
    }
}

/// What a user resource carries in its [`pb::UserTrait`] and profile.
#[derive(Debug, Clone)]
pub struct UserDetails {
    login: String,
    first_name: String,
    last_name: String,
    emails: Vec<pb::user_trait::Email>,
    status: UserStatus,
    status_details: String,
    account_type: pb::user_trait::AccountType,
    created_at: Option<Timestamp>,
    last_login: Option<Timestamp>,
    extra_profile: Struct,
}

impl UserDetails {
    /// A user with `login`, status enabled and account type human (baton-sdk's defaults).
    pub fn new(login: impl Into<String>) -> Self {
        Self {
            login: login.into(),
            first_name: String::new(),
            last_name: String::new(),
            emails: Vec::new(),
            status: UserStatus::Enabled,
            status_details: String::new(),
            account_type: pb::user_trait::AccountType::Human,
            created_at: None,
            last_login: None,
            extra_profile: Struct::default(),
        }
    }

    /// Sets the first (given) name.
    pub fn first_name(mut self, name: impl Into<String>) -> Self {
        self.first_name = name.into();
        self
    }

    /// Sets the last (family) name.
    pub fn last_name(mut self, name: impl Into<String>) -> Self {
        self.last_name = name.into();
        self
    }

    /// Adds an email address.
    pub fn email(mut self, address: impl Into<String>, is_primary: bool) -> Self {
        self.emails.push(pb::user_trait::Email {
            address: address.into(),
            is_primary,
        });
        self
    }

    /// Sets the account status.
    pub fn status(mut self, status: UserStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets a free-text explanation of the status.
    pub fn status_details(mut self, details: impl Into<String>) -> Self {
        self.status_details = details.into();
        self
    }

    /// Sets the account type (default human).
    pub fn account_type(mut self, account_type: pb::user_trait::AccountType) -> Self {
        self.account_type = account_type;
        self
    }

    /// Sets when the account was created in the source system.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Sets the last login time.
    pub fn last_login(mut self, at: Timestamp) -> Self {
        self.last_login = Some(at);
        self
    }

    /// Adds a string profile entry (the keys `first_name`, `last_name`, `login` and
    /// `user_id` are always set from the user's own data and win over extra entries).
    pub fn profile_entry(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        profile::insert_str(&mut self.extra_profile, key, value);
        self
    }

    /// Adds a profile entry of any kind (same precedence rule as [`Self::profile_entry`]).
    pub fn profile_value(mut self, key: impl Into<String>, value: Value) -> Self {
        profile::insert(&mut self.extra_profile, key, value);
        self
    }
}

/// Builds a [`pb::Resource`]; finish with [`build`](Self::build) (no trait) or one of
/// [`user`](Self::user), [`group`](Self::group), [`role`](Self::role), [`app`](Self::app).
#[derive(Debug, Clone)]
pub struct ResourceBuilder {
    id: ResourceRef,
    resource: pb::Resource,
}

impl ResourceBuilder {
    /// A resource `id` named `display_name`, creation source `CONNECTOR_LIST_RESOURCES`.
    pub fn new(id: ResourceRef, display_name: impl Into<String>) -> Self {
        let resource = pb::Resource {
            id: Some(id.to_pb()),
            display_name: display_name.into(),
            creation_source: pb::resource::CreationSource::ConnectorListResources as i32,
            ..Default::default()
        };
        Self { id, resource }
    }

    /// The resource's id.
    pub fn id(&self) -> &ResourceRef {
        &self.id
    }

    /// Sets the parent resource.
    pub fn parent(mut self, parent: &ResourceRef) -> Self {
        self.resource.parent_resource_id = Some(parent.to_pb());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.resource.description = description.into();
        self
    }

    /// Asks the syncer to list resources of `child` with this resource as parent
    /// (appends one `ChildResourceType` per call).
    pub fn child_resource_type(mut self, child: &ResourceTypeId) -> Self {
        annotations::append(
            &mut self.resource.annotations,
            &pb::ChildResourceType {
                resource_type_id: child.as_str().to_owned(),
            },
        );
        self
    }

    /// Adds an `ExternalLink` deep link.
    pub fn external_link(self, url: impl Into<String>) -> Self {
        self.annotation(&pb::ExternalLink { url: url.into() })
    }

    /// Sets when the resource was created in the source system.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.resource.created_at = Some(at);
        self
    }

    /// Sets `Resource.status`.
    pub fn status(
        mut self,
        status: pb::status::ResourceStatus,
        details: impl Into<String>,
    ) -> Self {
        self.resource.status = Some(pb::Status {
            status: status as i32,
            details: details.into(),
        });
        self
    }

    /// Adds an annotation (replacing one of the same type).
    pub fn annotation<M: Name>(mut self, msg: &M) -> Self {
        annotations::update(&mut self.resource.annotations, msg);
        self
    }

    /// The resource without a trait.
    pub fn build(self) -> pb::Resource {
        self.resource
    }

    /// A user resource: `UserTrait` plus `Resource.profile`/`status`/`created_at`.
    ///
    /// The profile always carries `first_name`, `last_name`, `login` and `user_id` (the
    /// resource id) plus the extra entries; it is never absent.
    pub fn user(mut self, user: UserDetails) -> pb::Resource {
        let mut profile = user.extra_profile;
        profile::insert_str(&mut profile, PROFILE_FIRST_NAME, user.first_name.clone());
        profile::insert_str(&mut profile, PROFILE_LAST_NAME, user.last_name.clone());
        profile::insert_str(&mut profile, PROFILE_LOGIN, user.login.clone());
        profile::insert_str(&mut profile, PROFILE_USER_ID, self.id.resource());

        let created_at = user.created_at.or(self.resource.created_at);
        let structured_name =
            (!user.first_name.is_empty() || !user.last_name.is_empty()).then(|| {
                pb::user_trait::StructuredName {
                    given_name: user.first_name,
                    family_name: user.last_name,
                    ..Default::default()
                }
            });
        let user_trait = pb::UserTrait {
            emails: user.emails,
            status: Some(pb::user_trait::Status {
                status: user.status.trait_status() as i32,
                details: user.status_details.clone(),
            }),
            profile: Some(profile.clone()),
            account_type: user.account_type as i32,
            login: user.login,
            created_at,
            last_login: user.last_login,
            structured_name,
            ..Default::default()
        };
        annotations::update(&mut self.resource.annotations, &user_trait);
        self.resource.profile = Some(profile);
        self.resource.status = Some(pb::Status {
            status: user.status.resource_status() as i32,
            details: user.status_details,
        });
        self.resource.created_at = created_at;
        self.resource
    }

    /// A group resource: `GroupTrait{profile}` plus `Resource.profile`.
    pub fn group(mut self, profile: Struct) -> pb::Resource {
        let group_trait = pb::GroupTrait {
            profile: Some(profile.clone()),
            ..Default::default()
        };
        annotations::update(&mut self.resource.annotations, &group_trait);
        self.resource.profile = Some(profile);
        self.resource
    }

    /// A role resource: `RoleTrait{profile}` plus `Resource.profile`.
    pub fn role(mut self, profile: Struct) -> pb::Resource {
        let role_trait = pb::RoleTrait {
            profile: Some(profile.clone()),
            ..Default::default()
        };
        annotations::update(&mut self.resource.annotations, &role_trait);
        self.resource.profile = Some(profile);
        self.resource
    }

    /// An app resource: `AppTrait{help_url, profile}` plus `Resource.profile`.
    pub fn app(mut self, profile: Struct, help_url: Option<&str>) -> pb::Resource {
        let app_trait = pb::AppTrait {
            help_url: help_url.unwrap_or_default().to_owned(),
            profile: Some(profile.clone()),
            ..Default::default()
        };
        annotations::update(&mut self.resource.annotations, &app_trait);
        self.resource.profile = Some(profile);
        self.resource
    }
}
