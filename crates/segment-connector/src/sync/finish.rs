//! End-of-sync work: the roles seen only in permissions, and the scoped entitlements written
//! once every permission has been read.

use std::collections::{BTreeMap, HashMap, HashSet};

use segment_api::Role;
use segment_scheme::{self as scheme, LabelSet, ROLE, ScopeType, SegmentEntitlement, mapping};

use super::Failure;
use super::state::{Engine, LabeledScoped, scope_index};

impl Engine {
    /// Writes the synthesised roles with their grants, then the entitlements of the scoped
    /// types (every resource x every role that applies to its type).
    pub(super) async fn finish_scoped(&mut self) -> Result<(), Failure> {
        self.finish_synthesized_roles().await?;
        for scope in ScopeType::ALL {
            if self.scope_synced(scope) {
                self.finish_scope(scope).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn finish_synthesized_roles(&mut self) -> Result<(), Failure> {
        let ws = self.ws_ref.clone();
        for (role_id, names) in std::mem::take(&mut self.end.synth_roles) {
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
            self.counts.report.synthesized_roles += 1;
            match mapping::role_member_entitlement(&r, &LabelSet::new()) {
                Ok(e) => self.put_entitlement(e).await?,
                Err(e) => self.invalid("entitlement", &role_id, &e),
            }
            self.listed.role_resources.insert(role_id, r);
        }
        let mut seen = HashSet::new();
        for g in std::mem::take(&mut self.end.synth_grants) {
            let Some(role) = self.listed.role_resources.get(&g.role_id).cloned() else {
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
    pub(super) fn scope_roles(
        &mut self,
        scope: ScopeType,
    ) -> Vec<(String, String, String, String)> {
        let idx = scope_index(scope);
        let mut candidates: Vec<(String, String, String)> = self
            .listed
            .roles
            .iter()
            .filter(|r| {
                scope.role_name_applies(&r.name) || self.end.observed_roles[idx].contains(&r.id)
            })
            .map(|r| (r.id.clone(), r.name.clone(), r.description.clone()))
            .collect();
        for (id, names) in &self.end.observed_unknown[idx] {
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

    pub(super) async fn finish_scope(&mut self, scope: ScopeType) -> Result<(), Failure> {
        let idx = scope_index(scope);
        let roles = self.scope_roles(scope);
        let descriptions: HashMap<String, String> = roles
            .iter()
            .map(|(id, _, d, _)| (id.clone(), d.clone()))
            .collect();
        let resources = std::mem::take(&mut self.listed.scope_resources[idx]);
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
            .end
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
                self.listed
                    .role_index
                    .get(&l.role_id)
                    .map(|&i| self.listed.roles[i].description.clone())
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
        self.listed.scope_resources[idx] = resources;
        Ok(())
    }
}
