//! The resource type ids this connector emits, and the two typed subsets of them that the
//! scheme works with: [`ScopeType`] (what a permission can be scoped to) and
//! [`PrincipalType`] (what a grant can go to).

use std::fmt;
use std::str::FromStr;

use segment_api::ResourceKind;

use crate::SchemeError;

/// Resource type id of the one workspace resource.
pub const WORKSPACE: &str = "workspace";
/// Resource type id of workspace users.
pub const USER: &str = "user";
/// Resource type id of user groups.
pub const GROUP: &str = "group";
/// Resource type id of roles.
pub const ROLE: &str = "role";
/// Resource type id of pending invitations (keyed by email).
pub const INVITE: &str = "invite";
/// Resource type id of sources.
pub const SOURCE: &str = "source";
/// Resource type id of warehouses.
pub const WAREHOUSE: &str = "warehouse";
/// Resource type id of functions.
pub const FUNCTION: &str = "function";
/// Resource type id of Engage/Unify spaces.
pub const SPACE: &str = "space";

/// Every resource type id, in the order the incumbent registers its syncers.
pub const ALL_RESOURCE_TYPES: [&str; 9] = [
    WORKSPACE, USER, GROUP, ROLE, INVITE, SOURCE, WAREHOUSE, FUNCTION, SPACE,
];

/// Slug of the membership entitlements (`workspace`, `group`, `role`).
pub const MEMBER_SLUG: &str = "member";

/// A resource type that permissions can be scoped to (besides the workspace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeType {
    /// `source` / `SOURCE`.
    Source,
    /// `warehouse` / `WAREHOUSE`.
    Warehouse,
    /// `function` / `FUNCTION`.
    Function,
    /// `space` / `SPACE`.
    Space,
}

impl ScopeType {
    /// All four, in sync order.
    pub const ALL: [ScopeType; 4] = [
        ScopeType::Source,
        ScopeType::Warehouse,
        ScopeType::Function,
        ScopeType::Space,
    ];

    /// The Baton resource type id (`source`, ...).
    pub fn resource_type_id(self) -> &'static str {
        match self {
            Self::Source => SOURCE,
            Self::Warehouse => WAREHOUSE,
            Self::Function => FUNCTION,
            Self::Space => SPACE,
        }
    }

    /// The scope type of a Baton resource type id.
    pub fn from_resource_type_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.resource_type_id() == id)
    }

    /// The Segment permission resource kind (`SOURCE`, ...).
    pub fn to_resource_kind(self) -> ResourceKind {
        match self {
            Self::Source => ResourceKind::Source,
            Self::Warehouse => ResourceKind::Warehouse,
            Self::Function => ResourceKind::Function,
            Self::Space => ResourceKind::Space,
        }
    }

    /// The scope type of a Segment permission resource kind (`None` for `WORKSPACE` and
    /// unknown kinds).
    pub fn from_resource_kind(kind: &ResourceKind) -> Option<Self> {
        match kind {
            ResourceKind::Source => Some(Self::Source),
            ResourceKind::Warehouse => Some(Self::Warehouse),
            ResourceKind::Function => Some(Self::Function),
            ResourceKind::Space => Some(Self::Space),
            _ => None,
        }
    }

    /// Whether a role of this name gives entitlements on resources of this type by name alone
    /// (case-insensitive, at the start of a word of the name: source <- "source", warehouse <-
    /// "warehouse", function <- "function", space <- "engage" | "unify" | "personas" |
    /// "space"; so "Workspace Owner" is not a space role). The sync adds every
    /// role that the data shows scoped to the type.
    pub fn role_name_applies(self, role_name: &str) -> bool {
        let name = role_name.to_lowercase();
        let needles: &[&str] = match self {
            Self::Source => &["source"],
            Self::Warehouse => &["warehouse"],
            Self::Function => &["function"],
            Self::Space => &["engage", "unify", "personas", "space"],
        };
        // Match at the start of a word, so "Workspace Owner" is not a space role and
        // "Resource ..." is not a source role, while "Sources" and "Spaces" still are.
        name.split(|c: char| !c.is_alphanumeric())
            .any(|word| needles.iter().any(|n| word.starts_with(n)))
    }
}

impl fmt::Display for ScopeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.resource_type_id())
    }
}

impl FromStr for ScopeType {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::from_resource_type_id(s).ok_or_else(|| SchemeError::UnknownScopeType(s.to_owned()))
    }
}

/// The kind of principal a grant goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// A workspace user (`user`).
    User,
    /// A user group (`group`).
    Group,
    /// A pending invitation (`invite`, id = email).
    Invite,
}

impl PrincipalType {
    /// The resource type id (`user`, `group`, `invite`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => USER,
            Self::Group => GROUP,
            Self::Invite => INVITE,
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrincipalType {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        match s {
            USER => Ok(Self::User),
            GROUP => Ok(Self::Group),
            INVITE => Ok(Self::Invite),
            other => Err(SchemeError::UnknownPrincipalType(other.to_owned())),
        }
    }
}
