//! The bytes on disk: container magic, zstd frame header, SQLite header and schema (Profile A).

use crate::common::{ann, grant, open_db, raw_db, small, write_small};
use baton_c1z::{C1zWriter, WriterOptions};

/// (content size, window size, checksum flag) of the frame starting at `b`.
fn frame_info(b: &[u8]) -> (Option<u64>, u64, bool) {
    assert_eq!(&b[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
    let fhd = b[4];
    assert_eq!(fhd & 0x08, 0, "reserved bit");
    let single = fhd & 0x20 != 0;
    let fcs_len = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let dict_len = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    let mut pos = 5;
    let mut window = 0;
    if !single {
        let wd = b[pos];
        pos += 1;
        let base = 1u64 << (10 + (wd >> 3));
        window = base + base / 8 * u64::from(wd & 7);
    }
    pos += dict_len;
    let fcs = (fcs_len > 0).then(|| {
        let mut v = [0u8; 8];
        v[..fcs_len].copy_from_slice(&b[pos..pos + fcs_len]);
        let raw = u64::from_le_bytes(v);
        if fcs_len == 2 { raw + 256 } else { raw }
    });
    if single {
        window = fcs.unwrap();
    }
    (fcs, window, fhd & 0x04 != 0)
}

fn check_file(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..5], b"C1ZF\0");
    let (fcs, window, checksum) = frame_info(&bytes[5..]);
    let db = raw_db(path);
    assert_eq!(fcs, Some(db.len() as u64), "content size is pledged");
    assert!(window <= 8 << 20, "window {window} over 8 MiB");
    assert!(checksum, "content checksum on");
    // Exactly one frame: decoding the first frame alone consumes the whole body.
    let mut dec = zstd::stream::read::Decoder::new(&bytes[5..])
        .unwrap()
        .single_frame();
    let mut one = Vec::new();
    std::io::Read::read_to_end(&mut dec, &mut one).unwrap();
    assert_eq!(one.len(), db.len());

    assert_eq!(&db[..16], b"SQLite format 3\0");
    assert_eq!((db[18], db[19]), (1, 1), "rollback journal, not WAL");
    assert_eq!(
        u16::from_be_bytes([db[16], db[17]]),
        4096,
        "default page size"
    );
    assert_eq!(&db[60..64], &[0; 4], "no user_version");
    assert_eq!(&db[68..72], &[0; 4], "no application_id");
    assert_eq!(
        u32::from_be_bytes([db[56], db[57], db[58], db[59]]),
        1,
        "UTF-8"
    );
}

#[test]
fn small_file_header_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.c1z");
    write_small(&path, &small(3, "h"), WriterOptions::default());
    check_file(&path);
}

#[test]
fn large_file_header_bytes_and_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.c1z");
    let data = small(1, "h");
    let mut w = C1zWriter::create(&path, WriterOptions::default().with_batch_size(1000)).unwrap();
    for rt in &data.resource_types {
        w.put_resource_type(rt).unwrap();
    }
    for r in &data.resources {
        w.put_resource(r).unwrap();
    }
    for e in &data.entitlements {
        w.put_entitlement(e).unwrap();
    }
    for i in 0..30_000 {
        let p = crate::common::rid("user", &format!("user-with-a-long-identifier-{i:08}"));
        w.put_grant(&grant(&data.entitlements[i % 2], &p)).unwrap();
    }
    let summary = w.finish().unwrap();
    assert!(
        summary.database_bytes > 4 << 20,
        "{}",
        summary.database_bytes
    );
    assert_eq!(summary.counts.grants, 30_000);
    let bytes = std::fs::read(&path).unwrap();
    let (_, window, _) = frame_info(&bytes[5..]);
    assert!((1 << 20..=8 << 20).contains(&window), "window {window}");
    check_file(&path);
}

/// The unique indexes every written file has (sorted by name).
const UNIQUE_INDEXES: [&str; 7] = [
    "idx_assets_external_sync_v1",
    "idx_entitlements_external_sync_v1",
    "idx_grants_external_sync_v1",
    "idx_resource_types_external_sync_v1",
    "idx_resources_parent_resource_id_v1",
    "idx_session_store_sync_key_v1",
    "idx_sync_runs_sync_id_v1",
];

/// The non-unique lookup indexes of §2.3 on classic columns (sorted by name).
const LOOKUP_INDEXES: [&str; 7] = [
    "idx_entitlements_resource_id_v1",
    "idx_grants_entitlement_id_principal_id_v1",
    "idx_grants_entitlement_sync_grant_v1",
    "idx_grants_principal_id_v1",
    "idx_grants_resource_type_id_resource_id_v1",
    "idx_resources_external_sync_v1",
    "idx_resources_resource_type_id_v1",
];

