//! `sync` (the default command) and `sync --demo`: runs the sync engine with a progress bar on
//! a terminal and prints the summary.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use segment_cache::Session;
use segment_connector::{SyncOptions, SyncProgress, SyncReport};
use serde_json::json;

use crate::cli::{GlobalArgs, OutputFormat, SyncArgs};
use crate::connect::{self, Target};
use crate::demo::Demo;
use crate::output;

/// Runs a sync; returns the exit code (0).
pub(crate) async fn run(global: &GlobalArgs, args: &SyncArgs) -> anyhow::Result<u8> {
    let (demo, target) = if args.demo {
        let (demo, target) = Demo::start().await?;
        tracing::info!(base_url = %target.base_url, "demo: serving a generated workspace in-process");
        (Some(demo), target)
    } else {
        (None, Target::from_flags(global)?)
    };

    let mut global = global.clone();
    if demo.is_some() && global.max_reads_per_minute.is_none() {
        // The in-process server has no read limit; do not pace the demo like the real API.
        global.max_reads_per_minute = Some(0);
    }
    let session = connect::session(&global, &target, args.page_size)?;

    let progress = Arc::new(SyncProgress::new());
    let mut options = SyncOptions::default()
        .with_progress(progress.clone())
        .with_keep_syncs(args.keep_syncs.unwrap_or(SyncOptions::default().keep_syncs));
    if let Some(concurrency) = args.concurrency {
        options = options.with_concurrency(usize::from(concurrency));
    }
    if !args.sync_resource_types.is_empty() {
        options = options.with_resource_types(args.sync_resource_types.iter().cloned());
    }
    if let Some(dir) = &global.c1z_temp_dir {
        options = options.with_temp_dir(dir.clone());
    }
    if args.skip_entitlements_and_grants {
        options = options.with_skip_entitlements_and_grants();
    }

    // A demo never writes into a real sync's file unless told to.
    let default_file = if demo.is_some() {
        crate::cli::DEMO_FILE
    } else {
        crate::cli::DEFAULT_FILE
    };
    let path = absolute(&global.file_or(default_file));
    tracing::info!(file = %path.display(), base_url = %target.base_url, "sync started");
    let bar = ProgressReporter::start(&session, &progress);
    let result = segment_connector::sync(&session, &path, &options).await;
    bar.finish().await;
    let report = result.with_context(|| format!("sync into {} failed", path.display()))?;
    tracing::info!(
        sync_id = %report.sync_id,
        requests = report.requests,
        min_requests = report.min_requests,
        "sync finished"
    );

    match global.output {
        OutputFormat::Json => {
            let mut value = summary_json(&report);
            if let Some(demo) = &demo {
                value["demo"] = demo.json();
            }
            value["pace"] = json!(session.pacer().summary());
            output::out_json(&value);
        }
        OutputFormat::Text | OutputFormat::Csv => {
            if let Some(demo) = &demo {
                let own_file = if global.file.is_none() {
                    " (the demo's own file; -f/--file chooses another)"
                } else {
                    ""
                };
                output::out(&format!(
                    "{} into {}{own_file}.",
                    demo.describe(),
                    report.path.display()
                ));
            }
            output::out(&summary_text(&report));
            output::out(&format!("  pace          {}", session.pacer().summary()));
            if demo.is_some() {
                output::out(&format!(
                    "\nReview it: segment-cli -f {} stats (also who-has, access, diff, export; see --help)",
                    report.path.display()
                ));
            }
        }
    }
    if let Some(demo) = demo {
        demo.shutdown().await;
    }
    Ok(0)
}

