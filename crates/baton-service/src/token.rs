//! Access tokens from `https://<host>/auth/v1/token` (docs/c1-service-mode.md §3.3): a fresh
//! assertion per exchange, the token cached until 10 s before it expires, fetched lazily.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::assertion;
use crate::credentials::{ClientId, ClientSecret};

/// A cached token is replaced this long before it expires.
pub(crate) const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Why no token could be had. Never contains the secret or a token.
#[derive(Debug, Clone)]
pub(crate) enum TokenError {
    /// The endpoint answered with a non-200 status or an empty token: the credentials are
    /// refused.
    Refused(String),
    /// The endpoint could not be reached or answered garbage.
    Unreachable(String),
}

impl TokenError {
    /// As the gRPC status an RPC needing the token fails with.
    pub(crate) fn into_status(self) -> tonic::Status {
        match self {
            Self::Refused(m) => tonic::Status::unauthenticated(m),
            Self::Unreachable(m) => tonic::Status::unavailable(m),
        }
    }
}

/// The token endpoint's JSON answer.
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: i64,
}

/// A cached access token.
struct Cached {
    header: String,
    expires: Instant,
}

/// Mints, exchanges and caches access tokens.
pub(crate) struct TokenSource {
    id: ClientId,
    secret: ClientSecret,
    url: String,
    http: reqwest::Client,
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(
        id: ClientId,
        secret: ClientSecret,
        host: &str,
        http: reqwest::Client,
    ) -> Self {
        Self {
            id,
            secret,
            url: format!("https://{host}/auth/v1/token"),
            http,
            cached: Mutex::new(None),
        }
    }

    /// The `authorization` header value (`Bearer <token>`), from the cache when still valid.
    pub(crate) async fn authorization(&self) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() + TOKEN_EXPIRY_MARGIN < c.expires
        {
            return Ok(c.header.clone());
        }
        let fresh = self.exchange().await?;
        let header = fresh.header.clone();
        *cached = Some(fresh);
        Ok(header)
    }

    async fn exchange(&self) -> Result<Cached, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let assertion = assertion::mint(&self.id, &self.secret, now);
        let form = [
            ("client_id", self.id.as_str()),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let started = Instant::now();
        let response = self
            .http
            .post(&self.url)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                TokenError::Unreachable(format!("token endpoint {}: {}", self.url, without_url(&e)))
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(TokenError::Refused(format!(
                "failed to get token: {status} from {}",
                self.url
            )));
        }
        let body: TokenResponse = response.json().await.map_err(|e| {
            TokenError::Unreachable(format!(
                "token endpoint {}: bad answer: {}",
                self.url,
                without_url(&e)
            ))
        })?;
        if body.access_token.is_empty() {
            return Err(TokenError::Refused(format!(
                "failed to get token: empty access_token from {}",
                self.url
            )));
        }
        let kind = if body.token_type.is_empty() || body.token_type.eq_ignore_ascii_case("bearer") {
            "Bearer".to_owned()
        } else {
            body.token_type.clone()
        };
        let lifetime = Duration::from_secs(body.expires_in.max(0) as u64);
        Ok(Cached {
            header: format!("{kind} {}", body.access_token),
            expires: started + lifetime,
        })
    }
}

/// A reqwest error's text without its URL (the URL is printed separately, once).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
