//! §15.3 scenarios 7–10: provisioning payloads, failures, the provisioning gate, unsupported
//! task types and hello tasks.

use std::sync::atomic::Ordering;

use baton_model::pb;
use c1_mock::Call;
use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::task::{self, TaskType};
use c1_proto::baton::{BatonServiceFinishTaskRequest, Task};
use prost::Message as _;

use crate::support::{Harness, WAIT, member_entitlement, user};

fn grant_task() -> TaskType {
    TaskType::Grant(task::GrantTask {
        entitlement: Some(member_entitlement()),
        principal: Some(user("u1")),
        ..Default::default()
    })
}

fn provisioning_tasks() -> Vec<(TaskType, &'static str)> {
    vec![
        (
            grant_task(),
            "c1.connector.v2.GrantManagerServiceGrantResponse",
        ),
        (
            TaskType::Revoke(task::RevokeTask {
                grant: Some(pb::Grant {
                    id: "g".into(),
                    entitlement: Some(member_entitlement()),
                    principal: Some(user("u1")),
                    ..Default::default()
                }),
                annotations: Vec::new(),
            }),
            "c1.connector.v2.GrantManagerServiceRevokeResponse",
        ),
        (
            TaskType::CreateAccount(task::CreateAccountTask {
                account_info: Some(pb::AccountInfo::default()),
                ..Default::default()
            }),
            "c1.connector.v2.CreateAccountResponse",
        ),
        (
            TaskType::DeleteResource(task::DeleteResourceTask {
                resource_id: user("u1").id,
                parent_resource_id: None,
            }),
            "c1.connector.v2.DeleteResourceResponse",
        ),
    ]
}

fn error_of(f: &BatonServiceFinishTaskRequest) -> (i32, String, bool) {
    let Some(FinalState::Error(e)) = &f.final_state else {
        panic!("not an error: {f:?}");
    };
    let s = f.status.clone().unwrap();
    (s.code, s.message, e.non_retryable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_tasks_finish_with_their_response_types() {
    let mut h = Harness::start(|c| c.provisioning = true).await;
    let ids: Vec<(String, &str)> = provisioning_tasks()
        .into_iter()
        .map(|(t, url)| (h.mock.push_task(t), url))
        .collect();
    for (id, name) in &ids {
        let f = h.mock.wait_finished(id, WAIT).await.expect("finished");
        assert!(f.status.is_none());
        let Some(FinalState::Success(s)) = f.final_state else {
            panic!("{f:?}")
        };
        let response = s.response.unwrap();
        assert_eq!(response.type_url, format!("type.googleapis.com/{name}"));
        if name.ends_with("GrantResponse") {
            let r =
                pb::GrantManagerServiceGrantResponse::decode(response.value.as_slice()).unwrap();
            assert_eq!(r.grants.len(), 1);
            assert_eq!(r.grants[0].principal, Some(user("u1")));
        }
    }
    h.stop().await.unwrap();
    assert_eq!(h.probe.calls.lock().unwrap().len(), 4);
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_failures_and_malformed_tasks_are_not_retryable() {
    let mut h = Harness::start(|c| c.provisioning = true).await;
    h.probe.fail_provisioning.store(true, Ordering::SeqCst);
    let failing: Vec<String> = provisioning_tasks()
        .into_iter()
        .map(|(t, _)| h.mock.push_task(t))
        .collect();
    let malformed = h.mock.push_task(TaskType::Grant(task::GrantTask {
        entitlement: Some(member_entitlement()),
        ..Default::default()
    }));
    for id in &failing {
        let f = h.mock.wait_finished(id, WAIT).await.expect("finished");
        let (code, message, non_retryable) = error_of(&f);
        assert_eq!(code, tonic::Code::NotFound as i32);
        assert!(message.contains("no such thing upstream"));
        assert!(non_retryable);
    }
    let f = h
        .mock
        .wait_finished(&malformed, WAIT)
        .await
        .expect("finished");
    let (code, message, non_retryable) = error_of(&f);
    assert_eq!(code, tonic::Code::InvalidArgument as i32);
    assert!(message.starts_with("malformed grant task"), "{message}");
    assert!(non_retryable);
    h.stop().await.unwrap();
    assert_eq!(
        h.probe.calls.lock().unwrap().len(),
        4,
        "the malformed task reaches no connector"
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_disabled_refuses_every_provisioning_task() {
    let mut h = Harness::start(|_| {}).await;
    let ids: Vec<String> = provisioning_tasks()
        .into_iter()
        .map(|(t, _)| h.mock.push_task(t))
        .collect();
    for id in &ids {
        let f = h.mock.wait_finished(id, WAIT).await.expect("finished");
        let (code, message, non_retryable) = error_of(&f);
        assert_eq!(code, tonic::Code::FailedPrecondition as i32);
        assert_eq!(message, baton_service::PROVISIONING_DISABLED);
        assert!(non_retryable);
    }
    h.stop().await.unwrap();
    assert!(
        h.probe.calls.lock().unwrap().is_empty(),
        "nothing reached the connector"
    );
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_task_types_are_answered_unknown_and_retryable() {
    let mut h = Harness::start(|c| c.provisioning = true).await;
    let mut ids = vec![
        h.mock.push_task(TaskType::EventFeed(Default::default())),
        h.mock.push_task(TaskType::CompactSyncs(Default::default())),
        h.mock
            .push_task(TaskType::CreateResource(Default::default())),
    ];
    let unset = c1_mock::new_task_id();
    h.mock.push_raw(Task {
        id: unset.clone(),
        ..Default::default()
    });
    ids.push(unset);
    for id in &ids {
        let f = h.mock.wait_finished(id, WAIT).await.expect("finished");
        let (code, message, non_retryable) = error_of(&f);
        assert_eq!(code, tonic::Code::Unknown as i32);
        assert_eq!(message, baton_service::UNSUPPORTED_TASK_TYPE);
        assert!(!non_retryable);
    }
    h.stop().await.unwrap();
    h.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_task_is_answered_with_hello_and_no_finish() {
    let mut h = Harness::start(|_| {}).await;
    let id = h.mock.push_task(TaskType::Hello(Default::default()));
    let done = h
        .mock
        .wait_until(WAIT, |calls| {
            calls
                .iter()
                .any(|c| matches!(c, Call::Hello(hello) if hello.task_id == id))
        })
        .await;
    assert!(done);
    // A few more polls, then: no FinishTask for it, nothing outstanding.
    let polls = h.mock.calls().len();
    assert!(h.mock.wait_until(WAIT, |c| c.len() >= polls + 2).await);
    h.stop().await.unwrap();
    assert!(h.mock.finished(&id).is_none());
    assert!(h.mock.outstanding().is_empty());
    h.assert_no_violations();
}
