//! The identifier scheme shared by the sync engine and the provisioning engine
//! (mapping-spec.md): resource type ids, role slugs, label sets and the typed form of every
//! entitlement id this connector emits.
//!
//! | Entitlement | Id |
//! |---|---|
//! | [`SegmentEntitlement::WorkspaceMember`] | `workspace:<wsId>:member` |
//! | [`SegmentEntitlement::GroupMember`] | `group:<groupId>:member` |
//! | [`SegmentEntitlement::RoleMember`] | `role:<roleId>:member[@<labels>]` |
//! | [`SegmentEntitlement::Scoped`] | `<source\|warehouse\|function\|space>:<id>:<role slug>[@<labels>]` |
//!
//! `<labels>` is a [`LabelSet`] in its canonical encoding. [`SegmentEntitlement::parse`] and
//! [`SegmentEntitlement::entitlement_id`] are exact inverses: parsing accepts only the
//! canonical form, so one permission entry has exactly one id.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use baton_model::ids::{EntitlementId, IdError, ResourceRef, ResourceTypeId};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use segment_api::{Label, Permission, PermissionResource, ResourceKind, Role};

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

/// Separator between a slug and its label set inside an entitlement slug.
const LABEL_SEPARATOR: char = '@';

/// Errors of the identifier scheme. Messages quote ids (never secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemeError {
    /// The string is not a Baton id at all (wrong number of parts, empty part, `:`).
    #[error(transparent)]
    Id(#[from] IdError),
    /// The entitlement's resource type is not one this connector emits entitlements on.
    #[error(
        "{id:?} is not a Segment entitlement: resource type {resource_type:?} has no entitlements"
    )]
    UnknownResourceType {
        /// The whole id.
        id: String,
        /// Its resource type.
        resource_type: String,
    },
    /// The slug is not one this connector emits for that resource type.
    #[error("{id:?} is not a Segment entitlement: {reason}")]
    InvalidSlug {
        /// The whole id.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A label set is not in canonical encoding.
    #[error("invalid label set {encoded:?}: {reason}")]
    InvalidLabels {
        /// The encoded label set.
        encoded: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The principal type is not `user`, `group` or `invite`.
    #[error("unknown principal type {0:?} (expected user, group or invite)")]
    UnknownPrincipalType(String),
    /// The resource type is not `source`, `warehouse`, `function` or `space`.
    #[error("unknown scope type {0:?} (expected source, warehouse, function or space)")]
    UnknownScopeType(String),
    /// No role has this slug (fail closed: nothing is granted or revoked).
    #[error("no Segment role has the slug {slug:?}; the role may have been renamed or deleted")]
    UnknownRoleSlug {
        /// The slug looked up.
        slug: String,
    },
    /// Several roles have this slug; none is picked.
    #[error("{} Segment roles have the slug {slug:?}: {}", candidates.len(), describe_roles(candidates))]
    AmbiguousRoleSlug {
        /// The slug looked up.
        slug: String,
        /// `(role id, role name)` of every candidate, in the API's order.
        candidates: Vec<(String, String)>,
    },
}

fn describe_roles(candidates: &[(String, String)]) -> String {
    candidates
        .iter()
        .map(|(id, name)| format!("{name:?} ({id})"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- role slugs ------------------------------------------------------------------------------

/// The slug of a role name, as used in scoped entitlement ids.
///
/// Lowercase; space and `-` become `_`; `[a-z0-9_]` and any other Unicode alphanumeric
/// character (lowercased) are kept; everything else is dropped. For ASCII names this is the
/// incumbent's rule ("Source Admin" -> `source_admin`, "Read-only (Engage)" ->
/// `read_only_engage`). An empty result becomes `role-<role_id>` (the `-` cannot occur in a
/// name-derived slug, so the fallback never collides with one).
pub fn role_slug(role_name: &str, role_id: &str) -> String {
    let mut slug = String::with_capacity(role_name.len());
    for c in role_name.chars() {
        if c == ' ' || c == '-' || c == '_' {
            slug.push('_');
        } else if c.is_alphanumeric() {
            // Lowercasing may yield marks (e.g. 'İ' -> "i\u{307}"): keep alphanumerics only.
            slug.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        }
    }
    if slug.is_empty() {
        format!("role-{role_id}")
    } else {
        slug
    }
}

/// Every role whose [`role_slug`] is `slug`, in the given order.
pub fn roles_with_slug<'a>(roles: &'a [Role], slug: &str) -> Vec<&'a Role> {
    roles
        .iter()
        .filter(|r| role_slug(&r.name, &r.id) == slug)
        .collect()
}

/// The one role whose slug is `slug`: none -> [`SchemeError::UnknownRoleSlug`], several ->
/// [`SchemeError::AmbiguousRoleSlug`] naming every candidate. Never a silent first match.
pub fn resolve_role_slug<'a>(roles: &'a [Role], slug: &str) -> Result<&'a Role, SchemeError> {
    let mut found = roles_with_slug(roles, slug);
    match found.len() {
        0 => Err(SchemeError::UnknownRoleSlug {
            slug: slug.to_owned(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(SchemeError::AmbiguousRoleSlug {
            slug: slug.to_owned(),
            candidates: found
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect(),
        }),
    }
}

// ---- label sets ------------------------------------------------------------------------------

/// Characters escaped inside label keys and values: controls, non-ASCII (always escaped by
/// `utf8_percent_encode`) and the separators of the scheme.
const LABEL_ESCAPES: &AsciiSet = &CONTROLS.add(b'%').add(b':').add(b',').add(b'=').add(b'@');

fn escape(part: &str) -> String {
    utf8_percent_encode(part, LABEL_ESCAPES).to_string()
}

/// Decodes one escaped key or value, accepting only the canonical escaping.
fn unescape(part: &str, encoded: &str) -> Result<String, SchemeError> {
    let bad = |reason| SchemeError::InvalidLabels {
        encoded: encoded.to_owned(),
        reason,
    };
    let decoded = percent_decode_str(part)
        .decode_utf8()
        .map_err(|_| bad("an escape sequence does not decode as UTF-8"))?
        .into_owned();
    if escape(&decoded) != part {
        return Err(bad(
            "not in canonical encoding (escape exactly % : , = @, controls and non-ASCII, with uppercase hex)",
        ));
    }
    Ok(decoded)
}

/// A set of `(key, value)` labels, sorted by (key, value) and deduplicated; descriptions are
/// not part of it. Its encoding `k=v,k2=v2` percent-encodes `%`, `:`, `,`, `=`, `@` and every
/// character that is not printable ASCII inside keys and values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSet(BTreeSet<(String, String)>);

impl LabelSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set of the labels' `(key, value)` pairs.
    pub fn from_labels<'a, I>(labels: I) -> Self
    where
        I: IntoIterator<Item = &'a Label>,
    {
        Self(
            labels
                .into_iter()
                .map(|l| (l.key.clone(), l.value.clone()))
                .collect(),
        )
    }

    /// The set of the given `(key, value)` pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The label set of one resource of a permission: the resource's labels united with the
    /// permission-level labels.
    pub fn of_permission_resource(permission: &Permission, resource: &PermissionResource) -> Self {
        let mut set = Self::from_labels(&resource.labels);
        set.0.extend(
            permission
                .labels
                .iter()
                .map(|l| (l.key.clone(), l.value.clone())),
        );
        set
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The labels as API models (without descriptions), in order.
    pub fn to_labels(&self) -> Vec<Label> {
        self.0
            .iter()
            .map(|(k, v)| Label {
                key: k.clone(),
                value: v.clone(),
                description: None,
            })
            .collect()
    }

    /// The canonical encoding (`""` for the empty set).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&escape(k));
            out.push('=');
            out.push_str(&escape(v));
        }
        out
    }

    /// Human-readable `k=v, k2=v2` (unescaped; for display names only).
    pub fn display(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses a canonical encoding; `""` is the empty set. Unsorted, duplicated or
    /// non-canonically escaped input is refused, so `parse` and [`encode`](Self::encode) are
    /// exact inverses.
    pub fn parse(encoded: &str) -> Result<Self, SchemeError> {
        let mut set = BTreeSet::new();
        if encoded.is_empty() {
            return Ok(Self(set));
        }
        let mut last: Option<(String, String)> = None;
        for item in encoded.split(',') {
            let (k, v) = item.split_once('=').ok_or(SchemeError::InvalidLabels {
                encoded: encoded.to_owned(),
                reason: "a label lacks '='",
            })?;
            let pair = (unescape(k, encoded)?, unescape(v, encoded)?);
            if last.as_ref().is_some_and(|prev| prev >= &pair) {
                return Err(SchemeError::InvalidLabels {
                    encoded: encoded.to_owned(),
                    reason: "labels must be sorted by (key, value) without duplicates",
                });
            }
            last = Some(pair.clone());
            set.insert(pair);
        }
        Ok(Self(set))
    }
}

impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for LabelSet {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(s)
    }
}

// ---- scope and principal types ---------------------------------------------------------------

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

// ---- entitlements ----------------------------------------------------------------------------

/// The typed form of every entitlement id this connector emits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentEntitlement {
    /// `workspace:<workspace_id>:member`.
    WorkspaceMember {
        /// The workspace id.
        workspace_id: String,
    },
    /// `group:<group_id>:member`.
    GroupMember {
        /// The group id.
        group_id: String,
    },
    /// `role:<role_id>:member` (workspace-wide role), or `role:<role_id>:member@<labels>` (the
    /// role on the workspace narrowed by labels).
    RoleMember {
        /// The role id.
        role_id: String,
        /// The label set (empty = workspace-wide).
        labels: LabelSet,
    },
    /// `<scope>:<resource_id>:<role_slug>[@<labels>]`: the role (by slug of its name) on one
    /// source, warehouse, function or space.
    Scoped {
        /// The scope resource type.
        scope: ScopeType,
        /// The scope resource id.
        resource_id: String,
        /// [`role_slug`] of the role name.
        role_slug: String,
        /// Labels (normally empty).
        labels: LabelSet,
    },
}

