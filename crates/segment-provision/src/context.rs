//! What every part of one provisioning run shares: the provisioner's state ([`Inner`]) and the
//! per-run context ([`Run`]: writes made, emails looked up, the role refresh), so the batch,
//! account and run modules depend on this module instead of on each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use baton_model::ids::{EntitlementId, ResourceRef};
use segment_api::{Client, Workspace};
use segment_cache::Session;
use tokio::sync::OnceCell;

use crate::outcome::PlannedWrite;
use crate::principal_queue::PrincipalQueues;
use crate::{Outcome, OutcomeKind, PrincipalDirectory, ProvisionError, ProvisionOptions};

/// The state a [`Provisioner`](crate::Provisioner) and its clones share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) session: Session,
    pub(crate) options: ProvisionOptions,
    pub(crate) directory: Option<Arc<PrincipalDirectory>>,
    pub(crate) workspace: OnceCell<Workspace>,
    pub(crate) queues: Arc<PrincipalQueues>,
}

/// The result of one operation, by its index in the submitted list.
pub(crate) type OpResults = Vec<(usize, Result<Outcome, ProvisionError>)>;

/// State shared by the batches of one run (one single operation or one bulk plan).
#[derive(Debug)]
pub(crate) struct Run<'a> {
    pub(crate) inner: &'a Inner,
    writes: Mutex<Vec<PlannedWrite>>,
    /// User id -> email, filled by lookups during this run.
    pub(crate) emails: Mutex<HashMap<String, String>>,
    /// Set once the session's role list was listed afresh during this run.
    roles_refreshed: tokio::sync::OnceCell<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a> Run<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Self {
            inner,
            writes: Mutex::new(Vec::new()),
            emails: Mutex::new(HashMap::new()),
            roles_refreshed: tokio::sync::OnceCell::new(),
        }
    }

    /// Forgets the session's cached role list and lists the roles again, once per run
    /// (concurrent callers share the one listing).
    pub(crate) async fn refresh_roles(&self) -> Result<(), ProvisionError> {
        self.roles_refreshed
            .get_or_try_init(|| async {
                self.inner.session.invalidate_roles();
                self.inner
                    .session
                    .roles()
                    .await
                    .map(|_| ())
                    .map_err(|e| ProvisionError::session("listing roles again", e))
            })
            .await
            .map(|_| ())
    }

    pub(crate) fn client(&self) -> &Client {
        self.inner.session.client()
    }

    pub(crate) fn dry_run(&self) -> bool {
        self.inner.options.dry_run
    }

    pub(crate) fn max_batch(&self) -> usize {
        self.inner.options.max_batch.max(1)
    }

    /// Records a write that was made (or, in a dry run, planned).
    pub(crate) fn record(&self, write: &PlannedWrite) {
        lock(&self.writes).push(write.clone());
        if !self.dry_run()
            && let Some(progress) = &self.inner.options.progress
        {
            progress.add_write();
        }
    }

    /// Every write made (or planned) so far, in order.
    pub(crate) fn into_writes(self) -> Vec<PlannedWrite> {
        self.writes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// `AlreadyRevoked` because the principal or the group does not exist (it holds nothing).
pub(crate) fn gone(
    run: &Run<'_>,
    entitlement: &EntitlementId,
    principal: &ResourceRef,
    why: &str,
) -> Outcome {
    let mut outcome = Outcome::for_grant(
        OutcomeKind::AlreadyRevoked,
        run.dry_run(),
        entitlement,
        principal,
    );
    outcome.note = Some(why.to_owned());
    outcome
}

pub(crate) fn is_not_found(e: &segment_api::Error) -> bool {
    matches!(e, segment_api::Error::NotFound { .. })
}
