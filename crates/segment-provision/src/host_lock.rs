//! Cross-process advisory locks: operations on one principal of one workspace are serialized
//! across every process of this host, not only within one process (the per-principal queue).
//!
//! Segment offers no conditional write: a revoke reads a principal's permissions and writes
//! them back, so a grant landing in between would be lost. Each run that writes holds, for
//! its whole duration, a shared lock on the workspace's lock file plus an exclusive lock per
//! principal (in sorted order, so runs never deadlock); a plan touching more than
//! [`MAX_PRINCIPAL_LOCKS`] principals takes the workspace's lock exclusively instead. The
//! files live in `<temp dir>/segment-cli-locks/` (only their names matter; they are never
//! deleted, so no process can lock a file another one is about to replace). Two hosts
//! writing to one workspace at once are not serialized by this.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::ProvisionError;

/// Above this many principals in one run, the workspace is locked as a whole.
pub(crate) const MAX_PRINCIPAL_LOCKS: usize = 64;

/// The directory of the lock files.
pub(crate) fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("segment-cli-locks")
}

/// Locks held until dropped (closing a file releases its lock).
#[derive(Debug)]
pub(crate) struct HostLocks {
    _files: Vec<File>,
}

impl HostLocks {
    /// No lock (a run without principals).
    pub(crate) fn none() -> Self {
        Self { _files: Vec::new() }
    }
}

/// 64-bit FNV-1a: a stable, dependency-free file name for any key (collisions only serialize
/// more than needed).
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn open(dir: &Path, name: &str) -> Result<File, ProvisionError> {
    let path = dir.join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ProvisionError::Lock {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

fn locked(file: File, exclusive: bool, name: &str) -> Result<File, ProvisionError> {
    let result = if exclusive {
        file.lock()
    } else {
        file.lock_shared()
    };
    result.map(|()| file).map_err(|e| ProvisionError::Lock {
        path: name.to_owned(),
        reason: e.to_string(),
    })
}

/// Takes the locks of `keys` (principal queue keys) in workspace `workspace_id`, waiting for
/// other processes that hold them. Blocking: call from a blocking thread.
pub(crate) fn acquire(
    dir: &Path,
    workspace_id: &str,
    keys: &[String],
) -> Result<HostLocks, ProvisionError> {
    std::fs::create_dir_all(dir).map_err(|e| ProvisionError::Lock {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let workspace = format!("ws-{:016x}.lock", fnv1a(workspace_id));
    let mut names: Vec<String> = keys
        .iter()
        .map(|k| format!("ws-{:016x}-{:016x}.lock", fnv1a(workspace_id), fnv1a(k)))
        .collect();
    names.sort_unstable();
    names.dedup();
    let whole = names.len() > MAX_PRINCIPAL_LOCKS;
    let mut files = vec![locked(open(dir, &workspace)?, whole, &workspace)?];
    if !whole {
        for name in &names {
            files.push(locked(open(dir, name)?, true, name)?);
        }
    }
    Ok(HostLocks { _files: files })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_stable_and_locks_exclude_each_other() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a("user:u1"), fnv1a("user:u2"));
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "ws1", &["user:u1".to_owned()]).unwrap();
        let name = format!("ws-{:016x}-{:016x}.lock", fnv1a("ws1"), fnv1a("user:u1"));
        let other = open(dir.path(), &name).unwrap();
        assert!(other.try_lock().is_err(), "held by the first acquire");
        // Another principal of the same workspace is free (the workspace lock is shared).
        let second = acquire(dir.path(), "ws1", &["user:u2".to_owned()]).unwrap();
        drop(held);
        assert!(other.try_lock().is_ok(), "released on drop");
        drop(second);
    }
}
