//! §15.3 scenarios 11–12: GetTask backoff and the concurrency bound.

use std::sync::atomic::Ordering;
use std::time::Duration;

use baton_service::clock::Wait;
use c1_mock::{C1Mock, Call};
use c1_proto::baton::task::{self, TaskType};

use crate::support::{Harness, WAIT, member_entitlement, user};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_task_errors_back_off_quadratically() {
    let mock = C1Mock::start().await.unwrap();
    mock.fail_get_task(&[tonic::Code::Unavailable; 3]);
    let mut h = Harness::start_with(mock, |_| {}).await;
    let polls = |c: &[Call]| {
        c.iter()
            .filter(|c| matches!(c, Call::GetTask { .. }))
            .count()
    };
    assert!(h.mock.wait_until(WAIT, |c| polls(c) >= 5).await);
    h.stop().await.unwrap();
    assert_eq!(
        h.clock.waits(Wait::PollBackoff),
        [1, 4, 9].map(Duration::from_secs),
        "1, 4, 9 s after the 1st, 2nd, 3rd consecutive error"
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_get_task_ends_the_runner() {
    let mock = C1Mock::start().await.unwrap();
    mock.fail_get_task(&[tonic::Code::Unauthenticated]);
    let mut h = Harness::start_with(mock, |_| {}).await;
    let err = h.join().await.unwrap_err().to_string();
    assert!(
        err.starts_with("ConductorOne refused the credentials"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_task_concurrency_tasks_run_at_once() {
    let mut h = Harness::start(|c| {
        c.provisioning = true;
        c.task_concurrency = 2;
    })
    .await;
    h.probe.provision_delay_ms.store(300, Ordering::SeqCst);
    let ids: Vec<String> = (0..5)
        .map(|_| {
            h.mock.push_task(TaskType::Grant(task::GrantTask {
                entitlement: Some(member_entitlement()),
                principal: Some(user("u1")),
                ..Default::default()
            }))
        })
        .collect();
    for id in &ids {
        assert!(h.mock.wait_finished(id, WAIT).await.is_some());
    }
    h.stop().await.unwrap();
    assert_eq!(h.probe.max_in_flight.load(Ordering::SeqCst), 2);
    // While both slots were busy, no GetTask was sent: each GetTask that handed out a task
    // was preceded by a free slot, so at most 2 tasks were ever outstanding at a GetTask.
    let mut outstanding = 0i32;
    let mut max_outstanding_at_poll = 0;
    for call in h.mock.calls() {
        match call {
            Call::GetTask { task_id } => {
                max_outstanding_at_poll = max_outstanding_at_poll.max(outstanding);
                if task_id.is_some() {
                    outstanding += 1;
                }
            }
            Call::FinishTask(_) => outstanding -= 1,
            _ => {}
        }
    }
    assert!(
        max_outstanding_at_poll <= 1,
        "a GetTask was sent with {max_outstanding_at_poll} tasks running"
    );
    h.assert_no_violations();
}
