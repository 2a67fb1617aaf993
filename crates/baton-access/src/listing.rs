//! The plain listings of one sync, as rows: resources, entitlements, grants, sync runs and
//! object counts. Each has a `*_COLUMNS` constant (the stable column names).

use crate::error::Result;
use crate::expansion;
use crate::names::Names;
use crate::table::TableWriter;
use baton_c1z::{C1zReader, EntitlementFilter, GrantFilter, ResourceFilter, SyncView};
use baton_model::pb;
use std::io::Write;

/// Columns of [`resources`].
pub const RESOURCE_COLUMNS: &[&str] = &[
    "resource_type",
    "resource_id",
    "display_name",
    "parent_type",
    "parent_id",
    "description",
];

/// Every resource (of `resource_type` when given), in row order.
pub fn resources<W: Write>(
    view: &SyncView<'_>,
    resource_type: Option<&str>,
    out: &mut TableWriter<W>,
) -> Result<()> {
    let filter = ResourceFilter {
        resource_type_id: resource_type.map(str::to_owned),
        ..ResourceFilter::default()
    };
    for r in view.resources(&filter) {
        let r = r?;
        let (t, id) = ids(r.id.as_ref());
        let (pt, pid) = ids(r.parent_resource_id.as_ref());
        out.row(&[t, id, &r.display_name, pt, pid, &r.description])?;
    }
    Ok(())
}

/// Columns of [`entitlements`].
pub const ENTITLEMENT_COLUMNS: &[&str] = &[
    "entitlement_id",
    "display_name",
    "resource_type",
    "resource_id",
    "resource_name",
    "slug",
    "purpose",
    "grantable_to",
    "description",
];

/// Every entitlement (on `resource` when given), in row order.
pub fn entitlements<W: Write>(
    view: &SyncView<'_>,
    resource: Option<&pb::ResourceId>,
    out: &mut TableWriter<W>,
) -> Result<()> {
    let filter = EntitlementFilter {
        resource: resource.cloned(),
        ..EntitlementFilter::default()
    };
    for e in view.entitlements(&filter) {
        let e = e?;
        let (t, id) = ids(e.resource.as_ref().and_then(|r| r.id.as_ref()));
        let resource_name = e.resource.as_ref().map_or("", |r| r.display_name.as_str());
        let purpose = pb::entitlement::PurposeValue::try_from(e.purpose)
            .map_or_else(|_| e.purpose.to_string(), |p| p.as_str_name().to_owned());
        let grantable: Vec<&str> = e.grantable_to.iter().map(|t| t.id.as_str()).collect();
        out.row(&[
            e.id.as_str(),
            &e.display_name,
            t,
            id,
            resource_name,
            &e.slug,
            &purpose,
            &grantable.join(";"),
            &e.description,
        ])?;
    }
    Ok(())
}

/// Columns of [`grants`].
pub const GRANT_COLUMNS: &[&str] = &[
    "grant_id",
    "entitlement_id",
    "entitlement_name",
    "principal_type",
    "principal_id",
    "principal_name",
    "expands_from",
];

/// Every grant matching `filter`, in row order. `expands_from` lists the source entitlements
/// of a `GrantExpandable` grant (`;`-separated), empty otherwise.
pub fn grants<W: Write>(
    view: &SyncView<'_>,
    filter: &GrantFilter,
    out: &mut TableWriter<W>,
) -> Result<()> {
    let mut names = Names::new(view);
    for g in view.grants(filter) {
        let g = g?;
        let entitlement_id = g.entitlement.as_ref().map_or("", |e| e.id.as_str());
        let entitlement_name = names.entitlement_name(entitlement_id)?;
        let principal = g.principal.as_ref().and_then(|p| p.id.as_ref());
        let principal_name = match principal {
            Some(p) => names.resource(p)?,
            None => String::new(),
        };
        let (pt, pid) = ids(principal);
        let sources = expansion::of(&g).map(|x| x.sources.join(";"));
        out.row(&[
            g.id.as_str(),
            entitlement_id,
            &entitlement_name,
            pt,
            pid,
            &principal_name,
            sources.as_deref().unwrap_or(""),
        ])?;
    }
    Ok(())
}

/// Columns of [`syncs`].
pub const SYNC_COLUMNS: &[&str] = &[
    "sync_id",
    "started_at",
    "ended_at",
    "sync_type",
    "parent_sync_id",
    "default",
];

/// Every sync run of the file, oldest first; `default` is `yes` for the one read when no sync
/// id is given (the newest finished full sync).
pub fn syncs<W: Write>(reader: &C1zReader, out: &mut TableWriter<W>) -> Result<()> {
    let default = reader.latest_sync_run()?.map(|r| r.sync_id);
    for run in reader.sync_runs()? {
        let is_default = default.as_deref() == Some(run.sync_id.as_str());
        out.row(&[
            run.sync_id.as_str(),
            &run.started_at,
            run.ended_at.as_deref().unwrap_or(""),
            &run.sync_type,
            &run.parent_sync_id,
            if is_default { "yes" } else { "" },
        ])?;
    }
    Ok(())
}

/// Columns of [`stats`].
pub const STATS_COLUMNS: &[&str] = &["object", "count"];

/// Object counts of the sync: resource types, resources (then per type as `resources:TYPE`),
/// entitlements, grants.
pub fn stats<W: Write>(view: &SyncView<'_>, out: &mut TableWriter<W>) -> Result<()> {
    let s = view.stats()?;
    out.row(&["resource_types", &s.resource_types.to_string()])?;
    out.row(&["resources", &s.resources.to_string()])?;
    for (t, n) in &s.resources_by_type {
        out.row(&[format!("resources:{t}"), n.to_string()])?;
    }
    out.row(&["entitlements", &s.entitlements.to_string()])?;
    out.row(&["grants", &s.grants.to_string()])?;
    Ok(())
}

fn ids(id: Option<&pb::ResourceId>) -> (&str, &str) {
    id.map_or(("", ""), |id| {
        (id.resource_type.as_str(), id.resource.as_str())
    })
}
