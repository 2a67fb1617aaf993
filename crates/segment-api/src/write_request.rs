//! [`WriteRequest`]: the one description of every write the client sends (operation, method,
//! percent-encoded path and query, JSON body). The client sends exactly this; a dry run
//! prints exactly this, so the two cannot drift.

use std::fmt;

use reqwest::Method;
use serde::Serialize;

use crate::encode::{Query, path_segment};
use crate::{Client, Error, InviteInput, Permission, PermissionInput, UserGroup};

/// One write request, fully encoded but not sent.
///
/// `Display`: `POST /users/abc/permissions {"permissions":[...]}` (compact JSON body;
/// the path carries the percent-encoded query, e.g. `DELETE /invites?emails.0=a%40example.com`).
#[derive(Debug)]
pub struct WriteRequest {
    operation: &'static str,
    method: Method,
    path: String,
    query: Query,
    body: Option<Body>,
}

/// The JSON bodies of the writes, serialized exactly as their fields are declared (the bytes
/// sent keep Segment's field order, e.g. `roleId` before `resources`).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Body {
    Permissions { permissions: Vec<PermissionInput> },
    Emails { emails: Vec<String> },
    Invites { invites: Vec<InviteInput> },
}

fn non_empty<T>(operation: &'static str, what: &str, values: &[T]) -> Result<(), Error> {
    if values.is_empty() {
        return Err(Error::InvalidArgument {
            operation,
            reason: format!("{what} is empty"),
        });
    }
    Ok(())
}

impl WriteRequest {
    fn new(operation: &'static str, method: Method, path: String) -> Self {
        Self {
            operation,
            method,
            path,
            query: Query::default(),
            body: None,
        }
    }

