//! Pagination semantics of the Go SDK: `id >= token`, `size + 1` lookahead, next = last id + 1.

use crate::common::{small, write_small};
use baton_c1z::{C1zError, C1zReader, GrantFilter, PageRequest, ReaderOptions, WriterOptions};

#[test]
fn pages_follow_the_sdk_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.c1z");
    let data = small(25, "p");
    write_small(&path, &data, WriterOptions::default());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let view = reader.latest().unwrap();
    let all = GrantFilter::default();

    let p1 = view.list_grants(&all, &PageRequest::first(10)).unwrap();
    assert_eq!(p1.items.len(), 10);
    assert_eq!(p1.next_page_token, "11"); // row ids start at 1
    let p2 = view
        .list_grants(&all, &PageRequest::at(&p1.next_page_token, 10))
        .unwrap();
    assert_eq!(p2.items.len(), 10);
    assert_eq!(p2.next_page_token, "21");
    let p3 = view
        .list_grants(&all, &PageRequest::at(&p2.next_page_token, 10))
        .unwrap();
    assert_eq!(p3.items.len(), 5);
    assert_eq!(p3.next_page_token, "");
    let joined: Vec<_> = [p1.items, p2.items, p3.items].concat();
    assert_eq!(joined, data.grants);

    // Exactly one full page: no next token.
    let exact = view.list_grants(&all, &PageRequest::first(25)).unwrap();
    assert_eq!(
        (exact.items.len(), exact.next_page_token.as_str()),
        (25, "")
    );
    // 0 means the maximum page size.
    let zero = view.list_grants(&all, &PageRequest::first(0)).unwrap();
    assert_eq!(zero.items.len(), 25);
    // Filtered pages skip over non-matching rows.
    let f = GrantFilter {
        entitlement_id: Some(data.entitlements[1].id.clone()),
        ..Default::default()
    };
    let a = view.list_grants(&f, &PageRequest::first(5)).unwrap();
    let b = view
        .list_grants(&f, &PageRequest::at(&a.next_page_token, 5))
        .unwrap();
    let c = view
        .list_grants(&f, &PageRequest::at(&b.next_page_token, 5))
        .unwrap();
    assert_eq!(a.items.len() + b.items.len() + c.items.len(), 12);
    assert_eq!(c.next_page_token, "");

    let rts = view.list_resource_types(&PageRequest::first(2)).unwrap();
    assert_eq!(rts.items.len(), 2);
    assert_eq!(rts.next_page_token, "3");

    for bad in ["x", "-1", "1.5"] {
        let err = view
            .list_grants(&all, &PageRequest::at(bad, 5))
            .unwrap_err();
        assert!(matches!(err, C1zError::InvalidPageToken { .. }), "{err}");
    }
}

#[test]
fn iterators_cross_many_pages_and_can_stop_early() {
    use crate::common::{entitlement, grant, resource, resource_type, rid};
    use baton_c1z::C1zWriter;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.c1z");
    let mut w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    w.put_resource_type(&resource_type("group", &[2])).unwrap();
    w.put_resource_type(&resource_type("user", &[1])).unwrap();
    let groups: Vec<_> = (0..3)
        .map(|g| resource("group", &format!("g{g}"), None))
        .collect();
    for g in &groups {
        w.put_resource(g).unwrap();
    }
    let ents: Vec<_> = groups.iter().map(|g| entitlement(g, "member")).collect();
    for e in &ents {
        w.put_entitlement(e).unwrap();
    }
    let n = 25_003;
    for i in 0..n {
        w.put_grant(&grant(&ents[i % 3], &rid("user", &format!("u{i}"))))
            .unwrap();
    }
    w.finish().unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let view = reader.latest().unwrap();
    let ids: Vec<String> = view
        .grants(&GrantFilter::default())
        .map(|g| g.unwrap().id)
        .collect();
    assert_eq!(ids.len(), n);
    for (i, id) in ids.iter().enumerate() {
        assert!(id.ends_with(&format!(":user:u{i}")), "{i}: {id}");
    }
    // Filtered iteration over several pages.
    let f = GrantFilter {
        entitlement_id: Some(ents[1].id.clone()),
        ..Default::default()
    };
    assert_eq!(view.grants(&f).count(), n / 3);
    // Stopping early (the prefetch thread is stopped on drop), then iterating again.
    let first: Vec<_> = view
        .grants(&GrantFilter::default())
        .take(12_345)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first.len(), 12_345);
    let mut it = view.grants(&GrantFilter::default());
    assert!(it.next().is_some());
    drop(it);
    assert_eq!(view.grants(&GrantFilter::default()).count(), n);
}

#[test]
fn a_blob_that_does_not_decode_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.c1z");
    write_small(&path, &small(4, "d"), WriterOptions::default());
    // Damage one grant blob inside the database and recompress.
    let conn = crate::common::open_db(&path, dir.path());
    conn.execute("UPDATE v1_grants SET data = x'0aff' WHERE id = 2", [])
        .unwrap();
    drop(conn);
    let mut bytes = b"C1ZF\0".to_vec();
    bytes.extend(
        zstd::encode_all(
            &std::fs::read(dir.path().join("inspect.db")).unwrap()[..],
            3,
        )
        .unwrap(),
    );
    std::fs::write(&path, bytes).unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let view = reader.latest().unwrap();
    let results: Vec<_> = view.grants(&GrantFilter::default()).collect();
    assert_eq!(results.len(), 4);
    assert!(matches!(
        results[1],
        Err(C1zError::Decode { row_id: 2, .. })
    ));
    assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok());
    let err = view
        .list_grants(&GrantFilter::default(), &PageRequest::first(10))
        .unwrap_err();
    assert!(matches!(err, C1zError::Decode { .. }), "{err}");
}
