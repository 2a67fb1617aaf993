//! Unit tests of the command line: parsing, conflicts and defaults.

#![allow(clippy::unwrap_used)]

use clap::CommandFactory;

use super::*;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("segment-cli").chain(args.iter().copied()))
}

#[test]
fn no_subcommand_means_sync_and_sync_flags_merge() {
    let cli = parse(&["--concurrency", "4", "--sync-resource-types", "user,group"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.sync.concurrency, Some(4));
    assert_eq!(cli.sync.sync_resource_types, ["user", "group"]);

    let cli = parse(&["--page-size", "10", "sync", "--concurrency", "2", "--demo"]).unwrap();
    let Some(Command::Sync(sub)) = &cli.command else {
        panic!("not a sync");
    };
    let merged = sub.merged_with(&cli.sync);
    assert_eq!(merged.concurrency, Some(2));
    assert_eq!(merged.page_size, Some(10));
    assert!(merged.demo);
}

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        &["--sync-resource-types", "user,nope"][..],
        &["--region", "eu", "--base-url", "https://x.example"],
        &["--page-size", "0"],
        &["--http-timeout-seconds", "0"],
        &["--log-level", "trace"],
        &["grant", "--entitlement", "group:g:member"],
        &["revoke"],
        &[
            "revoke",
            "--grant",
            "g",
            "--entitlement",
            "e",
            "--principal",
            "p",
        ],
        &[
            "delete-resource",
            "--resource-type",
            "group",
            "--resource",
            "g1",
        ],
        &["--grant-entitlement", "group:g:member"],
    ] {
        let err = parse(args)
            .err()
            .unwrap_or_else(|| panic!("{args:?} parsed"));
        assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
    }
}

#[test]
fn the_token_is_never_in_debug_output() {
    let cli = parse(&["--token", "s3cr3t-value", "sync"]).unwrap();
    let debug = format!("{cli:?}");
    assert!(!debug.contains("s3cr3t-value"), "{debug}");
}

#[test]
fn compat_flags_are_refused_or_ignored() {
    let cli = parse(&["--client-id", "a", "--client-secret", "b"]).unwrap();
    assert!(cli.compat.service_mode());
    assert_eq!(cli.compat.refusal(), None);
    let cli = parse(&["--client-secret", "b"]).unwrap();
    assert!(!cli.compat.service_mode());
    assert!(
        cli.compat
            .refusal()
            .unwrap()
            .starts_with("client-id is required in service mode")
    );
    let cli = parse(&["--client-id", " "]).unwrap();
    assert!(
        !cli.compat.service_mode(),
        "an empty client id is one-shot mode"
    );
    let cli = parse(&["--storage-engine", "pebble"]).unwrap();
    assert!(cli.compat.refusal().unwrap().contains("classic v1"));
    let cli = parse(&[
        "--storage-engine",
        "sqlite",
        "--skip-full-sync",
        "--workers",
        "-1",
    ])
    .unwrap();
    assert_eq!(cli.compat.refusal(), None);
    assert_eq!(
        cli.compat.ignored(),
        ["--skip-full-sync", "--workers", "--storage-engine sqlite"]
    );
}

#[test]
fn baton_provisioning_flags_count_actions() {
    let cli = parse(&[
        "--grant-entitlement",
        "e",
        "--grant-principal",
        "p",
        "--revoke-grant",
        "g",
    ])
    .unwrap();
    assert_eq!(cli.baton.actions(), 2);
    let cli = parse(&["--create-account-profile", "{}"]).unwrap();
    assert_eq!(cli.baton.actions(), 1);
}
