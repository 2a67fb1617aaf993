//! Mapping of Segment models to Baton objects: display names, profiles, traits, statuses,
//! ids, and that no secret reaches a Baton object.

use baton_model::annotations::pick;
use baton_model::pb;
use baton_model::profile::get_str;
use baton_model::resource::resource_ref;
use prost::Message;
use segment_api::{Role, Source, User, UserGroup, Warehouse, Workspace};
use segment_scheme::mapping;
use segment_scheme::{LabelSet, PrincipalType, SegmentEntitlement};
use serde_json::json;

fn ws_ref() -> baton_model::ids::ResourceRef {
    mapping::workspace_ref("ws1").unwrap()
}

fn user(id: &str, name: &str, email: &str) -> User {
    serde_json::from_value(json!({"id": id, "name": name, "email": email})).unwrap()
}

#[test]
fn users_have_display_fallbacks_and_profile_keys() {
    let named = mapping::user_resource(
        &user("u1", "Ada King Lovelace", "ada@example.com"),
        &ws_ref(),
    )
    .unwrap();
    assert_eq!(named.display_name, "Ada King Lovelace");
    assert_eq!(resource_ref(&named).unwrap().to_string(), "user:u1");
    assert_eq!(named.parent_resource_id.as_ref().unwrap().resource, "ws1");
    let trait_: pb::UserTrait = pick(&named.annotations).unwrap().unwrap();
    assert_eq!(trait_.login, "ada@example.com");
    assert_eq!(trait_.emails.len(), 1);
    assert!(trait_.emails[0].is_primary);
    assert_eq!(
        trait_.status.unwrap().status,
        pb::user_trait::status::Status::Enabled as i32
    );
    assert_eq!(
        trait_.account_type,
        pb::user_trait::AccountType::Human as i32
    );
    let profile = trait_.profile.unwrap();
    assert_eq!(get_str(&profile, "first_name"), Some("Ada"));
    assert_eq!(get_str(&profile, "last_name"), Some("King Lovelace"));
    assert_eq!(get_str(&profile, "login"), Some("ada@example.com"));
    assert_eq!(get_str(&profile, "user_id"), Some("u1"));
    assert_eq!(get_str(&profile, "email"), Some("ada@example.com"));
    assert_eq!(named.profile.as_ref(), Some(&profile));

    let unnamed = mapping::user_resource(&user("u2", "", "bob@example.com"), &ws_ref()).unwrap();
    assert_eq!(unnamed.display_name, "bob@example.com");
    let p = unnamed.profile.unwrap();
    assert_eq!(get_str(&p, "first_name"), Some(""));
    assert_eq!(get_str(&p, "last_name"), Some(""));
    let bare = mapping::user_resource(&user("u3", "", ""), &ws_ref()).unwrap();
    assert_eq!(bare.display_name, "u3");
}

#[test]
fn invites_are_disabled_users_keyed_by_email() {
    let r = mapping::invite_resource("New.Person@Example.com", &ws_ref()).unwrap();
    assert_eq!(
        resource_ref(&r).unwrap().to_string(),
        "invite:New.Person@Example.com"
    );
    assert_eq!(r.display_name, "(Invitation) New.Person@Example.com");
    let t: pb::UserTrait = pick(&r.annotations).unwrap().unwrap();
    let status = t.status.unwrap();
    assert_eq!(
        status.status,
        pb::user_trait::status::Status::Disabled as i32
    );
    assert_eq!(status.details, "pending invitation");
    assert_eq!(
        r.status.as_ref().unwrap().status,
        pb::status::ResourceStatus::Disabled as i32
    );
    let p = t.profile.unwrap();
    assert_eq!(get_str(&p, "user_id"), Some("New.Person@Example.com"));
    assert_eq!(get_str(&p, "first_name"), Some(""));
    assert_eq!(get_str(&p, "login"), Some("New.Person@Example.com"));
}

#[test]
fn warehouse_display_name_falls_back() {
    let w = |v: serde_json::Value| -> Warehouse { serde_json::from_value(v).unwrap() };
    let named = w(json!({"id": "wh1", "workspaceId": "ws1", "enabled": true,
        "settings": {"name": "Prod Snowflake", "password": "hunter2"},
        "metadata": {"id": "m", "name": "Snowflake", "slug": "snowflake"}}));
    assert_eq!(mapping::warehouse_display_name(&named), "Prod Snowflake");
    let typed = w(
        json!({"id": "wh2", "workspaceId": "ws1", "enabled": true, "settings": {},
        "metadata": {"id": "m", "name": "BigQuery", "slug": "bigquery"}}),
    );
    assert_eq!(mapping::warehouse_display_name(&typed), "BigQuery wh2");
    let bare = w(json!({"id": "wh3", "workspaceId": "ws1", "enabled": false}));
    assert_eq!(mapping::warehouse_display_name(&bare), "wh3");
    let r = mapping::warehouse_resource(&named, &ws_ref()).unwrap();
    assert_eq!(r.display_name, "Prod Snowflake");
    assert!(!r.encode_to_vec().windows(7).any(|x| x == b"hunter2"));
    assert_eq!(
        get_str(r.profile.as_ref().unwrap(), "type"),
        Some("Snowflake")
    );
}

