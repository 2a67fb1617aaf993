//! The client: configuration, request execution, retries and hook calls.
//! (Rate-limit header parsing lives in `rate_limit_headers`.)

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::{Host, Url};

use crate::config::{Region, RetryPolicy, validate_base_url};
use crate::encode::Query;
use crate::error::{classify, is_post_operation, parse_error_body};
use crate::hooks::{Access, NoHook, RequestHook, RequestInfo, ResponseInfo};
use crate::rate_limit_headers::{rate_limit_info, retry_after, server_wait};
use crate::{Error, Token};

/// Default `User-Agent`, identifying the connector.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "baton-segment-rs/",
    env!("CARGO_PKG_VERSION"),
    " (segment-api)"
);

/// Largest page size the API accepts (`pagination.count`).
pub const MAX_PAGE_SIZE: u16 = 1000;

/// Default total timeout of one attempt (connect + send + whole body); see
/// [`ClientBuilder::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Default connect timeout; see [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An async client of the Segment Public API. Cheap to clone (an `Arc` inside); share one
/// per workspace token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base_url: String,
    authorization: HeaderValue,
    hook: Arc<dyn RequestHook>,
    retry: RetryPolicy,
    pub(crate) page_size: u16,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &"Token(****)")
            .field("page_size", &self.inner.page_size)
            .field("retry", &self.inner.retry)
            .field("hook", &self.inner.hook)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for the workspace the token belongs to.
    pub fn builder(token: Token) -> ClientBuilder {
        ClientBuilder {
            token,
            region: Region::Us,
            base_url: None,
            page_size: MAX_PAGE_SIZE,
            hook: Arc::new(NoHook),
            retry: RetryPolicy::default(),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// The base URL requests go to (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The page size sent as `pagination.count`.
    pub fn page_size(&self) -> u16 {
        self.inner.page_size
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }
}

/// Builder of a [`Client`]; see [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    token: Token,
    region: Region,
    base_url: Option<String>,
    page_size: u16,
    hook: Arc<dyn RequestHook>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: String,
}

impl ClientBuilder {
    /// Uses the region's API host (default [`Region::Us`]). Ignored when
    /// [`base_url`](Self::base_url) is set.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Uses an explicit base URL: `https` only, except plain `http` to a loopback host
    /// (127.0.0.0/8, `[::1]`, `localhost`) for tests. Checked by [`build`](Self::build).
    pub fn base_url(mut self, base_url: impl AsRef<str>) -> Self {
        self.base_url = Some(base_url.as_ref().to_owned());
        self
    }

    /// `pagination.count` for every list call, 1..=1000 (default 1000). Checked by
    /// [`build`](Self::build).
    pub fn page_size(mut self, page_size: u16) -> Self {
        self.page_size = page_size;
        self
    }

    /// Installs the hook called around every attempt (default [`NoHook`]).
    pub fn hook(mut self, hook: Arc<dyn RequestHook>) -> Self {
        self.hook = hook;
        self
    }

    /// Sets the retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Total timeout of one attempt (connect + send + whole body). Default
    /// [`DEFAULT_TIMEOUT`] (60 s), so a stalled server cannot hang a caller forever.
    /// A timed-out attempt is a [`Error::Transport`] and is retried like one.
    ///
    /// Tests that run on tokio's paused clock with real sockets should call
    /// [`no_timeout`](Self::no_timeout): while the runtime waits for I/O, auto-advance
    /// may jump the clock straight to the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`] (10 s); see
    /// [`timeout`](Self::timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Removes both the request timeout and the connect timeout (a later
    /// [`timeout`](Self::timeout) or [`connect_timeout`](Self::connect_timeout) sets one
    /// again). Meant for tests on tokio's paused clock; production callers should keep a
    /// timeout.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self.connect_timeout = None;
        self
    }

    /// Overrides the `User-Agent` (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let invalid = |reason: &str| Error::InvalidConfig {
            reason: reason.to_owned(),
        };
        if self.token.is_empty() {
            return Err(invalid("the API token is empty"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "page size {} is outside 1..={MAX_PAGE_SIZE}",
                    self.page_size
                ),
            });
        }
        let base_url =
            validate_base_url(self.base_url.as_deref().unwrap_or(self.region.base_url()))?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", self.token.secret()))
            .map_err(|_| {
            invalid("the API token contains characters not allowed in an HTTP header")
        })?;
        authorization.set_sensitive(true);
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| invalid("the User-Agent is not a valid header value"))?;

        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let mut http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(&base_url) {
            http = http.no_proxy();
        }
        if let Some((name, addr)) = pinned_localhost(&base_url) {
            // `localhost` never goes through the system resolver (/etc/hosts, DNS): plain
            // http is allowed to it only because it is loopback.
            http = http.resolve(&name, addr);
        }
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        if let Some(timeout) = self.connect_timeout {
            http = http.connect_timeout(timeout);
        }
        let http = http.build().map_err(|e| Error::InvalidConfig {
            reason: format!("HTTP client: {e}"),
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                authorization,
                hook: self.hook,
                retry: self.retry,
                page_size: self.page_size,
            }),
        })
    }
}

