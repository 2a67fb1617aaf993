//! Two writers on one target: the second is refused while the first writes, never interleaved;
//! racing writers never produce a damaged file or a success whose sync is not in the file.

use crate::common::{entries, small, write_small};
use baton_c1z::{C1zError, C1zReader, C1zWriter, ReaderOptions, WriterOptions};
use std::sync::{Arc, Barrier, Mutex};

#[test]
fn a_second_writer_is_refused_while_the_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let first = write_small(&path, &small(5, "a"), WriterOptions::default());

    let w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    let err = C1zWriter::create(&path, WriterOptions::default())
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, C1zError::Locked { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("another sync"), "{message}");
    assert!(message.contains("-f/--file"), "{message}");
    let second = w.sync_id().to_owned();
    w.finish().unwrap();

    // Once the first is done, the next writer appends to what it wrote.
    let third = write_small(
        &path,
        &small(2, "c"),
        WriterOptions::default().with_keep_syncs(0),
    );
    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let ids: Vec<String> = reader
        .sync_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.sync_id)
        .collect();
    assert_eq!(ids, [first, second, third]);
    assert_eq!(entries(dir.path()), ["sync.c1z"]);
}

#[test]
fn a_new_file_is_locked_too_and_an_unfinished_one_is_not_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.c1z");
    let w = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    let err = C1zWriter::create(&path, WriterOptions::default())
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, C1zError::Locked { .. }), "{err}");
    drop(w);
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn racing_writers_never_damage_the_file_or_report_a_false_success() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("race.c1z"));
    let succeeded = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (path, succeeded, refused, barrier) = (
                Arc::clone(&path),
                Arc::clone(&succeeded),
                Arc::clone(&refused),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                let data = small(300, &format!("t{t}"));
                for _ in 0..ROUNDS {
                    barrier.wait();
                    let opts = WriterOptions::default().with_keep_syncs(0);
                    let mut w = match C1zWriter::create(path.as_path(), opts) {
                        Ok(w) => w,
                        Err(C1zError::Locked { .. }) => {
                            *refused.lock().unwrap() += 1;
                            continue;
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    };
                    crate::common::put_small(&mut w, &data);
                    let summary = w.finish().unwrap();
                    succeeded.lock().unwrap().push(summary.sync_id);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let succeeded = succeeded.lock().unwrap().clone();
    let refused = *refused.lock().unwrap();
    assert_eq!(succeeded.len() + refused, THREADS * ROUNDS);
    assert!(!succeeded.is_empty());

    // Every reported success is in the file, complete; nothing else is.
    let reader = C1zReader::open(path.as_path(), ReaderOptions::default()).unwrap();
    let mut in_file: Vec<String> = reader
        .sync_runs()
        .unwrap()
        .into_iter()
        .map(|r| r.sync_id)
        .collect();
    in_file.sort();
    let mut expected = succeeded.clone();
    expected.sort();
    assert_eq!(in_file, expected);
    for id in &succeeded {
        assert_eq!(reader.sync(id).unwrap().stats().unwrap().grants, 300);
    }
    assert_eq!(entries(dir.path()), ["race.c1z"]);
}
