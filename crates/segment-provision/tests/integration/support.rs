//! Shared helpers: the fixture workspace, a mock + session + provisioner environment, write
//! counters, the mock's stored permissions, and a hook that changes the mock mid-operation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use segment_api::hooks::{BoxFuture, RequestHook, RequestInfo, ResponseInfo};
use segment_api::{Client, Permission, RetryPolicy, Token};
use segment_cache::{PacerConfig, Session, SessionConfig};
use segment_mock::{MockConfig, MockServer, Workspace};
use segment_provision::{ProvisionOptions, Provisioner};
use segment_scheme::PermissionKey;

/// The hand-written fixture workspace (tests/fixtures/workspace.json).
pub(crate) fn fixture() -> Workspace {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workspace.json");
    Workspace::from_json_file(path).unwrap()
}

/// A change applied to the mock's workspace by a [`Trigger`].
pub(crate) type Mutation = Box<dyn Fn(&mut Workspace) + Send + Sync>;

/// An observer hook: after a successful (or, with `status`, a given) answer to `operation`,
/// applies `mutation` to the mock's workspace, at most `times` times.
pub(crate) struct Trigger {
    server: Arc<MockServer>,
    operation: &'static str,
    status: Option<u16>,
    times: u32,
    fired: AtomicU32,
    mutation: Mutation,
    faults: Mutex<Option<segment_mock::Faults>>,
}

impl std::fmt::Debug for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trigger")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl Trigger {
    pub(crate) fn new(
        server: &Arc<MockServer>,
        operation: &'static str,
        times: u32,
        mutation: impl Fn(&mut Workspace) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            server: Arc::clone(server),
            operation,
            status: None,
            times,
            fired: AtomicU32::new(0),
            mutation: Box::new(mutation),
            faults: Mutex::new(None),
        })
    }

    /// Instead of changing the workspace, sets faults after an answer with `status`.
    pub(crate) fn faults_after(
        server: &Arc<MockServer>,
        operation: &'static str,
        status: u16,
        faults: segment_mock::Faults,
    ) -> Arc<Self> {
        Arc::new(Self {
            server: Arc::clone(server),
            operation,
            status: Some(status),
            times: 1,
            fired: AtomicU32::new(0),
            mutation: Box::new(|_| {}),
            faults: Mutex::new(Some(faults)),
        })
    }

    /// Like [`Trigger::new`], but after an answer with `status`.
    pub(crate) fn on_status(
        server: &Arc<MockServer>,
        operation: &'static str,
        status: u16,
        mutation: impl Fn(&mut Workspace) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            server: Arc::clone(server),
            operation,
            status: Some(status),
            times: 1,
            fired: AtomicU32::new(0),
            mutation: Box::new(mutation),
            faults: Mutex::new(None),
        })
    }

    pub(crate) fn fired(&self) -> u32 {
        self.fired.load(Ordering::SeqCst)
    }
}

impl RequestHook for Trigger {
    fn before(&self, _req: RequestInfo) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    fn after(&self, resp: &ResponseInfo) {
        if resp.operation != self.operation {
            return;
        }
        let status_ok = match self.status {
            Some(s) => resp.status == Some(s),
            None => resp.status.is_some_and(|s| (200..300).contains(&s)),
        };
        if !status_ok || self.fired.load(Ordering::SeqCst) >= self.times {
            return;
        }
        self.fired.fetch_add(1, Ordering::SeqCst);
        if let Some(faults) = self.faults.lock().unwrap().take() {
            self.server.set_faults(faults);
            return;
        }
        let mut ws = self.server.workspace();
        (self.mutation)(&mut ws);
        self.server.set_workspace(ws);
    }
}

/// A mock (no write limit), an unpaced session that never retries, and a provisioner.
pub(crate) struct Env {
    pub(crate) server: Arc<MockServer>,
    pub(crate) session: Session,
    pub(crate) prov: Provisioner,
}

pub(crate) async fn start(workspace: Workspace) -> Arc<MockServer> {
    let config = MockConfig::new(workspace).write_limit_per_min(None);
    Arc::new(MockServer::start(config).await.unwrap())
}

pub(crate) fn session(server: &MockServer, observer: Option<Arc<dyn RequestHook>>) -> Session {
    let builder = Client::builder(Token::new(server.token()))
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::never());
    let mut config = SessionConfig::default().with_pacer(PacerConfig::unlimited());
    if let Some(observer) = observer {
        config = config.with_observer(observer);
    }
    Session::from_builder(builder, config).unwrap()
}

