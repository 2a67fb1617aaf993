//! Regression tests of review findings, through the CLI: `--dry-run`/`BATON_DRY_RUN` hold
//! wherever they are given, principal types are looked up (never guessed), `create-account`
//! keeps the requested entitlements of existing members and pending invitations, the demo
//! never writes into a real sync's file, a sync never appends another workspace, `apply`
//! refuses plans whose order it cannot keep, and the sync summary labels its summed wait.

use segment_mock::{GenSpec, MockServer};

use crate::common::{self, args, small_workspace, with_conn};

fn group_permissions(server: &MockServer, group: &str) -> serde_json::Value {
    let ws = server.workspace();
    let g = ws.groups.iter().find(|g| g.id == group).unwrap();
    serde_json::to_value(&g.permissions).unwrap()
}

fn members(server: &MockServer, group: &str) -> Vec<String> {
    let ws = server.workspace();
    ws.groups
        .iter()
        .find(|g| g.id == group)
        .unwrap()
        .members
        .clone()
}

// ---- 1. dry run ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_holds_before_the_subcommand_and_from_the_environment() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();

    // Root flag before the subcommand.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--dry-run",
                "revoke",
                "--entitlement",
                "group:grpEng0001:member",
                "--principal",
                "user:usrCarol01",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(out.stdout.starts_with("would revoke"), "{}", out.stdout);
    assert_eq!(server.counters().writes, 0);

    // The environment, for a subcommand, a baton flag and a plan; every boolish spelling.
    let grant = with_conn(
        &server,
        &[
            "grant",
            "-e",
            "group:grpEmpty01:member",
            "-p",
            "user:usrBob0001",
        ],
    );
    for value in ["true", "1", "yes", "on"] {
        let out = common::run_env(dir.path(), &grant, &[("BATON_DRY_RUN", value)]).await;
        out.expect_code(0);
        assert!(
            out.stdout.starts_with("would grant"),
            "{value}: {}",
            out.stdout
        );
    }
    let revoke_grant = with_conn(
        &server,
        &[
            "--revoke-grant",
            "source:srcIos0001:source_admin:group:grpEng0001",
        ],
    );
    let out = common::run_env(dir.path(), &revoke_grant, &[("BATON_DRY_RUN", "1")]).await;
    out.expect_code(0);
    assert!(out.stdout.starts_with("would revoke"), "{}", out.stdout);
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"operations": [{"op": "delete", "resource_type": "user", "resource": "usrZoe0001"}]}"#,
    )
    .unwrap();
    let apply = with_conn(&server, &["apply", plan.to_str().unwrap()]);
    let out = common::run_env(dir.path(), &apply, &[("BATON_DRY_RUN", "yes")]).await;
    out.expect_code(0);
    assert!(out.stdout.contains("dry run"), "{}", out.stdout);
    let counters = server.counters();
    assert_eq!(counters.writes, 0, "{counters:?}");

    // A dry run of a sync is a usage error; a false value is a real run.
    let out = common::run(dir.path(), &with_conn(&server, &["--dry-run"])).await;
    out.expect_code(2);
    let out = common::run_env(dir.path(), &grant, &[("BATON_DRY_RUN", "no")]).await;
    out.expect_code(0);
    assert!(out.stdout.starts_with("granted"), "{}", out.stdout);
    assert_eq!(server.counters().writes, 1);
}

// ---- 2. principal types ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_id_without_a_type_is_looked_up_not_guessed_as_a_user() {
    let mut ws = small_workspace();
    let eng = ws.groups.iter_mut().find(|g| g.id == "grpEng0001").unwrap();
    eng.permissions.push(
        serde_json::from_value(serde_json::json!({
            "roleId": "roleSrcAdm1",
            "resources": [{"id": "wsSmall001", "type": "WORKSPACE",
                           "labels": [{"key": "environment", "value": "prod"}]}]
        }))
        .unwrap(),
    );
    let server = common::start(ws).await;
    let dir = tempfile::tempdir().unwrap(); // no c1z: the type comes from Segment
    let revoke = with_conn(
        &server,
        &[
            "revoke",
            "--entitlement",
            "role:roleSrcAdm1:member@environment=prod",
            "--principal",
            "grpEng0001",
        ],
    );
    let out = common::run(dir.path(), &revoke).await;
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("revoked role:roleSrcAdm1:member@environment=prod from group:grpEng0001"),
        "{}",
        out.stdout
    );
    assert!(
        !group_permissions(&server, "grpEng0001")
            .to_string()
            .contains("environment"),
        "the group lost the label-scoped role"
    );

    // An id that is neither a user nor a group: an error, nothing written.
    let writes = server.counters().writes;
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "revoke",
                "-e",
                "group:grpEng0001:member",
                "-p",
                "nobodyHere1",
            ],
        ),
    )
    .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("unknown principal \\\"nobodyHere1\\\"")
            || out.stderr.contains("unknown principal \"nobodyHere1\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pass --principal-type"),
        "{}",
        out.stderr
    );
    assert_eq!(server.counters().writes, writes);

    // A stated type that does not exist: nothing to do, and the text says it does not exist.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "revoke",
                "-e",
                "group:grpEng0001:member",
                "-p",
                "ghostUser1",
                "--principal-type",
                "user",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("user:ghostUser1 does not exist in Segment"),
        "{}",
        out.stdout
    );
}

