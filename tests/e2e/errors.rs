//! Failures through the CLI: one clear line on stderr, a non-zero exit, an existing c1z left
//! byte-for-byte unchanged, and the token never shown anywhere.

use segment_mock::Faults;

use crate::common::{self, TOKEN, args, small_workspace, with_conn};

/// The only stderr line that is not a JSON log record.
#[track_caller]
fn error_line(out: &common::Output) -> String {
    let plain = out.stderr_plain_lines();
    assert_eq!(
        plain.len(),
        1,
        "expected one error line, got:\n{}",
        out.stderr
    );
    plain[0].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_is_one_clear_line() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(
        dir.path(),
        &args(&[
            "sync",
            "--base-url",
            &server.base_url(),
            "--log-format",
            "json",
        ]),
    )
    .await;
    out.expect_code(1);
    assert_eq!(
        error_line(&out),
        "error: no API token: pass --token or set BATON_TOKEN"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(server.counters().total, 0);
    // An empty BATON_TOKEN is no token either.
    let out = common::run_env(
        dir.path(),
        &args(&["--log-format", "json"]),
        &[("BATON_TOKEN", "")],
    )
    .await;
    out.expect_code(1);
    assert_eq!(
        error_line(&out),
        "error: no API token: pass --token or set BATON_TOKEN"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_says_401_and_leaves_the_file_untouched() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    common::run(dir.path(), &with_conn(&server, &[]))
        .await
        .expect_code(0);
    let file = dir.path().join("sync.c1z");
    let before = std::fs::read(&file).unwrap();

    let out = common::run(
        dir.path(),
        &args(&[
            "--base-url",
            &server.base_url(),
            "--token",
            "not-the-right-token",
            "--log-format",
            "json",
        ]),
    )
    .await;
    out.expect_code(1);
    let line = error_line(&out);
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("401"), "{line}");
    assert!(line.contains("token"), "{line}");
    assert!(!line.contains("not-the-right-token"));
    assert_eq!(std::fs::read(&file).unwrap(), before, "the c1z changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_failing_midway_leaves_the_existing_file_byte_for_byte() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    common::run(dir.path(), &with_conn(&server, &[]))
        .await
        .expect_code(0);
    let file = dir.path().join("sync.c1z");
    let before = std::fs::read(&file).unwrap();
    let listing = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let files_before = listing(dir.path());

    // The token is "revoked" after a few requests: the sync fails in the middle.
    server.set_faults(Faults {
        unauthorized_after: Some(6),
        ..Faults::default()
    });
    let out = common::run(dir.path(), &with_conn(&server, &["--concurrency", "1"])).await;
    out.expect_code(1);
    assert!(error_line(&out).contains("401"));
    assert!(
        server.counters().total > 6,
        "the sync did not get far enough"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "the c1z changed");
    assert_eq!(
        listing(dir.path()),
        files_before,
        "temporary files left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_output_logs_or_the_file() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for format in ["json", "console"] {
        let mut a = with_conn(&server, &["--log-level", "debug"]);
        a.extend(args(&["--log-format", format]));
        let out = common::run(dir.path(), &a).await;
        out.expect_code(0);
        assert!(
            out.stderr.contains("DEBUG"),
            "no debug logs:\n{}",
            out.stderr
        );
        outputs.push(out);
    }
    // Failures at debug level: a 401 in the middle, a provisioning error.
    server.set_faults(Faults {
        unauthorized_after: Some(3),
        ..Faults::default()
    });
    let mut a = with_conn(&server, &["--log-level", "debug", "-f", "other.c1z"]);
    a.extend(args(&["--output", "json"]));
    outputs.push(common::run(dir.path(), &a).await);
    server.set_faults(Faults::default());
    outputs.push(
        common::run(
            dir.path(),
            &with_conn(
                &server,
                &[
                    "--log-level",
                    "debug",
                    "grant",
                    "-e",
                    "role:nope:member",
                    "-p",
                    "usrBob0001",
                ],
            ),
        )
        .await,
    );
    // Help with the token in the environment.
    outputs.push(common::run_env(dir.path(), &args(&["--help"]), &[("BATON_TOKEN", TOKEN)]).await);
    for out in &outputs {
        assert!(
            !out.stdout.contains(TOKEN),
            "token on stdout:\n{}",
            out.stdout
        );
        assert!(
            !out.stderr.contains(TOKEN),
            "token on stderr:\n{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("Bearer"),
            "auth header logged:\n{}",
            out.stderr
        );
    }
    let db = common::decompressed(&dir.path().join("sync.c1z"));
    assert!(!common::contains_bytes(&db, TOKEN.as_bytes()));
    assert!(!common::contains_bytes(&db, b"Bearer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_one_clear_line() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let base_url = format!("http://127.0.0.1:{port}");
    let out = common::run(
        dir.path(),
        &args(&[
            "--base-url",
            &base_url,
            "--token",
            TOKEN,
            "--retries",
            "0",
            "--log-format",
            "json",
        ]),
    )
    .await;
    out.expect_code(1);
    let line = error_line(&out);
    assert!(
        line.starts_with("error: cannot reach the Segment API"),
        "{line}"
    );
    assert!(line.contains(&base_url), "{line}");
    assert!(!dir.path().join("sync.c1z").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_file_is_one_clear_line() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(
        dir.path(),
        &with_conn(&server, &["-f", "no/such/dir/sync.c1z"]),
    )
    .await;
    out.expect_code(1);
    let line = error_line(&out);
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("no/such/dir/sync.c1z"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_baton_modes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--client-secret", "y"],
            "client-id is required in service mode",
        ),
        (&["--storage-engine", "pebble"], "classic v1"),
        (&["--sync-resources", "user:1"], "not supported"),
        (&["--sync-resource-types", "user,nope"], "nope"),
        (
            &["--region", "eu", "--base-url", "http://127.0.0.1:1"],
            "--base-url",
        ),
        (&["grant", "-e", "group:g:member"], "--principal"),
        (
            &[
                "--grant-entitlement",
                "group:g:member",
                "--grant-principal",
                "u",
                "--revoke-grant",
                "x",
            ],
            "one provisioning action",
        ),
    ];
    for (flags, needle) in cases {
        let mut a = args(flags);
        a.extend(args(&["--token", TOKEN, "--log-format", "json"]));
        let out = common::run(dir.path(), &a).await;
        assert_eq!(out.code, 2, "{flags:?}:\n{}", out.stderr);
        assert!(
            out.stderr.contains(needle),
            "{flags:?}: {needle:?} not in\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains(TOKEN));
    }
}
