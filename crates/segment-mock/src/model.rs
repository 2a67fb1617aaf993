//! The workspace model served by the mock, which is also the JSON fixture format (load and dump).
//!
//! Permissions are stored without `roleName`: the server fills it from [`Workspace::roles`].
//! Group members and group invitees are referenced by email address.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::MockError;

/// A whole Segment workspace: the state of the mock and the fixture format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Workspace id (22-character base62 in generated data).
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug.
    pub slug: String,
    /// Roles of the workspace (`GET /roles`).
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Workspace members.
    #[serde(default)]
    pub users: Vec<User>,
    /// User groups (Business plan).
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Pending workspace invites.
    #[serde(default)]
    pub invites: Vec<Invite>,
    /// Sources.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Warehouses.
    #[serde(default)]
    pub warehouses: Vec<Warehouse>,
    /// Functions of all kinds.
    #[serde(default)]
    pub functions: Vec<Function>,
    /// Engage/Unify spaces.
    #[serde(default)]
    pub spaces: Vec<Space>,
    /// Labels usable on sources/spaces and in label-scoped permissions.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A role (`RoleV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Opaque id (27-character KSUID-like in generated data).
    pub id: String,
    /// Display name, e.g. `Workspace Owner`.
    pub name: String,
    /// Human-readable description.
    #[serde(default)]
    pub description: String,
}

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// Display name; often empty on the live API.
    #[serde(default)]
    pub name: String,
    /// Email address (unique, compared case-insensitively).
    pub email: String,
    /// Direct permissions (group-inherited ones are not listed here, as on the live API).
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// A user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Opaque id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Emails of accepted members (must be workspace users).
    #[serde(default)]
    pub members: Vec<String>,
    /// Emails of pending invitees added to the group (must be workspace invites).
    #[serde(default)]
    pub invites: Vec<String>,
    /// Permissions held by the group.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// A pending workspace invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// Invited email address.
    pub email: String,
    /// Permissions the invitee gets on acceptance (not exposed by the API, which lists bare emails).
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// A permission (policy): one role on one or more resources, stored without `roleName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Role id.
    pub role_id: String,
    /// Resources the role applies to.
    #[serde(default)]
    pub resources: Vec<PermissionResource>,
    /// Permission-level labels (rare; label scoping normally sits on a `WORKSPACE` resource).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

/// A resource of a permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionResource {
    /// Id of the workspace, source, warehouse, function or space.
    pub id: String,
    /// Kind of resource (JSON `type`).
    #[serde(rename = "type")]
    pub kind: ResourceType,
    /// Labels refining a `WORKSPACE` resource (label-scoped permissions).
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// `PermissionResourceV1.type`.
///
/// The five kinds Segment documents, plus [`ResourceType::Other`], which keeps any other wire
/// name verbatim (a future scope type such as `DESTINATION` or `TRACKING_PLAN`) so that it
/// survives a fixture load/dump and the API's JSON unchanged. (De)serialises as the bare string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    /// The whole workspace (optionally narrowed by labels).
    Workspace,
    /// A source.
    Source,
    /// A warehouse.
    Warehouse,
    /// A function.
    Function,
    /// An Engage/Unify space.
    Space,
    /// A type the mock does not know, kept exactly as written (never one of the five names above).
    Other(String),
}

