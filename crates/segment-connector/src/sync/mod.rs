//! The sync engine: lists a Segment workspace with bounded concurrency and streams the
//! mapped Baton objects into a c1z file as they arrive.
//!
//! One task owns all state and drives a set of in-flight requests (at most
//! [`SyncOptions::concurrency`]); listings (and their next pages) go before per-object fetches
//! (`getUser`, `getUserGroup`, member and invitee lists). Objects are sent to the writer
//! thread ([`crate::writer_thread`]) through a bounded channel. The few grants that depend on a listing
//! that has not finished yet (role list, scope listings, users, invites) wait in small
//! buffers; the entitlements of the scoped types are written at the end, once every
//! permission has been read. Every choice that could depend on arrival order is made on
//! sorted data, so the file's logical content does not depend on the concurrency.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use baton_c1z::{SyncType, WriterOptions};
use segment_cache::Session;
use segment_scheme::{ALL_RESOURCE_TYPES, WORKSPACE, mapping};

use crate::error::SyncError;
use crate::request_count::{FetchPlan, min_requests};
use crate::writer_thread::{self, Exit, Obj};

mod finish;
mod grants;
mod options;
mod report;
mod scheduling;
mod state;

pub use options::{DEFAULT_CONCURRENCY, SyncDepth, SyncOptions};
pub use report::{SkippedType, SyncReport};
use state::Engine;

/// SQLite page cache of the c1z writer during a sync, in KiB. The sync waits on the network,
/// not on SQLite, so a small cache costs no time and keeps peak memory flat as the workspace
/// grows (the writer's 32 MiB default filled up from about 10,000 users on).
const WRITER_CACHE_KIB: u32 = 8 * 1024;

/// Syncs the workspace of `session` into the c1z file at `path` (appending a sync run when
/// the file exists; replaced atomically at the end). A failed sync leaves an existing file
/// untouched.
///
/// The first request is `GET /`: a 401 there is [`SyncError::Unauthorized`], a 403
/// [`SyncError::Forbidden`]. Types missing from the plan (groups on Team) or disabled
/// (warehouses, functions, spaces) are skipped with one `tracing` warning each and listed in
/// [`SyncReport::skipped`].
pub async fn sync(
    session: &Session,
    path: &Path,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let result = run(session, path, options).await;
    if let Some(progress) = &options.progress {
        progress.set_done();
    }
    result
}

async fn run(
    session: &Session,
    path: &Path,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    validate(options)?;
    let plan = FetchPlan::new(options.resource_types.as_ref(), options.depth);
    let before = session.stats();
    let client = session.client().clone();

    let workspace = client
        .get_workspace()
        .await
        .map_err(SyncError::from_first_request)?;
    let ws_ref = mapping::workspace_ref(&workspace.id).map_err(|e| SyncError::Api {
        source: Arc::new(segment_api::Error::Decode {
            operation: "getWorkspace",
            reason: format!("the workspace id cannot be used as a Baton id: {e}"),
        }),
    })?;

    check_same_workspace(path, &workspace.id, options.temp_dir.as_deref()).await?;

    // Compression on the writer thread alone (no zstd workers): the multi-threaded encoder's
    // buffers (~40 MiB) were the peak of a large sync, and compressing takes well under a
    // second of a sync that is bound by request latency.
    // Like baton-sdk: skipping entitlements and grants makes a `resources_only` sync, which
    // readers looking for the newest full sync pass over; skipping grants stays `full`.
    let sync_type = match options.depth {
        SyncDepth::SkipEntitlementsAndGrants => SyncType::ResourcesOnly,
        _ => SyncType::Full,
    };
    let mut writer_options = WriterOptions::default()
        .with_keep_syncs(options.keep_syncs)
        .with_cache_size_kib(WRITER_CACHE_KIB)
        .with_compression_threads(0)
        .with_sync_type(sync_type);
    if let Some(dir) = &options.temp_dir {
        writer_options = writer_options.with_temp_dir(dir.clone());
    }
    let sink =
        writer_thread::start(path.to_path_buf(), writer_options, options.progress.clone()).await?;

    let mut engine = Engine::new(
        session.clone(),
        client.clone(),
        plan,
        options.concurrency,
        sink.tx,
        workspace,
        ws_ref,
    );
    let outcome = engine.run().await;
    let counts = &mut engine.counts;
    counts.sizes.group_members = counts.group_members.values().copied().collect();
    counts.sizes.group_invites = counts.group_invites.values().copied().collect();
    let finish = match outcome {
        Ok(()) => engine.tx.send(Obj::Finish).await.is_ok(),
        Err(_) => false,
    };
    // Closing the channel without `Finish` makes the writer discard the sync.
    let Engine {
        tx,
        workspace,
        counts,
        readiness,
        ..
    } = engine;
    let (sizes, report) = (counts.sizes, counts.report);
    let (synced_types, skipped) = (readiness.synced_types, readiness.skipped);
    drop(tx);
    let exit = sink
        .handle
        .await
        .map_err(|e| SyncError::Internal(format!("the c1z writer thread failed: {e}")));
    let summary = match (outcome, exit) {
        (Err(Failure::Sync(e)), _) => return Err(e),
        (_, Err(e)) => return Err(e),
        (_, Ok(Err(e))) => return Err(SyncError::Write(e)),
        (Ok(()), Ok(Ok(Exit::Finished(summary)))) if finish => summary,
        _ => {
            return Err(SyncError::Internal(
                "the c1z writer stopped before the sync finished".into(),
            ));
        }
    };

    let stats = session.stats().since(&before);
    let page_size = u32::from(client.page_size());
    Ok(SyncReport {
        sync_id: summary.sync_id,
        path: summary.path,
        appended: summary.appended,
        removed_syncs: summary.removed_syncs,
        file_bytes: summary.file_bytes,
        workspace_id: workspace.id,
        workspace_name: workspace.name,
        synced_types,
        resource_types: summary.counts.resource_types,
        resources: report.resources,
        entitlements: summary.counts.entitlements,
        grants: summary.counts.grants,
        requests: stats.requests,
        min_requests: min_requests(
            &sizes,
            page_size,
            options.resource_types.as_ref(),
            options.depth,
        ),
        sizes,
        retries: stats.retries,
        rate_limited: stats.rate_limited,
        waited: stats.pacer_wait + stats.retry_wait,
        elapsed: started.elapsed(),
        skipped: skipped
            .into_iter()
            .map(|(t, reason)| SkippedType {
                resource_type: t.to_owned(),
                reason,
            })
            .collect(),
        skipped_permissions: report.skipped_permissions,
        unknown_scope_types: report.unknown_scope_types,
        unresolved_scopes: report.unresolved_scopes,
        filtered_grants: report.filtered_grants,
        synthesized_roles: report.synthesized_roles,
        unresolved_members: report.unresolved_members,
        unmatched_group_invites: report.unmatched_group_invites,
        vanished: report.vanished,
        invalid_objects: report.invalid_objects,
    })
}

