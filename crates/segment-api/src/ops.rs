//! The Segment operations, one method per `operationId` (snake_case).
//!
//! Every list operation has a `*_page` method (one request) and a stream method that
//! follows cursors. Streams own a clone of the client and their arguments, so they borrow
//! nothing. A stream whose pagination cannot end (a `next` cursor already sent, or 3
//! consecutive empty pages that still carry a `next`) ends with an [`Error::Decode`].

use futures::stream::{self, Stream, StreamExt};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::Call;
use crate::encode::{Query, path_segment};
use crate::pagination::paginate;
use crate::write_request::WriteRequest;
use crate::{
    Client, Error, Function, FunctionKind, InviteInput, Label, MinimalUser, MinimalUserGroup, Page,
    Permission, PermissionInput, Role, Source, Space, User, UserGroup, Warehouse, Workspace,
    envelope,
};

fn user_path(operation: &'static str, user_id: &str, tail: &str) -> Result<String, Error> {
    Ok(format!(
        "/users/{}{tail}",
        path_segment(operation, "userId", user_id)?
    ))
}

fn group_path(
    operation: &'static str,
    prefix: &str,
    group_id: &str,
    tail: &str,
) -> Result<String, Error> {
    Ok(format!(
        "/{prefix}/{}{tail}",
        path_segment(operation, "userGroupId", group_id)?
    ))
}

