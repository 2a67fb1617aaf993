//! Transport-level rules of the client: `localhost` is pinned to 127.0.0.1.

use segment_api::{Client, Token};

use crate::canned::{Canned, Reply};

const WORKSPACE_OK: &str = r#"{"data":{"workspace":{"id":"w","name":"n","slug":"s"}}}"#;

#[tokio::test]
async fn localhost_base_url_reaches_the_ipv4_loopback_listener() {
    let canned = Canned::start(vec![Reply::json(200, WORKSPACE_OK)]).await;
    let port = canned.base_url().rsplit(':').next().unwrap().to_owned();
    let api = Client::builder(Token::new("t"))
        .base_url(format!("http://localhost:{port}"))
        .build()
        .unwrap();
    assert_eq!(api.get_workspace().await.unwrap().id, "w");
    let seen = canned.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].header("host"),
        Some(format!("localhost:{port}").as_str())
    );
}
