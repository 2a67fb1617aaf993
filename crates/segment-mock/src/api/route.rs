//! Routing: a method and decoded path segments to the Segment operation ([`Route`]).

use axum::http::Method;

/// A matched operation with its decoded path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    GetWorkspace,
    ListUsers,
    GetUser(String),
    DeleteUsers,
    AddPermissionsToUser(String),
    ReplacePermissionsForUser(String),
    ListUserGroupsFromUser(String),
    ListUserGroups,
    CreateUserGroup,
    GetUserGroup(String),
    UpdateUserGroup(String),
    DeleteUserGroup(String),
    ListUsersFromUserGroup(String),
    AddUsersToUserGroup(String),
    RemoveUsersFromUserGroup(String),
    ReplaceUsersInUserGroup(String),
    ListInvitesFromUserGroup(String),
    AddPermissionsToUserGroup(String),
    ReplacePermissionsForUserGroup(String),
    ListRoles,
    ListInvites,
    CreateInvites,
    DeleteInvites,
    ListSources,
    ListWarehouses,
    ListFunctions,
    ListSpaces,
    ListLabels,
}

impl Route {
    /// Segment's operationId.
    pub(crate) fn operation_id(&self) -> &'static str {
        match self {
            Self::GetWorkspace => "getWorkspace",
            Self::ListUsers => "listUsers",
            Self::GetUser(_) => "getUser",
            Self::DeleteUsers => "deleteUsers",
            Self::AddPermissionsToUser(_) => "addPermissionsToUser",
            Self::ReplacePermissionsForUser(_) => "replacePermissionsForUser",
            Self::ListUserGroupsFromUser(_) => "listUserGroupsFromUser",
            Self::ListUserGroups => "listUserGroups",
            Self::CreateUserGroup => "createUserGroup",
            Self::GetUserGroup(_) => "getUserGroup",
            Self::UpdateUserGroup(_) => "updateUserGroup",
            Self::DeleteUserGroup(_) => "deleteUserGroup",
            Self::ListUsersFromUserGroup(_) => "listUsersFromUserGroup",
            Self::AddUsersToUserGroup(_) => "addUsersToUserGroup",
            Self::RemoveUsersFromUserGroup(_) => "removeUsersFromUserGroup",
            Self::ReplaceUsersInUserGroup(_) => "replaceUsersInUserGroup",
            Self::ListInvitesFromUserGroup(_) => "listInvitesFromUserGroup",
            Self::AddPermissionsToUserGroup(_) => "addPermissionsToUserGroup",
            Self::ReplacePermissionsForUserGroup(_) => "replacePermissionsForUserGroup",
            Self::ListRoles => "listRoles",
            Self::ListInvites => "listInvites",
            Self::CreateInvites => "createInvites",
            Self::DeleteInvites => "deleteInvites",
            Self::ListSources => "listSources",
            Self::ListWarehouses => "listWarehouses",
            Self::ListFunctions => "listFunctions",
            Self::ListSpaces => "listSpaces",
            Self::ListLabels => "listLabels",
        }
    }

    /// Matches a method and decoded path segments.
    pub(crate) fn resolve(
        method: &Method,
        segs: &[String],
        plural_group_delete: bool,
    ) -> Option<Self> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let id = |i: usize| segs[i].clone();
        let m = method.as_str();
        Some(match (m, s.as_slice()) {
            ("GET", []) => Self::GetWorkspace,
            ("GET", ["users"]) => Self::ListUsers,
            ("DELETE", ["users"]) => Self::DeleteUsers,
            ("GET", ["users", _]) => Self::GetUser(id(1)),
            ("POST", ["users", _, "permissions"]) => Self::AddPermissionsToUser(id(1)),
            ("PUT", ["users", _, "permissions"]) => Self::ReplacePermissionsForUser(id(1)),
            ("GET", ["users", _, "groups"]) => Self::ListUserGroupsFromUser(id(1)),
            ("GET", ["groups"]) => Self::ListUserGroups,
            ("POST", ["groups"]) => Self::CreateUserGroup,
            ("GET", ["groups", _]) => Self::GetUserGroup(id(1)),
            ("PATCH", ["groups", _]) => Self::UpdateUserGroup(id(1)),
            ("DELETE", ["groups", _]) => Self::DeleteUserGroup(id(1)),
            ("GET", ["groups", _, "users"]) => Self::ListUsersFromUserGroup(id(1)),
            ("POST", ["groups", _, "users"]) => Self::AddUsersToUserGroup(id(1)),
            ("DELETE", ["groups", _, "users"]) if plural_group_delete => {
                Self::RemoveUsersFromUserGroup(id(1))
            }
            ("DELETE", ["group", _, "users"]) => Self::RemoveUsersFromUserGroup(id(1)),
            ("PUT", ["group", _, "users"]) => Self::ReplaceUsersInUserGroup(id(1)),
            ("GET", ["groups", _, "invites"]) => Self::ListInvitesFromUserGroup(id(1)),
            ("POST", ["groups", _, "permissions"]) => Self::AddPermissionsToUserGroup(id(1)),
            ("PUT", ["groups", _, "permissions"]) => Self::ReplacePermissionsForUserGroup(id(1)),
            ("GET", ["roles"]) => Self::ListRoles,
            ("GET", ["invites"]) => Self::ListInvites,
            ("POST", ["invites"]) => Self::CreateInvites,
            ("DELETE", ["invites"]) => Self::DeleteInvites,
            ("GET", ["sources"]) => Self::ListSources,
            ("GET", ["warehouses"]) => Self::ListWarehouses,
            ("GET", ["functions"]) => Self::ListFunctions,
            ("GET", ["spaces"]) => Self::ListSpaces,
            ("GET", ["labels"]) => Self::ListLabels,
            _ => return None,
        })
    }
}
