//! Regression tests of review findings: a sync never appends one workspace to a c1z file that
//! holds another (the file is left untouched).

use segment_connector::{SyncError, SyncOptions, sync};
use segment_mock::{GenSpec, MockConfig, generate};

use crate::support::{session, start, sync_mock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appending_another_workspace_is_refused_and_the_file_untouched() {
    let spec = GenSpec::sized(5, 2, 2, 1, 1, 1, 2);
    let first = generate(&spec.clone().with_seed(1));
    let second = generate(&spec.with_seed(2));
    assert_ne!(first.id, second.id);
    let (first_id, second_id) = (first.id.clone(), second.id.clone());
    let server_a = start(MockConfig::new(first)).await;
    let server_b = start(MockConfig::new(second)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let options = SyncOptions::default();

    sync_mock(&server_a, &path, &options).await;
    let before = std::fs::read(&path).unwrap();

    let err = sync(&session(&server_b), &path, &options)
        .await
        .unwrap_err();
    match &err {
        SyncError::WorkspaceMismatch {
            file_workspace,
            workspace,
            ..
        } => {
            assert_eq!(file_workspace, &first_id);
            assert_eq!(workspace, &second_id);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "{} holds workspace {first_id}; refusing to append workspace {second_id}; use another --file",
            path.display()
        )
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is untouched"
    );

    // The same workspace appends as before.
    let report = sync_mock(&server_a, &path, &options).await;
    assert!(report.appended);
}
