//! Tests of the `segment-cli` binary's command-line surface that need no API: help, version,
//! exit codes of usage errors, the missing-token message, `capabilities`.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_segment-cli"));
    cmd.current_dir(dir.path()).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BATON_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    assert!(
        !dir.path().join("sync.c1z").exists(),
        "{args:?} wrote a c1z"
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_documents_exit_codes_and_hides_the_token() {
    let out = run(&["--help"], &[("BATON_TOKEN", "tok-visible-if-leaked")]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in [
        "Exit codes:",
        "0  success",
        "1  failure",
        "2  usage error",
        "3  only with --detailed-exitcode: nothing to do",
        "--detailed-exitcode",
        "BATON_TOKEN",
        "--sync-resource-types",
        "grant",
        "revoke",
        "create-account",
        "delete-resource",
        "apply",
        "capabilities",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from --help");
    }
    assert!(!help.contains("tok-visible-if-leaked"));
    // The standard baton flags are accepted but hidden.
    assert!(!help.contains("--grant-entitlement"));
    // Service-mode flags are shown (with their variables).
    assert!(help.contains("--client-id") && help.contains("BATON_CLIENT_ID"));
}

#[test]
fn version_and_usage_errors() {
    let out = run(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("segment-cli "));

    for args in [
        &["--no-such-flag"][..],
        &["grant"],
        &["--dry-run"],
        &["--storage-engine", "pebble"],
        &["--client-secret", "y"],
        &["--demo", "--base-url", "http://127.0.0.1:1"],
        &["sync", "--skip-grants"],
    ] {
        let out = run(args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    // Why --skip-grants is refused.
    let out = run(&["--skip-grants"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("targeted sync (--sync-resources)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn no_token_is_one_line_and_exit_1() {
    for args in [
        &[][..],
        &["sync"],
        &["grant", "-e", "group:g:member", "-p", "u1"],
    ] {
        let out = run(args, &[("BATON_LOG_FORMAT", "json")]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr).trim_end(),
            "error: no API token: pass --token or set BATON_TOKEN",
            "{args:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn capabilities_print_protojson_without_a_token() {
    let out = run(&["capabilities"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["@type"],
        "type.googleapis.com/c1.connector.v2.ConnectorCapabilities"
    );
    assert_eq!(v["resourceTypeCapabilities"].as_array().unwrap().len(), 9);
}

#[test]
fn service_mode_checks_its_credentials_before_any_network_io() {
    for (args, expected) in [
        (
            &["--client-id", "x@h/s", "--token", "t"][..],
            "error: client-secret is required in service mode (--client-secret or BATON_CLIENT_SECRET)",
        ),
        (
            &[
                "--client-id",
                "no-at-sign",
                "--client-secret",
                "s",
                "--token",
                "t",
            ],
            "error: invalid client id: no '@' (expected <client-name>@<tenant-host>/<suffix>)",
        ),
        (
            &[
                "--client-id",
                "a@127.0.0.1:1/s",
                "--client-secret",
                "secret-token:conductorone.com:v1:LEAKME",
                "--token",
                "t",
            ],
            "error: invalid client secret: the payload is not base64url",
        ),
    ] {
        let out = run(args, &[("BATON_LOG_FORMAT", "json")]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr).trim_end(), expected, "{args:?}");
        assert!(!text(&out.stderr).contains("LEAKME"));
    }
}

#[test]
fn service_demo_runs_a_sync_and_a_grant() {
    let out = run(&["service-demo"], &[("BATON_LOG_LEVEL", "warn")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for needle in [
        "sync_full",
        "finished with success. Uploaded c1z:",
        "GrantManagerServiceGrantResponse",
        "in group",
        ": yes.",
        "found no protocol violation",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing from: {stdout}");
    }
}

mod service;
