//! `segment-cli service-demo`: service mode end to end in one process, for a newcomer. A fake
//! ConductorOne tenant (c1-mock) queues a sync task and a grant task; the Segment connector
//! (against a generated segment-mock workspace) runs them through the service runner; the
//! results are printed: what was uploaded, what was granted, and the tenant's verdict.

use std::time::Duration;

use anyhow::{Context as _, bail};
use baton_model::pb;
use baton_service::ServiceConfig;
use c1_mock::C1Mock;
use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::task::{GrantTask, SyncFullTask, TaskType};
use prost::Message as _;
use segment_mock::{GenSpec, MockConfig, MockServer};
use segment_provision::{ProvisionOptions, Provisioner};

use crate::cli::GlobalArgs;
use crate::connect::{self, Target};
use crate::output;
use crate::service::{SegmentService, build};

/// How long the demo waits for each task (a generous bound, not a speed claim).
const TASK_WAIT: Duration = Duration::from_secs(120);

fn resource(resource_type: &str, id: &str, name: &str) -> pb::Resource {
    pb::Resource {
        id: Some(pb::ResourceId {
            resource_type: resource_type.into(),
            resource: id.into(),
            ..Default::default()
        }),
        display_name: name.into(),
        ..Default::default()
    }
}

pub(crate) async fn run(global: &GlobalArgs) -> anyhow::Result<u8> {
    let spec = GenSpec::default();
    let workspace = segment_mock::generate(&spec);
    // The grant: the first user who is not yet a member of the first group.
    let group = workspace
        .groups
        .first()
        .context("the generated workspace has no group")?;
    let user = workspace
        .users
        .iter()
        .find(|u| {
            !group
                .members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&u.email))
        })
        .context("every generated user is already in the first group")?;
    let (group_id, group_name, user_id, user_email) = (
        group.id.clone(),
        group.name.clone(),
        user.id.clone(),
        user.email.clone(),
    );

    let segment = MockServer::start(MockConfig::new(workspace))
        .await
        .context("cannot start the demo Segment API (segment-mock)")?;
    let target = Target {
        base_url: segment.base_url(),
        token: segment_api::Token::new(segment.token()),
    };
    let mut global = global.clone();
    global.max_reads_per_minute.get_or_insert(0);
    let session = connect::session(&global, &target, None)?;
    let provisioner = Provisioner::new(session.clone(), ProvisionOptions::default());
    let connector = SegmentService::new(session, provisioner, None, None);

    let tenant = C1Mock::start()
        .await
        .context("cannot start the fake ConductorOne tenant")?;
    let sync_id = tenant.push_task(TaskType::SyncFull(SyncFullTask::default()));
    let grant_id = tenant.push_task(TaskType::Grant(GrantTask {
        entitlement: Some(pb::Entitlement {
            id: format!("group:{group_id}:member"),
            resource: Some(resource("group", &group_id, &group_name)),
            slug: "member".into(),
            ..Default::default()
        }),
        principal: Some(resource("user", &user_id, &user_email)),
        ..Default::default()
    }));

    let temp = tempfile::tempdir().context("creating a temp dir")?;
    let mut config =
        ServiceConfig::new(tenant.client_id(), tenant.client_secret().expose(), build());
    config.api_host = None;
    config.host_id = "segment-cli-demo".into();
    config.provisioning = true;
    config.temp_dir = temp.path().to_path_buf();
    config.extra_ca_pem = Some(tenant.ca_pem().as_bytes().to_vec());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(baton_service::run(config, connector, async move {
        let _ = stopped.await;
    }));

    let synced = tenant.wait_finished(&sync_id, TASK_WAIT).await;
    let granted = tenant.wait_finished(&grant_id, TASK_WAIT).await;
    let _ = stop.send(());
    runner.await.context("the service runner panicked")??;

    output::out(&format!(
        "Service-mode demo: a fake ConductorOne tenant (c1-mock, TLS on {}) and a generated \
         Segment workspace (segment-mock, {}), both in this process.",
        tenant.addr(),
        segment.base_url()
    ));
    output::out(&format!(
        "Client id: {} (its secret is never printed)",
        tenant.client_id()
    ));
    match (&synced, tenant.upload(&sync_id)) {
        (Some(f), Some(up)) if matches!(f.final_state, Some(FinalState::Success(_))) => {
            output::out(&format!(
                "\nTask 1, sync_full {sync_id}: finished with success. Uploaded c1z: {} bytes, \
                 one {} sync with {} resource types, {} resources, {} entitlements, {} grants.",
                up.bytes.len(),
                up.sync_type,
                up.resource_types,
                up.resources,
                up.entitlements,
                up.grants
            ));
        }
        (other, _) => bail!("the sync task did not succeed: {other:?}"),
    }
    let Some(FinalState::Success(success)) = granted.as_ref().and_then(|f| f.final_state.clone())
    else {
        bail!("the grant task did not succeed: {granted:?}");
    };
    let response = success
        .response
        .context("the grant finished without a response")?;
    let grant = pb::GrantManagerServiceGrantResponse::decode(response.value.as_slice())
        .context("decoding the grant response")?;
    let member_now = segment.workspace().groups.iter().any(|g| {
        g.id == group_id
            && g.members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&user_email))
    });
    output::out(&format!(
        "\nTask 2, grant {grant_id}: finished with success ({}), grant id {}.\n\
         Segment now lists {user_email} in group {group_name:?}: {}.",
        response.type_url.rsplit('/').next().unwrap_or_default(),
        grant.grants.first().map(|g| g.id.as_str()).unwrap_or("-"),
        if member_now { "yes" } else { "NO" }
    ));
    let violations = tenant.violations();
    if violations.is_empty() {
        output::out(&format!(
            "\nThe tenant checked every call ({} in all: token, Hello, polls, heartbeats, upload, \
             FinishTask) and found no protocol violation.",
            tenant.calls().len()
        ));
    } else {
        bail!("the fake tenant found protocol violations: {violations:?}");
    }
    if !member_now {
        bail!("the grant reported success but Segment does not show the membership");
    }
    Ok(0)
}
