//! [`Session`]: a Segment client with its pacer installed, its accounting and
//! the session's role cache.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use segment_api::hooks::RequestHook;
use segment_api::{Client, ClientBuilder, Role};

use crate::Error;
use crate::pacer::{Pacer, PacerConfig};
use crate::roles::{self, RoleCache};
use crate::stats::Stats;

/// Configuration of a [`Session`].
#[derive(Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Client-side rate limits and server-header pacing.
    pub pacer: PacerConfig,
    /// How long a loaded role list is used before it is listed again.
    /// Default 10 minutes. Must not be zero.
    pub role_ttl: Duration,
    /// An extra hook called for every attempt, after the pacer (e.g. progress
    /// reporting or test instrumentation). Default `None`.
    pub observer: Option<Arc<dyn RequestHook>>,
    /// A lookup by id or name that finds no role lists the roles again (once,
    /// shared by concurrent lookups) when the cached list is at least this
    /// old, so a role created meanwhile is found. Bounds such extra listings
    /// to one per this interval. Default 5 s.
    pub role_miss_refresh: Duration,
}

impl SessionConfig {
    /// Default role list time-to-live.
    pub const DEFAULT_ROLE_TTL: Duration = Duration::from_secs(10 * 60);

    /// Default [`SessionConfig::role_miss_refresh`].
    pub const DEFAULT_ROLE_MISS_REFRESH: Duration = Duration::from_secs(5);

    /// With another pacer configuration.
    #[must_use]
    pub fn with_pacer(mut self, pacer: PacerConfig) -> SessionConfig {
        self.pacer = pacer;
        self
    }

    /// With another role list time-to-live.
    #[must_use]
    pub fn with_role_ttl(mut self, ttl: Duration) -> SessionConfig {
        self.role_ttl = ttl;
        self
    }

    /// With another [`SessionConfig::role_miss_refresh`].
    #[must_use]
    pub fn with_role_miss_refresh(mut self, interval: Duration) -> SessionConfig {
        self.role_miss_refresh = interval;
        self
    }

    /// With an observer hook (see [`SessionConfig::observer`]).
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn RequestHook>) -> SessionConfig {
        self.observer = Some(observer);
        self
    }
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            pacer: PacerConfig::default(),
            role_ttl: SessionConfig::DEFAULT_ROLE_TTL,
            observer: None,
            role_miss_refresh: SessionConfig::DEFAULT_ROLE_MISS_REFRESH,
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("pacer", &self.pacer)
            .field("role_ttl", &self.role_ttl)
            .field("observer", &self.observer.is_some())
            .field("role_miss_refresh", &self.role_miss_refresh)
            .finish()
    }
}

/// A Segment API session shared by the sync and provisioning engines: the
/// client (with a [`Pacer`] installed as its hook), request accounting and a
/// role cache. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    pacer: Arc<Pacer>,
    roles: RoleCache,
}

impl Session {
    /// Builds the client from `builder` with this session's [`Pacer`] as its
    /// hook (replacing any hook set on the builder; use
    /// [`SessionConfig::observer`] to add one).
    pub fn from_builder(builder: ClientBuilder, config: SessionConfig) -> Result<Session, Error> {
        if config.role_ttl.is_zero() {
            return Err(Error::InvalidConfig("role_ttl must not be zero".into()));
        }
        let mut pacer = Pacer::new(config.pacer)?;
        if let Some(observer) = config.observer {
            pacer = pacer.with_observer(observer);
        }
        let pacer = Arc::new(pacer);
        let hook: Arc<dyn RequestHook> = pacer.clone();
        let client = builder.hook(hook).build()?;
        Ok(Session {
            inner: Arc::new(Inner {
                client,
                pacer,
                roles: RoleCache::new(config.role_ttl, config.role_miss_refresh),
            }),
        })
    }

    /// The paced client. Every call made through it is paced and counted.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The session's pacer.
    pub fn pacer(&self) -> &Arc<Pacer> {
        &self.inner.pacer
    }

    /// A snapshot of the request accounting so far.
    pub fn stats(&self) -> Stats {
        self.inner.pacer.stats()
    }

    /// The role list time-to-live.
    pub fn role_ttl(&self) -> Duration {
        self.inner.roles.ttl()
    }

    /// All roles of the workspace, in the API's order. Listed once (all
    /// pages) per TTL; concurrent callers share one listing.
    pub async fn roles(&self) -> Result<Arc<[Role]>, Error> {
        self.inner.roles.get(&self.inner.client).await
    }

    /// The role with this exact id, if any.
    ///
    /// Before answering `None` from a list at least
    /// [`role_miss_refresh`](SessionConfig::role_miss_refresh) old, the roles
    /// are listed again (once for all concurrent lookups).
    pub async fn role_by_id(&self, id: &str) -> Result<Option<Role>, Error> {
        self.inner
            .roles
            .find(&self.inner.client, |roles| {
                roles.iter().find(|r| r.id == id).cloned()
            })
            .await
    }

    /// The one role with this name, compared case-insensitively (otherwise
    /// exactly). [`Error::RoleNotFound`] when none matches,
    /// [`Error::AmbiguousRole`] (with every candidate) when several do; never
    /// a silent first match.
    ///
    /// Before answering [`Error::RoleNotFound`] from a list at least
    /// [`role_miss_refresh`](SessionConfig::role_miss_refresh) old, the roles
    /// are listed again (once for all concurrent lookups).
    pub async fn role_by_name(&self, name: &str) -> Result<Role, Error> {
        let found = self
            .inner
            .roles
            .find(&self.inner.client, |roles| {
                match roles::by_name(roles, name) {
                    Err(Error::RoleNotFound { .. }) => None,
                    other => Some(other),
                }
            })
            .await?;
        found.unwrap_or_else(|| Err(Error::RoleNotFound { name: name.into() }))
    }

    /// The [`SessionConfig::role_miss_refresh`] interval.
    pub fn role_miss_refresh(&self) -> Duration {
        self.inner.roles.miss_refresh()
    }

    /// Every role matching `predicate`, in the API's order.
    pub async fn find_roles<P>(&self, mut predicate: P) -> Result<Vec<Role>, Error>
    where
        P: FnMut(&Role) -> bool,
    {
        Ok(self
            .roles()
            .await?
            .iter()
            .filter(|r| predicate(r))
            .cloned()
            .collect())
    }

    /// Forgets the cached role list; the next lookup lists roles again.
    pub fn invalidate_roles(&self) {
        self.inner.roles.invalidate();
    }
}
