//! Diffs: two syncs of one file, the newest syncs of two files, no change (the official Go
//! SDK fixture's two syncs), and too few syncs.

use crate::common::{shared_dir, workspace, write};
use baton_access::{AccessError, ChangeKind, default_pair, diff};
use baton_c1z::{C1zReader, ObjectKind, ReaderOptions};

#[test]
fn a_grant_and_a_revoke_between_two_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.c1z");
    let before = workspace();
    let first = write(&path, &before);
    let old_copy = dir.path().join("old.c1z");
    std::fs::copy(&path, &old_copy).unwrap();
    let mut after = before.clone();
    after.revoke("group:g1:member:user:u1");
    after.grant("group:g2:member", "user:u3", None);
    let second = write(&path, &after);
    let file_bytes = std::fs::read(&path).unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    assert_eq!(
        default_pair(&reader).unwrap(),
        (first.clone(), second.clone())
    );
    let d = diff(
        &reader.sync(&first).unwrap(),
        &reader.sync(&second).unwrap(),
    )
    .unwrap();
    let rows: Vec<String> = d
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.kind.as_str(),
                c.object,
                c.principal.as_ref().map(|p| p.label()).unwrap_or_default(),
                c.entitlement_name
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "removed grant user Alice Engineering member",
            "added grant user Carol Platform member",
        ]
    );
    assert_eq!(d.changes[0].kind, ChangeKind::Removed);
    assert_eq!(d.changes[0].object, ObjectKind::Grant);
    assert_eq!((d.summary.grants_added, d.summary.grants_removed), (1, 1));
    assert_eq!(d.summary.principals, 2);
    assert!(d.summary.line().contains("grants +1 -1 (2 principal(s))"));

    // The same between two files.
    let old = C1zReader::open(&old_copy, ReaderOptions::default()).unwrap();
    let d2 = diff(&old.latest().unwrap(), &reader.latest().unwrap()).unwrap();
    assert_eq!(d2.changes, d.changes);
    // Reading never wrote the file.
    drop(reader);
    assert_eq!(std::fs::read(&path).unwrap(), file_bytes);
}

#[test]
fn one_sync_is_not_enough_for_the_default_pair() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.c1z");
    write(&path, &workspace());
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let err = default_pair(&reader).unwrap_err();
    assert!(
        matches!(err, AccessError::NotEnoughSyncs { found: 1, .. }),
        "{err}"
    );
}

#[test]
fn the_official_sdk_fixture_has_no_change_between_its_two_syncs() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("fixtures/official-sdk-two-syncs.c1z");
    let before = std::fs::read(&path).unwrap();
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let (older, newer) = default_pair(&reader).unwrap();
    assert_eq!(older, "3Ml2s76KZUNUPdDyAglhrQ5Wg8H");
    assert_eq!(newer, "3Ml2s1OAGm1rOuvXMb5tGaIqWkH");
    let d = diff(&reader.sync(&older).unwrap(), &reader.sync(&newer).unwrap()).unwrap();
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(d.summary.is_empty());
    assert_eq!(
        d.summary.line(),
        "no change from sync 3Ml2s76KZUNUPdDyAglhrQ5Wg8H to sync 3Ml2s1OAGm1rOuvXMb5tGaIqWkH"
    );
    // Against our own file, only `group:g1:member:user:u1` is in both.
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.c1z");
    write(&ours, &workspace());
    let other = C1zReader::open(&ours, ReaderOptions::default()).unwrap();
    let d = diff(&reader.latest().unwrap(), &other.latest().unwrap()).unwrap();
    assert_eq!(d.summary.grants_removed, 3);
    assert_eq!(d.summary.grants_added, 8);
    drop(reader);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
