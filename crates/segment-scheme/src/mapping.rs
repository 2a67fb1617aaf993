//! Segment API models -> Baton objects.
//!
//! Pure functions: no I/O, no logging. Every function that builds an id returns a
//! [`baton_model::Error`] when a Segment id cannot be represented (empty, or containing `:`);
//! the engine skips and counts such objects. Nothing secret is ever copied: sources and
//! warehouses arrive without write keys or settings (segment-api drops them while parsing) and
//! only the fields listed in the spec reach a profile.

use baton_model::entitlement::{
    EntitlementBuilder, assignment_entitlement, permission_entitlement,
};
use baton_model::grant::grant_to;
use baton_model::ids::{EntitlementId, ResourceRef, ResourceTypeId};
use baton_model::pb::{self, entitlement::PurposeValue, resource_type::Trait};
use baton_model::profile;
use baton_model::resource::{ResourceBuilder, ResourceTypeBuilder, UserDetails, UserStatus};
use baton_model::{Error, annotations};
use prost_types::Struct;
use segment_api::{Function, Role, Source, Space, User, UserGroup, Warehouse, Workspace};

use crate::resource_types::{
    FUNCTION, GROUP, INVITE, MEMBER_SLUG, PrincipalType, ROLE, SOURCE, SPACE, USER, WAREHOUSE,
    WORKSPACE,
};
use crate::{LabelSet, SegmentEntitlement};

/// Display name prefix of invitation resources.
pub const INVITE_DISPLAY_PREFIX: &str = "(Invitation) ";
/// Status details of invitation resources.
pub const INVITE_STATUS_DETAILS: &str = "pending invitation";

/// The resource type `id` (one of [`crate::scheme::ALL_RESOURCE_TYPES`]) with its display name,
/// description, trait and annotations; `None` for an unknown id.
pub fn resource_type(id: &str) -> Option<pb::ResourceType> {
    let (display, description, tr) = match id {
        WORKSPACE => ("Workspace", "A Segment workspace", None),
        USER => ("User", "A Segment workspace user", Some(Trait::User)),
        GROUP => ("Group", "A Segment user group", Some(Trait::Group)),
        ROLE => ("Role", "A Segment IAM role", Some(Trait::Role)),
        INVITE => (
            "Invite",
            "A pending workspace invitation",
            Some(Trait::User),
        ),
        SOURCE => ("Source", "A Segment data source", Some(Trait::App)),
        WAREHOUSE => ("Warehouse", "A Segment data warehouse", Some(Trait::App)),
        FUNCTION => ("Function", "A Segment function", Some(Trait::App)),
        SPACE => (
            "Space",
            "A Segment space (Engage/Unify environment)",
            Some(Trait::App),
        ),
        _ => return None,
    };
    let type_id = ResourceTypeId::new(id).ok()?;
    let mut b = ResourceTypeBuilder::new(&type_id, display).description(description);
    if let Some(t) = tr {
        b = b.with_trait(t);
    }
    match id {
        USER => b = b.annotation(&pb::SkipEntitlements {}),
        INVITE => {
            b = b
                .skip_entitlements_and_grants()
                .annotation(&pb::SkipSyncAnomalyDetection {});
        }
        _ => {}
    }
    Some(b.build())
}

fn rt(id: &str) -> pb::ResourceType {
    resource_type(id).unwrap_or_default()
}

fn type_id(id: &'static str) -> Result<ResourceTypeId, Error> {
    Ok(ResourceTypeId::new(id)?)
}

/// The reference `<type>:<id>`.
pub fn resource_ref(resource_type: &'static str, id: &str) -> Result<ResourceRef, Error> {
    Ok(ResourceRef::new(type_id(resource_type)?, id)?)
}

/// `workspace:<wsId>`.
pub fn workspace_ref(workspace_id: &str) -> Result<ResourceRef, Error> {
    resource_ref(WORKSPACE, workspace_id)
}

/// The workspace resource, carrying one `ChildResourceType` per synced child type (in the
/// order given).
pub fn workspace_resource(ws: &Workspace, child_types: &[&str]) -> Result<pb::Resource, Error> {
    let id = workspace_ref(&ws.id)?;
    let display = if ws.name.is_empty() {
        ws.id.clone()
    } else {
        ws.name.clone()
    };
    let mut b = ResourceBuilder::new(id, display);
    for child in child_types {
        b = b.child_resource_type(&ResourceTypeId::new(*child)?);
    }
    Ok(b.build())
}