#[test]
fn sources_never_carry_secrets() {
    let s: Source = serde_json::from_value(json!({
        "id": "src1", "slug": "web_app", "name": "", "workspaceId": "ws1", "enabled": true,
        "writeKeys": ["WRITEKEY-SECRET"], "settings": {"token": "SETTINGS-SECRET"},
        "labels": [{"key": "environment", "value": "prod"}],
        "metadata": {"id": "m", "name": "Javascript", "slug": "javascript"}
    }))
    .unwrap();
    let r = mapping::source_resource(&s, &ws_ref()).unwrap();
    assert_eq!(r.display_name, "web_app");
    let bytes = r.encode_to_vec();
    for secret in [&b"WRITEKEY-SECRET"[..], b"SETTINGS-SECRET"] {
        assert!(!bytes.windows(secret.len()).any(|x| x == secret));
    }
    let p = r.profile.as_ref().unwrap();
    assert_eq!(get_str(p, "slug"), Some("web_app"));
    assert_eq!(get_str(p, "type"), Some("Javascript"));
    let t: pb::AppTrait = pick(&r.annotations).unwrap().unwrap();
    assert!(t.profile.is_some());
}

#[test]
fn roles_groups_and_workspace() {
    let role = Role {
        id: "r1".into(),
        name: "Read-only (Engage)".into(),
        description: "Reads spaces".into(),
    };
    let r = mapping::role_resource(&role, &ws_ref()).unwrap();
    assert_eq!(r.display_name, "Read-only (Engage)");
    assert_eq!(r.description, "Reads spaces");
    let t: pb::RoleTrait = pick(&r.annotations).unwrap().unwrap();
    assert_eq!(
        get_str(t.profile.as_ref().unwrap(), "role_name"),
        Some("Read-only (Engage)")
    );
    let e = mapping::role_member_entitlement(&r, &LabelSet::new()).unwrap();
    assert_eq!(e.id, "role:r1:member");
    assert_eq!(e.display_name, "Read-only (Engage) role member");
    assert_eq!(e.description, "Reads spaces");
    assert_eq!(e.purpose, pb::entitlement::PurposeValue::Assignment as i32);
    let grantable: Vec<&str> = e.grantable_to.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(grantable, ["user", "group"]);

    let labels = LabelSet::from_pairs([("environment", "prod"), ("team", "a,b")]);
    let l = mapping::role_member_entitlement(&r, &labels).unwrap();
    assert_eq!(l.id, "role:r1:member@environment=prod,team=a%2Cb");
    assert_eq!(
        l.display_name,
        "Read-only (Engage) role member (labels: environment=prod, team=a,b)"
    );
    let parsed: SegmentEntitlement = l.id.parse().unwrap();
    assert_eq!(parsed.labels(), Some(&labels));

    let space: segment_api::Space =
        serde_json::from_value(json!({"id": "spa_1", "slug": "prod", "name": ""})).unwrap();
    let sr = mapping::space_resource(&space, &ws_ref()).unwrap();
    assert_eq!(sr.display_name, "prod");
    let se = mapping::scoped_entitlement(
        &sr,
        &role.name,
        &role.description,
        "read_only_engage",
        &LabelSet::new(),
    )
    .unwrap();
    assert_eq!(se.id, "space:spa_1:read_only_engage");
    assert_eq!(se.display_name, "prod Read-only (Engage)");
    assert_eq!(se.description, "Read-only (Engage) - Reads spaces");
    assert_eq!(se.purpose, pb::entitlement::PurposeValue::Permission as i32);

    let group: UserGroup =
        serde_json::from_value(json!({"id": "g1", "name": "Data", "memberCount": 3})).unwrap();
    let g = mapping::group_resource(&group, &ws_ref()).unwrap();
    let ge = mapping::group_member_entitlement(&g).unwrap();
    assert_eq!(ge.id, "group:g1:member");
    assert_eq!(ge.display_name, "Data group member");
    let grantable: Vec<&str> = ge.grantable_to.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(grantable, ["user", "invite"]);
    let grant = mapping::grant(&se, PrincipalType::Group, "g1").unwrap();
    assert_eq!(grant.id, "space:spa_1:read_only_engage:group:g1");
    let exp: pb::GrantExpandable = pick(&grant.annotations).unwrap().unwrap();
    assert_eq!(exp.entitlement_ids, ["group:g1:member"]);
    assert!(exp.shallow);
    assert_eq!(exp.resource_type_ids, ["user"]);
    assert_eq!(grant.entitlement.as_ref().unwrap().id, se.id);
    assert!(grant.entitlement.as_ref().unwrap().display_name.is_empty());
    let user_grant = mapping::grant(&se, PrincipalType::User, "u1").unwrap();
    assert!(!mapping::is_expandable(&user_grant));

    let workspace = Workspace {
        id: "ws1".into(),
        name: "Acme".into(),
        slug: "acme".into(),
    };
    let w = mapping::workspace_resource(&workspace, &["user", "group"]).unwrap();
    assert!(w.parent_resource_id.is_none());
    let we = mapping::workspace_member_entitlement(&w).unwrap();
    assert_eq!(we.id, "workspace:ws1:member");
    assert_eq!(we.display_name, "Acme workspace member");
}

#[test]
fn resource_types_have_the_incumbent_ids_and_traits() {
    use pb::resource_type::Trait;
    let expect = [
        ("workspace", None),
        ("user", Some(Trait::User)),
        ("group", Some(Trait::Group)),
        ("role", Some(Trait::Role)),
        ("invite", Some(Trait::User)),
        ("source", Some(Trait::App)),
        ("warehouse", Some(Trait::App)),
        ("function", Some(Trait::App)),
        ("space", Some(Trait::App)),
    ];
    for (id, t) in expect {
        let rt = mapping::resource_type(id).unwrap();
        assert_eq!(rt.id, id);
        assert_eq!(rt.traits, t.map(|t| vec![t as i32]).unwrap_or_default());
    }
    assert!(mapping::resource_type("destination").is_none());
}

#[test]
fn ids_that_cannot_be_represented_are_errors() {
    assert!(mapping::user_resource(&user("a:b", "x", "x@y"), &ws_ref()).is_err());
    assert!(mapping::user_resource(&user("", "x", "x@y"), &ws_ref()).is_err());
}
