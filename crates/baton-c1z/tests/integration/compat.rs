//! Reads the c1z written by the official Go SDK (in ../shared, read in place) and compares it
//! with what the official reader saw (`official-sdk-two-syncs.expected.jsonl`).

use crate::common::shared_dir;
use baton_c1z::{C1zReader, EntitlementFilter, GrantFilter, ReaderOptions, ResourceFilter};
use baton_model::pb;
use serde_json::Value;
use std::collections::BTreeMap;

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn rid_json(v: Option<&Value>) -> Option<(String, String)> {
    v.map(|v| {
        (
            str_of(v, "resourceType").to_owned(),
            str_of(v, "resource").to_owned(),
        )
    })
}

fn rid_pb(v: Option<&pb::ResourceId>) -> Option<(String, String)> {
    v.map(|v| (v.resource_type.clone(), v.resource.clone()))
}

fn type_urls_json(v: &Value) -> Vec<String> {
    v.get("annotations")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| str_of(x, "@type").to_owned()).collect())
        .unwrap_or_default()
}

fn type_urls_pb(a: &[prost_types::Any]) -> Vec<String> {
    a.iter().map(|x| x.type_url.clone()).collect()
}

/// Go's text timestamp -> the RFC 3339 the expected file shows (the fixture was written in UTC).
fn rfc3339(go: &str) -> String {
    format!("{}Z", go.replacen(' ', "T", 1))
}

fn check_resource(exp: &Value, got: &pb::Resource) {
    assert_eq!(rid_json(exp.get("id")), rid_pb(got.id.as_ref()));
    assert_eq!(str_of(exp, "displayName"), got.display_name);
    assert_eq!(
        rid_json(exp.get("parentResourceId")),
        rid_pb(got.parent_resource_id.as_ref())
    );
    assert_eq!(type_urls_json(exp), type_urls_pb(&got.annotations));
}