/// Before appending to an existing c1z: its latest sync must be of the workspace being
/// synced (its `workspace` resource). A file that does not open as a c1z, or has no sync or no
/// workspace resource, is left to the writer.
async fn check_same_workspace(
    path: &Path,
    workspace_id: &str,
    temp_dir: Option<&Path>,
) -> Result<(), SyncError> {
    if !path.exists() {
        return Ok(());
    }
    let file = path.to_path_buf();
    let temp_dir = temp_dir.map(Path::to_path_buf);
    let found = tokio::task::spawn_blocking(move || -> Option<Vec<String>> {
        let mut options = baton_c1z::ReaderOptions::default();
        if let Some(dir) = temp_dir {
            options = options.with_temp_dir(dir);
        }
        let reader = baton_c1z::C1zReader::open(&file, options).ok()?;
        let view = reader.latest().ok()?;
        let filter = baton_c1z::ResourceFilter {
            resource_type_id: Some(WORKSPACE.to_owned()),
            ..baton_c1z::ResourceFilter::default()
        };
        Some(
            view.resources(&filter)
                .filter_map(Result::ok)
                .filter_map(|r| r.id.map(|id| id.resource))
                .collect(),
        )
    })
    .await
    .map_err(|e| SyncError::Internal(format!("checking the existing c1z file failed: {e}")))?;
    match found {
        Some(ids) if !ids.is_empty() && !ids.iter().any(|id| id == workspace_id) => {
            Err(SyncError::WorkspaceMismatch {
                path: path.to_path_buf(),
                file_workspace: ids.join(", "),
                workspace: workspace_id.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

fn validate(options: &SyncOptions) -> Result<(), SyncError> {
    if options.concurrency == 0 {
        return Err(SyncError::InvalidOption {
            option: "concurrency",
            reason: "must be at least 1".into(),
        });
    }
    if let Some(types) = &options.resource_types
        && let Some(bad) = types
            .iter()
            .find(|t| !ALL_RESOURCE_TYPES.contains(&t.as_str()))
    {
        return Err(SyncError::InvalidOption {
            option: "resource_types",
            reason: format!(
                "unknown resource type {bad:?} (known: {})",
                ALL_RESOURCE_TYPES.join(", ")
            ),
        });
    }
    Ok(())
}

/// Why the engine stopped.
#[derive(Debug)]
enum Failure {
    Sync(SyncError),
    /// The writer thread stopped receiving (its own error is reported through the join).
    WriterGone,
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        Self::Sync(e)
    }
}
