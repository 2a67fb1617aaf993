//! The sync engine: lists a Segment workspace with bounded concurrency and streams the
//! mapped Baton objects into a c1z file as they arrive.
//!
//! One task owns all state and drives a set of in-flight requests (at most
//! [`SyncOptions::concurrency`]); listings (and their next pages) go before per-object fetches
//! (`getUser`, `getUserGroup`, member and invitee lists). Objects are sent to the writer
//! thread ([`crate::sink`]) through a bounded channel. The few grants that depend on a listing
//! that has not finished yet (role list, scope listings, users, invites) wait in small
//! buffers; the entitlements of the scoped types are written at the end, once every
//! permission has been read. Every choice that could depend on arrival order is made on
//! sorted data, so the file's logical content does not depend on the concurrency.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_c1z::WriterOptions;
use baton_model::ids::ResourceRef;
use baton_model::pb;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use segment_api::{
    Client, Function, FunctionKind, MinimalUser, Page, Permission, ResourceKind, Role, Source,
    Space, User, UserGroup, Warehouse, Workspace,
};
use segment_cache::Session;
use tokio::sync::mpsc;

use crate::budget::{FUNCTION_KINDS, FetchPlan, WorkspaceSizes, min_requests};
use crate::error::SyncError;
use crate::sink::{self, Exit, Obj, SyncProgress};
use segment_scheme::{
    self as scheme, ALL_RESOURCE_TYPES, FUNCTION, GROUP, INVITE, LabelSet, PrincipalType, ROLE,
    SOURCE, SPACE, ScopeType, SegmentEntitlement, USER, WAREHOUSE, WORKSPACE, mapping,
};

/// Default number of requests in flight. Chosen from `notes/bench-sync.md`: with 20 ms of
/// latency per request, 16 brings a 2,000-user sync within ~10% of the latency-bound
/// minimum while staying far below Segment's documented read limits per second.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Options of [`sync`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Requests in flight at most (>= 1). Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Sync only these resource types (ids as in [`segment_scheme`]; the workspace is always
    /// synced). `None` = every type.
    pub resource_types: Option<BTreeSet<String>>,
    /// Finished syncs kept in the file, the new one included (0 = keep all). Default 2.
    pub keep_syncs: usize,
    /// Directory for the writer's temporary database; `None` = the OS temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Live counters updated while the sync runs.
    pub progress: Option<Arc<SyncProgress>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            resource_types: None,
            keep_syncs: 2,
            temp_dir: None,
            progress: None,
        }
    }
}

impl SyncOptions {
    /// With another concurrency.
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Restricted to these resource types.
    #[must_use]
    pub fn with_resource_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Keeping this many finished syncs.
    #[must_use]
    pub fn with_keep_syncs(mut self, keep: usize) -> Self {
        self.keep_syncs = keep;
        self
    }

    /// With a temporary directory for the writer.
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// With a progress record.
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<SyncProgress>) -> Self {
        self.progress = Some(progress);
        self
    }
}

/// A resource type the sync skipped because the workspace's plan or features lack it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedType {
    /// The resource type id (`group`, `warehouse`, `function`, `space`).
    pub resource_type: String,
    /// Why (Segment's message, or the HTTP status).
    pub reason: String,
}

/// What a successful [`sync`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncReport {
    /// The id of the sync run added to the file.
    pub sync_id: String,
    /// The c1z file.
    pub path: PathBuf,
    /// Whether an existing file was extended.
    pub appended: bool,
    /// Sync runs removed from the file (keep-syncs cleanup).
    pub removed_syncs: Vec<String>,
    /// Size of the written file in bytes.
    pub file_bytes: u64,
    /// The workspace id.
    pub workspace_id: String,
    /// The workspace name.
    pub workspace_name: String,
    /// The resource types synced (workspace first), excluding skipped ones.
    pub synced_types: Vec<String>,
    /// Resource types written.
    pub resource_types: u64,
    /// Resources written, per resource type id.
    pub resources: BTreeMap<String, u64>,
    /// Entitlements written.
    pub entitlements: u64,
    /// Grants written.
    pub grants: u64,
    /// HTTP requests made during the sync (attempts, retries included; from session stats).
    pub requests: u64,
    /// Fewest requests possible for the sizes seen (see [`crate::min_requests`]).
    pub min_requests: u64,
    /// The collection sizes seen.
    pub sizes: WorkspaceSizes,
    /// Retries made by the client.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Time requests spent waiting in the pacer or before retries (summed over requests).
    pub waited: Duration,
    /// Wall time of the sync.
    pub elapsed: Duration,
    /// Types skipped because of the plan or missing features (one warning each).
    pub skipped: Vec<SkippedType>,
    /// Permission entries of scope types this connector does not know (skipped).
    pub skipped_permissions: u64,
    /// Those entries per unknown scope type (e.g. `DESTINATION`).
    pub unknown_scope_types: BTreeMap<String, u64>,
    /// Scoped permission entries whose resource is not in its listing (grant skipped).
    pub unresolved_scopes: u64,
    /// Permission entries not turned into grants because their type is not synced
    /// (restriction or skipped type).
    pub filtered_grants: u64,
    /// Roles referenced by permissions but absent from the role list (synthesised).
    pub synthesized_roles: u64,
    /// Group members that are not in the user listing (grant skipped).
    pub unresolved_members: u64,
    /// Group invitees matching no listed invite (grant skipped).
    pub unmatched_group_invites: u64,
    /// Users or groups that disappeared during the sync (404 on their details).
    pub vanished: u64,
    /// Objects skipped because a Segment id cannot be used in a Baton id.
    pub invalid_objects: u64,
}

