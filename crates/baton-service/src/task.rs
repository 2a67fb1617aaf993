//! One task from GetTask, start to FinishTask (docs/c1-service-mode.md §8): dispatch by
//! type, the provisioning gate, malformed payloads, and the FinishTask payloads.

use std::path::PathBuf;
use std::sync::Arc;

use baton_model::pb;
use c1_proto::baton::baton_service_finish_task_request::{Error, FinalState, Success};
use c1_proto::baton::{BatonServiceFinishTaskRequest, Task, task::TaskType};
use prost::Name;
use tokio_util::sync::CancellationToken;

use crate::client::BatonClient;
use crate::clock::Clock;
use crate::connector::{Connector, TaskFailure};

/// What tasks share: the client, the connector and the settings that shape tasks.
#[derive(Debug)]
pub(crate) struct TaskContext<C> {
    pub(crate) client: BatonClient,
    pub(crate) connector: Arc<C>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) provisioning: bool,
    pub(crate) skip_full_sync: bool,
    pub(crate) temp_dir: PathBuf,
    pub(crate) sync_resource_types: Vec<String>,
}

/// A successful outcome: the FinishTask `success` message's contents.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) response: Option<prost_types::Any>,
    pub(crate) annotations: Vec<prost_types::Any>,
}

pub(crate) type Outcome = Result<Done, TaskFailure>;

/// Message of FinishTask for task types this runner does not handle.
pub const UNSUPPORTED_TASK_TYPE: &str = "unsupported task type";
/// Message of FinishTask for provisioning tasks while provisioning is off.
pub const PROVISIONING_DISABLED: &str = "provisioning is not enabled";

/// Runs `task` and finishes it (except `none` and `hello` tasks, and sync tasks whose first
/// heartbeat failed, which get no FinishTask).
pub(crate) async fn handle<C: Connector>(
    ctx: Arc<TaskContext<C>>,
    task: Task,
    cancel: CancellationToken,
) {
    let id = task.id.clone();
    let kind = task_kind(task.task_type.as_ref());
    tracing::info!(task_id = %id, kind, "task started");
    let outcome = match task.task_type {
        Some(TaskType::None(_)) => None,
        Some(TaskType::Hello(_)) => {
            if let Err(status) = ctx.client.hello(&id).await {
                tracing::warn!(task_id = %id, code = ?status.code(), message = status.message(), "hello task failed");
            }
            None
        }
        Some(TaskType::SyncFull(sync)) => crate::sync_task::run(&ctx, &id, sync, &cancel).await,
        Some(TaskType::Grant(t)) => Some(
            provision(&ctx, &cancel, async {
                let (Some(entitlement), Some(principal)) = (t.entitlement, t.principal) else {
                    return Err(malformed(
                        "malformed grant task: entitlement and principal are required",
                    ));
                };
                gate(&ctx)?;
                let response = ctx.connector.grant(principal, entitlement).await?;
                done(&response, response.annotations.clone())
            })
            .await,
        ),
        Some(TaskType::Revoke(t)) => Some(
            provision(&ctx, &cancel, async {
                let Some(grant) = t.grant else {
                    return Err(malformed("malformed revoke task: grant is required"));
                };
                gate(&ctx)?;
                let response = ctx.connector.revoke(grant).await?;
                done(&response, response.annotations.clone())
            })
            .await,
        ),
        Some(TaskType::CreateAccount(t)) => Some(
            provision(&ctx, &cancel, async {
                if t.account_info.is_none() {
                    return Err(malformed(
                        "malformed create account task: account_info is required",
                    ));
                }
                gate(&ctx)?;
                let request = pb::CreateAccountRequest {
                    account_info: t.account_info,
                    credential_options: t.credential_options,
                    encryption_configs: t.encryption_configs,
                    resource_type_id: t.resource_type_id,
                };
                let response = ctx.connector.create_account(request).await?;
                done(&response, response.annotations.clone())
            })
            .await,
        ),
        Some(TaskType::DeleteResource(t)) => Some(
            provision(&ctx, &cancel, async {
                let valid = t
                    .resource_id
                    .as_ref()
                    .is_some_and(|r| !r.resource.is_empty() && !r.resource_type.is_empty());
                if !valid {
                    return Err(malformed(
                        "malformed delete resource task: resource_id is required",
                    ));
                }
                gate(&ctx)?;
                let request = pb::DeleteResourceRequest {
                    resource_id: t.resource_id,
                    parent_resource_id: t.parent_resource_id,
                };
                let response = ctx.connector.delete_resource(request).await?;
                done(&response, response.annotations.clone())
            })
            .await,
        ),
        Some(_) | None => Some(Err(TaskFailure::new(
            tonic::Code::Unknown,
            UNSUPPORTED_TASK_TYPE,
        ))),
    };
    if let Some(outcome) = outcome {
        finish(&ctx.client, &id, kind, outcome).await;
    }
}

