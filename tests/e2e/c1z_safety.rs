//! Two `segment-cli` syncs racing on one file: each exits 0 with its sync in the file, or is
//! refused with a clear message; the file is always readable, never a false success. A sync
//! onto a c1z whose SQLite pages are damaged is refused and writes nothing.

use baton_c1z::{C1zReader, ReaderOptions};

use crate::common::{self, small_workspace, with_conn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_syncs_never_damage_the_file_or_report_a_false_success() {
    let server = common::start(small_workspace()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("race.c1z");
    let mut succeeded = Vec::new();
    let mut refused = 0;
    for _round in 0..3 {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let argv = with_conn(
                    &server,
                    &[
                        "-f",
                        &file.to_string_lossy(),
                        "--output",
                        "json",
                        "--keep-syncs",
                        "0",
                    ],
                );
                let path = dir.path().to_path_buf();
                tokio::spawn(async move { common::run(&path, &argv).await })
            })
            .collect();
        for run in runs {
            let out = run.await.unwrap();
            match out.code {
                0 => succeeded.push(out.json()["sync_id"].as_str().unwrap().to_owned()),
                1 => {
                    assert!(
                        out.stderr.contains("being written by another sync"),
                        "{}",
                        out.stderr
                    );
                    refused += 1;
                }
                other => panic!("exit {other}: {}", out.stderr),
            }
        }
    }
    assert_eq!(succeeded.len() + refused, 9);
    let reader = C1zReader::open(&file, ReaderOptions::default()).unwrap();
    let mut in_file: Vec<String> = reader
        .sync_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.sync_id)
        .collect();
    in_file.sort();
    succeeded.sort();
    assert_eq!(in_file, succeeded);
    for id in &succeeded {
        assert!(reader.sync(id).unwrap().stats().unwrap().grants > 0);
    }
}

/// Overwrites every other page of the second half of the database inside `path` (keeping the
/// zstd layer valid).
fn damage_pages(path: &std::path::Path) {
    let mut db = common::decompressed(path);
    let page_size = usize::from(u16::from_be_bytes([db[16], db[17]]));
    let pages = db.len() / page_size;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_refuses_to_append_to_damaged_sqlite_pages() {
    let server = common::start(segment_mock::generate(&segment_mock::GenSpec::default())).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sync.c1z");
    let sync = with_conn(&server, &["-f", &file.to_string_lossy()]);
    common::run(dir.path(), &sync).await.expect_code(0);
    damage_pages(&file);
    let before = std::fs::read(&file).unwrap();

    let out = common::run(dir.path(), &sync).await;
    out.expect_code(1);
    let lines = out.stderr_plain_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("is damaged"), "{}", lines[0]);
    assert!(lines[0].contains("move the file aside"), "{}", lines[0]);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["sync.c1z"]);
}
