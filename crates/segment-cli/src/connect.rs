//! Building the API session from the global flags (token, region or base URL, timeouts,
//! retries, client-side rate limits).

use std::time::Duration;

use anyhow::Context as _;
use segment_api::{Client, Region, RetryPolicy, Token};
use segment_cache::{PacerConfig, RateLimit, Session, SessionConfig};

use crate::cli::{GlobalArgs, RegionArg};

/// The message when no token was given.
pub(crate) const NO_TOKEN: &str = "no API token: pass --token or set BATON_TOKEN";

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Base URL of the API.
    pub(crate) base_url: String,
    /// The token.
    pub(crate) token: Token,
}

impl Target {
    /// The target of the global flags: `--base-url`, else `--region`'s host. Fails without a
    /// token.
    pub(crate) fn from_flags(global: &GlobalArgs) -> anyhow::Result<Target> {
        let token = match &global.token {
            Some(token) if !token.is_empty() => token.clone(),
            _ => anyhow::bail!(NO_TOKEN),
        };
        let base_url = match (&global.base_url, global.region) {
            (Some(url), _) => url.clone(),
            (None, Some(RegionArg::Eu)) => Region::Eu.base_url().to_owned(),
            (None, Some(RegionArg::Us) | None) => Region::Us.base_url().to_owned(),
        };
        Ok(Target { base_url, token })
    }
}

/// A per-minute limit flag: `None` = `default`, `Some(0)` = no limit; `burst` for a set limit.
fn limit(flag: Option<u32>, default: Option<RateLimit>, burst: u32) -> Option<RateLimit> {
    match flag {
        None => default,
        Some(0) => None,
        Some(n) => Some(RateLimit::per_minute(n).with_burst(burst.min(n).max(1))),
    }
}

/// Opens a session on `target` with the global flags' timeouts, retries and rate limits.
pub(crate) fn session(
    global: &GlobalArgs,
    target: &Target,
    page_size: Option<u16>,
) -> anyhow::Result<Session> {
    let mut builder = Client::builder(target.token.clone())
        .base_url(&target.base_url)
        .timeout(Duration::from_secs(global.http_timeout_seconds))
        .retry_policy(RetryPolicy {
            max_attempts: global.retries.saturating_add(1),
            rate_limit_budget: Duration::from_secs(global.rate_limit_wait_seconds),
            ..RetryPolicy::default()
        })
        .user_agent(concat!("segment-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(size) = page_size {
        builder = builder.page_size(size);
    }
    let pacer = PacerConfig::default()
        // Reads: no client-side cap unless asked for; the server's headers set the pace.
        .with_read(limit(
            global.max_reads_per_minute,
            None,
            PacerConfig::READ_BURST,
        ))
        .with_write(limit(
            global.max_writes_per_minute,
            Some(PacerConfig::DEFAULT_WRITE),
            PacerConfig::DEFAULT_WRITE.burst,
        ));
    Session::from_builder(builder, SessionConfig::default().with_pacer(pacer))
        .with_context(|| format!("cannot use the Segment API at {}", target.base_url))
}
