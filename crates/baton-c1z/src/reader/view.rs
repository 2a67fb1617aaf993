//! The sync view: listings, lookups and counts of one sync, as SQL queries on the object tables.

use super::C1zReader;
use super::keys::ExternalIds;
use super::listing::{
    EntitlementFilter, GrantFilter, MAX_PAGE_SIZE, Page, PageRequest, ResourceFilter, SyncRun,
    SyncStats,
};
use super::rows::{RawRows, Rows, raw_page};
use crate::error::{C1zError, ObjectKind, Result, SqlContext};
use crate::schema::{self, LookupIndex};
use baton_model::pb;
use prost::Message;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params_from_iter};

/// One sync of a [`C1zReader`]: listings and lookups filtered by its sync id.
#[derive(Debug, Clone)]
pub struct SyncView<'r> {
    pub(super) reader: &'r C1zReader,
    pub(super) run: SyncRun,
}

/// A query on one object table: `WHERE sync_id = ? AND <conds>`.
#[derive(Debug, Clone)]
pub(super) struct TableQuery {
    pub(super) kind: ObjectKind,
    pub(super) table: &'static str,
    pub(super) conds: String,
    pub(super) args: Vec<Value>,
    /// Lookup indexes that serve `conds`.
    pub(super) indexes: Vec<LookupIndex>,
}

impl TableQuery {
    pub(super) fn new(kind: ObjectKind) -> Self {
        let table = match kind {
            ObjectKind::ResourceType => "v1_resource_types",
            ObjectKind::Resource => "v1_resources",
            ObjectKind::Entitlement => "v1_entitlements",
            ObjectKind::Grant => "v1_grants",
        };
        Self {
            kind,
            table,
            conds: String::new(),
            args: Vec::new(),
            indexes: Vec::new(),
        }
    }

    fn eq(&mut self, column: &str, value: &str) {
        self.conds.push_str(" AND ");
        self.conds.push_str(column);
        self.conds.push_str(" = ?");
        self.args.push(Value::Text(value.to_owned()));
    }

    fn resource_id(&mut self, type_column: &str, id_column: &str, id: &pb::ResourceId) {
        self.eq(type_column, &id.resource_type);
        self.eq(id_column, &id.resource);
    }

    /// `(a, b) IN ((?, ?), ...)` over resource ids.
    fn pair_one_of(&mut self, type_column: &str, id_column: &str, ids: &[pb::ResourceId]) {
        if ids.is_empty() {
            return;
        }
        self.conds
            .push_str(&format!(" AND ({type_column}, {id_column}) IN (VALUES "));
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.conds.push_str(", ");
            }
            self.conds.push_str("(?, ?)");
            self.args.push(Value::Text(id.resource_type.clone()));
            self.args.push(Value::Text(id.resource.clone()));
        }
        self.conds.push(')');
    }

    fn one_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        self.conds.push_str(" AND ");
        self.conds.push_str(column);
        self.conds.push_str(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.conds.push_str(", ");
            }
            self.conds.push('?');
            self.args.push(Value::Text(v.clone()));
        }
        self.conds.push(')');
    }
}

fn parse_token(token: &str) -> Result<i64> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| C1zError::InvalidPageToken {
            token: token.to_owned(),
        })
}

fn effective_page_size(size: u32) -> u32 {
    if size == 0 || size > MAX_PAGE_SIZE {
        MAX_PAGE_SIZE
    } else {
        size
    }
}

impl<'r> SyncView<'r> {
    /// The sync's id.
    pub fn sync_id(&self) -> &str {
        &self.run.sync_id
    }

    /// The sync run row.
    pub fn run(&self) -> &SyncRun {
        &self.run
    }

    /// One page of `query`, decoded.
    fn page<T: Message + Default>(&self, q: &TableQuery, req: &PageRequest) -> Result<Page<T>> {
        let start = parse_token(&req.page_token)?;
        let size = effective_page_size(req.page_size);
        self.reader.ensure_indexes(&q.indexes);
        let mut raw = RawRows::default();
        let next_page_token = raw_page(
            &self.reader.conn,
            &self.run.sync_id,
            q,
            start,
            size,
            &mut raw,
        )?;
        let mut items = Vec::with_capacity(raw.rows.len());
        while let Some(item) = raw.decode_next::<T>(q.kind) {
            items.push(item?);
        }
        Ok(Page {
            items,
            next_page_token,
        })
    }

