//! The exclusive lock a writer holds on its target file from [`C1zWriter::create`] to the end
//! of the write, so that two syncs into one file never interleave: the second is refused with
//! [`C1zError::Locked`].
//!
//! The lock is an advisory lock (`flock`) on the target file itself. Because a finished write
//! renames a new file over the target, a writer that obtains the lock checks that the path still
//! names the file it locked, and starts over when it does not. A target that does not exist yet
//! is created empty (a 0-byte file is a new c1z to the writer and readers) so that it can be
//! locked; if the write does not finish, that empty file is removed again.
//!
//! [`C1zWriter::create`]: crate::C1zWriter::create

use crate::error::{C1zError, Result};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Attempts to lock a target that keeps being replaced under us.
const ATTEMPTS: usize = 8;

/// The lock on a target file (released on drop).
#[derive(Debug)]
pub(crate) struct TargetLock {
    file: File,
    path: PathBuf,
    /// Whether this lock created the (empty) target.
    created: bool,
    /// Whether the write finished (the placeholder, if any, is then replaced and kept).
    finished: bool,
}

impl TargetLock {
    /// Locks `path`, creating it empty when it does not exist.
    ///
    /// Errors: [`C1zError::Locked`] when another writer holds it, [`C1zError::Io`].
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        for _ in 0..ATTEMPTS {
            let (file, created) = match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(f) => (f, true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match File::open(path) {
                    Ok(f) => (f, false),
                    // Replaced or removed between the two opens: try again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(C1zError::io("open", path, e)),
                },
                Err(e) => return Err(C1zError::io("create", path, e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(C1zError::Locked {
                        path: path.to_path_buf(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(C1zError::io("lock", path, e)),
            }
            if same_file(&file, path) {
                return Ok(Self {
                    file,
                    path: path.to_path_buf(),
                    created,
                    finished: false,
                });
            }
            // Another writer renamed a new file over the one we locked: lock that one instead.
        }
        Err(C1zError::Locked {
            path: path.to_path_buf(),
        })
    }

    /// Marks the write as finished: the target now holds the new file.
    pub(crate) fn finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        // Remove the empty placeholder of a write that did not finish (still ours, still empty).
        if self.created
            && !self.finished
            && same_file(&self.file, &self.path)
            && self.file.metadata().is_ok_and(|m| m.len() == 0)
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `path` still names the open `file` (without inode numbers: whether it exists).
#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}