/// Answers a task that arrived after the shutdown signal: finished as cancelled (retryable)
/// so the tenant hands it out again; `none` and `hello` tasks need no answer.
pub(crate) async fn refuse_while_stopping<C>(ctx: &TaskContext<C>, task: Task) {
    let kind = task_kind(task.task_type.as_ref());
    if matches!(task.task_type, Some(TaskType::None(_) | TaskType::Hello(_))) {
        return;
    }
    let outcome = Err(TaskFailure::cancelled("the connector is shutting down"));
    finish(&ctx.client, &task.id, kind, outcome).await;
}

/// Runs a provisioning call, cancellable; every failure but cancellation is non-retryable.
async fn provision<C, F>(ctx: &TaskContext<C>, cancel: &CancellationToken, call: F) -> Outcome
where
    F: Future<Output = Outcome>,
{
    let _ = ctx;
    tokio::select! {
        biased;
        outcome = call => outcome.map_err(TaskFailure::non_retryable),
        () = cancel.cancelled() => Err(TaskFailure::cancelled("the connector is shutting down")),
    }
}

/// The provisioning gate (§8.9).
fn gate<C>(ctx: &TaskContext<C>) -> Result<(), TaskFailure> {
    if ctx.provisioning {
        Ok(())
    } else {
        Err(
            TaskFailure::new(tonic::Code::FailedPrecondition, PROVISIONING_DISABLED)
                .non_retryable(),
        )
    }
}

fn malformed(message: &str) -> TaskFailure {
    TaskFailure::new(tonic::Code::InvalidArgument, message).non_retryable()
}

/// A success carrying `response` as `Any` plus its annotations.
fn done<M: Name>(response: &M, annotations: Vec<prost_types::Any>) -> Outcome {
    let any = prost_types::Any::from_msg(response).map_err(|e| {
        TaskFailure::new(tonic::Code::Internal, format!("encoding the response: {e}"))
    })?;
    Ok(Done {
        response: Some(any),
        annotations,
    })
}

/// The FinishTask message for `outcome`.
pub(crate) fn finish_request(
    host_id: &str,
    task_id: &str,
    outcome: Outcome,
) -> BatonServiceFinishTaskRequest {
    let (status, final_state) = match outcome {
        Ok(done) => (
            None,
            FinalState::Success(Success {
                annotations: done.annotations,
                response: done.response,
            }),
        ),
        Err(failure) => (
            Some(c1_proto::rpc::Status {
                code: failure.code as i32,
                message: failure.message,
                details: failure.details,
            }),
            FinalState::Error(Error {
                non_retryable: failure.non_retryable,
                annotations: Vec::new(),
                response: None,
            }),
        ),
    };
    BatonServiceFinishTaskRequest {
        host_id: host_id.to_owned(),
        task_id: task_id.to_owned(),
        status,
        final_state: Some(final_state),
    }
}

/// Sends FinishTask; a failure is logged, not retried (§7.7).
async fn finish(client: &BatonClient, task_id: &str, kind: &str, outcome: Outcome) {
    match &outcome {
        Ok(_) => tracing::info!(task_id, kind, "task succeeded"),
        Err(f) => {
            tracing::warn!(task_id, kind, code = ?f.code, message = %f.message, non_retryable = f.non_retryable, "task failed")
        }
    }
    let request = finish_request(client.host_id(), task_id, outcome);
    if let Err(status) = client.finish(request).await {
        tracing::warn!(task_id, code = ?status.code(), message = status.message(), "FinishTask failed");
    }
}

/// A short name of the task type, for logs.
fn task_kind(t: Option<&TaskType>) -> &'static str {
    match t {
        None => "unset",
        Some(TaskType::None(_)) => "none",
        Some(TaskType::Hello(_)) => "hello",
        Some(TaskType::SyncFull(_)) => "sync_full",
        Some(TaskType::Grant(_)) => "grant",
        Some(TaskType::Revoke(_)) => "revoke",
        Some(TaskType::CreateAccount(_)) => "create_account",
        Some(TaskType::DeleteResource(_)) => "delete_resource",
        Some(_) => "other",
    }
}
