//! Dry runs: every read, no write, and the exact writes a real run then sends.

use segment_provision::{
    AccountRequest, OutcomeKind, Plan, PlanOperation, PlannedWrite, ProvisionOptions,
};

use crate::support::{body, env, id, sent_path};

/// The writes the mock answered with 2xx are exactly `planned` (in any order: batches of a
/// plan run concurrently).
fn assert_sent(planned: &[PlannedWrite], env: &crate::support::Env) {
    let mut want: Vec<String> = planned
        .iter()
        .map(|p| format!("{} {} {} {:?}", p.operation, p.method, p.path, p.body))
        .collect();
    let mut got: Vec<String> = env
        .successful_writes()
        .iter()
        .map(|s| {
            let b = (!s.body.is_empty()).then(|| body(s));
            format!("{} {} {} {:?}", s.operation, s.method, sent_path(s), b)
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn single_operations_plan_the_exact_writes() {
    let dry = env(ProvisionOptions::default().with_dry_run(true)).await;
    let real = env(ProvisionOptions::default()).await;
    let before = dry.server.workspace();

    let grant = (id("source:s2:source_read_only"), id("user:u-bob"));
    let revoke = (id("source:s1:source_admin"), id("user:u-alice"));
    let member = (id("group:g-eng:member"), id("user:u-alice"));
    let account =
        AccountRequest::new("fresh@example.com").with_entitlement(id("group:g-ops:member"));
    let delete = id("invite:pending@example.com");

    let mut planned = Vec::new();
    let g = dry.prov.grant(&grant.0, &grant.1).await.unwrap();
    assert_eq!(g.kind, OutcomeKind::Granted);
    assert!(g.dry_run);
    assert_eq!(
        g.to_string(),
        "would grant source:s2:source_read_only to user:u-bob (dry run: 1 write planned)"
    );
    planned.extend(g.writes);
    let r = dry.prov.revoke_from(&revoke.0, &revoke.1).await.unwrap();
    assert_eq!(r.kind, OutcomeKind::Revoked);
    planned.extend(r.writes);
    let m = dry.prov.revoke_from(&member.0, &member.1).await.unwrap();
    assert_eq!(m.kind, OutcomeKind::Revoked);
    planned.extend(m.writes);
    let a = dry.prov.create_account(&account).await.unwrap();
    assert_eq!(a.kind, OutcomeKind::Invited);
    assert_eq!(a.writes.len(), 2);
    planned.extend(a.writes);
    let d = dry.prov.delete_resource(&delete).await.unwrap();
    assert_eq!(d.kind, OutcomeKind::Removed);
    planned.extend(d.writes);

    // Reads happened, writes did not.
    assert_eq!(dry.writes(), 0);
    assert!(dry.server.counters().reads > 0);
    assert_eq!(dry.server.workspace(), before);

    // The real run sends exactly what the dry run listed.
    real.prov.grant(&grant.0, &grant.1).await.unwrap();
    real.prov.revoke_from(&revoke.0, &revoke.1).await.unwrap();
    real.prov.revoke_from(&member.0, &member.1).await.unwrap();
    real.prov.create_account(&account).await.unwrap();
    real.prov.delete_resource(&delete).await.unwrap();
    assert_sent(&planned, &real);
}

#[tokio::test]
async fn dry_run_apply_sends_nothing_and_lists_every_write() {
    let dry = env(ProvisionOptions::default().with_dry_run(true)).await;
    let before = dry.server.workspace();
    let mut plan = Plan::new();
    plan.push(PlanOperation::grant(
        &id("role:r-owner:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::grant(
        &id("group:g-ops:member"),
        &id("user:u-bob"),
    ))
    .push(PlanOperation::revoke(&id(
        "role:r-owner:member:user:u-alice",
    )))
    .push(PlanOperation::create_account(&AccountRequest::new(
        "a@example.com",
    )))
    .push(PlanOperation::create_account(&AccountRequest::new(
        "b@example.com",
    )))
    .push(PlanOperation::delete(&id("user:u-dave")));
    let report = dry.prov.apply(&plan).await;
    assert!(report.is_success(), "{report}");
    assert!(report.dry_run);
    assert_eq!(report.writes.len(), 5, "{:#?}", report.writes);
    assert_eq!(dry.writes(), 0);
    assert_eq!(dry.server.workspace(), before);
    assert!(
        report
            .to_string()
            .ends_with("dry run: 5 write(s) planned, none sent"),
        "{report}"
    );

    let real = env(ProvisionOptions::default()).await;
    let done = real.prov.apply(&plan).await;
    assert!(done.is_success(), "{done}");
    let mut a: Vec<String> = done.writes.iter().map(ToString::to_string).collect();
    let mut b: Vec<String> = report.writes.iter().map(ToString::to_string).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_sent(&report.writes, &real);
}