/// Splits a display name on its first whitespace into (first, last); empty strings when absent.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, last)) => (first.to_owned(), last.trim_start().to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// A user resource: display = name, else email, else id; `UserTrait` with the primary email,
/// login = email, status enabled, account type human; profile `first_name`, `last_name`,
/// `login`, `user_id`, `email`, `name`.
pub fn user_resource(user: &User, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(USER, &user.id)?;
    let display = first_non_empty(&[&user.name, &user.email, &user.id]);
    let (first, last) = split_name(&user.name);
    let mut details = UserDetails::new(user.email.clone())
        .first_name(first)
        .last_name(last)
        .status(UserStatus::Enabled)
        .account_type(pb::user_trait::AccountType::Human)
        .profile_entry("email", user.email.clone())
        .profile_entry("name", user.name.clone());
    if !user.email.is_empty() {
        details = details.email(user.email.clone(), true);
    }
    Ok(ResourceBuilder::new(id, display)
        .parent(workspace)
        .user(details))
}

/// An invitation resource (id = the email exactly as listed): display
/// `(Invitation) <email>`, `UserTrait` status disabled ("pending invitation"), login = email,
/// profile `first_name` = `last_name` = "", `login`, `user_id` (= email), `email`.
pub fn invite_resource(email: &str, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(INVITE, email)?;
    let mut details = UserDetails::new(email)
        .status(UserStatus::Disabled)
        .status_details(INVITE_STATUS_DETAILS)
        .account_type(pb::user_trait::AccountType::Human)
        .profile_entry("email", email);
    if !email.is_empty() {
        details = details.email(email, true);
    }
    Ok(
        ResourceBuilder::new(id, format!("{INVITE_DISPLAY_PREFIX}{email}"))
            .parent(workspace)
            .user(details),
    )
}

/// A group resource: display = name (else id); profile `group_id`, `group_name`,
/// `member_count` (when reported).
pub fn group_resource(group: &UserGroup, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(GROUP, &group.id)?;
    let mut p = profile::from_pairs([
        ("group_id", group.id.as_str()),
        ("group_name", group.name.as_str()),
    ]);
    if let Some(n) = group.member_count {
        #[allow(
            clippy::cast_precision_loss,
            reason = "member counts are far below 2^53"
        )]
        profile::insert(&mut p, "member_count", profile::number_value(n as f64));
    }
    Ok(
        ResourceBuilder::new(id, first_non_empty(&[&group.name, &group.id]))
            .parent(workspace)
            .group(p),
    )
}

/// A role resource: display = name (else id), description = the role's description;
/// `RoleTrait` profile `role_id`, `role_name`, `role_description`.
pub fn role_resource(role: &Role, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(ROLE, &role.id)?;
    let p = profile::from_pairs([
        ("role_id", role.id.as_str()),
        ("role_name", role.name.as_str()),
        ("role_description", role.description.as_str()),
    ]);
    Ok(
        ResourceBuilder::new(id, first_non_empty(&[&role.name, &role.id]))
            .parent(workspace)
            .description(role.description.clone())
            .role(p),
    )
}

/// A source resource (APP): display = name, else slug, else id; profile `id`, `slug`, `name`,
/// `enabled`, `workspace_id`, `type` (catalog name). Never write keys or settings.
pub fn source_resource(source: &Source, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(SOURCE, &source.id)?;
    let mut p = profile::from_pairs([
        ("id", source.id.as_str()),
        ("slug", source.slug.as_str()),
        ("name", source.name.as_str()),
        ("workspace_id", source.workspace_id.as_str()),
    ]);
    profile::insert(&mut p, "enabled", profile::bool_value(source.enabled));
    if let Some(t) = &source.metadata_name {
        profile::insert_str(&mut p, "type", t.clone());
    }
    Ok(app(
        id,
        first_non_empty(&[&source.name, &source.slug, &source.id]),
        workspace,
        p,
    ))
}

