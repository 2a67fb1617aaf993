//! §15.3 "SIGTERM during a sync": running tasks get the grace period, then are finished as
//! cancelled (retryable); temporary c1z files are removed; short tasks finish normally.

use std::sync::atomic::Ordering;
use std::time::Duration;

use c1_mock::Call;
use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::task::{self, SyncFullTask, TaskType};

use crate::support::{Harness, WAIT, member_entitlement, user};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_sync_finishes_it_as_cancelled() {
    let mut h = Harness::start(|c| c.shutdown_grace = Duration::from_secs(25)).await;
    h.probe.hold_syncs.store(true, Ordering::SeqCst);
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    assert!(
        h.mock
            .wait_until(WAIT, |c| c
                .iter()
                .any(|c| matches!(c, Call::Heartbeat { .. })))
            .await
    );
    assert!(h.temp_entries() > 0, "the sync has its temp dir");
    h.stop().await.unwrap();
    let finish = h
        .mock
        .finished(&id)
        .expect("finished before the runner returned");
    let status = finish.status.unwrap();
    assert_eq!(status.code, tonic::Code::Cancelled as i32);
    let Some(FinalState::Error(e)) = finish.final_state else {
        panic!("not an error")
    };
    assert!(!e.non_retryable, "a shutdown is retryable");
    assert_eq!(h.temp_entries(), 0, "temp c1z removed");
    assert_eq!(
        h.clock.waits(baton_service::clock::Wait::Grace),
        [Duration::from_secs(25)]
    );
    // No polling after the signal: the last GetTask precedes the FinishTask.
    let calls = h.mock.calls();
    let last_poll = calls
        .iter()
        .rposition(|c| matches!(c, Call::GetTask { .. }))
        .unwrap();
    let done = calls
        .iter()
        .position(|c| matches!(c, Call::FinishTask(_)))
        .unwrap();
    assert!(last_poll < done);
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ends_within_the_grace_period_finishes_normally() {
    let mut h = Harness::start(|c| {
        c.provisioning = true;
        c.clock = std::sync::Arc::new(
            baton_service::clock::RecordingClock::new(Duration::from_millis(5))
                .with_real(baton_service::clock::Wait::Grace),
        );
        c.shutdown_grace = Duration::from_secs(15);
    })
    .await;
    h.probe.provision_delay_ms.store(400, Ordering::SeqCst);
    let id = h.mock.push_task(TaskType::Grant(task::GrantTask {
        entitlement: Some(member_entitlement()),
        principal: Some(user("u1")),
        ..Default::default()
    }));
    // Stop once the connector is inside the grant (a task handed out after the signal would
    // be finished as cancelled instead).
    let started = tokio::time::timeout(WAIT, async {
        while h.probe.calls.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(started.is_ok());
    h.stop().await.unwrap();
    let finish = h.mock.finished(&id).expect("finished");
    assert!(
        matches!(finish.final_state, Some(FinalState::Success(_))),
        "{finish:?}"
    );
    h.assert_no_violations();
}
