//! Fidelity checklist items 1–5 (segment-api.md §11): authentication, media types, envelopes,
//! pagination and array query parameters.

use base64::Engine as _;
use reqwest::Method;
use segment_mock::{GenSpec, MockConfig, generate};
use serde_json::{Value, json};

use super::read_paths;
use crate::common::{Harness, enc};

// §11.1 Bearer token; 401 with an errors envelope otherwise.
#[tokio::test]
async fn c01_requires_bearer_token() {
    let h = Harness::demo().await;
    for token in [None, Some("wrong-token")] {
        let r = h.send_with(Method::GET, "/users", None, token).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.content_type(), "application/json");
        let errors = r.errors();
        assert_eq!(errors[0]["type"], "unauthorized");
    }
    // Basic auth with the right secret is still refused.
    let r = h
        .client
        .get(h.url("/"))
        .basic_auth(h.server.token(), None::<&str>)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(h.get("/").await.status, 200);
}

// §11.2 Media types.
#[tokio::test]
async fn c02_content_types() {
    let h = Harness::demo().await;
    for p in read_paths(&h) {
        let r = h.get(&p).await;
        assert_eq!(r.status, 200, "{p}");
        let expected = if p == "/spaces" {
            "application/vnd.segment.v1alpha+json"
        } else {
            "application/vnd.segment.v1+json"
        };
        assert_eq!(r.content_type(), expected, "{p}");
    }
    let r = h.get("/users/doesNotExist").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.content_type(), "application/json");
}

// §11.3 {"data"} xor {"errors"}.
#[tokio::test]
async fn c03_envelopes_never_mix() {
    let h = Harness::demo().await;
    for p in read_paths(&h) {
        let v = h.get(&p).await.json();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), vec!["data"], "{p}");
    }
    for p in ["/nope", "/users?pagination.count=0", "/functions"] {
        let v = h.get(p).await.json();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), vec!["errors"], "{p}");
    }
}

