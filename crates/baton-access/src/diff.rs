//! What changed between two syncs (of one file or of two): added and removed resources,
//! entitlements and grants, grouped by principal, with a one-line summary.
//!
//! Objects are compared by external id with a merge of the two syncs' ids in byte order (read
//! page by page through each file's unique index), so memory grows with the number of changes,
//! not with the size of the syncs. A grant whose id stays but whose content changes is not a
//! change here (Baton grant ids name the entitlement and the principal).

use crate::error::{AccessError, Result};
use crate::holdings::Named;
use crate::names::Names;
use crate::principal::resource_id;
use baton_c1z::{C1zReader, ObjectKind, SyncView};
use std::cmp::Ordering;

/// Columns of a change row (see [`Change::values`]).
pub const DIFF_COLUMNS: &[&str] = &[
    "change",
    "object",
    "id",
    "principal_type",
    "principal_id",
    "principal_name",
    "entitlement_id",
    "entitlement_name",
    "resource_type",
    "resource_id",
    "resource_name",
];

/// Whether an object appeared or disappeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// In the newer sync only.
    Added,
    /// In the older sync only.
    Removed,
}

impl ChangeKind {
    /// `added` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One added or removed object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Added or removed.
    pub kind: ChangeKind,
    /// Resource, entitlement or grant.
    pub object: ObjectKind,
    /// Its external id.
    pub id: String,
    /// The grant's principal (grants only).
    pub principal: Option<Named>,
    /// The grant's entitlement, or the entitlement itself (empty for resources).
    pub entitlement_id: String,
    /// Its display name.
    pub entitlement_name: String,
    /// The resource itself, or the resource of the entitlement.
    pub resource: Option<Named>,
}

impl Change {
    /// The row of [`DIFF_COLUMNS`].
    pub fn values(&self) -> Vec<String> {
        let (pt, pid, pname) = split(self.principal.as_ref());
        let (rt, rid, rname) = split(self.resource.as_ref());
        vec![
            self.kind.as_str().to_owned(),
            self.object.to_string(),
            self.id.clone(),
            pt,
            pid,
            pname,
            self.entitlement_id.clone(),
            self.entitlement_name.clone(),
            rt,
            rid,
            rname,
        ]
    }

    /// What the change is grouped under: the principal of a grant, else the resource.
    fn group(&self) -> String {
        self.principal
            .as_ref()
            .or(self.resource.as_ref())
            .map(Named::key)
            .unwrap_or_default()
    }

    fn object_rank(&self) -> u8 {
        match self.object {
            ObjectKind::Resource => 0,
            ObjectKind::Entitlement => 1,
            _ => 2,
        }
    }
}

fn split(n: Option<&Named>) -> (String, String, String) {
    n.map_or_else(Default::default, |n| {
        (n.resource_type.clone(), n.id.clone(), n.name.clone())
    })
}

/// Counts of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiffSummary {
    /// The older sync.
    pub from_sync: String,
    /// The newer sync.
    pub to_sync: String,
    /// Resources added.
    pub resources_added: u64,
    /// Resources removed.
    pub resources_removed: u64,
    /// Entitlements added.
    pub entitlements_added: u64,
    /// Entitlements removed.
    pub entitlements_removed: u64,
    /// Grants added.
    pub grants_added: u64,
    /// Grants removed.
    pub grants_removed: u64,
    /// Principals with at least one added or removed grant.
    pub principals: u64,
}

impl DiffSummary {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.resources_added
            + self.resources_removed
            + self.entitlements_added
            + self.entitlements_removed
            + self.grants_added
            + self.grants_removed
            == 0
    }

    /// The one-line summary.
    pub fn line(&self) -> String {
        if self.is_empty() {
            return format!(
                "no change from sync {} to sync {}",
                self.from_sync, self.to_sync
            );
        }
        format!(
            "from sync {} to sync {}: grants +{} -{} ({} principal(s)), resources +{} -{}, \
             entitlements +{} -{}",
            self.from_sync,
            self.to_sync,
            self.grants_added,
            self.grants_removed,
            self.principals,
            self.resources_added,
            self.resources_removed,
            self.entitlements_added,
            self.entitlements_removed
        )
    }
}

/// A diff: the changes (grouped by principal, then object, entitlement and id) and the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncDiff {
    /// The counts.
    pub summary: DiffSummary,
    /// The changes.
    pub changes: Vec<Change>,
}

