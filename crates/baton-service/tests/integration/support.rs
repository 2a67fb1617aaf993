//! Test support: a connector whose behaviour the tests steer, and a runner started against a
//! fake tenant with a recording clock.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_model::pb;
use baton_service::clock::RecordingClock;
use baton_service::{Build, Connector, ServiceConfig, ServiceError, SyncRequest, TaskFailure};
use c1_mock::C1Mock;

/// Generous bound for waiting on the fake tenant (never a speed assertion).
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// What the test connector saw and how it behaves.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    pub(crate) syncs: Mutex<Vec<SyncRequest>>,
    pub(crate) hold_syncs: AtomicBool,
    pub(crate) fail_provisioning: AtomicBool,
    pub(crate) provision_delay_ms: AtomicUsize,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) calls: Mutex<Vec<String>>,
}

/// A connector backed by a [`Probe`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TestConnector {
    pub(crate) probe: Arc<Probe>,
}

fn rid(t: &str, id: &str) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: t.into(),
        resource: id.into(),
        ..Default::default()
    }
}

pub(crate) fn user(id: &str) -> pb::Resource {
    pb::Resource {
        id: Some(rid("user", id)),
        display_name: id.into(),
        ..Default::default()
    }
}

pub(crate) fn member_entitlement() -> pb::Entitlement {
    pb::Entitlement {
        id: "group:g1:member".into(),
        resource: Some(pb::Resource {
            id: Some(rid("group", "g1")),
            display_name: "g1".into(),
            ..Default::default()
        }),
        slug: "member".into(),
        display_name: "member".into(),
        ..Default::default()
    }
}