#[test]
fn official_sdk_file_reads_like_the_go_reader() {
    let Some(shared) = shared_dir() else { return };
    let fixture = shared.join("fixtures/official-sdk-two-syncs.c1z");
    let expected = shared.join("fixtures/official-sdk-two-syncs.expected.jsonl");
    if !fixture.exists() || !expected.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared not found while CI is set: these tests must run in CI"
        );
        println!("skipping: ../shared not found");
        return;
    }
    let before = std::fs::read(&fixture).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&expected)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of_kind = |k: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|v| str_of(v, "kind") == k)
            .collect::<Vec<_>>()
    };

    let reader = C1zReader::open(&fixture, ReaderOptions::default()).unwrap();

    // Sync runs: ids, times and tokens, in row order.
    let runs = reader.sync_runs().unwrap();
    let exp_runs = of_kind("sync_run");
    assert_eq!(runs.len(), exp_runs.len());
    for (got, exp) in runs.iter().zip(&exp_runs) {
        assert_eq!(got.sync_id, str_of(exp, "sync_id"));
        assert_eq!(rfc3339(&got.started_at), str_of(exp, "started_at"));
        assert_eq!(
            got.ended_at.as_deref().map(rfc3339).as_deref(),
            Some(str_of(exp, "ended_at"))
        );
        assert_eq!(got.sync_token, str_of(exp, "sync_token"));
        assert_eq!(got.sync_type, "full");
    }
    // Latest = the one that ended last, although its KSUID sorts first.
    let view = reader.latest().unwrap();
    assert_eq!(view.sync_id(), "3Ml2s1OAGm1rOuvXMb5tGaIqWkH");
    assert_eq!(view.sync_id(), str_of(exp_runs[1], "sync_id"));
    // Both syncs are readable explicitly.
    for r in &runs {
        assert_eq!(reader.sync(&r.sync_id).unwrap().run(), r);
    }

    // Resource types.
    let rts: Vec<pb::ResourceType> = view.resource_types().collect::<Result<_, _>>().unwrap();
    let exp_rts = of_kind("resource_type");
    assert_eq!(rts.len(), exp_rts.len());
    let by_id: BTreeMap<&str, &pb::ResourceType> = rts.iter().map(|r| (r.id.as_str(), r)).collect();
    for exp in &exp_rts {
        let d = &exp["data"];
        let got = by_id[str_of(d, "id")];
        assert_eq!(got.display_name, str_of(d, "displayName"));
        let exp_traits: Vec<&str> = d
            .get("traits")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let got_traits: Vec<&str> = got
            .traits
            .iter()
            .map(|t| {
                pb::resource_type::Trait::try_from(*t)
                    .unwrap()
                    .as_str_name()
            })
            .collect();
        assert_eq!(got_traits, exp_traits);
        assert_eq!(view.get_resource_type(&got.id).unwrap().as_ref(), Some(got));
    }

    // Resources.
    let resources: Vec<pb::Resource> = view
        .resources(&ResourceFilter::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let exp_res = of_kind("resource");
    assert_eq!(resources.len(), exp_res.len());
    for exp in &exp_res {
        let d = &exp["data"];
        let key = rid_json(d.get("id"));
        let got = resources
            .iter()
            .find(|r| rid_pb(r.id.as_ref()) == key)
            .unwrap_or_else(|| panic!("resource {key:?} missing"));
        check_resource(d, got);
        assert_eq!(
            got.creation_source,
            if str_of(d, "creationSource").is_empty() {
                0
            } else {
                1
            }
        );
        let fetched = view.get_resource(got.id.as_ref().unwrap()).unwrap();
        assert_eq!(fetched.as_ref(), Some(got));
    }
    // Filters: by type and by parent.
    let users: Vec<pb::Resource> = view
        .resources(&ResourceFilter {
            resource_type_id: Some("user".into()),
            ..Default::default()
        })
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].display_name, "Alice");
    let children = view
        .resources(&ResourceFilter {
            parent: Some(pb::ResourceId {
                resource_type: "workspace".into(),
                resource: "ws1".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .count();
    assert_eq!(children, 3);

    // Entitlements.
    let ents: Vec<pb::Entitlement> = view
        .entitlements(&EntitlementFilter::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let exp_ents = of_kind("entitlement");
    assert_eq!(ents.len(), exp_ents.len());
    for exp in &exp_ents {
        let d = &exp["data"];
        let got = ents.iter().find(|e| e.id == str_of(d, "id")).unwrap();
        assert_eq!(got.display_name, str_of(d, "displayName"));
        assert_eq!(got.description, str_of(d, "description"));
        assert_eq!(got.slug, str_of(d, "slug"));
        assert_eq!(
            pb::entitlement::PurposeValue::try_from(got.purpose)
                .unwrap()
                .as_str_name(),
            str_of(d, "purpose")
        );
        let exp_grantable: Vec<&str> = d["grantableTo"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| str_of(g, "id"))
            .collect();
        let got_grantable: Vec<&str> = got.grantable_to.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(got_grantable, exp_grantable);
        check_resource(&d["resource"], got.resource.as_ref().unwrap());
        assert_eq!(view.get_entitlement(&got.id).unwrap().as_ref(), Some(got));
        // Entitlements of that resource.
        let of_resource = view
            .entitlements(&EntitlementFilter {
                resource: got.resource.as_ref().unwrap().id.clone(),
                ..Default::default()
            })
            .count();
        assert_eq!(of_resource, 1);
    }

    // Grants.
    let grants: Vec<pb::Grant> = view
        .grants(&GrantFilter::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let exp_grants = of_kind("grant");
    assert_eq!(grants.len(), exp_grants.len());
    for exp in &exp_grants {
        let d = &exp["data"];
        let got = grants.iter().find(|g| g.id == str_of(d, "id")).unwrap();
        let ent = got.entitlement.as_ref().unwrap();
        assert_eq!(ent.id, str_of(&d["entitlement"], "id"));
        check_resource(
            &d["entitlement"]["resource"],
            ent.resource.as_ref().unwrap(),
        );
        check_resource(&d["principal"], got.principal.as_ref().unwrap());
        assert_eq!(view.get_grant(&got.id).unwrap().as_ref(), Some(got));
    }
    // Grant filters.
    let count = |f: GrantFilter| view.grants(&f).count();
    assert_eq!(
        count(GrantFilter {
            entitlement_id: Some("role:r1:member".into()),
            ..Default::default()
        }),
        2
    );
    let u1 = pb::ResourceId {
        resource_type: "user".into(),
        resource: "u1".into(),
        ..Default::default()
    };
    assert_eq!(
        count(GrantFilter {
            principal: Some(u1),
            ..Default::default()
        }),
        3
    );
    assert_eq!(
        count(GrantFilter {
            principal_resource_type_ids: vec!["group".into()],
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(GrantFilter {
            resource: Some(pb::ResourceId {
                resource_type: "role".into(),
                resource: "r1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        2
    );

    // Counts line.
    let counts = of_kind("count");
    let c = counts[0];
    let stats = view.stats().unwrap();
    assert_eq!(stats.resource_types, c["resource_types"].as_u64().unwrap());
    assert_eq!(stats.resources, c["resources"].as_u64().unwrap());
    assert_eq!(stats.entitlements, c["entitlements"].as_u64().unwrap());
    assert_eq!(stats.grants, c["grants"].as_u64().unwrap());
    assert_eq!(runs.len() as u64, c["sync_runs"].as_u64().unwrap());
    assert_eq!(stats.resources_by_type.get("user"), Some(&1));

    // Missing ids are None, not errors.
    assert!(view.get_grant("nope").unwrap().is_none());
    drop(view);
    drop(reader);
    // The reader never writes the original.
    assert_eq!(std::fs::read(&fixture).unwrap(), before);
}

#[test]
fn appending_to_the_official_sdk_file_keeps_its_latest_sync() {
    let Some(shared) = shared_dir() else { return };
    let fixture = shared.join("fixtures/official-sdk-two-syncs.c1z");
    if !fixture.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared not found while CI is set: these tests must run in CI"
        );
        println!("skipping: ../shared not found");
        return;
    }
    // Work on a copy in a temp dir (never write the fixture).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.c1z");
    std::fs::copy(&fixture, &path).unwrap();
    let ours = crate::common::write_small(
        &path,
        &crate::common::small(2, "rust"),
        baton_c1z::WriterOptions::default(),
    );
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let ids: Vec<String> = reader
        .sync_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.sync_id)
        .collect();
    assert_eq!(
        ids,
        ["3Ml2s1OAGm1rOuvXMb5tGaIqWkH".to_owned(), ours.clone()]
    );
    assert_eq!(reader.latest().unwrap().sync_id(), ours);
    let go = reader.sync("3Ml2s1OAGm1rOuvXMb5tGaIqWkH").unwrap();
    assert_eq!(go.stats().unwrap().grants, 4);
}
