//! Syncs through the CLI: the demo, the default command, appending, restrictions through
//! `BATON_*` variables, the Team plan, an empty workspace, unicode names, permissions on
//! resource types Segment may add later.

use segment_mock::{MockServer, Plan, Role, User, Workspace};

use crate::c1z;
use crate::common::{self, args, config, fixture_path, small_workspace, with_conn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sync_needs_no_token_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(
        dir.path(),
        &args(&["sync", "--demo", "--log-format", "json"]),
    )
    .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("Demo: synced the generated workspace"),
        "{}",
        out.stdout
    );
    for needle in [
        "resources:",
        "user",
        "entitlements",
        "grants",
        "requests",
        "minimum",
        "elapsed",
        "pace          no client-side read cap",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing:\n{}",
            out.stdout
        );
    }
    let file = dir.path().join("demo.c1z");
    assert!(out.stdout.contains(&file.display().to_string()) || out.stdout.contains("demo.c1z"));
    let (resources, entitlements, grants) = c1z::check_integrity(&file);
    assert!(resources > 25 && entitlements > 0 && grants > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sync_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(
        dir.path(),
        &args(&["--demo", "--output", "json", "-f", "demo.c1z"]),
    )
    .await;
    out.expect_code(0);
    let summary = out.json();
    assert_eq!(summary["requests"], summary["min_requests"]);
    assert_eq!(summary["resources"]["user"], 25);
    assert!(
        summary["demo"]["base_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(dir.path().join("demo.c1z").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_command_syncs_and_a_second_sync_appends_a_run() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.c1z");
    let file_arg = file.display().to_string();

    // No subcommand: a sync, like baton connectors.
    let first = common::run(
        dir.path(),
        &with_conn(&server, &["-f", &file_arg, "--output", "json"]),
    )
    .await;
    first.expect_code(0);
    assert_eq!(first.json()["appended"], false);
    let first_render = c1z::render(&file);

    let second = common::run(
        dir.path(),
        &with_conn(&server, &["sync", "--file", &file_arg, "--output", "json"]),
    )
    .await;
    second.expect_code(0);
    let summary = second.json();
    assert_eq!(summary["appended"], true);

    let reader = c1z::open(&file);
    let runs = reader.sync_runs().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(baton_c1z::SyncRun::is_finished));
    assert_eq!(
        reader.latest().unwrap().sync_id(),
        summary["sync_id"].as_str().unwrap()
    );
    assert_ne!(runs[0].sync_id, runs[1].sync_id);
    drop(reader);
    // Same workspace, same logical content.
    assert_eq!(c1z::render(&file), first_render);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_come_from_baton_environment_variables() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let base_url = server.base_url();
    let out = common::run_env(
        dir.path(),
        &args(&["--output", "json"]),
        &[
            ("BATON_TOKEN", common::TOKEN),
            ("BATON_BASE_URL", &base_url),
            ("BATON_FILE", "env.c1z"),
            ("BATON_SYNC_RESOURCE_TYPES", "user,group"),
            ("BATON_MAX_READS_PER_MINUTE", "0"),
            ("BATON_LOG_FORMAT", "json"),
            // Standard baton flags that have no effect here are accepted.
            ("BATON_SKIP_FULL_SYNC", "true"),
            ("BATON_WORKERS", "4"),
            ("BATON_STORAGE_ENGINE", "sqlite"),
        ],
    )
    .await;
    out.expect_code(0);
    let summary = out.json();
    let resources = summary["resources"].as_object().unwrap();
    let types: Vec<&str> = resources.keys().map(String::as_str).collect();
    assert_eq!(types, ["group", "user", "workspace"], "{summary}");
    assert_eq!(summary["requests"], summary["min_requests"]);
    assert_eq!(
        server.counters().total,
        summary["requests"].as_u64().unwrap()
    );
    c1z::check_integrity(&dir.path().join("env.c1z"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_entitlements_and_grants_syncs_resources_only() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let full = common::run(
        dir.path(),
        &with_conn(&server, &["--output", "json", "-f", "sync.c1z"]),
    )
    .await;
    full.expect_code(0);
    let full = full.json();
    let file = dir.path().join("sync.c1z");
    let who_has = ["-f", "sync.c1z", "who-has", "group:grpEng0001:member"];
    let holders = common::run(dir.path(), &args(&who_has)).await;
    holders.expect_code(0);

    // The flag (into a new file), and the variable on `sync` (appended to the full sync's file).
    let mut runs = Vec::new();
    for (flag, envs, file_arg) in [
        (true, &[][..], "flag.c1z"),
        (
            false,
            &[("BATON_SKIP_ENTITLEMENTS_AND_GRANTS", "true")][..],
            "sync.c1z",
        ),
    ] {
        server.reset_counters();
        let mut all = vec!["sync".to_owned()];
        all.extend(with_conn(&server, &["--output", "json", "-f", file_arg]));
        if flag {
            all.push("--skip-entitlements-and-grants".to_owned());
        }
        let out = common::run_env(dir.path(), &all, envs).await;
        out.expect_code(0);
        runs.push((file_arg, out.json(), server.counters()));
    }
    for (name, out, counters) in &runs {
        // Every resource (roles only from the listing: none is synthesised from permissions).
        for (kind, count) in full["resources"].as_object().unwrap() {
            if kind != "role" {
                assert_eq!(&out["resources"][kind], count, "{name} {kind}: {out}");
            }
        }
        assert_eq!(out["entitlements"], 0, "{name}: {out}");
        assert_eq!(out["grants"], 0, "{name}: {out}");
        assert_eq!(out["requests"], out["min_requests"], "{name}: {out}");
        assert!(
            out["requests"].as_u64().unwrap() < full["requests"].as_u64().unwrap(),
            "{name}: {out} vs {full}"
        );
        // No per-user or per-group request.
        for op in [
            "getUser",
            "getUserGroup",
            "listUsersFromUserGroup",
            "listInvitesFromUserGroup",
        ] {
            assert!(
                !counters.per_operation.contains_key(op),
                "{name} {op}: {:?}",
                counters.per_operation
            );
        }
    }
    c1z::check_integrity(&dir.path().join("flag.c1z"));
    c1z::check_integrity(&file);

    // Appended, the resources-only sync is recorded as such: the review commands still answer
    // from the full sync, and `syncs` shows both.
    let again = common::run(dir.path(), &args(&who_has)).await;
    again.expect_code(0);
    assert_eq!(again.stdout, holders.stdout);
    let syncs = common::run(
        dir.path(),
        &args(&["-f", "sync.c1z", "syncs", "--output", "csv"]),
    )
    .await;
    syncs.expect_code(0);
    assert!(
        syncs.stdout.contains("resources_only") && syncs.stdout.contains("full"),
        "{}",
        syncs.stdout
    );

    // --skip-grants needs a targeted sync, which is not supported: refused before any request.
    server.reset_counters();
    let refused = common::run(dir.path(), &with_conn(&server, &["--skip-grants"])).await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--sync-resources"),
        "{}",
        refused.stderr
    );
    assert_eq!(server.counters().total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_plan_skips_groups_with_a_warning_and_succeeds() {
    let server = MockServer::start(config(small_workspace()).plan(Plan::Team))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &["--output", "json"])).await;
    out.expect_code(0);
    let summary = out.json();
    let skipped = summary["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["resource_type"] == "group"),
        "{summary}"
    );
    assert!(summary["resources"].get("group").is_none());
    assert!(
        out.stderr.contains("WARN"),
        "no warning logged:\n{}",
        out.stderr
    );
    let lines = c1z::render(&dir.path().join("sync.c1z"));
    assert!(!lines.iter().any(|l| l.contains("group:grp")));
    c1z::check_integrity(&dir.path().join("sync.c1z"));

    // The text summary names the skipped type.
    let text = common::run(dir.path(), &with_conn(&server, &[])).await;
    text.expect_code(0);
    assert!(text.stdout.contains("skipped group"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_on_unknown_resource_types_are_skipped_and_reported() {
    let ws = Workspace::from_json_file(fixture_path("unknown-scope-types.json")).unwrap();
    let server = common::start(ws).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &["--output", "json"])).await;
    out.expect_code(0);
    let summary = out.json();
    assert_eq!(summary["skipped_permissions"], 3, "{summary}");
    assert_eq!(
        summary["unknown_scope_types"],
        serde_json::json!({"DESTINATION": 2, "TRACKING_PLAN": 1})
    );
    assert_eq!(summary["unresolved_scopes"], 0);
    assert_eq!(summary["synthesized_roles"], 0);
    assert_eq!(summary["skipped"], serde_json::json!([]));
    assert_eq!(summary["requests"], summary["min_requests"]);
    // One warning per unknown type, not per entry.
    let warned = |kind: &str| {
        out.stderr
            .lines()
            .filter(|l| l.contains("WARN") && l.contains(&format!("\"{kind}\"")))
            .count()
    };
    assert_eq!(warned("DESTINATION"), 1, "{}", out.stderr);
    assert_eq!(warned("TRACKING_PLAN"), 1, "{}", out.stderr);

    let file = dir.path().join("sync.c1z");
    let (_, _, grants) = c1z::check_integrity(&file);
    assert_eq!(grants as u64, summary["grants"].as_u64().unwrap());
    let lines = c1z::render(&file);
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has("grant role:roleOwner01:member:user:usrAlice01 "),
        "{lines:#?}"
    );
    assert!(has(
        "grant source:srcWeb0001:source_admin:group:grpOps0001 "
    ));
    assert!(has("grant group:grpOps0001:member:user:usrBob0001 "));
    for id in ["dst123", "dst456", "tpl789", "roleDstAdm1:member:"] {
        assert!(!has(id), "{id} in {lines:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_workspace_syncs() {
    let server = common::start(Workspace::new("wsEmpty001", "Empty", "empty")).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &["--output", "json"])).await;
    out.expect_code(0);
    let summary = out.json();
    assert_eq!(summary["resources"]["workspace"], 1, "{summary}");
    assert_eq!(summary["requests"], summary["min_requests"]);
    let (resources, _, grants) = c1z::check_integrity(&dir.path().join("sync.c1z"));
    assert_eq!(resources, 1);
    assert_eq!(grants, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicode_names_round_trip() {
    let mut ws = Workspace::new("wsUni00001", "Ünïcödé 工作区 🚀", "unicode");
    ws.roles.push(Role {
        id: "roleUni001".into(),
        name: "Rôle Spécial — 管理员".into(),
        description: "Beschreibung: ä ö ü ß".into(),
    });
    ws.users.push(User {
        id: "usrUni001".into(),
        name: "Łukasz Żółć 李雷".into(),
        email: "lukasz@example.com".into(),
        permissions: vec![segment_mock::Permission {
            role_id: "roleUni001".into(),
            resources: vec![segment_mock::PermissionResource {
                id: "wsUni00001".into(),
                kind: segment_mock::ResourceType::Workspace,
                labels: Vec::new(),
            }],
            labels: Vec::new(),
        }],
    });
    let server = common::start(ws).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(dir.path(), &with_conn(&server, &[])).await;
    out.expect_code(0);
    assert!(out.stdout.contains("Ünïcödé 工作区 🚀"), "{}", out.stdout);
    let lines = c1z::render(&dir.path().join("sync.c1z"));
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has("resource user:usrUni001 \"Łukasz Żółć 李雷\""),
        "{lines:#?}"
    );
    assert!(has("first_name=\"Łukasz\""));
    assert!(has("resource role:roleUni001 \"Rôle Spécial — 管理员\""));
    assert!(has("grant role:roleUni001:member:user:usrUni001 "));
    assert!(has("\"Ünïcödé 工作区 🚀 workspace member\""));
}