fn index_names(conn: &rusqlite::Connection) -> Vec<String> {
    conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name",
    )
    .unwrap()
    .query_map([], |r| r.get(0))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn lookup_indexes_are_written_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idx.c1z");
    write_small(
        &path,
        &small(3, "i"),
        WriterOptions::default().with_lookup_indexes(true),
    );
    let conn = open_db(&path, dir.path());
    let mut all: Vec<&str> = UNIQUE_INDEXES
        .iter()
        .chain(&LOOKUP_INDEXES)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(index_names(&conn), all);
    // Indexed columns as in §2.3.
    let cols = |idx: &str| -> Vec<String> {
        conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .unwrap()
            .query_map([idx], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        cols("idx_grants_entitlement_sync_grant_v1"),
        ["entitlement_id", "sync_id", "id"]
    );
    assert_eq!(
        cols("idx_resources_external_sync_v1"),
        ["parent_resource_type_id", "parent_resource_id"]
    );
    drop(conn);

    // Appending without the option keeps the indexes the file has (and maintains them).
    write_small(&path, &small(4, "j"), WriterOptions::default());
    let conn = open_db(&path, dir.path());
    assert_eq!(index_names(&conn), all);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn profile_a_schema_and_sync_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.c1z");
    let mut data = small(3, "s");
    data.grants[0].annotations.push(ann(
        "c1.connector.v2.GrantExpandable",
        &[10, 3, b'a', b':', b'b'],
    ));
    let sync_id = write_small(&path, &data, WriterOptions::default());
    let conn = open_db(&path, dir.path());

    assert_eq!(
        columns(&conn, "v1_resource_types"),
        ["id", "external_id", "data", "sync_id", "discovered_at"]
    );
    assert_eq!(
        columns(&conn, "v1_resources"),
        [
            "id",
            "resource_type_id",
            "external_id",
            "parent_resource_type_id",
            "parent_resource_id",
            "data",
            "sync_id",
            "discovered_at"
        ]
    );
    assert_eq!(
        columns(&conn, "v1_entitlements"),
        [
            "id",
            "resource_type_id",
            "resource_id",
            "external_id",
            "data",
            "sync_id",
            "discovered_at"
        ]
    );
    assert_eq!(
        columns(&conn, "v1_grants"),
        [
            "id",
            "resource_type_id",
            "resource_id",
            "entitlement_id",
            "principal_resource_type_id",
            "principal_resource_id",
            "external_id",
            "data",
            "sync_id",
            "discovered_at"
        ]
    );
    assert_eq!(
        columns(&conn, "v1_sync_runs"),
        ["id", "sync_id", "started_at", "ended_at", "sync_token"]
    );
    assert_eq!(
        columns(&conn, "v1_assets"),
        [
            "id",
            "external_id",
            "content_type",
            "data",
            "sync_id",
            "discovered_at"
        ]
    );
    assert_eq!(
        columns(&conn, "v1_connector_sessions"),
        ["id", "sync_id", "key", "value"]
    );
    let sessions: i64 = conn
        .query_row("SELECT count(*) FROM v1_connector_sessions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(sessions, 0);

    // Unique (external_id, sync_id) indexes on every object table.
    for table in [
        "v1_resource_types",
        "v1_resources",
        "v1_entitlements",
        "v1_grants",
        "v1_assets",
    ] {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1")
            .unwrap();
        let uniques: Vec<String> = stmt
            .query_map([table], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let has = uniques.iter().any(|idx| {
            let cols: Vec<String> = conn
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                .unwrap()
                .query_map([idx], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            cols == ["external_id", "sync_id"]
        });
        assert!(has, "{table} lacks the unique (external_id, sync_id) index");
    }
    let unique_sync_runs: Vec<String> = conn
        .prepare("SELECT name FROM pragma_index_list('v1_sync_runs') WHERE \"unique\" = 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(unique_sync_runs, ["idx_sync_runs_sync_id_v1"]);
    // By default only the unique indexes are written; the non-unique lookup indexes are left
    // to the readers, which create them on open (c1z-format.md §1.3 step 3).
    assert_eq!(index_names(&conn), UNIQUE_INDEXES);
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, 0);

    // Sync run: KSUID, Go-layout local timestamps, final token.
    let (sid, started, ended, token): (String, String, String, String) = conn
        .query_row(
            "SELECT sync_id, started_at, ended_at, sync_token FROM v1_sync_runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(sid, sync_id);
    assert_eq!(sid.len(), 27);
    assert!(sid.bytes().all(|c| c.is_ascii_alphanumeric()));
    for t in [&started, &ended] {
        let b = t.as_bytes();
        assert!(
            t.len() == 19 || (t.len() > 20 && t.len() <= 29 && b[19] == b'.'),
            "{t}"
        );
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b'-', b'-', b' ', b':', b':'),
            "{t}"
        );
        assert!(!t.ends_with('0') || t.len() == 19, "trailing zero in {t}");
    }
    assert!(started <= ended);
    assert_eq!(token, r#"{"needs_expansion":true,"version":1}"#);
    // GrantExpandable stays inside the grant blob.
    let blob: Vec<u8> = conn
        .query_row(
            "SELECT data FROM v1_grants WHERE external_id = ?1",
            [&data.grants[0].id],
            |r| r.get(0),
        )
        .unwrap();
    let g = <baton_model::pb::Grant as prost::Message>::decode(blob.as_slice()).unwrap();
    assert_eq!(g, data.grants[0]);
    // Denormalised columns.
    let row: (String, String, String, String, String) = conn
        .query_row(
            "SELECT resource_type_id, resource_id, entitlement_id, principal_resource_type_id, principal_resource_id FROM v1_grants WHERE external_id = ?1",
            [&data.grants[0].id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "group".into(),
            "g0".into(),
            "group:g0:member".into(),
            "user".into(),
            "u0".into()
        )
    );
    let (ext, ptype, pid): (String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT external_id, parent_resource_type_id, parent_resource_id FROM v1_resources WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((ext.as_str(), ptype, pid), ("workspace:ws1", None, None));
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete");
}
