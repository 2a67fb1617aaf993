//! Typed models of the Segment Public API payloads this crate uses.
//!
//! Decoding is forgiving: unknown fields are ignored, `null` is accepted where a list or
//! a display string may be missing, and enum values this crate does not know are kept
//! verbatim in an `Other(String)` variant so that they survive being written back.
//! Secrets are never kept: a source's `writeKeys`/`settings` and a warehouse's `settings`
//! (except `settings.name`) are skipped while parsing.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Declares a Segment `SCREAMING_SNAKE_CASE` enum with an `Other(String)` catch-all that
/// (de)serializes as the bare string and round-trips exactly.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know, kept verbatim so it round-trips.
            Other(String),
        }

        impl $name {
            /// The wire value (e.g. `"WORKSPACE"`).
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match $name::from(value.as_str()) {
                    $name::Other(_) => $name::Other(value),
                    known => known,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

string_enum! {
    /// The kind of resource a permission applies to (`PermissionResourceV1.type`).
    pub enum ResourceKind {
        /// `WORKSPACE`: the whole workspace (optionally narrowed by labels).
        Workspace = "WORKSPACE",
        /// `SOURCE`.
        Source = "SOURCE",
        /// `WAREHOUSE`.
        Warehouse = "WAREHOUSE",
        /// `FUNCTION`.
        Function = "FUNCTION",
        /// `SPACE` (Engage/Unify).
        Space = "SPACE",
    }
}

string_enum! {
    /// A function's kind (`resourceType` of `GET /functions`).
    pub enum FunctionKind {
        /// `DESTINATION`.
        Destination = "DESTINATION",
        /// `INSERT_DESTINATION`.
        InsertDestination = "INSERT_DESTINATION",
        /// `INSERT_SOURCE`.
        InsertSource = "INSERT_SOURCE",
        /// `INSERT_TRANSFORMATION`.
        InsertTransformation = "INSERT_TRANSFORMATION",
        /// `SOURCE`.
        Source = "SOURCE",
    }
}

impl FunctionKind {
    /// The five kinds the API knows today; `listFunctions` takes one per call.
    pub const ALL: [FunctionKind; 5] = [
        FunctionKind::Destination,
        FunctionKind::InsertDestination,
        FunctionKind::InsertSource,
        FunctionKind::InsertTransformation,
        FunctionKind::Source,
    ];
}

/// Deserializes `null` as the type's default (Segment marks some lists optional).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The workspace the token belongs to (`GET /`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Workspace id (also the id of `WORKSPACE` permission resources).
    pub id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// URL slug.
    #[serde(default, deserialize_with = "null_as_default")]
    pub slug: String,
}

/// A workspace user (`UserV1`). `listUsers` leaves `permissions` empty; `getUser` fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id.
    pub id: String,
    /// Display name; often `""` (fall back to the email).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Email address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
    /// Direct permissions (only from `getUser`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: Vec<Permission>,
}

/// A group member as listed by `listUsersFromUserGroup` (`MinimalUserV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MinimalUser {
    /// User id.
    pub id: String,
    /// Display name; often `""`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Email address.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
}

/// A user group (`UserGroupV1`). `permissions` is authoritative only from `getUserGroup`;
/// `addUsersToUserGroup` returns none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserGroup {
    /// Group id.
    pub id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Number of members, when reported.
    #[serde(default)]
    pub member_count: Option<u64>,
    /// The group's permissions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: Vec<Permission>,
}

/// A group as listed by `listUserGroupsFromUser` (`MinimalUserGroupV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MinimalUserGroup {
    /// Group id.
    pub id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

/// A role (`RoleV1`). Ids are opaque KSUID-like strings; resolve names through `listRoles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Role name (e.g. "Workspace Owner").
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Role description.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
}

/// A label (`LabelV1` / `AllowedLabelBeta`), e.g. `environment: prod`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// Label key.
    pub key: String,
    /// Label value.
    pub value: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A permission held by a user or group (`PermissionV1` / `AccessPermissionV1`): one role
/// on one or more resources. Extra output fields (`policyId`, `subjectId`, ...) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Role id.
    pub role_id: String,
    /// Role name (filled in by Segment).
    #[serde(default, deserialize_with = "null_as_default")]
    pub role_name: String,
    /// The resources the role applies to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<PermissionResource>,
    /// Permission-level labels (optional in the API; rarely present).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<Label>,
}

impl Permission {
    /// The input that re-creates this permission unchanged (role, resources with their
    /// kinds, including unknown ones, and labels). Used to write back the permissions a
    /// revoke keeps.
    pub fn to_input(&self) -> PermissionInput {
        PermissionInput {
            role_id: self.role_id.clone(),
            resources: self.resources.clone(),
            labels: self.labels.clone(),
        }
    }
}

/// A resource of a permission (`PermissionResourceV1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionResource {
    /// Id of the workspace, source, warehouse, function or space.
    pub id: String,
    /// Kind of resource (JSON field `type`).
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    /// Labels narrowing a `WORKSPACE` resource.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<Label>,
}

impl PermissionResource {
    /// A resource without labels.
    pub fn new(id: impl Into<String>, kind: ResourceKind) -> Self {
        PermissionResource {
            id: id.into(),
            kind,
            labels: Vec::new(),
        }
    }
}

