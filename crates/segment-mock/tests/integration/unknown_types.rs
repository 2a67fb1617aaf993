//! Permission resources of types the mock does not know (future Segment scope types): kept
//! verbatim through fixtures, responses, request bodies (when enabled) and the admin dump.

use proptest::prelude::*;
use segment_mock::{MockConfig, ResourceType, Workspace};
use serde_json::{Value, json};

use crate::common::Harness;

const OWNER: &str = "role-owner";
const DEST_ADMIN: &str = "role-dest";

/// A small fixture whose user and group hold an unknown-type permission next to known ones.
fn fixture() -> Value {
    json!({
        "id": "ws1", "name": "Acme", "slug": "acme",
        "roles": [
            {"id": OWNER, "name": "Workspace Owner"},
            {"id": DEST_ADMIN, "name": "Destination Admin"},
            {"id": "role-src", "name": "Source Admin"},
        ],
        "users": [{
            "id": "u1", "name": "Ada", "email": "ada@example.com",
            "permissions": [
                {"roleId": DEST_ADMIN, "resources": [{"id": "dst123", "type": "DESTINATION", "labels": []}]},
                {"roleId": "role-src", "resources": [{"id": "src1", "type": "SOURCE", "labels": []}]},
            ],
        }],
        "groups": [{
            "id": "g1", "name": "Ops", "members": ["ada@example.com"], "invites": [],
            "permissions": [
                {"roleId": DEST_ADMIN, "resources": [
                    {"id": "tp9", "type": "TRACKING_PLAN", "labels": []},
                    {"id": "ws1", "type": "WORKSPACE", "labels": []},
                ]},
            ],
        }],
        "sources": [{"id": "src1", "slug": "web"}],
        "labels": [{"key": "k", "value": "v"}],
    })
}

fn load() -> Workspace {
    Workspace::from_json_str(&fixture().to_string()).unwrap()
}

fn resources(v: &Value) -> Vec<Value> {
    v["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["resources"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn fixture_round_trips_unknown_types_verbatim() {
    let ws = load();
    assert_eq!(
        ws.users[0].permissions[0].resources[0].kind,
        ResourceType::Other("DESTINATION".into())
    );
    assert_eq!(
        ws.groups[0].permissions[0].resources[0].kind,
        ResourceType::Other("TRACKING_PLAN".into())
    );
    assert_eq!(
        ws.users[0].permissions[1].resources[0].kind,
        ResourceType::Source
    );
    let dumped: Value = serde_json::from_str(&ws.to_json_string()).unwrap();
    let original = fixture();
    assert_eq!(
        resources(&dumped["users"][0]),
        resources(&original["users"][0])
    );
    assert_eq!(
        resources(&dumped["groups"][0]),
        resources(&original["groups"][0])
    );
    assert_eq!(Workspace::from_json_str(&ws.to_json_string()).unwrap(), ws);
}

#[test]
fn fixture_rejects_empty_or_miscased_unknown_types() {
    for (path, value) in [
        ("id", json!("")),
        ("type", json!("")),
        ("type", json!("source")),
    ] {
        let mut f = fixture();
        f["users"][0]["permissions"][0]["resources"][0][path] = value.clone();
        let err = Workspace::from_json_str(&f.to_string()).unwrap_err();
        assert!(
            matches!(err, segment_mock::MockError::InvalidWorkspace(_)),
            "{path}={value}: {err}"
        );
    }
}

#[tokio::test]
async fn api_serves_unknown_types_and_accepts_them_in_bodies_when_enabled() {
    let h = Harness::start(
        MockConfig::new(load())
            .write_limit_per_min(None)
            .accept_unknown_resource_types(true),
    )
    .await;
    let user = h.get("/users/u1").await.data();
    assert_eq!(
        user["user"]["permissions"][0]["resources"][0],
        json!({"id": "dst123", "type": "DESTINATION", "labels": []})
    );
    let group = h.get("/groups/g1").await.data();
    assert_eq!(
        group["userGroup"]["permissions"][0]["resources"][0],
        json!({"id": "tp9", "type": "TRACKING_PLAN", "labels": []})
    );

    // Add: any non-empty id of an unknown type is accepted (nothing to check it against).
    let added = json!({"permissions": [{"roleId": DEST_ADMIN,
        "resources": [{"id": "anything-at-all", "type": "AUDIENCE"}]}]});
    let r = h.post("/users/u1/permissions", &added).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ws = h.server.workspace();
    let perms = &ws.users[0].permissions;
    assert_eq!(perms.len(), 3);
    assert_eq!(
        perms[2].resources[0].kind,
        ResourceType::Other("AUDIENCE".into())
    );
    assert_eq!(perms[2].resources[0].id, "anything-at-all");

    // Replace: the body's unknown types are stored exactly as sent.
    let replaced = json!({"permissions": [
        {"roleId": DEST_ADMIN, "resources": [{"id": "dst123", "type": "DESTINATION"}]},
        {"roleId": OWNER, "resources": [{"id": "ws1", "type": "WORKSPACE"}]},
    ]});
    let r = h.put("/groups/g1/permissions", &replaced).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let dump = h.get("/__admin/workspace").await.json();
    assert_eq!(
        dump["groups"][0]["permissions"][0]["resources"],
        json!([{"id": "dst123", "type": "DESTINATION", "labels": []}])
    );
    // The dump loads back unchanged.
    let reloaded = Workspace::from_json_str(&dump.to_string()).unwrap();
    assert_eq!(reloaded, h.server.workspace());

    // Still rejected: empty id, empty or miscased type, labels on a non-workspace resource.
    for resource in [
        json!({"id": "", "type": "DESTINATION"}),
        json!({"id": "x", "type": ""}),
        json!({"id": "src1", "type": "source"}),
        json!({"id": "x", "type": "DESTINATION", "labels": [{"key": "k", "value": "v"}]}),
    ] {
        let body = json!({"permissions": [{"roleId": DEST_ADMIN, "resources": [resource]}]});
        let r = h.post("/users/u1/permissions", &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.errors()[0]["type"], "input-validation");
    }
}

#[tokio::test]
async fn unknown_types_in_bodies_are_rejected_by_default_and_the_switch_is_live() {
    let h = Harness::start(MockConfig::new(load()).write_limit_per_min(None)).await;
    let body = json!({"permissions": [{"roleId": DEST_ADMIN,
        "resources": [{"id": "dst7", "type": "DESTINATION"}]}]});
    assert_eq!(h.post("/users/u1/permissions", &body).await.status, 422);
    h.server.set_accept_unknown_resource_types(true);
    assert_eq!(h.post("/users/u1/permissions", &body).await.status, 200);
    // A fixture holding unknown types is served even with the switch off.
    h.server.set_accept_unknown_resource_types(false);
    let user = h.get("/users/u1").await.data();
    assert_eq!(
        user["user"]["permissions"][2]["resources"][0]["type"],
        "DESTINATION"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any wire name survives `From<String>` and a JSON round trip exactly.
    #[test]
    fn resource_type_names_round_trip(name in "[A-Z_]{0,12}|\\PC{0,12}") {
        let kind = ResourceType::from(name.clone());
        prop_assert_eq!(kind.as_str(), name.as_str());
        prop_assert_eq!(kind.is_known(), ResourceType::parse(&name).is_some());
        let json = serde_json::to_string(&kind).unwrap();
        prop_assert_eq!(&json, &serde_json::to_string(&name).unwrap());
        let back: ResourceType = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, kind);
    }
}
