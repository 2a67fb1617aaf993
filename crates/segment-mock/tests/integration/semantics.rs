//! Workspace semantics beyond the checklist: deletes, idempotency, feature gating, validation,
//! path decoding, counters and the request log.

use segment_mock::Features;
use serde_json::json;

use crate::common::{Harness, config, enc, group_with_members};

#[tokio::test]
async fn deleting_users_removes_them_from_groups() {
    let h = Harness::demo().await;
    let g = group_with_members(&h.ws);
    let email = g.members[0].clone();
    let user = h.ws.user_by_email(&email).unwrap().clone();
    let r = h.delete(&format!("/users?userIds.0={}", user.id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(h.get(&format!("/users/{}", user.id)).await.status, 404);
    let ws = h.server.workspace();
    assert!(ws.groups.iter().all(|g| !g.members.contains(&email)));
    let d = h.get(&format!("/groups/{}", g.id)).await.data();
    assert_eq!(d["userGroup"]["memberCount"], g.members.len() - 1);
    // Unknown id: 404 and nothing deleted.
    let other = &h.ws.users[1].id;
    let r = h
        .delete(&format!("/users?userIds.0={other}&userIds.1=unknownUserId"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(h.get(&format!("/users/{other}")).await.status, 200);
}

#[tokio::test]
async fn deleting_invites_is_idempotent_and_cleans_groups() {
    let h = Harness::demo().await;
    let g = h.ws.groups.iter().find(|g| !g.invites.is_empty()).unwrap();
    let email = g.invites[0].clone();
    for _ in 0..2 {
        let r = h
            .delete(&format!("/invites?emails.0={}", enc(&email)))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.data(), json!({"status": "SUCCESS"}));
    }
    let r = h
        .delete("/invites?emails.0=never.invited%40example.com")
        .await;
    assert_eq!(r.status, 200);
    let ws = h.server.workspace();
    assert!(ws.invites.iter().all(|i| i.email != email));
    assert!(ws.groups.iter().all(|g| !g.invites.contains(&email)));
}

#[tokio::test]
async fn disabled_features_answer_403() {
    let features = Features {
        spaces: false,
        warehouses: false,
        functions: false,
    };
    let h = Harness::start(config().features(features)).await;
    for p in ["/spaces", "/warehouses", "/functions?resourceType=SOURCE"] {
        let r = h.get(p).await;
        assert_eq!(r.status, 403, "{p}");
        assert_eq!(r.errors()[0]["type"], "forbidden");
        assert!(
            r.errors()[0]["message"]
                .as_str()
                .unwrap()
                .contains("feature is not enabled")
        );
    }
    h.server.set_features(Features::default());
    assert_eq!(h.get("/spaces").await.status, 200);
}

#[tokio::test]
async fn functions_need_a_valid_resource_type() {
    let h = Harness::demo().await;
    let r = h.get("/functions").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.errors()[0]["field"], "resourceType");
    assert_eq!(h.get("/functions?resourceType=PLUGIN").await.status, 422);
    let per_kind =
        h.ws.functions
            .iter()
            .filter(|f| f.resource_type == segment_mock::FunctionKind::InsertSource)
            .count();
    let d = h.get("/functions?resourceType=INSERT_SOURCE").await.data();
    assert_eq!(d["functions"].as_array().unwrap().len(), per_kind);
}

#[tokio::test]
async fn group_crud_and_validation() {
    let h = Harness::demo().await;
    assert_eq!(h.post("/groups", &json!({})).await.status, 422);
    assert_eq!(h.post("/groups", &json!({"name": ""})).await.status, 422);
    let r = h
        .client
        .post(h.url("/groups"))
        .bearer_auth(h.server.token())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let g = &h.ws.groups[0];
    let r = h
        .send(
            reqwest::Method::PATCH,
            &format!("/groups/{}", g.id),
            Some(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["userGroup"]["name"], "Renamed");
    let r = h.delete(&format!("/groups/{}", g.id)).await;
    assert_eq!(r.data(), json!({"status": "SUCCESS"}));
    assert_eq!(h.get(&format!("/groups/{}", g.id)).await.status, 404);
    assert_eq!(h.delete(&format!("/groups/{}", g.id)).await.status, 404);
}

#[tokio::test]
async fn permission_inputs_are_validated() {
    let h = Harness::demo().await;
    let u = &h.ws.users[2].id;
    let owner = "1WDUuRLxv84rrfCNUwvkrRtkxnS";
    let src = &h.ws.sources[0].id;
    let cases = [
        json!({"permissions": [{"roleId": "nope", "resources": [{"id": h.ws.id, "type": "WORKSPACE"}]}]}),
        json!({"permissions": [{"roleId": owner}]}),
        json!({"permissions": [{"roleId": owner, "resources": []}]}),
        json!({"permissions": [{"roleId": owner, "resources": [{"id": h.ws.id, "type": "DESTINATION"}]}]}),
        json!({"permissions": [{"roleId": owner, "resources": [{"id": "missing", "type": "SOURCE"}]}]}),
        json!({"permissions": [{"roleId": owner, "resources": [{"id": src, "type": "SOURCE",
            "labels": [{"key": "environment", "value": "prod"}]}]}]}),
        json!({"permissions": [{"roleId": owner, "resources": [{"id": h.ws.id, "type": "WORKSPACE",
            "labels": [{"key": "nope", "value": "nope"}]}]}]}),
        json!({"permissions": "x"}),
    ];
    for c in cases {
        let r = h.post(&format!("/users/{u}/permissions"), &c).await;
        assert_eq!(r.status, 422, "{c}");
        assert_eq!(r.errors()[0]["type"], "input-validation");
    }
    assert_eq!(
        h.post("/users/nope/permissions", &json!({"permissions": []}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn path_parameters_are_percent_decoded_and_logged() {
    let mut cfg = config();
    cfg.workspace.users[0].id = "odd id/with+chars".to_owned();
    let h = Harness::start(cfg).await;
    let r = h.get("/users/odd%20id%2Fwith%2Bchars").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data()["user"]["id"], "odd id/with+chars");
    let entry = h.server.request_log().pop().unwrap();
    assert_eq!(entry.operation, "getUser");
    assert_eq!(entry.path_params, vec!["odd id/with+chars".to_owned()]);
    assert_eq!(entry.raw_path, "/users/odd%20id%2Fwith%2Bchars");
    assert_eq!(entry.status, 200);

    h.get("/users?pagination.count=3&pagination.cursor=Mw%3D%3D")
        .await;
    let entry = h.server.request_log().pop().unwrap();
    assert_eq!(entry.query_param("pagination.cursor"), Some("Mw=="));
    assert_eq!(
        entry.raw_query,
        "pagination.count=3&pagination.cursor=Mw%3D%3D"
    );
}

#[tokio::test]
async fn counters_and_log() {
    let h = Harness::demo().await;
    h.get("/").await;
    h.get("/users").await;
    h.get("/users").await;
    h.post("/groups", &json!({"name": "n"})).await;
    h.get("/nowhere").await;
    h.send_with(reqwest::Method::GET, "/roles", None, None)
        .await;
    let c = h.server.counters();
    assert_eq!(c.total, 6);
    assert_eq!(c.reads, 5);
    assert_eq!(c.writes, 1);
    assert_eq!(c.per_operation["listUsers"], 2);
    assert_eq!(c.per_operation["getWorkspace"], 1);
    assert_eq!(c.per_operation["createUserGroup"], 1);
    assert_eq!(c.per_operation["unknown"], 1);
    assert_eq!(c.per_status[&200], 4);
    assert_eq!(c.per_status[&404], 1);
    assert_eq!(c.per_status[&401], 1);
    let log = h.server.request_log();
    assert_eq!(log.len(), 6);
    assert_eq!(log[3].method, "POST");
    assert_eq!(log[3].body, r#"{"name":"n"}"#);
    h.server.reset_counters();
    assert_eq!(h.server.counters().total, 0);
    assert!(h.server.request_log().is_empty());
}

#[tokio::test]
async fn latency_is_applied_on_tokio_time() {
    // On a real clock this only checks the request still succeeds; the delay itself is a tokio
    // sleep (see the paused-clock rate-limit tests), never asserted as wall time.
    let h = Harness::start(config().latency(std::time::Duration::from_millis(5))).await;
    assert_eq!(h.get("/").await.status, 200);
}

#[tokio::test]
async fn wall_clock_latency_never_answers_before_the_latency() {
    // A lower bound only (the timer must not wake early); how close it comes is a benchmark.
    let latency = std::time::Duration::from_millis(30);
    let h = Harness::start(config().latency(latency).wall_clock_latency(true)).await;
    for _ in 0..3 {
        let sent = std::time::Instant::now();
        assert_eq!(h.get("/").await.status, 200);
        assert!(
            sent.elapsed() >= latency,
            "answered after {:?}",
            sent.elapsed()
        );
    }
}

#[tokio::test]
async fn large_groups_resolve_members_by_email_ignoring_case() {
    let mut ws = segment_mock::generate(&segment_mock::GenSpec::sized(2_000, 4, 1, 1, 1, 1, 5));
    let everyone: Vec<String> = ws
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            if i % 2 == 0 {
                u.email.to_ascii_uppercase()
            } else {
                u.email.clone()
            }
        })
        .collect();
    ws.groups[0].members = everyone.clone();
    ws.groups[0]
        .members
        .push("not.a.user@example.com".to_owned());
    ws.groups[1].members.clear();
    ws.groups[1].invites.clear();
    let (big, small) = (ws.groups[0].id.clone(), ws.groups[1].id.clone());
    let expected: Vec<String> = ws.users.iter().map(|u| u.id.clone()).collect();
    let invite = ws.invites[0].email.clone();
    let h =
        crate::common::Harness::start(segment_mock::MockConfig::new(ws).write_limit_per_min(None))
            .await;

    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/groups/{big}/users?pagination.count=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&pagination.cursor={}", enc(c)));
        }
        let d = h.get(&path).await.data();
        for u in d["users"].as_array().unwrap() {
            ids.push(u["id"].as_str().unwrap().to_owned());
        }
        match d["pagination"]["next"].as_str() {
            Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
            _ => break,
        }
    }
    assert_eq!(ids, expected, "every member once, in group order");

    // Adding members: emails of users (any case) and invites, duplicates collapse.
    let mut emails: Vec<String> = everyone[..300].to_vec();
    emails.extend(everyone[..300].iter().map(|e| e.to_ascii_lowercase()));
    emails.push(invite.to_ascii_uppercase());
    let r = h
        .post(
            &format!("/groups/{small}/users"),
            &json!({ "emails": emails }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ws = h.server.workspace();
    let g = ws.groups.iter().find(|g| g.id == small).unwrap();
    assert_eq!(g.members.len(), 300);
    assert_eq!(g.invites, [invite]);
    for (i, m) in g.members.iter().enumerate() {
        assert_eq!(m, &ws.users[i].email, "stored as the user's email");
    }
}