/// `slug` or `slug@<labels>` (labels omitted when empty).
fn slug_with_labels(slug: &str, labels: &LabelSet) -> String {
    if labels.is_empty() {
        slug.to_owned()
    } else {
        format!("{slug}{LABEL_SEPARATOR}{}", labels.encode())
    }
}

impl SegmentEntitlement {
    /// The Baton resource type id of the entitlement's resource.
    pub fn resource_type(&self) -> &'static str {
        match self {
            Self::WorkspaceMember { .. } => WORKSPACE,
            Self::GroupMember { .. } => GROUP,
            Self::RoleMember { .. } => ROLE,
            Self::Scoped { scope, .. } => scope.resource_type_id(),
        }
    }

    /// The id of the entitlement's resource in Segment.
    pub fn resource_id(&self) -> &str {
        match self {
            Self::WorkspaceMember { workspace_id } => workspace_id,
            Self::GroupMember { group_id } => group_id,
            Self::RoleMember { role_id, .. } => role_id,
            Self::Scoped { resource_id, .. } => resource_id,
        }
    }

    /// The label set (empty for memberships).
    pub fn labels(&self) -> Option<&LabelSet> {
        match self {
            Self::RoleMember { labels, .. } | Self::Scoped { labels, .. } => Some(labels),
            _ => None,
        }
    }

    /// The entitlement slug (`member`, `member@<labels>`, `<role slug>[@<labels>]`).
    pub fn slug(&self) -> String {
        match self {
            Self::WorkspaceMember { .. } | Self::GroupMember { .. } => MEMBER_SLUG.to_owned(),
            Self::RoleMember { labels, .. } => slug_with_labels(MEMBER_SLUG, labels),
            Self::Scoped {
                role_slug, labels, ..
            } => slug_with_labels(role_slug, labels),
        }
    }

    /// The entitlement's resource reference (`<type>:<id>`).
    pub fn resource_ref(&self) -> Result<ResourceRef, SchemeError> {
        Ok(ResourceRef::new(
            ResourceTypeId::new(self.resource_type())?,
            self.resource_id(),
        )?)
    }

    /// The Baton entitlement id. Fails only when a part cannot be represented (an empty id or
    /// one containing `:`, or a role slug containing `@`).
    pub fn entitlement_id(&self) -> Result<EntitlementId, SchemeError> {
        if let Self::Scoped { role_slug, .. } = self
            && role_slug.contains(LABEL_SEPARATOR)
        {
            return Err(SchemeError::InvalidSlug {
                id: self.to_string(),
                reason: "a role slug may not contain '@'",
            });
        }
        Ok(EntitlementId::new(self.resource_ref()?, self.slug())?)
    }

    /// The typed form of an entitlement id (canonical form only).
    pub fn parse(id: &EntitlementId) -> Result<Self, SchemeError> {
        let invalid = |reason| SchemeError::InvalidSlug {
            id: id.to_string(),
            reason,
        };
        let resource_id = id.resource_id().to_owned();
        let (slug, labels) = match id.slug().split_once(LABEL_SEPARATOR) {
            None => (id.slug(), LabelSet::new()),
            Some((slug, encoded)) => {
                let labels = LabelSet::parse(encoded)?;
                if labels.is_empty() {
                    return Err(invalid("'@' must be followed by at least one label"));
                }
                (slug, labels)
            }
        };
        match id.resource_type().as_str() {
            WORKSPACE | GROUP => {
                if slug != MEMBER_SLUG || !labels.is_empty() {
                    return Err(invalid("the only entitlement of this type is 'member'"));
                }
                Ok(if id.resource_type().as_str() == WORKSPACE {
                    Self::WorkspaceMember {
                        workspace_id: resource_id,
                    }
                } else {
                    Self::GroupMember {
                        group_id: resource_id,
                    }
                })
            }
            ROLE => {
                if slug != MEMBER_SLUG {
                    return Err(invalid(
                        "the only entitlement of a role is 'member' (optionally '@<labels>')",
                    ));
                }
                Ok(Self::RoleMember {
                    role_id: resource_id,
                    labels,
                })
            }
            other => match ScopeType::from_resource_type_id(other) {
                Some(scope) => {
                    if slug.is_empty() {
                        return Err(invalid("the role slug is empty"));
                    }
                    Ok(Self::Scoped {
                        scope,
                        resource_id,
                        role_slug: slug.to_owned(),
                        labels,
                    })
                }
                None => Err(SchemeError::UnknownResourceType {
                    id: id.to_string(),
                    resource_type: other.to_owned(),
                }),
            },
        }
    }

    /// The permission entry this entitlement stands for, given the id of its role (for
    /// [`Scoped`](Self::Scoped), resolved from the slug by the caller, e.g. with
    /// [`resolve_role_slug`]) and the workspace id. `None` for memberships.
    pub fn permission_key(&self, role_id: &str, workspace_id: &str) -> Option<PermissionKey> {
        match self {
            Self::WorkspaceMember { .. } | Self::GroupMember { .. } => None,
            Self::RoleMember {
                role_id: own,
                labels,
            } => Some(PermissionKey {
                role_id: own.clone(),
                kind: ResourceKind::Workspace,
                resource_id: workspace_id.to_owned(),
                labels: labels.clone(),
            }),
            Self::Scoped {
                scope,
                resource_id,
                labels,
                ..
            } => Some(PermissionKey {
                role_id: role_id.to_owned(),
                kind: scope.to_resource_kind(),
                resource_id: resource_id.clone(),
                labels: labels.clone(),
            }),
        }
    }
}