impl Client {
    async fn get_object<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: Result<String, Error>,
        key: &'static str,
    ) -> Result<T, Error> {
        let body = self
            .execute(Call::new(operation, Method::GET, path?))
            .await?;
        envelope::object(operation, &body, key)
    }

    pub(crate) async fn write_object<T: DeserializeOwned, B: Serialize>(
        &self,
        operation: &'static str,
        method: Method,
        path: Result<String, Error>,
        body: &B,
        key: &'static str,
    ) -> Result<T, Error> {
        let call = Call::new(operation, method, path?).json(body)?;
        let body = self.execute(call).await?;
        envelope::object(operation, &body, key)
    }

    pub(crate) async fn delete_with(
        &self,
        operation: &'static str,
        path: Result<String, Error>,
        query: Query,
    ) -> Result<(), Error> {
        let mut call = Call::new(operation, Method::DELETE, path?);
        call.query = query;
        let body = self.execute(call).await?;
        envelope::ack(operation, &body)
    }

    async fn list_page<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: Result<String, Error>,
        resource_type: Option<&str>,
        cursor: Option<&str>,
        key: &'static str,
    ) -> Result<Page<T>, Error> {
        let mut call = Call::new(operation, Method::GET, path?);
        if let Some(resource_type) = resource_type {
            call.query.push("resourceType", resource_type);
        }
        call.query.pagination(self.inner.page_size, cursor);
        let body = self.execute(call).await?;
        envelope::list(operation, &body, key)
    }

    fn list_stream<T>(
        &self,
        operation: &'static str,
        path: Result<String, Error>,
        resource_type: Option<String>,
        key: &'static str,
    ) -> impl Stream<Item = Result<T, Error>> + Send + use<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        match path {
            Err(error) => stream::once(async move { Err(error) }).left_stream(),
            Ok(path) => {
                let client = self.clone();
                paginate(operation, move |cursor: Option<String>| {
                    let client = client.clone();
                    let path = path.clone();
                    let resource_type = resource_type.clone();
                    async move {
                        client
                            .list_page(
                                operation,
                                Ok(path),
                                resource_type.as_deref(),
                                cursor.as_deref(),
                                key,
                            )
                            .await
                    }
                })
                .right_stream()
            }
        }
    }

    // ---- Workspace -------------------------------------------------------------------

    /// `getWorkspace`: `GET /`. The cheapest credential probe.
    pub async fn get_workspace(&self) -> Result<Workspace, Error> {
        self.get_object("getWorkspace", Ok("/".to_owned()), "workspace")
            .await
    }

    // ---- Users -----------------------------------------------------------------------

    /// `listUsers`: one page of `GET /users` (items carry no permissions).
    pub async fn list_users_page(&self, cursor: Option<&str>) -> Result<Page<User>, Error> {
        self.list_page("listUsers", Ok("/users".to_owned()), None, cursor, "users")
            .await
    }

    /// `listUsers`: every user, following cursors.
    pub fn list_users(&self) -> impl Stream<Item = Result<User, Error>> + Send + use<> {
        self.list_stream("listUsers", Ok("/users".to_owned()), None, "users")
    }

    /// `getUser`: `GET /users/{userId}`, including the user's direct permissions.
    pub async fn get_user(&self, user_id: &str) -> Result<User, Error> {
        const OP: &str = "getUser";
        self.get_object(OP, user_path(OP, user_id, ""), "user")
            .await
    }

    /// `deleteUsers`: `DELETE /users?userIds.0=..` (removes them from the workspace).
    pub async fn delete_users(&self, user_ids: &[&str]) -> Result<(), Error> {
        self.send_delete(WriteRequest::delete_users(user_ids)?)
            .await
    }

    /// `addPermissionsToUser`: `POST /users/{userId}/permissions`; returns the user's
    /// resulting permissions.
    pub async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<Permission>, Error> {
        self.send_permissions(WriteRequest::add_user_permissions(user_id, permissions)?)
            .await
    }

    /// `replacePermissionsForUser`: `PUT /users/{userId}/permissions` (overwrites the whole
    /// set; an empty slice is sent as is).
    pub async fn replace_user_permissions(
        &self,
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<Permission>, Error> {
        self.send_permissions(WriteRequest::replace_user_permissions(
            user_id,
            permissions,
        )?)
        .await
    }

    /// `listUserGroupsFromUser`: one page of `GET /users/{userId}/groups`.
    pub async fn list_user_groups_from_user_page(
        &self,
        user_id: &str,
        cursor: Option<&str>,
    ) -> Result<Page<MinimalUserGroup>, Error> {
        const OP: &str = "listUserGroupsFromUser";
        self.list_page(
            OP,
            user_path(OP, user_id, "/groups"),
            None,
            cursor,
            "groups",
        )
        .await
    }

    /// `listUserGroupsFromUser`: every group of a user, following cursors.
    pub fn list_user_groups_from_user(
        &self,
        user_id: &str,
    ) -> impl Stream<Item = Result<MinimalUserGroup, Error>> + Send + use<> {
        const OP: &str = "listUserGroupsFromUser";
        self.list_stream(OP, user_path(OP, user_id, "/groups"), None, "groups")
    }

    // ---- Groups ----------------------------------------------------------------------

    /// `listUserGroups`: one page of `GET /groups`.
    pub async fn list_user_groups_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<Page<UserGroup>, Error> {
        self.list_page(
            "listUserGroups",
            Ok("/groups".to_owned()),
            None,
            cursor,
            "userGroups",
        )
        .await
    }

    /// `listUserGroups`: every group, following cursors.
    pub fn list_user_groups(&self) -> impl Stream<Item = Result<UserGroup, Error>> + Send + use<> {
        self.list_stream(
            "listUserGroups",
            Ok("/groups".to_owned()),
            None,
            "userGroups",
        )
    }

    /// `getUserGroup`: `GET /groups/{userGroupId}`, including its permissions.
    pub async fn get_user_group(&self, user_group_id: &str) -> Result<UserGroup, Error> {
        const OP: &str = "getUserGroup";
        self.get_object(OP, group_path(OP, "groups", user_group_id, ""), "userGroup")
            .await
    }

    /// `listUsersFromUserGroup`: one page of `GET /groups/{userGroupId}/users` (accepted
    /// members only; pending invitees are in [`list_invites_from_user_group`](Self::list_invites_from_user_group)).
    pub async fn list_users_from_user_group_page(
        &self,
        user_group_id: &str,
        cursor: Option<&str>,
    ) -> Result<Page<MinimalUser>, Error> {
        const OP: &str = "listUsersFromUserGroup";
        self.list_page(
            OP,
            group_path(OP, "groups", user_group_id, "/users"),
            None,
            cursor,
            "users",
        )
        .await
    }

    /// `listUsersFromUserGroup`: every member, following cursors.
    pub fn list_users_from_user_group(
        &self,
        user_group_id: &str,
    ) -> impl Stream<Item = Result<MinimalUser, Error>> + Send + use<> {
        const OP: &str = "listUsersFromUserGroup";
        self.list_stream(
            OP,
            group_path(OP, "groups", user_group_id, "/users"),
            None,
            "users",
        )
    }

    /// `addUsersToUserGroup`: `POST /groups/{userGroupId}/users` with `{"emails":[..]}`
    /// (users or invitees). Returns the group without permissions.
    pub async fn add_users_to_user_group(
        &self,
        user_group_id: &str,
        emails: &[&str],
    ) -> Result<UserGroup, Error> {
        self.send_user_group(WriteRequest::add_users_to_user_group(
            user_group_id,
            emails,
        )?)
        .await
    }

    /// `removeUsersFromUserGroup`: `DELETE /group/{userGroupId}/users?emails.0=..` (note the
    /// singular `group`). Removes users or invitees by email.
    pub async fn remove_users_from_user_group(
        &self,
        user_group_id: &str,
        emails: &[&str],
    ) -> Result<(), Error> {
        self.send_delete(WriteRequest::remove_users_from_user_group(
            user_group_id,
            emails,
        )?)
        .await
    }

    /// `addPermissionsToUserGroup`: `POST /groups/{userGroupId}/permissions`.
    pub async fn add_permissions_to_user_group(
        &self,
        user_group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<Permission>, Error> {
        self.send_permissions(WriteRequest::add_permissions_to_user_group(
            user_group_id,
            permissions,
        )?)
        .await
    }

    /// `replacePermissionsForUserGroup`: `PUT /groups/{userGroupId}/permissions`.
    pub async fn replace_permissions_for_user_group(
        &self,
        user_group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<Permission>, Error> {
        self.send_permissions(WriteRequest::replace_permissions_for_user_group(
            user_group_id,
            permissions,
        )?)
        .await
    }

    /// `listInvitesFromUserGroup`: one page of `GET /groups/{userGroupId}/invites` (emails).
    pub async fn list_invites_from_user_group_page(
        &self,
        user_group_id: &str,
        cursor: Option<&str>,
    ) -> Result<Page<String>, Error> {
        const OP: &str = "listInvitesFromUserGroup";
        self.list_page(
            OP,
            group_path(OP, "groups", user_group_id, "/invites"),
            None,
            cursor,
            "emails",
        )
        .await
    }

    /// `listInvitesFromUserGroup`: every pending invitee email of a group.
    pub fn list_invites_from_user_group(
        &self,
        user_group_id: &str,
    ) -> impl Stream<Item = Result<String, Error>> + Send + use<> {
        const OP: &str = "listInvitesFromUserGroup";
        self.list_stream(
            OP,
            group_path(OP, "groups", user_group_id, "/invites"),
            None,
            "emails",
        )
    }

    // ---- Roles and invites -----------------------------------------------------------

    /// `listRoles`: one page of `GET /roles`.
    pub async fn list_roles_page(&self, cursor: Option<&str>) -> Result<Page<Role>, Error> {
        self.list_page("listRoles", Ok("/roles".to_owned()), None, cursor, "roles")
            .await
    }

    /// `listRoles`: every role.
    pub fn list_roles(&self) -> impl Stream<Item = Result<Role, Error>> + Send + use<> {
        self.list_stream("listRoles", Ok("/roles".to_owned()), None, "roles")
    }

    /// `listInvites`: one page of `GET /invites` (bare emails).
    pub async fn list_invites_page(&self, cursor: Option<&str>) -> Result<Page<String>, Error> {
        self.list_page(
            "listInvites",
            Ok("/invites".to_owned()),
            None,
            cursor,
            "invites",
        )
        .await
    }

    /// `listInvites`: every pending invite email.
    pub fn list_invites(&self) -> impl Stream<Item = Result<String, Error>> + Send + use<> {
        self.list_stream("listInvites", Ok("/invites".to_owned()), None, "invites")
    }

    /// `createInvites`: `POST /invites` (HTTP 201); returns the invited emails. An email
    /// already invited or already a member gives [`Error::AlreadyExists`].
    pub async fn create_invites(&self, invites: &[InviteInput]) -> Result<Vec<String>, Error> {
        self.send_emails(WriteRequest::create_invites(invites)?)
            .await
    }

    /// `deleteInvites`: `DELETE /invites?emails.0=..`.
    pub async fn delete_invites(&self, emails: &[&str]) -> Result<(), Error> {
        self.send_delete(WriteRequest::delete_invites(emails)?)
            .await
    }

    // ---- Resources -------------------------------------------------------------------

    /// `listSources`: one page of `GET /sources` (secrets dropped).
    pub async fn list_sources_page(&self, cursor: Option<&str>) -> Result<Page<Source>, Error> {
        self.list_page(
            "listSources",
            Ok("/sources".to_owned()),
            None,
            cursor,
            "sources",
        )
        .await
    }

    /// `listSources`: every source.
    pub fn list_sources(&self) -> impl Stream<Item = Result<Source, Error>> + Send + use<> {
        self.list_stream("listSources", Ok("/sources".to_owned()), None, "sources")
    }

    /// `listWarehouses`: one page of `GET /warehouses` (settings dropped but `settings.name`).
    pub async fn list_warehouses_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<Page<Warehouse>, Error> {
        self.list_page(
            "listWarehouses",
            Ok("/warehouses".to_owned()),
            None,
            cursor,
            "warehouses",
        )
        .await
    }

    /// `listWarehouses`: every warehouse.
    pub fn list_warehouses(&self) -> impl Stream<Item = Result<Warehouse, Error>> + Send + use<> {
        self.list_stream(
            "listWarehouses",
            Ok("/warehouses".to_owned()),
            None,
            "warehouses",
        )
    }

    /// `listFunctions`: one page of `GET /functions?resourceType=<kind>`.
    pub async fn list_functions_page(
        &self,
        kind: FunctionKind,
        cursor: Option<&str>,
    ) -> Result<Page<Function>, Error> {
        self.list_page(
            "listFunctions",
            Ok("/functions".to_owned()),
            Some(kind.as_str()),
            cursor,
            "functions",
        )
        .await
    }

    /// `listFunctions`: every function of one kind (call once per [`FunctionKind::ALL`]).
    pub fn list_functions(
        &self,
        kind: FunctionKind,
    ) -> impl Stream<Item = Result<Function, Error>> + Send + use<> {
        self.list_stream(
            "listFunctions",
            Ok("/functions".to_owned()),
            Some(kind.as_str().to_owned()),
            "functions",
        )
    }

    /// `listSpaces` (alpha): one page of `GET /spaces`.
    pub async fn list_spaces_page(&self, cursor: Option<&str>) -> Result<Page<Space>, Error> {
        self.list_page(
            "listSpaces",
            Ok("/spaces".to_owned()),
            None,
            cursor,
            "spaces",
        )
        .await
    }

    /// `listSpaces` (alpha): every space.
    pub fn list_spaces(&self) -> impl Stream<Item = Result<Space, Error>> + Send + use<> {
        self.list_stream("listSpaces", Ok("/spaces".to_owned()), None, "spaces")
    }

    /// `listLabels`: `GET /labels` (not paginated).
    pub async fn list_labels(&self) -> Result<Vec<Label>, Error> {
        self.get_object("listLabels", Ok("/labels".to_owned()), "labels")
            .await
    }
}
