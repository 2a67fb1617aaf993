//! Handlers of the read-only catalog: the workspace, roles, sources, warehouses, functions,
//! spaces and labels.

use serde_json::{Map, Value, json};

use super::Ctx;
use super::render::{label_json, logos_json};
use crate::model::FunctionKind;
use crate::query::{LastPage, Query, page};
use crate::reply::{ApiError, ApiOk, ApiResult, feature_off};

/// `GET /`: the token's workspace.
pub(super) fn get_workspace(ctx: &Ctx<'_>) -> ApiResult {
    Ok(ApiOk::ok(json!({"workspace": {
        "id": ctx.ws.id, "name": ctx.ws.name, "slug": ctx.ws.slug,
    }})))
}

/// `GET /roles`.
pub(super) fn list_roles(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.roles, req, false, LastPage::Omit);
    let roles: Vec<Value> = items
        .iter()
        .map(|r| json!({"id": r.id, "name": r.name, "description": r.description}))
        .collect();
    Ok(ApiOk::list(
        json!({"roles": roles, "pagination": pagination}),
    ))
}

/// `GET /sources`.
pub(super) fn list_sources(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.sources, req, true, LastPage::Omit);
    let ws_id = &ctx.ws.id;
    let sources: Vec<Value> = items
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "slug": s.slug, "name": s.name, "workspaceId": ws_id,
                "enabled": s.enabled, "writeKeys": s.write_keys, "settings": s.settings,
                "labels": s.labels.iter().map(label_json).collect::<Vec<_>>(),
                "metadata": {
                    "id": s.metadata.id, "name": s.metadata.name, "slug": s.metadata.slug,
                    "description": s.metadata.description,
                    "logos": logos_json(&s.metadata.logos),
                    "options": [], "categories": s.metadata.categories,
                    "isCloudEventSource": s.metadata.is_cloud_event_source,
                },
            })
        })
        .collect();
    Ok(ApiOk::list(
        json!({"sources": sources, "pagination": pagination}),
    ))
}

/// `GET /warehouses` (feature-gated).
pub(super) fn list_warehouses(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    if !ctx.features.warehouses {
        return Err(feature_off("Warehouses"));
    }
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.warehouses, req, true, LastPage::Null);
    let ws_id = &ctx.ws.id;
    let warehouses: Vec<Value> = items
        .iter()
        .map(|w| {
            json!({
                "id": w.id, "workspaceId": ws_id, "enabled": w.enabled, "settings": w.settings,
                "metadata": {
                    "id": w.metadata.id, "name": w.metadata.name, "slug": w.metadata.slug,
                    "description": w.metadata.description,
                    "logos": logos_json(&w.metadata.logos), "options": [],
                },
            })
        })
        .collect();
    Ok(ApiOk::list(
        json!({"warehouses": warehouses, "pagination": pagination}),
    ))
}

/// `GET /functions?resourceType=...` (feature-gated).
pub(super) fn list_functions(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    if !ctx.features.functions {
        return Err(feature_off("Functions"));
    }
    let kind = match q.get_any(&["resourceType"]) {
        None => return Err(ApiError::validation("\"resourceType\" is required", "resourceType")),
        Some(k) => FunctionKind::parse(k).ok_or_else(|| {
            ApiError::validation(
                "\"resourceType\" must be one of DESTINATION, INSERT_DESTINATION, INSERT_SOURCE, INSERT_TRANSFORMATION, SOURCE",
                "resourceType",
            )
        })?,
    };
    let req = q.pagination()?;
    let functions: Vec<Value> = ctx
        .ws
        .functions
        .iter()
        .filter(|f| f.resource_type == kind)
        .map(|f| {
            let mut o = Map::new();
            o.insert("id".into(), json!(f.id));
            o.insert("displayName".into(), json!(f.display_name));
            o.insert("description".into(), json!(f.description));
            if let Some(url) = &f.logo_url {
                o.insert("logoUrl".into(), json!(url));
            }
            o.insert("createdAt".into(), json!(f.created_at));
            o.insert("createdBy".into(), json!(f.created_by));
            o.insert("catalogId".into(), json!(f.catalog_id));
            o.insert("resourceType".into(), json!(f.resource_type.as_str()));
            Value::Object(o)
        })
        .collect();
    let (items, pagination) = page(&functions, req, false, LastPage::Omit);
    Ok(ApiOk::list(
        json!({"functions": items, "pagination": pagination}),
    ))
}

/// `GET /spaces` (alpha media type, feature-gated).
pub(super) fn list_spaces(ctx: &Ctx<'_>, q: &Query) -> ApiResult {
    if !ctx.features.spaces {
        return Err(feature_off("Spaces"));
    }
    let req = q.pagination()?;
    let (items, pagination) = page(&ctx.ws.spaces, req, true, LastPage::Omit);
    let spaces: Vec<Value> = items
        .iter()
        .map(|s| json!({"id": s.id, "slug": s.slug, "name": s.name}))
        .collect();
    let mut ok = ApiOk::list(json!({"spaces": spaces, "pagination": pagination}));
    ok.alpha = true;
    Ok(ok)
}

/// `GET /labels`: not paginated.
pub(super) fn list_labels(ctx: &Ctx<'_>) -> ApiResult {
    let labels: Vec<Value> = ctx.ws.labels.iter().map(label_json).collect();
    Ok(ApiOk::ok(json!({"labels": labels})))
}
