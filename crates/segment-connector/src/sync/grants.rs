//! The handlers of listed objects: resources as they arrive, and the membership, invite and
//! permission grants (waiting for the listings they need when those have not finished).

use std::collections::HashSet;

use baton_model::pb;
use segment_api::{MinimalUser, Page, Permission, ResourceKind, Role, User, UserGroup};
use segment_scheme::{
    self as scheme, GROUP, INVITE, LabelSet, PrincipalType, ROLE, ScopeType, SegmentEntitlement,
    USER, mapping,
};

use super::Failure;
use super::scheduling::Req;
use super::state::{Engine, LabeledScoped, SynthGrant, scope_index};

impl Engine {
    pub(super) async fn on_roles(&mut self, roles: &[Role]) -> Result<(), Failure> {
        self.counts.sizes.roles = roles.len() as u64;
        let ws = self.ws_ref.clone();
        for role in roles {
            if self.listed.role_index.contains_key(&role.id) {
                continue;
            }
            self.listed
                .role_index
                .insert(role.id.clone(), self.listed.roles.len());
            self.listed.roles.push(role.clone());
            if self.plan.roles
                && let Some(r) = self
                    .put_mapped(ROLE, &role.id, mapping::role_resource(role, &ws))
                    .await?
            {
                match mapping::role_member_entitlement(&r, &LabelSet::new()) {
                    Ok(e) => self.put_entitlement(e).await?,
                    Err(e) => self.invalid("entitlement", &role.id, &e),
                }
                self.listed.role_resources.insert(role.id.clone(), r);
            }
        }
        self.readiness.roles_done = true;
        Ok(())
    }

    pub(super) async fn on_users(&mut self, page: Page<User>) -> Result<(), Failure> {
        self.counts.sizes.users += page.items.len() as u64;
        let ws = self.ws_ref.clone();
        for user in &page.items {
            let mapped = mapping::user_resource(user, &ws);
            if self.put_mapped(USER, &user.id, mapped).await?.is_none() {
                continue;
            }
            self.listed.user_ids.insert(user.id.clone());
            if self.ws_resource.is_some() {
                self.workspace_member_grant(&user.id).await?;
            } else {
                self.waiting.pending_ws_members.push(user.id.clone());
            }
            if self.plan.get_users() {
                self.schedule.low.push_back(Req::GetUser(user.id.clone()));
            }
        }
        match page.next {
            Some(next) => self.schedule.high.push_front(Req::Users(Some(next))),
            None => self.readiness.users_done = true,
        }
        Ok(())
    }

    pub(super) async fn workspace_member_grant(&mut self, user_id: &str) -> Result<(), Failure> {
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

    pub(super) async fn on_groups(&mut self, page: Page<UserGroup>) -> Result<(), Failure> {
        self.counts.sizes.groups += page.items.len() as u64;
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
            self.listed.groups.insert(group.id.clone(), r);
            if self.plan.get_groups() {
                self.schedule.low.push_back(Req::GetGroup(group.id.clone()));
            }
            if self.plan.group_members() {
                self.counts.group_members.insert(group.id.clone(), 0);
                self.schedule
                    .low
                    .push_back(Req::Members(group.id.clone(), None));
            }
            if self.plan.group_invites() {
                self.counts.group_invites.insert(group.id.clone(), 0);
                self.schedule
                    .low
                    .push_back(Req::GroupInvites(group.id.clone(), None));
            }
        }
        if let Some(next) = page.next {
            self.schedule.high.push_front(Req::Groups(Some(next)));
        }
        Ok(())
    }

    pub(super) async fn on_members(
        &mut self,
        gid: String,
        page: Page<MinimalUser>,
    ) -> Result<(), Failure> {
        *self.counts.group_members.entry(gid.clone()).or_default() += page.items.len() as u64;
        if let Some(next) = page.next {
            self.schedule
                .low
                .push_front(Req::Members(gid.clone(), Some(next)));
        }
        if self.readiness.users_done {
            self.member_grants(&gid, page.items).await
        } else {
            self.waiting.pending_members.push((gid, page.items));
            Ok(())
        }
    }