// ---- 3. accounts -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_keeps_the_requested_entitlements() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let bob = with_conn(
        &server,
        &[
            "create-account",
            "--email",
            "Bob@Small.example",
            "--role",
            "roleMember1",
            "--group",
            "grpEmpty01",
        ],
    );
    let out = common::run(dir.path(), &bob).await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("is already a workspace member (user:usrBob0001)")
            && out.stdout.contains(
                "requested entitlements applied to the existing member user:usrBob0001: \
                 role:roleMember1:member (granted), group:grpEmpty01:member (granted)"
            ),
        "{}",
        out.stdout
    );
    assert_eq!(members(&server, "grpEmpty01"), ["bob@small.example"]);
    let again = common::run(dir.path(), &bob).await;
    again.expect_code(0);

    // A pending invitation: its group is ensured; the role cannot be, and it says so.
    let mut erin = with_conn(
        &server,
        &[
            "create-account",
            "--email",
            "erin@small.example",
            "--role",
            "roleOwner01",
            "--group",
            "grpEmpty01",
            "--output",
            "json",
        ],
    );
    let out = common::run(dir.path(), &erin).await;
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["kind"], "already_invited");
    assert_eq!(v["noop"], false);
    assert_eq!(v["roles_not_applied"][0], "role:roleOwner01:member");
    assert!(v["note"].as_str().unwrap().contains("NOT applied"), "{v}");
    let ws = server.workspace();
    let empty = ws.groups.iter().find(|g| g.id == "grpEmpty01").unwrap();
    assert_eq!(empty.invites, ["erin@small.example"]);
    erin.truncate(erin.len() - 2);
    let out = common::run(dir.path(), &erin).await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("role(s) NOT applied: role:roleOwner01:member"),
        "{}",
        out.stdout
    );
}

// ---- 6. demo and foreign files ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_writes_its_own_file_never_sync_c1z() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("sync.c1z");
    std::fs::write(&real, b"a real sync's file").unwrap();
    let out = common::run(dir.path(), &args(&["sync", "--demo"])).await;
    out.expect_code(0);
    assert_eq!(std::fs::read(&real).unwrap(), b"a real sync's file");
    let demo = dir.path().join("demo.c1z");
    assert!(demo.exists());
    assert!(
        out.stdout.contains(&format!(
            "into {} (the demo's own file; -f/--file chooses another).",
            std::path::absolute(&demo).unwrap().display()
        )),
        "{}",
        out.stdout
    );

    // Told explicitly (BATON_FILE), it writes there.
    let out = common::run_env(
        dir.path(),
        &args(&["--demo"]),
        &[("BATON_FILE", "mine.c1z")],
    )
    .await;
    out.expect_code(0);
    assert!(dir.path().join("mine.c1z").exists());
    assert!(
        !out.stdout.contains("the demo's own file"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_into_a_file_of_another_workspace_is_refused() {
    let small = common::start(small_workspace()).await;
    let other_ws = segment_mock::generate(&GenSpec::sized(3, 1, 1, 1, 1, 1, 1));
    let other_id = other_ws.id.clone();
    let other = common::start(other_ws).await;
    let dir = tempfile::tempdir().unwrap();
    common::run(dir.path(), &with_conn(&small, &["-f", "out.c1z"]))
        .await
        .expect_code(0);
    let file = dir.path().join("out.c1z");
    let before = std::fs::read(&file).unwrap();
    let out = common::run(dir.path(), &with_conn(&other, &["-f", "out.c1z"])).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "holds workspace wsSmall001; refusing to append workspace {other_id}; use another --file"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

// ---- 7. plan order ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_operations_whose_order_it_cannot_keep() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"operations": [
            {"op": "delete", "resource_type": "invite", "resource": "erin@small.example"},
            {"op": "create_account", "email": "erin@small.example"},
            {"op": "grant", "entitlement": "group:grpEmpty01:member", "principal": "user:usrBob0001"}
        ]}"#,
    )
    .unwrap();
    let out = common::run(
        dir.path(),
        &with_conn(&server, &["apply", plan.to_str().unwrap()]),
    )
    .await;
    out.expect_code(1);
    assert!(
        out.stdout.contains(
            "#0 delete: error: invalid plan: operations #0 (delete), #1 (create_account) all touch invite:erin@small.example"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("#2 grant: granted group:grpEmpty01:member to user:usrBob0001"),
        "{}",
        out.stdout
    );
    assert!(
        server
            .workspace()
            .invites
            .iter()
            .any(|i| i.email == "erin@small.example"),
        "the invitation is untouched"
    );
}

// ---- 9. sync summary -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_summary_labels_its_summed_wait() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &[])).await;
    out.expect_code(0);
    assert!(
        out.stdout.contains(", summed wait across requests "),
        "{}",
        out.stdout
    );
    let out = common::run(dir.path(), &with_conn(&server, &["--output", "json"])).await;
    out.expect_code(0);
    let v = out.json();
    assert!(v["summed_wait_ms"].is_u64(), "{v}");
    assert!(v.get("waited_ms").is_none(), "{v}");
}