/// The changes from `from` (older) to `to` (newer).
pub fn diff(from: &SyncView<'_>, to: &SyncView<'_>) -> Result<SyncDiff> {
    let mut old_names = Names::new(from);
    let mut new_names = Names::new(to);
    let mut changes = Vec::new();
    let mut summary = DiffSummary {
        from_sync: from.sync_id().to_owned(),
        to_sync: to.sync_id().to_owned(),
        ..DiffSummary::default()
    };
    for kind in [
        ObjectKind::Resource,
        ObjectKind::Entitlement,
        ObjectKind::Grant,
    ] {
        let (removed, added) = merge(from.external_ids(kind), to.external_ids(kind))?;
        let counts = match kind {
            ObjectKind::Resource => (&mut summary.resources_added, &mut summary.resources_removed),
            ObjectKind::Entitlement => (
                &mut summary.entitlements_added,
                &mut summary.entitlements_removed,
            ),
            _ => (&mut summary.grants_added, &mut summary.grants_removed),
        };
        *counts.0 = added.len() as u64;
        *counts.1 = removed.len() as u64;
        for id in removed {
            changes.push(describe(
                from,
                &mut old_names,
                kind,
                ChangeKind::Removed,
                id,
            )?);
        }
        for id in added {
            changes.push(describe(to, &mut new_names, kind, ChangeKind::Added, id)?);
        }
    }
    let mut principals: Vec<String> = changes
        .iter()
        .filter_map(|c| c.principal.as_ref().map(Named::key))
        .collect();
    principals.sort();
    principals.dedup();
    summary.principals = principals.len() as u64;
    changes.sort_by(|a, b| {
        a.group()
            .cmp(&b.group())
            .then(a.object_rank().cmp(&b.object_rank()))
            .then(a.entitlement_id.cmp(&b.entitlement_id))
            .then(a.id.cmp(&b.id))
            .then(a.kind.cmp(&b.kind))
    });
    Ok(SyncDiff { summary, changes })
}

/// The two newest finished full syncs of a file as `(older, newer)`: what a diff compares by
/// default. Errors with [`AccessError::NotEnoughSyncs`] when there are fewer than two.
pub fn default_pair(reader: &C1zReader) -> Result<(String, String)> {
    let mut runs: Vec<(String, String)> = reader
        .sync_runs()?
        .into_iter()
        .filter(|r| r.sync_type == "full" || r.sync_type.is_empty())
        .filter_map(|r| r.ended_at.map(|end| (end, r.sync_id)))
        .collect();
    runs.sort();
    match runs.as_slice() {
        [.., (_, older), (_, newer)] => Ok((older.clone(), newer.clone())),
        _ => Err(AccessError::NotEnoughSyncs {
            path: reader.path().to_path_buf(),
            found: runs.len(),
        }),
    }
}

/// `(only in a, only in b)` of two ascending id streams.
fn merge<A, B>(a: A, b: B) -> Result<(Vec<String>, Vec<String>)>
where
    A: Iterator<Item = baton_c1z::Result<String>>,
    B: Iterator<Item = baton_c1z::Result<String>>,
{
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(Err(_)), _) | (_, None) => Ordering::Less,
            (_, Some(Err(_))) | (None, _) => Ordering::Greater,
            (Some(Ok(x)), Some(Ok(y))) => x.as_bytes().cmp(y.as_bytes()),
        };
        match order {
            Ordering::Less => {
                if let Some(x) = a.next() {
                    only_a.push(x?);
                }
            }
            Ordering::Greater => {
                if let Some(y) = b.next() {
                    only_b.push(y?);
                }
            }
            Ordering::Equal => {
                a.next();
                b.next();
            }
        }
    }
    Ok((only_a, only_b))
}

/// A change with names, looked up in the sync that has the object.
fn describe(
    view: &SyncView<'_>,
    names: &mut Names<'_, '_>,
    object: ObjectKind,
    kind: ChangeKind,
    id: String,
) -> Result<Change> {
    let mut change = Change {
        kind,
        object,
        id,
        principal: None,
        entitlement_id: String::new(),
        entitlement_name: String::new(),
        resource: None,
    };
    let named = |names: &mut Names<'_, '_>, t: &str, id: &str| -> Result<Named> {
        Ok(Named {
            resource_type: t.to_owned(),
            id: id.to_owned(),
            name: names.resource(&resource_id(t, id))?,
        })
    };
    match object {
        ObjectKind::Resource => {
            let (t, rid) = change.id.split_once(':').unwrap_or(("", &change.id));
            change.resource = Some(named(names, t, rid)?);
        }
        ObjectKind::Entitlement => {
            if let Some(e) = names.entitlement(&change.id)? {
                change.entitlement_name = e.display_name.clone();
                if let Some(r) = e.resource.as_ref().and_then(|r| r.id.as_ref()) {
                    change.resource = Some(named(names, &r.resource_type, &r.resource)?);
                }
            }
            change.entitlement_id = change.id.clone();
        }
        _ => {
            if let Some(g) = view.get_grant(&change.id)? {
                if let Some(p) = g.principal.as_ref().and_then(|p| p.id.as_ref()) {
                    change.principal = Some(named(names, &p.resource_type, &p.resource)?);
                }
                if let Some(e) = &g.entitlement {
                    change.entitlement_id = e.id.clone();
                    change.entitlement_name = names.entitlement_name(&e.id)?;
                    if let Some(r) = e.resource.as_ref().and_then(|r| r.id.as_ref()) {
                        change.resource = Some(named(names, &r.resource_type, &r.resource)?);
                    }
                }
            }
        }
    }
    Ok(change)
}