    /// The stub of group `gid`'s member entitlement, the target of its membership and
    /// invite grants; `None` (counted as invalid where the id is unusable) when the group was
    /// not listed or its entitlement id cannot be built.
    pub(super) fn group_member_stub(&mut self, gid: &str) -> Option<pb::Entitlement> {
        let group = self.listed.groups.get(gid).cloned()?;
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

    pub(super) async fn member_grants(
        &mut self,
        gid: &str,
        members: Vec<MinimalUser>,
    ) -> Result<(), Failure> {
        let Some(stub) = self.group_member_stub(gid) else {
            return Ok(());
        };
        let mut seen = HashSet::new();
        for m in members {
            if !self.listed.user_ids.contains(&m.id) {
                self.counts.report.unresolved_members += 1;
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

    pub(super) async fn on_group_invites(
        &mut self,
        gid: String,
        page: Page<String>,
    ) -> Result<(), Failure> {
        *self.counts.group_invites.entry(gid.clone()).or_default() += page.items.len() as u64;
        if let Some(next) = page.next {
            self.schedule
                .low
                .push_front(Req::GroupInvites(gid.clone(), Some(next)));
        }
        if self.readiness.invites_done {
            self.group_invite_grants(&gid, page.items).await
        } else {
            self.waiting.pending_group_invites.push((gid, page.items));
            Ok(())
        }
    }

    /// The listed invite id matching `email` case-insensitively (an exact match first, else
    /// the smallest).
    pub(super) fn match_invite(&self, email: &str) -> Option<String> {
        let candidates = self.listed.invites_lower.get(&email.to_lowercase())?;
        if candidates.contains(email) {
            return Some(email.to_owned());
        }
        candidates.iter().next().cloned()
    }

    pub(super) async fn group_invite_grants(
        &mut self,
        gid: &str,
        emails: Vec<String>,
    ) -> Result<(), Failure> {
        let Some(stub) = self.group_member_stub(gid) else {
            return Ok(());
        };
        let mut seen = HashSet::new();
        for email in emails {
            let Some(invite) = self.match_invite(&email) else {
                self.counts.report.unmatched_group_invites += 1;
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

    pub(super) async fn on_invites(&mut self, page: Page<String>) -> Result<(), Failure> {
        self.counts.sizes.invites += page.items.len() as u64;
        let ws = self.ws_ref.clone();
        for email in &page.items {
            let mapped = mapping::invite_resource(email, &ws);
            if self.put_mapped(INVITE, email, mapped).await?.is_some() {
                self.listed
                    .invites_lower
                    .entry(email.to_lowercase())
                    .or_default()
                    .insert(email.clone());
            }
        }
        match page.next {
            Some(next) => self.schedule.high.push_front(Req::Invites(Some(next))),
            None => self.readiness.invites_done = true,
        }
        Ok(())
    }

    pub(super) async fn on_permissions(
        &mut self,
        ptype: PrincipalType,
        pid: String,
        perms: Vec<Permission>,
    ) -> Result<(), Failure> {
        if self.perms_ready() {
            self.permission_grants(ptype, &pid, &perms).await
        } else {
            self.waiting.pending_perms.push((ptype, pid, perms));
            Ok(())
        }
    }

    /// The grants of one principal's permissions.
    pub(super) async fn permission_grants(
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
                            self.counts.report.skipped_permissions += 1;
                            *self
                                .counts
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

    pub(super) async fn workspace_permission(
        &mut self,
        perm: &Permission,
        resource_id: &str,
        labels: LabelSet,
        ptype: PrincipalType,
        pid: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(), Failure> {
        if !self.plan.roles {
            self.counts.report.filtered_grants += 1;
            return Ok(());
        }
        if resource_id != self.workspace.id {
            self.counts.report.unresolved_scopes += 1;
            if self.first_time(format!("foreign-ws:{resource_id}")) {
                tracing::warn!(
                    resource_id,
                    "a WORKSPACE permission names another workspace; skipping it (logged once)"
                );
            }
            return Ok(());
        }
        let Some(role) = self.listed.role_resources.get(&perm.role_id).cloned() else {
            if !self.listed.role_index.contains_key(&perm.role_id) {
                if self.first_time(format!("synth-role:{}", perm.role_id)) {
                    tracing::warn!(role_id = %perm.role_id, role_name = %perm.role_name, "a permission names a role missing from the role list; synthesising it");
                }
                self.end
                    .synth_roles
                    .entry(perm.role_id.clone())
                    .or_default()
                    .insert(perm.role_name.clone());
                self.end.synth_grants.push(SynthGrant {
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

    pub(super) async fn role_grant(
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
        if !labels.is_empty() && !self.end.emitted_role_labels.contains(&id) {
            match mapping::role_member_entitlement(role, &labels) {
                Ok(e) => {
                    self.end.emitted_role_labels.insert(id.clone());
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
    pub(super) async fn scoped_permission(
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
            self.counts.report.filtered_grants += 1;
            return Ok(());
        }
        let idx = scope_index(scope);
        let Some(scope_res) = self.listed.scope_resources[idx].get(resource_id).cloned() else {
            self.counts.report.unresolved_scopes += 1;
            if self.first_time(format!("unresolved:{scope}:{resource_id}")) {
                tracing::warn!(scope_type = %scope, resource_id, "a permission is scoped to a resource missing from its listing; its grant is skipped (logged once per resource)");
            }
            return Ok(());
        };
        let role_name = match self.listed.role_index.get(&perm.role_id) {
            Some(&i) => {
                self.end.observed_roles[idx].insert(perm.role_id.clone());
                self.listed.roles[i].name.clone()
            }
            None => {
                if self.first_time(format!("unknown-scoped-role:{}", perm.role_id)) {
                    tracing::warn!(role_id = %perm.role_id, role_name = %perm.role_name, "a scoped permission names a role missing from the role list; using its name from the permission");
                }
                self.end.observed_unknown[idx]
                    .entry(perm.role_id.clone())
                    .or_default()
                    .insert(perm.role_name.clone());
                perm.role_name.clone()
            }
        };
        let slug = scheme::role_slug(&role_name, &perm.role_id);
        if !labels.is_empty() {
            self.end.labeled_scoped.insert(LabeledScoped {
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
}
