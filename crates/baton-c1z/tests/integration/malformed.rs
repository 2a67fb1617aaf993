//! Malformed inputs: each gives its typed error, never a panic.

use crate::common::{small, write_small};
use baton_c1z::{C1zError, C1zReader, ReaderOptions, WriterOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn open(path: &Path) -> C1zError {
    C1zReader::open(path, ReaderOptions::default()).unwrap_err()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn c1z_of(payload: &[u8]) -> Vec<u8> {
    let mut v = b"C1ZF\0".to_vec();
    v.extend(zstd::encode_all(payload, 3).unwrap());
    v
}

fn valid_file(dir: &Path) -> Vec<u8> {
    let p = dir.join("valid.c1z");
    write_small(&p, &small(50, "v"), WriterOptions::default());
    std::fs::read(p).unwrap()
}

#[test]
fn missing_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(&dir.path().join("nope.c1z"));
    assert!(matches!(err, C1zError::Missing { .. }), "{err}");
    let err = open(&write(dir.path(), "empty.c1z", b""));
    assert!(matches!(err, C1zError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("run a sync"));
}

#[test]
fn wrong_magic_short_file_and_pebble() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(&write(dir.path(), "three.c1z", b"C1Z"));
    assert!(
        matches!(&err, C1zError::BadMagic { found, .. } if found == b"C1Z"),
        "{err}"
    );
    let err = open(&write(
        dir.path(),
        "zip.c1z",
        b"PK\x03\x04 not a c1z at all",
    ));
    assert!(matches!(err, C1zError::BadMagic { .. }), "{err}");
    let err = open(&write(dir.path(), "v3.c1z", b"C1Z3\0\0\0\0\x10manifest..."));
    assert!(matches!(err, C1zError::PebbleV3 { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("regenerate it with --storage-engine sqlite")
    );
    // A raw zstd stream without the magic.
    let err = open(&write(
        dir.path(),
        "raw.zst",
        &zstd::encode_all(&b"x"[..], 3).unwrap(),
    ));
    assert!(matches!(err, C1zError::BadMagic { .. }), "{err}");
}

#[test]
fn truncated_and_corrupt_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_file(dir.path());

    let err = open(&write(dir.path(), "magic-only.c1z", b"C1ZF\0"));
    assert!(matches!(err, C1zError::TruncatedZstd { .. }), "{err}");
    let err = open(&write(dir.path(), "short-header.c1z", &valid[..8]));
    assert!(matches!(err, C1zError::TruncatedZstd { .. }), "{err}");
    for cut in [valid.len() / 2, valid.len() - 1, 30] {
        let err = open(&write(dir.path(), "cut.c1z", &valid[..cut]));
        assert!(
            matches!(err, C1zError::TruncatedZstd { .. }),
            "cut at {cut}: {err}"
        );
    }

    // Checksum mismatch (last 4 bytes are the content checksum).
    let mut bad = valid.clone();
    let n = bad.len();
    for b in &mut bad[n - 4..] {
        *b ^= 0xA5;
    }
    let err = open(&write(dir.path(), "checksum.c1z", &bad));
    assert!(matches!(err, C1zError::CorruptZstd { .. }), "{err}");
    // Reserved bit of the frame header descriptor.
    let mut bad = valid.clone();
    bad[9] |= 0x08;
    let err = open(&write(dir.path(), "reserved.c1z", &bad));
    assert!(matches!(err, C1zError::CorruptZstd { .. }), "{err}");
    // Not a zstd frame after the magic.
    let err = open(&write(
        dir.path(),
        "garbage.c1z",
        b"C1ZF\0this is not zstd data at all",
    ));
    assert!(matches!(err, C1zError::CorruptZstd { .. }), "{err}");
    // Garbage in the middle of the blocks must not panic whatever it turns into.
    for pos in (20..valid.len() - 8).step_by(97) {
        let mut bad = valid.clone();
        bad[pos] ^= 0xFF;
        let p = write(dir.path(), "flip.c1z", &bad);
        if let Err(err) = C1zReader::open(&p, ReaderOptions::default()) {
            assert!(
                matches!(
                    err,
                    C1zError::CorruptZstd { .. }
                        | C1zError::TruncatedZstd { .. }
                        | C1zError::NotSqlite { .. }
                        | C1zError::WindowTooLarge { .. }
                        | C1zError::DecodedTooLarge { .. }
                ),
                "flip at {pos}: {err:?}"
            );
        }
    }
}

#[test]
fn payload_that_is_not_a_c1z_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(&write(
        dir.path(),
        "text.c1z",
        &c1z_of(b"hello, this is not SQLite"),
    ));
    assert!(matches!(err, C1zError::NotSqlite { .. }), "{err}");
    let err = open(&write(dir.path(), "empty-payload.c1z", &c1z_of(b"")));
    assert!(matches!(err, C1zError::NotSqlite { .. }), "{err}");
    let mut fake = b"SQLite format 3\0".to_vec();
    fake.extend(vec![0xEEu8; 4096 - 16]);
    let err = open(&write(dir.path(), "fake.c1z", &c1z_of(&fake)));
    assert!(matches!(err, C1zError::NotSqlite { .. }), "{err}");

    // A real SQLite database without the c1z tables.
    let db = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE foo (x); INSERT INTO foo VALUES (1);")
            .unwrap();
    }
    let err = open(&write(
        dir.path(),
        "other.c1z",
        &c1z_of(&std::fs::read(&db).unwrap()),
    ));
    match err {
        C1zError::MissingTables { tables, .. } => assert_eq!(tables.len(), 5),
        other => panic!("{other:?}"),
    }
    // The same database with only some tables.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE v1_sync_runs (id integer primary key, sync_id text not null, started_at datetime not null, ended_at datetime, sync_token text not null);").unwrap();
    }
    let err = open(&write(
        dir.path(),
        "partial.c1z",
        &c1z_of(&std::fs::read(&db).unwrap()),
    ));
    match err {
        C1zError::MissingTables { tables, .. } => {
            assert_eq!(
                tables,
                [
                    "v1_resource_types",
                    "v1_resources",
                    "v1_entitlements",
                    "v1_grants"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A frame header: magic, descriptor, optional window descriptor, 8-byte content size.
fn frame_header(window_descriptor: Option<u8>, content_size: u64) -> Vec<u8> {
    let mut v = b"C1ZF\0".to_vec();
    v.extend([0x28, 0xB5, 0x2F, 0xFD]);
    let single = window_descriptor.is_none();
    v.push(0xC0 | if single { 0x20 } else { 0 } | 0x04);
    if let Some(wd) = window_descriptor {
        v.push(wd);
    }
    v.extend(content_size.to_le_bytes());
    // One raw last block of 3 bytes, then junk; never reached.
    v.extend([0x19, 0, 0, b'a', b'b', b'c']);
    v
}

#[test]
fn declared_size_and_window_over_the_caps() {
    let dir = tempfile::tempdir().unwrap();
    // 1 TiB declared: refused before decoding.
    let err = open(&write(
        dir.path(),
        "huge.c1z",
        &frame_header(Some(0x58), 1 << 40),
    ));
    assert!(
        matches!(err, C1zError::DecodedTooLarge { size, .. } if size == 1 << 40),
        "{err}"
    );
    // Window 2^28 (exponent 18): over the 128 MiB decoder limit.
    let err = open(&write(
        dir.path(),
        "window.c1z",
        &frame_header(Some(18 << 3), 100),
    ));
    assert!(
        matches!(err, C1zError::WindowTooLarge { window, .. } if window == 1 << 28),
        "{err}"
    );

    // The configured cap also applies to the declared size of a real file...
    let valid = valid_file(dir.path());
    let p = write(dir.path(), "valid2.c1z", &valid);
    let err =
        C1zReader::open(&p, ReaderOptions::default().with_max_decoded_size(1000)).unwrap_err();
    assert!(
        matches!(err, C1zError::DecodedTooLarge { limit: 1000, .. }),
        "{err}"
    );
    // ...and while decoding a stream that does not declare its size.
    let payload = crate::common::raw_db(&p);
    let mut enc = zstd::stream::write::Encoder::new(b"C1ZF\0".to_vec(), 3).unwrap();
    enc.include_contentsize(false).unwrap();
    enc.write_all(&payload).unwrap();
    let no_fcs = enc.finish().unwrap();
    let p = write(dir.path(), "nofcs.c1z", &no_fcs);
    assert!(C1zReader::open(&p, ReaderOptions::default()).is_ok());
    let err =
        C1zReader::open(&p, ReaderOptions::default().with_max_decoded_size(4096)).unwrap_err();
    assert!(
        matches!(err, C1zError::DecodedTooLarge { limit: 4096, .. }),
        "{err}"
    );
}

#[test]
fn concatenated_frames_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_file(dir.path());
    let p = write(dir.path(), "v.c1z", &valid);
    let db = crate::common::raw_db(&p);
    let (a, b) = db.split_at(db.len() / 3);
    let mut two = b"C1ZF\0".to_vec();
    two.extend(zstd::encode_all(a, 1).unwrap());
    two.extend(zstd::encode_all(b, 5).unwrap());
    let p = write(dir.path(), "two.c1z", &two);
    let reader = C1zReader::open(&p, ReaderOptions::default()).unwrap();
    assert_eq!(reader.sync_runs().unwrap().len(), 1);
}

#[test]
fn appending_to_a_foreign_sqlite_payload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE foo (x);").unwrap();
    }
    let bytes = c1z_of(&std::fs::read(&db).unwrap());
    let p = write(dir.path(), "foreign.c1z", &bytes);
    let err = baton_c1z::C1zWriter::create(&p, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, C1zError::MissingTables { .. }), "{err}");
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
    let p = write(dir.path(), "text.c1z", &c1z_of(b"plain text"));
    let err = baton_c1z::C1zWriter::create(&p, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, C1zError::NotSqlite { .. }), "{err}");
}

#[test]
fn reader_and_writer_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<baton_c1z::C1zWriter>();
    send::<C1zReader>();
}
