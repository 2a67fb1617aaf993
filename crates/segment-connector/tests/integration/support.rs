//! Shared helpers: mock servers and sessions, reading a whole c1z back, the referential
//! integrity check, and a tiny canned-response HTTP server for payloads the mock cannot
//! produce (roles missing from the role list, statuses on arbitrary routes).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use baton_c1z::{C1zReader, EntitlementFilter, GrantFilter, ReaderOptions, ResourceFilter};
use baton_model::pb;
use prost::Message;
use segment_api::{Client, Token};
use segment_cache::{PacerConfig, Session, SessionConfig};
use segment_connector::{SyncOptions, SyncReport, sync};
use segment_mock::{MockConfig, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub(crate) async fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

/// A session on `base_url` with `token`, no client-side rate limits.
pub(crate) fn session_for(base_url: &str, token: &str) -> Session {
    let builder = Client::builder(Token::new(token)).base_url(base_url);
    Session::from_builder(
        builder,
        SessionConfig::default().with_pacer(PacerConfig::unlimited()),
    )
    .unwrap()
}

pub(crate) fn session(server: &MockServer) -> Session {
    session_for(&server.base_url(), server.token())
}

/// Syncs the mock into `path` with a fresh session.
pub(crate) async fn sync_mock(
    server: &MockServer,
    path: &Path,
    options: &SyncOptions,
) -> SyncReport {
    sync(&session(server), path, options).await.unwrap()
}

/// Everything of the latest sync run of a c1z, keyed by id.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Contents {
    pub(crate) resource_types: BTreeMap<String, pb::ResourceType>,
    pub(crate) resources: BTreeMap<String, pb::Resource>,
    pub(crate) entitlements: BTreeMap<String, pb::Entitlement>,
    pub(crate) grants: BTreeMap<String, pb::Grant>,
}

fn rid(id: &pb::ResourceId) -> String {
    format!("{}:{}", id.resource_type, id.resource)
}

pub(crate) fn resource_key(r: &pb::Resource) -> String {
    rid(r.id.as_ref().unwrap())
}

impl Contents {
    pub(crate) fn read(path: &Path) -> Contents {
        let reader = C1zReader::open(path, ReaderOptions::default()).unwrap();
        let view = reader.latest().unwrap();
        let mut c = Contents::default();
        for rt in view.resource_types() {
            let rt = rt.unwrap();
            c.resource_types.insert(rt.id.clone(), rt);
        }
        for r in view.resources(&ResourceFilter::default()) {
            let r = r.unwrap();
            assert!(c.resources.insert(resource_key(&r), r).is_none());
        }
        for e in view.entitlements(&EntitlementFilter::default()) {
            let e = e.unwrap();
            assert!(c.entitlements.insert(e.id.clone(), e).is_none());
        }
        for g in view.grants(&GrantFilter::default()) {
            let g = g.unwrap();
            assert!(c.grants.insert(g.id.clone(), g).is_none());
        }
        c
    }

    /// The encoded objects by id (the "logical content" compared across runs).
    pub(crate) fn encoded(&self) -> [BTreeMap<String, Vec<u8>>; 4] {
        fn enc<M: Message>(m: &BTreeMap<String, M>) -> BTreeMap<String, Vec<u8>> {
            m.iter()
                .map(|(k, v)| (k.clone(), v.encode_to_vec()))
                .collect()
        }
        [
            enc(&self.resource_types),
            enc(&self.resources),
            enc(&self.entitlements),
            enc(&self.grants),
        ]
    }

    pub(crate) fn resources_of(&self, resource_type: &str) -> Vec<&pb::Resource> {
        self.resources
            .values()
            .filter(|r| r.id.as_ref().unwrap().resource_type == resource_type)
            .collect()
    }

    pub(crate) fn grants_on_type(&self, resource_type: &str) -> usize {
        self.grants
            .values()
            .filter(|g| g.id.starts_with(&format!("{resource_type}:")))
            .count()
    }

    /// Referential integrity of the whole sync: every grant's entitlement exists (with the
    /// same resource), its principal exists; every entitlement's resource exists; every
    /// resource's type and parent exist; exactly one workspace.
    pub(crate) fn assert_integrity(&self) {
        let workspaces = self.resources_of("workspace");
        assert_eq!(workspaces.len(), 1, "exactly one workspace resource");
        for (key, r) in &self.resources {
            let id = r.id.as_ref().unwrap();
            assert!(
                self.resource_types.contains_key(&id.resource_type),
                "resource {key} has an unknown type"
            );
            match &r.parent_resource_id {
                Some(p) => assert!(
                    self.resources.contains_key(&rid(p)),
                    "parent {} of {key} missing",
                    rid(p)
                ),
                None => assert_eq!(id.resource_type, "workspace", "{key} has no parent"),
            }
        }
        for (id, e) in &self.entitlements {
            let res = rid(e.resource.as_ref().unwrap().id.as_ref().unwrap());
            assert!(
                self.resources.contains_key(&res),
                "resource {res} of entitlement {id} missing"
            );
            assert!(
                id.starts_with(&format!("{res}:")),
                "entitlement {id} is not on {res}"
            );
        }
        for (id, g) in &self.grants {
            let ent = g.entitlement.as_ref().unwrap();
            let stored = self
                .entitlements
                .get(&ent.id)
                .unwrap_or_else(|| panic!("entitlement {} of grant {id} missing", ent.id));
            let ent_res = rid(ent.resource.as_ref().unwrap().id.as_ref().unwrap());
            assert_eq!(
                ent_res,
                rid(stored.resource.as_ref().unwrap().id.as_ref().unwrap())
            );
            assert!(
                self.resources.contains_key(&ent_res),
                "entitlement resource {ent_res} missing"
            );
            let principal = rid(g.principal.as_ref().unwrap().id.as_ref().unwrap());
            assert!(
                self.resources.contains_key(&principal),
                "principal {principal} of {id} missing"
            );
            assert_eq!(id, &format!("{}:{principal}", ent.id), "grant id rule");
        }
    }
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

/// A loopback HTTP/1.1 server answering `GET <path>` with canned JSON bodies (exact path
/// match, query ignored) and 404 otherwise. One request per connection.
pub(crate) async fn canned_server(routes: HashMap<String, String>) -> String {
    canned_server_with_status(
        routes
            .into_iter()
            .map(|(path, body)| (path, (200, body)))
            .collect(),
    )
    .await
}

/// Like [`canned_server`], with a status per route.
pub(crate) async fn canned_server_with_status(routes: HashMap<String, (u16, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let path = target.split('?').next().unwrap_or("/").to_owned();
                let (status, body) = match routes.get(&path) {
                    Some((code, b)) => (format!("{code} Canned"), b.clone()),
                    None => (
                        "404 Not Found".to_owned(),
                        r#"{"errors":[{"type":"not-found","message":"Resource not found"}]}"#
                            .to_owned(),
                    ),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/vnd.segment.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A list response body.
pub(crate) fn list_body(key: &str, items: serde_json::Value) -> String {
    serde_json::json!({"data": {key: items, "pagination": {"current": "MA==", "next": null}}})
        .to_string()
}

/// An object response body.
pub(crate) fn object_body(key: &str, item: serde_json::Value) -> String {
    serde_json::json!({"data": {key: item}}).to_string()
}