/// Syncs the workspace of `session` into the c1z file at `path` (appending a sync run when
/// the file exists; replaced atomically at the end). A failed sync leaves an existing file
/// untouched.
///
/// The first request is `GET /`: a 401 there is [`SyncError::Unauthorized`], a 403
/// [`SyncError::Forbidden`]. Types missing from the plan (groups on Team) or disabled
/// (warehouses, functions, spaces) are skipped with one `tracing` warning each and listed in
/// [`SyncReport::skipped`].
pub async fn sync(
    session: &Session,
    path: &Path,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let result = run(session, path, options).await;
    if let Some(progress) = &options.progress {
        progress.set_done();
    }
    result
}

async fn run(
    session: &Session,
    path: &Path,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    validate(options)?;
    let plan = FetchPlan::new(options.resource_types.as_ref());
    let before = session.stats();
    let client = session.client().clone();

    let workspace = client
        .get_workspace()
        .await
        .map_err(SyncError::from_first_request)?;
    let ws_ref = mapping::workspace_ref(&workspace.id).map_err(|e| SyncError::Api {
        source: Arc::new(segment_api::Error::Decode {
            operation: "getWorkspace",
            reason: format!("the workspace id cannot be used as a Baton id: {e}"),
        }),
    })?;

    check_same_workspace(path, &workspace.id, options.temp_dir.as_deref()).await?;

    let mut writer_options = WriterOptions::default().with_keep_syncs(options.keep_syncs);
    if let Some(dir) = &options.temp_dir {
        writer_options = writer_options.with_temp_dir(dir.clone());
    }
    let sink = sink::start(path.to_path_buf(), writer_options, options.progress.clone()).await?;

    let mut engine = Engine::new(
        session.clone(),
        client.clone(),
        plan,
        options.concurrency,
        sink.tx,
        workspace,
        ws_ref,
    );
    let outcome = engine.run().await;
    engine.sizes.group_members = engine.group_members.values().copied().collect();
    engine.sizes.group_invites = engine.group_invites.values().copied().collect();
    let finish = match outcome {
        Ok(()) => engine.tx.send(Obj::Finish).await.is_ok(),
        Err(_) => false,
    };
    // Closing the channel without `Finish` makes the writer discard the sync.
    let Engine {
        tx,
        workspace,
        sizes,
        report,
        synced_types,
        skipped,
        ..
    } = engine;
    drop(tx);
    let exit = sink
        .handle
        .await
        .map_err(|e| SyncError::Internal(format!("the c1z writer thread failed: {e}")));
    let summary = match (outcome, exit) {
        (Err(Failure::Sync(e)), _) => return Err(e),
        (_, Err(e)) => return Err(e),
        (_, Ok(Err(e))) => return Err(SyncError::Write(e)),
        (Ok(()), Ok(Ok(Exit::Finished(summary)))) if finish => summary,
        _ => {
            return Err(SyncError::Internal(
                "the c1z writer stopped before the sync finished".into(),
            ));
        }
    };

    let stats = session.stats().since(&before);
    let page_size = u32::from(client.page_size());
    Ok(SyncReport {
        sync_id: summary.sync_id,
        path: summary.path,
        appended: summary.appended,
        removed_syncs: summary.removed_syncs,
        file_bytes: summary.file_bytes,
        workspace_id: workspace.id,
        workspace_name: workspace.name,
        synced_types,
        resource_types: summary.counts.resource_types,
        resources: report.resources,
        entitlements: summary.counts.entitlements,
        grants: summary.counts.grants,
        requests: stats.requests,
        min_requests: min_requests(&sizes, page_size, options.resource_types.as_ref()),
        sizes,
        retries: stats.retries,
        rate_limited: stats.rate_limited,
        waited: stats.pacer_wait + stats.retry_wait,
        elapsed: started.elapsed(),
        skipped: skipped
            .into_iter()
            .map(|(t, reason)| SkippedType {
                resource_type: t.to_owned(),
                reason,
            })
            .collect(),
        skipped_permissions: report.skipped_permissions,
        unknown_scope_types: report.unknown_scope_types,
        unresolved_scopes: report.unresolved_scopes,
        filtered_grants: report.filtered_grants,
        synthesized_roles: report.synthesized_roles,
        unresolved_members: report.unresolved_members,
        unmatched_group_invites: report.unmatched_group_invites,
        vanished: report.vanished,
        invalid_objects: report.invalid_objects,
    })
}

