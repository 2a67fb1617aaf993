//! who-has and access: direct holdings, inheritance through nested groups, `shallow`, the
//! principal types of an expansion, loops, principal lookup by id, email and invitation email.

use crate::common::{rid, workspace, write};
use baton_access::{AccessError, Holding, access, resolve_principal, who_has};
use baton_c1z::{C1zReader, ReaderOptions};

fn lines(holdings: &[Holding]) -> Vec<String> {
    holdings
        .iter()
        .map(|h| {
            format!(
                "{} {} ({}) {} [{}]",
                h.entitlement_id,
                h.principal.key(),
                h.principal.name,
                h.path(),
                h.grant_id
            )
        })
        .collect()
}

fn open() -> (tempfile::TempDir, C1zReader) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.c1z");
    write(&path, &workspace());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    (dir, reader)
}

#[test]
fn who_has_follows_nested_groups_and_honours_types_and_shallow() {
    let (_dir, reader) = open();
    let view = reader.latest().unwrap();
    // admin: users only, transitive (Bob through Platform inside Engineering); not the group
    // Platform, not the invitee.
    assert_eq!(
        lines(&who_has(&view, "app:a1:admin").unwrap()),
        [
            "app:a1:admin group:g1 (Engineering) direct [app:a1:admin:group:g1]",
            "app:a1:admin user:u1 (Alice) via group Engineering [app:a1:admin:group:g1]",
            "app:a1:admin user:u2 (Bob) via group Engineering > group Platform [app:a1:admin:group:g1]",
        ]
    );
    // viewer: shallow, every type: direct members of Engineering only (Alice and the group
    // Platform), not Bob nor the invitee, who are members through Platform.
    assert_eq!(
        lines(&who_has(&view, "app:a1:viewer").unwrap()),
        [
            "app:a1:viewer group:g1 (Engineering) direct [app:a1:viewer:group:g1]",
            "app:a1:viewer group:g2 (Platform) via group Engineering [app:a1:viewer:group:g1]",
            "app:a1:viewer user:u1 (Alice) via group Engineering [app:a1:viewer:group:g1]",
        ]
    );
    // A resource: every entitlement on it.
    let all = who_has(&view, "app:a1").unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].resource.name, "Billing");
    assert_eq!(all[0].entitlement_name, "Billing admin");
}

#[test]
fn loops_are_cut() {
    let (_dir, reader) = open();
    let view = reader.latest().unwrap();
    assert_eq!(
        lines(&who_has(&view, "group:g5:member").unwrap()),
        [
            "group:g5:member group:g4 (Loop A) direct [group:g5:member:group:g4]",
            "group:g5:member group:g5 (Loop B) via group Loop A [group:g5:member:group:g4]",
            "group:g5:member user:u3 (Carol) via group Loop A [group:g5:member:group:g4]",
        ]
    );
    let carol = access(&view, &rid("user", "u3")).unwrap();
    assert_eq!(
        lines(&carol),
        [
            "group:g4:member user:u3 (Carol) direct [group:g4:member:user:u3]",
            "group:g5:member user:u3 (Carol) via group Loop A [group:g5:member:group:g4]",
        ]
    );
}

#[test]
fn access_lists_direct_and_inherited_holdings_like_who_has() {
    let (_dir, reader) = open();
    let view = reader.latest().unwrap();
    assert_eq!(
        lines(&access(&view, &rid("user", "u2")).unwrap()),
        [
            "app:a1:admin user:u2 (Bob) via group Engineering > group Platform [app:a1:admin:group:g1]",
            "group:g1:member user:u2 (Bob) via group Platform [group:g1:member:group:g2]",
            "group:g2:member user:u2 (Bob) direct [group:g2:member:user:u2]",
        ]
    );
    // The invitee: the admin expansion is for users only.
    let dan = resolve_principal(&view, "DAN@example.com").unwrap();
    assert_eq!(dan.id, Some(rid("invite", "dan@example.com")));
    assert_eq!(
        lines(&access(&view, dan.id.as_ref().unwrap()).unwrap()),
        [
            "group:g1:member invite:dan@example.com ((Invitation) dan) via group Platform [group:g1:member:group:g2]",
            "group:g2:member invite:dan@example.com ((Invitation) dan) direct [group:g2:member:invite:dan@example.com]",
        ]
    );
    // Every holding access reports, who-has reports too.
    for h in access(&view, &rid("user", "u1")).unwrap() {
        let holders = who_has(&view, &h.entitlement_id).unwrap();
        assert!(holders.contains(&h), "{h:?} not in who-has");
    }
}

#[test]
fn principals_by_id_email_and_errors() {
    let (_dir, reader) = open();
    let view = reader.latest().unwrap();
    let id = |q: &str| resolve_principal(&view, q).unwrap().id.unwrap();
    assert_eq!(id("u1"), rid("user", "u1"));
    assert_eq!(id("user:u1"), rid("user", "u1"));
    assert_eq!(id("Alice@Example.com"), rid("user", "u1"));
    assert_eq!(
        id("invite:dan@example.com"),
        rid("invite", "dan@example.com")
    );
    let err = resolve_principal(&view, "nobody@example.com").unwrap_err();
    assert!(
        matches!(err, AccessError::PrincipalNotFound { .. }),
        "{err}"
    );
    let err = who_has(&view, "app:nope").unwrap_err();
    assert!(matches!(err, AccessError::TargetNotFound { .. }), "{err}");
    assert!(err.to_string().contains("list them with"), "{err}");
}