    fn get<T: Message + Default>(&self, q: &TableQuery) -> Result<Option<T>> {
        let sql = format!(
            "SELECT id, data FROM {} WHERE sync_id = ?{} ORDER BY id LIMIT 1",
            q.table, q.conds
        );
        let mut args = Vec::with_capacity(q.args.len() + 1);
        args.push(Value::Text(self.run.sync_id.clone()));
        args.extend(q.args.iter().cloned());
        let mut stmt = self
            .reader
            .conn
            .prepare_cached(&sql)
            .ctx("preparing a lookup")?;
        let row: Option<(i64, Vec<u8>)> = stmt
            .query_row(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("looking up a row")?;
        row.map(|(row_id, data)| {
            T::decode(data.as_slice()).map_err(|source| C1zError::Decode {
                kind: q.kind,
                row_id,
                source,
            })
        })
        .transpose()
    }

    fn iter<T: Message + Default>(&self, q: TableQuery) -> Rows<'_, 'r, T> {
        Rows::new(self, q)
    }

    fn resource_query(filter: &ResourceFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Resource);
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
            q.indexes.push(schema::IDX_RESOURCES_TYPE);
        }
        if let Some(p) = &filter.parent {
            q.resource_id("parent_resource_type_id", "parent_resource_id", p);
            q.indexes.push(schema::IDX_RESOURCES_PARENT);
        }
        q
    }

    fn entitlement_query(filter: &EntitlementFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Entitlement);
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
        }
        if let Some(r) = &filter.resource {
            q.resource_id("resource_type_id", "resource_id", r);
        }
        if filter.resource_type_id.is_some() || filter.resource.is_some() {
            q.indexes.push(schema::IDX_ENTITLEMENTS_RESOURCE);
        }
        q
    }

    fn grant_query(filter: &GrantFilter) -> TableQuery {
        let mut q = TableQuery::new(ObjectKind::Grant);
        if let Some(e) = &filter.entitlement_id {
            q.eq("entitlement_id", e);
            q.indexes.push(if filter.principal.is_some() {
                schema::IDX_GRANTS_ENTITLEMENT_PRINCIPAL
            } else {
                schema::IDX_GRANTS_ENTITLEMENT
            });
        }
        if let Some(t) = &filter.resource_type_id {
            q.eq("resource_type_id", t);
        }
        if let Some(r) = &filter.resource {
            q.resource_id("resource_type_id", "resource_id", r);
        }
        if filter.resource_type_id.is_some() || filter.resource.is_some() {
            q.indexes.push(schema::IDX_GRANTS_RESOURCE);
        }
        if let Some(p) = &filter.principal {
            q.resource_id("principal_resource_type_id", "principal_resource_id", p);
            if filter.entitlement_id.is_none() {
                q.indexes.push(schema::IDX_GRANTS_PRINCIPAL);
            }
        }
        q.one_of(
            "principal_resource_type_id",
            &filter.principal_resource_type_ids,
        );
        if !filter.entitlement_ids.is_empty() {
            q.one_of("entitlement_id", &filter.entitlement_ids);
            q.indexes.push(schema::IDX_GRANTS_ENTITLEMENT);
        }
        if !filter.principals.is_empty() {
            q.pair_one_of(
                "principal_resource_type_id",
                "principal_resource_id",
                &filter.principals,
            );
            q.indexes.push(schema::IDX_GRANTS_PRINCIPAL);
        }
        q
    }

    /// One page of resource types.
    pub fn list_resource_types(&self, page: &PageRequest) -> Result<Page<pb::ResourceType>> {
        self.page(&TableQuery::new(ObjectKind::ResourceType), page)
    }

    /// One page of resources matching `filter`.
    pub fn list_resources(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<pb::Resource>> {
        self.page(&Self::resource_query(filter), page)
    }

    /// One page of entitlements matching `filter`.
    pub fn list_entitlements(
        &self,
        filter: &EntitlementFilter,
        page: &PageRequest,
    ) -> Result<Page<pb::Entitlement>> {
        self.page(&Self::entitlement_query(filter), page)
    }

    /// One page of grants matching `filter`.
    pub fn list_grants(&self, filter: &GrantFilter, page: &PageRequest) -> Result<Page<pb::Grant>> {
        self.page(&Self::grant_query(filter), page)
    }

    /// Every resource type, in row order (fetched page by page).
    pub fn resource_types(&self) -> Rows<'_, 'r, pb::ResourceType> {
        self.iter(TableQuery::new(ObjectKind::ResourceType))
    }

    /// Every resource matching `filter`, in row order.
    pub fn resources(&self, filter: &ResourceFilter) -> Rows<'_, 'r, pb::Resource> {
        self.iter(Self::resource_query(filter))
    }

    /// Every entitlement matching `filter`, in row order.
    pub fn entitlements(&self, filter: &EntitlementFilter) -> Rows<'_, 'r, pb::Entitlement> {
        self.iter(Self::entitlement_query(filter))
    }

    /// Every grant matching `filter`, in row order.
    pub fn grants(&self, filter: &GrantFilter) -> Rows<'_, 'r, pb::Grant> {
        self.iter(Self::grant_query(filter))
    }

    /// Every grant to `principal`, and every grant whose data holds the bytes of `needle`, in
    /// row order: one scan of the grants for two questions. With the full name of an
    /// annotation type as `needle` (e.g. `c1.connector.v2.GrantExpandable`) the second part
    /// holds every grant carrying that annotation (its `Any` names the type), and possibly
    /// others that merely mention the name: the caller decodes and checks.
    pub fn grants_to_or_containing(
        &self,
        principal: &pb::ResourceId,
        needle: &str,
    ) -> Rows<'_, 'r, pb::Grant> {
        let mut q = TableQuery::new(ObjectKind::Grant);
        q.conds.push_str(&format!(
            " AND ((principal_resource_type_id = ? AND principal_resource_id = ?) \
             OR {}(data, ?))",
            super::functions::CONTAINS
        ));
        q.args.push(Value::Text(principal.resource_type.clone()));
        q.args.push(Value::Text(principal.resource.clone()));
        q.args.push(Value::Text(needle.to_owned()));
        self.iter(q)
    }

    /// Every external id of `kind` in this sync, in ascending byte order, read page by page
    /// through the unique `(external_id, sync_id)` index (no lookup index is built): the input
    /// of a merge-join, e.g. a diff of two syncs.
    pub fn external_ids(&self, kind: ObjectKind) -> ExternalIds<'_, 'r> {
        ExternalIds::new(self, kind)
    }

    /// The resource type with this id.
    pub fn get_resource_type(&self, id: &str) -> Result<Option<pb::ResourceType>> {
        let mut q = TableQuery::new(ObjectKind::ResourceType);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// The resource with this id.
    pub fn get_resource(&self, id: &pb::ResourceId) -> Result<Option<pb::Resource>> {
        let mut q = TableQuery::new(ObjectKind::Resource);
        q.eq("resource_type_id", &id.resource_type);
        q.eq(
            "external_id",
            &format!("{}:{}", id.resource_type, id.resource),
        );
        self.get(&q)
    }

    /// The entitlement with this id.
    pub fn get_entitlement(&self, id: &str) -> Result<Option<pb::Entitlement>> {
        let mut q = TableQuery::new(ObjectKind::Entitlement);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// The grant with this id.
    pub fn get_grant(&self, id: &str) -> Result<Option<pb::Grant>> {
        let mut q = TableQuery::new(ObjectKind::Grant);
        q.eq("external_id", id);
        self.get(&q)
    }

    /// Object counts of this sync.
    pub fn stats(&self) -> Result<SyncStats> {
        let conn = &self.reader.conn;
        let count = |table: &str| -> Result<u64> {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE sync_id = ?1"),
                    [&self.run.sync_id],
                    |r| r.get(0),
                )
                .ctx("counting rows")?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let mut stats = SyncStats {
            resource_types: count("v1_resource_types")?,
            resources: count("v1_resources")?,
            entitlements: count("v1_entitlements")?,
            grants: count("v1_grants")?,
            ..SyncStats::default()
        };
        let mut stmt = conn
            .prepare(
                "SELECT resource_type_id, count(*) FROM v1_resources WHERE sync_id = ?1
                 GROUP BY resource_type_id ORDER BY resource_type_id",
            )
            .ctx("counting resources")?;
        let rows = stmt
            .query_map([&self.run.sync_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .ctx("counting resources")?;
        for row in rows {
            let (t, n) = row.ctx("counting resources")?;
            stats
                .resources_by_type
                .insert(t, u64::try_from(n).unwrap_or(0));
        }
        Ok(stats)
    }
}