/// Before appending to an existing c1z: its latest sync must be of the workspace being
/// synced (its `workspace` resource). A file that does not open as a c1z, or has no sync or no
/// workspace resource, is left to the writer.
async fn check_same_workspace(
    path: &Path,
    workspace_id: &str,
    temp_dir: Option<&Path>,
) -> Result<(), SyncError> {
    if !path.exists() {
        return Ok(());
    }
    let file = path.to_path_buf();
    let temp_dir = temp_dir.map(Path::to_path_buf);
    let found = tokio::task::spawn_blocking(move || -> Option<Vec<String>> {
        let mut options = baton_c1z::ReaderOptions::default();
        if let Some(dir) = temp_dir {
            options = options.with_temp_dir(dir);
        }
        let reader = baton_c1z::C1zReader::open(&file, options).ok()?;
        let view = reader.latest().ok()?;
        let filter = baton_c1z::ResourceFilter {
            resource_type_id: Some(WORKSPACE.to_owned()),
            ..baton_c1z::ResourceFilter::default()
        };
        Some(
            view.resources(&filter)
                .filter_map(Result::ok)
                .filter_map(|r| r.id.map(|id| id.resource))
                .collect(),
        )
    })
    .await
    .map_err(|e| SyncError::Internal(format!("checking the existing c1z file failed: {e}")))?;
    match found {
        Some(ids) if !ids.is_empty() && !ids.iter().any(|id| id == workspace_id) => {
            Err(SyncError::WorkspaceMismatch {
                path: path.to_path_buf(),
                file_workspace: ids.join(", "),
                workspace: workspace_id.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

fn validate(options: &SyncOptions) -> Result<(), SyncError> {
    if options.concurrency == 0 {
        return Err(SyncError::InvalidOption {
            option: "concurrency",
            reason: "must be at least 1".into(),
        });
    }
    if let Some(types) = &options.resource_types
        && let Some(bad) = types
            .iter()
            .find(|t| !ALL_RESOURCE_TYPES.contains(&t.as_str()))
    {
        return Err(SyncError::InvalidOption {
            option: "resource_types",
            reason: format!(
                "unknown resource type {bad:?} (known: {})",
                ALL_RESOURCE_TYPES.join(", ")
            ),
        });
    }
    Ok(())
}

// ---- requests --------------------------------------------------------------------------------

/// One request of the sync (a page of a listing or one object).
#[derive(Debug, Clone)]
enum Req {
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
enum Payload {
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
enum ReqError {
    Api(Arc<segment_api::Error>),
    Session(segment_cache::Error),
}

type Outcome = (Req, Result<Payload, ReqError>);

fn call<T, F>(req: Req, fut: F, wrap: fn(T) -> Payload) -> BoxFuture<'static, Outcome>
where
    F: Future<Output = Result<T, segment_api::Error>> + Send + 'static,
    T: Send + 'static,
{
    Box::pin(async move {
        let result = fut.await.map(wrap).map_err(|e| ReqError::Api(Arc::new(e)));
        (req, result)
    })
}

/// Why the engine stopped.
#[derive(Debug)]
enum Failure {
    Sync(SyncError),
    /// The writer thread stopped receiving (its own error is reported through the join).
    WriterGone,
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        Self::Sync(e)
    }
}

// ---- engine state ----------------------------------------------------------------------------

fn scope_index(scope: ScopeType) -> usize {
    match scope {
        ScopeType::Source => 0,
        ScopeType::Warehouse => 1,
        ScopeType::Function => 2,
        ScopeType::Space => 3,
    }
}

/// Counters that end up in the report.
#[derive(Debug, Default)]
struct Tally {
    resources: BTreeMap<String, u64>,
    skipped_permissions: u64,
    unknown_scope_types: BTreeMap<String, u64>,
    unresolved_scopes: u64,
    filtered_grants: u64,
    synthesized_roles: u64,
    unresolved_members: u64,
    unmatched_group_invites: u64,
    vanished: u64,
    invalid_objects: u64,
}

/// A grant on a role that is not in the role list, emitted at the end.
#[derive(Debug)]
struct SynthGrant {
    role_id: String,
    labels: LabelSet,
    principal: PrincipalType,
    principal_id: String,
}

/// A scoped permission entry that carries labels: its entitlement is written at the end.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LabeledScoped {
    scope: ScopeType,
    resource_id: String,
    slug: String,
    labels: LabelSet,
    role_id: String,
    role_name: String,
}

struct Engine {
    session: Session,
    client: Client,
    plan: FetchPlan,
    concurrency: usize,
    tx: mpsc::Sender<Obj>,
    workspace: Workspace,
    ws_ref: ResourceRef,
    /// Set once the gated listings have answered (their first page or their skip).
    ws_resource: Option<pb::Resource>,

    high: VecDeque<Req>,
    low: VecDeque<Req>,

    roles_done: bool,
    users_done: bool,
    invites_done: bool,
    scope_done: [bool; 4],
    gated_pending: usize,
    functions_remaining: usize,
    function_kinds_failed: Vec<String>,
    skipped: BTreeMap<&'static str, String>,
    synced_types: Vec<String>,

    roles: Vec<Role>,
    role_index: HashMap<String, usize>,
    role_resources: HashMap<String, pb::Resource>,
    user_ids: HashSet<String>,
    groups: HashMap<String, pb::Resource>,
    invites_lower: HashMap<String, BTreeSet<String>>,
    scope_resources: [BTreeMap<String, pb::Resource>; 4],
    observed_roles: [BTreeSet<String>; 4],
    observed_unknown: [BTreeMap<String, BTreeSet<String>>; 4],
    labeled_scoped: BTreeSet<LabeledScoped>,
    emitted_role_labels: HashSet<String>,
    synth_roles: BTreeMap<String, BTreeSet<String>>,
    synth_grants: Vec<SynthGrant>,

    pending_perms: Vec<(PrincipalType, String, Vec<Permission>)>,
    pending_members: Vec<(String, Vec<MinimalUser>)>,
    pending_group_invites: Vec<(String, Vec<String>)>,
    pending_ws_members: Vec<String>,

    sizes: WorkspaceSizes,
    group_members: BTreeMap<String, u64>,
    group_invites: BTreeMap<String, u64>,
    report: Tally,
    logged: HashSet<String>,
}

impl Engine {
    fn new(
        session: Session,
        client: Client,
        plan: FetchPlan,
        concurrency: usize,
        tx: mpsc::Sender<Obj>,
        workspace: Workspace,
        ws_ref: ResourceRef,
    ) -> Self {
        let scope_planned = [plan.sources, plan.warehouses, plan.functions, plan.spaces];
        Self {
            session,
            client,
            plan,
            concurrency,
            tx,
            workspace,
            ws_ref,
            ws_resource: None,
            high: VecDeque::new(),
            low: VecDeque::new(),
            roles_done: !plan.list_roles,
            users_done: !plan.users,
            invites_done: !plan.invites,
            scope_done: scope_planned.map(|p| !p),
            gated_pending: 0,
            functions_remaining: if plan.functions { FUNCTION_KINDS } else { 0 },
            function_kinds_failed: Vec::new(),
            skipped: BTreeMap::new(),
            synced_types: Vec::new(),
            roles: Vec::new(),
            role_index: HashMap::new(),
            role_resources: HashMap::new(),
            user_ids: HashSet::new(),
            groups: HashMap::new(),
            invites_lower: HashMap::new(),
            scope_resources: Default::default(),
            observed_roles: Default::default(),
            observed_unknown: Default::default(),
            labeled_scoped: BTreeSet::new(),
            emitted_role_labels: HashSet::new(),
            synth_roles: BTreeMap::new(),
            synth_grants: Vec::new(),
            pending_perms: Vec::new(),
            pending_members: Vec::new(),
            pending_group_invites: Vec::new(),
            pending_ws_members: Vec::new(),
            sizes: WorkspaceSizes::default(),
            group_members: BTreeMap::new(),
            group_invites: BTreeMap::new(),
            report: Tally::default(),
            logged: HashSet::new(),
        }
    }

    /// Logs `key`'s message only the first time.
    fn first_time(&mut self, key: String) -> bool {
        self.logged.insert(key)
    }

    async fn run(&mut self) -> Result<(), Failure> {
        let plan = self.plan;
        // Gated listings first: the workspace resource (its child types) waits for them.
        if plan.groups {
            self.high.push_back(Req::Groups(None));
            self.gated_pending += 1;
        }
        if plan.warehouses {
            self.high.push_back(Req::Warehouses(None));
            self.gated_pending += 1;
        }
        if plan.spaces {
            self.high.push_back(Req::Spaces(None));
            self.gated_pending += 1;
        }
        if plan.functions {
            for k in 0..FUNCTION_KINDS {
                self.high.push_back(Req::Functions(k, None));
                self.gated_pending += 1;
            }
        }
        if plan.list_roles {
            self.high.push_back(Req::Roles);
        }
        if plan.users {
            self.high.push_back(Req::Users(None));
        }
        if plan.invites {
            self.high.push_back(Req::Invites(None));
        }
        if plan.sources {
            self.high.push_back(Req::Sources(None));
        }
        if self.gated_pending == 0 {
            self.workspace_ready().await?;
        }

        let mut inflight: FuturesUnordered<BoxFuture<'static, Outcome>> = FuturesUnordered::new();
        loop {
            while inflight.len() < self.concurrency {
                let Some(req) = self.high.pop_front().or_else(|| self.low.pop_front()) else {
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

    fn start(&self, req: Req) -> BoxFuture<'static, Outcome> {
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

    async fn send(&mut self, obj: Obj) -> Result<(), Failure> {
        self.tx.send(obj).await.map_err(|_| Failure::WriterGone)
    }

    async fn put_resource(&mut self, resource: pb::Resource) -> Result<(), Failure> {
        let rt = resource
            .id
            .as_ref()
            .map(|id| id.resource_type.clone())
            .unwrap_or_default();
        *self.report.resources.entry(rt).or_default() += 1;
        self.send(Obj::Resource(Box::new(resource))).await
    }

    async fn put_entitlement(&mut self, e: pb::Entitlement) -> Result<(), Failure> {
        self.send(Obj::Entitlement(Box::new(e))).await
    }

    async fn put_grant(
        &mut self,
        entitlement: &pb::Entitlement,
        principal: PrincipalType,
        principal_id: &str,
    ) -> Result<(), Failure> {
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
    fn invalid(&mut self, kind: &str, id: &str, error: &baton_model::Error) {
        self.report.invalid_objects += 1;
        if self.first_time(format!("invalid:{kind}")) {
            tracing::warn!(kind, id, %error, "skipping a Segment object whose id cannot be used in a Baton id (logged once per kind)");
        }
    }

    /// Maps and writes a resource, counting failures.
    async fn put_mapped(
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

    fn perms_ready(&self) -> bool {
        self.roles_done && self.scope_done.iter().all(|d| *d)
    }

    fn scope_planned(&self, scope: ScopeType) -> bool {
        match scope {
            ScopeType::Source => self.plan.sources,
            ScopeType::Warehouse => self.plan.warehouses,
            ScopeType::Function => self.plan.functions,
            ScopeType::Space => self.plan.spaces,
        }
    }

    fn scope_synced(&self, scope: ScopeType) -> bool {
        self.scope_planned(scope) && !self.skipped.contains_key(scope.resource_type_id())
    }

    /// A gated listing answered its first page (or was skipped).
    async fn gated_answered(&mut self) -> Result<(), Failure> {
        self.gated_pending = self.gated_pending.saturating_sub(1);
        if self.gated_pending == 0 {
            self.workspace_ready().await?;
        }
        Ok(())
    }

    /// Writes the resource types, the workspace (with its final child types) and its member
    /// entitlement, then the workspace membership grants that waited.
    async fn workspace_ready(&mut self) -> Result<(), Failure> {
        if !self.function_kinds_failed.is_empty()
            && self.function_kinds_failed.len() < FUNCTION_KINDS
        {
            tracing::warn!(
                kinds = %self.function_kinds_failed.join(", "),
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
            .filter(|(t, p)| *p && !self.skipped.contains_key(t))
            .map(|(t, _)| *t)
            .collect();
        self.synced_types = std::iter::once(WORKSPACE)
            .chain(children.iter().copied())
            .map(str::to_owned)
            .collect();
        for t in self.synced_types.clone() {
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

    async fn flush(&mut self) -> Result<(), Failure> {
        if self.ws_resource.is_some() && !self.pending_ws_members.is_empty() {
            for uid in std::mem::take(&mut self.pending_ws_members) {
                self.workspace_member_grant(&uid).await?;
            }
        }
        if self.users_done && !self.pending_members.is_empty() {
            for (gid, members) in std::mem::take(&mut self.pending_members) {
                self.member_grants(&gid, members).await?;
            }
        }
        if self.invites_done && !self.pending_group_invites.is_empty() {
            for (gid, emails) in std::mem::take(&mut self.pending_group_invites) {
                self.group_invite_grants(&gid, emails).await?;
            }
        }
        if self.perms_ready() && !self.pending_perms.is_empty() {
            for (ptype, pid, perms) in std::mem::take(&mut self.pending_perms) {
                self.permission_grants(ptype, &pid, &perms).await?;
            }
        }
        Ok(())
    }

    // ---- responses ---------------------------------------------------------------------------

    async fn handle(&mut self, req: Req, result: Result<Payload, ReqError>) -> Result<(), Failure> {
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
                self.sizes.sources += page.items.len() as u64;
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
                self.sizes.warehouses += page.items.len() as u64;
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
                self.sizes.spaces += page.items.len() as u64;
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
                self.sizes.functions[k % FUNCTION_KINDS] += page.items.len() as u64;
                let ws = self.ws_ref.clone();
                for f in &page.items {
                    let mapped = mapping::function_resource(f, &ws);
                    self.scope_resource(ScopeType::Function, &f.id, mapped)
                        .await?;
                }
                match page.next {
                    Some(next) => self.high.push_front(Req::Functions(k, Some(next))),
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

    fn function_kind_done(&mut self) {
        self.functions_remaining = self.functions_remaining.saturating_sub(1);
        if self.functions_remaining == 0 {
            self.scope_done[scope_index(ScopeType::Function)] = true;
        }
    }

    fn next_scope_page(
        &mut self,
        scope: ScopeType,
        next: Option<String>,
        make: fn(Option<String>) -> Req,
    ) {
        match next {
            Some(cursor) => self.high.push_front(make(Some(cursor))),
            None => self.scope_done[scope_index(scope)] = true,
        }
    }

    async fn scope_resource(
        &mut self,
        scope: ScopeType,
        id: &str,
        mapped: Result<pb::Resource, baton_model::Error>,
    ) -> Result<(), Failure> {
        if let Some(r) = self
            .put_mapped(scope.resource_type_id(), id, mapped)
            .await?
        {
            self.scope_resources[scope_index(scope)].insert(id.to_owned(), r);
        }
        Ok(())
    }

    /// Skips a type the plan or features lack, with one warning.
    fn skip_type(&mut self, resource_type: &'static str, error: &segment_api::Error) {
        let reason = match error.messages().first() {
            Some(m) => m.clone(),
            None => error.to_string(),
        };
        tracing::warn!(
            resource_type,
            %reason,
            "the workspace's plan or features do not include this resource type; skipping it"
        );
        self.skipped.insert(resource_type, reason);
    }

    async fn handle_error(
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
                self.scope_done[scope_index(ScopeType::Warehouse)] = true;
                self.gated_answered().await
            }
            Req::Spaces(None) if feature_gate => {
                self.skip_type(SPACE, &error);
                self.scope_done[scope_index(ScopeType::Space)] = true;
                self.gated_answered().await
            }
            Req::Functions(k, None) if feature_gate => {
                let kind = FunctionKind::ALL[k % FUNCTION_KINDS].as_str().to_owned();
                self.function_kinds_failed.push(kind);
                self.function_kinds_failed.sort();
                if self.function_kinds_failed.len() == FUNCTION_KINDS {
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
                self.report.vanished += 1;
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

    async fn on_roles(&mut self, roles: &[Role]) -> Result<(), Failure> {
        self.sizes.roles = roles.len() as u64;
        let ws = self.ws_ref.clone();
        for role in roles {
            if self.role_index.contains_key(&role.id) {
                continue;
            }
            self.role_index.insert(role.id.clone(), self.roles.len());
            self.roles.push(role.clone());
            if self.plan.roles
                && let Some(r) = self
                    .put_mapped(ROLE, &role.id, mapping::role_resource(role, &ws))
                    .await?
            {
                match mapping::role_member_entitlement(&r, &LabelSet::new()) {
                    Ok(e) => self.put_entitlement(e).await?,
                    Err(e) => self.invalid("entitlement", &role.id, &e),
                }
                self.role_resources.insert(role.id.clone(), r);
            }
        }
        self.roles_done = true;
        Ok(())
    }

    async fn on_users(&mut self, page: Page<User>) -> Result<(), Failure> {
        self.sizes.users += page.items.len() as u64;
        let ws = self.ws_ref.clone();
        for user in &page.items {
            let mapped = mapping::user_resource(user, &ws);
            if self.put_mapped(USER, &user.id, mapped).await?.is_none() {
                continue;
            }
            self.user_ids.insert(user.id.clone());
            if self.ws_resource.is_some() {
                self.workspace_member_grant(&user.id).await?;
            } else {
                self.pending_ws_members.push(user.id.clone());
            }
            if self.plan.get_users() {
                self.low.push_back(Req::GetUser(user.id.clone()));
            }
        }
        match page.next {
            Some(next) => self.high.push_front(Req::Users(Some(next))),
            None => self.users_done = true,
        }
        Ok(())
    }

    async fn workspace_member_grant(&mut self, user_id: &str) -> Result<(), Failure> {
        let Some(ws) = self.ws_resource.clone() else {
            return Ok(());
        };
        let stub = mapping::segment_entitlement_stub(
            &SegmentEntitlement::WorkspaceMember {
                workspace_id: self.workspace.id.clone(),
            },
            &ws,
        );
        match stub {
            Ok(stub) => self.put_grant(&stub, PrincipalType::User, user_id).await,
            Err(e) => {
                self.invalid("grant", user_id, &e);
                Ok(())
            }
        }
    }

    async fn on_groups(&mut self, page: Page<UserGroup>) -> Result<(), Failure> {
        self.sizes.groups += page.items.len() as u64;
        let ws = self.ws_ref.clone();
        for group in &page.items {
            let Some(r) = self
                .put_mapped(GROUP, &group.id, mapping::group_resource(group, &ws))
                .await?
            else {
                continue;
            };
            match mapping::group_member_entitlement(&r) {
                Ok(e) => self.put_entitlement(e).await?,
                Err(e) => self.invalid("entitlement", &group.id, &e),
            }
            self.groups.insert(group.id.clone(), r);
            if self.plan.get_groups() {
                self.low.push_back(Req::GetGroup(group.id.clone()));
            }
            if self.plan.group_members() {
                self.group_members.insert(group.id.clone(), 0);
                self.low.push_back(Req::Members(group.id.clone(), None));
            }
            if self.plan.group_invites() {
                self.group_invites.insert(group.id.clone(), 0);
                self.low
                    .push_back(Req::GroupInvites(group.id.clone(), None));
            }
        }
        if let Some(next) = page.next {
            self.high.push_front(Req::Groups(Some(next)));
        }
        Ok(())
    }

    async fn on_members(&mut self, gid: String, page: Page<MinimalUser>) -> Result<(), Failure> {
        *self.group_members.entry(gid.clone()).or_default() += page.items.len() as u64;
        if let Some(next) = page.next {
            self.low.push_front(Req::Members(gid.clone(), Some(next)));
        }
        if self.users_done {
            self.member_grants(&gid, page.items).await
        } else {
            self.pending_members.push((gid, page.items));
            Ok(())
        }
    }

    /// The stub of group `gid`'s member entitlement, the target of its membership and
    /// invite grants; `None` (counted as invalid where the id is unusable) when the group was
    /// not listed or its entitlement id cannot be built.
    fn group_member_stub(&mut self, gid: &str) -> Option<pb::Entitlement> {
        let group = self.groups.get(gid).cloned()?;
        match mapping::segment_entitlement_stub(
            &SegmentEntitlement::GroupMember {
                group_id: gid.to_owned(),
            },
            &group,
        ) {
            Ok(s) => Some(s),
            Err(e) => {
                self.invalid("grant", gid, &e);
                None
            }
        }
    }

    async fn member_grants(&mut self, gid: &str, members: Vec<MinimalUser>) -> Result<(), Failure> {
        let Some(stub) = self.group_member_stub(gid) else {
            return Ok(());
        };
        let mut seen = HashSet::new();
        for m in members {
            if !self.user_ids.contains(&m.id) {
                self.report.unresolved_members += 1;
                if self.first_time("unresolved-member".into()) {
                    tracing::warn!(group = gid, user = %m.id, "a group member is not in the user listing; its membership grant is skipped (logged once)");
                }
                continue;
            }
            if seen.insert(m.id.clone()) {
                self.put_grant(&stub, PrincipalType::User, &m.id).await?;
            }
        }
        Ok(())
    }

    async fn on_group_invites(&mut self, gid: String, page: Page<String>) -> Result<(), Failure> {
        *self.group_invites.entry(gid.clone()).or_default() += page.items.len() as u64;
        if let Some(next) = page.next {
            self.low
                .push_front(Req::GroupInvites(gid.clone(), Some(next)));
        }
        if self.invites_done {
            self.group_invite_grants(&gid, page.items).await
        } else {
            self.pending_group_invites.push((gid, page.items));
            Ok(())
        }
    }

    /// The listed invite id matching `email` case-insensitively (an exact match first, else
    /// the smallest).
    fn match_invite(&self, email: &str) -> Option<String> {
        let candidates = self.invites_lower.get(&email.to_lowercase())?;
        if candidates.contains(email) {
            return Some(email.to_owned());
        }
        candidates.iter().next().cloned()
    }

    async fn group_invite_grants(&mut self, gid: &str, emails: Vec<String>) -> Result<(), Failure> {
        let Some(stub) = self.group_member_stub(gid) else {
            return Ok(());
        };
        let mut seen = HashSet::new();
        for email in emails {
            let Some(invite) = self.match_invite(&email) else {
                self.report.unmatched_group_invites += 1;
                if self.first_time("unmatched-invite".into()) {
                    tracing::warn!(
                        group = gid,
                        "a group invitee matches no pending invite; its grant is skipped (logged once)"
                    );
                }
                continue;
            };
            if seen.insert(invite.clone()) {
                self.put_grant(&stub, PrincipalType::Invite, &invite)
                    .await?;
            }
        }
        Ok(())
    }

    async fn on_invites(&mut self, page: Page<String>) -> Result<(), Failure> {
        self.sizes.invites += page.items.len() as u64;
        let ws = self.ws_ref.clone();
        for email in &page.items {
            let mapped = mapping::invite_resource(email, &ws);
            if self.put_mapped(INVITE, email, mapped).await?.is_some() {
                self.invites_lower
                    .entry(email.to_lowercase())
                    .or_default()
                    .insert(email.clone());
            }
        }
        match page.next {
            Some(next) => self.high.push_front(Req::Invites(Some(next))),
            None => self.invites_done = true,
        }
        Ok(())
    }

    async fn on_permissions(
        &mut self,
        ptype: PrincipalType,
        pid: String,
        perms: Vec<Permission>,
    ) -> Result<(), Failure> {
        if self.perms_ready() {
            self.permission_grants(ptype, &pid, &perms).await
        } else {
            self.pending_perms.push((ptype, pid, perms));
            Ok(())
        }
    }

    /// The grants of one principal's permissions.
    async fn permission_grants(
        &mut self,
        ptype: PrincipalType,
        pid: &str,
        perms: &[Permission],
    ) -> Result<(), Failure> {
        let mut seen: HashSet<String> = HashSet::new();
        for perm in perms {
            for res in &perm.resources {
                let labels = LabelSet::of_permission_resource(perm, res);
                match &res.kind {
                    ResourceKind::Workspace => {
                        self.workspace_permission(perm, &res.id, labels, ptype, pid, &mut seen)
                            .await?;
                    }
                    kind => match ScopeType::from_resource_kind(kind) {
                        Some(scope) => {
                            self.scoped_permission(
                                perm, scope, &res.id, labels, ptype, pid, &mut seen,
                            )
                            .await?;
                        }
                        None => {
                            let kind = kind.as_str().to_owned();
                            self.report.skipped_permissions += 1;
                            *self
                                .report
                                .unknown_scope_types
                                .entry(kind.clone())
                                .or_default() += 1;
                            if self.first_time(format!("scope-kind:{kind}")) {
                                tracing::warn!(scope_type = %kind, "permissions scoped to this resource type are not supported; skipping them (logged once per type)");
                            }
                        }
                    },
                }
            }
        }
        Ok(())
    }

    async fn workspace_permission(
        &mut self,
        perm: &Permission,
        resource_id: &str,
        labels: LabelSet,
        ptype: PrincipalType,
        pid: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(), Failure> {
        if !self.plan.roles {
            self.report.filtered_grants += 1;
            return Ok(());
        }
        if resource_id != self.workspace.id {
            self.report.unresolved_scopes += 1;
            if self.first_time(format!("foreign-ws:{resource_id}")) {
                tracing::warn!(
                    resource_id,
                    "a WORKSPACE permission names another workspace; skipping it (logged once)"
                );
            }
            return Ok(());
        }
        let Some(role) = self.role_resources.get(&perm.role_id).cloned() else {
            if !self.role_index.contains_key(&perm.role_id) {
                if self.first_time(format!("synth-role:{}", perm.role_id)) {
                    tracing::warn!(role_id = %perm.role_id, role_name = %perm.role_name, "a permission names a role missing from the role list; synthesising it");
                }
                self.synth_roles
                    .entry(perm.role_id.clone())
                    .or_default()
                    .insert(perm.role_name.clone());
                self.synth_grants.push(SynthGrant {
                    role_id: perm.role_id.clone(),
                    labels,
                    principal: ptype,
                    principal_id: pid.to_owned(),
                });
            }
            // A listed role whose id could not be mapped was counted as invalid already.
            return Ok(());
        };
        self.role_grant(&role, &perm.role_id, labels, ptype, pid, seen)
            .await
    }

    async fn role_grant(
        &mut self,
        role: &pb::Resource,
        role_id: &str,
        labels: LabelSet,
        ptype: PrincipalType,
        pid: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(), Failure> {
        let ent = SegmentEntitlement::RoleMember {
            role_id: role_id.to_owned(),
            labels: labels.clone(),
        };
        let id = ent.to_string();
        if !labels.is_empty() && !self.emitted_role_labels.contains(&id) {
            match mapping::role_member_entitlement(role, &labels) {
                Ok(e) => {
                    self.emitted_role_labels.insert(id.clone());
                    self.put_entitlement(e).await?;
                }
                Err(e) => {
                    self.invalid("entitlement", &id, &e);
                    return Ok(());
                }
            }
        }
        if seen.insert(id.clone()) {
            match mapping::segment_entitlement_stub(&ent, role) {
                Ok(stub) => self.put_grant(&stub, ptype, pid).await?,
                Err(e) => self.invalid("grant", &id, &e),
            }
        }
        Ok(())
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one permission entry, spelled out"
    )]
    async fn scoped_permission(
        &mut self,
        perm: &Permission,
        scope: ScopeType,
        resource_id: &str,
        labels: LabelSet,
        ptype: PrincipalType,
        pid: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(), Failure> {
        if !self.scope_synced(scope) {
            self.report.filtered_grants += 1;
            return Ok(());
        }
        let idx = scope_index(scope);
        let Some(scope_res) = self.scope_resources[idx].get(resource_id).cloned() else {
            self.report.unresolved_scopes += 1;
            if self.first_time(format!("unresolved:{scope}:{resource_id}")) {
                tracing::warn!(scope_type = %scope, resource_id, "a permission is scoped to a resource missing from its listing; its grant is skipped (logged once per resource)");
            }
            return Ok(());
        };
        let role_name = match self.role_index.get(&perm.role_id) {
            Some(&i) => {
                self.observed_roles[idx].insert(perm.role_id.clone());
                self.roles[i].name.clone()
            }
            None => {
                if self.first_time(format!("unknown-scoped-role:{}", perm.role_id)) {
                    tracing::warn!(role_id = %perm.role_id, role_name = %perm.role_name, "a scoped permission names a role missing from the role list; using its name from the permission");
                }
                self.observed_unknown[idx]
                    .entry(perm.role_id.clone())
                    .or_default()
                    .insert(perm.role_name.clone());
                perm.role_name.clone()
            }
        };
        let slug = scheme::role_slug(&role_name, &perm.role_id);
        if !labels.is_empty() {
            self.labeled_scoped.insert(LabeledScoped {
                scope,
                resource_id: resource_id.to_owned(),
                slug: slug.clone(),
                labels: labels.clone(),
                role_id: perm.role_id.clone(),
                role_name,
            });
        }
        let ent = SegmentEntitlement::Scoped {
            scope,
            resource_id: resource_id.to_owned(),
            role_slug: slug,
            labels,
        };
        let id = ent.to_string();
        if seen.insert(id.clone()) {
            match mapping::segment_entitlement_stub(&ent, &scope_res) {
                Ok(stub) => self.put_grant(&stub, ptype, pid).await?,
                Err(e) => self.invalid("grant", &id, &e),
            }
        }
        Ok(())
    }

    // ---- end of sync ---------------------------------------------------------------------------

    /// Writes the synthesised roles with their grants, then the entitlements of the scoped
    /// types (every resource x every role that applies to its type).
    async fn finish_scoped(&mut self) -> Result<(), Failure> {
        self.finish_synthesized_roles().await?;
        for scope in ScopeType::ALL {
            if self.scope_synced(scope) {
                self.finish_scope(scope).await?;
            }
        }
        Ok(())
    }

    async fn finish_synthesized_roles(&mut self) -> Result<(), Failure> {
        let ws = self.ws_ref.clone();
        for (role_id, names) in std::mem::take(&mut self.synth_roles) {
            let name = names
                .iter()
                .find(|n| !n.is_empty())
                .cloned()
                .unwrap_or_default();
            let role = Role {
                id: role_id.clone(),
                name,
                description: String::new(),
            };
            let Some(r) = self
                .put_mapped(ROLE, &role_id, mapping::role_resource(&role, &ws))
                .await?
            else {
                continue;
            };
            self.report.synthesized_roles += 1;
            match mapping::role_member_entitlement(&r, &LabelSet::new()) {
                Ok(e) => self.put_entitlement(e).await?,
                Err(e) => self.invalid("entitlement", &role_id, &e),
            }
            self.role_resources.insert(role_id, r);
        }
        let mut seen = HashSet::new();
        for g in std::mem::take(&mut self.synth_grants) {
            let Some(role) = self.role_resources.get(&g.role_id).cloned() else {
                continue;
            };
            let key = format!("{}:{}:{}", g.labels.encode(), g.principal, g.principal_id);
            let mut per_grant = HashSet::new();
            if seen.insert((g.role_id.clone(), key)) {
                self.role_grant(
                    &role,
                    &g.role_id,
                    g.labels,
                    g.principal,
                    &g.principal_id,
                    &mut per_grant,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The roles giving entitlements on `scope`, in a deterministic order: listed roles (API
    /// order) that match by name or were seen scoped to the type, then unlisted roles seen in
    /// permissions (by id, then name). One role per slug: a later role with the same slug is
    /// reported and folded into the first.
    fn scope_roles(&mut self, scope: ScopeType) -> Vec<(String, String, String, String)> {
        let idx = scope_index(scope);
        let mut candidates: Vec<(String, String, String)> = self
            .roles
            .iter()
            .filter(|r| {
                scope.role_name_applies(&r.name) || self.observed_roles[idx].contains(&r.id)
            })
            .map(|r| (r.id.clone(), r.name.clone(), r.description.clone()))
            .collect();
        for (id, names) in &self.observed_unknown[idx] {
            for name in names {
                candidates.push((id.clone(), name.clone(), String::new()));
            }
        }
        let mut by_slug: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut out = Vec::new();
        for (id, name, description) in candidates {
            let slug = scheme::role_slug(&name, &id);
            if let Some((other_id, other_name)) = by_slug.get(&slug) {
                if other_id != &id && self.first_time(format!("slug:{scope}:{slug}:{id}")) {
                    tracing::warn!(scope_type = %scope, slug = %slug, kept = %format!("{other_name} ({other_id})"), folded = %format!("{name} ({id})"), "two roles have the same slug; they share one entitlement");
                }
                continue;
            }
            by_slug.insert(slug.clone(), (id.clone(), name.clone()));
            out.push((id, name, description, slug));
        }
        out
    }

    async fn finish_scope(&mut self, scope: ScopeType) -> Result<(), Failure> {
        let idx = scope_index(scope);
        let roles = self.scope_roles(scope);
        let descriptions: HashMap<String, String> = roles
            .iter()
            .map(|(id, _, d, _)| (id.clone(), d.clone()))
            .collect();
        let resources = std::mem::take(&mut self.scope_resources[idx]);
        let no_labels = LabelSet::new();
        for (rid, resource) in &resources {
            for (_, name, description, slug) in &roles {
                match mapping::scoped_entitlement(resource, name, description, slug, &no_labels) {
                    Ok(e) => self.put_entitlement(e).await?,
                    Err(e) => self.invalid("entitlement", rid, &e),
                }
            }
        }
        let labeled: Vec<LabeledScoped> = self
            .labeled_scoped
            .iter()
            .filter(|l| l.scope == scope)
            .cloned()
            .collect();
        let mut done: HashSet<String> = HashSet::new();
        for l in labeled {
            let Some(resource) = resources.get(&l.resource_id) else {
                continue;
            };
            let ent = SegmentEntitlement::Scoped {
                scope,
                resource_id: l.resource_id.clone(),
                role_slug: l.slug.clone(),
                labels: l.labels.clone(),
            };
            if !done.insert(ent.to_string()) {
                continue;
            }
            let description = descriptions.get(&l.role_id).cloned().unwrap_or_else(|| {
                self.role_index
                    .get(&l.role_id)
                    .map(|&i| self.roles[i].description.clone())
                    .unwrap_or_default()
            });
            match mapping::scoped_entitlement(
                resource,
                &l.role_name,
                &description,
                &l.slug,
                &l.labels,
            ) {
                Ok(e) => self.put_entitlement(e).await?,
                Err(e) => self.invalid("entitlement", &l.resource_id, &e),
            }
        }
        self.scope_resources[idx] = resources;
        Ok(())
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("workspace", &self.workspace.id)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}
