//! The Segment Public API operations as pure functions over the workspace: [`handle`] runs the
//! handler of a [`Route`]. Routing, request parsing, JSON rendering and the handlers of each
//! resource live in the submodules; what a handler answers is `crate::reply`.

use rand::rngs::StdRng;

use crate::config::{Features, Plan};
use crate::model::Workspace;
use crate::query::Query;
use crate::reply::ApiResult;

mod catalog;
mod groups;
mod invites;
mod parse;
mod permissions;
mod render;
mod route;
mod users;

pub(crate) use route::Route;

/// What a handler may read and change.
pub(crate) struct Ctx<'a> {
    pub(crate) ws: &'a mut Workspace,
    pub(crate) plan: Plan,
    pub(crate) features: Features,
    pub(crate) rng: &'a mut StdRng,
    /// Accept permission resources of an unknown type in request bodies.
    pub(crate) accept_unknown_resource_types: bool,
}

/// Runs one operation.
pub(crate) fn handle(route: &Route, ctx: &mut Ctx<'_>, q: &Query, body: &[u8]) -> ApiResult {
    match route {
        Route::GetWorkspace => catalog::get_workspace(ctx),
        Route::ListUsers => users::list_users(ctx, q),
        Route::GetUser(id) => users::get_user(ctx, id),
        Route::DeleteUsers => users::delete_users(ctx, q),
        Route::AddPermissionsToUser(id) => permissions::user_permissions(ctx, id, body, true),
        Route::ReplacePermissionsForUser(id) => permissions::user_permissions(ctx, id, body, false),
        Route::ListUserGroupsFromUser(id) => users::list_user_groups_from_user(ctx, id, q),
        Route::ListUserGroups => groups::list_user_groups(ctx, q),
        Route::CreateUserGroup => groups::create_user_group(ctx, body),
        Route::GetUserGroup(id) => groups::get_user_group(ctx, id),
        Route::UpdateUserGroup(id) => groups::update_user_group(ctx, id, body),
        Route::DeleteUserGroup(id) => groups::delete_user_group(ctx, id),
        Route::ListUsersFromUserGroup(id) => groups::list_users_from_user_group(ctx, id, q),
        Route::AddUsersToUserGroup(id) => groups::group_members(ctx, id, body, false),
        Route::ReplaceUsersInUserGroup(id) => groups::group_members(ctx, id, body, true),
        Route::RemoveUsersFromUserGroup(id) => groups::remove_users_from_user_group(ctx, id, q),
        Route::ListInvitesFromUserGroup(id) => groups::list_invites_from_user_group(ctx, id, q),
        Route::AddPermissionsToUserGroup(id) => permissions::group_permissions(ctx, id, body, true),
        Route::ReplacePermissionsForUserGroup(id) => {
            permissions::group_permissions(ctx, id, body, false)
        }
        Route::ListRoles => catalog::list_roles(ctx, q),
        Route::ListInvites => invites::list_invites(ctx, q),
        Route::CreateInvites => invites::create_invites(ctx, body),
        Route::DeleteInvites => invites::delete_invites(ctx, q),
        Route::ListSources => catalog::list_sources(ctx, q),
        Route::ListWarehouses => catalog::list_warehouses(ctx, q),
        Route::ListFunctions => catalog::list_functions(ctx, q),
        Route::ListSpaces => catalog::list_spaces(ctx, q),
        Route::ListLabels => catalog::list_labels(ctx),
    }
}
