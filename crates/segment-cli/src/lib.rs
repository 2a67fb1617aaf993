//! `segment-cli`: the command-line program of the Segment connector. It syncs a Twilio Segment
//! workspace into a Baton `.c1z` file (the default command, as baton connectors behave) and
//! provisions access (grant, revoke, create account, delete, bulk plans), with the standard
//! baton flags and `BATON_*` environment variables; its review commands (who-has, access,
//! diff, export, listings) answer access questions from a c1z through `baton-access`.
//!
//! This is the only crate of the workspace that prints: results go to stdout (text, or JSON
//! with `--output json`), logs to stderr through `tracing`, and a failure ends with one line on
//! stderr and a documented exit code (see `segment-cli --help`). The API token is never
//! printed, logged or written.
//!
//! The library target exists so that the end-to-end tests (package `segment-e2e`) can build
//! this very program as a test binary of their own; its public items are [`main`] and
//! [`cli_reference`] (for the generated `docs/CLI.md`). No library
//! crate may depend on it. segment-mock (the `--demo` server) is an optional dependency of the
//! default-on `demo` feature; `--no-default-features` builds a binary without it.

mod baton_flags;
mod capabilities;
mod cli;
mod connect;
mod demo;
mod deploy_manifests;
mod failure;
mod logging;
mod output;
mod provision;
mod reference;
mod review;
mod service;
mod sync;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::cli::{Cli, Command};
use crate::provision::Action;

/// The command-line reference in Markdown, rendered from the clap definitions (the content
/// of `docs/CLI.md`, written by `cargo xtask codegen`).
pub fn cli_reference() -> String {
    reference::render()
}

/// Runs the program with the process's arguments and returns its exit code (see
/// `segment-cli --help`: 0 success, 1 failure, 2 usage error, 3 nothing to do).
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    logging::init(cli.global.log_level, cli.global.log_format);

    if let Some(reason) = cli.compat.refusal() {
        usage_error(&reason);
    }
    if cli.compat.service_mode() {
        return match runtime() {
            Ok(rt) => finish(
                rt.block_on(service::run(&cli)),
                cli.global.base_url.as_deref(),
            ),
            Err(code) => code,
        };
    }
    for flag in cli.compat.ignored() {
        tracing::debug!(
            flag,
            "ignoring a standard baton flag that has no effect here"
        );
    }

    let command = match select(&cli) {
        Ok(command) => command,
        Err(message) => usage_error(&message),
    };
    if let Selected::Review(review) = &command {
        return finish(
            review::run(&cli.global, review),
            cli.global.base_url.as_deref(),
        );
    }

    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let base_url = cli.global.base_url.clone();
    let result = runtime.block_on(async {
        match command {
            Selected::Sync(args) => sync::run(&cli.global, &args).await,
            Selected::Provision(action, dry_run) => {
                provision::run(&cli.global, action, dry_run).await
            }
            Selected::Capabilities => {
                capabilities::print();
                Ok(0)
            }
            Selected::ServiceDemo => service::demo(&cli.global).await,
            Selected::Review(_) => Ok(0),
        }
    });
    finish(result, base_url.as_deref())
}

/// The multi-threaded tokio runtime; on failure, the exit code after one line on stderr.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            output::error_line(&format!("cannot start the async runtime: {e}"));
            ExitCode::from(1)
        })
}

/// The exit code of a command's result; a failure prints its one line on stderr.
fn finish(result: anyhow::Result<u8>, base_url: Option<&str>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        // Like everything else printed on stdout (see `output`): a reader that has seen enough
        // (`| head`) is not a failure.
        Err(err) if failure::is_closed_output(&err) => {
            tracing::debug!("the output was closed before everything was written");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::debug!(error = ?err, "command failed");
            output::error_line(&failure::describe(&err, base_url));
            ExitCode::from(provision::EXIT_FAILED)
        }
    }
}

/// What to run.
#[derive(Debug)]
enum Selected {
    Sync(cli::SyncArgs),
    Provision(Action, bool),
    Capabilities,
    ServiceDemo,
    Review(review::ReviewCommand),
}