/// The display name of a warehouse: `settings.name`, else `<metadata.name> <id>`, else id.
pub fn warehouse_display_name(warehouse: &Warehouse) -> String {
    if let Some(name) = warehouse.display_name.as_deref().filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    match warehouse.metadata.as_ref().filter(|m| !m.name.is_empty()) {
        Some(m) => format!("{} {}", m.name, warehouse.id),
        None => warehouse.id.clone(),
    }
}

/// A warehouse resource (APP): display per [`warehouse_display_name`]; profile `id`,
/// `enabled`, `type` (catalog name). No settings.
pub fn warehouse_resource(
    warehouse: &Warehouse,
    workspace: &ResourceRef,
) -> Result<pb::Resource, Error> {
    let id = resource_ref(WAREHOUSE, &warehouse.id)?;
    let mut p = profile::from_pairs([("id", warehouse.id.as_str())]);
    profile::insert(&mut p, "enabled", profile::bool_value(warehouse.enabled));
    if let Some(m) = warehouse.metadata.as_ref().filter(|m| !m.name.is_empty()) {
        profile::insert_str(&mut p, "type", m.name.clone());
    }
    Ok(app(id, warehouse_display_name(warehouse), workspace, p))
}

/// A function resource (APP): display = displayName, else id; profile `id`, `display_name`,
/// `description`, `kind`.
pub fn function_resource(
    function: &Function,
    workspace: &ResourceRef,
) -> Result<pb::Resource, Error> {
    let id = resource_ref(FUNCTION, &function.id)?;
    let display_name = function.display_name.clone().unwrap_or_default();
    let mut p = profile::from_pairs([
        ("id", function.id.as_str()),
        ("display_name", display_name.as_str()),
        (
            "description",
            function.description.as_deref().unwrap_or_default(),
        ),
    ]);
    if let Some(kind) = &function.resource_type {
        profile::insert_str(&mut p, "kind", kind.as_str());
    }
    Ok(app(
        id,
        first_non_empty(&[&display_name, &function.id]),
        workspace,
        p,
    ))
}

/// A space resource (APP): display = name, else slug, else id; profile `id`, `slug`, `name`.
pub fn space_resource(space: &Space, workspace: &ResourceRef) -> Result<pb::Resource, Error> {
    let id = resource_ref(SPACE, &space.id)?;
    let p = profile::from_pairs([
        ("id", space.id.as_str()),
        ("slug", space.slug.as_str()),
        ("name", space.name.as_str()),
    ]);
    Ok(app(
        id,
        first_non_empty(&[&space.name, &space.slug, &space.id]),
        workspace,
        p,
    ))
}

fn app(id: ResourceRef, display: String, workspace: &ResourceRef, p: Struct) -> pb::Resource {
    ResourceBuilder::new(id, display)
        .parent(workspace)
        .app(p, None)
}

fn first_non_empty(candidates: &[&str]) -> String {
    candidates
        .iter()
        .find(|c| !c.is_empty())
        .copied()
        .unwrap_or_default()
        .to_owned()
}

// ---- entitlements ----------------------------------------------------------------------------

fn with_grantable(mut b: EntitlementBuilder, types: &[&str]) -> EntitlementBuilder {
    for t in types {
        b = b.grantable_to(&rt(t));
    }
    b
}

/// `workspace:<ws>:member`: ASSIGNMENT, `"<ws name> workspace member"`, grantable to users.
pub fn workspace_member_entitlement(workspace: &pb::Resource) -> Result<pb::Entitlement, Error> {
    let name = &workspace.display_name;
    let b = assignment_entitlement(workspace, MEMBER_SLUG)?
        .display_name(format!("{name} workspace member"))
        .description(format!("Member of the {name} Segment workspace"));
    Ok(with_grantable(b, &[USER]).build())
}

/// `group:<gid>:member`: ASSIGNMENT, `"<group> group member"`, grantable to users and invites.
pub fn group_member_entitlement(group: &pb::Resource) -> Result<pb::Entitlement, Error> {
    let name = &group.display_name;
    let b = assignment_entitlement(group, MEMBER_SLUG)?
        .display_name(format!("{name} group member"))
        .description(format!("Member of the {name} Segment user group"));
    Ok(with_grantable(b, &[USER, INVITE]).build())
}

