//! Bulk plans: coalesced writes, per-operation reports, partial failure and re-runs,
//! progress counters, the plan format.

use segment_provision::{
    AccountRequest, ApplyProgress, OutcomeKind, Plan, PlanOperation, ProvisionError,
    ProvisionOptions,
};
use serde_json::json;

use crate::support::{env, id};

fn coalescing_plan() -> Plan {
    Plan::from_json(
        &json!({"operations": [
            {"op": "grant", "entitlement": "role:r-owner:member", "principal": "u-bob", "principal_type": "user"},
            {"op": "grant", "entitlement": "source:s2:source_admin", "principal": "u-bob", "principal_type": "user"},
            {"op": "grant", "entitlement": "function:f1:function_admin", "principal": "user:u-bob"},
            {"op": "revoke", "grant": "source:s1:source_admin:user:u-alice"},
            {"op": "revoke", "entitlement": "role:r-owner:member", "principal": "user:u-alice"},
            {"op": "grant", "entitlement": "group:g-ops:member", "principal": "u-carol", "principal_type": "user"},
            {"op": "grant", "entitlement": "group:g-ops:member", "principal": "u-bob", "principal_type": "user"},
            {"op": "grant", "entitlement": "group:g-ops:member", "principal": "pending@example.com", "principal_type": "invite"},
            {"op": "revoke", "grant": "group:g-eng:member:user:u-alice"},
            {"op": "revoke", "grant": "group:g-eng:member:invite:pending@example.com"},
            {"op": "create_account", "email": "new1@example.com"},
            {"op": "create_account", "email": "new2@example.com", "entitlements": ["group:g-ops:member"]},
            {"op": "delete", "resource_type": "user", "resource": "u-dave"},
            {"op": "delete", "resource": "invite:Other.Pending@example.com"},
            {"op": "delete", "resource_type": "user", "resource": "u-nobody"}
        ]})
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn apply_coalesces_writes_and_a_rerun_writes_nothing() {
    let env = env(ProvisionOptions::default()).await;
    let plan = coalescing_plan();
    let report = env.prov.apply(&plan).await;
    assert!(
        report.is_success(),
        "{report}\n{:#?}",
        report.failed().collect::<Vec<_>>()
    );

    let kinds: Vec<OutcomeKind> = report
        .results
        .iter()
        .map(|r| r.result.as_ref().unwrap().kind)
        .collect();
    use OutcomeKind::*;
    assert_eq!(
        kinds,
        [
            Granted,
            Granted,
            Granted,
            Revoked,
            Revoked,
            Granted,
            Granted,
            Granted,
            Revoked,
            Revoked,
            Invited,
            Invited,
            Removed,
            Removed,
            AlreadyGone
        ]
    );

    // One write per principal / group / kind of delete.
    let counters = env.server.counters();
    let per = |op: &str| counters.per_operation.get(op).copied().unwrap_or(0);
    assert_eq!(
        per("addPermissionsToUser"),
        1,
        "three grants to bob, one call"
    );
    assert_eq!(
        per("replacePermissionsForUser"),
        1,
        "two revokes on alice, one PUT"
    );
    assert_eq!(
        per("addUsersToUserGroup"),
        1,
        "four new g-ops members (one from an invitation), one call"
    );
    assert_eq!(
        per("removeUsersFromUserGroup"),
        1,
        "two g-eng removals, one call"
    );
    assert_eq!(per("createInvites"), 1);
    assert_eq!(per("deleteUsers"), 1);
    assert_eq!(per("deleteInvites"), 1);
    assert_eq!(counters.writes, 7);
    assert_eq!(report.writes.len(), 7);
    assert_eq!(env.successful_writes().len(), 7);
    // The state is what the plan says.
    assert_eq!(
        env.group_members("g-ops").into_iter().collect::<Vec<_>>(),
        [
            "bob@example.com",
            "carol@example.com",
            "new2@example.com",
            "pending@example.com"
        ]
    );
    assert_eq!(
        env.group_members("g-eng").into_iter().collect::<Vec<_>>(),
        ["bob@example.com"]
    );
    assert_eq!(env.keys("user:u-bob").len(), 4);
    assert_eq!(env.keys("user:u-alice").len(), 3);
    let ws = env.server.workspace();
    assert!(ws.users.iter().all(|u| u.id != "u-dave"));
    let invites: Vec<&str> = ws.invites.iter().map(|i| i.email.as_str()).collect();
    assert_eq!(
        invites,
        [
            "pending@example.com",
            "new1@example.com",
            "new2@example.com"
        ]
    );
    let invited = report.results[11].result.as_ref().unwrap();
    assert_eq!(invited.writes.len(), 2, "the invitation and the g-ops add");
    assert!(invited.note.as_deref().unwrap_or("").contains("g-ops"));

    // Re-running the same plan applies nothing twice.
    let before = env.server.workspace();
    let writes_before = env.writes();
    let rerun = env.prov.apply(&plan).await;
    assert!(rerun.is_success(), "{rerun}");
    assert!(
        rerun
            .results
            .iter()
            .all(|r| r.result.as_ref().unwrap().is_noop()),
        "{rerun}"
    );
    assert!(rerun.writes.is_empty());
    assert_eq!(env.writes(), writes_before);
    assert_eq!(env.server.workspace(), before);
    assert!(
        rerun.to_string().starts_with("15 operations: 15 succeeded"),
        "{rerun}"
    );
}

#[tokio::test]
async fn partial_failure_reports_each_operation_and_a_rerun_completes_without_duplicates() {
    let env = env(ProvisionOptions::default()).await;
    let mut plan = Plan::new();
    plan.push(PlanOperation::grant(
        &id("role:r-owner:member"),
        &id("user:u-carol"),
    ))
    .push(PlanOperation::grant(
        &id("source:s-missing:source_admin"),
        &id("user:u-carol"),
    ))
    .push(PlanOperation::grant(
        &id("group:g-missing:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::grant(
        &id("group:g-ops:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::revoke(&id(
        "source:s1:source_read_only:user:u-bob",
    )))
    .push(PlanOperation::grant(
        &id("source:s1:no_such_role"),
        &id("user:u-bob"),
    ));

    let report = env.prov.apply(&plan).await;
    assert!(!report.is_success());
    let failed: Vec<usize> = report.failed().map(|r| r.index).collect();
    assert_eq!(failed, [1, 2, 5]);
    let ok: Vec<(usize, OutcomeKind)> = report
        .succeeded()
        .map(|r| (r.index, r.result.as_ref().unwrap().kind))
        .collect();
    assert_eq!(
        ok,
        [
            (0, OutcomeKind::Granted),
            (3, OutcomeKind::Granted),
            (4, OutcomeKind::Revoked)
        ]
    );
    assert!(matches!(
        report.results[1].result,
        Err(ProvisionError::ScopedResourceNotFound { .. })
    ));
    assert!(matches!(
        report.results[2].result,
        Err(ProvisionError::GroupNotFound { .. })
    ));
    assert!(matches!(
        report.results[5].result,
        Err(ProvisionError::RoleNotFound { .. })
    ));
    assert!(
        report.to_string().contains("3 failed (#1, #2, #5)"),
        "{report}"
    );
    // No message, text or JSON, carries the API token.
    let token = env.server.token().to_owned();
    for r in report.failed() {
        let e = r.result.as_ref().unwrap_err();
        assert!(!format!("{e} {e:?} {r}").contains(&token));
    }
    assert!(!serde_json::to_string(&report).unwrap().contains(&token));
    // JSON report: status per operation.
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["results"][0]["status"], "ok");
    assert_eq!(v["results"][0]["outcome"]["kind"], "granted");
    assert_eq!(v["results"][2]["status"], "error");
    assert_eq!(v["results"][2]["error"]["kind"], "group_not_found");
    assert_eq!(v["results"][2]["operation"]["op"], "grant");

    // Re-run: what succeeded is a no-op now; the failures fail again; nothing is duplicated.
    let writes_ok = env.successful_writes().len();
    let rerun = env.prov.apply(&plan).await;
    let failed: Vec<usize> = rerun.failed().map(|r| r.index).collect();
    assert_eq!(failed, [1, 2, 5]);
    assert!(
        rerun
            .succeeded()
            .all(|r| r.result.as_ref().unwrap().is_noop())
    );
    assert_eq!(
        env.successful_writes().len(),
        writes_ok,
        "no successful write in the re-run"
    );
    let carol = env.user_json("u-carol");
    assert_eq!(carol.as_array().unwrap().len(), 1, "{carol}");

    // With the broken operations fixed (dropped), the plan completes.
    let mut fixed = plan.clone();
    fixed.operations.retain(|op| {
        !matches!(op, PlanOperation::Grant { entitlement, .. }
            if entitlement.contains("missing") || entitlement.contains("no_such"))
    });
    let done = env.prov.apply(&fixed).await;
    assert!(done.is_success(), "{done}");
    assert!(done.writes.is_empty());
}

#[tokio::test]
async fn progress_counters_follow_the_run() {
    let progress = ApplyProgress::new();
    let env = env(ProvisionOptions::default().with_progress(progress.clone())).await;
    let mut plan = Plan::new();
    plan.push(PlanOperation::grant(
        &id("role:r-owner:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::grant(
        &id("role:r-min:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::grant(
        &id("group:g-nope:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::create_account(
        &AccountRequest::new("p@example.com").with_entitlement(id("group:g-ops:member")),
    ))
    .push(PlanOperation::delete(&id("user:u-dave")));
    let report = env.prov.apply(&plan).await;
    assert_eq!(progress.total(), 5);
    assert_eq!(progress.done(), 5);
    assert_eq!(progress.failed(), 1);
    assert_eq!(progress.writes(), env.successful_writes().len() as u64);
    assert_eq!(progress.writes(), report.writes.len() as u64);
    assert!(progress.is_finished());
}

#[tokio::test]
async fn batches_are_capped_by_max_batch() {
    let env = env(ProvisionOptions::default().with_max_batch(2)).await;
    let mut plan = Plan::new();
    for user in ["u-alice", "u-bob", "u-carol"] {
        plan.push(PlanOperation::grant(
            &id("group:g-ops:member"),
            &id(&format!("user:{user}")),
        ));
    }
    for email in ["x1@example.com", "x2@example.com", "x3@example.com"] {
        plan.push(PlanOperation::create_account(&AccountRequest::new(email)));
    }
    let report = env.prov.apply(&plan).await;
    assert!(report.is_success(), "{report}");
    assert_eq!(env.calls("addUsersToUserGroup"), 2);
    assert_eq!(env.calls("createInvites"), 2);
}

#[test]
fn plan_format() {
    let plan = Plan::from_json(
        r#"{"operations":[
            {"op":"grant","entitlement":"role:r1:member","principal":"u1","principal_type":"user"},
            {"op":"revoke","grant":"group:g1:member:user:u1"},
            {"op":"create_account","email":"a@example.com"},
            {"op":"delete","resource_type":"user","resource":"u9"}]}"#,
    )
    .unwrap();
    assert_eq!(plan.operations.len(), 4);
    assert_eq!(
        plan.operations[2],
        PlanOperation::create_account(&AccountRequest::new("a@example.com"))
    );
    assert_eq!(plan.operations[3], PlanOperation::delete(&id("user:u9")));
    assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
    for bad in [
        r#"{"operations":[{"op":"nuke"}]}"#,
        r#"{"operations":[{"op":"grant"}]}"#,
        "[]",
    ] {
        let e = Plan::from_json(bad).unwrap_err();
        assert!(
            matches!(e, ProvisionError::InvalidPlan { .. }),
            "{bad}: {e}"
        );
    }
}

#[tokio::test]
async fn malformed_ids_fail_only_their_operation() {
    let env = env(ProvisionOptions::default()).await;
    let plan = Plan::from_json(
        r#"{"operations":[
            {"op":"grant","entitlement":"not-an-entitlement","principal":"u-bob","principal_type":"user"},
            {"op":"grant","entitlement":"role:r-owner:member","principal":"u-bob"},
            {"op":"revoke","entitlement":"role:r-owner:member"},
            {"op":"grant","entitlement":"role:r-owner:member","principal":"u-bob","principal_type":"user"}]}"#,
    )
    .unwrap();
    let report = env.prov.apply(&plan).await;
    let failed: Vec<usize> = report.failed().map(|r| r.index).collect();
    assert_eq!(failed, [0, 1, 2]);
    assert_eq!(
        report.results[3].result.as_ref().unwrap().kind,
        OutcomeKind::Granted
    );
}
