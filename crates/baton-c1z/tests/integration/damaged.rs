//! A c1z whose zstd layer is valid but whose SQLite pages are damaged: a writer refuses to
//! append to it (one clear error) and leaves it byte-for-byte as it was.

use crate::common::{entries, raw_db, small, write_small};
use baton_c1z::{C1zError, C1zWriter, WriterOptions};

/// Overwrites every other page of the second half of the database with garbage, keeping the
/// header and the schema pages intact, and writes it back as a valid c1z (magic + zstd).
fn damage_pages(path: &std::path::Path) {
    let mut db = raw_db(path);
    let page_size = usize::from(u16::from_be_bytes([db[16], db[17]]));
    let page_size = if page_size == 1 { 65_536 } else { page_size };
    let pages = db.len() / page_size;
    assert!(pages >= 8, "only {pages} pages: not enough data to damage");
    for page in (pages / 2..pages).step_by(2) {
        let start = page * page_size;
        for (i, b) in db[start..start + page_size].iter_mut().enumerate() {
            *b = (i % 251) as u8 ^ 0x5a;
        }
    }
    let mut out = b"C1ZF\0".to_vec();
    out.extend(zstd::encode_all(&db[..], 3).unwrap());
    std::fs::write(path, out).unwrap();
}

#[test]
fn appending_to_damaged_sqlite_pages_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    write_small(&path, &small(3_000, "a"), WriterOptions::default());
    damage_pages(&path);
    let before = std::fs::read(&path).unwrap();

    let err = C1zWriter::create(&path, WriterOptions::default().with_temp_dir(tmp.path()))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, C1zError::DamagedDatabase { .. }), "{err}");
    let message = err.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("damaged"), "{message}");
    assert!(message.contains("move the file aside"), "{message}");
    assert!(message.contains("-f/--file"), "{message}");

    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(entries(dir.path()), ["sync.c1z"]);
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn an_intact_file_passes_the_check_and_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let first = write_small(&path, &small(3_000, "a"), WriterOptions::default());
    let second = write_small(&path, &small(10, "b"), WriterOptions::default());
    let reader = baton_c1z::C1zReader::open(&path, baton_c1z::ReaderOptions::default()).unwrap();
    let ids: Vec<String> = reader
        .sync_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.sync_id)
        .collect();
    assert_eq!(ids, [first, second]);
}
