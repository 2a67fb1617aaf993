//! Builders: users carry both status fields and a full profile, entitlements and grants
//! follow the ID rules and the Go SDK's shapes.

use baton_model::annotations::{pick, type_name};
use baton_model::entitlement::{assignment_entitlement, permission_entitlement};
use baton_model::grant::{grant, grant_to};
use baton_model::pb::{self, resource_type::Trait};
use baton_model::profile::{self, get_str};
use baton_model::resource::{ResourceBuilder, ResourceTypeBuilder, UserDetails, UserStatus};
use baton_model::{EntitlementId, Error, ResourceRef, ResourceTypeId};

fn rt(id: &str) -> ResourceTypeId {
    ResourceTypeId::new(id).unwrap()
}

fn rref(t: &str, id: &str) -> ResourceRef {
    ResourceRef::new(rt(t), id).unwrap()
}

fn workspace() -> ResourceRef {
    rref("workspace", "ws1")
}

fn alice(status: UserStatus) -> pb::Resource {
    ResourceBuilder::new(rref("user", "u1"), "Alice")
        .parent(&workspace())
        .user(
            UserDetails::new("alice@acme.test")
                .first_name("Alice")
                .email("alice@acme.test", true)
                .email("a@acme.test", false)
                .status(status)
                .created_at(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 0,
                })
                .profile_entry("invite", "accepted")
                .profile_entry("login", "must be overridden"),
        )
}

#[test]
fn resource_type_with_traits() {
    let t = ResourceTypeBuilder::new(&rt("user"), "User")
        .with_trait(Trait::User)
        .with_trait(Trait::User)
        .description("Segment users")
        .build();
    assert_eq!(t.id, "user");
    assert_eq!(t.display_name, "User");
    assert_eq!(t.traits, [Trait::User as i32]);
    assert_eq!(t.description, "Segment users");

    let t = ResourceTypeBuilder::new(&rt("workspace"), "Workspace")
        .skip_entitlements_and_grants()
        .build();
    assert!(baton_model::annotations::contains::<
        pb::SkipEntitlementsAndGrants,
    >(&t.annotations));
}

#[test]
fn user_has_both_status_fields_and_a_full_profile() {
    for (status, trait_status, resource_status) in [
        (
            UserStatus::Enabled,
            pb::user_trait::status::Status::Enabled,
            pb::status::ResourceStatus::Enabled,
        ),
        (
            UserStatus::Disabled,
            pb::user_trait::status::Status::Disabled,
            pb::status::ResourceStatus::Disabled,
        ),
    ] {
        let user = alice(status);
        assert_eq!(user.id, Some(rref("user", "u1").to_pb()));
        assert_eq!(user.parent_resource_id, Some(workspace().to_pb()));
        assert_eq!(
            user.creation_source,
            pb::resource::CreationSource::ConnectorListResources as i32
        );
        assert_eq!(user.status.as_ref().unwrap().status, resource_status as i32);

        let user_trait: pb::UserTrait = pick(&user.annotations).unwrap().unwrap();
        assert_eq!(user_trait.status.unwrap().status, trait_status as i32);
        assert_eq!(
            user_trait.account_type,
            pb::user_trait::AccountType::Human as i32
        );
        assert_eq!(user_trait.login, "alice@acme.test");
        assert_eq!(user_trait.emails.len(), 2);
        assert!(user_trait.emails[0].is_primary);
        assert!(!user_trait.emails[1].is_primary);
        assert_eq!(user_trait.created_at, user.created_at);
        assert!(user.created_at.is_some());

        let p = user_trait.profile.unwrap();
        assert_eq!(Some(&p), user.profile.as_ref());
        assert_eq!(get_str(&p, "first_name"), Some("Alice"));
        assert_eq!(get_str(&p, "last_name"), Some(""));
        assert_eq!(get_str(&p, "login"), Some("alice@acme.test"));
        assert_eq!(get_str(&p, "user_id"), Some("u1"));
        assert_eq!(get_str(&p, "invite"), Some("accepted"));
    }
}

#[test]
fn minimal_user_still_has_a_profile() {
    let user = ResourceBuilder::new(rref("user", "u2"), "u2").user(UserDetails::new("u2"));
    let user_trait: pb::UserTrait = pick(&user.annotations).unwrap().unwrap();
    let p = user_trait.profile.unwrap();
    for key in ["first_name", "last_name", "login", "user_id"] {
        assert!(get_str(&p, key).is_some(), "{key}");
    }
    assert_eq!(
        user_trait.status.unwrap().status,
        pb::user_trait::status::Status::Enabled as i32
    );
    assert_eq!(
        user.status.unwrap().status,
        pb::status::ResourceStatus::Enabled as i32
    );
    assert!(user_trait.structured_name.is_none());
}

