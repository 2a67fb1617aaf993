//! Heartbeats of a sync task (docs/c1-service-mode.md §7.4): one before any work, then every
//! `next_heartbeat` (0 ⇒ 30 s, clamped to 1 s…5 min) until the task ends, the server says
//! `cancelled`, or 9 consecutive heartbeats failed.

use std::time::Duration;

use crate::client::BatonClient;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, Wait};

/// Interval when the server gives none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(300);
/// Consecutive failed periodic heartbeats that cancel the task.
pub const MAX_FAILED_HEARTBEATS: u32 = 9;

/// Why [`keep_alive`] ended the task.
pub const CANCELLED_BY_SERVER: &str = "task was cancelled";
/// Why [`keep_alive`] ended the task.
pub const HEARTBEAT_FAILED: &str = "task failed heartbeat";

/// The interval the server asked for, normalised.
pub(crate) fn interval(next: Option<prost_types::Duration>) -> Duration {
    let asked = next
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or(Duration::ZERO);
    if asked.is_zero() {
        DEFAULT_INTERVAL
    } else {
        asked.clamp(MIN_INTERVAL, MAX_INTERVAL)
    }
}

/// The first heartbeat; `None` when it failed or the task is already cancelled.
pub(crate) async fn first(client: &BatonClient, task_id: &str) -> Option<Duration> {
    match client.heartbeat(task_id).await {
        Ok(r) if r.cancelled => {
            tracing::info!(task_id, "task cancelled before it started");
            None
        }
        Ok(r) => Some(interval(r.next_heartbeat)),
        Err(status) => {
            tracing::warn!(task_id, code = ?status.code(), message = status.message(), "first heartbeat failed; leaving the task to the server");
            None
        }
    }
}

/// Beats until the server cancels the task or heartbeats keep failing (returns the reason),
/// or until `stop` (returns `None`). `stop` is honoured only between heartbeats: a heartbeat
/// already sent is always awaited, so none can reach the server after the task's FinishTask.
pub(crate) async fn keep_alive(
    client: &BatonClient,
    clock: &dyn Clock,
    task_id: &str,
    mut every: Duration,
    stop: &CancellationToken,
) -> Option<&'static str> {
    let mut failures = 0u32;
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return None,
            () = clock.sleep(Wait::Heartbeat, every) => {}
        }
        match client.heartbeat(task_id).await {
            Ok(r) => {
                failures = 0;
                if r.cancelled {
                    return Some(CANCELLED_BY_SERVER);
                }
                every = interval(r.next_heartbeat);
            }
            Err(status) => {
                failures += 1;
                tracing::warn!(task_id, failures, code = ?status.code(), message = status.message(), "heartbeat failed");
                if failures >= MAX_FAILED_HEARTBEATS {
                    return Some(HEARTBEAT_FAILED);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_defaults_and_clamps() {
        assert_eq!(interval(None), DEFAULT_INTERVAL);
        let d = |s, n| {
            Some(prost_types::Duration {
                seconds: s,
                nanos: n,
            })
        };
        assert_eq!(interval(d(0, 0)), DEFAULT_INTERVAL);
        assert_eq!(interval(d(0, 100_000_000)), MIN_INTERVAL);
        assert_eq!(interval(d(10_000, 0)), MAX_INTERVAL);
        assert_eq!(interval(d(7, 0)), Duration::from_secs(7));
        assert_eq!(interval(d(-5, 0)), DEFAULT_INTERVAL);
    }
}
