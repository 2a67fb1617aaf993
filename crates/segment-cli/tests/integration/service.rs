//! The binary in service mode against a fake tenant (c1-mock) and a fake Segment
//! (segment-mock), configured only through `BATON_*` variables as in a container: ids it
//! cannot parse and entitlements that no longer exist fail the task as non-retryable with
//! nothing written to Segment; SIGTERM ends the process with exit 0; the secret is never
//! printed.

use std::process::{Command, Stdio};
use std::time::Duration;

use baton_model::pb;
use c1_mock::C1Mock;
use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::task::{GrantTask, TaskType};
use segment_mock::{GenSpec, MockConfig, MockServer};

fn resource(t: &str, id: &str) -> pb::Resource {
    pb::Resource {
        id: Some(pb::ResourceId {
            resource_type: t.into(),
            resource: id.into(),
            ..Default::default()
        }),
        display_name: id.into(),
        ..Default::default()
    }
}

fn grant(entitlement: &str, principal: pb::Resource) -> TaskType {
    TaskType::Grant(GrantTask {
        entitlement: Some(pb::Entitlement {
            id: entitlement.into(),
            resource: Some(resource("group", "whatever")),
            ..Default::default()
        }),
        principal: Some(principal),
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_ids_fail_without_writes_and_sigterm_stops_cleanly() {
    let workspace = segment_mock::generate(&GenSpec::default());
    let user_id = workspace.users[0].id.clone();
    let segment = MockServer::start(MockConfig::new(workspace)).await.unwrap();
    let tenant = C1Mock::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tenant.ca_pem()).unwrap();

    let unparseable = tenant.push_task(grant("not an entitlement", resource("user", &user_id)));
    let gone = tenant.push_task(grant(
        "group:noSuchGroup:member",
        resource("user", &user_id),
    ));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_segment-cli"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BATON_") {
            cmd.env_remove(key);
        }
    }
    let child = cmd
        .current_dir(dir.path())
        .env("BATON_CLIENT_ID", tenant.client_id())
        .env("BATON_CLIENT_SECRET", tenant.client_secret().expose())
        .env("BATON_TOKEN", segment.token())
        .env("BATON_BASE_URL", segment.base_url())
        .env("BATON_PROVISIONING", "true")
        .env("BATON_HOST_ID", "baton-segment")
        .env("BATON_LOG_FORMAT", "json")
        .env("BATON_LOG_LEVEL", "debug")
        .env("SSL_CERT_FILE", &ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let wait = Duration::from_secs(60);
    let a = tenant.wait_finished(&unparseable, wait).await;
    let b = tenant.wait_finished(&gone, wait).await;
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    for (finish, code) in [
        (a, tonic::Code::InvalidArgument),
        (b, tonic::Code::NotFound),
    ] {
        let finish = finish.expect("finished");
        let Some(FinalState::Error(error)) = &finish.final_state else {
            panic!("not an error: {finish:?}");
        };
        assert!(error.non_retryable);
        let status = finish.status.unwrap();
        assert_eq!(status.code, code as i32, "{}", status.message);
        assert!(!status.message.contains('\n'));
    }
    let writes: Vec<String> = segment
        .request_log()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "nothing may be written: {writes:?}");
    let hello = tenant
        .calls()
        .into_iter()
        .find_map(|c| match c {
            c1_mock::Call::Hello(h) => Some(h),
            _ => None,
        })
        .unwrap();
    assert_eq!(hello.host_id, "baton-segment");
    let metadata = hello.connector_metadata.unwrap();
    assert_eq!(metadata.display_name, "Twilio Segment");
    assert!(metadata.account_creation_schema.is_some());
    assert!(tenant.violations().is_empty(), "{:?}", tenant.violations());
    let secret = tenant.client_secret().expose();
    let payload = secret.rsplit(':').next().unwrap();
    assert!(!stderr.contains(payload) && !String::from_utf8_lossy(&out.stdout).contains(payload));
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
}
