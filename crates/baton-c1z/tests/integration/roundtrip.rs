//! Round trip: random valid objects -> writer -> reader -> equal messages.

use crate::common::{ann, rid};
use baton_c1z::{
    C1zReader, C1zWriter, EntitlementFilter, GrantFilter, ReaderOptions, ResourceFilter,
    WriterOptions,
};
use baton_model::pb;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _:/.@-]{0,12}"
}

fn annotations() -> impl Strategy<Value = Vec<prost_types::Any>> {
    prop::collection::vec(
        ("[A-Za-z]{1,10}", prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(n, v)| ann(&format!("c1.connector.v2.{n}"), &v)),
        0..3,
    )
}

#[derive(Debug, Clone)]
struct World {
    resource_types: Vec<pb::ResourceType>,
    resources: Vec<pb::Resource>,
    entitlements: Vec<pb::Entitlement>,
    grants: Vec<pb::Grant>,
}

fn world() -> impl Strategy<Value = World> {
    (1usize..4, 1usize..12, 0usize..6, 0usize..30)
        .prop_flat_map(|(n_types, n_res, n_ent, n_grants)| {
            (
                prop::collection::vec(
                    (
                        text(),
                        prop::collection::vec(0i32..13, 0..3),
                        annotations(),
                        any::<bool>(),
                    ),
                    n_types,
                ),
                prop::collection::vec(
                    (
                        0..n_types,
                        text(),
                        text(),
                        annotations(),
                        prop::option::of(0..n_res),
                        0i32..3,
                    ),
                    n_res,
                ),
                prop::collection::vec(
                    (0..n_res, "[a-z]{1,6}", text(), 0i32..4, annotations()),
                    n_ent,
                ),
                prop::collection::vec(
                    (
                        0..n_ent.max(1),
                        0..n_res,
                        annotations(),
                        any::<bool>(),
                        prop::collection::btree_map("[a-z:]{1,8}", any::<bool>(), 0..3),
                    ),
                    n_grants,
                ),
            )
        })
        .prop_map(|(types, res, ents, grants)| {
            let resource_types: Vec<pb::ResourceType> = types
                .into_iter()
                .enumerate()
                .map(|(i, (name, traits, annotations, ext))| pb::ResourceType {
                    id: format!("type{i}"),
                    display_name: name,
                    traits,
                    annotations,
                    description: "d".repeat(i),
                    sourced_externally: ext,
                })
                .collect();
            let ids: Vec<pb::ResourceId> = res
                .iter()
                .enumerate()
                .map(|(i, (t, ..))| rid(&format!("type{t}"), &format!("r:{i}")))
                .collect();
            let resources: Vec<pb::Resource> = res
                .into_iter()
                .enumerate()
                .map(
                    |(i, (_, name, desc, annotations, parent, cs))| pb::Resource {
                        id: Some(ids[i].clone()),
                        parent_resource_id: parent.filter(|p| *p != i).map(|p| ids[p].clone()),
                        display_name: name,
                        description: desc,
                        annotations,
                        creation_source: cs,
                        ..Default::default()
                    },
                )
                .collect();
            let entitlements: Vec<pb::Entitlement> = ents
                .into_iter()
                .enumerate()
                .map(|(i, (r, slug, name, purpose, annotations))| {
                    let res = &resources[r];
                    let id = res.id.as_ref().unwrap();
                    pb::Entitlement {
                        resource: Some(res.clone()),
                        id: format!("{}:{}:{slug}{i}", id.resource_type, id.resource),
                        display_name: name,
                        slug,
                        purpose,
                        annotations,
                        grantable_to: resource_types.iter().take(1 + i % 2).cloned().collect(),
                        ..Default::default()
                    }
                })
                .collect();
            let grants: Vec<pb::Grant> = if entitlements.is_empty() {
                Vec::new()
            } else {
                grants
                    .into_iter()
                    .enumerate()
                    .map(|(i, (e, p, mut annotations, expandable, sources))| {
                        let ent = &entitlements[e % entitlements.len()];
                        let principal = resources[p].clone();
                        if expandable {
                            annotations.push(ann("c1.connector.v2.GrantExpandable", &[]));
                        }
                        pb::Grant {
                            entitlement: Some(ent.clone()),
                            id: format!("{}:{i}", ent.id),
                            principal: Some(principal),
                            annotations,
                            sources: Some(pb::GrantSources {
                                sources: sources
                                    .into_iter()
                                    .map(|(k, d)| {
                                        (k, pb::grant_sources::GrantSource { is_direct: d })
                                    })
                                    .collect::<BTreeMap<_, _>>(),
                            }),
                        }
                    })
                    .collect()
            };
            World {
                resource_types,
                resources,
                entitlements,
                grants,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn write_then_read_gives_the_same_objects(w in world()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.c1z");
        let mut writer = C1zWriter::create(&path, WriterOptions::default().with_batch_size(7)).unwrap();
        for x in &w.resource_types { writer.put_resource_type(x).unwrap(); }
        for x in &w.resources { writer.put_resource(x).unwrap(); }
        for x in &w.entitlements { writer.put_entitlement(x).unwrap(); }
        for x in &w.grants { writer.put_grant(x).unwrap(); }
        let sync_id = writer.sync_id().to_owned();
        let summary = writer.finish().unwrap();
        let expandable = w.grants.iter().any(|g| g.annotations.iter().any(|a| a.type_url.ends_with("/c1.connector.v2.GrantExpandable")));
        prop_assert_eq!(summary.needs_expansion, expandable);

        let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
        let runs = reader.sync_runs().unwrap();
        prop_assert_eq!(runs.len(), 1);
        prop_assert_eq!(&runs[0].sync_id, &sync_id);
        prop_assert_eq!(runs[0].sync_token.clone(), format!("{{\"needs_expansion\":{expandable},\"version\":1}}"));
        let view = reader.latest().unwrap();
        let rts: Vec<_> = view.resource_types().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&rts, &w.resource_types);
        let rs: Vec<_> = view.resources(&ResourceFilter::default()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&rs, &w.resources);
        let es: Vec<_> = view.entitlements(&EntitlementFilter::default()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&es, &w.entitlements);
        let gs: Vec<_> = view.grants(&GrantFilter::default()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(&gs, &w.grants);

        // Lookups and filters agree with a naive filter over the input.
        for r in &w.resources {
            let got = view.get_resource(r.id.as_ref().unwrap()).unwrap();
            prop_assert_eq!(got.as_ref(), Some(r));
            let children: Vec<_> = view.resources(&ResourceFilter { parent: r.id.clone(), ..Default::default() }).collect::<Result<_, _>>().unwrap();
            let expected: Vec<_> = w.resources.iter().filter(|c| c.parent_resource_id == r.id).cloned().collect();
            prop_assert_eq!(children, expected);
            let held: Vec<_> = view.grants(&GrantFilter { principal: r.id.clone(), ..Default::default() }).collect::<Result<_, _>>().unwrap();
            let expected: Vec<_> = w.grants.iter().filter(|g| g.principal.as_ref().unwrap().id == r.id).cloned().collect();
            prop_assert_eq!(held, expected);
        }
        for e in &w.entitlements {
            prop_assert_eq!(view.get_entitlement(&e.id).unwrap(), Some(e.clone()));
            let on: Vec<_> = view.grants(&GrantFilter { entitlement_id: Some(e.id.clone()), ..Default::default() }).collect::<Result<_, _>>().unwrap();
            let expected: Vec<_> = w.grants.iter().filter(|g| g.entitlement.as_ref().unwrap().id == e.id).cloned().collect();
            prop_assert_eq!(on, expected);
        }
        for t in &w.resource_types {
            let of_type: Vec<_> = view.resources(&ResourceFilter { resource_type_id: Some(t.id.clone()), ..Default::default() }).collect::<Result<_, _>>().unwrap();
            let expected: Vec<_> = w.resources.iter().filter(|r| r.id.as_ref().unwrap().resource_type == t.id).cloned().collect();
            prop_assert_eq!(of_type, expected);
        }
        for g in &w.grants {
            prop_assert_eq!(view.get_grant(&g.id).unwrap(), Some(g.clone()));
        }
    }
}

#[test]
fn upsert_keeps_one_row_with_the_last_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.c1z");
    let data = crate::common::small(2, "x");
    let mut w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    for rt in &data.resource_types {
        w.put_resource_type(rt).unwrap();
    }
    let mut r = data.resources[0].clone();
    w.put_resource(&r).unwrap();
    r.display_name = "renamed".into();
    w.put_resource(&r).unwrap();
    let mut g = data.grants[0].clone();
    w.put_grant(&g).unwrap();
    g.annotations
        .push(ann("c1.connector.v2.GrantMetadata", &[]));
    w.put_grant(&g).unwrap();
    let counts = w.counts();
    assert_eq!(counts.resources, 2);
    w.finish().unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let view = reader.latest().unwrap();
    let rs: Vec<_> = view
        .resources(&ResourceFilter::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rs, vec![r]);
    let gs: Vec<_> = view
        .grants(&GrantFilter::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(gs, vec![g]);
}

#[test]
fn invalid_objects_are_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = C1zWriter::create(dir.path().join("i.c1z"), WriterOptions::default()).unwrap();
    let err = w
        .put_resource_type(&pb::ResourceType::default())
        .unwrap_err();
    assert!(
        matches!(err, baton_c1z::C1zError::InvalidObject { .. }),
        "{err}"
    );
    let err = w.put_resource(&pb::Resource::default()).unwrap_err();
    assert!(err.to_string().contains("id is missing"), "{err}");
    let err = w
        .put_resource(&pb::Resource {
            id: Some(rid("user", "")),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("id.resource is empty"), "{err}");
    let err = w
        .put_entitlement(&pb::Entitlement {
            id: "x".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("resource is missing"), "{err}");
    let data = crate::common::small(1, "x");
    let mut g = data.grants[0].clone();
    g.principal = None;
    let err = w.put_grant(&g).unwrap_err();
    assert!(err.to_string().contains("principal is missing"), "{err}");
    w.abort();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Grants go to SQLite several rows per statement, in batches, possibly on the insert
    /// thread: whatever the grouping, the result is that of one upsert per `put_grant` in call
    /// order (one row per id, at the position of its first write, with the last data), also
    /// when repeats fall inside one multi-row statement or across transactions.
    #[test]
    fn repeated_grants_upsert_like_one_statement_per_row(
        puts in prop::collection::vec((0usize..12, 0u8..4), 0..80),
        batch_size in 1usize..30,
        thread in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upsert.c1z");
        let data = crate::common::small(1, "u");
        let opts = WriterOptions::default().with_batch_size(batch_size).with_insert_thread(thread);
        let mut w = C1zWriter::create(&path, opts).unwrap();
        for rt in &data.resource_types { w.put_resource_type(rt).unwrap(); }
        let mut expected: Vec<pb::Grant> = Vec::new();
        for (k, version) in puts {
            let mut g = crate::common::grant(&data.entitlements[k % 2], &rid("user", &format!("u{k}")));
            g.annotations.push(ann("c1.connector.v2.GrantMetadata", &[version]));
            match expected.iter_mut().find(|e| e.id == g.id) {
                Some(e) => *e = g.clone(),
                None => expected.push(g.clone()),
            }
            w.put_grant(&g).unwrap();
            // A resource write between grants splits the multi-row statements.
            if version == 3 { w.put_resource(&data.resources[0]).unwrap(); }
        }
        w.finish().unwrap();

        let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
        let view = reader.latest().unwrap();
        let gs: Vec<_> = view.grants(&GrantFilter::default()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(gs, expected);
        let db = crate::common::open_db(&path, dir.path());
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        prop_assert_eq!(check, "ok");
    }
}