/// Only loopback bases may be plain http (see `validate_base_url`); those bypass any proxy.
fn is_loopback(base_url: &str) -> bool {
    Url::parse(base_url).is_ok_and(|u| u.scheme() == "http")
}

/// For a base URL whose host is `localhost` (or `localhost.`), the name and the address it
/// is pinned to: 127.0.0.1 (port 0: reqwest then uses the URL's port).
fn pinned_localhost(base_url: &str) -> Option<(String, SocketAddr)> {
    let url = Url::parse(base_url).ok()?;
    let Some(Host::Domain(name)) = url.host() else {
        return None;
    };
    if !(name.eq_ignore_ascii_case("localhost") || name.eq_ignore_ascii_case("localhost.")) {
        return None;
    }
    Some((
        name.to_owned(),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
    ))
}

/// One API call, before retries.
pub(crate) struct Call {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    /// Already percent-encoded, starting with `/`.
    pub(crate) path: String,
    pub(crate) query: Query,
    pub(crate) body: Option<Bytes>,
}

impl Call {
    pub(crate) fn new(operation: &'static str, method: Method, path: String) -> Self {
        debug_assert_eq!(
            method == Method::POST,
            is_post_operation(operation),
            "{operation}: keep error::POST_OPERATIONS in step with the operations"
        );
        Call {
            operation,
            method,
            path,
            query: Query::default(),
            body: None,
        }
    }

    pub(crate) fn json<B: serde::Serialize>(mut self, body: &B) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::InvalidArgument {
            operation: self.operation,
            reason: format!("request body: {e}"),
        })?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }
}

/// How a retryable outcome is waited for.
enum Wait {
    /// A 429 that said how long to wait: spends the rate-limit budget.
    RateLimited(Duration),
    /// Any other failure: spends an attempt; waits what the server asked, else backs off.
    Failure(Option<Duration>),
}

/// Whether a body is one complete JSON document (shape not checked).
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// The result of one attempt.
enum Attempt {
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    Failed {
        status: Option<StatusCode>,
        headers: Option<HeaderMap>,
        error: reqwest::Error,
        may_have_reached_server: bool,
    },
}

