//! The optional health endpoints: `/live` always, `/ready` after the startup Hello, `/health`
//! from the connector's validation.

use c1_mock::Call;

use crate::support::{Harness, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_answer_with_json() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut h = Harness::start(|c| c.health = Some(addr)).await;
    assert!(
        h.mock
            .wait_until(WAIT, |c| c
                .iter()
                .any(|c| matches!(c, Call::GetTask { .. })))
            .await
    );
    let http = reqwest::Client::new();
    for (path, status) in [("live", "alive"), ("ready", "ready"), ("health", "healthy")] {
        let response = http
            .get(format!("http://{addr}/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "/{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], status, "/{path}");
        assert!(body["timestamp"].as_u64().unwrap() > 0);
    }
    h.stop().await.unwrap();
}
