//! The state of one running sync ([`Engine`]), grouped by what it is for, and the emission
//! of objects to the writer thread.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use baton_model::ids::ResourceRef;
use baton_model::pb;
use segment_api::{Client, MinimalUser, Permission, Role, Workspace};
use segment_cache::Session;
use segment_scheme::{
    FUNCTION, GROUP, INVITE, LabelSet, PrincipalType, ROLE, SOURCE, SPACE, ScopeType, USER,
    WAREHOUSE, WORKSPACE, mapping,
};
use tokio::sync::mpsc;

use super::Failure;
use super::report::Tally;
use super::scheduling::Schedule;
use crate::error::SyncError;
use crate::request_count::{FUNCTION_KINDS, FetchPlan, WorkspaceSizes};
use crate::writer_thread::Obj;

// ---- engine state ----------------------------------------------------------------------------

pub(super) fn scope_index(scope: ScopeType) -> usize {
    match scope {
        ScopeType::Source => 0,
        ScopeType::Warehouse => 1,
        ScopeType::Function => 2,
        ScopeType::Space => 3,
    }
}

/// A grant on a role that is not in the role list, emitted at the end.
#[derive(Debug)]
pub(super) struct SynthGrant {
    pub(super) role_id: String,
    pub(super) labels: LabelSet,
    pub(super) principal: PrincipalType,
    pub(super) principal_id: String,
}

/// A scoped permission entry that carries labels: its entitlement is written at the end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct LabeledScoped {
    pub(super) scope: ScopeType,
    pub(super) resource_id: String,
    pub(super) slug: String,
    pub(super) labels: LabelSet,
    pub(super) role_id: String,
    pub(super) role_name: String,
}

/// Which listings have finished (or were skipped): what the waiting grants wait for.
#[derive(Debug)]
pub(super) struct Readiness {
    pub(super) roles_done: bool,
    pub(super) users_done: bool,
    pub(super) invites_done: bool,
    /// Per scope type, in [`scope_index`] order.
    pub(super) scope_done: [bool; 4],
    /// Gated listings (groups, warehouses, spaces, function kinds) yet to answer.
    pub(super) gated_pending: usize,
    pub(super) functions_remaining: usize,
    pub(super) function_kinds_failed: Vec<String>,
    /// Types skipped because of the plan or features, with Segment's reason.
    pub(super) skipped: BTreeMap<&'static str, String>,
    pub(super) synced_types: Vec<String>,
}

impl Readiness {
    fn new(plan: &FetchPlan) -> Self {
        let scope_planned = [plan.sources, plan.warehouses, plan.functions, plan.spaces];
        Self {
            roles_done: !plan.list_roles,
            users_done: !plan.users,
            invites_done: !plan.invites,
            scope_done: scope_planned.map(|p| !p),
            gated_pending: 0,
            functions_remaining: if plan.functions { FUNCTION_KINDS } else { 0 },
            function_kinds_failed: Vec::new(),
            skipped: BTreeMap::new(),
            synced_types: Vec::new(),
        }
    }
}

/// What the listings returned that later objects refer to (by id).
#[derive(Debug, Default)]
pub(super) struct Listed {
    pub(super) roles: Vec<Role>,
    pub(super) role_index: HashMap<String, usize>,
    pub(super) role_resources: HashMap<String, pb::Resource>,
    pub(super) user_ids: HashSet<String>,
    pub(super) groups: HashMap<String, pb::Resource>,
    /// Lowercased email -> listed invite ids.
    pub(super) invites_lower: HashMap<String, BTreeSet<String>>,
    pub(super) scope_resources: [BTreeMap<String, pb::Resource>; 4],
}

/// What the end-of-sync work ([`super::finish`]) needs, collected from permissions.
#[derive(Debug, Default)]
pub(super) struct EndOfSync {
    pub(super) observed_roles: [BTreeSet<String>; 4],
    pub(super) observed_unknown: [BTreeMap<String, BTreeSet<String>>; 4],
    pub(super) labeled_scoped: BTreeSet<LabeledScoped>,
    pub(super) emitted_role_labels: HashSet<String>,
    pub(super) synth_roles: BTreeMap<String, BTreeSet<String>>,
    pub(super) synth_grants: Vec<SynthGrant>,
}

