//! Working directories: where the decompressed (reader) or building (writer) database lives,
//! and the removal of the ones that killed runs left behind.
//!
//! A working directory is `<temp dir>/baton-c1z-<random>/` (the temp dir is
//! [`ReaderOptions::temp_dir`](crate::ReaderOptions) / [`WriterOptions::temp_dir`], else the
//! OS temp dir). It holds a `lock` file that its owner keeps locked (an exclusive advisory lock)
//! for as long as it uses the directory; the directory is removed when the owner is done. A
//! process killed with `kill -9` cannot remove it, but the lock dies with the process, so a
//! later writer that finds a `baton-c1z-*` directory whose `lock` it can take knows that nobody
//! owns it any more and removes it ([`remove_leftovers`]). Directories of other programs
//! (other names) and of live processes (locked) are never touched.

use crate::error::{C1zError, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Name prefix of every working directory this crate creates.
pub(crate) const WORKDIR_PREFIX: &str = "baton-c1z-";

/// Name of the lock file inside a working directory.
const LOCK_FILE: &str = "lock";

/// A working directory, locked by this process until dropped (then removed).
#[derive(Debug)]
pub(crate) struct WorkDir {
    // Field order: the lock is released after the directory is removed.
    dir: TempDir,
    _lock: File,
}

impl WorkDir {
    /// Creates and locks a new working directory in `base` (`None` = the OS temp dir).
    pub(crate) fn create(base: Option<&Path>) -> Result<Self> {
        let base_path = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix(WORKDIR_PREFIX)
            .tempdir_in(&base_path)
            .map_err(|e| C1zError::io("create a temporary directory in", &base_path, e))?;
        let lock_path = dir.path().join(LOCK_FILE);
        let lock = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
            .map_err(|e| C1zError::io("create", &lock_path, e))?;
        lock.try_lock().map_err(|e| {
            C1zError::io(
                "lock",
                &lock_path,
                match e {
                    fs::TryLockError::Error(e) => e,
                    fs::TryLockError::WouldBlock => std::io::Error::other("already locked"),
                },
            )
        })?;
        Ok(Self { dir, _lock: lock })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes the working directories in `base` (`None` = the OS temp dir) that no live process
/// owns: named `baton-c1z-*`, holding a `lock` file that can be locked right now. Best effort:
/// returns the directories removed and ignores whatever cannot be read or removed.
pub(crate) fn remove_leftovers(base: Option<&Path>) -> Vec<PathBuf> {
    let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(&base) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(WORKDIR_PREFIX) {
            continue;
        }
        let path = entry.path();
        // Not a symlink, a directory.
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            _ => continue,
        }
        // A directory without its lock file is being created right now (or is not ours).
        let Ok(lock) = OpenOptions::new().write(true).open(path.join(LOCK_FILE)) else {
            continue;
        };
        if lock.try_lock().is_ok() && fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
        drop(lock);
    }
    removed
}
