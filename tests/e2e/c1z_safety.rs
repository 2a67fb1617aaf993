//! Two `segment-cli` syncs racing on one file: each exits 0 with its sync in the file, or is
//! refused with a clear message; the file is always readable, never a false success.

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
