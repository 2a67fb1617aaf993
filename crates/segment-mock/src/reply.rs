//! What a handler answers: [`ApiOk`] (status, `data`, media type) or [`ApiError`] (status and
//! Segment's `errors` array), and the messages and answers several handlers share.

use serde_json::{Value, json};

/// Message of the plan-gating error (from segment-api.md §6.3).
pub(crate) const PLAN_MESSAGE: &str =
    "Your plan does not include User Groups. Contact sales to upgrade to business tier.";
/// Message of the duplicate-invite error (from segment-api.md §6.3).
pub(crate) const ALREADY_INVITED_MESSAGE: &str =
    "One or more email address was already invited to join workspace.";

/// An error response: status and the `errors` array.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) errors: Vec<Value>,
}

impl ApiError {
    pub(crate) fn new(status: u16, kind: &str, message: &str) -> Self {
        Self {
            status,
            errors: vec![json!({"type": kind, "message": message})],
        }
    }

    pub(crate) fn validation(message: &str, field: &str) -> Self {
        Self {
            status: 422,
            errors: vec![json!({"type": "input-validation", "message": message, "field": field})],
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "NotFound", "Resource not found")
    }

    pub(crate) fn bad_request(message: &str) -> Self {
        Self::new(400, "bad-request", message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "Unauthorized: missing or invalid token",
        )
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "errors": self.errors })
    }
}

/// A success: status, the `data` payload, and how to serve it.
#[derive(Debug, Clone)]
pub(crate) struct ApiOk {
    pub(crate) status: u16,
    pub(crate) data: Value,
    /// Served as `application/vnd.segment.v1alpha+json`.
    pub(crate) alpha: bool,
    /// A paginated list (its `data.pagination` may be dropped by a fault).
    pub(crate) paginated: bool,
}

impl ApiOk {
    pub(crate) fn ok(data: Value) -> Self {
        Self {
            status: 200,
            data,
            alpha: false,
            paginated: false,
        }
    }

    pub(crate) fn list(data: Value) -> Self {
        Self {
            paginated: true,
            ..Self::ok(data)
        }
    }
}

pub(crate) type ApiResult = Result<ApiOk, ApiError>;

pub(crate) fn success() -> ApiOk {
    ApiOk::ok(json!({"status": "SUCCESS"}))
}

pub(crate) fn feature_off(feature: &str) -> ApiError {
    ApiError::new(
        403,
        "forbidden",
        &format!("The {feature} feature is not enabled for this workspace."),
    )
}
