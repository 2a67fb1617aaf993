//! The one trait a connector implements to run in service mode, and the values that cross it.

use std::future::Future;
use std::path::Path;

use baton_model::pb;

/// What a sync task asks for (docs/c1-service-mode.md §8.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncRequest {
    /// Restrict the sync to these resource types (empty: all).
    pub resource_type_ids: Vec<String>,
    /// Resources only (sync type `resources_only`).
    pub skip_entitlements_and_grants: bool,
    /// Resources and entitlements, no grants (sync type stays `full`).
    pub skip_grants: bool,
    /// ConductorOne expands grants itself (a connector emitting no expandable grants ignores it).
    pub skip_expand_grants: bool,
    /// `--skip-full-sync`: write an empty full sync (start and end only).
    pub empty: bool,
}

/// How a connector call failed: the gRPC code and message reported in FinishTask, plus
/// whether retrying can never help. Never put a secret in `message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TaskFailure {
    /// The gRPC code reported as `google.rpc.Status.code`.
    pub code: tonic::Code,
    /// The one-line message reported as `google.rpc.Status.message`.
    pub message: String,
    /// Report `non_retryable=true` even where the task type would not (sync tasks).
    pub non_retryable: bool,
    /// Extra `google.rpc.Status.details`.
    pub details: Vec<prost_types::Any>,
}

impl TaskFailure {
    /// A failure with `code` and `message`.
    pub fn new(code: tonic::Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            non_retryable: false,
            details: Vec::new(),
        }
    }

    /// Marks the failure as one retrying cannot fix.
    pub fn non_retryable(mut self) -> Self {
        self.non_retryable = true;
        self
    }

    /// `CANCELLED` (retryable): the task was cancelled or the process is shutting down.
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(tonic::Code::Cancelled, message)
    }

    /// `UNIMPLEMENTED`, non-retryable: this connector cannot do that.
    pub fn unimplemented(what: &str) -> Self {
        Self::new(
            tonic::Code::Unimplemented,
            format!("{what} is not supported by this connector"),
        )
        .non_retryable()
    }
}

/// A connector the runner drives. Every method runs inside a task; the runner adds the
/// provisioning gate, the heartbeats, the upload and the FinishTask.
///
/// Provisioning methods default to `UNIMPLEMENTED` so a sync-only connector implements
/// [`metadata`](Connector::metadata), [`validate`](Connector::validate) and
/// [`sync`](Connector::sync) only.
pub trait Connector: Send + Sync + 'static {
    /// Metadata sent in Hello: display name, capabilities (§10.2 including credential details
    /// when account provisioning is advertised), account-creation schema.
    fn metadata(&self) -> pb::ConnectorMetadata;

    /// Checks that the connector can reach its upstream with its credentials (`/health`).
    fn validate(&self) -> impl Future<Output = Result<(), TaskFailure>> + Send;

    /// Syncs into a new c1z at `output` (which does not exist yet): one finished sync run of
    /// the type `request` implies. Dropping the future cancels the sync; the runner removes
    /// whatever it left behind.
    fn sync(
        &self,
        request: SyncRequest,
        output: &Path,
    ) -> impl Future<Output = Result<(), TaskFailure>> + Send;

    /// Gives `entitlement` to `principal`.
    fn grant(
        &self,
        principal: pb::Resource,
        entitlement: pb::Entitlement,
    ) -> impl Future<Output = Result<pb::GrantManagerServiceGrantResponse, TaskFailure>> + Send
    {
        let _ = (principal, entitlement);
        async { Err(TaskFailure::unimplemented("grant")) }
    }

    /// Takes `grant` away.
    fn revoke(
        &self,
        grant: pb::Grant,
    ) -> impl Future<Output = Result<pb::GrantManagerServiceRevokeResponse, TaskFailure>> + Send
    {
        let _ = grant;
        async { Err(TaskFailure::unimplemented("revoke")) }
    }

    /// Creates an account.
    fn create_account(
        &self,
        request: pb::CreateAccountRequest,
    ) -> impl Future<Output = Result<pb::CreateAccountResponse, TaskFailure>> + Send {
        let _ = request;
        async { Err(TaskFailure::unimplemented("create account")) }
    }

    /// Deletes a resource.
    fn delete_resource(
        &self,
        request: pb::DeleteResourceRequest,
    ) -> impl Future<Output = Result<pb::DeleteResourceResponse, TaskFailure>> + Send {
        let _ = request;
        async { Err(TaskFailure::unimplemented("delete resource")) }
    }
}
