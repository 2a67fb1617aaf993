//! Fidelity checklist items 6–14 (segment-api.md §11): group routes, create statuses, duplicate
//! invites, plan gating, permission and membership payloads, rate-limit headers, ids, 404s.

use reqwest::Method;
use segment_mock::Plan;
use serde_json::{Value, json};

use super::read_paths;
use crate::common::{Harness, config, enc, group_with_members, user_not_in};

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