    fn permissions(
        operation: &'static str,
        method: Method,
        prefix: &str,
        what: &str,
        id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Self, Error> {
        let path = format!(
            "/{prefix}/{}/permissions",
            path_segment(operation, what, id)?
        );
        let mut request = Self::new(operation, method, path);
        request.body = Some(Body::Permissions {
            permissions: permissions.to_vec(),
        });
        Ok(request)
    }

    /// `addPermissionsToUser`: `POST /users/{userId}/permissions` (non-empty).
    pub fn add_user_permissions(
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Self, Error> {
        const OP: &str = "addPermissionsToUser";
        non_empty(OP, "permissions", permissions)?;
        Self::permissions(OP, Method::POST, "users", "userId", user_id, permissions)
    }

    /// `replacePermissionsForUser`: `PUT /users/{userId}/permissions` (the whole set; may be
    /// empty).
    pub fn replace_user_permissions(
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Self, Error> {
        const OP: &str = "replacePermissionsForUser";
        Self::permissions(OP, Method::PUT, "users", "userId", user_id, permissions)
    }

    /// `addPermissionsToUserGroup`: `POST /groups/{userGroupId}/permissions` (non-empty).
    pub fn add_permissions_to_user_group(
        user_group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Self, Error> {
        const OP: &str = "addPermissionsToUserGroup";
        non_empty(OP, "permissions", permissions)?;
        Self::permissions(
            OP,
            Method::POST,
            "groups",
            "userGroupId",
            user_group_id,
            permissions,
        )
    }

    /// `replacePermissionsForUserGroup`: `PUT /groups/{userGroupId}/permissions`.
    pub fn replace_permissions_for_user_group(
        user_group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Self, Error> {
        const OP: &str = "replacePermissionsForUserGroup";
        Self::permissions(
            OP,
            Method::PUT,
            "groups",
            "userGroupId",
            user_group_id,
            permissions,
        )
    }

    /// `addUsersToUserGroup`: `POST /groups/{userGroupId}/users` with `{"emails": [...]}`.
    pub fn add_users_to_user_group(user_group_id: &str, emails: &[&str]) -> Result<Self, Error> {
        const OP: &str = "addUsersToUserGroup";
        non_empty(OP, "emails", emails)?;
        if let Some(i) = emails.iter().position(|e| e.is_empty()) {
            return Err(Error::InvalidArgument {
                operation: OP,
                reason: format!("emails[{i}] is empty"),
            });
        }
        let path = format!(
            "/groups/{}/users",
            path_segment(OP, "userGroupId", user_group_id)?
        );
        let mut request = Self::new(OP, Method::POST, path);
        request.body = Some(Body::Emails {
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        });
        Ok(request)
    }

    /// `removeUsersFromUserGroup`: `DELETE /group/{userGroupId}/users?emails.0=..` (note the
    /// singular `group`).
    pub fn remove_users_from_user_group(
        user_group_id: &str,
        emails: &[&str],
    ) -> Result<Self, Error> {
        const OP: &str = "removeUsersFromUserGroup";
        let path = format!(
            "/group/{}/users",
            path_segment(OP, "userGroupId", user_group_id)?
        );
        let mut request = Self::new(OP, Method::DELETE, path);
        request.query.indexed(OP, "emails", emails)?;
        Ok(request)
    }

    /// `createInvites`: `POST /invites` with `{"invites": [...]}` (non-empty).
    pub fn create_invites(invites: &[InviteInput]) -> Result<Self, Error> {
        const OP: &str = "createInvites";
        non_empty(OP, "invites", invites)?;
        let mut request = Self::new(OP, Method::POST, "/invites".to_owned());
        request.body = Some(Body::Invites {
            invites: invites.to_vec(),
        });
        Ok(request)
    }

    /// `deleteInvites`: `DELETE /invites?emails.0=..`.
    pub fn delete_invites(emails: &[&str]) -> Result<Self, Error> {
        const OP: &str = "deleteInvites";
        let mut request = Self::new(OP, Method::DELETE, "/invites".to_owned());
        request.query.indexed(OP, "emails", emails)?;
        Ok(request)
    }

    /// `deleteUsers`: `DELETE /users?userIds.0=..`.
    pub fn delete_users(user_ids: &[&str]) -> Result<Self, Error> {
        const OP: &str = "deleteUsers";
        let mut request = Self::new(OP, Method::DELETE, "/users".to_owned());
        request.query.indexed(OP, "userIds", user_ids)?;
        Ok(request)
    }

    /// The Segment operationId (e.g. `addPermissionsToUser`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The HTTP method (`POST`, `PUT`, `DELETE`).
    pub fn method(&self) -> &'static str {
        if self.method == Method::POST {
            "POST"
        } else if self.method == Method::PUT {
            "PUT"
        } else {
            "DELETE"
        }
    }

    /// The percent-encoded path with its query (`/invites?emails.0=a%40b.co`).
    pub fn path_and_query(&self) -> String {
        match self.query.as_str() {
            "" => self.path.clone(),
            q => format!("{}?{q}", self.path),
        }
    }

    /// The JSON body, when the write has one (as a value: keys in sorted order).
    pub fn body(&self) -> Option<serde_json::Value> {
        self.body
            .as_ref()
            .and_then(|b| serde_json::to_value(b).ok())
    }
}

impl fmt::Display for WriteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path_and_query())?;
        if let Some(body) = self.body() {
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

impl Client {
    /// Sends a write whose answer carries the permissions (`permissions` key).
    pub(crate) async fn send_permissions(
        &self,
        request: WriteRequest,
    ) -> Result<Vec<Permission>, Error> {
        self.send_object(request, "permissions").await
    }

    /// Sends a write whose answer carries the group (`userGroup` key).
    pub(crate) async fn send_user_group(&self, request: WriteRequest) -> Result<UserGroup, Error> {
        self.send_object(request, "userGroup").await
    }

    /// Sends a write whose answer carries email addresses (`emails` key).
    pub(crate) async fn send_emails(&self, request: WriteRequest) -> Result<Vec<String>, Error> {
        self.send_object(request, "emails").await
    }

    async fn send_object<T: serde::de::DeserializeOwned>(
        &self,
        request: WriteRequest,
        key: &'static str,
    ) -> Result<T, Error> {
        self.write_object(
            request.operation,
            request.method,
            Ok(request.path),
            &request.body,
            key,
        )
        .await
    }

    /// Sends a body-less write acknowledged by an empty envelope (the deletes).
    pub(crate) async fn send_delete(&self, request: WriteRequest) -> Result<(), Error> {
        self.delete_with(request.operation, Ok(request.path), request.query)
            .await
    }
}
