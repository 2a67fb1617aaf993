//! Principals and grant ids: the forms ConductorOne sends back in service mode parse into the
//! typed scheme and format back to exactly the same text.

use baton_model::ids::{GrantId, ResourceRef};
use proptest::prelude::*;
use segment_scheme::{
    LabelSet, PrincipalType, SchemeError, SegmentEntitlement, SegmentGrant, SegmentPrincipal,
};

#[test]
fn principals_parse_from_refs_and_text() {
    let p: SegmentPrincipal = "invite:a@b.example".parse().unwrap();
    assert_eq!(p, SegmentPrincipal::invite("a@b.example").unwrap());
    assert_eq!(p.to_string(), "invite:a@b.example");
    let r: ResourceRef = "group:g1".parse().unwrap();
    assert_eq!(
        SegmentPrincipal::parse(&r).unwrap(),
        SegmentPrincipal::group("g1").unwrap()
    );
    assert_eq!(
        SegmentPrincipal::user("u1")
            .unwrap()
            .resource_ref()
            .unwrap(),
        "user:u1".parse().unwrap()
    );
    for bad in ["role:r1", "source:s1", "user:", "user", ""] {
        assert!(bad.parse::<SegmentPrincipal>().is_err(), "{bad:?}");
    }
    assert!(matches!(
        "workspace:w1".parse::<SegmentPrincipal>(),
        Err(SchemeError::UnknownPrincipalType(t)) if t == "workspace"
    ));
}

#[test]
fn grants_parse_into_entitlement_and_principal() {
    let g: SegmentGrant = "role:r1:member@env=prod:user:u1".parse().unwrap();
    assert_eq!(
        g.entitlement,
        SegmentEntitlement::RoleMember {
            role_id: "r1".into(),
            labels: LabelSet::from_pairs([("env", "prod")]),
        }
    );
    assert_eq!(g.principal.kind, PrincipalType::User);
    assert_eq!(g.to_string(), "role:r1:member@env=prod:user:u1");
    let id: GrantId = "group:g1:member:invite:x@y.example".parse().unwrap();
    let g = SegmentGrant::parse(&id).unwrap();
    assert_eq!(g.entitlement, SegmentEntitlement::group_member("g1"));
    assert_eq!(
        g.principal,
        SegmentPrincipal::invite("x@y.example").unwrap()
    );
    assert_eq!(g.grant_id().unwrap(), id);
    // Not ours: a principal of another type, or an entitlement this connector never emits.
    assert!("group:g1:member:role:r1".parse::<SegmentGrant>().is_err());
    assert!(
        "workspace:w1:admin:user:u1"
            .parse::<SegmentGrant>()
            .is_err()
    );
    assert_eq!(
        SegmentEntitlement::role_member("r1").to_string(),
        "role:r1:member"
    );
}

fn principal_strategy() -> impl Strategy<Value = SegmentPrincipal> {
    (
        prop::sample::select(vec![
            PrincipalType::User,
            PrincipalType::Group,
            PrincipalType::Invite,
        ]),
        "[A-Za-z0-9_.@+:-]{1,24}",
    )
        .prop_map(|(kind, id)| SegmentPrincipal::new(kind, id).unwrap())
}

proptest! {
    #[test]
    fn grant_ids_round_trip(role in "[A-Za-z0-9_.-]{1,12}", principal in principal_strategy()) {
        let grant = SegmentGrant { entitlement: SegmentEntitlement::role_member(role), principal };
        let text = grant.grant_id().unwrap().to_string();
        prop_assert_eq!(&text, &grant.to_string());
        prop_assert_eq!(text.parse::<SegmentGrant>().unwrap(), grant);
    }
}
