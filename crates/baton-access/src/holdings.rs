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
//! [`access`] finds the expandable grants a held entitlement S feeds among the grants of the
//! resource that owns S (the group of `group:G:member`), which is where every baton connector,
//! the SDK's grant builder included, puts them.

use crate::error::{AccessError, Result};
use crate::expansion::{self, Expansion};
use crate::names::Names;
use baton_c1z::{EntitlementFilter, GrantFilter, SyncView};
use baton_model::pb;
use prost::Name;
use std::collections::{BTreeSet, HashMap};

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
    let raw = holders(view, &mut names, &entitlements)?;
    finish(&mut names, raw)
}

/// Every holding of `entitlements` (several at once, e.g. for an export).
pub(crate) fn who_has_all(view: &SyncView<'_>, entitlements: &[String]) -> Result<Vec<Holding>> {
    let mut names = Names::new(view);
    let raw = holders(view, &mut names, entitlements)?;
    finish(&mut names, raw)
}

/// One step of [`holders`]: the holders of `source` hold `target` (through `via`, under the
/// conditions of `chain`); their expansions are followed when `follow`.
struct Step {
    source: String,
    target: String,
    via: Vec<(String, String)>,
    origin: Option<String>,
    chain: Vec<Expansion>,
    follow: bool,
    /// The entitlements on this path (a path never enters one twice).
    path: Vec<String>,
}

/// The walk behind [`who_has`], breadth first: the grants of every entitlement of one level
/// come from one listing (one scan of the grants when the file has no lookup index).
fn holders(
    view: &SyncView<'_>,
    names: &mut Names<'_, '_>,
    entitlements: &[String],
) -> Result<BTreeSet<Raw>> {
    let mut raw = BTreeSet::new();
    let mut level: Vec<Step> = entitlements
        .iter()
        .map(|e| Step {
            source: e.clone(),
            target: e.clone(),
            via: Vec::new(),
            origin: None,
            chain: Vec::new(),
            follow: true,
            path: vec![e.clone()],
        })
        .collect();
    while !level.is_empty() {
        let sources: BTreeSet<String> = level.iter().map(|s| s.source.clone()).collect();
        let grants = grants_of_entitlements(view, sources)?;
        let mut next = Vec::new();
        for step in &level {
            for g in grants.get(&step.source).into_iter().flatten() {
                let Some(principal) = principal_of(g) else {
                    continue;
                };
                if step.chain.iter().all(|x| x.admits(&principal.0)) {
                    raw.insert(Raw {
                        entitlement_id: step.target.clone(),
                        principal: principal.clone(),
                        via: step.via.clone(),
                        resource: entitlement_resource(g).unwrap_or_default(),
                        grant_id: step.origin.clone().unwrap_or_else(|| g.id.clone()),
                    });
                }
                if !step.follow {
                    continue;
                }
                let Some(exp) = expansion::of(g) else {
                    continue;
                };
                for s in &exp.sources {
                    if step.path.contains(s) {
                        continue;
                    }
                    let owner = names
                        .entitlement(s)?
                        .and_then(|e| e.resource)
                        .and_then(|r| r.id)
                        .map(|id| pair(&id))
                        .unwrap_or_else(|| principal.clone());
                    let mut via = step.via.clone();
                    via.push(owner);
                    let mut chain = step.chain.clone();
                    chain.push(exp.clone());
                    let mut path = step.path.clone();
                    path.push(s.clone());
                    next.push(Step {
                        source: s.clone(),
                        target: step.target.clone(),
                        via,
                        origin: Some(step.origin.clone().unwrap_or_else(|| g.id.clone())),
                        chain,
                        follow: !exp.shallow,
                        path,
                    });
                }
            }
        }
        level = next;
    }
    Ok(raw)
}

/// Entitlement ids per listing (bounded SQL parameter lists).
const BATCH: usize = 500;

/// The grants of each of `entitlements`.
fn grants_of_entitlements(
    view: &SyncView<'_>,
    entitlements: BTreeSet<String>,
) -> Result<HashMap<String, Vec<pb::Grant>>> {
    let all: Vec<String> = entitlements.into_iter().collect();
    let mut out: HashMap<String, Vec<pb::Grant>> = HashMap::new();
    for chunk in all.chunks(BATCH) {
        let filter = GrantFilter {
            entitlement_ids: chunk.to_vec(),
            ..GrantFilter::default()
        };
        for g in view.grants(&filter) {
            let g = g?;
            let id = g
                .entitlement
                .as_ref()
                .map(|e| e.id.clone())
                .unwrap_or_default();
            out.entry(id).or_default().push(g);
        }
    }
    Ok(out)
}

/// An entitlement a principal holds, and how.
struct Held {
    entitlement: String,
    via: Vec<(String, String)>,
    path: Vec<String>,
}

/// Most expandable grants [`access`] keeps from its first scan; past this it forgets them and
/// lists the grants of the groups it meets level by level instead (bounded memory).
const MAX_EXPANDABLE: usize = 100_000;

/// Everything `principal` holds, directly or inherited, sorted by entitlement and path.
///
/// One scan of the grants finds both the principal's grants and every expandable grant of the
/// sync (grouped by the group holding it), and the walk over the levels of inheritance then
/// needs no further listing. A sync with more than [`MAX_EXPANDABLE`] expandable grants is
/// walked breadth first instead: one listing per level for the grants of every owner (group)
/// met on that level.
pub fn access(view: &SyncView<'_>, principal: &pb::ResourceId) -> Result<Vec<Holding>> {
    access_within(view, principal, MAX_EXPANDABLE)
}

