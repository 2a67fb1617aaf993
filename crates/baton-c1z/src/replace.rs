//! Atomic replacement of the target file: compress into a uniquely named temporary file next
//! to the target (`.<file name>.XXXXXX.tmp`), fsync, rename over the target, fsync the
//! directory; and removal of the temporary files that killed runs left there.

use crate::container::{self, EncodeSettings};
use crate::error::{C1zError, Result};
use crate::writer::WriterOptions;
use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// The directory that holds `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `(prefix, suffix)` of the temporary files of `path`: `.<file name>.` and `.tmp`.
fn temp_affixes(path: &Path) -> (OsString, &'static str) {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    (prefix, ".tmp")
}

/// Compresses `db_path` into a new temporary file next to `path`, fsyncs it and renames it
/// over `path`. Returns the database and file sizes. On error the temporary file is removed.
pub(crate) fn replace_file(
    db_path: &Path,
    path: &Path,
    opts: &WriterOptions,
) -> Result<(u64, u64)> {
    let dir = parent_dir(path);
    let (prefix, suffix) = temp_affixes(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(suffix)
        .rand_bytes(6)
        .tempfile_in(&dir)
        .map_err(|e| C1zError::io("create a temporary file in", &dir, e))?;
    let tmp_path = tmp.path().to_path_buf();
    let database_bytes = container::compress_v1(
        db_path,
        tmp.as_file_mut(),
        &tmp_path,
        EncodeSettings {
            level: opts.compression_level,
            workers: opts.compression_threads,
        },
    )?;
    let out = tmp.as_file();
    out.sync_all()
        .map_err(|e| C1zError::io("fsync", &tmp_path, e))?;
    let file_bytes = out
        .metadata()
        .map_err(|e| C1zError::io("stat", &tmp_path, e))?
        .len();
    tmp.persist(path)
        .map_err(|e| C1zError::io("rename the new file over", path, e.error))?;
    // Make the rename durable. Best effort: the new file is already in place.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok((database_bytes, file_bytes))
}

/// Removes the temporary files of `path` that earlier runs left next to it: regular files named
/// like [`replace_file`]'s (`.<file name>.` + 6 characters + `.tmp`) and the fixed
/// `<file>.tmp` of older versions. Only called by the holder of the target's lock, when no
/// other writer of `path` can be running. Best effort; returns the files removed.
pub(crate) fn remove_stale_temp_files(path: &Path) -> Vec<PathBuf> {
    let dir = parent_dir(path);
    let (prefix, suffix) = temp_affixes(path);
    let (Some(prefix), Some(name)) = (prefix.to_str(), path.file_name().and_then(|n| n.to_str()))
    else {
        return Vec::new();
    };
    let legacy = format!("{name}.tmp");
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(&dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let ours = file_name == legacy
            || file_name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(|mid| {
                    mid.len() == 6 && mid.bytes().all(|b| b.is_ascii_alphanumeric())
                });
        if !ours {
            continue;
        }
        let entry_path = entry.path();
        let is_file = fs::symlink_metadata(&entry_path).is_ok_and(|m| m.is_file());
        if is_file && fs::remove_file(&entry_path).is_ok() {
            removed.push(entry_path);
        }
    }
    removed
}
