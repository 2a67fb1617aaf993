//! Reading c1z files for assertions: a stable text rendering of a sync (one sorted line per
//! resource type, resource, entitlement and grant, with their key fields) and a referential
//! integrity check.

use std::collections::BTreeSet;
use std::path::Path;

use baton_c1z::{C1zReader, EntitlementFilter, GrantFilter, ReaderOptions, ResourceFilter};
use baton_model::{annotations, pb};
use prost_types::value::Kind;
use prost_types::{Any, Struct, Value};

/// Opens a c1z file.
pub(crate) fn open(path: &Path) -> C1zReader {
    C1zReader::open(path, ReaderOptions::default()).unwrap()
}

fn rid(id: Option<&pb::ResourceId>) -> String {
    id.map_or_else(
        || "-".to_owned(),
        |r| format!("{}:{}", r.resource_type, r.resource),
    )
}

fn value(v: &Value) -> String {
    match &v.kind {
        Some(Kind::StringValue(s)) => format!("{s:?}"),
        Some(Kind::NumberValue(n)) => format!("{n}"),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::NullValue(_)) => "null".to_owned(),
        Some(Kind::ListValue(l)) => format!(
            "[{}]",
            l.values.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
        Some(Kind::StructValue(s)) => profile(s),
        None => "none".to_owned(),
    }
}