/// `path` made absolute (for messages), without touching the file system.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Seconds with millisecond precision.
fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// The summary as JSON (`--output json`). `summed_wait_ms` is the time requests spent waiting
/// (client-side pacing, server rate limits, retry back-off) summed over all requests; waits
/// of concurrent requests add up, so it can exceed `elapsed_ms` (the wall-clock time).
pub(crate) fn summary_json(report: &SyncReport) -> serde_json::Value {
    json!({
        "sync_id": report.sync_id,
        "file": report.path.display().to_string(),
        "appended": report.appended,
        "removed_syncs": report.removed_syncs,
        "file_bytes": report.file_bytes,
        "workspace": { "id": report.workspace_id, "name": report.workspace_name },
        "synced_types": report.synced_types,
        "resource_types": report.resource_types,
        "resources": report.resources,
        "entitlements": report.entitlements,
        "grants": report.grants,
        "requests": report.requests,
        "min_requests": report.min_requests,
        "retries": report.retries,
        "rate_limited": report.rate_limited,
        // Summed over requests (concurrent waits add up): it can exceed `elapsed_ms`.
        "summed_wait_ms": u64::try_from(report.waited.as_millis()).unwrap_or(u64::MAX),
        "elapsed_ms": u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
        "skipped": report.skipped.iter().map(|s| json!({
            "resource_type": s.resource_type,
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "skipped_permissions": report.skipped_permissions,
        "unknown_scope_types": report.unknown_scope_types,
        "unresolved_scopes": report.unresolved_scopes,
        "filtered_grants": report.filtered_grants,
        "synthesized_roles": report.synthesized_roles,
        "unresolved_members": report.unresolved_members,
        "unmatched_group_invites": report.unmatched_group_invites,
        "vanished": report.vanished,
        "invalid_objects": report.invalid_objects,
    })
}

/// The summary as text (the default).
pub(crate) fn summary_text(report: &SyncReport) -> String {
    let mut lines = Vec::new();
    let verb = if report.appended {
        "appended a sync to"
    } else {
        "wrote"
    };
    lines.push(format!(
        "Synced Segment workspace {:?} ({}): {verb} {} ({} bytes), sync {}",
        report.workspace_name,
        report.workspace_id,
        report.path.display(),
        report.file_bytes,
        report.sync_id
    ));
    lines.push("  resources:".to_owned());
    // In sync order (workspace first), then anything else alphabetically.
    let mut order: Vec<&String> = report
        .synced_types
        .iter()
        .filter(|t| report.resources.contains_key(*t))
        .collect();
    order.extend(
        report
            .resources
            .keys()
            .filter(|t| !report.synced_types.contains(t)),
    );
    for rt in order {
        let n = report.resources.get(rt).copied().unwrap_or(0);
        lines.push(format!("    {rt:<10}  {n:>7}"));
    }
    lines.push(format!("  entitlements  {:>7}", report.entitlements));
    lines.push(format!("  grants        {:>7}", report.grants));
    lines.push(format!(
        "  requests      {:>7}  (minimum {}, retries {}, rate limited {}, summed wait across requests {})",
        report.requests,
        report.min_requests,
        report.retries,
        report.rate_limited,
        secs(report.waited)
    ));
    lines.push(format!("  elapsed       {:>7}", secs(report.elapsed)));
    for skipped in &report.skipped {
        lines.push(format!(
            "  skipped {}: {}",
            skipped.resource_type, skipped.reason
        ));
    }
    let mut notes = Vec::new();
    let mut note = |n: u64, what: &str| {
        if n > 0 {
            notes.push(format!("{n} {what}"));
        }
    };
    note(
        report.skipped_permissions,
        "permission entries of unknown scope types skipped",
    );
    note(
        report.unresolved_scopes,
        "scoped permissions on unlisted resources skipped",
    );
    note(
        report.synthesized_roles,
        "roles synthesised from permissions",
    );
    note(
        report.unresolved_members,
        "group members not in the user listing skipped",
    );
    note(
        report.unmatched_group_invites,
        "group invitees matching no invite skipped",
    );
    note(report.vanished, "users/groups vanished during the sync");
    note(report.invalid_objects, "objects with unusable ids skipped");
    for n in notes {
        lines.push(format!("  note: {n}"));
    }
    if !report.removed_syncs.is_empty() {
        lines.push(format!(
            "  dropped older syncs: {}",
            report.removed_syncs.join(", ")
        ));
    }
    lines.join("\n")
}

/// The progress bar on stderr (only when stderr is a terminal).
#[derive(Debug)]
struct ProgressReporter {
    task: Option<(tokio::task::JoinHandle<()>, ProgressBar)>,
}

impl ProgressReporter {
    fn start(session: &Session, progress: &Arc<SyncProgress>) -> ProgressReporter {
        if !std::io::stderr().is_terminal() {
            return ProgressReporter { task: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} syncing [{elapsed_precise}] {msg}")
        {
            bar.set_style(style);
        }
        let session = session.clone();
        let progress = progress.clone();
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let stats = session.stats();
                shown.set_message(format!(
                    "{} objects ({} resources, {} entitlements, {} grants), {} requests",
                    progress.objects(),
                    progress.resources(),
                    progress.entitlements(),
                    progress.grants(),
                    stats.requests
                ));
                shown.tick();
                if progress.is_done() {
                    break;
                }
            }
        });
        ProgressReporter {
            task: Some((task, bar)),
        }
    }

    async fn finish(self) {
        if let Some((task, bar)) = self.task {
            task.abort();
            let _ = task.await;
            bar.finish_and_clear();
        }
    }
}
