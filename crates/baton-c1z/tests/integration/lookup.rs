//! Files written without the non-unique lookup indexes (the default): every filtered listing
//! gives the same rows as on a file with the indexes, including while another iterator of the
//! same reader is being consumed (its prefetch thread reading the database).

use crate::common::{entitlement, grant, resource, resource_type, rid};
use baton_c1z::{
    C1zReader, C1zWriter, EntitlementFilter, GrantFilter, PageRequest, ReaderOptions,
    ResourceFilter, WriterOptions,
};
use baton_model::pb;
use std::path::Path;

/// Users, so that a full grant listing spans more than one 10 000-row page.
const USERS: usize = 10_500;

fn write(path: &Path, lookup_indexes: bool) {
    let mut w = C1zWriter::create(
        path,
        WriterOptions::default().with_lookup_indexes(lookup_indexes),
    )
    .unwrap();
    for rt in [
        resource_type("workspace", &[]),
        resource_type("user", &[1]),
        resource_type("group", &[2]),
    ] {
        w.put_resource_type(&rt).unwrap();
    }
    let ws = resource("workspace", "ws", None);
    w.put_resource(&ws).unwrap();
    let groups: Vec<pb::Resource> = (0..3)
        .map(|g| resource("group", &format!("g{g}"), ws.id.clone()))
        .collect();
    let mut ents = Vec::new();
    for g in &groups {
        w.put_resource(g).unwrap();
        let e = entitlement(g, "member");
        w.put_entitlement(&e).unwrap();
        ents.push(e);
    }
    for u in 0..USERS {
        w.put_resource(&resource("user", &format!("u{u}"), ws.id.clone()))
            .unwrap();
    }
    for u in 0..USERS {
        w.put_grant(&grant(&ents[u % 3], &rid("user", &format!("u{u}"))))
            .unwrap();
        if u % 7 == 0 {
            w.put_grant(&grant(&ents[(u + 1) % 3], &rid("user", &format!("u{u}"))))
                .unwrap();
        }
    }
    w.finish().unwrap();
}

fn ids<T>(
    items: impl Iterator<Item = baton_c1z::Result<T>>,
    id: impl Fn(&T) -> String,
) -> Vec<String> {
    items.map(|x| id(&x.unwrap())).collect()
}

/// Every filtered listing, as ids.
fn listings(r: &C1zReader) -> Vec<Vec<String>> {
    let v = r.latest().unwrap();
    let gid = |g: &pb::Grant| g.id.clone();
    let principal = rid("user", "u21");
    let group = rid("group", "g1");
    vec![
        ids(
            v.grants(&GrantFilter {
                entitlement_id: Some("group:g2:member".into()),
                ..Default::default()
            }),
            gid,
        ),
        ids(
            v.grants(&GrantFilter {
                principal: Some(principal.clone()),
                ..Default::default()
            }),
            gid,
        ),
        ids(
            v.grants(&GrantFilter {
                entitlement_id: Some("group:g1:member".into()),
                principal: Some(principal),
                ..Default::default()
            }),
            gid,
        ),
        ids(
            v.grants(&GrantFilter {
                resource: Some(group.clone()),
                ..Default::default()
            }),
            gid,
        ),
        ids(
            v.grants(&GrantFilter {
                resource_type_id: Some("group".into()),
                principal_resource_type_ids: vec!["user".into()],
                ..Default::default()
            }),
            gid,
        ),
        ids(
            v.resources(&ResourceFilter {
                resource_type_id: Some("group".into()),
                ..Default::default()
            }),
            |r| format!("{:?}", r.id),
        ),
        ids(
            v.resources(&ResourceFilter {
                parent: Some(rid("workspace", "ws")),
                ..Default::default()
            }),
            |r| format!("{:?}", r.id),
        ),
        ids(
            v.entitlements(&EntitlementFilter {
                resource: Some(group),
                ..Default::default()
            }),
            |e| e.id.clone(),
        ),
        v.list_grants(
            &GrantFilter {
                entitlement_id: Some("group:g0:member".into()),
                ..Default::default()
            },
            &PageRequest::at("5000", 50),
        )
        .unwrap()
        .items
        .iter()
        .map(gid)
        .collect(),
    ]
}