/// `role:<roleId>:member[@<labels>]`: ASSIGNMENT, `"<role> role member"` (plus
/// `" (labels: k=v, ...)"` when label-scoped), description from the role, grantable to users and
/// groups.
pub fn role_member_entitlement(
    role: &pb::Resource,
    labels: &LabelSet,
) -> Result<pb::Entitlement, Error> {
    let name = &role.display_name;
    let ent = SegmentEntitlement::RoleMember {
        role_id: role_id_of(role)?,
        labels: labels.clone(),
    };
    let mut display = format!("{name} role member");
    let mut description = role.description.clone();
    if !labels.is_empty() {
        display.push_str(&format!(" (labels: {})", labels.display()));
        description = if description.is_empty() {
            format!("Limited to resources labelled {}", labels.display())
        } else {
            format!(
                "{description} (limited to resources labelled {})",
                labels.display()
            )
        };
    }
    let b = EntitlementBuilder::new(role, &ent.slug(), PurposeValue::Assignment)?
        .display_name(display)
        .description(description);
    Ok(with_grantable(b, &[USER, GROUP]).build())
}

fn role_id_of(role: &pb::Resource) -> Result<String, Error> {
    Ok(role
        .id
        .as_ref()
        .ok_or(Error::MissingId { what: "resource" })?
        .resource
        .clone())
}

/// `<type>:<id>:<slug>[@<labels>]`: PERMISSION, `"<resource display> <role name>"`,
/// description `"<role name> - <role description>"`, grantable to users and groups.
pub fn scoped_entitlement(
    scope_resource: &pb::Resource,
    role_name: &str,
    role_description: &str,
    role_slug: &str,
    labels: &LabelSet,
) -> Result<pb::Entitlement, Error> {
    let slug = if labels.is_empty() {
        role_slug.to_owned()
    } else {
        format!("{role_slug}@{}", labels.encode())
    };
    let mut display = format!("{} {role_name}", scope_resource.display_name);
    if !labels.is_empty() {
        display.push_str(&format!(" (labels: {})", labels.display()));
    }
    let description = if role_description.is_empty() {
        role_name.to_owned()
    } else {
        format!("{role_name} - {role_description}")
    };
    let b = permission_entitlement(scope_resource, &slug)?
        .display_name(display)
        .description(description);
    Ok(with_grantable(b, &[USER, GROUP]).build())
}

// ---- grants ----------------------------------------------------------------------------------

/// The stub `{id, resource}` of an entitlement, enough to build grants on it.
pub fn entitlement_stub(id: &EntitlementId, resource: &pb::Resource) -> pb::Entitlement {
    pb::Entitlement {
        id: id.to_string(),
        resource: Some(resource.clone()),
        ..Default::default()
    }
}

/// The stub of a typed entitlement on `resource`.
pub fn segment_entitlement_stub(
    ent: &SegmentEntitlement,
    resource: &pb::Resource,
) -> Result<pb::Entitlement, Error> {
    let id = ent.entitlement_id().map_err(|_| Error::MissingId {
        what: "entitlement",
    })?;
    Ok(entitlement_stub(&id, resource))
}

/// A grant of `entitlement` to the principal `principal_type:principal_id` (embedded as
/// `Resource{id}`). Group-held grants carry `GrantExpandable{["group:<gid>:member"], shallow,
/// ["user"]}` so that the group's members inherit them.
pub fn grant(
    entitlement: &pb::Entitlement,
    principal_type: PrincipalType,
    principal_id: &str,
) -> Result<pb::Grant, Error> {
    let principal = ResourceRef::new(ResourceTypeId::new(principal_type.as_str())?, principal_id)?;
    let mut b = grant_to(entitlement, &principal)?;
    if principal_type == PrincipalType::Group {
        let source = EntitlementId::new(principal.clone(), MEMBER_SLUG)?;
        b = b.expandable(&[source], true, &[type_id(USER)?]);
    }
    Ok(b.build())
}

/// Whether a grant carries `GrantExpandable`.
pub fn is_expandable(grant: &pb::Grant) -> bool {
    annotations::contains::<pb::GrantExpandable>(&grant.annotations)
}
