//! §15.3 scenarios 4–6 and 13: sync tasks (framing, checksum, content, skip variants),
//! cancellation by heartbeat, failing heartbeats, an upload broken on the first attempt.

use std::sync::atomic::Ordering;
use std::time::Duration;

use baton_service::clock::Wait;
use c1_mock::Call;
use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::task::{SyncFullTask, TaskType};

use crate::support::{Harness, WAIT};

fn position(calls: &[Call], pred: impl Fn(&Call) -> bool) -> Option<usize> {
    calls.iter().position(pred)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_task_heartbeats_uploads_and_finishes() {
    let mut h = Harness::start(|_| {}).await;
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    let finish = h.mock.wait_finished(&id, WAIT).await.expect("finished");
    h.stop().await.unwrap();
    assert!(finish.status.is_none());
    let Some(FinalState::Success(success)) = finish.final_state else {
        panic!("not a success: {finish:?}");
    };
    assert!(success.response.is_none() && success.annotations.is_empty());

    let calls = h.mock.calls();
    let beat = position(
        &calls,
        |c| matches!(c, Call::Heartbeat { task_id, .. } if *task_id == id),
    )
    .unwrap();
    let upload = position(
        &calls,
        |c| matches!(c, Call::Upload { task_id, accepted: true, .. } if *task_id == id),
    )
    .unwrap();
    let done = position(
        &calls,
        |c| matches!(c, Call::FinishTask(f) if f.task_id == id),
    )
    .unwrap();
    assert!(
        beat < upload && upload < done,
        "heartbeat, upload, finish in that order"
    );

    let uploaded = h.mock.upload(&id).unwrap();
    assert_eq!(uploaded.sync_type, "full");
    assert_eq!((uploaded.resource_types, uploaded.resources), (2, 2));
    assert_eq!((uploaded.entitlements, uploaded.grants), (1, 1));
    assert_eq!(h.temp_entries(), 0, "the temp c1z is removed");
    let syncs = h.probe.syncs.lock().unwrap().clone();
    assert_eq!(syncs.len(), 1);
    assert!(!syncs[0].skip_grants && !syncs[0].skip_entitlements_and_grants && !syncs[0].empty);
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_flags_and_resource_types_reach_the_connector() {
    let mut h = Harness::start(|c| c.sync_resource_types = vec!["group".into()]).await;
    let resources_only = h.mock.push_task(TaskType::SyncFull(SyncFullTask {
        skip_entitlements_and_grants: true,
        ..Default::default()
    }));
    let no_grants = h.mock.push_task(TaskType::SyncFull(SyncFullTask {
        skip_grants: true,
        sync_resource_type_ids: vec!["user".into()],
        ..Default::default()
    }));
    for id in [&resources_only, &no_grants] {
        let f = h.mock.wait_finished(id, WAIT).await.expect("finished");
        assert!(
            matches!(f.final_state, Some(FinalState::Success(_))),
            "{f:?}"
        );
    }
    h.stop().await.unwrap();
    let a = h.mock.upload(&resources_only).unwrap();
    assert_eq!((a.entitlements, a.grants), (0, 0));
    let b = h.mock.upload(&no_grants).unwrap();
    assert_eq!((b.entitlements, b.grants), (1, 0));
    let mut syncs = h.probe.syncs.lock().unwrap().clone();
    syncs.sort_by_key(|s| s.skip_grants);
    assert!(syncs[0].skip_entitlements_and_grants);
    assert_eq!(
        syncs[0].resource_type_ids,
        ["group"],
        "local default when the task names none"
    );
    assert!(syncs[1].skip_grants);
    assert_eq!(
        syncs[1].resource_type_ids,
        ["user"],
        "the task's own list wins"
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_full_sync_uploads_an_empty_sync() {
    let mut h = Harness::start(|c| c.skip_full_sync = true).await;
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    h.mock.wait_finished(&id, WAIT).await.expect("finished");
    h.stop().await.unwrap();
    let up = h.mock.upload(&id).unwrap();
    assert_eq!((up.resource_types, up.resources), (0, 0));
    assert!(h.probe.syncs.lock().unwrap()[0].empty);
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_heartbeat_stops_the_sync() {
    let mut h = Harness::start(|_| {}).await;
    h.probe.hold_syncs.store(true, Ordering::SeqCst);
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    assert!(h.mock.wait_until(WAIT, |c| heartbeats(c) >= 2).await);
    h.mock.cancel_task(&id);
    let finish = h.mock.wait_finished(&id, WAIT).await.expect("finished");
    h.stop().await.unwrap();
    let status = finish.status.unwrap();
    assert_eq!(status.code, tonic::Code::Cancelled as i32);
    assert_eq!(status.message, baton_service::CANCELLED_BY_SERVER);
    let Some(FinalState::Error(e)) = finish.final_state else {
        panic!("not an error")
    };
    assert!(!e.non_retryable);
    assert!(h.mock.upload(&id).is_none());
    assert_eq!(h.temp_entries(), 0);
    // The mock asks for 1 s between heartbeats.
    assert!(
        h.clock
            .waits(Wait::Heartbeat)
            .iter()
            .all(|d| *d == Duration::from_secs(1))
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nine_failed_heartbeats_cancel_the_sync() {
    let mut h = Harness::start(|_| {}).await;
    h.probe.hold_syncs.store(true, Ordering::SeqCst);
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    assert!(h.mock.wait_until(WAIT, |c| heartbeats(c) >= 1).await);
    h.mock.fail_heartbeats(1000);
    let finish = h.mock.wait_finished(&id, WAIT).await.expect("finished");
    h.stop().await.unwrap();
    let status = finish.status.unwrap();
    assert_eq!(status.code, tonic::Code::Cancelled as i32);
    assert_eq!(status.message, baton_service::HEARTBEAT_FAILED);
    let results: Vec<bool> = h
        .mock
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Heartbeat { failed, .. } => Some(failed),
            _ => None,
        })
        .collect();
    let failed = results.iter().filter(|f| **f).count();
    assert_eq!(
        failed,
        baton_service::MAX_FAILED_HEARTBEATS as usize,
        "{results:?}"
    );
    assert!(!results[0], "the first heartbeat succeeded");
    assert!(results.ends_with(&[true; 9]), "{results:?}");
    assert_eq!(h.temp_entries(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_upload_is_retried_from_byte_zero() {
    let mut h = Harness::start(|_| {}).await;
    h.mock.break_uploads(1);
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    let finish = h.mock.wait_finished(&id, WAIT).await.expect("finished");
    h.stop().await.unwrap();
    assert!(
        matches!(finish.final_state, Some(FinalState::Success(_))),
        "{finish:?}"
    );
    let uploads: Vec<(bool, usize)> = h
        .mock
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Upload {
                accepted, bytes, ..
            } => Some((accepted, bytes)),
            _ => None,
        })
        .collect();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    assert!(!uploads[0].0 && uploads[1].0);
    assert_eq!(uploads[1].1, h.mock.upload(&id).unwrap().bytes.len());
    assert_eq!(h.clock.waits(Wait::UploadRetry), [Duration::ZERO]);
    h.assert_no_violations();
}

/// Heartbeats among the tenant's recorded calls.
fn heartbeats(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|c| matches!(c, Call::Heartbeat { .. }))
        .count()
}
