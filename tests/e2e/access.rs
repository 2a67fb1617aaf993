//! The access-review commands on a real sync of the hand-written small workspace: who-has and
//! access (direct and inherited access, an invitee in a group, a label-scoped role) against
//! `fixtures/access-small.expected.txt` (`UPDATE_EXPECT=1` rewrites it), a diff of syncs made
//! before and after a grant and a revoke through segment-cli, bad files, and the file never
//! written by reading it.

use std::path::{Path, PathBuf};

use crate::common::{self, Output, args, fixture_path, small_workspace, with_conn};

/// The small workspace served and synced once into `sync.c1z` of a new temporary directory.
async fn synced_small_workspace() -> (segment_mock::MockServer, tempfile::TempDir, PathBuf) {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    common::run(dir.path(), &with_conn(&server, &["--output", "json"]))
        .await
        .expect_code(0);
    let file = dir.path().join("sync.c1z");
    (server, dir, file)
}

/// Runs a review command on `file` (no server involved).
async fn review(dir: &Path, file: &Path, rest: &[&str]) -> Output {
    let mut all = args(&["-f", &file.to_string_lossy()]);
    all.extend(args(rest));
    common::run(dir, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_has_and_access_match_the_snapshot() {
    let (_server, dir, file) = synced_small_workspace().await;
    let before = std::fs::read(&file).unwrap();

    let questions: &[&[&str]] = &[
        &["who-has", "source:srcIos0001:source_admin"],
        &["who-has", "role:roleSrcAdm1:member@environment=prod"],
        &["who-has", "function:fnEnrich01"],
        &["who-has", "group:grpEng0001:member"],
        &["access", "erin@small.example"],
        &["access", "carol@small.example"],
        &["access", "usrBob0001"],
        &["access", "invite:Frank.Case@Small.example"],
    ];
    let mut actual = String::new();
    for q in questions {
        let mut rest = q.to_vec();
        rest.extend(["--output", "csv"]);
        let out = review(dir.path(), &file, &rest).await;
        out.expect_code(0);
        actual.push_str(&format!("$ segment-cli {}\n{}\n", q.join(" "), out.stdout));
    }
    let expected_path = fixture_path("access-small.expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    assert!(
        actual == expected,
        "who-has/access output differs from access-small.expected.txt (UPDATE_EXPECT=1 \
         rewrites it)\n--- actual:\n{actual}"
    );

    // The key cases, whatever the snapshot says.
    assert!(actual.contains(
        "user,usrCarol01,carol@small.example,source:srcIos0001:source_admin,ios-app Source Admin,source,srcIos0001,ios-app,via group Engineering,group:grpEng0001,source:srcIos0001:source_admin:group:grpEng0001"
    ));
    // The invitee is a member of Engineering but its scoped grants expand to users only.
    assert!(!actual.contains("invite,erin@small.example,(Invitation) erin@small.example,source:"));

    // A readable table on a terminal, names next to ids.
    let out = review(
        dir.path(),
        &file,
        &["who-has", "source:srcIos0001:source_admin"],
    )
    .await;
    out.expect_code(0);
    assert!(out.stdout.starts_with("PRINCIPAL "), "{}", out.stdout);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("usrZoe0001")
            && l.contains("Zoë Ångström-Müller")
            && l.ends_with("via group Engineering")),
        "{}",
        out.stdout
    );
    // JSON: one object per line.
    let out = review(
        dir.path(),
        &file,
        &["access", "usrAlice01", "--output", "json"],
    )
    .await;
    out.expect_code(0);
    for line in out.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["principal_id"], "usrAlice01");
    }
    // Listings.
    for q in [
        &["resources", "--type", "group"][..],
        &["entitlements", "--resource", "group:grpEng0001"],
        &["grants", "--principal", "zoe@small.example"],
        &["syncs"],
        &["stats"],
    ] {
        review(dir.path(), &file, q).await.expect_code(0);
    }
    let out = review(
        dir.path(),
        &file,
        &[
            "grants",
            "--principal",
            "zoe@small.example",
            "--output",
            "csv",
        ],
    )
    .await;
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout); // header + 3 grants
    let out = review(dir.path(), &file, &["access", "nobody@small.example"]).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("no principal \"nobody@small.example\""),
        "{}",
        out.stderr
    );

    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "reading wrote the file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_a_grant_and_a_revoke_made_through_the_cli() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sync.c1z");
    common::run(dir.path(), &with_conn(&server, &[]))
        .await
        .expect_code(0);
    let out = review(dir.path(), &file, &["diff"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("a diff needs two"), "{}", out.stderr);
    let first = dir.path().join("first.c1z");
    std::fs::copy(&file, &first).unwrap();

    for change in [
        &[
            "grant",
            "--entitlement",
            "group:grpEmpty01:member",
            "--principal",
            "usrAlice01",
        ][..],
        &[
            "revoke",
            "--entitlement",
            "role:roleMember1:member",
            "--principal",
            "usrCarol01",
        ],
    ] {
        common::run(dir.path(), &with_conn(&server, change))
            .await
            .expect_code(0);
    }
    common::run(dir.path(), &with_conn(&server, &[]))
        .await
        .expect_code(0);

    let out = review(dir.path(), &file, &["diff", "--output", "csv"]).await;
    out.expect_code(0);
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        rows,
        [
            "change,object,id,principal_type,principal_id,principal_name,entitlement_id,entitlement_name,resource_type,resource_id,resource_name",
            "added,grant,group:grpEmpty01:member:user:usrAlice01,user,usrAlice01,Alice Anders,group:grpEmpty01:member,Nobody Yet group member,group,grpEmpty01,Nobody Yet",
            "removed,grant,role:roleMember1:member:user:usrCarol01,user,usrCarol01,carol@small.example,role:roleMember1:member,Workspace Member role member,role,roleMember1,Workspace Member",
        ]
    );
    let out = review(dir.path(), &file, &["diff"]).await;
    out.expect_code(0);
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.ends_with(": grants +1 -1 (2 principal(s)), resources +0 -0, entitlements +0 -0"),
        "{}",
        out.stdout
    );
    // Two files: the same changes.
    let both = review(
        dir.path(),
        &file,
        &[
            "diff",
            &first.to_string_lossy(),
            &file.to_string_lossy(),
            "--output",
            "csv",
        ],
    )
    .await;
    both.expect_code(0);
    let csv = review(dir.path(), &file, &["diff", "--output", "csv"]).await;
    assert_eq!(both.stdout, csv.stdout);
    // No change is success too.
    let same = review(
        dir.path(),
        &file,
        &["diff", &file.to_string_lossy(), &file.to_string_lossy()],
    )
    .await;
    same.expect_code(0);
    assert!(
        same.stdout.starts_with("no change from sync"),
        "{}",
        same.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_get_the_same_clear_errors_and_stay_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        ("empty.c1z", b"", "is empty (0 bytes)"),
        ("magic.c1z", b"PK\x03\x04 not a c1z", "is not a c1z file"),
        (
            "v3.c1z",
            b"C1Z3\x00\x28\xb5\x2f\xfd",
            "--storage-engine sqlite",
        ),
        (
            "cut.c1z",
            b"C1ZF\x00\x28\xb5\x2f\xfd\x04\x58\x61",
            "truncated",
        ),
    ];
    for (name, bytes, message) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        for q in [
            &["stats"][..],
            &["who-has", "group:g:member"],
            &["access", "u1"],
            &["diff"],
        ] {
            let out = review(dir.path(), &file, q).await;
            out.expect_code(1);
            let lines = out.stderr_plain_lines();
            assert_eq!(lines.len(), 1, "{name} {q:?}: {}", out.stderr);
            assert!(lines[0].contains(message), "{name} {q:?}: {}", lines[0]);
        }
        assert_eq!(std::fs::read(&file).unwrap(), *bytes, "{name} was modified");
    }
    let missing = review(dir.path(), &dir.path().join("none.c1z"), &["syncs"]).await;
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    // --output csv is for the review commands only.
    let out = common::run(dir.path(), &args(&["capabilities", "--output", "csv"])).await;
    out.expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_early_is_not_a_failure() {
    let (_server, dir, file) = synced_small_workspace().await;
    // `segment-cli grants | head -0`: the reader is gone before the command writes a line.
    let mut cmd = common::command(dir.path());
    cmd.args(["-f", &file.to_string_lossy(), "grants", "--output", "csv"]);
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
