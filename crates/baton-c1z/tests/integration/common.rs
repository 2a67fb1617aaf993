//! Shared helpers: object builders and file utilities.

use baton_c1z::{C1zWriter, WriterOptions};
use baton_model::pb;
use std::path::{Path, PathBuf};

/// `<workspace root>/../shared`, or `None` (after printing the skip line) when absent.
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let manifest = dir.join("Cargo.toml");
        if manifest.exists()
            && std::fs::read_to_string(&manifest)
                .map(|s| s.contains("[workspace]"))
                .unwrap_or(false)
        {
            break;
        }
        if !dir.pop() {
            assert!(
                std::env::var_os("CI").is_none(),
                "../shared not found while CI is set: these tests must run in CI"
            );
            println!("skipping: ../shared not found");
            return None;
        }
    }
    let shared = dir.join("..").join("shared");
    if shared.is_dir() {
        Some(shared)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared not found while CI is set: these tests must run in CI"
        );
        println!("skipping: ../shared not found");
        None
    }
}

pub(crate) fn rid(rt: &str, id: &str) -> pb::ResourceId {
    pb::ResourceId {
        resource_type: rt.into(),
        resource: id.into(),
        ..Default::default()
    }
}

pub(crate) fn ann(name: &str, value: &[u8]) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{name}"),
        value: value.to_vec(),
    }
}

pub(crate) fn resource_type(id: &str, traits: &[i32]) -> pb::ResourceType {
    pb::ResourceType {
        id: id.into(),
        display_name: format!("{id} type"),
        traits: traits.to_vec(),
        ..Default::default()
    }
}

pub(crate) fn resource(rt: &str, id: &str, parent: Option<pb::ResourceId>) -> pb::Resource {
    pb::Resource {
        id: Some(rid(rt, id)),
        parent_resource_id: parent,
        display_name: format!("{rt} {id}"),
        ..Default::default()
    }
}

pub(crate) fn entitlement(res: &pb::Resource, slug: &str) -> pb::Entitlement {
    let id = res.id.as_ref().unwrap();
    pb::Entitlement {
        resource: Some(res.clone()),
        id: format!("{}:{}:{slug}", id.resource_type, id.resource),
        display_name: format!("{} {slug}", res.display_name),
        slug: slug.into(),
        purpose: 1,
        ..Default::default()
    }
}

pub(crate) fn grant(ent: &pb::Entitlement, principal: &pb::ResourceId) -> pb::Grant {
    pb::Grant {
        entitlement: Some(pb::Entitlement {
            id: ent.id.clone(),
            resource: ent.resource.clone(),
            ..Default::default()
        }),
        principal: Some(pb::Resource {
            id: Some(principal.clone()),
            ..Default::default()
        }),
        id: format!(
            "{}:{}:{}",
            ent.id, principal.resource_type, principal.resource
        ),
        ..Default::default()
    }
}

/// A small consistent sync: one workspace, `users` users, two groups; returns what was written.
pub(crate) struct Small {
    pub(crate) resource_types: Vec<pb::ResourceType>,
    pub(crate) resources: Vec<pb::Resource>,
    pub(crate) entitlements: Vec<pb::Entitlement>,
    pub(crate) grants: Vec<pb::Grant>,
}

pub(crate) fn small(users: usize, tag: &str) -> Small {
    let resource_types = vec![
        resource_type("workspace", &[]),
        resource_type("user", &[1]),
        resource_type("group", &[2]),
    ];
    let ws = resource("workspace", "ws1", None);
    let mut resources = vec![ws.clone()];
    let ws_id = ws.id.clone();
    for g in 0..2 {
        let mut r = resource("group", &format!("g{g}"), ws_id.clone());
        r.description = format!("group {g} {tag}");
        resources.push(r);
    }
    for u in 0..users {
        resources.push(resource("user", &format!("u{u}"), ws_id.clone()));
    }
    let entitlements: Vec<_> = resources[1..3]
        .iter()
        .map(|g| entitlement(g, "member"))
        .collect();
    let mut grants = Vec::new();
    for u in 0..users {
        let e = &entitlements[u % 2];
        grants.push(grant(e, &rid("user", &format!("u{u}"))));
    }
    Small {
        resource_types,
        resources,
        entitlements,
        grants,
    }
}

/// Puts every object of `data` into `w`.
pub(crate) fn put_small(w: &mut C1zWriter, data: &Small) {
    for rt in &data.resource_types {
        w.put_resource_type(rt).unwrap();
    }
    for r in &data.resources {
        w.put_resource(r).unwrap();
    }
    for e in &data.entitlements {
        w.put_entitlement(e).unwrap();
    }
    for g in &data.grants {
        w.put_grant(g).unwrap();
    }
}

/// Writes `data` as one sync into `path`; returns the sync id.
pub(crate) fn write_small(path: &Path, data: &Small, opts: WriterOptions) -> String {
    let mut w = C1zWriter::create(path, opts).unwrap();
    put_small(&mut w, data);
    let id = w.sync_id().to_owned();
    let summary = w.finish().unwrap();
    assert_eq!(summary.sync_id, id);
    id
}

/// Names of the entries of `dir`.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Decompresses a c1z file into raw SQLite bytes (via the zstd crate directly).
pub(crate) fn raw_db(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..5], b"C1ZF\0");
    zstd::decode_all(&bytes[5..]).unwrap()
}

/// Opens the SQLite database inside a c1z with rusqlite (copy in `dir`).
pub(crate) fn open_db(path: &Path, dir: &Path) -> rusqlite::Connection {
    let db = dir.join("inspect.db");
    std::fs::write(&db, raw_db(path)).unwrap();
    rusqlite::Connection::open(db).unwrap()
}

/// Whether the file's `v1_sync_runs` has a `sync_type` column.
pub(crate) fn has_sync_type_column(path: &Path, dir: &Path) -> bool {
    let conn = open_db(path, dir);
    conn.query_row(
        "SELECT count(*) FROM pragma_table_info('v1_sync_runs') WHERE name = 'sync_type'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}
