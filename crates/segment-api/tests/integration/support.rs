//! Shared helpers: a mock server with a generated workspace, clients, and a recording hook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use segment_api::hooks::{BoxFuture, RequestHook, RequestInfo, ResponseInfo};
use segment_api::{Client, ClientBuilder, RetryPolicy, Token};
use segment_mock::{GenSpec, MockConfig, MockServer, Workspace, generate};

/// The demo-sized generated workspace (25 users, 4 groups, ...), seed 42.
pub(crate) fn workspace() -> Workspace {
    generate(&GenSpec::default())
}

/// Starts a mock over the generated workspace with writes unlimited unless configured.
pub(crate) async fn mock() -> MockServer {
    mock_with(MockConfig::new(workspace()).write_limit_per_min(None)).await
}

pub(crate) async fn mock_with(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

/// A builder aimed at the mock, with its token, a small page size (to exercise cursors)
/// and fast retries. No reqwest timeouts (tests may run on a paused clock).
pub(crate) fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(Token::new(server.token()))
        .no_timeout()
        .base_url(server.base_url())
        .page_size(7)
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(120),
            rate_limit_budget: Duration::from_secs(600),
        })
}

pub(crate) fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// What a [`RecordingHook`] saw.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    Before(RequestInfo),
    After(ResponseInfo),
    Retry(RequestInfo, Duration),
}

/// A hook that records every call.
#[derive(Debug, Default)]
pub(crate) struct RecordingHook {
    events: Mutex<Vec<Event>>,
}

impl RecordingHook {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub(crate) fn retries(&self) -> Vec<(RequestInfo, Duration)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Retry(info, delay) => Some((info, delay)),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn afters(&self) -> Vec<ResponseInfo> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::After(info) => Some(info),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn befores(&self) -> Vec<RequestInfo> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Before(info) => Some(info),
                _ => None,
            })
            .collect()
    }
}

impl RequestHook for RecordingHook {
    fn before(&self, req: RequestInfo) -> BoxFuture<'_, ()> {
        self.events.lock().unwrap().push(Event::Before(req));
        Box::pin(async {})
    }

    fn after(&self, resp: &ResponseInfo) {
        self.events.lock().unwrap().push(Event::After(*resp));
    }

    fn on_retry(&self, req: &RequestInfo, delay: Duration) {
        self.events.lock().unwrap().push(Event::Retry(*req, delay));
    }
}
