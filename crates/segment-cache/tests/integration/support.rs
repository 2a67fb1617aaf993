//! Shared helpers: mock workspaces, sessions against a mock, a send-time
//! recorder and a paused-clock ticker.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use segment_api::hooks::{Access, BoxFuture, RequestHook, RequestInfo, ResponseInfo};
use segment_api::{Client, Token};
use segment_cache::{Session, SessionConfig};
use segment_mock::{MockConfig, MockServer, Role, Workspace};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A workspace with the given `(id, name)` roles.
pub(crate) fn workspace_with_roles<'a>(
    roles: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Workspace {
    let mut ws = Workspace::new("ws-cache-test", "Cache test", "cache-test");
    ws.roles = roles
        .into_iter()
        .map(|(id, name)| Role {
            id: id.into(),
            name: name.into(),
            description: format!("{name} role"),
        })
        .collect();
    ws
}

/// A workspace with `n` roles named `Role 0`, `Role 1`, ...
pub(crate) fn workspace_with_n_roles(n: usize) -> Workspace {
    let ids: Vec<(String, String)> = (0..n)
        .map(|i| (format!("role-{i:04}"), format!("Role {i}")))
        .collect();
    workspace_with_roles(ids.iter().map(|(i, n)| (i.as_str(), n.as_str())))
}

pub(crate) async fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

/// A session on the mock with the given page size and session config. No
/// client timeouts: the tests run on tokio's paused clock.
pub(crate) fn session(server: &MockServer, page_size: u16, config: SessionConfig) -> Session {
    let builder = Client::builder(Token::new(server.token()))
        .no_timeout()
        .base_url(server.base_url())
        .page_size(page_size);
    Session::from_builder(builder, config).unwrap()
}

/// Requests of one operation the mock received.
pub(crate) fn mock_requests(server: &MockServer, operation: &str) -> u64 {
    server
        .counters()
        .per_operation
        .get(operation)
        .copied()
        .unwrap_or(0)
}

/// Records the moment each attempt is sent (its `before` runs after pacing).
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    sent: Mutex<Vec<(Instant, Access)>>,
    start: Mutex<Option<Instant>>,
}

impl Recorder {
    pub(crate) fn new() -> Arc<Recorder> {
        let r = Recorder::default();
        *r.start.lock().unwrap() = Some(Instant::now());
        Arc::new(r)
    }

    /// Send times (since the recorder was created) of one access class.
    pub(crate) fn sent(&self, access: Access) -> Vec<Duration> {
        let start = self.start.lock().unwrap().unwrap();
        let mut times: Vec<Duration> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, a)| *a == access)
            .map(|(t, _)| t.duration_since(start))
            .collect();
        times.sort();
        times
    }
}

impl RequestHook for Recorder {
    fn before(&self, req: RequestInfo) -> BoxFuture<'_, ()> {
        self.sent.lock().unwrap().push((Instant::now(), req.access));
        Box::pin(std::future::ready(()))
    }

    fn after(&self, _resp: &ResponseInfo) {}
}

/// The largest number of times in any half-open window `[t, t + window)`.
pub(crate) fn max_in_any_window(times: &[Duration], window: Duration) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|&&t| t < times[i] + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// On a paused clock, tokio jumps to the next timer whenever the runtime
/// waits for I/O, which could fire a far-away client timeout while the
/// mock is answering. A 5 ms ticker keeps every such jump small.
pub(crate) struct Ticker(JoinHandle<()>);

impl Ticker {
    pub(crate) fn start() -> Ticker {
        Ticker(tokio::spawn(async {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }))
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Ticker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticker")
    }
}
