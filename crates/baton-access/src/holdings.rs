//! Who holds an entitlement ([`who_has`]) and what a principal holds ([`access`]), directly or
//! inherited through `GrantExpandable` grants (group membership), with the path of each
//! inherited holding.
//!
//! Expansion follows the Go SDK's semantics: a grant of entitlement E carrying
//! `GrantExpandable{entitlement_ids: [S…], shallow, resource_type_ids}` gives E to every holder
//! of a source S, transitively (a holder of S through another expansion inherits too) unless
//! `shallow` (then only direct holders of S), and only to principals of the listed types when
//! the list is not empty. A chain of expansions applies every condition on it. Loops (S
//! inheriting from E again) are cut: an entitlement is never entered twice on one path.
//!
//! [`access`] finds the expandable grants a held entitlement S feeds by listing the grants of
//! the resource that owns S (the group of `group:G:member`), which is where every baton
//! connector, the SDK's grant builder included, puts them.

use crate::error::{AccessError, Result};
use crate::expansion::{self, Expansion};
use crate::names::Names;
use baton_c1z::{EntitlementFilter, GrantFilter, SyncView};
use baton_model::pb;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Columns of a holding row (see [`Holding::values`]).
pub const HOLDING_COLUMNS: &[&str] = &[
    "principal_type",
    "principal_id",
    "principal_name",
    "entitlement_id",
    "entitlement_name",
    "resource_type",
    "resource_id",
    "resource_name",
    "path",
    "via",
    "grant_id",
];

/// A resource with its display name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named {
    /// Resource type id.
    pub resource_type: String,
    /// Resource id.
    pub id: String,
    /// Display name (`""` when the sync has none).
    pub name: String,
}

impl Named {
    /// `TYPE:ID`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.resource_type, self.id)
    }

    /// `TYPE NAME` (the id when there is no name), e.g. `group Engineering`.
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        };
        format!("{} {name}", self.resource_type)
    }
}

/// One principal holding one entitlement, directly or through groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// Who holds it.
    pub principal: Named,
    /// The entitlement held.
    pub entitlement_id: String,
    /// Its display name.
    pub entitlement_name: String,
    /// The resource the entitlement is on.
    pub resource: Named,
    /// The groups (resources owning the source entitlements) it is inherited through, the one
    /// holding the entitlement first; empty when held directly.
    pub via: Vec<Named>,
    /// The grant that gives it: the principal's own grant, or the expandable grant inherited.
    pub grant_id: String,
}

impl Holding {
    /// `direct`, or `via group Engineering` (`>` between the steps of a longer chain).
    pub fn path(&self) -> String {
        if self.via.is_empty() {
            return "direct".to_owned();
        }
        let steps: Vec<String> = self.via.iter().map(Named::label).collect();
        format!("via {}", steps.join(" > "))
    }

    /// The row of [`HOLDING_COLUMNS`]; `via` is the ids of the path (`TYPE:ID > TYPE:ID`).
    pub fn values(&self) -> Vec<String> {
        let via: Vec<String> = self.via.iter().map(Named::key).collect();
        vec![
            self.principal.resource_type.clone(),
            self.principal.id.clone(),
            self.principal.name.clone(),
            self.entitlement_id.clone(),
            self.entitlement_name.clone(),
            self.resource.resource_type.clone(),
            self.resource.id.clone(),
            self.resource.name.clone(),
            self.path(),
            via.join(" > "),
            self.grant_id.clone(),
        ]
    }
}

/// A holding before names are looked up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Raw {
    entitlement_id: String,
    principal: (String, String),
    via: Vec<(String, String)>,
    resource: (String, String),
    grant_id: String,
}

fn pair(id: &pb::ResourceId) -> (String, String) {
    (id.resource_type.clone(), id.resource.clone())
}

fn rid(pair: &(String, String)) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: pair.0.clone(),
        resource: pair.1.clone(),
        ..Default::default()
    }
}

/// The resource a grant's entitlement is on.
fn entitlement_resource(g: &pb::Grant) -> Option<(String, String)> {
    g.entitlement
        .as_ref()
        .and_then(|e| e.resource.as_ref())
        .and_then(|r| r.id.as_ref())
        .map(pair)
}

fn principal_of(g: &pb::Grant) -> Option<(String, String)> {
    g.principal.as_ref().and_then(|p| p.id.as_ref()).map(pair)
}

