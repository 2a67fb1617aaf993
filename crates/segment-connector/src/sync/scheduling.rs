//! Request scheduling: the requests of a sync, the two-level queue that starts them, and the
//! dispatch of each answer (or error) to its handler.

use std::collections::VecDeque;
use std::sync::Arc;

use baton_model::pb;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use segment_api::{
    Function, FunctionKind, MinimalUser, Page, Role, Source, Space, User, UserGroup, Warehouse,
};
use segment_scheme::{FUNCTION, GROUP, PrincipalType, SPACE, ScopeType, WAREHOUSE, mapping};

use super::Failure;
use super::state::{Engine, scope_index};
use crate::error::SyncError;
use crate::request_count::FUNCTION_KINDS;

// ---- requests --------------------------------------------------------------------------------

/// One request of the sync (a page of a listing or one object).
#[derive(Debug, Clone)]
pub(super) enum Req {
    Roles,
    Users(Option<String>),
    GetUser(String),
    Groups(Option<String>),
    GetGroup(String),
    Members(String, Option<String>),
    GroupInvites(String, Option<String>),
    Invites(Option<String>),
    Sources(Option<String>),
    Warehouses(Option<String>),
    Spaces(Option<String>),
    Functions(usize, Option<String>),
}

#[derive(Debug)]
pub(super) enum Payload {
    Roles(Arc<[Role]>),
    Users(Page<User>),
    User(User),
    Groups(Page<UserGroup>),
    Group(UserGroup),
    Members(Page<MinimalUser>),
    Emails(Page<String>),
    Sources(Page<Source>),
    Warehouses(Page<Warehouse>),
    Spaces(Page<Space>),
    Functions(Page<Function>),
}

#[derive(Debug)]
pub(super) enum ReqError {
    Api(Arc<segment_api::Error>),
    Session(segment_cache::Error),
}

pub(super) type Outcome = (Req, Result<Payload, ReqError>);

pub(super) fn call<T, F>(req: Req, fut: F, wrap: fn(T) -> Payload) -> BoxFuture<'static, Outcome>
where
    F: Future<Output = Result<T, segment_api::Error>> + Send + 'static,
    T: Send + 'static,
{
    Box::pin(async move {
        let result = fut.await.map(wrap).map_err(|e| ReqError::Api(Arc::new(e)));
        (req, result)
    })
}

/// The requests waiting to start: listings (and their next pages) go before per-object
/// fetches; at most `concurrency` are in flight.
#[derive(Debug)]
pub(super) struct Schedule {
    pub(super) high: VecDeque<Req>,
    pub(super) low: VecDeque<Req>,
    pub(super) concurrency: usize,
}

impl Schedule {
    pub(super) fn new(concurrency: usize) -> Self {
        Self {
            high: VecDeque::new(),
            low: VecDeque::new(),
            concurrency,
        }
    }

    fn next(&mut self) -> Option<Req> {
        self.high.pop_front().or_else(|| self.low.pop_front())
    }
}

impl Engine {
    pub(super) async fn run(&mut self) -> Result<(), Failure> {
        let plan = self.plan;
        // Gated listings first: the workspace resource (its child types) waits for them.
        if plan.groups {
            self.schedule.high.push_back(Req::Groups(None));
            self.readiness.gated_pending += 1;
        }
        if plan.warehouses {
            self.schedule.high.push_back(Req::Warehouses(None));
            self.readiness.gated_pending += 1;
        }
        if plan.spaces {
            self.schedule.high.push_back(Req::Spaces(None));
            self.readiness.gated_pending += 1;
        }
        if plan.functions {
            for k in 0..FUNCTION_KINDS {
                self.schedule.high.push_back(Req::Functions(k, None));
                self.readiness.gated_pending += 1;
            }
        }
        if plan.list_roles {
            self.schedule.high.push_back(Req::Roles);
        }
        if plan.users {
            self.schedule.high.push_back(Req::Users(None));
        }
        if plan.invites {
            self.schedule.high.push_back(Req::Invites(None));
        }
        if plan.sources {
            self.schedule.high.push_back(Req::Sources(None));
        }
        if self.readiness.gated_pending == 0 {
            self.workspace_ready().await?;
        }

        let mut inflight: FuturesUnordered<BoxFuture<'static, Outcome>> = FuturesUnordered::new();
        loop {
            while inflight.len() < self.schedule.concurrency {
                let Some(req) = self.schedule.next() else {
                    break;
                };
                inflight.push(self.start(req));
            }
            let Some((req, result)) = inflight.next().await else {
                break;
            };
            self.handle(req, result).await?;
            self.flush().await?;
        }
        self.flush().await?;
        self.finish_scoped().await
    }

