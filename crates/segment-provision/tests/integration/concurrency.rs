//! Concurrency: operations on one principal are serialized in submission order (property
//! test), and a change made by someone else between our write and its verification is kept
//! while our change is re-applied.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use baton_model::ids::{EntitlementId, ResourceRef};
use proptest::prelude::*;
use segment_api::ResourceKind;
use segment_api::hooks::RequestHook;
use segment_mock::{Permission, PermissionResource, ResourceType};
use segment_provision::{OutcomeKind, ProvisionError, ProvisionOptions, Provisioner};
use segment_scheme::{LabelSet, PermissionKey};

use crate::support::{Trigger, env, env_with_observer, fixture, id, keys_of, members_of};

const PRINCIPALS: [&str; 5] = [
    "user:u-alice",
    "user:u-bob",
    "user:u-carol",
    "group:g-ops",
    "group:g-eng",
];
const USER_EMAILS: [&str; 3] = ["alice@example.com", "bob@example.com", "carol@example.com"];
const GROUPS: [&str; 2] = ["g-ops", "g-eng"];

fn key(role: &str, kind: ResourceKind, res: &str, labels: &[(&str, &str)]) -> PermissionKey {
    PermissionKey {
        role_id: role.into(),
        kind,
        resource_id: res.into(),
        labels: LabelSet::from_pairs(labels.iter().copied()),
    }
}

/// Permission entitlements and the entry each stands for in the fixture.
fn perm_entitlements() -> Vec<(&'static str, PermissionKey)> {
    vec![
        (
            "role:r-owner:member",
            key("r-owner", ResourceKind::Workspace, "ws1", &[]),
        ),
        (
            "role:r-min:member@environment=prod",
            key(
                "r-min",
                ResourceKind::Workspace,
                "ws1",
                &[("environment", "prod")],
            ),
        ),
        (
            "source:s1:source_admin",
            key("r-src-admin", ResourceKind::Source, "s1", &[]),
        ),
        (
            "source:s2:source_admin",
            key("r-src-admin", ResourceKind::Source, "s2", &[]),
        ),
        (
            "warehouse:wh1:warehouse_admin",
            key("r-wh-admin", ResourceKind::Warehouse, "wh1", &[]),
        ),
        (
            "space:sp1:engage_user",
            key("r-engage", ResourceKind::Space, "sp1", &[]),
        ),
        (
            "function:f1:function_admin@team=growth",
            key(
                "r-fn-admin",
                ResourceKind::Function,
                "f1",
                &[("team", "growth")],
            ),
        ),
    ]
}

/// One generated operation: principal index, entitlement index, grant or revoke.
type GenOp = (usize, usize, bool);

/// The entitlement an operation is about: a permission entitlement, or (users only) a group
/// membership.
enum What {
    Perm(&'static str, PermissionKey),
    Member(&'static str),
}

fn what(op: &GenOp) -> What {
    let perms = perm_entitlements();
    let (p, e, _) = *op;
    let is_user = PRINCIPALS[p].starts_with("user:");
    if is_user && e >= perms.len() {
        What::Member(GROUPS[(e - perms.len()) % GROUPS.len()])
    } else {
        let (ent, key) = perms[e % perms.len()].clone();
        What::Perm(ent, key)
    }
}

/// Permission entries per principal and member addresses per group.
type Expected = (
    BTreeMap<&'static str, BTreeSet<PermissionKey>>,
    BTreeMap<&'static str, BTreeSet<String>>,
);

/// The final state applying `ops` in order per principal gives.
fn expected(ops: &[GenOp]) -> Expected {
    let ws = fixture();
    let mut perms: BTreeMap<&str, BTreeSet<PermissionKey>> =
        PRINCIPALS.iter().map(|p| (*p, keys_of(&ws, p))).collect();
    let mut members: BTreeMap<&str, BTreeSet<String>> =
        GROUPS.iter().map(|g| (*g, members_of(&ws, g))).collect();
    for op in ops {
        let (p, _, grant) = *op;
        match what(op) {
            What::Perm(_, key) => {
                let set = perms.get_mut(PRINCIPALS[p]).unwrap();
                if grant {
                    set.insert(key);
                } else {
                    set.remove(&key);
                }
            }
            What::Member(group) => {
                let set = members.get_mut(group).unwrap();
                let email = USER_EMAILS[p].to_owned();
                if grant {
                    set.insert(email);
                } else {
                    set.remove(&email);
                }
            }
        }
    }
    (perms, members)
}

async fn run_concurrently(ops: Vec<GenOp>) {
    let env = env(ProvisionOptions::default()).await;
    let prov: Provisioner = env.prov.clone();
    // Submit in order (each call takes its place in its principal's queue) ...
    let mut futures = Vec::with_capacity(ops.len());
    for op in &ops {
        let (p, _, grant) = *op;
        let principal: ResourceRef = id(PRINCIPALS[p]);
        let entitlement: EntitlementId = match what(op) {
            What::Perm(ent, _) => id(ent),
            What::Member(group) => id(&format!("group:{group}:member")),
        };
        let fut = if grant {
            futures::future::Either::Left(prov.grant(&entitlement, &principal))
        } else {
            futures::future::Either::Right(prov.revoke_from(&entitlement, &principal))
        };
        futures.push(fut);
    }
    // ... then start them in reverse order, all at once.
    let handles: Vec<_> = futures.into_iter().rev().map(tokio::spawn).collect();
    for handle in handles {
        let outcome = handle.await.unwrap().unwrap();
        assert_eq!(outcome.conflict_retries, 0, "{outcome}");
    }

    let (perms, members) = expected(&ops);
    let ws = env.server.workspace();
    for (principal, want) in perms {
        assert_eq!(keys_of(&ws, principal), want, "{principal}");
    }
    for (group, want) in members {
        assert_eq!(members_of(&ws, group), want, "{group}");
    }
    assert_eq!(env.server.counters().rate_limited, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5))]

