//! Server knobs: [`MockConfig`], [`Plan`], [`Features`], [`Faults`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Workspace;

/// Token used when none is configured.
pub const DEFAULT_TOKEN: &str = "sgmock-public-api-token";

/// Segment plan tier of the workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Business tier: user groups available.
    #[default]
    Business,
    /// Team tier: every `/groups*` and `/group*` route answers 400 `bad-request`
    /// "Your plan does not include User Groups. Contact sales to upgrade to business tier.".
    Team,
}

/// Optional workspace features. A disabled feature makes its list endpoint answer
/// **403** `{"errors":[{"type":"forbidden","message":"The <X> feature is not enabled for this workspace."}]}`
/// (Segment does not document the status; the client should treat any 4xx there as "feature unavailable").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Features {
    /// Engage/Unify spaces (`GET /spaces`).
    pub spaces: bool,
    /// Warehouses (`GET /warehouses`).
    pub warehouses: bool,
    /// Functions (`GET /functions`).
    pub functions: bool,
}

impl Default for Features {
    /// Everything enabled.
    fn default() -> Self {
        Self {
            spaces: true,
            warehouses: true,
            functions: true,
        }
    }
}

/// Fault injection. Rates are probabilities in `[0, 1]`; every decision is a deterministic
/// function of `seed` and the index of the request since the faults were set.
///
/// Faults are decided after the token check and before the rate limiter and the handler, so a
/// faulted request never changes the workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of requests answered 429 (Segment's `RequestError` body; `msBeforeNext` is
    /// [`Faults::ms_before_next`]).
    pub rate_429: f64,
    /// `msBeforeNext` of an injected 429, in milliseconds; `None` = 1000.
    pub ms_before_next: Option<u64>,
    /// Inject faults into reads (GET) only; writes are never faulted.
    pub reads_only: bool,
    /// Share of requests answered 500 or 503 with an `errors` envelope.
    pub rate_5xx: f64,
    /// Share of requests whose connection is reset (TCP RST) without any response.
    pub rate_reset: f64,
    /// When set, every successful body is sent in two halves with this pause in between
    /// (headers arrive at once).
    #[serde(rename = "slow_body_ms", with = "opt_millis")]
    pub slow_body: Option<Duration>,
    /// Share of successful responses whose JSON body is truncated (invalid JSON, status 200).
    pub malformed_json_rate: f64,
    /// The first paginated list response after the faults were set omits `data.pagination`.
    pub drop_pagination_once: bool,
    /// After this many API requests (counted from when the faults were set), every request
    /// gets 401, as if the token had been revoked.
    pub unauthorized_after: Option<u64>,
    /// Seed of the fault decisions.
    pub seed: u64,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Self::default()
    }
}

/// Configuration of a [`crate::MockServer`] (its `Debug` output hides the token).
#[derive(Clone)]
pub struct MockConfig {
    /// The workspace served.
    pub workspace: Workspace,
    /// Bearer token the server accepts (default [`DEFAULT_TOKEN`]).
    pub token: String,
    /// Plan tier (default Business).
    pub plan: Plan,
    /// Optional features (default all enabled).
    pub features: Features,
    /// Time from an API request's arrival to its answer (tokio time, so a paused clock skips
    /// it, unless [`MockConfig::wall_clock_latency`] is set).
    pub latency: Duration,
    /// Wait out `latency` on a wall-clock timer thread, accurate to well under a millisecond,
    /// instead of tokio's timer (whole milliseconds, rounded up: 20 ms answered in ~21.7 ms).
    /// Default `false`; the `segment-mock` binary sets it. Not for tokio's paused clock.
    pub wall_clock_latency: bool,
    /// Read (GET) requests per minute; `None` = unlimited (default).
    pub read_limit_per_min: Option<u32>,
    /// Write (non-GET) requests per minute; default `Some(60)` like Segment's IAM write endpoints.
    pub write_limit_per_min: Option<u32>,
    /// Length of a rate-limit window (default one minute). The two limits above then count
    /// per window of this length instead of per minute.
    pub rate_window: Duration,
    /// Fault injection (default none).
    pub faults: Faults,
    /// Also route `DELETE /groups/{id}/users` (plural), whose existence on the live API is unverified.
    pub plural_group_delete: bool,
    /// Accept permission resources of a type the mock does not know (e.g. `DESTINATION`) in
    /// add/replace-permissions bodies, as a future Segment might. Default `false`: such bodies
    /// are 422, like today's API whose `type` enum has five values. Fixtures may always hold them.
    pub accept_unknown_resource_types: bool,
}

impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockConfig")
            .field("workspace", &self.workspace.id)
            .field("token", &"****")
            .field("plan", &self.plan)
            .field("features", &self.features)
            .field("latency", &self.latency)
            .field("wall_clock_latency", &self.wall_clock_latency)
            .field("read_limit_per_min", &self.read_limit_per_min)
            .field("write_limit_per_min", &self.write_limit_per_min)
            .field("rate_window", &self.rate_window)
            .field("faults", &self.faults)
            .field("plural_group_delete", &self.plural_group_delete)
            .field(
                "accept_unknown_resource_types",
                &self.accept_unknown_resource_types,
            )
            .finish()
    }
}

impl MockConfig {
    /// Defaults around a workspace.
    pub fn new(workspace: Workspace) -> Self {
        Self {
            workspace,
            token: DEFAULT_TOKEN.to_owned(),
            plan: Plan::Business,
            features: Features::default(),
            latency: Duration::ZERO,
            wall_clock_latency: false,
            read_limit_per_min: None,
            write_limit_per_min: Some(60),
            rate_window: crate::ratelimit::DEFAULT_WINDOW,
            faults: Faults::default(),
            plural_group_delete: false,
            accept_unknown_resource_types: false,
        }
    }

    /// Sets the accepted bearer token.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Sets the plan tier.
    #[must_use]
    pub fn plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self
    }

    /// Sets the optional features.
    #[must_use]
    pub fn features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// Sets the per-request latency: the time from a request's arrival to its answer, the
    /// mock's own work included.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Waits out the latency on a wall-clock timer thread (see the field's docs).
    #[must_use]
    pub fn wall_clock_latency(mut self, on: bool) -> Self {
        self.wall_clock_latency = on;
        self
    }

    /// Sets the read limit per minute (`None` = unlimited).
    #[must_use]
    pub fn read_limit_per_min(mut self, limit: Option<u32>) -> Self {
        self.read_limit_per_min = limit;
        self
    }

    /// Sets the write limit per minute (`None` = unlimited).
    #[must_use]
    pub fn write_limit_per_min(mut self, limit: Option<u32>) -> Self {
        self.write_limit_per_min = limit;
        self
    }

    /// Sets the length of a rate-limit window (default one minute).
    #[must_use]
    pub fn rate_window(mut self, window: Duration) -> Self {
        self.rate_window = window;
        self
    }

    /// The limits as the server holds them.
    pub fn rate_limits(&self) -> crate::RateLimits {
        crate::RateLimits {
            read: self.read_limit_per_min,
            write: self.write_limit_per_min,
            window_ms: u64::try_from(self.rate_window.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        }
    }

    /// Sets the faults.
    #[must_use]
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Enables or disables the plural `DELETE /groups/{id}/users` route.
    #[must_use]
    pub fn plural_group_delete(mut self, enabled: bool) -> Self {
        self.plural_group_delete = enabled;
        self
    }

    /// Accepts or rejects (default) unknown permission resource types in request bodies
    /// (see the field of the same name).
    #[must_use]
    pub fn accept_unknown_resource_types(mut self, enabled: bool) -> Self {
        self.accept_unknown_resource_types = enabled;
        self
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