/// Answers whose grants wait for a listing that has not finished.
#[derive(Debug, Default)]
pub(super) struct Waiting {
    pub(super) pending_perms: Vec<(PrincipalType, String, Vec<Permission>)>,
    pub(super) pending_members: Vec<(String, Vec<MinimalUser>)>,
    pub(super) pending_group_invites: Vec<(String, Vec<String>)>,
    pub(super) pending_ws_members: Vec<String>,
}

/// Sizes seen, report counters and the once-only log keys.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) sizes: WorkspaceSizes,
    pub(super) group_members: BTreeMap<String, u64>,
    pub(super) group_invites: BTreeMap<String, u64>,
    pub(super) report: Tally,
    pub(super) logged: HashSet<String>,
}

/// One running sync: a single task owns all of it.
pub(super) struct Engine {
    pub(super) session: Session,
    pub(super) client: Client,
    pub(super) plan: FetchPlan,
    pub(super) tx: mpsc::Sender<Obj>,
    pub(super) workspace: Workspace,
    pub(super) ws_ref: ResourceRef,
    /// Set once the gated listings have answered (their first page or their skip).
    pub(super) ws_resource: Option<pb::Resource>,
    pub(super) schedule: Schedule,
    pub(super) readiness: Readiness,
    pub(super) listed: Listed,
    pub(super) end: EndOfSync,
    pub(super) waiting: Waiting,
    pub(super) counts: Counts,
}

impl Engine {
    pub(super) fn new(
        session: Session,
        client: Client,
        plan: FetchPlan,
        concurrency: usize,
        tx: mpsc::Sender<Obj>,
        workspace: Workspace,
        ws_ref: ResourceRef,
    ) -> Self {
        Self {
            session,
            client,
            readiness: Readiness::new(&plan),
            plan,
            tx,
            workspace,
            ws_ref,
            ws_resource: None,
            schedule: Schedule::new(concurrency),
            listed: Listed::default(),
            end: EndOfSync::default(),
            waiting: Waiting::default(),
            counts: Counts::default(),
        }
    }

    /// Logs `key`'s message only the first time.
    pub(super) fn first_time(&mut self, key: String) -> bool {
        self.counts.logged.insert(key)
    }

    pub(super) async fn send(&mut self, obj: Obj) -> Result<(), Failure> {
        self.tx.send(obj).await.map_err(|_| Failure::WriterGone)
    }

    pub(super) async fn put_resource(&mut self, resource: pb::Resource) -> Result<(), Failure> {
        let rt = resource
            .id
            .as_ref()
            .map(|id| id.resource_type.clone())
            .unwrap_or_default();
        *self.counts.report.resources.entry(rt).or_default() += 1;
        self.send(Obj::Resource(Box::new(resource))).await
    }

    pub(super) async fn put_entitlement(&mut self, e: pb::Entitlement) -> Result<(), Failure> {
        if !self.plan.entitlements {
            return Ok(());
        }
        self.send(Obj::Entitlement(Box::new(e))).await
    }

    pub(super) async fn put_grant(
        &mut self,
        entitlement: &pb::Entitlement,
        principal: PrincipalType,
        principal_id: &str,
    ) -> Result<(), Failure> {
        if !self.plan.grants {
            return Ok(());
        }
        match mapping::grant(entitlement, principal, principal_id) {
            Ok(g) => self.send(Obj::Grant(Box::new(g))).await,
            Err(e) => {
                self.invalid(
                    "grant",
                    &format!("{}:{principal}:{principal_id}", entitlement.id),
                    &e,
                );
                Ok(())
            }
        }
    }

    /// Counts (and logs once per kind) an object whose id cannot be represented.
    pub(super) fn invalid(&mut self, kind: &str, id: &str, error: &baton_model::Error) {
        self.counts.report.invalid_objects += 1;
        if self.first_time(format!("invalid:{kind}")) {
            tracing::warn!(kind, id, %error, "skipping a Segment object whose id cannot be used in a Baton id (logged once per kind)");
        }
    }

    /// Maps and writes a resource, counting failures.
    pub(super) async fn put_mapped(
        &mut self,
        kind: &str,
        id: &str,
        mapped: Result<pb::Resource, baton_model::Error>,
    ) -> Result<Option<pb::Resource>, Failure> {
        match mapped {
            Ok(r) => {
                self.put_resource(r.clone()).await?;
                Ok(Some(r))
            }
            Err(e) => {
                self.invalid(kind, id, &e);
                Ok(None)
            }
        }
    }