    pub(super) fn start(&self, req: Req) -> BoxFuture<'static, Outcome> {
        let c = self.client.clone();
        match req.clone() {
            Req::Roles => {
                let session = self.session.clone();
                Box::pin(async move {
                    let result = session
                        .roles()
                        .await
                        .map(Payload::Roles)
                        .map_err(|e| match e {
                            segment_cache::Error::Api(api) => ReqError::Api(api),
                            other => ReqError::Session(other),
                        });
                    (req, result)
                })
            }
            Req::Users(cur) => call(
                req,
                async move { c.list_users_page(cur.as_deref()).await },
                Payload::Users,
            ),
            Req::GetUser(id) => call(req, async move { c.get_user(&id).await }, Payload::User),
            Req::Groups(cur) => call(
                req,
                async move { c.list_user_groups_page(cur.as_deref()).await },
                Payload::Groups,
            ),
            Req::GetGroup(id) => call(
                req,
                async move { c.get_user_group(&id).await },
                Payload::Group,
            ),
            Req::Members(id, cur) => call(
                req,
                async move { c.list_users_from_user_group_page(&id, cur.as_deref()).await },
                Payload::Members,
            ),
            Req::GroupInvites(id, cur) => call(
                req,
                async move {
                    c.list_invites_from_user_group_page(&id, cur.as_deref())
                        .await
                },
                Payload::Emails,
            ),
            Req::Invites(cur) => call(
                req,
                async move { c.list_invites_page(cur.as_deref()).await },
                Payload::Emails,
            ),
            Req::Sources(cur) => call(
                req,
                async move { c.list_sources_page(cur.as_deref()).await },
                Payload::Sources,
            ),
            Req::Warehouses(cur) => call(
                req,
                async move { c.list_warehouses_page(cur.as_deref()).await },
                Payload::Warehouses,
            ),
            Req::Spaces(cur) => call(
                req,
                async move { c.list_spaces_page(cur.as_deref()).await },
                Payload::Spaces,
            ),
            Req::Functions(k, cur) => {
                let kind = FunctionKind::ALL[k % FUNCTION_KINDS].clone();
                call(
                    req,
                    async move { c.list_functions_page(kind, cur.as_deref()).await },
                    Payload::Functions,
                )
            }
        }
    }

    // ---- emission ----------------------------------------------------------------------------

    pub(super) async fn handle(
        &mut self,
        req: Req,
        result: Result<Payload, ReqError>,
    ) -> Result<(), Failure> {
        let payload = match result {
            Ok(p) => p,
            Err(ReqError::Session(e)) => return Err(SyncError::from_session(e).into()),
            Err(ReqError::Api(e)) => return self.handle_error(req, e).await,
        };
        match (req, payload) {
            (Req::Roles, Payload::Roles(roles)) => self.on_roles(&roles).await,
            (Req::Users(_), Payload::Users(page)) => self.on_users(page).await,
            (Req::GetUser(_), Payload::User(user)) => {
                self.on_permissions(PrincipalType::User, user.id, user.permissions)
                    .await
            }
            (Req::Groups(cur), Payload::Groups(page)) => {
                let first = cur.is_none();
                self.on_groups(page).await?;
                if first {
                    self.gated_answered().await?;
                }
                Ok(())
            }
            (Req::GetGroup(_), Payload::Group(group)) => {
                self.on_permissions(PrincipalType::Group, group.id, group.permissions)
                    .await
            }
            (Req::Members(gid, _), Payload::Members(page)) => self.on_members(gid, page).await,
            (Req::GroupInvites(gid, _), Payload::Emails(page)) => {
                self.on_group_invites(gid, page).await
            }
            (Req::Invites(_), Payload::Emails(page)) => self.on_invites(page).await,
            (Req::Sources(_), Payload::Sources(page)) => {
                self.counts.sizes.sources += page.items.len() as u64;
                let ws = self.ws_ref.clone();
                for s in &page.items {
                    let mapped = mapping::source_resource(s, &ws);
                    self.scope_resource(ScopeType::Source, &s.id, mapped)
                        .await?;
                }
                self.next_scope_page(ScopeType::Source, page.next, Req::Sources);
                Ok(())
            }
            (Req::Warehouses(cur), Payload::Warehouses(page)) => {
                self.counts.sizes.warehouses += page.items.len() as u64;
                let ws = self.ws_ref.clone();
                for w in &page.items {
                    let mapped = mapping::warehouse_resource(w, &ws);
                    self.scope_resource(ScopeType::Warehouse, &w.id, mapped)
                        .await?;
                }
                self.next_scope_page(ScopeType::Warehouse, page.next, Req::Warehouses);
                if cur.is_none() {
                    self.gated_answered().await?;
                }
                Ok(())
            }
            (Req::Spaces(cur), Payload::Spaces(page)) => {
                self.counts.sizes.spaces += page.items.len() as u64;
                let ws = self.ws_ref.clone();
                for s in &page.items {
                    let mapped = mapping::space_resource(s, &ws);
                    self.scope_resource(ScopeType::Space, &s.id, mapped).await?;
                }
                self.next_scope_page(ScopeType::Space, page.next, Req::Spaces);
                if cur.is_none() {
                    self.gated_answered().await?;
                }
                Ok(())
            }
            (Req::Functions(k, cur), Payload::Functions(page)) => {
                self.counts.sizes.functions[k % FUNCTION_KINDS] += page.items.len() as u64;
                let ws = self.ws_ref.clone();
                for f in &page.items {
                    let mapped = mapping::function_resource(f, &ws);
                    self.scope_resource(ScopeType::Function, &f.id, mapped)
                        .await?;
                }
                match page.next {
                    Some(next) => self.schedule.high.push_front(Req::Functions(k, Some(next))),
                    None => self.function_kind_done(),
                }
                if cur.is_none() {
                    self.gated_answered().await?;
                }
                Ok(())
            }
            (req, _) => {
                Err(SyncError::Internal(format!("unexpected payload for request {req:?}")).into())
            }
        }
    }

    pub(super) fn function_kind_done(&mut self) {
        self.readiness.functions_remaining = self.readiness.functions_remaining.saturating_sub(1);
        if self.readiness.functions_remaining == 0 {
            self.readiness.scope_done[scope_index(ScopeType::Function)] = true;
        }
    }

    pub(super) fn next_scope_page(
        &mut self,
        scope: ScopeType,
        next: Option<String>,
        make: fn(Option<String>) -> Req,
    ) {
        match next {
            Some(cursor) => self.schedule.high.push_front(make(Some(cursor))),
            None => self.readiness.scope_done[scope_index(scope)] = true,
        }
    }

    pub(super) async fn scope_resource(
        &mut self,
        scope: ScopeType,
        id: &str,
        mapped: Result<pb::Resource, baton_model::Error>,
    ) -> Result<(), Failure> {
        if let Some(r) = self
            .put_mapped(scope.resource_type_id(), id, mapped)
            .await?
        {
            self.listed.scope_resources[scope_index(scope)].insert(id.to_owned(), r);
        }
        Ok(())
    }

    /// Skips a type the plan or features lack, with one warning.
    pub(super) fn skip_type(&mut self, resource_type: &'static str, error: &segment_api::Error) {
        let reason = match error.messages().first() {
            Some(m) => m.clone(),
            None => error.to_string(),
        };
        tracing::warn!(
            resource_type,
            %reason,
            "the workspace's plan or features do not include this resource type; skipping it"
        );
        self.readiness.skipped.insert(resource_type, reason);
    }

    pub(super) async fn handle_error(
        &mut self,
        req: Req,
        error: Arc<segment_api::Error>,
    ) -> Result<(), Failure> {
        use segment_api::Error as E;
        let status = error.status().unwrap_or(0);
        let feature_gate = (400..500).contains(&status) && status != 401 && status != 429;
        match req {
            Req::Groups(None)
                if matches!(&*error, E::PlanLacksFeature { .. } | E::Forbidden { .. }) =>
            {
                self.skip_type(GROUP, &error);
                self.gated_answered().await
            }
            Req::Warehouses(None) if feature_gate => {
                self.skip_type(WAREHOUSE, &error);
                self.readiness.scope_done[scope_index(ScopeType::Warehouse)] = true;
                self.gated_answered().await
            }
            Req::Spaces(None) if feature_gate => {
                self.skip_type(SPACE, &error);
                self.readiness.scope_done[scope_index(ScopeType::Space)] = true;
                self.gated_answered().await
            }
            Req::Functions(k, None) if feature_gate => {
                let kind = FunctionKind::ALL[k % FUNCTION_KINDS].as_str().to_owned();
                self.readiness.function_kinds_failed.push(kind);
                self.readiness.function_kinds_failed.sort();
                if self.readiness.function_kinds_failed.len() == FUNCTION_KINDS {
                    self.skip_type(FUNCTION, &error);
                }
                self.function_kind_done();
                self.gated_answered().await
            }
            Req::GetUser(id)
            | Req::GetGroup(id)
            | Req::Members(id, _)
            | Req::GroupInvites(id, _)
                if matches!(&*error, E::NotFound { .. }) =>
            {
                self.counts.report.vanished += 1;
                tracing::warn!(
                    id,
                    operation = error.operation().unwrap_or(""),
                    "a user or group disappeared during the sync; its details are skipped"
                );
                Ok(())
            }
            _ => Err(SyncError::from_api(error).into()),
        }
    }
}