impl fmt::Display for SegmentEntitlement {
    /// The entitlement id as text (same as `entitlement_id()` when that succeeds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.resource_type(),
            self.resource_id(),
            self.slug()
        )
    }
}

impl FromStr for SegmentEntitlement {
    type Err = SchemeError;

    fn from_str(s: &str) -> Result<Self, SchemeError> {
        Self::parse(&s.parse::<EntitlementId>()?)
    }
}

impl TryFrom<&EntitlementId> for SegmentEntitlement {
    type Error = SchemeError;

    fn try_from(id: &EntitlementId) -> Result<Self, SchemeError> {
        Self::parse(id)
    }
}

// ---- permission entries ----------------------------------------------------------------------

/// One `(role, resource kind, resource id, label set)` entry of a user's or group's
/// permissions: the unit that a grant stands for and that a revoke removes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PermissionKey {
    /// The role id.
    pub role_id: String,
    /// The resource kind (`WORKSPACE`, `SOURCE`, ...).
    pub kind: ResourceKind,
    /// The resource id (the workspace id for `WORKSPACE`).
    pub resource_id: String,
    /// The resource's labels united with the permission-level labels.
    pub labels: LabelSet,
}

impl PermissionKey {
    /// The entry of one resource of a permission.
    pub fn new(permission: &Permission, resource: &PermissionResource) -> Self {
        Self {
            role_id: permission.role_id.clone(),
            kind: resource.kind.clone(),
            resource_id: resource.id.clone(),
            labels: LabelSet::of_permission_resource(permission, resource),
        }
    }