/// The command: the subcommand, else a baton provisioning flag, else a sync.
fn select(cli: &Cli) -> Result<Selected, String> {
    let baton_actions = cli.baton.actions();
    if baton_actions > 1 {
        return Err(
            "give one provisioning action at a time (grant, revoke, create account or delete)"
                .to_owned(),
        );
    }
    if baton_actions == 1 && cli.command.is_some() {
        return Err(
            "the baton provisioning flags (--grant-*, --revoke-grant, --create-account-*, \
             --delete-resource*) cannot be combined with a subcommand"
                .to_owned(),
        );
    }
    // Dry run: one flag, global (before or after the subcommand) and BATON_DRY_RUN.
    let dry_run = cli.global.dry_run;
    if let Some(action) = provision::from_baton_flags(&cli.baton).map_err(|e| format!("{e:#}"))? {
        return Ok(Selected::Provision(action, dry_run));
    }
    if dry_run && matches!(cli.command, None | Some(Command::Sync(_))) {
        return Err(
            "--dry-run (BATON_DRY_RUN) needs a provisioning command; a sync writes nothing to \
             Segment"
                .to_owned(),
        );
    }
    if cli.global.output == cli::OutputFormat::Csv
        && !matches!(cli.command, Some(Command::Review(_)))
    {
        return Err(
            "--output csv is for the review commands (resources, entitlements, grants, syncs, \
             stats, who-has, access, diff)"
                .to_owned(),
        );
    }
    let selected = match &cli.command {
        None | Some(Command::Sync(_)) if demo_requested(cli) => {
            if cli.global.base_url.is_some() || cli.global.region.is_some() {
                return Err(
                    "--demo syncs its own in-process workspace; drop --base-url/--region".into(),
                );
            }
            let args = match &cli.command {
                Some(Command::Sync(args)) => args.merged_with(&cli.sync),
                _ => cli.sync.clone(),
            };
            Selected::Sync(args)
        }
        None => Selected::Sync(cli.sync.clone()),
        Some(Command::Sync(args)) => Selected::Sync(args.merged_with(&cli.sync)),
        Some(Command::Grant(a)) => Selected::Provision(
            Action::Grant {
                entitlement: a.entitlement.clone(),
                principal: a.principal.clone(),
                principal_type: a.principal_type,
            },
            dry_run,
        ),
        Some(Command::Revoke(a)) => {
            let action = match (&a.grant, &a.entitlement, &a.principal) {
                (Some(grant), _, _) => Action::RevokeGrant {
                    grant: grant.clone(),
                },
                (None, Some(entitlement), Some(principal)) => Action::Revoke {
                    entitlement: entitlement.clone(),
                    principal: principal.clone(),
                    principal_type: a.principal_type,
                },
                _ => return Err("revoke needs --grant, or --entitlement and --principal".into()),
            };
            Selected::Provision(action, dry_run)
        }
        Some(Command::CreateAccount(a)) => {
            let mut entitlements = Vec::new();
            if let Some(role) = &a.role {
                entitlements.push(provision::role_entitlement(role));
            }
            entitlements.extend(a.groups.iter().map(|g| provision::group_entitlement(g)));
            Selected::Provision(
                Action::CreateAccount {
                    email: a.email.clone(),
                    entitlements,
                },
                dry_run,
            )
        }
        Some(Command::DeleteResource(a)) => Selected::Provision(
            Action::Delete {
                resource_type: a.resource_type,
                resource: a.resource.clone(),
            },
            dry_run,
        ),
        Some(Command::Apply(a)) => Selected::Provision(
            Action::Apply {
                plan: a.plan.clone(),
                concurrency: a.concurrency,
            },
            dry_run,
        ),
        Some(Command::Capabilities) => Selected::Capabilities,
        Some(Command::ServiceDemo) => Selected::ServiceDemo,
        Some(Command::Review(review)) => Selected::Review(review.clone()),
    };
    Ok(selected)
}

/// Whether `--demo` was given (before or after `sync`).
fn demo_requested(cli: &Cli) -> bool {
    cli.sync.demo || matches!(&cli.command, Some(Command::Sync(args)) if args.demo)
}

/// Exits with a clap usage error (exit code 2).
fn usage_error(message: &str) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}
