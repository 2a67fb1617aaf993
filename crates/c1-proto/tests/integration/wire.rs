//! Wire checks: tags of the oneof arms, type URLs of the FinishTask payloads, a round trip.

use baton_model::pb;
use c1_proto::baton::{self, task};
use prost::{Message, Name};

/// The first bytes of a length-delimited field `number` (wire type 2).
fn tag(number: u32) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    out
}

#[test]
fn finish_task_success_uses_field_101() {
    let req = baton::BatonServiceFinishTaskRequest {
        host_id: "h".into(),
        task_id: "t".into(),
        status: None,
        final_state: Some(
            baton::baton_service_finish_task_request::FinalState::Success(Default::default()),
        ),
    };
    let bytes = req.encode_to_vec();
    assert!(bytes.ends_with(&[tag(101), vec![0]].concat()), "{bytes:?}");
}

#[test]
fn task_arms_have_the_spec_numbers() {
    let cases: Vec<(task::TaskType, u32)> = vec![
        (task::TaskType::None(Default::default()), 100),
        (task::TaskType::Hello(Default::default()), 101),
        (task::TaskType::SyncFull(Default::default()), 102),
        (task::TaskType::Grant(Default::default()), 103),
        (task::TaskType::Revoke(Default::default()), 104),
        (task::TaskType::CreateAccount(Default::default()), 105),
        (task::TaskType::DeleteResource(Default::default()), 107),
        (task::TaskType::EventFeed(Default::default()), 109),
        (task::TaskType::CompactSyncs(Default::default()), 120),
        (task::TaskType::IssueCredential(Default::default()), 123),
    ];
    for (arm, number) in cases {
        let t = baton::Task {
            task_type: Some(arm),
            ..Default::default()
        };
        assert_eq!(
            t.encode_to_vec(),
            [tag(number), vec![0]].concat(),
            "arm {number}"
        );
    }
}

#[test]
fn sync_task_round_trips() {
    let t = baton::Task {
        id: "2BrqSYbt5gmLHm6E2hXQ7Ww5w1m".into(),
        status: baton::task::Status::Pending as i32,
        debug: false,
        task_type: Some(task::TaskType::SyncFull(task::SyncFullTask {
            skip_grants: true,
            sync_resource_type_ids: vec!["user".into()],
            ..Default::default()
        })),
    };
    let back = baton::Task::decode(t.encode_to_vec().as_slice()).unwrap_or_default();
    assert_eq!(back, t);
}

#[test]
fn response_type_urls_are_full_names() {
    assert_eq!(
        pb::GrantManagerServiceGrantResponse::type_url(),
        "type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse"
    );
    assert_eq!(
        pb::GrantManagerServiceRevokeResponse::type_url(),
        "type.googleapis.com/c1.connector.v2.GrantManagerServiceRevokeResponse"
    );
    assert_eq!(
        pb::CreateAccountResponse::type_url(),
        "type.googleapis.com/c1.connector.v2.CreateAccountResponse"
    );
    assert_eq!(
        pb::DeleteResourceResponse::type_url(),
        "type.googleapis.com/c1.connector.v2.DeleteResourceResponse"
    );
    assert_eq!(c1_proto::rpc::Status::full_name(), "google.rpc.Status");
    assert_eq!(
        baton::BatonServiceHelloRequest::full_name(),
        "c1.connectorapi.baton.v1.BatonServiceHelloRequest"
    );
}

#[test]
fn upload_arms_and_eof_field() {
    use baton::baton_service_upload_asset_request::{Msg, UploadEof};
    let eof = baton::BatonServiceUploadAssetRequest {
        msg: Some(Msg::Eof(UploadEof {
            sha256_checksum: vec![7; 32],
            annotations: vec![],
        })),
    };
    let bytes = eof.encode_to_vec();
    assert_eq!(&bytes[..2], tag(102).as_slice());
}