// §11.4 Pagination: dot and bracket forms, default 200, 1..=1000, base64 cursors, current/next/previous/totalEntries.
#[tokio::test]
async fn c04_pagination_forms_and_defaults() {
    let spec = GenSpec {
        users: 250,
        ..GenSpec::default()
    };
    let h = Harness::start(MockConfig::new(generate(&spec)).write_limit_per_min(None)).await;

    // Default count is 200.
    let d = h.get("/users").await.data();
    assert_eq!(d["users"].as_array().unwrap().len(), 200);
    assert_eq!(d["pagination"]["current"], "MA==");
    assert_eq!(d["pagination"]["next"], "MjAw");
    assert!(
        d["pagination"].get("previous").is_none(),
        "no previous on the first page"
    );
    assert_eq!(d["pagination"]["totalEntries"], 250);

    // Dot and bracket forms give the same page.
    let dot = h
        .get("/users?pagination.count=7&pagination.cursor=Nw%3D%3D")
        .await
        .data();
    let bracket = h
        .get("/users?pagination%5Bcount%5D=7&pagination%5Bcursor%5D=Nw%3D%3D")
        .await
        .data();
    let raw_bracket = h
        .get("/users?pagination[count]=7&pagination[cursor]=Nw==")
        .await
        .data();
    assert_eq!(dot, bracket);
    assert_eq!(dot, raw_bracket);
    assert_eq!(dot["pagination"]["current"], "Nw==");
    assert_eq!(dot["pagination"]["previous"], "MA==");
    assert_eq!(dot["pagination"]["next"], "MTQ=");
    assert_eq!(dot["users"][0]["id"], h.ws.users[7].id.as_str());

    // Cursors are base64(offset) and walking them yields every user exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/users?pagination.count=64".to_owned(),
            Some(c) => format!("/users?pagination.count=64&pagination.cursor={}", enc(c)),
        };
        let d = h.get(&path).await.data();
        let current = d["pagination"]["current"].as_str().unwrap().to_owned();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&current)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), seen.len().to_string());
        for u in d["users"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        match d["pagination"].get("next") {
            Some(Value::String(n)) => cursor = Some(n.clone()),
            None | Some(Value::Null) => break,
            Some(other) => panic!("bad next {other}"),
        }
    }
    let all: Vec<String> = h.ws.users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(seen, all);

    // Out-of-range or malformed counts are 422 input-validation.
    for bad in ["0", "1001", "-1", "abc", "2.5"] {
        for form in ["pagination.count", "pagination%5Bcount%5D"] {
            let r = h.get(&format!("/users?{form}={bad}")).await;
            assert_eq!(r.status, 422, "{form}={bad}");
            assert_eq!(r.errors()[0]["type"], "input-validation");
        }
    }
    assert_eq!(h.get("/users?pagination.count=1000").await.status, 200);
    assert_eq!(h.get("/users?pagination.count=1").await.status, 200);
    // A cursor without a count is invalid (count is required inside the object).
    assert_eq!(h.get("/users?pagination.cursor=MA%3D%3D").await.status, 422);
    assert_eq!(
        h.get("/users?pagination.count=5&pagination.cursor=%21%21")
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn c04_last_page_and_total_entries_variants() {
    let h = Harness::demo().await;
    // Last page: next omitted on most lists, null on some (both appear on the live API).
    let users = h.get("/users?pagination.count=1000").await.data();
    assert!(users["pagination"].get("next").is_none());
    let invites = h.get("/invites?pagination.count=1000").await.data();
    assert_eq!(invites["pagination"]["next"], Value::Null);
    // totalEntries omitted on roles, groups and functions, as in Segment's examples.
    for p in ["/roles", "/groups", "/functions?resourceType=SOURCE"] {
        let d = h.get(p).await.data();
        assert!(d["pagination"].get("totalEntries").is_none(), "{p}");
        assert!(d["pagination"]["current"].is_string(), "{p}");
    }
    for p in ["/users", "/invites", "/sources", "/warehouses", "/spaces"] {
        assert!(
            h.get(p).await.data()["pagination"]["totalEntries"].is_u64(),
            "{p}"
        );
    }
    // listRoles paginates (count=2 -> next "Mg==").
    let roles = h.get("/roles?pagination.count=2").await.data();
    assert_eq!(roles["roles"].as_array().unwrap().len(), 2);
    assert_eq!(roles["pagination"]["next"], "Mg==");
    // Labels are not paginated.
    assert!(h.get("/labels").await.data().get("pagination").is_none());
    // Beyond the end: empty page, still a current cursor.
    let beyond = h
        .get("/users?pagination.count=5&pagination.cursor=OTk5")
        .await
        .data();
    assert_eq!(beyond["users"], json!([]));
    assert_eq!(beyond["pagination"]["current"], "OTk5");
}

// §11.5 Array query parameters in dot and bracket form; missing required array -> 422.
#[tokio::test]
async fn c05_array_query_parameters() {
    let h = Harness::demo().await;
    let a = &h.ws.users[5];
    let b = &h.ws.users[6];
    let r = h
        .delete(&format!(
            "/users?userIds.0={}&userIds%5B1%5D={}",
            a.id, b.id
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.data(), json!({"status": "SUCCESS"}));
    let ws = h.server.workspace();
    assert!(!ws.users.iter().any(|u| u.id == a.id || u.id == b.id));

    let inv = &h.ws.invites;
    let r = h
        .delete(&format!(
            "/invites?emails.0={}&emails[1]={}",
            enc(&inv[0].email),
            enc(&inv[1].email)
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.server.workspace().invites.len(), inv.len() - 2);

    for p in [
        "/users",
        "/invites",
        "/users?userIds=abc",
        "/invites?emails=a%40b.com",
    ] {
        let r = h.delete(p).await;
        assert_eq!(r.status, 422, "{p}");
        assert_eq!(r.errors()[0]["type"], "input-validation");
    }
    let g = &h.ws.groups[0].id;
    assert_eq!(h.delete(&format!("/group/{g}/users")).await.status, 422);
    // Required body arrays too.
    assert_eq!(
        h.post(&format!("/groups/{g}/users"), &json!({}))
            .await
            .status,
        422
    );
    assert_eq!(
        h.put(&format!("/group/{g}/users"), &json!({})).await.status,
        422
    );
    assert_eq!(h.post("/invites", &json!({})).await.status, 422);
    let u = &h.ws.users[0].id;
    assert_eq!(
        h.post(&format!("/users/{u}/permissions"), &json!({}))
            .await
            .status,
        422
    );
}
