//! Provisioning through the CLI against the small workspace: grant and revoke, exit code 3 on
//! a repeat, `--dry-run` (no write reaches the mock), `--output json`, the standard baton
//! flags resolving ids through the c1z, `create-account`/`delete-resource`, and `apply`.

use segment_mock::MockServer;

use crate::common::{self, small_workspace, with_conn};

fn members(server: &MockServer, group: &str) -> Vec<String> {
    server
        .workspace()
        .groups
        .iter()
        .find(|g| g.id == group)
        .unwrap()
        .members
        .clone()
}

fn user_roles(server: &MockServer, user: &str) -> Vec<String> {
    server
        .workspace()
        .users
        .iter()
        .find(|u| u.id == user)
        .unwrap()
        .permissions
        .iter()
        .map(|p| p.role_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_then_revoke_with_no_op_exit_codes() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let grant = with_conn(
        &server,
        &[
            "grant",
            "--entitlement",
            "group:grpEmpty01:member",
            "--principal",
            "usrBob0001",
        ],
    );
    let out = common::run(dir.path(), &grant).await;
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        "granted group:grpEmpty01:member to user:usrBob0001 (1 write)"
    );
    assert_eq!(members(&server, "grpEmpty01"), ["bob@small.example"]);

    let again = common::run(dir.path(), &grant).await;
    again.expect_code(0);
    assert!(
        again.stdout.contains("already has group:grpEmpty01:member"),
        "{}",
        again.stdout
    );
    // Opt-in: the no-op keeps its own exit code; the same grant stays a no-op (nothing written).
    let mut detailed = grant.clone();
    detailed.push("--detailed-exitcode".into());
    let writes_before = server.counters().writes;
    common::run(dir.path(), &detailed).await.expect_code(3);
    assert_eq!(server.counters().writes, writes_before);

    let revoke = with_conn(
        &server,
        &[
            "revoke",
            "--entitlement",
            "group:grpEmpty01:member",
            "--principal",
            "usrBob0001",
        ],
    );
    let out = common::run(dir.path(), &revoke).await;
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("revoked group:grpEmpty01:member from user:usrBob0001"),
        "{}",
        out.stdout
    );
    assert!(members(&server, "grpEmpty01").is_empty());
    let again = common::run(dir.path(), &revoke).await;
    again.expect_code(0);
    assert!(again.stdout.contains("does not have"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_writes_and_makes_none() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "grant",
                "-e",
                "role:roleWhAdm01:member",
                "-p",
                "usrCarol01",
                "--dry-run",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("would grant role:roleWhAdm01:member to user:usrCarol01"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("\n  POST /users/usrCarol01/permissions {"),
        "{}",
        out.stdout
    );
    let counters = server.counters();
    assert_eq!(counters.writes, 0, "{counters:?}");
    assert!(counters.reads > 0);
    assert_eq!(user_roles(&server, "usrCarol01"), ["roleMember1"]);

    // A dry-run revoke of a group-held scoped role: the exact PUT, nothing sent.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "revoke",
                "--grant",
                "source:srcIos0001:source_admin:group:grpEng0001",
                "--dry-run",
                "--output",
                "json",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["kind"], "revoked");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["writes"][0]["method"], "PUT");
    assert_eq!(server.counters().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_of_outcomes_and_errors() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let grant = with_conn(
        &server,
        &[
            "--output",
            "json",
            "grant",
            "-e",
            "role:roleWhAdm01:member",
            "-p",
            "usrCarol01",
            "--principal-type",
            "user",
        ],
    );
    let out = common::run(dir.path(), &grant).await;
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["kind"], "granted");
    assert_eq!(v["entitlement"], "role:roleWhAdm01:member");
    assert_eq!(v["principal"], "user:usrCarol01");
    assert_eq!(v["noop"], false);
    assert!(user_roles(&server, "usrCarol01").contains(&"roleWhAdm01".to_owned()));

    let again = common::run(dir.path(), &grant).await;
    again.expect_code(0);
    assert_eq!(again.json()["kind"], "already_granted");

    // A refused operation: JSON on stdout, one line on stderr, exit 1.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--output",
                "json",
                "grant",
                "-e",
                "role:noSuchRole:member",
                "-p",
                "usrCarol01",
            ],
        ),
    )
    .await;
    out.expect_code(1);
    assert_eq!(out.json()["status"], "error");
    let plain = out.stderr_plain_lines();
    assert_eq!(plain.len(), 1, "{}", out.stderr);
    assert!(
        plain[0].starts_with("error: grant failed: "),
        "{}",
        plain[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baton_flags_resolve_ids_through_the_c1z() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    common::run(dir.path(), &with_conn(&server, &[]))
        .await
        .expect_code(0);

    // The principal's type comes from the c1z: usrCarol01 is a user, the address an invite.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--grant-entitlement",
                "role:roleWhAdm01:member",
                "--grant-principal",
                "usrCarol01",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("granted role:roleWhAdm01:member to user:usrCarol01"),
        "{}",
        out.stdout
    );

    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--grant-entitlement",
                "group:grpEmpty01:member",
                "--grant-principal",
                "Frank.Case@Small.example",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("to invite:Frank.Case@Small.example"),
        "{}",
        out.stdout
    );
    let ws = server.workspace();
    let empty = ws.groups.iter().find(|g| g.id == "grpEmpty01").unwrap();
    assert_eq!(empty.invites.len(), 1, "{empty:?}");

    // --revoke-grant with a grant id of the c1z: a group-held scoped role.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--revoke-grant",
                "source:srcIos0001:source_admin:group:grpEng0001",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .starts_with("revoked source:srcIos0001:source_admin from group:grpEng0001"),
        "{}",
        out.stdout
    );
    let ws = server.workspace();
    let eng = ws.groups.iter().find(|g| g.id == "grpEng0001").unwrap();
    assert!(
        !eng.permissions
            .iter()
            .any(|p| p.resources.iter().any(|r| r.id == "srcIos0001")),
        "{eng:?}"
    );
    assert!(
        eng.permissions.iter().any(|p| p.role_id == "roleFnAdm01"),
        "the other permission was lost: {eng:?}"
    );

    // Without a c1z the grant id is parsed; the repeat is a no-op.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = common::run(
        elsewhere.path(),
        &with_conn(
            &server,
            &[
                "--revoke-grant",
                "source:srcIos0001:source_admin:group:grpEng0001",
            ],
        ),
    )
    .await;
    out.expect_code(0);

    // The label-scoped role of the fixture, through its grant id.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--revoke-grant",
                "role:roleSrcAdm1:member@environment=prod:user:usrBob0001",
                "--dry-run",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(
            "would revoke role:roleSrcAdm1:member@environment=prod from user:usrBob0001"
        ),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_and_delete_resource() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let create = with_conn(
        &server,
        &[
            "create-account",
            "--email",
            "new.person@small.example",
            "--role",
            "roleMember1",
            "--group",
            "grpEng0001",
        ],
    );
    let out = common::run(dir.path(), &create).await;
    out.expect_code(0);
    assert!(
        out.stdout.starts_with("invited new.person@small.example"),
        "{}",
        out.stdout
    );
    let ws = server.workspace();
    assert!(
        ws.invites
            .iter()
            .any(|i| i.email == "new.person@small.example")
    );
    // Again: already invited; the role cannot be checked or added to a pending invitation, so
    // this is not a plain no-op (exit 0, and the output says so).
    let again = common::run(dir.path(), &create).await;
    again.expect_code(0);
    assert!(
        again.stdout.contains("already has a pending invitation")
            && again
                .stdout
                .contains("role(s) NOT applied: role:roleMember1:member"),
        "{}",
        again.stdout
    );

    // The baton flags: email from the profile.
    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--create-account-profile",
                r#"{"email":"alice@small.example"}"#,
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("already a workspace member"),
        "{}",
        out.stdout
    );

    let delete = with_conn(
        &server,
        &[
            "delete-resource",
            "--resource-type",
            "invite",
            "--resource",
            "new.person@small.example",
        ],
    );
    common::run(dir.path(), &delete).await.expect_code(0);
    assert!(
        !server
            .workspace()
            .invites
            .iter()
            .any(|i| i.email == "new.person@small.example")
    );
    common::run(dir.path(), &delete).await.expect_code(0);

    let out = common::run(
        dir.path(),
        &with_conn(
            &server,
            &[
                "--delete-resource",
                "usrZoe0001",
                "--delete-resource-type",
                "user",
            ],
        ),
    )
    .await;
    out.expect_code(0);
    assert!(
        !server
            .workspace()
            .users
            .iter()
            .any(|u| u.id == "usrZoe0001")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_a_plan_file() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({"operations": [
        {"op": "grant", "entitlement": "group:grpEmpty01:member", "principal": "usrAlice01", "principal_type": "user"},
        {"op": "grant", "entitlement": "group:grpEmpty01:member", "principal": "user:usrBob0001"},
        {"op": "grant", "entitlement": "role:roleWhAdm01:member", "principal": "group:grpEng0001"},
        {"op": "revoke", "grant": "role:roleMember1:member:user:usrCarol01"},
        {"op": "create_account", "email": "plan.invitee@small.example", "entitlements": ["group:grpEmpty01:member"]}
    ]});
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();

    let dry = common::run(
        dir.path(),
        &with_conn(&server, &["apply", "plan.json", "--dry-run"]),
    )
    .await;
    dry.expect_code(0);
    assert!(dry.stdout.contains("dry run"), "{}", dry.stdout);
    assert_eq!(server.counters().writes, 0);

    let out = common::run(
        dir.path(),
        &with_conn(&server, &["--output", "json", "apply", "plan.json"]),
    )
    .await;
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["success"], true, "{report}");
    let kinds: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["granted", "granted", "granted", "revoked", "invited"]
    );
    let mut empty = members(&server, "grpEmpty01");
    empty.sort();
    assert_eq!(empty, ["alice@small.example", "bob@small.example"]);
    assert!(user_roles(&server, "usrCarol01").is_empty());

    // Re-running applies nothing twice (apply's exit code stays 0).
    let again = common::run(dir.path(), &with_conn(&server, &["apply", "plan.json"])).await;
    again.expect_code(0);
    assert!(
        again.stdout.contains("already_granted 3"),
        "{}",
        again.stdout
    );

    // One failing operation: exit 1, the others still reported.
    let bad = serde_json::json!({"operations": [
        {"op": "grant", "entitlement": "role:noSuchRole:member", "principal": "usrAlice01"},
        {"op": "grant", "entitlement": "group:grpEmpty01:member", "principal": "usrAlice01"}
    ]});
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &["apply", "bad.json"])).await;
    out.expect_code(1);
    assert!(out.stdout.contains("#0 grant: error:"), "{}", out.stdout);
    assert!(out.stdout.contains("#1 grant:"), "{}", out.stdout);
}

