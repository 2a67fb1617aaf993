//! A `sync_full` task (docs/c1-service-mode.md §8.3): first heartbeat, sync into a private
//! temp directory, upload, heartbeats throughout; the directory is always removed.

use std::sync::Arc;

use c1_proto::baton::task::SyncFullTask;
use tokio_util::sync::CancellationToken;

use crate::connector::{Connector, SyncRequest, TaskFailure};
use crate::heartbeat;
use crate::task::{Done, Outcome, TaskContext};
use crate::upload::upload_file;

/// Runs the sync task; `None` when it must not be finished (first heartbeat failed or said
/// cancelled: the server times the task out).
pub(crate) async fn run<C: Connector>(
    ctx: &Arc<TaskContext<C>>,
    task_id: &str,
    task: SyncFullTask,
    cancel: &CancellationToken,
) -> Option<Outcome> {
    let dir = match tempfile::Builder::new()
        .prefix("baton-sync-")
        .tempdir_in(&ctx.temp_dir)
    {
        Ok(dir) => dir,
        Err(e) => {
            return Some(Err(TaskFailure::new(
                tonic::Code::Internal,
                format!(
                    "cannot create a temp dir in {}: {e}",
                    ctx.temp_dir.display()
                ),
            )));
        }
    };
    let interval = match heartbeat::first(&ctx.client, task_id).await {
        Some(interval) => interval,
        None => return None,
    };
    let path = dir.path().join("sync.c1z");
    let request = SyncRequest {
        resource_type_ids: if task.sync_resource_type_ids.is_empty() {
            ctx.sync_resource_types.clone()
        } else {
            task.sync_resource_type_ids
        },
        skip_entitlements_and_grants: task.skip_entitlements_and_grants,
        skip_grants: task.skip_grants,
        skip_expand_grants: task.skip_expand_grants,
        empty: ctx.skip_full_sync,
    };
    if !task.targeted_sync_resources.is_empty() {
        tracing::warn!(
            task_id,
            "targeted sync is not advertised; running a full sync"
        );
    }
    let work = async {
        ctx.connector
            .sync(request, &path)
            .await
            .map_err(|f| TaskFailure {
                message: format!("sync failed: {}", f.message),
                ..f
            })?;
        upload_file(&ctx.client, &*ctx.clock, task_id, &path)
            .await
            .map_err(|s| {
                TaskFailure::new(
                    s.code(),
                    format!("uploading the c1z failed: {}", s.message()),
                )
            })?;
        Ok(Done::default())
    };
    let stop_beats = CancellationToken::new();
    let beats = heartbeat::keep_alive(&ctx.client, &*ctx.clock, task_id, interval, &stop_beats);
    let mut beats = std::pin::pin!(beats);
    let mut work = std::pin::pin!(work);
    let (outcome, beats_done) = tokio::select! {
        biased;
        outcome = &mut work => (outcome, false),
        reason = &mut beats => {
            let reason = reason.unwrap_or(heartbeat::CANCELLED_BY_SERVER);
            (Err(TaskFailure::cancelled(reason)), true)
        }
        () = cancel.cancelled() => {
            (Err(TaskFailure::cancelled("the connector is shutting down")), false)
        }
    };
    if !beats_done {
        // Lets a heartbeat in flight complete, so it cannot arrive after FinishTask.
        stop_beats.cancel();
        let _ = beats.await;
    }
    if let Err(e) = dir.close() {
        tracing::warn!(task_id, error = %e, "removing the sync temp dir failed");
    }
    Some(outcome)
}
