//! Appending syncs to an existing file and keeping the newest ones.

use crate::common::{entries, small, write_small};
use baton_c1z::{C1zReader, GrantFilter, ReaderOptions, ResourceFilter, SyncType, WriterOptions};

#[test]
fn appending_keeps_the_newest_two_syncs_and_reads_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let opts = || WriterOptions::default().with_temp_dir(tmp.path());

    let s1 = write_small(&path, &small(3, "one"), opts());
    let s2 = write_small(&path, &small(4, "two"), opts());
    {
        let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
        let ids: Vec<_> = reader
            .sync_runs()
            .unwrap()
            .into_iter()
            .map(|r| r.sync_id)
            .collect();
        assert_eq!(ids, vec![s1.clone(), s2.clone()]);
        assert_eq!(reader.latest().unwrap().sync_id(), s2);
        // Each sync sees only its own rows.
        assert_eq!(
            reader
                .sync(&s1)
                .unwrap()
                .grants(&GrantFilter::default())
                .count(),
            3
        );
        assert_eq!(
            reader
                .sync(&s2)
                .unwrap()
                .grants(&GrantFilter::default())
                .count(),
            4
        );
        assert_eq!(reader.view(Some(&s1)).unwrap().sync_id(), s1);
        assert_eq!(reader.view(None).unwrap().sync_id(), s2);
    }

    let s3 = write_small(&path, &small(5, "three"), opts());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let runs = reader.sync_runs().unwrap();
    let ids: Vec<_> = runs.iter().map(|r| r.sync_id.clone()).collect();
    assert_eq!(ids, vec![s2.clone(), s3.clone()]);
    assert!(runs.iter().all(|r| r.is_finished()));
    assert!(matches!(
        reader.sync(&s1).unwrap_err(),
        baton_c1z::C1zError::SyncNotFound { .. }
    ));
    let view = reader.latest().unwrap();
    assert_eq!(view.sync_id(), s3);
    assert_eq!(view.grants(&GrantFilter::default()).count(), 5);
    let groups: Vec<_> = view
        .resources(&ResourceFilter {
            resource_type_id: Some("group".into()),
            ..Default::default()
        })
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(groups.iter().all(|g| g.description.ends_with("three")));
    drop(view);
    drop(reader);

    // Still a rollback-journal database with one zstd frame after cleanup + VACUUM.
    let db = crate::common::raw_db(&path);
    assert_eq!((db[18], db[19]), (1, 1));
    let freelist = u32::from_be_bytes([db[36], db[37], db[38], db[39]]);
    assert_eq!(freelist, 0, "vacuumed");

    // Rows of the removed sync are gone from every table; nothing is left in the temp dir.
    let conn = crate::common::open_db(&path, dir.path());
    for t in [
        "v1_resource_types",
        "v1_resources",
        "v1_entitlements",
        "v1_grants",
        "v1_sync_runs",
    ] {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {t} WHERE sync_id = ?1"),
                [&s1],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{t}");
    }
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn keep_syncs_zero_keeps_everything_and_three_keeps_three() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.c1z");
    for i in 0..4 {
        write_small(
            &path,
            &small(1, &i.to_string()),
            WriterOptions::default().with_keep_syncs(0),
        );
    }
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    assert_eq!(reader.sync_runs().unwrap().len(), 4);
    drop(reader);
    let s = write_small(
        &path,
        &small(1, "x"),
        WriterOptions::default().with_keep_syncs(3),
    );
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let runs = reader.sync_runs().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[2].sync_id, s);
}

#[test]
fn a_resources_only_sync_is_typed_and_passed_over_by_latest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.c1z");
    let only = || WriterOptions::default().with_sync_type(SyncType::ResourcesOnly);
    let types = |path: &std::path::Path| -> Vec<(String, String)> {
        let reader = C1zReader::open(path, ReaderOptions::default()).unwrap();
        reader
            .sync_runs()
            .unwrap()
            .into_iter()
            .map(|r| (r.sync_id, r.sync_type))
            .collect()
    };

    // A classic file (no sync_type column) gains one; its runs stay full.
    let f1 = write_small(&path, &small(3, "one"), WriterOptions::default());
    assert!(!crate::common::has_sync_type_column(&path, dir.path()));
    let r1 = write_small(&path, &small(0, "r1"), only());
    assert!(crate::common::has_sync_type_column(&path, dir.path()));
    assert_eq!(
        types(&path),
        [
            (f1.clone(), "full".into()),
            (r1.clone(), "resources_only".into())
        ]
    );
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    assert_eq!(
        reader.latest().unwrap().sync_id(),
        f1,
        "the newest full sync"
    );
    assert_eq!(
        reader
            .sync(&r1)
            .unwrap()
            .grants(&GrantFilter::default())
            .count(),
        0
    );
    drop(reader);

    // Keeping 2: two full syncs stay whatever resources-only syncs come between, and a
    // resources-only sync older than the oldest kept full sync goes.
    let f2 = write_small(&path, &small(4, "two"), WriterOptions::default());
    let r2 = write_small(&path, &small(0, "r2"), only());
    assert_eq!(
        types(&path),
        [
            (f1.clone(), "full".into()),
            (r1.clone(), "resources_only".into()),
            (f2.clone(), "full".into()),
            (r2.clone(), "resources_only".into()),
        ]
    );
    let f3 = write_small(&path, &small(5, "three"), WriterOptions::default());
    assert_eq!(
        types(&path),
        [
            (f2.clone(), "full".into()),
            (r2.clone(), "resources_only".into()),
            (f3.clone(), "full".into()),
        ]
    );
    // Resources-only syncs alone are bounded too (the newest two), and a file that holds
    // nothing else reads its newest one.
    let r3 = write_small(&path, &small(0, "r3"), only());
    let r4 = write_small(&path, &small(0, "r4"), only());
    let kept: Vec<String> = types(&path).into_iter().map(|(id, _)| id).collect();
    assert_eq!(kept, [f2.clone(), f3.clone(), r3, r4.clone()]);
    let fresh = dir.path().join("fresh.c1z");
    let r5 = write_small(&fresh, &small(0, "r5"), only());
    let reader = C1zReader::open(&fresh, ReaderOptions::default()).unwrap();
    assert_eq!(reader.latest().unwrap().sync_id(), r5);
}

#[test]
fn appending_to_a_pebble_file_is_refused_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.c1z");
    let bytes = b"C1Z3\0\0\0\0\x04abcd-payload".to_vec();
    std::fs::write(&path, &bytes).unwrap();
    let err = baton_c1z::C1zWriter::create(&path, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, baton_c1z::C1zError::PebbleV3 { .. }), "{err}");
    assert!(err.to_string().contains("--storage-engine sqlite"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn empty_existing_file_starts_a_new_c1z() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.c1z");
    std::fs::write(&path, b"").unwrap();
    let s = write_small(&path, &small(1, "x"), WriterOptions::default());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    assert_eq!(reader.latest().unwrap().sync_id(), s);
}