#[test]
fn listings_are_the_same_with_or_without_lookup_indexes_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let lean = dir.path().join("lean.c1z");
    let full = dir.path().join("full.c1z");
    write(&lean, false);
    write(&full, true);
    assert!(std::fs::metadata(&lean).unwrap().len() < std::fs::metadata(&full).unwrap().len());

    let expected = listings(&C1zReader::open(&full, ReaderOptions::default()).unwrap());
    assert_eq!(expected[0].len(), (USERS / 3) + (USERS / 7 + 1) / 3);
    assert!(expected.iter().all(|l| !l.is_empty()));

    let reader = C1zReader::open(&lean, ReaderOptions::default()).unwrap();
    // First while another listing is being iterated (its prefetch thread running): no index
    // can be built then, the listings scan.
    let view = reader.latest().unwrap();
    let mut all = view.grants(&GrantFilter::default());
    for _ in 0..10_001 {
        all.next().unwrap().unwrap();
    }
    assert_eq!(listings(&reader), expected);
    let rest = all.count();
    assert_eq!(rest, USERS + USERS.div_ceil(7) - 10_001);
    // Then with the indexes built on the reader's copy.
    assert_eq!(listings(&reader), expected);
    assert_eq!(listings(&reader), expected);
}

#[test]
fn batched_grant_filters_and_listings_without_lazy_indexes() {
    use crate::common::{rid, small, write_small};
    use baton_c1z::{C1zReader, GrantFilter, ReaderOptions, WriterOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.c1z");
    // 10 users alternating between the members of g0 and g1.
    write_small(&path, &small(10, "a"), WriterOptions::default());
    for lazy in [true, false] {
        let r = C1zReader::open(&path, ReaderOptions::default().with_lookup_indexes(lazy)).unwrap();
        let v = r.latest().unwrap();
        let count = |f: GrantFilter| v.grants(&f).count();
        let ids = |ents: &[&str]| GrantFilter {
            entitlement_ids: ents.iter().map(|e| (*e).to_owned()).collect(),
            ..GrantFilter::default()
        };
        assert_eq!(count(ids(&["group:g0:member"])), 5);
        assert_eq!(count(ids(&["group:g0:member", "group:g1:member"])), 10);
        assert_eq!(count(ids(&["group:nope:member"])), 0);
        let principals = GrantFilter {
            principals: vec![rid("user", "u1"), rid("user", "u2"), rid("user", "nobody")],
            ..GrantFilter::default()
        };
        assert_eq!(count(principals), 2);
        let both = GrantFilter {
            entitlement_ids: vec!["group:g1:member".into()],
            principals: vec![rid("user", "u1"), rid("user", "u2")],
            ..GrantFilter::default()
        };
        assert_eq!(count(both), 1);
    }
}

/// `grants_to_or_containing`: one scan (past the first page, so on the prefetch thread's
/// connection too) gives the principal's grants and the grants whose data holds the needle,
/// in row order, exactly as a full listing filtered by hand.
#[test]
fn grants_to_a_principal_or_containing_a_needle_in_one_listing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marked.c1z");
    let mut w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    w.put_resource_type(&resource_type("user", &[1])).unwrap();
    w.put_resource_type(&resource_type("group", &[2])).unwrap();
    let g = resource("group", "g", None);
    w.put_resource(&g).unwrap();
    let member = entitlement(&g, "member");
    w.put_entitlement(&member).unwrap();
    for u in 0..USERS {
        let mut gr = grant(&member, &rid("user", &format!("u{u}")));
        if u % 1000 == 7 {
            gr.annotations
                .push(crate::common::ann("test.v1.Marker", b"x"));
        }
        w.put_grant(&gr).unwrap();
    }
    w.finish().unwrap();

    let r = C1zReader::open(&path, ReaderOptions::default().with_lookup_indexes(false)).unwrap();
    let v = r.latest().unwrap();
    let me = rid("user", "u21");
    let expected: Vec<String> = v
        .grants(&GrantFilter::default())
        .map(Result::unwrap)
        .filter(|g| {
            g.principal.as_ref().and_then(|p| p.id.as_ref()) == Some(&me)
                || g.annotations
                    .iter()
                    .any(|a| a.type_url.ends_with("/test.v1.Marker"))
        })
        .map(|g| g.id)
        .collect();
    assert_eq!(expected.len(), 1 + USERS / 1000 + 1);
    let got = ids(v.grants_to_or_containing(&me, "test.v1.Marker"), |g| {
        g.id.clone()
    });
    assert_eq!(got, expected);
    // Nothing holds this needle: the principal's grants only.
    let got = ids(v.grants_to_or_containing(&me, "no.such.Type"), |g| {
        g.id.clone()
    });
    assert_eq!(got, ["group:g:member:user:u21"]);
}