/// Writes a small c1z honouring the skip flags.
fn write_c1z(request: &SyncRequest, path: &Path) -> Result<(), String> {
    let mut w = baton_c1z::C1zWriter::create(path, baton_c1z::WriterOptions::default())
        .map_err(|e| e.to_string())?;
    if !request.empty {
        for t in ["user", "group"] {
            w.put_resource_type(&pb::ResourceType {
                id: t.into(),
                display_name: t.into(),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        }
        w.put_resource(&user("u1")).map_err(|e| e.to_string())?;
        let ent = member_entitlement();
        if let Some(group) = &ent.resource {
            w.put_resource(group).map_err(|e| e.to_string())?;
        }
        if !request.skip_entitlements_and_grants {
            w.put_entitlement(&ent).map_err(|e| e.to_string())?;
            if !request.skip_grants {
                w.put_grant(&pb::Grant {
                    id: "group:g1:member:user:u1".into(),
                    entitlement: Some(ent),
                    principal: Some(user("u1")),
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            }
        }
    }
    w.finish().map(|_| ()).map_err(|e| e.to_string())
}

impl TestConnector {
    async fn provision<T>(&self, what: &str, ok: T) -> Result<T, TaskFailure> {
        let now = self.probe.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.probe.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if let Ok(mut calls) = self.probe.calls.lock() {
            calls.push(what.to_owned());
        }
        let delay = self.probe.provision_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
        }
        self.probe.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.probe.fail_provisioning.load(Ordering::SeqCst) {
            Err(TaskFailure::new(
                tonic::Code::NotFound,
                format!("{what}: no such thing upstream"),
            ))
        } else {
            Ok(ok)
        }
    }
}

impl Connector for TestConnector {
    fn metadata(&self) -> pb::ConnectorMetadata {
        pb::ConnectorMetadata {
            display_name: "Test connector".into(),
            capabilities: Some(pb::ConnectorCapabilities::default()),
            ..Default::default()
        }
    }

    async fn validate(&self) -> Result<(), TaskFailure> {
        Ok(())
    }

    async fn sync(&self, request: SyncRequest, output: &Path) -> Result<(), TaskFailure> {
        if let Ok(mut syncs) = self.probe.syncs.lock() {
            syncs.push(request.clone());
        }
        if self.probe.hold_syncs.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let path = output.to_path_buf();
        tokio::task::spawn_blocking(move || write_c1z(&request, &path))
            .await
            .map_err(|e| TaskFailure::new(tonic::Code::Internal, e.to_string()))?
            .map_err(|e| TaskFailure::new(tonic::Code::Internal, e))
    }

    async fn grant(
        &self,
        principal: pb::Resource,
        entitlement: pb::Entitlement,
    ) -> Result<pb::GrantManagerServiceGrantResponse, TaskFailure> {
        let grant = pb::Grant {
            id: format!("{}:{}", entitlement.id, principal.display_name),
            entitlement: Some(entitlement),
            principal: Some(principal),
            ..Default::default()
        };
        self.provision(
            "grant",
            pb::GrantManagerServiceGrantResponse {
                annotations: Vec::new(),
                grants: vec![grant],
            },
        )
        .await
    }

    async fn revoke(
        &self,
        _grant: pb::Grant,
    ) -> Result<pb::GrantManagerServiceRevokeResponse, TaskFailure> {
        self.provision("revoke", pb::GrantManagerServiceRevokeResponse::default())
            .await
    }

    async fn create_account(
        &self,
        _request: pb::CreateAccountRequest,
    ) -> Result<pb::CreateAccountResponse, TaskFailure> {
        self.provision(
            "create_account",
            pb::CreateAccountResponse {
                result: Some(pb::create_account_response::Result::Success(
                    pb::create_account_response::SuccessResult {
                        resource: Some(user("new")),
                        is_create_account_result: true,
                        invitation_expires_at: None,
                    },
                )),
                ..Default::default()
            },
        )
        .await
    }

    async fn delete_resource(
        &self,
        _request: pb::DeleteResourceRequest,
    ) -> Result<pb::DeleteResourceResponse, TaskFailure> {
        self.provision("delete_resource", pb::DeleteResourceResponse::default())
            .await
    }
}

/// A runner under test.
pub(crate) struct Harness {
    pub(crate) mock: C1Mock,
    pub(crate) clock: RecordingClock,
    pub(crate) probe: Arc<Probe>,
    pub(crate) temp: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    run: Option<tokio::task::JoinHandle<Result<(), ServiceError>>>,
}

impl Harness {
    /// The config a test starts from: the mock's credentials and CA, a recording clock.
    pub(crate) fn config(mock: &C1Mock, clock: &RecordingClock, temp: &Path) -> ServiceConfig {
        let mut config = ServiceConfig::new(
            mock.client_id(),
            mock.client_secret().expose(),
            Build {
                package: "baton-service-tests".into(),
                version: "0.0.1".into(),
            },
        );
        config.api_host = None;
        config.host_id = "test-host".into();
        config.extra_ca_pem = Some(mock.ca_pem().as_bytes().to_vec());
        config.temp_dir = temp.to_path_buf();
        config.clock = Arc::new(clock.clone());
        config
    }

    /// Starts a mock and a runner; `adjust` edits the config first.
    pub(crate) async fn start(adjust: impl FnOnce(&mut ServiceConfig)) -> Self {
        let mock = C1Mock::start().await.unwrap_or_else(|e| panic!("{e}"));
        Self::start_with(mock, adjust).await
    }

    pub(crate) async fn start_with(mock: C1Mock, adjust: impl FnOnce(&mut ServiceConfig)) -> Self {
        let clock = RecordingClock::new(Duration::from_millis(5));
        let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut config = Self::config(&mock, &clock, temp.path());
        adjust(&mut config);
        let connector = TestConnector::default();
        let probe = connector.probe.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(baton_service::run(config, connector, async move {
            let _ = stopped.await;
        }));
        Self {
            mock,
            clock,
            probe,
            temp,
            stop: Some(stop),
            run: Some(run),
        }
    }

    /// Sends the shutdown signal and returns the runner's result.
    pub(crate) async fn stop(&mut self) -> Result<(), ServiceError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join().await
    }

    /// Waits for the runner to end by itself.
    pub(crate) async fn join(&mut self) -> Result<(), ServiceError> {
        let run = self.run.take().unwrap_or_else(|| panic!("already joined"));
        match tokio::time::timeout(WAIT, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => panic!("runner panicked: {e}"),
            Err(_) => panic!("runner did not stop"),
        }
    }

    /// Files left in the c1z temp dir.
    pub(crate) fn temp_entries(&self) -> usize {
        std::fs::read_dir(self.temp.path())
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Asserts the tenant saw no broken rule.
    pub(crate) fn assert_no_violations(&self) {
        let v = self.mock.violations();
        assert!(v.is_empty(), "violations: {v:#?}");
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            run.abort();
        }
    }
}