/// [`access`], keeping at most `max_expandable` expandable grants from the first scan.
fn access_within(
    view: &SyncView<'_>,
    principal: &pb::ResourceId,
    max_expandable: usize,
) -> Result<Vec<Holding>> {
    let mut names = Names::new(view);
    let me = pair(principal);
    let mut raw = BTreeSet::new();
    let mut level = Vec::new();
    // Expandable grants held by each owner of a source entitlement; `complete` when it holds
    // those of every owner (an owner missing from it then holds none).
    let mut expandable: HashMap<(String, String), Vec<(pb::Grant, Expansion)>> = HashMap::new();
    let mut kept = 0usize;
    let mut complete = true;
    for g in view.grants_to_or_containing(principal, &pb::GrantExpandable::full_name()) {
        let g = g?;
        let holder = principal_of(&g);
        if complete && let (Some(x), Some(p)) = (expansion::of(&g), holder.clone()) {
            kept += 1;
            if kept > max_expandable {
                complete = false;
                expandable.clear();
            } else {
                expandable.entry(p).or_default().push((g.clone(), x));
            }
        }
        if holder.as_ref() != Some(&me) {
            continue;
        }
        let Some(e) = &g.entitlement else { continue };
        raw.insert(Raw {
            entitlement_id: e.id.clone(),
            principal: me.clone(),
            via: Vec::new(),
            resource: entitlement_resource(&g).unwrap_or_default(),
            grant_id: g.id.clone(),
        });
        level.push(Held {
            entitlement: e.id.clone(),
            via: Vec::new(),
            path: vec![e.id.clone()],
        });
    }
    while !level.is_empty() {
        let mut owners = Vec::with_capacity(level.len());
        for held in &level {
            owners.push(
                names
                    .entitlement(&held.entitlement)?
                    .and_then(|e| e.resource)
                    .and_then(|r| r.id)
                    .map(|id| pair(&id)),
            );
        }
        if !complete {
            let missing: BTreeSet<(String, String)> = owners
                .iter()
                .flatten()
                .filter(|o| !expandable.contains_key(*o))
                .cloned()
                .collect();
            load_expandable(view, missing, &mut expandable)?;
        }
        let mut next = Vec::new();
        for (held, owner) in level.iter().zip(owners) {
            let Some(owner) = owner else { continue };
            for (g, x) in expandable.get(&owner).into_iter().flatten() {
                if !x.sources.contains(&held.entitlement)
                    || (x.shallow && !held.via.is_empty())
                    || !x.admits(&me.0)
                {
                    continue;
                }
                let Some(e) = &g.entitlement else { continue };
                // A loop back to an entitlement already on this path adds nothing.
                if held.path.contains(&e.id) {
                    continue;
                }
                let mut via = vec![owner.clone()];
                via.extend(held.via.iter().cloned());
                raw.insert(Raw {
                    entitlement_id: e.id.clone(),
                    principal: me.clone(),
                    via: via.clone(),
                    resource: entitlement_resource(g).unwrap_or_default(),
                    grant_id: g.id.clone(),
                });
                let mut path = held.path.clone();
                path.push(e.id.clone());
                next.push(Held {
                    entitlement: e.id.clone(),
                    via,
                    path,
                });
            }
        }
        level = next;
    }
    finish(&mut names, raw)
}

/// Lists the grants of `owners` (as principals) and keeps the expandable ones, per owner.
fn load_expandable(
    view: &SyncView<'_>,
    owners: BTreeSet<(String, String)>,
    into: &mut HashMap<(String, String), Vec<(pb::Grant, Expansion)>>,
) -> Result<()> {
    let owners: Vec<(String, String)> = owners.into_iter().collect();
    for chunk in owners.chunks(BATCH) {
        for o in chunk {
            into.entry(o.clone()).or_default();
        }
        let filter = GrantFilter {
            principals: chunk.iter().map(rid).collect(),
            ..GrantFilter::default()
        };
        for g in view.grants(&filter) {
            let g = g?;
            let (Some(x), Some(p)) = (expansion::of(&g), principal_of(&g)) else {
                continue;
            };
            into.entry(p).or_default().push((g, x));
        }
    }
    Ok(())
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

/// The hand-built workspace of the integration tests.
#[cfg(test)]
#[allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]
#[path = "../tests/integration/common.rs"]
mod fixture;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::fixture;
    use super::*;
    use baton_c1z::{C1zReader, ReaderOptions};

    /// The walk without the first scan's expandable grants (the fallback past
    /// [`MAX_EXPANDABLE`]) finds exactly what the one-scan walk finds, for every principal.
    #[test]
    fn access_past_the_expandable_bound_lists_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ws.c1z");
        let data = fixture::workspace();
        fixture::write(&path, &data);
        let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
        let view = reader.latest().unwrap();
        let mut inherited = 0;
        for r in &data.resources {
            let id = r.id.as_ref().unwrap();
            let one_scan = access_within(&view, id, MAX_EXPANDABLE).unwrap();
            for bound in [0, 1] {
                assert_eq!(access_within(&view, id, bound).unwrap(), one_scan, "{id:?}");
            }
            inherited += one_scan.iter().filter(|h| !h.via.is_empty()).count();
        }
        assert!(inherited >= 5, "{inherited}");
    }
}
