//! ID formatting and parsing: round trips (proptest) and typed errors.

use baton_model::ids::{IdPart, IdProblem};
use baton_model::{EntitlementId, GrantId, IdError, ResourceRef, ResourceTypeId};
use proptest::prelude::*;

/// A non-empty part without ':'.
fn segment() -> impl Strategy<Value = String> {
    "[^:]{1,12}"
}

/// A non-empty tail that may contain ':'.
fn tail() -> impl Strategy<Value = String> {
    "(.|:){1,16}"
}

fn err(part: IdPart, problem: IdProblem) -> IdError {
    IdError::new(part, problem)
}

proptest! {
    #[test]
    fn build_format_parse_is_identity(
        rt in segment(), rid in segment(), slug in segment(), prt in segment(), pid in tail()
    ) {
        let resource = ResourceRef::new(ResourceTypeId::new(rt.clone()).unwrap(), rid.clone()).unwrap();
        prop_assert_eq!(resource.to_string(), format!("{rt}:{rid}"));
        prop_assert_eq!(resource.to_string().parse::<ResourceRef>().unwrap(), resource.clone());

        let ent = EntitlementId::new(resource, slug.clone()).unwrap();
        let ent_s = ent.to_string();
        prop_assert_eq!(&ent_s, &format!("{rt}:{rid}:{slug}"));
        prop_assert_eq!(ent_s.parse::<EntitlementId>().unwrap(), ent.clone());

        let grant = GrantId::new(ent, ResourceTypeId::new(prt.clone()).unwrap(), pid.clone()).unwrap();
        let grant_s = grant.to_string();
        prop_assert_eq!(&grant_s, &format!("{ent_s}:{prt}:{pid}"));
        let parsed: GrantId = grant_s.parse().unwrap();
        prop_assert_eq!(parsed.principal_id(), pid.as_str());
        prop_assert_eq!(parsed, grant);
    }

    #[test]
    fn format_of_parse_is_identity(s in "[ab:]{0,12}|.{0,24}") {
        if let Ok(id) = s.parse::<ResourceTypeId>() { prop_assert_eq!(id.to_string(), s.clone()); }
        if let Ok(id) = s.parse::<ResourceRef>() { prop_assert_eq!(id.to_string(), s.clone()); }
        if let Ok(id) = s.parse::<EntitlementId>() { prop_assert_eq!(id.to_string(), s.clone()); }
        if let Ok(id) = s.parse::<GrantId>() { prop_assert_eq!(id.to_string(), s.clone()); }
    }

    #[test]
    fn parts_with_colons_are_rejected(a in segment(), b in segment()) {
        let with_colon = format!("{a}:{b}");
        prop_assert_eq!(
            ResourceTypeId::new(with_colon.clone()).unwrap_err(),
            err(IdPart::ResourceType, IdProblem::ContainsColon)
        );
        let rt = ResourceTypeId::new(a.clone()).unwrap();
        prop_assert_eq!(
            ResourceRef::new(rt.clone(), with_colon.clone()).unwrap_err(),
            err(IdPart::ResourceId, IdProblem::ContainsColon)
        );
        let r = ResourceRef::new(rt, b).unwrap();
        prop_assert_eq!(
            EntitlementId::new(r, with_colon).unwrap_err(),
            err(IdPart::Slug, IdProblem::ContainsColon)
        );
    }
}

#[test]
fn malformed_strings_name_the_part_and_the_reason() {
    use IdPart::*;
    use IdProblem::*;
    let cases: &[(&str, IdError)] = &[
        ("", err(ResourceType, Empty)),
        (":x", err(ResourceType, Empty)),
        ("user", err(ResourceId, Missing)),
        ("user:", err(ResourceId, Empty)),
        ("user:u1:x", err(ResourceId, ContainsColon)),
    ];
    for (s, want) in cases {
        assert_eq!(s.parse::<ResourceRef>().unwrap_err(), *want, "{s:?}");
    }

    let cases: &[(&str, IdError)] = &[
        ("", err(ResourceType, Empty)),
        ("group", err(ResourceId, Missing)),
        ("group:g1", err(Slug, Missing)),
        ("group::member", err(ResourceId, Empty)),
        ("group:g1:", err(Slug, Empty)),
        ("group:g1:member:x", err(Slug, ContainsColon)),
    ];
    for (s, want) in cases {
        assert_eq!(s.parse::<EntitlementId>().unwrap_err(), *want, "{s:?}");
    }

    let cases: &[(&str, IdError)] = &[
        ("group:g1:member", err(PrincipalType, Missing)),
        ("group:g1:member:user", err(PrincipalId, Missing)),
        ("group:g1:member:user:", err(PrincipalId, Empty)),
        ("group:g1:member::u1", err(PrincipalType, Empty)),
        (":g1:member:user:u1", err(ResourceType, Empty)),
        ("group:g1::user:u1", err(Slug, Empty)),
    ];
    for (s, want) in cases {
        assert_eq!(s.parse::<GrantId>().unwrap_err(), *want, "{s:?}");
    }
}

#[test]
fn principal_id_is_the_tail() {
    let g: GrantId = "group:g1:member:user:a:b:c".parse().unwrap();
    assert_eq!(g.entitlement().to_string(), "group:g1:member");
    assert_eq!(g.entitlement().resource_type().as_str(), "group");
    assert_eq!(g.entitlement().resource_id(), "g1");
    assert_eq!(g.entitlement().slug(), "member");
    assert_eq!(g.principal_type().as_str(), "user");
    assert_eq!(g.principal_id(), "a:b:c");
    assert_eq!(
        GrantId::new(
            g.entitlement().clone(),
            ResourceTypeId::new("user").unwrap(),
            ""
        )
        .unwrap_err(),
        err(IdPart::PrincipalId, IdProblem::Empty)
    );
}

#[test]
fn error_messages_do_not_echo_the_input() {
    let e = "secret-value".parse::<ResourceRef>().unwrap_err();
    assert_eq!(e.to_string(), "invalid id: resource id is missing");
}
