//! One test (or more) per item of the mock-server fidelity checklist, segment-api.md §11.

use base64::Engine as _;
use reqwest::Method;
use segment_mock::{GenSpec, MockConfig, Plan, generate};
use serde_json::{Value, json};

use crate::common::{Harness, config, enc, group_with_members, user_not_in};

/// Every GET the mock serves, for sweeps.
fn read_paths(h: &Harness) -> Vec<String> {
    let user = &h.ws.users[0].id;
    let group = &h.ws.groups[0].id;
    vec![
        "/".into(),
        "/users".into(),
        format!("/users/{user}"),
        format!("/users/{user}/groups"),
        "/groups".into(),
        format!("/groups/{group}"),
        format!("/groups/{group}/users"),
        format!("/groups/{group}/invites"),
        "/roles".into(),
        "/invites".into(),
        "/sources".into(),
        "/warehouses".into(),
        "/functions?resourceType=SOURCE".into(),
        "/spaces".into(),
        "/labels".into(),
    ]
}

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

// §11.6 DELETE and PUT on singular /group/{id}/users; plural only GET and POST (plural DELETE behind a flag).
#[tokio::test]
async fn c06_singular_group_path() {
    let h = Harness::demo().await;
    let g = group_with_members(&h.ws);
    let member = g.members[0].clone();
    let r = h
        .delete(&format!("/groups/{}/users?emails.0={}", g.id, enc(&member)))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        h.put(&format!("/groups/{}/users", g.id), &json!({"emails": []}))
            .await
            .status,
        404
    );
    assert_eq!(
        h.post(
            &format!("/group/{}/users", g.id),
            &json!({"emails": [member]})
        )
        .await
        .status,
        404
    );
    assert_eq!(h.get(&format!("/group/{}/users", g.id)).await.status, 404);

    let r = h
        .delete(&format!("/group/{}/users?emails.0={}", g.id, enc(&member)))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data(), json!({"status": "SUCCESS"}));
    let now = h.server.workspace();
    let ng = now.groups.iter().find(|x| x.id == g.id).unwrap();
    assert!(!ng.members.contains(&member));

    let r = h
        .put(
            &format!("/group/{}/users", g.id),
            &json!({"emails": [member]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["userGroup"]["memberCount"], 1);

    // With the flag, the plural DELETE is routed too.
    h.server.set_plural_group_delete(true);
    let r = h
        .delete(&format!("/groups/{}/users?emails.0={}", g.id, enc(&member)))
        .await;
    assert_eq!(r.status, 200);
    let last = h.server.request_log().pop().unwrap();
    assert_eq!(last.operation, "removeUsersFromUserGroup");
}

// §11.7 POST /invites is 201; other creates are 200.
#[tokio::test]
async fn c07_create_statuses() {
    let h = Harness::demo().await;
    let r = h
        .post(
            "/invites",
            &json!({"invites": [{"email": "new.person@example.net"}]}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.data(), json!({"emails": ["new.person@example.net"]}));
    let r = h.post("/groups", &json!({"name": "Fresh Group"})).await;
    assert_eq!(r.status, 200);
    let g = r.data()["userGroup"].clone();
    assert_eq!(g["name"], "Fresh Group");
    assert_eq!(g["memberCount"], 0);
    let id = g["id"].as_str().unwrap();
    assert_eq!(id.len(), 22);
    assert_eq!(h.get(&format!("/groups/{id}")).await.status, 200);
}

// §11.8 Duplicate invite or invite of a member -> 400 bad-request.
#[tokio::test]
async fn c08_duplicate_invites() {
    let h = Harness::demo().await;
    let msg = "One or more email address was already invited to join workspace.";
    let pending = h.ws.invites[0].email.clone();
    let member = h.ws.users[3].email.to_uppercase();
    for email in [pending, member] {
        let r = h
            .post("/invites", &json!({"invites": [{"email": email}]}))
            .await;
        assert_eq!(r.status, 400, "{email}");
        assert_eq!(
            r.errors(),
            vec![json!({"type": "bad-request", "message": msg})]
        );
    }
    // Duplicates inside one request, too; nothing is created.
    let before = h.server.workspace().invites.len();
    let r = h
        .post(
            "/invites",
            &json!({"invites": [{"email": "x@example.net"}, {"email": "X@example.net"}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(h.server.workspace().invites.len(), before);
}

// §11.9 Plan gating on every /groups* and /group* route.
#[tokio::test]
async fn c09_team_plan_gates_groups() {
    let h = Harness::start(config().plan(Plan::Team)).await;
    let g = &h.ws.groups[0].id;
    let msg = "Your plan does not include User Groups. Contact sales to upgrade to business tier.";
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/groups".into(), None),
        (Method::POST, "/groups".into(), Some(json!({"name": "x"}))),
        (Method::GET, format!("/groups/{g}"), None),
        (
            Method::PATCH,
            format!("/groups/{g}"),
            Some(json!({"name": "y"})),
        ),
        (Method::DELETE, format!("/groups/{g}"), None),
        (Method::GET, format!("/groups/{g}/users"), None),
        (
            Method::POST,
            format!("/groups/{g}/users"),
            Some(json!({"emails": ["a@b.c"]})),
        ),
        (
            Method::DELETE,
            format!("/group/{g}/users?emails.0=a%40b.c"),
            None,
        ),
        (
            Method::PUT,
            format!("/group/{g}/users"),
            Some(json!({"emails": []})),
        ),
        (Method::GET, format!("/groups/{g}/invites"), None),
        (
            Method::POST,
            format!("/groups/{g}/permissions"),
            Some(json!({"permissions": []})),
        ),
        (
            Method::PUT,
            format!("/groups/{g}/permissions"),
            Some(json!({"permissions": []})),
        ),
    ];
    for (m, p, b) in calls {
        let r = h.send(m.clone(), &p, b.as_ref()).await;
        assert_eq!(r.status, 400, "{m} {p}");
        assert_eq!(
            r.errors(),
            vec![json!({"type": "bad-request", "message": msg})],
            "{m} {p}"
        );
    }
    // Other routes still work; a user's group list is empty.
    let u = &h.ws.users[1].id;
    assert_eq!(
        h.get(&format!("/users/{u}/groups")).await.data()["groups"],
        json!([])
    );
    h.server.set_plan(Plan::Business);
    assert_eq!(h.get("/groups").await.status, 200);
}

// §11.10 Permissions in list/get payloads and in add/replace responses.
#[tokio::test]
async fn c10_permission_payloads() {
    let h = Harness::demo().await;
    let users = h.get("/users").await.data();
    for u in users["users"].as_array().unwrap() {
        assert!(u.get("permissions").is_none());
        assert_eq!(u.as_object().unwrap().len(), 3);
    }
    let owner = &h.ws.users[0];
    let d = h.get(&format!("/users/{}", owner.id)).await.data();
    assert_eq!(
        d["user"]["permissions"],
        json!([{"roleId": "1WDUuRLxv84rrfCNUwvkrRtkxnS", "roleName": "Workspace Owner",
                "resources": [{"id": h.ws.id, "type": "WORKSPACE", "labels": []}]}])
    );
    let groups = h.get("/groups").await.data();
    assert!(groups["userGroups"][0]["permissions"].is_array());
    let g = h
        .get(&format!("/groups/{}", h.ws.groups[0].id))
        .await
        .data();
    assert!(g["userGroup"]["permissions"].is_array());

    // Add returns the full resulting set, each with policyId/subjectId/subjectType.
    let user = &h.ws.users[10];
    let source = &h.ws.sources[0].id;
    let src_admin =
        h.ws.roles
            .iter()
            .find(|r| r.name == "Source Admin")
            .unwrap();
    let input = json!({"permissions": [{"roleId": src_admin.id,
        "resources": [{"id": source, "type": "SOURCE"}]}]});
    let r = h
        .post(&format!("/users/{}/permissions", user.id), &input)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let perms = r.data()["permissions"].as_array().unwrap().clone();
    assert_eq!(
        perms.len(),
        user.permissions.len()
            + usize::from(!user.permissions.iter().any(|p| {
                p.role_id == src_admin.id && p.resources.len() == 1 && p.resources[0].id == *source
            }))
    );
    for p in &perms {
        assert_eq!(p["subjectId"], user.id.as_str());
        assert_eq!(p["subjectType"], "user");
        assert_eq!(p["policyId"].as_str().unwrap().len(), 27);
        assert!(p["roleName"].as_str().is_some_and(|n| !n.is_empty()));
    }
    // Adding the identical permission again does not duplicate it.
    let again = h
        .post(&format!("/users/{}/permissions", user.id), &input)
        .await
        .data();
    assert_eq!(again["permissions"].as_array().unwrap().len(), perms.len());

    // Replace returns the new set without the extra fields.
    let r = h
        .put(&format!("/users/{}/permissions", user.id), &input)
        .await
        .data();
    assert_eq!(
        r["permissions"],
        json!([{"roleId": src_admin.id, "roleName": "Source Admin",
                "resources": [{"id": source, "type": "SOURCE", "labels": []}]}])
    );
    let d = h.get(&format!("/users/{}", user.id)).await.data();
    assert_eq!(d["user"]["permissions"], r["permissions"]);

    // Same for groups, with subjectType "group"; labels survive a replace.
    let grp = &h.ws.groups[1];
    let label_input = json!({"permissions": [{"roleId": src_admin.id,
        "resources": [{"id": h.ws.id, "type": "WORKSPACE", "labels": [{"key": "environment", "value": "prod"}]}]}]});
    let r = h
        .post(&format!("/groups/{}/permissions", grp.id), &label_input)
        .await
        .data();
    for p in r["permissions"].as_array().unwrap() {
        assert_eq!(p["subjectType"], "group");
        assert_eq!(p["subjectId"], grp.id.as_str());
    }
    let r = h
        .put(&format!("/groups/{}/permissions", grp.id), &label_input)
        .await
        .data();
    assert_eq!(
        r["permissions"][0]["resources"][0]["labels"][0]["value"],
        "prod"
    );
    assert!(r["permissions"][0].get("policyId").is_none());
    // Replace with nothing clears.
    let r = h
        .put(
            &format!("/groups/{}/permissions", grp.id),
            &json!({"permissions": []}),
        )
        .await
        .data();
    assert_eq!(r["permissions"], json!([]));
}

// §11.11 add/replace users in a group return userGroup without permissions and an updated memberCount.
#[tokio::test]
async fn c11_group_membership_responses() {
    let h = Harness::demo().await;
    let g = group_with_members(&h.ws).clone();
    let newcomer = user_not_in(&h.ws, &g).email.clone();
    let invitee =
        h.ws.invites
            .iter()
            .find(|i| !g.invites.contains(&i.email))
            .unwrap()
            .email
            .clone();
    let r = h
        .post(
            &format!("/groups/{}/users", g.id),
            &json!({"emails": [newcomer, invitee]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ug = r.data()["userGroup"].clone();
    assert_eq!(
        ug,
        json!({"id": g.id, "name": g.name, "memberCount": g.members.len() + 1})
    );
    // The pending invite became a group invitee, not a member.
    let inv = h.get(&format!("/groups/{}/invites", g.id)).await.data();
    assert!(inv["emails"].as_array().unwrap().contains(&json!(invitee)));
    let members = h
        .get(&format!("/groups/{}/users?pagination.count=1000", g.id))
        .await
        .data();
    assert!(
        members["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == newcomer.as_str())
    );
    assert!(
        !members["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == invitee.as_str())
    );

    // Unknown email: 404, nothing changes.
    let r = h
        .post(
            &format!("/groups/{}/users", g.id),
            &json!({"emails": ["nobody@nowhere.example"]}),
        )
        .await;
    assert_eq!(r.status, 404);

    let r = h
        .put(
            &format!("/group/{}/users", g.id),
            &json!({"emails": [newcomer]}),
        )
        .await;
    assert_eq!(
        r.data()["userGroup"],
        json!({"id": g.id, "name": g.name, "memberCount": 1})
    );
    let inv = h.get(&format!("/groups/{}/invites", g.id)).await.data();
    assert_eq!(inv["emails"], json!([]));
}

// §11.12 Rate-limit headers on every 2xx (the 429 body is tested on a paused clock in `ratelimit`).
#[tokio::test]
async fn c12_rate_limit_headers_on_every_success() {
    let h = Harness::start(
        config()
            .read_limit_per_min(Some(1000))
            .write_limit_per_min(Some(60)),
    )
    .await;
    let mut last_remaining = u64::MAX;
    for p in read_paths(&h) {
        let r = h.get(&p).await;
        assert_eq!(r.status, 200);
        let consumed: u64 = r.header("x-ratelimit-consumed").unwrap().parse().unwrap();
        let remaining: u64 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        assert_eq!(consumed + remaining, 1000, "{p}");
        assert!(remaining < last_remaining);
        last_remaining = remaining;
        let reset = r.header("x-ratelimit-reset").unwrap();
        httpdate::parse_http_date(reset).unwrap_or_else(|e| panic!("{reset}: {e}"));
        assert!(reset.ends_with(" GMT"));
    }
    // Writes use their own bucket.
    let r = h.post("/groups", &json!({"name": "Bucket test"})).await;
    assert_eq!(r.header("x-ratelimit-consumed"), Some("1"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("59"));
    let r = h
        .post(
            "/invites",
            &json!({"invites": [{"email": "rl@example.net"}]}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("58"));
}

// §11.13 Realistic opaque ids.
#[tokio::test]
async fn c13_realistic_ids() {
    let h = Harness::demo().await;
    let base62 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let ws = h.get("/").await.data();
    let id = ws["workspace"]["id"].as_str().unwrap();
    assert!(id.len() == 22 && base62(id));
    for r in h.get("/roles").await.data()["roles"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert!(id.len() == 27 && base62(id), "{id}");
    }
    for (path, key) in [
        ("/users", "users"),
        ("/groups", "userGroups"),
        ("/sources", "sources"),
        ("/warehouses", "warehouses"),
    ] {
        for item in h.get(path).await.data()[key].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            assert!(id.len() == 22 && base62(id), "{path}: {id}");
        }
    }
    for kind in [
        "DESTINATION",
        "INSERT_DESTINATION",
        "INSERT_SOURCE",
        "INSERT_TRANSFORMATION",
        "SOURCE",
    ] {
        let d = h
            .get(&format!("/functions?resourceType={kind}"))
            .await
            .data();
        let fns = d["functions"].as_array().unwrap();
        assert!(!fns.is_empty(), "{kind}");
        for f in fns {
            let id = f["id"].as_str().unwrap();
            assert!(id.starts_with("sfnc_") && id.len() == 27, "{id}");
            assert_eq!(f["resourceType"], kind);
        }
    }
    for s in h.get("/spaces").await.data()["spaces"].as_array().unwrap() {
        assert!(s["id"].as_str().unwrap().starts_with("spa_"));
    }
}

// §11.14 Unknown resources and routes: the exact 404 body.
#[tokio::test]
async fn c14_not_found_body() {
    let h = Harness::demo().await;
    for p in [
        "/users/nope",
        "/groups/nope",
        "/groups/nope/users",
        "/groups/nope/invites",
        "/users/nope/groups",
        "/no/such/route",
    ] {
        let r = h.get(p).await;
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(
            r.json(),
            json!({"errors": [{"type": "NotFound", "message": "Resource not found"}]}),
            "{p}"
        );
    }
}
