//! What killed writers leave behind is removed by the next writer, and only that: a writer
//! killed with SIGKILL (a child process running this test binary) leaves its working directory;
//! the next writer removes it and the stale temporary files next to the target, and keeps the
//! working directory of a live writer and everything that is not ours.

use crate::common::{entries, small, write_small};
use baton_c1z::{C1zWriter, WriterOptions};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_TARGET: &str = "BATON_C1Z_TEST_CHILD_TARGET";
const CHILD_TMP: &str = "BATON_C1Z_TEST_CHILD_TMP";

/// Run only as a child of [`a_killed_writer_leaves_nothing_after_the_next_run`]: starts a
/// write and waits to be killed.
#[test]
#[ignore = "helper process of a_killed_writer_leaves_nothing_after_the_next_run"]
fn child_writer_waiting_to_be_killed() {
    let (Some(target), Some(tmp)) = (std::env::var_os(CHILD_TARGET), std::env::var_os(CHILD_TMP))
    else {
        return;
    };
    let mut w = C1zWriter::create(
        Path::new(&target),
        WriterOptions::default().with_temp_dir(&tmp),
    )
    .unwrap();
    for r in &small(500, "child").resources {
        w.put_resource(r).unwrap();
    }
    std::fs::write(Path::new(&tmp).join("ready"), b"").unwrap();
    std::thread::sleep(Duration::from_secs(120));
    drop(w);
}

fn working_dirs(tmp: &Path) -> Vec<String> {
    entries(tmp)
        .into_iter()
        .filter(|n| n.starts_with("baton-c1z-"))
        .collect()
}

#[test]
fn a_killed_writer_leaves_nothing_after_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    write_small(&path, &small(5, "a"), WriterOptions::default());

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "leftovers::child_writer_waiting_to_be_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_TARGET, &path)
        .env(CHILD_TMP, tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = tmp.path().join("ready");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child writer exited early"
        );
        assert!(
            Instant::now() < deadline,
            "the child writer never got ready"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    std::fs::remove_file(&ready).unwrap();
    let killed = working_dirs(tmp.path());
    assert_eq!(killed.len(), 1, "{killed:?}");

    // Stale temporary files next to the target (ours), and things that are not ours.
    std::fs::write(dir.path().join(".sync.c1z.a1B2c3.tmp"), b"partial").unwrap();
    std::fs::write(dir.path().join("sync.c1z.tmp"), b"partial").unwrap();
    std::fs::write(dir.path().join(".third.c1z.a1B2c3.tmp"), b"not ours").unwrap();
    std::fs::write(dir.path().join(".sync.c1z.notours.tmp"), b"not ours").unwrap();
    std::fs::create_dir(tmp.path().join("c1z123456")).unwrap();
    std::fs::create_dir(tmp.path().join("baton-c1z-nolock")).unwrap();

    // A live writer of another file keeps its working directory.
    let other = dir.path().join("other.c1z");
    let live =
        C1zWriter::create(&other, WriterOptions::default().with_temp_dir(tmp.path())).unwrap();
    let mut before = working_dirs(tmp.path());
    before.retain(|d| !killed.contains(d) && d != "baton-c1z-nolock");
    assert_eq!(before.len(), 1);

    write_small(
        &path,
        &small(5, "b"),
        WriterOptions::default().with_temp_dir(tmp.path()),
    );
    let after = working_dirs(tmp.path());
    assert!(!after.contains(&killed[0]), "{after:?}");
    assert!(after.contains(&before[0]), "{after:?}");
    assert!(after.contains(&"baton-c1z-nolock".to_owned()), "{after:?}");
    assert!(tmp.path().join("c1z123456").exists());
    assert_eq!(
        entries(dir.path()),
        [
            ".sync.c1z.notours.tmp",
            ".third.c1z.a1B2c3.tmp",
            "other.c1z",
            "sync.c1z"
        ]
    );
    drop(live);
    assert!(!other.exists());
}