    // ---- readiness -----------------------------------------------------------------------------

    pub(super) fn perms_ready(&self) -> bool {
        self.readiness.roles_done && self.readiness.scope_done.iter().all(|d| *d)
    }

    pub(super) fn scope_planned(&self, scope: ScopeType) -> bool {
        match scope {
            ScopeType::Source => self.plan.sources,
            ScopeType::Warehouse => self.plan.warehouses,
            ScopeType::Function => self.plan.functions,
            ScopeType::Space => self.plan.spaces,
        }
    }

    pub(super) fn scope_synced(&self, scope: ScopeType) -> bool {
        self.scope_planned(scope)
            && !self
                .readiness
                .skipped
                .contains_key(scope.resource_type_id())
    }

    /// A gated listing answered its first page (or was skipped).
    pub(super) async fn gated_answered(&mut self) -> Result<(), Failure> {
        self.readiness.gated_pending = self.readiness.gated_pending.saturating_sub(1);
        if self.readiness.gated_pending == 0 {
            self.workspace_ready().await?;
        }
        Ok(())
    }

    /// Writes the resource types, the workspace (with its final child types) and its member
    /// entitlement, then the workspace membership grants that waited.
    pub(super) async fn workspace_ready(&mut self) -> Result<(), Failure> {
        if !self.readiness.function_kinds_failed.is_empty()
            && self.readiness.function_kinds_failed.len() < FUNCTION_KINDS
        {
            tracing::warn!(
                kinds = %self.readiness.function_kinds_failed.join(", "),
                "some function kinds could not be listed; their functions are not synced"
            );
        }
        let plan = self.plan;
        let planned = [
            (USER, plan.users),
            (GROUP, plan.groups),
            (ROLE, plan.roles),
            (INVITE, plan.invites),
            (SOURCE, plan.sources),
            (WAREHOUSE, plan.warehouses),
            (FUNCTION, plan.functions),
            (SPACE, plan.spaces),
        ];
        let children: Vec<&str> = planned
            .iter()
            .filter(|(t, p)| *p && !self.readiness.skipped.contains_key(t))
            .map(|(t, _)| *t)
            .collect();
        self.readiness.synced_types = std::iter::once(WORKSPACE)
            .chain(children.iter().copied())
            .map(str::to_owned)
            .collect();
        for t in self.readiness.synced_types.clone() {
            if let Some(rt) = mapping::resource_type(&t) {
                self.send(Obj::ResourceType(rt)).await?;
            }
        }
        let ws = match mapping::workspace_resource(&self.workspace, &children) {
            Ok(r) => r,
            Err(e) => {
                return Err(Failure::Sync(SyncError::Internal(format!(
                    "cannot map the workspace: {e}"
                ))));
            }
        };
        self.put_resource(ws.clone()).await?;
        match mapping::workspace_member_entitlement(&ws) {
            Ok(e) => self.put_entitlement(e).await?,
            Err(e) => self.invalid("entitlement", &self.workspace.id.clone(), &e),
        }
        self.ws_resource = Some(ws);
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> Result<(), Failure> {
        if self.ws_resource.is_some() && !self.waiting.pending_ws_members.is_empty() {
            for uid in std::mem::take(&mut self.waiting.pending_ws_members) {
                self.workspace_member_grant(&uid).await?;
            }
        }
        if self.readiness.users_done && !self.waiting.pending_members.is_empty() {
            for (gid, members) in std::mem::take(&mut self.waiting.pending_members) {
                self.member_grants(&gid, members).await?;
            }
        }
        if self.readiness.invites_done && !self.waiting.pending_group_invites.is_empty() {
            for (gid, emails) in std::mem::take(&mut self.waiting.pending_group_invites) {
                self.group_invite_grants(&gid, emails).await?;
            }
        }
        if self.perms_ready() && !self.waiting.pending_perms.is_empty() {
            for (ptype, pid, perms) in std::mem::take(&mut self.waiting.pending_perms) {
                self.permission_grants(ptype, &pid, &perms).await?;
            }
        }
        Ok(())
    }

    // ---- responses ---------------------------------------------------------------------------
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("workspace", &self.workspace.id)
            .field("concurrency", &self.schedule.concurrency)
            .finish_non_exhaustive()
    }
}