pub(crate) async fn env(options: ProvisionOptions) -> Env {
    env_on(fixture(), options).await
}

pub(crate) async fn env_on(workspace: Workspace, options: ProvisionOptions) -> Env {
    let server = start(workspace).await;
    let session = session(&server, None);
    let prov = Provisioner::new(session.clone(), options);
    Env {
        server,
        session,
        prov,
    }
}

/// An environment whose session has `observer` installed (built from the server).
pub(crate) async fn env_with_observer(
    options: ProvisionOptions,
    observer: impl FnOnce(&Arc<MockServer>) -> Arc<dyn RequestHook>,
) -> Env {
    let server = start(fixture()).await;
    let hook = observer(&server);
    let session = session(&server, Some(hook));
    let prov = Provisioner::new(session.clone(), options);
    Env {
        server,
        session,
        prov,
    }
}

impl Env {
    /// Non-GET requests the mock received.
    pub(crate) fn writes(&self) -> u64 {
        self.server.counters().writes
    }

    /// Requests of one operation the mock received.
    pub(crate) fn calls(&self, operation: &str) -> u64 {
        self.server
            .counters()
            .per_operation
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Writes the mock answered with a 2xx status.
    pub(crate) fn successful_writes(&self) -> Vec<segment_mock::LoggedRequest> {
        self.server
            .request_log()
            .into_iter()
            .filter(|r| r.method != "GET" && (200..300).contains(&r.status))
            .collect()
    }

    /// The mock's stored permissions of a user, as JSON (the fixture format).
    pub(crate) fn user_json(&self, id: &str) -> serde_json::Value {
        let ws = self.server.workspace();
        let user = ws.users.iter().find(|u| u.id == id).unwrap();
        serde_json::to_value(&user.permissions).unwrap()
    }

    /// The mock's stored permissions of a group, as JSON.
    pub(crate) fn group_json(&self, id: &str) -> serde_json::Value {
        let ws = self.server.workspace();
        let group = ws.groups.iter().find(|g| g.id == id).unwrap();
        serde_json::to_value(&group.permissions).unwrap()
    }

    /// The permission entries a user or group holds in the mock.
    pub(crate) fn keys(&self, principal: &str) -> BTreeSet<PermissionKey> {
        keys_of(&self.server.workspace(), principal)
    }

    /// Member emails (lowercase) of a group in the mock, accepted and invited.
    pub(crate) fn group_members(&self, group: &str) -> BTreeSet<String> {
        members_of(&self.server.workspace(), group)
    }
}

/// The permission entries of `user:<id>` or `group:<id>` in a workspace.
pub(crate) fn keys_of(ws: &Workspace, principal: &str) -> BTreeSet<PermissionKey> {
    let (kind, id) = principal.split_once(':').unwrap();
    let perms = match kind {
        "user" => &ws.users.iter().find(|u| u.id == id).unwrap().permissions,
        "group" => &ws.groups.iter().find(|g| g.id == id).unwrap().permissions,
        _ => panic!("not a permission principal: {principal}"),
    };
    let perms: Vec<Permission> =
        serde_json::from_value(serde_json::to_value(perms).unwrap()).unwrap();
    perms.iter().flat_map(PermissionKey::all_of).collect()
}

pub(crate) fn members_of(ws: &Workspace, group: &str) -> BTreeSet<String> {
    let g = ws.groups.iter().find(|g| g.id == group).unwrap();
    g.members
        .iter()
        .chain(&g.invites)
        .map(|e| e.to_lowercase())
        .collect()
}

/// The permissions of every user and group, by principal, as JSON (to compare wholesale).
pub(crate) fn all_permissions(ws: &Workspace) -> BTreeMap<String, serde_json::Value> {
    ws.users
        .iter()
        .map(|u| {
            (
                format!("user:{}", u.id),
                serde_json::to_value(&u.permissions).unwrap(),
            )
        })
        .chain(ws.groups.iter().map(|g| {
            (
                format!("group:{}", g.id),
                serde_json::to_value(&g.permissions).unwrap(),
            )
        }))
        .collect()
}

/// Parses an id of any Baton id type.
pub(crate) fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

/// The body of a logged request as JSON.
pub(crate) fn body(r: &segment_mock::LoggedRequest) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap()
}

/// The path (with the query, as sent) of a logged request.
pub(crate) fn sent_path(r: &segment_mock::LoggedRequest) -> String {
    if r.raw_query.is_empty() {
        r.raw_path.clone()
    } else {
        format!("{}?{}", r.raw_path, r.raw_query)
    }
}