impl ResourceType {
    /// The wire name (`WORKSPACE`, `SOURCE`, ..., or the verbatim [`ResourceType::Other`] name).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Workspace => "WORKSPACE",
            Self::Source => "SOURCE",
            Self::Warehouse => "WAREHOUSE",
            Self::Function => "FUNCTION",
            Self::Space => "SPACE",
            Self::Other(name) => name,
        }
    }

    /// Parses one of the five known wire names; `None` for anything else (use
    /// [`ResourceType::from`] to keep an unknown name as [`ResourceType::Other`]).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "WORKSPACE" => Self::Workspace,
            "SOURCE" => Self::Source,
            "WAREHOUSE" => Self::Warehouse,
            "FUNCTION" => Self::Function,
            "SPACE" => Self::Space,
            _ => return None,
        })
    }

    /// Whether this is one of the five documented kinds (not [`ResourceType::Other`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// Rejects an [`ResourceType::Other`] name that is empty or a known name in another case
    /// (`source`): mock choices that catch client bugs instead of storing them as a new type.
    pub(crate) fn check_unknown_name(&self) -> Result<(), String> {
        match self {
            Self::Other(name) if name.is_empty() => Err("\"type\" must not be empty".to_owned()),
            Self::Other(name) => match Self::parse(&name.to_ascii_uppercase()) {
                Some(known) => Err(format!("\"type\" {name:?} must be written {known}")),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

impl From<&str> for ResourceType {
    /// A known kind, else [`ResourceType::Other`] with the name verbatim.
    fn from(s: &str) -> Self {
        Self::parse(s).unwrap_or_else(|| Self::Other(s.to_owned()))
    }
}

impl From<String> for ResourceType {
    /// A known kind, else [`ResourceType::Other`] with the name verbatim.
    fn from(s: String) -> Self {
        Self::parse(&s).unwrap_or(Self::Other(s))
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// A label (`LabelV1` / `AllowedLabelBeta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// Key, e.g. `environment`.
    pub key: String,
    /// Value, e.g. `prod`.
    pub value: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Logo URLs of catalog metadata (`LogosBeta`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logos {
    /// Default logo URL.
    #[serde(default)]
    pub default: String,
    /// Logo mark URL.
    #[serde(default)]
    pub mark: Option<String>,
    /// Alt text.
    #[serde(default)]
    pub alt: Option<String>,
}

/// Catalog metadata of a source (`SourceMetadataV1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceMetadata {
    /// Catalog id.
    #[serde(default)]
    pub id: String,
    /// Catalog name, e.g. `Javascript`.
    #[serde(default)]
    pub name: String,
    /// Catalog slug, e.g. `javascript`.
    #[serde(default)]
    pub slug: String,
    /// Catalog description.
    #[serde(default)]
    pub description: String,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Whether this is a cloud event source.
    #[serde(default)]
    pub is_cloud_event_source: bool,
    /// Logos.
    #[serde(default)]
    pub logos: Logos,
}

/// A source (`SourceV1`); `workspaceId` is filled in by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Opaque id.
    pub id: String,
    /// Slug (display fallback).
    pub slug: String,
    /// Name; often empty on the live API.
    #[serde(default)]
    pub name: String,
    /// Whether the source is enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Labels applied to the source.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Catalog metadata.
    #[serde(default)]
    pub metadata: SourceMetadata,
    /// Write keys (secrets on the live API; fake here).
    #[serde(default)]
    pub write_keys: Vec<String>,
    /// Free-form settings.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// Catalog metadata of a warehouse (`WarehouseMetadataV1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseMetadata {
    /// Catalog id.
    #[serde(default)]
    pub id: String,
    /// Catalog name, e.g. `Snowflake`.
    #[serde(default)]
    pub name: String,
    /// Catalog slug, e.g. `snowflake`.
    #[serde(default)]
    pub slug: String,
    /// Catalog description.
    #[serde(default)]
    pub description: String,
    /// Logos.
    #[serde(default)]
    pub logos: Logos,
}

/// A warehouse (`WarehouseV1`; it has no `name`, only `settings.name` by convention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warehouse {
    /// Opaque id.
    pub id: String,
    /// Whether the warehouse is enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Free-form settings; `name` is the display name when present.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Catalog metadata.
    #[serde(default)]
    pub metadata: WarehouseMetadata,
}

/// `ListFunctionItemV1.resourceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FunctionKind {
    /// Destination function.
    Destination,
    /// Destination insert function.
    InsertDestination,
    /// Source insert function.
    InsertSource,
    /// Insert transformation.
    InsertTransformation,
    /// Source function.
    Source,
}

impl FunctionKind {
    /// The five kinds, in wire-name order.
    pub const ALL: [Self; 5] = [
        Self::Destination,
        Self::InsertDestination,
        Self::InsertSource,
        Self::InsertTransformation,
        Self::Source,
    ];

    /// The wire name (`DESTINATION`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Destination => "DESTINATION",
            Self::InsertDestination => "INSERT_DESTINATION",
            Self::InsertSource => "INSERT_SOURCE",
            Self::InsertTransformation => "INSERT_TRANSFORMATION",
            Self::Source => "SOURCE",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A function (`ListFunctionItemV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// Opaque id (`sfnc_` + 22 base62 characters in generated data).
    pub id: String,
    /// Kind.
    pub resource_type: FunctionKind,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// Id of the creating user.
    #[serde(default)]
    pub created_by: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Catalog id.
    #[serde(default)]
    pub catalog_id: String,
}

/// An Engage/Unify space (`Space`, alpha).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    /// Opaque id (`spa_` + 22 base62 characters in generated data).
    pub id: String,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
}

fn yes() -> bool {
    true
}

impl Workspace {
    /// An empty workspace with the given id, name and slug.
    pub fn new(id: impl Into<String>, name: impl Into<String>, slug: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            slug: slug.into(),
            roles: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            invites: Vec::new(),
            sources: Vec::new(),
            warehouses: Vec::new(),
            functions: Vec::new(),
            spaces: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Parses a fixture from JSON text and checks its consistency ([`Workspace::validate`]).
    pub fn from_json_str(json: &str) -> Result<Self, MockError> {
        let ws: Self = serde_json::from_str(json)?;
        ws.validate()?;
        Ok(ws)
    }

    /// Reads a fixture file (see [`Workspace::from_json_str`]).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, MockError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| MockError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// Writes the fixture (pretty JSON) to a file.
    pub fn to_json_file(&self, path: impl AsRef<Path>) -> Result<(), MockError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json_string()).map_err(|source| MockError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The fixture as pretty-printed JSON (the same format [`Workspace::from_json_str`] reads).
    pub fn to_json_string(&self) -> String {
        // Serialising these plain structs (string keys only) cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks internal consistency: unique ids and emails, members that are users, group invitees
    /// that are workspace invites, permissions whose role exists, and permission resources of an
    /// unknown type ([`ResourceType::Other`]) with a non-empty id and a name that is neither empty
    /// nor a known name in another case. (Resource ids are not checked against the listings.)
    pub fn validate(&self) -> Result<(), MockError> {
        let bad = |msg: String| Err(MockError::InvalidWorkspace(msg));
        let mut role_ids = HashSet::new();
        for role in &self.roles {
            if !role_ids.insert(role.id.as_str()) {
                return bad(format!("duplicate role id {:?}", role.id));
            }
        }
        let mut user_ids = HashSet::new();
        let mut emails = HashSet::new();
        for user in &self.users {
            if !user_ids.insert(user.id.as_str()) {
                return bad(format!("duplicate user id {:?}", user.id));
            }
            if !emails.insert(user.email.to_ascii_lowercase()) {
                return bad(format!("duplicate user email {:?}", user.email));
            }
        }
        let mut invite_emails = HashSet::new();
        for invite in &self.invites {
            let e = invite.email.to_ascii_lowercase();
            if emails.contains(&e) {
                return bad(format!("invite {:?} is already a user", invite.email));
            }
            if !invite_emails.insert(e) {
                return bad(format!("duplicate invite {:?}", invite.email));
            }
        }
        let mut group_ids = HashSet::new();
        for group in &self.groups {
            if !group_ids.insert(group.id.as_str()) {
                return bad(format!("duplicate group id {:?}", group.id));
            }
            for m in &group.members {
                if !emails.contains(&m.to_ascii_lowercase()) {
                    return bad(format!("group {:?}: member {m:?} is not a user", group.id));
                }
            }
            for i in &group.invites {
                if !invite_emails.contains(&i.to_ascii_lowercase()) {
                    return bad(format!(
                        "group {:?}: invitee {i:?} is not an invite",
                        group.id
                    ));
                }
            }
        }
        let all_perms = self
            .users
            .iter()
            .flat_map(|u| &u.permissions)
            .chain(self.groups.iter().flat_map(|g| &g.permissions))
            .chain(self.invites.iter().flat_map(|i| &i.permissions));
        for p in all_perms {
            if !role_ids.contains(p.role_id.as_str()) {
                return bad(format!("permission uses unknown role id {:?}", p.role_id));
            }
            for r in &p.resources {
                if let Err(msg) = r.kind.check_unknown_name() {
                    return bad(format!("permission with role {:?}: {msg}", p.role_id));
                }
                if !r.kind.is_known() && r.id.is_empty() {
                    return bad(format!(
                        "permission with role {:?}: a {} resource needs a non-empty id",
                        p.role_id, r.kind
                    ));
                }
            }
        }
        let mut seen = HashSet::new();
        for (kind, id) in self
            .sources
            .iter()
            .map(|s| ("source", &s.id))
            .chain(self.warehouses.iter().map(|w| ("warehouse", &w.id)))
            .chain(self.functions.iter().map(|f| ("function", &f.id)))
            .chain(self.spaces.iter().map(|s| ("space", &s.id)))
        {
            if !seen.insert((kind, id.as_str())) {
                return bad(format!("duplicate {kind} id {id:?}"));
            }
        }
        Ok(())
    }

    /// Name of a role, if it exists.
    pub fn role_name(&self, role_id: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| r.id == role_id)
            .map(|r| r.name.as_str())
    }

    /// A user by email (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }
}