/// Every principal holding `target` (an entitlement id, or `TYPE:ID` of a resource: then every
/// entitlement on it), directly or inherited, sorted by entitlement, principal and path.
pub fn who_has(view: &SyncView<'_>, target: &str) -> Result<Vec<Holding>> {
    let mut names = Names::new(view);
    let entitlements: Vec<String> = if names.entitlement(target)?.is_some() {
        vec![target.to_owned()]
    } else {
        let resource = target
            .split_once(':')
            .map(|(t, id)| rid(&(t.to_owned(), id.to_owned())));
        match resource {
            Some(r) if view.get_resource(&r)?.is_some() => {
                let filter = EntitlementFilter {
                    resource: Some(r),
                    ..EntitlementFilter::default()
                };
                view.entitlements(&filter)
                    .map(|e| e.map(|e| e.id))
                    .collect::<Result<_, _>>()?
            }
            _ => {
                return Err(AccessError::TargetNotFound {
                    query: target.to_owned(),
                    sync_id: view.sync_id().to_owned(),
                });
            }
        }
    };
    let mut raw = BTreeSet::new();
    for e in &entitlements {
        let mut walk = Holders {
            view,
            names: &mut names,
            target: e,
            out: &mut raw,
            visiting: HashSet::from([e.clone()]),
        };
        walk.holders(e, &[], None, &[], true)?;
    }
    finish(&mut names, raw)
}

/// The recursive walk of [`who_has`] for one target entitlement.
struct Holders<'a, 'v, 'r> {
    view: &'v SyncView<'r>,
    names: &'a mut Names<'v, 'r>,
    target: &'a str,
    out: &'a mut BTreeSet<Raw>,
    visiting: HashSet<String>,
}

impl Holders<'_, '_, '_> {
    /// Records the holders of `source` as holders of the target (through `via`, under the
    /// conditions of `chain`), following expansions when `follow`.
    fn holders(
        &mut self,
        source: &str,
        via: &[(String, String)],
        origin: Option<&str>,
        chain: &[Expansion],
        follow: bool,
    ) -> Result<()> {
        let filter = GrantFilter {
            entitlement_id: Some(source.to_owned()),
            ..GrantFilter::default()
        };
        let grants: Vec<pb::Grant> = self.view.grants(&filter).collect::<Result<_, _>>()?;
        for g in &grants {
            let Some(principal) = principal_of(g) else {
                continue;
            };
            if chain.iter().all(|x| x.admits(&principal.0)) {
                let resource = if via.is_empty() {
                    entitlement_resource(g)
                } else {
                    None
                };
                self.out.insert(Raw {
                    entitlement_id: self.target.to_owned(),
                    principal: principal.clone(),
                    via: via.to_vec(),
                    resource: resource.unwrap_or_default(),
                    grant_id: origin.unwrap_or(&g.id).to_owned(),
                });
            }
            if !follow {
                continue;
            }
            let Some(exp) = expansion::of(g) else {
                continue;
            };
            for s in &exp.sources {
                if !self.visiting.insert(s.clone()) {
                    continue;
                }
                let owner = self
                    .names
                    .entitlement(s)?
                    .and_then(|e| e.resource)
                    .and_then(|r| r.id)
                    .map(|id| pair(&id))
                    .unwrap_or_else(|| principal.clone());
                let mut next_via = via.to_vec();
                next_via.push(owner);
                let mut next_chain = chain.to_vec();
                next_chain.push(exp.clone());
                let result = self.holders(
                    s,
                    &next_via,
                    Some(origin.unwrap_or(&g.id)),
                    &next_chain,
                    !exp.shallow,
                );
                self.visiting.remove(s);
                result?;
            }
        }
        Ok(())
    }
}