    #[test]
    fn concurrent_operations_end_as_if_applied_in_order_per_principal(
        ops in prop::collection::vec((0..PRINCIPALS.len(), 0..9usize, any::<bool>()), 200)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_concurrently(ops));
    }
}

fn permission(role: &str, kind: ResourceType, id: &str) -> Permission {
    Permission {
        role_id: role.into(),
        resources: vec![PermissionResource {
            id: id.into(),
            kind,
            labels: Vec::new(),
        }],
        labels: Vec::new(),
    }
}

fn alice_mut(ws: &mut segment_mock::Workspace) -> &mut Vec<Permission> {
    &mut ws
        .users
        .iter_mut()
        .find(|u| u.id == "u-alice")
        .unwrap()
        .permissions
}

/// Between our PUT and its read-back, a stale writer puts the revoked entry back and adds
/// another permission: the revoke is re-applied on the fresh state, keeping the other change.
#[tokio::test]
async fn external_change_between_write_and_read_back_is_kept_and_revoke_reapplied() {
    let mut trigger: Option<Arc<Trigger>> = None;
    let env = env_with_observer(ProvisionOptions::default(), |server| {
        let t = Trigger::new(server, "replacePermissionsForUser", 1, |ws| {
            let perms = alice_mut(ws);
            perms.push(permission("r-wh-admin", ResourceType::Warehouse, "wh1"));
            perms.push(permission("r-src-admin", ResourceType::Source, "s1"));
        });
        trigger = Some(Arc::clone(&t));
        let hook: Arc<dyn RequestHook> = t;
        hook
    })
    .await;
    let before = env.keys("user:u-alice");
    let revoked = key("r-src-admin", ResourceKind::Source, "s1", &[]);
    let theirs = key("r-wh-admin", ResourceKind::Warehouse, "wh1", &[]);

    let out = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &id("user:u-alice"))
        .await
        .unwrap();
    assert_eq!(trigger.unwrap().fired(), 1);
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(out.conflict_retries, 1);
    assert_eq!(out.writes.len(), 2);
    assert!(out.to_string().contains("re-applied 1 time(s)"), "{out}");
    assert_eq!(env.calls("replacePermissionsForUser"), 2);

    let after = env.keys("user:u-alice");
    let mut want = before.clone();
    want.remove(&revoked);
    want.insert(theirs);
    assert_eq!(after, want);
}

/// Someone else adds a permission after our PUT: nothing to re-apply, their change stays.
#[tokio::test]
async fn unrelated_external_change_needs_no_rewrite() {
    let env = env_with_observer(ProvisionOptions::default(), |server| {
        let hook: Arc<dyn RequestHook> =
            Trigger::new(server, "replacePermissionsForUser", 1, |ws| {
                alice_mut(ws).push(permission("r-wh-admin", ResourceType::Warehouse, "wh1"));
            });
        hook
    })
    .await;
    let out = env
        .prov
        .revoke_from(&id("role:r-owner:member"), &id("user:u-alice"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Revoked);
    assert_eq!(out.conflict_retries, 0);
    assert_eq!(env.calls("replacePermissionsForUser"), 1);
    let keys = env.keys("user:u-alice");
    assert!(keys.contains(&key("r-wh-admin", ResourceKind::Warehouse, "wh1", &[])));
    assert!(!keys.contains(&key("r-owner", ResourceKind::Workspace, "ws1", &[])));
}

/// A writer that keeps undoing our revoke: bounded re-application, then a typed error.
#[tokio::test]
async fn endless_conflicts_fail_loudly() {
    let options = ProvisionOptions::default().with_max_conflict_retries(2);
    let env = env_with_observer(options, |server| {
        let hook: Arc<dyn RequestHook> =
            Trigger::new(server, "replacePermissionsForUser", u32::MAX, |ws| {
                alice_mut(ws).push(permission("r-src-admin", ResourceType::Source, "s1"));
            });
        hook
    })
    .await;
    let e = env
        .prov
        .revoke_from(&id("source:s1:source_admin"), &id("user:u-alice"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProvisionError::ConflictRetriesExhausted { attempts: 3, .. }
        ),
        "{e}"
    );
    assert!(e.is_retryable());
    assert!(e.to_string().contains("someone else"), "{e}");
    assert_eq!(env.calls("replacePermissionsForUser"), 3);
}
