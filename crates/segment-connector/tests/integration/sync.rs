//! End-to-end syncs against segment-mock: integrity of the whole file on a generated
//! workspace, the request budget, determinism across concurrency levels, plan and feature
//! gating, restrictions, appends and authentication failures.

use std::collections::{BTreeSet, HashMap};

use segment_connector::{SyncDepth, SyncError, SyncOptions, SyncProgress, min_requests, sync};
use segment_mock::{Features, GenSpec, MockConfig, Plan, ResourceType, Workspace, generate};
use segment_scheme::{LabelSet, ScopeType, SegmentEntitlement, role_slug};

use crate::support::{Contents, mock_requests, session, session_for, start, sync_mock};

/// The workspace of the scale test (2,000 users, every kind of object and permission).
fn big_spec() -> GenSpec {
    GenSpec::sized(2000, 20, 200, 10, 10, 5, 100)
}

/// The grant id every permission entry of the mock data must have.
fn expected_grants(ws: &Workspace) -> BTreeSet<String> {
    let names: HashMap<&str, &str> = ws
        .roles
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let mut out = BTreeSet::new();
    let principals = ws
        .users
        .iter()
        .map(|u| ("user", u.id.as_str(), &u.permissions))
        .chain(
            ws.groups
                .iter()
                .map(|g| ("group", g.id.as_str(), &g.permissions)),
        );
    for (ptype, pid, perms) in principals {
        for p in perms {
            for r in &p.resources {
                let labels = LabelSet::from_pairs(
                    r.labels
                        .iter()
                        .chain(&p.labels)
                        .map(|l| (l.key.clone(), l.value.clone())),
                );
                let ent = match &r.kind {
                    ResourceType::Workspace => SegmentEntitlement::RoleMember {
                        role_id: p.role_id.clone(),
                        labels,
                    },
                    // Unknown scope types are skipped by the sync.
                    ResourceType::Other(_) => continue,
                    kind => SegmentEntitlement::Scoped {
                        scope: match kind {
                            ResourceType::Source => ScopeType::Source,
                            ResourceType::Warehouse => ScopeType::Warehouse,
                            ResourceType::Function => ScopeType::Function,
                            _ => ScopeType::Space,
                        },
                        resource_id: r.id.clone(),
                        role_slug: role_slug(names[p.role_id.as_str()], &p.role_id),
                        labels,
                    },
                };
                out.insert(format!("{ent}:{ptype}:{pid}"));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_workspace_is_complete_consistent_and_minimal() {
    let ws = generate(&big_spec());
    let server = start(MockConfig::new(ws.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let s = session(&server);
    let progress = std::sync::Arc::new(SyncProgress::new());
    let options = SyncOptions::default()
        .with_concurrency(16)
        .with_progress(progress.clone());
    let report = sync(&s, &path, &options).await.unwrap();

    // Request budget: the mock, the session and the report agree with the minimum.
    assert_eq!(report.sizes.users, 2000);
    assert_eq!(report.sizes.groups, 20);
    assert_eq!(report.sizes.sources, 200);
    assert_eq!(report.sizes.functions, [10; 5]);
    let minimum = min_requests(&report.sizes, 1000, None, SyncDepth::Full);
    assert_eq!(report.min_requests, minimum);
    assert_eq!(server.counters().total, minimum);
    assert_eq!(s.stats().requests, minimum);
    assert_eq!(report.requests, minimum);
    assert_eq!(mock_requests(&server, "getUser"), 2000);
    assert_eq!(mock_requests(&server, "getUserGroup"), 20);
    assert_eq!(mock_requests(&server, "listUsers"), 2);

    let c = Contents::read(&path);
    c.assert_integrity();
    assert_eq!(c.resources_of("user").len(), 2000);
    assert_eq!(c.resources_of("invite").len(), 100);
    assert_eq!(c.resources_of("source").len(), 200);
    assert_eq!(c.resources_of("function").len(), 50);
    assert_eq!(c.resources_of("warehouse").len(), 10);
    assert_eq!(c.resources_of("space").len(), 5);
    assert_eq!(c.resources_of("group").len(), 20);
    assert_eq!(c.resources_of("role").len(), ws.roles.len());
    assert_eq!(report.grants, c.grants.len() as u64);
    assert_eq!(report.entitlements, c.entitlements.len() as u64);
    assert!(report.skipped.is_empty());
    assert_eq!(report.unresolved_scopes, 0);
    assert_eq!(report.skipped_permissions, 0);
    assert!(progress.is_done());
    assert_eq!(progress.grants(), report.grants);

    // Every permission of the mock data has its grant; every membership too.
    for g in expected_grants(&ws) {
        assert!(c.grants.contains_key(&g), "missing grant {g}");
    }
    for u in &ws.users {
        assert!(
            c.grants
                .contains_key(&format!("workspace:{}:member:user:{}", ws.id, u.id))
        );
    }
    let by_email: HashMap<&str, &str> = ws
        .users
        .iter()
        .map(|u| (u.email.as_str(), u.id.as_str()))
        .collect();
    for g in &ws.groups {
        for m in &g.members {
            let id = format!("group:{}:member:user:{}", g.id, by_email[m.as_str()]);
            assert!(c.grants.contains_key(&id), "missing {id}");
        }
        for i in &g.invites {
            let id = format!("group:{}:member:invite:{i}", g.id);
            assert!(c.grants.contains_key(&id), "missing {id}");
        }
    }
    // Label-scoped permissions exist in the generated data and got their own entitlement.
    assert!(c.entitlements.keys().any(|k| k.contains(":member@")));
    // Group-held grants are expandable to the group's members.
    let group_held: Vec<_> = c
        .grants
        .values()
        .filter(|g| g.id.contains(":group:") && !g.id.starts_with("group:"))
        .collect();
    assert!(!group_held.is_empty());
    for g in group_held {
        assert!(segment_scheme::mapping::is_expandable(g), "{}", g.id);
    }
    // The scoped grants' entitlements carry a name-derived slug.
    assert!(
        c.entitlements
            .contains_key(&format!("source:{}:source_admin", ws.sources[0].id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_content_at_concurrency_1_and_16() {
    let ws = generate(&big_spec().with_seed(7));
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.c1z");
    let many = dir.path().join("many.c1z");
    let r1 = sync_mock(&server, &one, &SyncOptions::default().with_concurrency(1)).await;
    let r16 = sync_mock(&server, &many, &SyncOptions::default().with_concurrency(16)).await;
    assert_eq!(r1.requests, r16.requests);
    assert_eq!(r1.grants, r16.grants);
    let (a, b) = (Contents::read(&one), Contents::read(&many));
    let (ea, eb) = (a.encoded(), b.encoded());
    for (kind, (x, y)) in ["resource types", "resources", "entitlements", "grants"]
        .iter()
        .zip(ea.iter().zip(eb.iter()))
    {
        assert_eq!(x.len(), y.len(), "{kind}: counts differ");
        for (id, bytes) in x {
            assert_eq!(Some(bytes), y.get(id), "{kind}: {id} differs");
        }
    }
}

#[tokio::test]
async fn team_plan_skips_groups_with_one_warning() {
    let ws = generate(&GenSpec::default());
    let server = start(MockConfig::new(ws).plan(Plan::Team)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("team.c1z");
    let report = sync_mock(&server, &path, &SyncOptions::default()).await;
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].resource_type, "group");
    assert!(!report.synced_types.contains(&"group".to_owned()));
    assert_eq!(report.requests, report.min_requests);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.resources_of("group").is_empty());
    assert!(!c.resource_types.contains_key("group"));
    assert_eq!(c.grants_on_type("group"), 0);
    assert!(c.grants.keys().all(|g| !g.contains(":group:")));
    assert!(!c.resources_of("user").is_empty());
}

#[tokio::test]
async fn disabled_features_are_skipped() {
    let ws = generate(&GenSpec::default());
    let features = Features {
        spaces: false,
        warehouses: false,
        functions: false,
    };
    let server = start(MockConfig::new(ws).features(features)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.c1z");
    let report = sync_mock(&server, &path, &SyncOptions::default()).await;
    let skipped: BTreeSet<&str> = report
        .skipped
        .iter()
        .map(|s| s.resource_type.as_str())
        .collect();
    assert_eq!(skipped, BTreeSet::from(["function", "space", "warehouse"]));
    assert_eq!(report.requests, report.min_requests);
    let c = Contents::read(&path);
    c.assert_integrity();
    for t in ["space", "warehouse", "function"] {
        assert!(c.resources_of(t).is_empty());
        assert!(!c.resource_types.contains_key(t));
        assert_eq!(c.grants_on_type(t), 0);
    }
    assert!(!c.resources_of("source").is_empty());
    // The workspace advertises only the synced child types.
    let ws = c.resources_of("workspace")[0];
    let children: Vec<String> = ws
        .annotations
        .iter()
        .filter_map(|a| {
            baton_model::annotations::unpack::<baton_model::pb::ChildResourceType>(a)
                .unwrap()
                .map(|c| c.resource_type_id)
        })
        .collect();
    assert_eq!(children, ["user", "group", "role", "invite", "source"]);
}

#[tokio::test]
async fn empty_workspace() {
    let ws = generate(&GenSpec {
        users: 0,
        groups: 0,
        sources: 0,
        warehouses: 0,
        functions_per_kind: 0,
        spaces: 0,
        invites: 0,
        ..GenSpec::default()
    });
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.c1z");
    let report = sync_mock(&server, &path, &SyncOptions::default()).await;
    assert_eq!(report.requests, report.min_requests);
    // 1 workspace + roles + users + groups + invites + sources + warehouses + spaces + 5 kinds.
    assert_eq!(report.min_requests, 13);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.resources_of("user").is_empty());
    assert!(c.grants.is_empty());
    assert_eq!(c.resources_of("workspace").len(), 1);
}

#[tokio::test]
async fn restricted_to_users_and_groups() {
    let ws = generate(&GenSpec::default());
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restricted.c1z");
    let types: BTreeSet<String> = ["user", "group"].into_iter().map(String::from).collect();
    let options = SyncOptions::default().with_resource_types(types.clone());
    let report = sync_mock(&server, &path, &options).await;
    assert_eq!(report.requests, report.min_requests);
    assert_eq!(
        report.min_requests,
        min_requests(&report.sizes, 1000, Some(&types), SyncDepth::Full)
    );
    assert!(report.min_requests < min_requests(&report.sizes, 1000, None, SyncDepth::Full));
    assert_eq!(mock_requests(&server, "getUser"), 0);
    assert_eq!(mock_requests(&server, "getUserGroup"), 0);
    assert_eq!(mock_requests(&server, "listRoles"), 0);
    assert_eq!(mock_requests(&server, "listInvitesFromUserGroup"), 0);
    let c = Contents::read(&path);
    c.assert_integrity();
    let types_seen: BTreeSet<&str> = c.resource_types.keys().map(String::as_str).collect();
    assert_eq!(types_seen, BTreeSet::from(["group", "user", "workspace"]));
    assert_eq!(c.grants_on_type("role"), 0);
    assert!(c.grants.keys().all(|g| !g.contains(":invite:")));
    assert!(c.grants_on_type("group") > 0);
    assert!(c.grants_on_type("workspace") > 0);
}

#[tokio::test]
async fn restricted_to_sources_still_lists_roles_but_no_groups() {
    let ws = generate(&GenSpec::default());
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.c1z");
    let options = SyncOptions::default().with_resource_types(["source", "user"]);
    let report = sync_mock(&server, &path, &options).await;
    assert_eq!(report.requests, report.min_requests);
    assert_eq!(mock_requests(&server, "listUserGroups"), 0);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.grants_on_type("source") > 0);
    assert_eq!(c.grants_on_type("role"), 0);
}

#[tokio::test]
async fn unknown_resource_type_option_is_refused() {
    let server = start(MockConfig::new(generate(&GenSpec::default()))).await;
    let dir = tempfile::tempdir().unwrap();
    let options = SyncOptions::default().with_resource_types(["destination"]);
    let err = sync(&session(&server), &dir.path().join("x.c1z"), &options)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::InvalidOption { .. }), "{err}");
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn second_sync_appends_a_sync_run() {
    let server = start(MockConfig::new(generate(&GenSpec::default()))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.c1z");
    let first = sync_mock(&server, &path, &SyncOptions::default()).await;
    let second = sync_mock(&server, &path, &SyncOptions::default()).await;
    assert!(!first.appended);
    assert!(second.appended);
    assert_ne!(first.sync_id, second.sync_id);
    let reader = baton_c1z::C1zReader::open(&path, baton_c1z::ReaderOptions::default()).unwrap();
    let runs = reader.sync_runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.is_finished()));
    assert_eq!(reader.latest().unwrap().sync_id(), second.sync_id);
}

#[tokio::test]
async fn unauthorized_is_typed_and_leaves_the_file_untouched() {
    let server = start(MockConfig::new(generate(&GenSpec::default()))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kept.c1z");
    sync_mock(&server, &path, &SyncOptions::default()).await;
    let before = std::fs::read(&path).unwrap();
    let bad = session_for(&server.base_url(), "not-the-token");
    let err = sync(&bad, &path, &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains("not-the-token"));
    assert!(!format!("{err:?}").contains("not-the-token"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn token_revoked_mid_sync_fails_without_touching_the_file() {
    let server = start(MockConfig::new(generate(&GenSpec::default()))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.c1z");
    sync_mock(&server, &path, &SyncOptions::default()).await;
    let before = std::fs::read(&path).unwrap();
    server.set_faults(segment_mock::Faults {
        unauthorized_after: Some(5),
        ..segment_mock::Faults::default()
    });
    let err = sync(&session(&server), &path, &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!dir.path().join("revoked.c1z.tmp").exists());
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let s = session_for(&format!("http://{addr}"), "t");
    let dir = tempfile::tempdir().unwrap();
    let err = sync(&s, &dir.path().join("x.c1z"), &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Transport { .. }), "{err:?}");
    assert!(!dir.path().join("x.c1z").exists());
}

#[tokio::test]
async fn missing_output_directory_is_a_write_error() {
    let server = start(MockConfig::new(generate(&GenSpec::default()))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("x.c1z");
    let err = sync(&session(&server), &path, &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Write(_)), "{err:?}");
    // Only the workspace probe was made.
    assert_eq!(server.counters().total, 1);
}

/// A service runner's scope: skip grants keeps resources and entitlements exactly as a full
/// sync writes them; resources only keeps the resources. Both make the fewest requests for
/// what they write.
#[tokio::test]
async fn sync_depth_skips_grants_and_entitlements() {
    let ws = generate(&GenSpec::default());
    let server = start(MockConfig::new(ws)).await;
    let dir = tempfile::tempdir().unwrap();
    let full_path = dir.path().join("full.c1z");
    sync_mock(&server, &full_path, &SyncOptions::default()).await;
    let full = Contents::read(&full_path);
    assert!(!full.grants.is_empty() && !full.entitlements.is_empty());

    let path = dir.path().join("no-grants.c1z");
    let before = mock_requests(&server, "listUsersFromUserGroup");
    let report = sync_mock(&server, &path, &SyncOptions::default().with_skip_grants()).await;
    assert_eq!(report.requests, report.min_requests);
    assert_eq!(
        report.min_requests,
        min_requests(&report.sizes, 1000, None, SyncDepth::SkipGrants)
    );
    assert_eq!(mock_requests(&server, "listUsersFromUserGroup"), before);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.grants.is_empty());
    assert_eq!(c.resources, full.resources);
    assert_eq!(c.entitlements, full.entitlements);
    assert_eq!(report.grants, 0);

    let path = dir.path().join("resources-only.c1z");
    let before = mock_requests(&server, "getUser");
    let options = SyncOptions::default().with_skip_entitlements_and_grants();
    let report = sync_mock(&server, &path, &options).await;
    assert_eq!(report.requests, report.min_requests);
    assert_eq!(mock_requests(&server, "getUser"), before);
    let c = Contents::read(&path);
    c.assert_integrity();
    assert!(c.grants.is_empty() && c.entitlements.is_empty());
    assert_eq!(report.entitlements, 0);
    // Roles seen only in permissions are not synthesised without permissions; everything
    // else is the same.
    assert_eq!(c.resource_types, full.resource_types);
    assert!(c.resources.keys().all(|k| full.resources.contains_key(k)));
    assert_eq!(
        c.resources.len() as u64 + full_synthesized(&full, &c),
        full.resources.len() as u64
    );

    // The file says what kind of sync each was (baton-sdk's types): skipping grants stays full.
    let sync_type = |name: &str| {
        let reader = baton_c1z::C1zReader::open(dir.path().join(name), Default::default()).unwrap();
        let runs = reader.sync_runs().unwrap();
        assert_eq!(runs.len(), 1);
        runs[0].sync_type.clone()
    };
    assert_eq!(sync_type("full.c1z"), "full");
    assert_eq!(sync_type("no-grants.c1z"), "full");
    assert_eq!(sync_type("resources-only.c1z"), "resources_only");
}

/// Resources of the full sync missing from the resources-only sync (synthesised roles).
fn full_synthesized(full: &Contents, c: &Contents) -> u64 {
    full.resources
        .keys()
        .filter(|k| !c.resources.contains_key(*k))
        .inspect(|k| assert!(k.starts_with("role:"), "{k} missing"))
        .count() as u64
}