/// Everything `principal` holds, directly or inherited, sorted by entitlement and path.
pub fn access(view: &SyncView<'_>, principal: &pb::ResourceId) -> Result<Vec<Holding>> {
    let mut names = Names::new(view);
    let me = pair(principal);
    let filter = GrantFilter {
        principal: Some(principal.clone()),
        ..GrantFilter::default()
    };
    let direct: Vec<pb::Grant> = view.grants(&filter).collect::<Result<_, _>>()?;
    let mut raw = BTreeSet::new();
    let mut walk = Inherit {
        view,
        names: &mut names,
        principal: &me,
        expandable_by_owner: HashMap::new(),
        out: &mut raw,
        visiting: HashSet::new(),
    };
    for g in &direct {
        let Some(e) = &g.entitlement else { continue };
        walk.out.insert(Raw {
            entitlement_id: e.id.clone(),
            principal: me.clone(),
            via: Vec::new(),
            resource: entitlement_resource(g).unwrap_or_default(),
            grant_id: g.id.clone(),
        });
        walk.visiting.insert(e.id.clone());
        let result = walk.inherit(&e.id, &[]);
        walk.visiting.remove(&e.id);
        result?;
    }
    finish(&mut names, raw)
}

/// The recursive walk of [`access`].
struct Inherit<'a, 'v, 'r> {
    view: &'v SyncView<'r>,
    names: &'a mut Names<'v, 'r>,
    principal: &'a (String, String),
    /// Expandable grants of each resource (owner of source entitlements), with their expansion.
    expandable_by_owner: HashMap<(String, String), Vec<(pb::Grant, Expansion)>>,
    out: &'a mut BTreeSet<Raw>,
    visiting: HashSet<String>,
}

impl Inherit<'_, '_, '_> {
    /// Records what holding `held` (through `via`) gives by expansion, transitively.
    fn inherit(&mut self, held: &str, via: &[(String, String)]) -> Result<()> {
        let Some(owner) = self
            .names
            .entitlement(held)?
            .and_then(|e| e.resource)
            .and_then(|r| r.id)
            .map(|id| pair(&id))
        else {
            return Ok(());
        };
        if !self.expandable_by_owner.contains_key(&owner) {
            let filter = GrantFilter {
                principal: Some(rid(&owner)),
                ..GrantFilter::default()
            };
            let mut found = Vec::new();
            for g in self.view.grants(&filter) {
                let g = g?;
                if let Some(x) = expansion::of(&g) {
                    found.push((g, x));
                }
            }
            self.expandable_by_owner.insert(owner.clone(), found);
        }
        let feeds: Vec<(pb::Grant, Expansion)> = self
            .expandable_by_owner
            .get(&owner)
            .map(|v| {
                v.iter()
                    .filter(|(_, x)| x.sources.iter().any(|s| s == held))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for (g, x) in feeds {
            if (x.shallow && !via.is_empty()) || !x.admits(&self.principal.0) {
                continue;
            }
            let Some(e) = &g.entitlement else { continue };
            let mut next_via = vec![owner.clone()];
            next_via.extend(via.iter().cloned());
            self.out.insert(Raw {
                entitlement_id: e.id.clone(),
                principal: self.principal.clone(),
                via: next_via.clone(),
                resource: entitlement_resource(&g).unwrap_or_default(),
                grant_id: g.id.clone(),
            });
            if self.visiting.insert(e.id.clone()) {
                let result = self.inherit(&e.id, &next_via);
                self.visiting.remove(&e.id);
                result?;
            }
        }
        Ok(())
    }
}

/// Names the raw holdings, in order.
fn finish(names: &mut Names<'_, '_>, raw: BTreeSet<Raw>) -> Result<Vec<Holding>> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        let named = |names: &mut Names<'_, '_>, p: &(String, String)| -> Result<Named> {
            Ok(Named {
                resource_type: p.0.clone(),
                id: p.1.clone(),
                name: if p.0.is_empty() {
                    String::new()
                } else {
                    names.resource(&rid(p))?
                },
            })
        };
        let entitlement = names.entitlement(&r.entitlement_id)?;
        let resource = match entitlement
            .as_ref()
            .and_then(|e| e.resource.as_ref())
            .and_then(|x| x.id.as_ref())
        {
            Some(id) => pair(id),
            None => r.resource.clone(),
        };
        let via = r
            .via
            .iter()
            .map(|v| named(names, v))
            .collect::<Result<Vec<_>>>()?;
        out.push(Holding {
            principal: named(names, &r.principal)?,
            entitlement_name: entitlement.map(|e| e.display_name).unwrap_or_default(),
            entitlement_id: r.entitlement_id,
            resource: named(names, &resource)?,
            via,
            grant_id: r.grant_id,
        });
    }
    Ok(out)
}
