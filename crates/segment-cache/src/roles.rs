//! The session's role cache: the whole role list under one moka key, loaded by
//! one listing no matter how many callers ask at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use moka::future::Cache;
use moka::ops::compute::Op;
use segment_api::{Client, Role};
use tokio::time::Instant;

use crate::Error;

/// moka refuses a time-to-live above 1000 years; stay well below.
const MOKA_TTL_CAP: Duration = Duration::from_secs(365 * 24 * 3600);

/// One loaded role list.
#[derive(Debug, Clone)]
struct Loaded {
    roles: Arc<[Role]>,
    /// tokio time of the load (so the TTL works on tokio's paused clock).
    loaded_at: Instant,
}

/// Role list cache. The key is a generation number: invalidation moves to a
/// new generation, so a listing that was already in flight cannot put an old
/// list back under the key that later lookups read.
#[derive(Debug)]
pub(crate) struct RoleCache {
    ttl: Duration,
    miss_refresh: Duration,
    generation: AtomicU64,
    cache: Cache<u64, Loaded>,
}

impl RoleCache {
    pub(crate) fn new(ttl: Duration, miss_refresh: Duration) -> RoleCache {
        let cache = Cache::builder()
            .max_capacity(4)
            .time_to_live(ttl.min(MOKA_TTL_CAP))
            .build();
        RoleCache {
            ttl,
            miss_refresh,
            generation: AtomicU64::new(0),
            cache,
        }
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(crate) fn miss_refresh(&self) -> Duration {
        self.miss_refresh
    }

    /// The role list, listing it (all pages, once for all concurrent callers)
    /// when absent or older than the TTL.
    pub(crate) async fn get(&self, client: &Client) -> Result<Arc<[Role]>, Error> {
        Ok(self.get_loaded(client).await?.1.roles)
    }

    /// Looks `found` up in the role list; when it finds nothing and the list
    /// is at least `miss_refresh` old, lists the roles once more (one listing
    /// for all concurrent missing lookups) and looks again. A role created
    /// after the list was loaded is thus found without waiting for the TTL,
    /// while repeated misses cost at most one listing per `miss_refresh`.
    pub(crate) async fn find<R>(
        &self,
        client: &Client,
        mut found: impl FnMut(&[Role]) -> Option<R>,
    ) -> Result<Option<R>, Error> {
        let (generation, loaded) = self.get_loaded(client).await?;
        if let Some(hit) = found(&loaded.roles) {
            return Ok(Some(hit));
        }
        if loaded.loaded_at.elapsed() < self.miss_refresh {
            return Ok(None);
        }
        // Only the first of several concurrent missing lookups moves to a new
        // generation; the others (and later callers) join that one listing.
        if self
            .generation
            .compare_exchange(
                generation,
                generation.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            self.cache.invalidate(&generation).await;
            tracing::debug!("role lookup missed; listing Segment roles again");
        }
        Ok(found(&self.get(client).await?))
    }

    /// The current generation and its list, loading it when needed.
    async fn get_loaded(&self, client: &Client) -> Result<(u64, Loaded), Error> {
        let key = self.generation.load(Ordering::Acquire);
        if let Some(loaded) = self.cache.get(&key).await {
            if loaded.loaded_at.elapsed() < self.ttl {
                return Ok((key, loaded));
            }
            // Remove only if still stale: a concurrent caller may already
            // have put a fresh list there.
            let ttl = self.ttl;
            self.cache
                .entry(key)
                .and_compute_with(|entry| async move {
                    match entry {
                        Some(e) if e.value().loaded_at.elapsed() >= ttl => Op::Remove,
                        _ => Op::Nop,
                    }
                })
                .await;
        }
        let loaded = self
            .cache
            .try_get_with(key, async {
                let roles: Vec<Role> = client.list_roles().try_collect().await?;
                tracing::debug!(roles = roles.len(), "listed Segment roles");
                Ok::<_, segment_api::Error>(Loaded {
                    roles: roles.into(),
                    loaded_at: Instant::now(),
                })
            })
            .await?;
        Ok((key, loaded))
    }

    /// Forgets the list; the next lookup lists roles again.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate_all();
    }
}

/// Case-insensitive equality of role names (Unicode lowercase).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The one role named `name` (ignoring case), or why there is not exactly one.
pub(crate) fn by_name(roles: &[Role], name: &str) -> Result<Role, Error> {
    let mut candidates: Vec<Role> = roles
        .iter()
        .filter(|r| same_name(&r.name, name))
        .cloned()
        .collect();
    match candidates.len() {
        0 => Err(Error::RoleNotFound { name: name.into() }),
        1 => Ok(candidates.remove(0)),
        _ => Err(Error::AmbiguousRole {
            name: name.into(),
            candidates,
        }),
    }
}

#[cfg(test)]
mod tests;