fn profile(s: &Struct) -> String {
    let fields: Vec<String> = s
        .fields
        .iter()
        .map(|(k, v)| format!("{k}={}", value(v)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn opt_profile(s: Option<&Struct>) -> String {
    s.map_or_else(|| "none".to_owned(), profile)
}

fn annotation(any: &Any) -> String {
    if let Ok(Some(t)) = annotations::unpack::<pb::UserTrait>(any) {
        let emails: Vec<String> = t
            .emails
            .iter()
            .map(|e| format!("{}{}", e.address, if e.is_primary { "*" } else { "" }))
            .collect();
        let status = t.status.as_ref().map_or_else(
            || "none".to_owned(),
            |s| {
                let name = pb::user_trait::status::Status::try_from(s.status)
                    .map_or("?", |x| x.as_str_name());
                format!("{name}{:?}", s.details)
            },
        );
        let account =
            pb::user_trait::AccountType::try_from(t.account_type).map_or("?", |x| x.as_str_name());
        return format!(
            "UserTrait{{emails=[{}], login={:?}, status={status}, account={account}, profile={}}}",
            emails.join(", "),
            t.login,
            opt_profile(t.profile.as_ref())
        );
    }
    if let Ok(Some(t)) = annotations::unpack::<pb::GroupTrait>(any) {
        return format!("GroupTrait{{profile={}}}", opt_profile(t.profile.as_ref()));
    }
    if let Ok(Some(t)) = annotations::unpack::<pb::RoleTrait>(any) {
        return format!("RoleTrait{{profile={}}}", opt_profile(t.profile.as_ref()));
    }
    if let Ok(Some(t)) = annotations::unpack::<pb::AppTrait>(any) {
        return format!(
            "AppTrait{{profile={}, flags={:?}}}",
            opt_profile(t.profile.as_ref()),
            t.flags
        );
    }
    if let Ok(Some(t)) = annotations::unpack::<pb::ChildResourceType>(any) {
        return format!("ChildResourceType{{{}}}", t.resource_type_id);
    }
    if let Ok(Some(t)) = annotations::unpack::<pb::GrantExpandable>(any) {
        return format!(
            "GrantExpandable{{entitlements=[{}], shallow={}, types=[{}]}}",
            t.entitlement_ids.join(", "),
            t.shallow,
            t.resource_type_ids.join(", ")
        );
    }
    annotations::type_name(any).to_owned()
}

fn annotation_list(list: &[Any]) -> String {
    format!(
        "[{}]",
        list.iter().map(annotation).collect::<Vec<_>>().join("; ")
    )
}

/// Every object of the latest sync of `path` as one line each, sorted.
pub(crate) fn render(path: &Path) -> Vec<String> {
    let reader = open(path);
    let view = reader.latest().unwrap();
    let mut lines = Vec::new();
    for rt in view.resource_types() {
        let rt = rt.unwrap();
        let traits: Vec<&str> = rt
            .traits
            .iter()
            .map(|t| pb::resource_type::Trait::try_from(*t).map_or("?", |x| x.as_str_name()))
            .collect();
        lines.push(format!(
            "resource_type {} {:?} traits=[{}] annotations={}",
            rt.id,
            rt.display_name,
            traits.join(", "),
            annotation_list(&rt.annotations)
        ));
    }
    for r in view.resources(&ResourceFilter::default()) {
        let r = r.unwrap();
        lines.push(format!(
            "resource {} {:?} parent={} description={:?} profile={} annotations={}",
            rid(r.id.as_ref()),
            r.display_name,
            rid(r.parent_resource_id.as_ref()),
            r.description,
            opt_profile(r.profile.as_ref()),
            annotation_list(&r.annotations)
        ));
    }
    for e in view.entitlements(&EntitlementFilter::default()) {
        let e = e.unwrap();
        let purpose =
            pb::entitlement::PurposeValue::try_from(e.purpose).map_or("?", |x| x.as_str_name());
        let grantable: Vec<&str> = e.grantable_to.iter().map(|t| t.id.as_str()).collect();
        lines.push(format!(
            "entitlement {} {:?} resource={} purpose={purpose} slug={:?} grantable_to=[{}] description={:?} annotations={}",
            e.id,
            e.display_name,
            rid(e.resource.as_ref().and_then(|r| r.id.as_ref())),
            e.slug,
            grantable.join(", "),
            e.description,
            annotation_list(&e.annotations)
        ));
    }
    for g in view.grants(&GrantFilter::default()) {
        let g = g.unwrap();
        lines.push(format!(
            "grant {} entitlement={} principal={} annotations={}",
            g.id,
            g.entitlement.as_ref().map_or("-", |e| e.id.as_str()),
            rid(g.principal.as_ref().and_then(|p| p.id.as_ref())),
            annotation_list(&g.annotations)
        ));
    }
    lines.sort();
    lines
}

/// Checks that every reference of the latest sync resolves: parents, entitlement resources,
/// grant entitlements and principals, expandable entitlement ids. Returns (resources,
/// entitlements, grants).
pub(crate) fn check_integrity(path: &Path) -> (usize, usize, usize) {
    let reader = open(path);
    let view = reader.latest().unwrap();
    let types: BTreeSet<String> = view.resource_types().map(|t| t.unwrap().id).collect();
    let resources: Vec<pb::Resource> = view
        .resources(&ResourceFilter::default())
        .map(Result::unwrap)
        .collect();
    let ids: BTreeSet<String> = resources.iter().map(|r| rid(r.id.as_ref())).collect();
    assert_eq!(ids.len(), resources.len(), "duplicate resource ids");
    for r in &resources {
        let id = r.id.as_ref().unwrap();
        assert!(types.contains(&id.resource_type), "unknown type of {id:?}");
        if let Some(parent) = &r.parent_resource_id {
            assert!(
                ids.contains(&rid(Some(parent))),
                "parent of {} missing",
                rid(Some(id))
            );
        }
    }
    let entitlements: Vec<pb::Entitlement> = view
        .entitlements(&EntitlementFilter::default())
        .map(Result::unwrap)
        .collect();
    let ent_ids: BTreeSet<&str> = entitlements.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ent_ids.len(),
        entitlements.len(),
        "duplicate entitlement ids"
    );
    for e in &entitlements {
        let owner = rid(e.resource.as_ref().and_then(|r| r.id.as_ref()));
        assert!(ids.contains(&owner), "resource {owner} of {} missing", e.id);
    }
    let mut grants = 0;
    let mut grant_ids = BTreeSet::new();
    for g in view.grants(&GrantFilter::default()) {
        let g = g.unwrap();
        grants += 1;
        assert!(grant_ids.insert(g.id.clone()), "duplicate grant {}", g.id);
        let ent = g.entitlement.as_ref().unwrap();
        assert!(
            ent_ids.contains(ent.id.as_str()),
            "entitlement of {} missing",
            g.id
        );
        let ent_resource = rid(ent.resource.as_ref().and_then(|r| r.id.as_ref()));
        assert!(
            ids.contains(&ent_resource),
            "entitlement resource of {} missing",
            g.id
        );
        let principal = rid(g.principal.as_ref().and_then(|p| p.id.as_ref()));
        assert!(ids.contains(&principal), "principal of {} missing", g.id);
        assert_eq!(
            g.id,
            format!("{}:{principal}", ent.id),
            "grant id is not <entitlement>:<principal>"
        );
        if let Ok(Some(x)) = annotations::pick::<pb::GrantExpandable>(&g.annotations) {
            for id in &x.entitlement_ids {
                assert!(
                    ent_ids.contains(id.as_str()),
                    "expandable {id} of {} missing",
                    g.id
                );
            }
        }
    }
    (resources.len(), entitlements.len(), grants)
}