impl Client {
    /// Sends a call, retrying per the policy, and returns the body of a 2xx answer.
    pub(crate) async fn execute(&self, call: Call) -> Result<Bytes, Error> {
        let inner = &*self.inner;
        let operation = call.operation;
        let access = if call.method == Method::GET {
            Access::Read
        } else {
            Access::Write
        };
        let idempotent = matches!(
            call.method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        );
        let mut url = format!("{}{}", inner.base_url, call.path);
        if !call.query.as_str().is_empty() {
            url.push('?');
            url.push_str(call.query.as_str());
        }
        let url = Url::parse(&url).map_err(|e| Error::InvalidArgument {
            operation,
            reason: format!("cannot build the request URL ({e})"),
        })?;
        let max_attempts = inner.retry.max_attempts.max(1);

        // `attempt` numbers every attempt (for hooks and logs); `failures` counts the ones
        // that spend the error-retry budget; `rate_limited_for` sums the waits that 429
        // answers asked for, bounded by `rate_limit_budget` instead.
        let mut attempt = 1u32;
        let mut failures = 0u32;
        let mut rate_limited_for = Duration::ZERO;
        loop {
            let info = RequestInfo {
                operation,
                access,
                attempt,
            };
            inner.hook.before(info).await;
            tracing::debug!(operation, method = %call.method, attempt, "Segment API request");
            let outcome = self.attempt(&call, url.clone()).await;

            let (error, retry, wait) = match outcome {
                Attempt::Answered {
                    status,
                    headers,
                    body,
                } => {
                    let rate_limit = rate_limit_info(&headers);
                    let report = |status, retry_after| {
                        inner.hook.after(&ResponseInfo {
                            operation,
                            access,
                            status,
                            rate_limit,
                            retry_after,
                        });
                    };
                    if status.is_success() {
                        // Not JSON at all (e.g. a proxy's HTML page): a hard error.
                        if let Err(e) = check_content_type(operation, &headers) {
                            report(Some(status.as_u16()), None);
                            return Err(e);
                        }
                        if access == Access::Read && !is_json(&body) {
                            // Cut off on the way (a 200 with half a body): like a transport
                            // failure, so hooks see no status and the read is retried.
                            report(None, None);
                            tracing::debug!(operation, "Segment API response body is not JSON");
                            let error = Error::Decode {
                                operation,
                                reason: format!(
                                    "the response body ({} bytes) is not valid JSON; it may \
                                     have been cut off",
                                    body.len()
                                ),
                            };
                            (error, true, Wait::Failure(None))
                        } else {
                            report(Some(status.as_u16()), None);
                            tracing::debug!(
                                operation,
                                status = status.as_u16(),
                                "Segment API response"
                            );
                            return Ok(body);
                        }
                    } else {
                        let parsed = parse_error_body(&body);
                        let code = status.as_u16();
                        // A 429 says when the window resets; a 5xx is no statement about the
                        // rate-limit window, so only its explicit `Retry-After` counts.
                        let server_wait = if code == 429 {
                            server_wait(&parsed, &headers)
                        } else if status.is_server_error() {
                            retry_after(&headers, SystemTime::now())
                        } else {
                            None
                        };
                        let asked_wait = if code == 429 { server_wait } else { None };
                        report(Some(code), asked_wait);
                        tracing::debug!(operation, status = code, "Segment API error response");
                        let retry = code == 429 || (status.is_server_error() && idempotent);
                        let wait = match server_wait {
                            Some(d) if code == 429 => Wait::RateLimited(d),
                            other => Wait::Failure(other),
                        };
                        (classify(operation, code, parsed, asked_wait), retry, wait)
                    }
                }
                Attempt::Failed {
                    status,
                    headers,
                    error,
                    may_have_reached_server,
                } => {
                    // A success whose body broke off is a transport failure, not a success:
                    // report no status so that hooks count it as one. An error status stays
                    // (the server did refuse, e.g. a 429 must still pace).
                    inner.hook.after(&ResponseInfo {
                        operation,
                        access,
                        status: status.filter(|s| !s.is_success()).map(|s| s.as_u16()),
                        rate_limit: headers.as_ref().map(rate_limit_info).unwrap_or_default(),
                        retry_after: None,
                    });
                    let retry = !error.is_builder() && (idempotent || !may_have_reached_server);
                    (
                        Error::Transport {
                            operation,
                            may_have_reached_server,
                            source: error,
                        },
                        retry,
                        Wait::Failure(None),
                    )
                }
            };

            if !retry {
                return Err(error);
            }
            let delay = match wait {
                Wait::RateLimited(asked) => {
                    let delay = asked.min(inner.retry.max_delay);
                    rate_limited_for = rate_limited_for.saturating_add(delay);
                    if rate_limited_for > inner.retry.rate_limit_budget {
                        return Err(error);
                    }
                    delay
                }
                Wait::Failure(asked) => {
                    failures += 1;
                    if failures >= max_attempts {
                        return Err(error);
                    }
                    asked
                        .unwrap_or_else(|| inner.retry.backoff(failures))
                        .min(inner.retry.max_delay)
                }
            };
            inner.hook.on_retry(&info, delay);
            tracing::warn!(
                operation,
                attempt,
                max_attempts,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying Segment API request"
            );
            tokio::time::sleep(delay).await;
            attempt = attempt.saturating_add(1);
        }
    }

    async fn attempt(&self, call: &Call, url: Url) -> Attempt {
        let inner = &*self.inner;
        let mut request = inner
            .http
            .request(call.method.clone(), url)
            .header(header::AUTHORIZATION, inner.authorization.clone());
        if let Some(body) = &call.body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let may_have_reached_server = !(error.is_connect() || error.is_builder());
                return Attempt::Failed {
                    status: None,
                    headers: None,
                    error,
                    may_have_reached_server,
                };
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => Attempt::Answered {
                status,
                headers,
                body,
            },
            Err(error) => Attempt::Failed {
                status: Some(status),
                headers: Some(headers),
                error,
                may_have_reached_server: true,
            },
        }
    }
}

/// Accepts `application/*json` and `*+json` (Segment answers `application/vnd.segment.v1+json`,
/// and `...v1alpha+json` for alpha endpoints); a missing Content-Type is tolerated.
fn check_content_type(operation: &'static str, headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = text.split(';').next().unwrap_or("").trim();
    let json = (essence.starts_with("application/") && essence.ends_with("json"))
        || essence.ends_with("+json");
    if json {
        Ok(())
    } else {
        Err(Error::Decode {
            operation,
            reason: format!("unexpected content type {essence:?}"),
        })
    }
}

#[cfg(test)]
mod tests;