    /// The entries of every resource of a permission.
    pub fn all_of(permission: &Permission) -> impl Iterator<Item = PermissionKey> + '_ {
        permission
            .resources
            .iter()
            .map(move |r| Self::new(permission, r))
    }
}

/// Whether the entry `(perm, perm_resource)` is the one that `ent` stands for, with `role_id`
/// the id of the entitlement's role (resolved from the slug for scoped entitlements; ignored
/// for role memberships, whose id carries it) in the workspace `workspace_id`.
pub fn permission_matches(
    perm_resource: &PermissionResource,
    perm: &Permission,
    ent: &SegmentEntitlement,
    role_id: &str,
    workspace_id: &str,
) -> bool {
    ent.permission_key(role_id, workspace_id)
        .is_some_and(|key| key == PermissionKey::new(perm, perm_resource))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slugs_match_the_incumbent_for_ascii() {
        assert_eq!(role_slug("Source Admin", "x"), "source_admin");
        assert_eq!(role_slug("Workspace Owner", "x"), "workspace_owner");
        assert_eq!(role_slug("Read-only (Engage)", "x"), "read_only_engage");
        assert_eq!(role_slug("Source Read-only", "x"), "source_read_only");
        assert_eq!(role_slug("Ünïcode Rôle", "x"), "ünïcode_rôle");
        assert_eq!(role_slug("()!", "r1"), "role-r1");
        assert_eq!(role_slug("", "r1"), "role-r1");
        assert_eq!(role_slug("a:b@c", "r1"), "abc");
    }

    #[test]
    fn ids_round_trip() {
        for s in [
            "workspace:w1:member",
            "group:g1:member",
            "role:r1:member",
            "role:r1:member@environment=prod",
            "role:r1:member@a=1,a=2,b%3Dx=%40%2C%3A%25",
            "source:s1:source_admin",
            "space:sp:engage_admin@team=data",
            "function:f:role-r9",
        ] {
            let e: SegmentEntitlement = s.parse().unwrap();
            assert_eq!(e.to_string(), s);
            assert_eq!(e.entitlement_id().unwrap().to_string(), s);
        }
        for bad in [
            "workspace:w1:admin",
            "group:g1:member@a=b",
            "role:r1:admin",
            "role:r1:member@",
            "role:r1:member@b=1,a=1",
            "role:r1:member@a=1,a=1",
            "role:r1:member@a=%41",
            "role:r1:member@a=%3d",
            "role:r1:member@a",
            "source:s1:@a=b",
            "destination:d:admin",
            "user:u:member",
        ] {
            assert!(bad.parse::<SegmentEntitlement>().is_err(), "{bad}");
        }
    }

    #[test]
    fn permission_keys() {
        let perm = Permission {
            role_id: "r".into(),
            role_name: "Source Admin".into(),
            resources: vec![PermissionResource {
                id: "ws".into(),
                kind: ResourceKind::Workspace,
                labels: vec![Label {
                    key: "environment".into(),
                    value: "prod".into(),
                    description: Some("d".into()),
                }],
            }],
            labels: vec![],
        };
        let ent: SegmentEntitlement = "role:r:member@environment=prod".parse().unwrap();
        assert!(permission_matches(
            &perm.resources[0],
            &perm,
            &ent,
            "",
            "ws"
        ));
        let plain: SegmentEntitlement = "role:r:member".parse().unwrap();
        assert!(!permission_matches(
            &perm.resources[0],
            &perm,
            &plain,
            "",
            "ws"
        ));
        assert!(!permission_matches(
            &perm.resources[0],
            &perm,
            &ent,
            "",
            "other"
        ));
    }

    #[test]
    fn slug_resolution_fails_closed() {
        let roles = vec![
            Role {
                id: "1".into(),
                name: "Source Admin".into(),
                description: String::new(),
            },
            Role {
                id: "2".into(),
                name: "Source-Admin".into(),
                description: String::new(),
            },
            Role {
                id: "3".into(),
                name: "Engage User".into(),
                description: String::new(),
            },
        ];
        assert_eq!(resolve_role_slug(&roles, "engage_user").unwrap().id, "3");
        assert!(matches!(
            resolve_role_slug(&roles, "source_admin"),
            Err(SchemeError::AmbiguousRoleSlug { .. })
        ));
        assert!(matches!(
            resolve_role_slug(&roles, "nope"),
            Err(SchemeError::UnknownRoleSlug { .. })
        ));
    }

    #[test]
    fn scope_name_rules() {
        assert!(ScopeType::Source.role_name_applies("Source Admin"));
        assert!(ScopeType::Space.role_name_applies("Unify Read-only"));
        assert!(ScopeType::Space.role_name_applies("PERSONAS Admin"));
        assert!(!ScopeType::Warehouse.role_name_applies("Workspace Owner"));
        // Word starts only: "Workspace" is not a space role, "Resource" is not a source role.
        assert!(!ScopeType::Space.role_name_applies("Workspace Owner"));
        assert!(!ScopeType::Space.role_name_applies("Minimal Workspace Access"));
        assert!(!ScopeType::Source.role_name_applies("Resource Manager"));
        assert!(ScopeType::Space.role_name_applies("Spaces Admin"));
        assert!(ScopeType::Source.role_name_applies("Sources (Read-only)"));
    }
}
