//! Generator determinism and shape, and the fixture format (load -> dump -> load).

use std::collections::HashSet;

use proptest::prelude::*;
use segment_mock::{FunctionKind, GenSpec, ResourceType, Workspace, generate};

#[test]
fn same_seed_same_json_different_seed_different_json() {
    let spec = GenSpec::default();
    let a = generate(&spec).to_json_string();
    let b = generate(&spec).to_json_string();
    assert_eq!(a, b);
    let c = generate(&spec.clone().with_seed(43)).to_json_string();
    assert_ne!(a, c);
}

#[test]
fn demo_workspace_has_every_shape() {
    let ws = generate(&GenSpec::default());
    ws.validate().unwrap();
    assert_eq!(ws.users.len(), 25);
    assert_eq!(ws.groups.len(), 4);
    assert_eq!(ws.functions.len(), 10);
    let kinds: HashSet<FunctionKind> = ws.functions.iter().map(|f| f.resource_type).collect();
    assert_eq!(kinds.len(), 5);
    assert!(
        ws.functions
            .iter()
            .all(|f| f.id.starts_with("sfnc_") && f.id.len() == 27)
    );
    assert!(ws.spaces.iter().all(|s| s.id.starts_with("spa_")));
    assert!(
        ws.users.iter().any(|u| u.name.is_empty()),
        "some users without a name"
    );
    assert!(
        ws.groups.iter().any(|g| g.members.is_empty()),
        "some empty group"
    );
    assert!(
        ws.groups.iter().any(|g| !g.invites.is_empty()),
        "some group invitees"
    );
    assert!(ws.sources.iter().any(|s| !s.labels.is_empty()));

    let names: HashSet<&str> = ws.roles.iter().map(|r| r.name.as_str()).collect();
    for n in [
        "Workspace Owner",
        "Minimal Workspace Access",
        "Source Admin",
        "Source Read-only",
        "Warehouse Admin",
        "Warehouse Read-only",
        "Function Admin",
        "Function Read-only",
        "Engage Admin",
        "Unify Read-only",
        "Tracking Plan Admin",
        "End User Privacy Admin",
    ] {
        assert!(names.contains(n), "{n}");
    }
    assert!(
        ws.roles
            .iter()
            .all(|r| r.id.len() == 27 && r.id.bytes().all(|b| b.is_ascii_alphanumeric()))
    );

    let user_kinds: HashSet<ResourceType> = ws
        .users
        .iter()
        .flat_map(|u| &u.permissions)
        .flat_map(|p| &p.resources)
        .map(|r| r.kind.clone())
        .collect();
    assert_eq!(user_kinds.len(), 5, "{user_kinds:?}");
    let label_scoped = |perms: &[segment_mock::Permission]| {
        perms.iter().any(|p| {
            p.resources
                .iter()
                .any(|r| r.kind == ResourceType::Workspace && !r.labels.is_empty())
        })
    };
    assert!(ws.users.iter().any(|u| label_scoped(&u.permissions)));
    assert!(ws.groups.iter().any(|g| label_scoped(&g.permissions)));
    assert!(ws.groups.iter().any(|g| !g.permissions.is_empty()));
}

#[test]
fn sized_constructor_and_large_workspaces() {
    let spec = GenSpec::sized(2000, 40, 50, 4, 5, 6, 100);
    let ws = generate(&spec);
    ws.validate().unwrap();
    assert_eq!(ws.users.len(), 2000);
    assert_eq!(ws.groups.len(), 40);
    assert_eq!(ws.sources.len(), 50);
    assert_eq!(ws.functions.len(), 20);
    assert_eq!(ws.warehouses.len(), 5);
    assert_eq!(ws.spaces.len(), 6);
    assert_eq!(ws.invites.len(), 100);
    let emails: HashSet<String> = ws
        .users
        .iter()
        .map(|u| u.email.to_ascii_lowercase())
        .collect();
    assert_eq!(emails.len(), 2000);
}

#[test]
fn fixture_round_trip() {
    let ws = generate(&GenSpec::default());
    let json = ws.to_json_string();
    let loaded = Workspace::from_json_str(&json).unwrap();
    assert_eq!(loaded, ws);
    assert_eq!(loaded.to_json_string(), json);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.json");
    ws.to_json_file(&path).unwrap();
    assert_eq!(Workspace::from_json_file(&path).unwrap(), ws);
    // Permissions are stored without roleName.
    assert!(!json.contains("roleName"));
}

#[test]
fn hand_written_minimal_fixture() {
    let text = r#"{
      "id": "9aQ1Lj62S4bomZKLF4DPqW", "name": "papi e2e", "slug": "papi-e2e",
      "roles": [{"id": "1WDUuRLxv84rrfCNUwvkrRtkxnS", "name": "Workspace Owner"}],
      "users": [{"id": "sgJDWk3K21k6LE3tLU9nRK", "email": "papi@segment.com",
                 "permissions": [{"roleId": "1WDUuRLxv84rrfCNUwvkrRtkxnS",
                                  "resources": [{"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE"}]}]}],
      "groups": [{"id": "bBABwqbaDf2QdwTbW8bNEm", "name": "Public API Group", "members": ["PAPI@segment.com"]}],
      "sources": [{"id": "qQEHquLrjRDN9j1ByrChyn", "slug": "swift"}]
    }"#;
    let ws = Workspace::from_json_str(text).unwrap();
    assert_eq!(ws.users[0].name, "");
    assert!(ws.sources[0].enabled);
    let again = Workspace::from_json_str(&ws.to_json_string()).unwrap();
    assert_eq!(again, ws);

    let bad = text.replace("PAPI@segment.com", "ghost@segment.com");
    assert!(Workspace::from_json_str(&bad).is_err());
    let bad_role = text.replace(
        r#""roleId": "1WDUuRLxv84rrfCNUwvkrRtkxnS","#,
        r#""roleId": "unknown","#,
    );
    assert!(Workspace::from_json_str(&bad_role).is_err());
    assert!(Workspace::from_json_str("{").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generated_workspaces_are_consistent_and_round_trip(
        seed in any::<u64>(),
        users in 0usize..60,
        groups in 0usize..8,
        sources in 0usize..6,
        fpk in 0usize..3,
        warehouses in 0usize..3,
        spaces in 0usize..3,
        invites in 0usize..6,
    ) {
        let spec = GenSpec::sized(users, groups, sources, fpk, warehouses, spaces, invites).with_seed(seed);
        let ws = generate(&spec);
        prop_assert!(ws.validate().is_ok());
        prop_assert_eq!(ws.users.len(), users);
        let back = Workspace::from_json_str(&ws.to_json_string());
        prop_assert!(back.is_ok());
        prop_assert_eq!(back.ok(), Some(ws));
    }
}