#[test]
fn group_role_app_carry_trait_and_resource_profile() {
    let p = profile::from_pairs([("group_id", "g1"), ("group_name", "Admins")]);
    let group = ResourceBuilder::new(rref("group", "g1"), "Admins")
        .parent(&workspace())
        .group(p.clone());
    let t: pb::GroupTrait = pick(&group.annotations).unwrap().unwrap();
    assert_eq!(t.profile.as_ref(), Some(&p));
    assert_eq!(group.profile.as_ref(), Some(&p));
    assert_eq!(
        type_name(&group.annotations[0]),
        "c1.connector.v2.GroupTrait"
    );

    let role = ResourceBuilder::new(rref("role", "r1"), "Owner").role(p.clone());
    let t: pb::RoleTrait = pick(&role.annotations).unwrap().unwrap();
    assert_eq!(t.profile.as_ref(), Some(&p));
    assert_eq!(role.profile.as_ref(), Some(&p));

    let app = ResourceBuilder::new(rref("source", "s1"), "Source")
        .external_link("https://app.segment.com/x")
        .app(p.clone(), Some("https://help.test"));
    let t: pb::AppTrait = pick(&app.annotations).unwrap().unwrap();
    assert_eq!(t.profile.as_ref(), Some(&p));
    assert_eq!(t.help_url, "https://help.test");
    assert_eq!(app.profile.as_ref(), Some(&p));
    let link: pb::ExternalLink = pick(&app.annotations).unwrap().unwrap();
    assert_eq!(link.url, "https://app.segment.com/x");
}

#[test]
fn child_resource_types_are_appended() {
    let ws = ResourceBuilder::new(workspace(), "Acme")
        .child_resource_type(&rt("user"))
        .child_resource_type(&rt("group"))
        .build();
    let children: Vec<String> = ws
        .annotations
        .iter()
        .map(|a| {
            baton_model::annotations::unpack::<pb::ChildResourceType>(a)
                .unwrap()
                .unwrap()
                .resource_type_id
        })
        .collect();
    assert_eq!(children, ["user", "group"]);
}

#[test]
fn entitlements_follow_the_sdk() {
    let group = ResourceBuilder::new(rref("group", "g1"), "Admins").group(Default::default());
    let user_type = ResourceTypeBuilder::new(&rt("user"), "User")
        .with_trait(Trait::User)
        .build();
    let builder = assignment_entitlement(&group, "member").unwrap();
    assert_eq!(builder.id().to_string(), "group:g1:member");
    let e = builder
        .display_name("Admins group member")
        .description("Member of Admins")
        .grantable_to(&user_type)
        .build();
    assert_eq!(e.id, "group:g1:member");
    assert_eq!(e.slug, "member");
    assert_eq!(e.display_name, "Admins group member");
    assert_eq!(e.description, "Member of Admins");
    assert_eq!(e.purpose, pb::entitlement::PurposeValue::Assignment as i32);
    assert_eq!(e.grantable_to, [user_type]);
    assert_eq!(e.resource.as_ref(), Some(&group));

    let p = permission_entitlement(&group, "admin").unwrap().build();
    assert_eq!(p.purpose, pb::entitlement::PurposeValue::Permission as i32);
    assert_eq!(p.display_name, "admin");

    assert!(matches!(
        assignment_entitlement(&group, "a:b"),
        Err(Error::Id(_))
    ));
    assert!(matches!(
        assignment_entitlement(&pb::Resource::default(), "member"),
        Err(Error::MissingId { .. })
    ));
}

#[test]
fn grants_use_an_entitlement_stub_and_the_id_rule() {
    let group = ResourceBuilder::new(rref("group", "g1"), "Admins").group(Default::default());
    let role = ResourceBuilder::new(rref("role", "r1"), "Owner").role(Default::default());
    let member = assignment_entitlement(&role, "member").unwrap().build();
    let group_member: EntitlementId = "group:g1:member".parse().unwrap();

    let g = grant(&member, &group)
        .unwrap()
        .expandable(&[group_member], false, &[rt("user")])
        .build();
    assert_eq!(g.id, "role:r1:member:group:g1");
    let stub = g.entitlement.as_ref().unwrap();
    assert_eq!(stub.id, "role:r1:member");
    assert_eq!(stub.resource.as_ref(), Some(&role));
    assert!(stub.display_name.is_empty() && stub.slug.is_empty() && stub.purpose == 0);
    assert_eq!(g.principal.as_ref(), Some(&group));
    let exp: pb::GrantExpandable = pick(&g.annotations).unwrap().unwrap();
    assert_eq!(exp.entitlement_ids, ["group:g1:member"]);
    assert!(!exp.shallow);
    assert_eq!(exp.resource_type_ids, ["user"]);

    let g = grant_to(&member, &rref("user", "u1")).unwrap().build();
    assert_eq!(g.id, "role:r1:member:user:u1");
    assert_eq!(
        g.principal,
        Some(pb::Resource {
            id: Some(rref("user", "u1").to_pb()),
            ..Default::default()
        })
    );
    assert!(g.annotations.is_empty());

    assert!(matches!(
        grant(&pb::Entitlement::default(), &group),
        Err(Error::MissingId { .. })
    ));
}