/// Input of the add/replace permission operations (`PermissionInputV1`).
///
/// `labels` is not in Segment's published `PermissionInputV1`; it is only sent when
/// non-empty, i.e. when it came from a [`Permission`] that had permission-level labels, so
/// that writing such a permission back never silently drops (and so widens) its labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionInput {
    /// Role id.
    pub role_id: String,
    /// Resources to grant the role on.
    pub resources: Vec<PermissionResource>,
    /// Permission-level labels; normally empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

impl PermissionInput {
    /// A permission input without permission-level labels.
    pub fn new(role_id: impl Into<String>, resources: Vec<PermissionResource>) -> Self {
        PermissionInput {
            role_id: role_id.into(),
            resources,
            labels: Vec::new(),
        }
    }
}

/// One invitation of `createInvites` (`InviteV1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteInput {
    /// Email to invite.
    pub email: String,
    /// Permissions the invited user gets on joining.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<InvitePermissionInput>,
}

/// A permission inside an invite (`InvitePermissionV1`). Segment's `ResourceV1` has no
/// labels, so leave [`PermissionResource::labels`] empty here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePermissionInput {
    /// Role id.
    pub role_id: String,
    /// Resources to grant the role on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<PermissionResource>,
    /// Labels selecting resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

impl From<PermissionInput> for InvitePermissionInput {
    fn from(input: PermissionInput) -> Self {
        InvitePermissionInput {
            role_id: input.role_id,
            resources: input.resources,
            labels: input.labels,
        }
    }
}

/// A source (`SourceV1`), without its secrets (`writeKeys`, `settings` are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "SourceWire")]
pub struct Source {
    /// Source id.
    pub id: String,
    /// Slug; use it when `name` is empty.
    pub slug: String,
    /// Display name; often `""`.
    pub name: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Whether the source is enabled.
    pub enabled: bool,
    /// The source's labels (for label-scoped permissions).
    pub labels: Vec<Label>,
    /// `metadata.name`, the catalog type (e.g. "Apple"), when present.
    pub metadata_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceWire {
    id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    slug: String,
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    workspace_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    enabled: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: Vec<Label>,
    #[serde(default)]
    metadata: Option<NameOnly>,
}

#[derive(Deserialize)]
struct NameOnly {
    #[serde(default)]
    name: Option<String>,
}

impl From<SourceWire> for Source {
    fn from(w: SourceWire) -> Self {
        Source {
            id: w.id,
            slug: w.slug,
            name: w.name,
            workspace_id: w.workspace_id,
            enabled: w.enabled,
            labels: w.labels,
            metadata_name: w.metadata.and_then(|m| m.name),
        }
    }
}

/// A warehouse (`WarehouseV1`). Segment gives warehouses no name; `display_name` is
/// `settings.name` when that is a string. All other settings (credentials) are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "WarehouseWire")]
pub struct Warehouse {
    /// Warehouse id.
    pub id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Whether the warehouse is enabled.
    pub enabled: bool,
    /// `settings.name`, when present.
    pub display_name: Option<String>,
    /// Catalog metadata (kind of warehouse).
    pub metadata: Option<WarehouseMetadata>,
}

/// A warehouse's catalog metadata (`WarehouseMetadataV1`, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseMetadata {
    /// Catalog id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Catalog name (e.g. "Postgres").
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Catalog slug (e.g. "postgres").
    #[serde(default, deserialize_with = "null_as_default")]
    pub slug: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WarehouseWire {
    id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    workspace_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    enabled: bool,
    #[serde(default)]
    settings: SettingsName,
    #[serde(default)]
    metadata: Option<WarehouseMetadata>,
}

/// Reads only `name` (when a string) out of a free-form settings value; everything else
/// is skipped without being stored.
#[derive(Default)]
struct SettingsName(Option<String>);

impl<'de> Deserialize<'de> for SettingsName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SettingsName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("warehouse settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SettingsName, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" && name.is_none() {
                        name = map.next_value::<NameValue>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(SettingsName(name))
            }
            fn visit_unit<E: de::Error>(self) -> Result<SettingsName, E> {
                Ok(SettingsName(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<SettingsName, E> {
                Ok(SettingsName(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A settings `name` value: kept when it is a string, ignored otherwise.
struct NameValue(Option<String>);

impl<'de> Deserialize<'de> for NameValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NameValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NameValue, E> {
                Ok(NameValue(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<NameValue, E> {
                Ok(NameValue(Some(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<NameValue, E> {
                Ok(NameValue(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NameValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NameValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NameValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NameValue(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl From<WarehouseWire> for Warehouse {
    fn from(w: WarehouseWire) -> Self {
        Warehouse {
            id: w.id,
            workspace_id: w.workspace_id,
            enabled: w.enabled,
            display_name: w.settings.0,
            metadata: w.metadata,
        }
    }
}

/// A function (`ListFunctionItemV1`). Segment marks every field optional; `id` is `""`
/// when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// Function id (e.g. `sfnc_...`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Function kind.
    #[serde(default)]
    pub resource_type: Option<FunctionKind>,
    /// Creation time (ISO 8601 text, as sent).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Id of the creating user.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Logo URL.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Catalog id.
    #[serde(default)]
    pub catalog_id: Option<String>,
}

/// An Engage/Unify space (`Space`, alpha API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    /// Space id.
    pub id: String,
    /// Slug.
    #[serde(default, deserialize_with = "null_as_default")]
    pub slug: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

#[cfg(test)]
mod tests;
