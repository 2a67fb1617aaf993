//! The loopback admin endpoints used by the binary.

use serde_json::{Value, json};

use crate::common::Harness;

#[tokio::test]
async fn admin_endpoints_are_unauthenticated_and_uncounted() {
    let h = Harness::demo().await;
    h.get("/users").await;
    let get = |p: &str| h.client.get(h.url(p)).send();
    let counters: Value = get("/__admin/counters")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["total"], 1);
    assert_eq!(counters["per_operation"]["listUsers"], 1);
    let log: Value = get("/__admin/log").await.unwrap().json().await.unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["operation"], "listUsers");
    assert_eq!(get("/__admin/health").await.unwrap().status(), 200);
    assert_eq!(h.server.counters().total, 1, "admin calls are not counted");

    // Dump equals the in-process snapshot.
    let dump: segment_mock::Workspace = get("/__admin/workspace")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dump, h.server.workspace());

    // Load a smaller workspace.
    let mut small = dump.clone();
    small.users.truncate(2);
    for g in &mut small.groups {
        g.members
            .retain(|m| small.users.iter().any(|u| &u.email == m));
    }
    let r = h
        .client
        .post(h.url("/__admin/workspace"))
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.get("/users").await.data()["users"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // An inconsistent fixture is refused.
    let mut broken = small.clone();
    broken.groups[0].members.push("ghost@example.com".into());
    let r = h
        .client
        .post(h.url("/__admin/workspace"))
        .json(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Faults, plan and features.
    let r = h
        .client
        .put(h.url("/__admin/faults"))
        .json(&json!({"rate_5xx": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(h.get("/").await.status >= 500);
    h.client
        .put(h.url("/__admin/faults"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    h.client
        .put(h.url("/__admin/plan"))
        .json(&json!("team"))
        .send()
        .await
        .unwrap();
    assert_eq!(h.get("/groups").await.status, 400);
    h.client
        .put(h.url("/__admin/features"))
        .json(&json!({"spaces": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(h.get("/spaces").await.status, 403);
    assert_eq!(h.get("/warehouses").await.status, 200);

    let r = h.client.post(h.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.server.counters().total, 0);
}