/// Issue 8.9: 8 grants and 4 revokes on one user from 12 processes at once. Every revoke reads
/// the user's permissions and writes them back; without the host-wide lock per (workspace,
/// principal) a grant landing in between was erased. With it, nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twelve_processes_on_one_user_lose_nothing() {
    let mut json: serde_json::Value =
        serde_json::from_str(&common::small_workspace().to_json_string()).unwrap();
    let template = json["sources"][0].clone();
    let carol = json["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["id"] == "usrCarol01")
        .unwrap()
        .clone();
    let mut sources = Vec::new();
    let mut carol_perms = carol["permissions"].as_array().unwrap().clone();
    for i in 0..12 {
        let mut s = template.clone();
        s["id"] = format!("srcRace{i:03}").into();
        s["slug"] = format!("race-{i}").into();
        s["name"] = format!("Race {i}").into();
        s["writeKeys"] = serde_json::json!([]);
        sources.push(s);
        if i >= 8 {
            // Carol holds Source Admin on the last four: the revokes remove them.
            carol_perms.push(serde_json::json!({
                "roleId": "roleSrcAdm1",
                "resources": [{"id": format!("srcRace{i:03}"), "type": "SOURCE"}]
            }));
        }
    }
    json["sources"].as_array_mut().unwrap().extend(sources);
    for u in json["users"].as_array_mut().unwrap() {
        if u["id"] == "usrCarol01" {
            u["permissions"] = serde_json::Value::Array(carol_perms.clone());
        }
    }
    let workspace = segment_mock::Workspace::from_json_str(&json.to_string()).unwrap();
    let server = common::start(workspace).await;
    // A little latency widens the read-modify-write window of every revoke.
    server.set_latency(std::time::Duration::from_millis(15));
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let tmp = tmp.display().to_string();

    let mut runs = Vec::new();
    for i in 0..12 {
        let ent = format!("source:srcRace{i:03}:source_admin");
        let verb = if i < 8 { "grant" } else { "revoke" };
        let args = with_conn(
            &server,
            &[
                verb,
                "--entitlement",
                &ent,
                "--principal",
                "user:usrCarol01",
            ],
        );
        let dir = dir.path().to_path_buf();
        let tmp = tmp.clone();
        runs.push(tokio::spawn(async move {
            common::run_env(&dir, &args, &[("TMPDIR", &tmp)]).await
        }));
    }
    for run in runs {
        run.await.unwrap().expect_code(0);
    }
    let held: Vec<String> = server
        .workspace()
        .users
        .iter()
        .find(|u| u.id == "usrCarol01")
        .unwrap()
        .permissions
        .iter()
        .flat_map(|p| p.resources.iter().map(|r| r.id.clone()))
        .filter(|id| id.starts_with("srcRace"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let want: Vec<String> = (0..8).map(|i| format!("srcRace{i:03}")).collect();
    assert_eq!(held, want, "grants lost or revokes undone");
    assert_eq!(user_roles(&server, "usrCarol01")[0], "roleMember1");
}
