//! Shared helpers: a started mock plus a loopback reqwest client.

use reqwest::Method;
use reqwest::header::HeaderMap;
use segment_mock::{GenSpec, MockConfig, MockServer, Workspace, generate};
use serde_json::Value;

pub(crate) struct Harness {
    pub(crate) server: MockServer,
    pub(crate) client: reqwest::Client,
    pub(crate) ws: Workspace,
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", self.text))
    }

    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `data` of a success body, asserting the envelope.
    pub(crate) fn data(&self) -> Value {
        let v = self.json();
        assert!(
            v.get("errors").is_none(),
            "success body has errors: {}",
            self.text
        );
        v.get("data")
            .cloned()
            .unwrap_or_else(|| panic!("no data: {}", self.text))
    }

    /// `errors` of an error body, asserting the envelope.
    pub(crate) fn errors(&self) -> Vec<Value> {
        let v = self.json();
        assert!(
            v.get("data").is_none(),
            "error body has data: {}",
            self.text
        );
        v.get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| panic!("no errors: {}", self.text))
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_idle_timeout(None)
        .build()
        .unwrap()
}

/// Default config for tests: demo workspace, no rate limits.
pub(crate) fn config() -> MockConfig {
    MockConfig::new(generate(&GenSpec::default())).write_limit_per_min(None)
}

impl Harness {
    pub(crate) async fn start(config: MockConfig) -> Self {
        let ws = config.workspace.clone();
        let server = MockServer::start(config).await.unwrap();
        Self {
            server,
            client: client(),
            ws,
        }
    }

    pub(crate) async fn demo() -> Self {
        Self::start(config()).await
    }

    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.server.base_url())
    }

    pub(crate) async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Resp {
            status,
            headers,
            text,
        }
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        let token = self.server.token().to_owned();
        self.send_with(method, path, body, Some(&token)).await
    }

    pub(crate) async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved kept).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A group that has members, one that has invitees, and an empty group of the demo workspace.
pub(crate) fn group_with_members(ws: &Workspace) -> &segment_mock::Group {
    ws.groups.iter().find(|g| !g.members.is_empty()).unwrap()
}

/// A user who is in no group of `group`.
pub(crate) fn user_not_in<'a>(
    ws: &'a Workspace,
    group: &segment_mock::Group,
) -> &'a segment_mock::User {
    ws.users
        .iter()
        .find(|u| {
            !group
                .members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&u.email))
        })
        .unwrap()
}
