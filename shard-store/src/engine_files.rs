//! Finishes what sled 0.34's flush leaves undone, so a flushed record survives a power cut.
//!
//! On Linux sled makes its log stable with `sync_file_range` alone. That writes the log's
//! pages but neither the file's metadata (its size grows with the log) nor the drive's
//! write cache. Nodes too large for a log segment (over ~128 KiB with the default 512 KiB
//! segments: a record over that size, or, by sled's source, a leaf of up to 16 records over
//! ~8 KiB each) go to files under `blobs/` that sled never syncs, nor the directory that
//! names them. After each sled flush the store
//! therefore `fsync`s the blob files it has not synced yet, then the blob directory, then
//! the log file, whose `fdatasync` also flushes the drive's cache.
//!
//! Invariant: when [`EngineFiles::sync`] returns `Ok`, every blob file that existed when
//! it started, and the log up to sled's last flush, are on stable storage.
//!
//! A blob file deleted from outside would otherwise go unnoticed: sled 0.34 treats a missing
//! blob as one it collected itself and drops the node that pointed to it without a word (the
//! records in it are gone, or, for a node nothing older replaces, the engine panics). So each
//! sync also keeps a hard link to every blob file under `kinesd-blobs/` (same inode, no
//! extra space), and removes the link of a blob sled has collected only after the log that no
//! longer needs it is synced. Before sled opens, [`restore_blobs`] puts back every kept blob
//! missing from `blobs/` and logs each one. A blob sled collected after the last sync and
//! before a crash is put back too: it is then unreferenced and stays as a file sled never
//! removes, which costs disk, never records.
//!
//! Invariants: when [`EngineFiles::sync`] returns `Ok`, every blob file present at its
//! listing has a durable link in `kinesd-blobs/`; a link is removed only after the log sync
//! that follows its blob's disappearance.
//!
//! What stays open: sled writes a blob before the log entry naming it, and its flush puts
//! that entry in the drive's cache before this sync runs, so a power cut in that window
//! could keep the entry and lose the blob. Nothing acknowledged depends on that entry yet,
//! but the node it replaces may hold acknowledged records. Closing it would take control
//! of sled's write order.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Result, StoreError};

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

/// Where the links to sled's blob files are kept, in the store's directory.
pub(crate) const KEEP_DIR: &str = "kinesd-blobs";

/// Puts back every blob file of `dir` that has a kept link but is missing from `blobs/`
/// (run before sled opens, so sled finds them). Returns how many were put back.
pub(crate) fn restore_blobs(dir: &Path) -> Result<usize> {
    let keep_dir = dir.join(KEEP_DIR);
    let blob_dir = dir.join("blobs");
    let entries = match std::fs::read_dir(&keep_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err("listing", &keep_dir, e)),
    };
    let mut restored = 0;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("listing", &keep_dir, e))?;
        let target = blob_dir.join(entry.file_name());
        if target.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::create_dir_all(&blob_dir).map_err(|e| io_err("creating", &blob_dir, e))?;
        std::fs::hard_link(entry.path(), &target).map_err(|e| io_err("restoring", &target, e))?;
        tracing::warn!(
            blob = %target.display(),
            "a blob file of the storage engine was missing (deleted since the last flush, by \
             the engine after a crash or from outside); put back from {KEEP_DIR}/",
        );
        restored += 1;
    }
    if restored > 0 {
        sync_dir(&blob_dir)?;
    }
    Ok(restored)
}

/// sled's files in a store's directory (the names are sled 0.34's).
pub(crate) struct EngineFiles {
    log: File,
    log_path: PathBuf,
    blob_dir: PathBuf,
    /// Hard links to the blob files, see the module doc.
    keep_dir: PathBuf,
    /// Blob files already synced; pruned to those still present at each sync, so it
    /// never outgrows the directory.
    synced_blobs: Mutex<HashSet<std::ffi::OsString>>,
}

impl EngineFiles {
    /// Opens sled's log in `dir` (sled has created it). The directory's entries for the files
    /// sled created become durable through [`crate::data_dir::DirSync`], with the store's
    /// own files.
    pub(crate) fn open(dir: &Path) -> Result<EngineFiles> {
        let log_path = dir.join("db");
        let log = File::open(&log_path).map_err(|e| io_err("opening", &log_path, e))?;
        let keep_dir = dir.join(KEEP_DIR);
        std::fs::create_dir_all(&keep_dir).map_err(|e| io_err("creating", &keep_dir, e))?;
        let files = EngineFiles {
            log,
            log_path,
            blob_dir: dir.join("blobs"),
            keep_dir,
            synced_blobs: Mutex::new(HashSet::new()),
        };
        // Blobs sled removed while opening (written but never made stable before a crash)
        // have no reason to be kept.
        let kept = std::fs::read_dir(&files.keep_dir)
            .map_err(|e| io_err("listing", &files.keep_dir, e))?;
        for entry in kept {
            let entry = entry.map_err(|e| io_err("listing", &files.keep_dir, e))?;
            if files
                .blob_dir
                .join(entry.file_name())
                .symlink_metadata()
                .is_err()
            {
                remove_link(&entry.path())?;
            }
        }
        Ok(files)
    }

    /// Syncs new blob files, then the log. Returns how many blob files it synced.
    pub(crate) fn sync(&self) -> Result<usize> {
        let mut synced = self.synced_blobs.lock().unwrap_or_else(|p| p.into_inner());
        let mut present = HashSet::new();
        let mut fresh = 0;
        match std::fs::read_dir(&self.blob_dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| io_err("listing", &self.blob_dir, e))?;
                    let name = entry.file_name();
                    if !synced.contains(&name) {
                        let kept = self.keep_dir.join(&name);
                        let keep = || match std::fs::hard_link(entry.path(), &kept) {
                            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                            other => other,
                        };
                        match File::open(entry.path())
                            .and_then(|f| f.sync_all())
                            .and_then(|()| keep())
                        {
                            Ok(()) => fresh += 1,
                            // sled collected it since the listing: nothing left to sync.
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(io_err("syncing", &entry.path(), e)),
                        }
                    }
                    present.insert(name);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("listing", &self.blob_dir, e)),
        }
        if fresh > 0 {
            sync_dir(&self.blob_dir)?;
        }
        self.log
            .sync_data()
            .map_err(|e| io_err("syncing", &self.log_path, e))?;
        // The log that no longer points to the collected blobs is synced: their links can go.
        let gone: Vec<_> = synced.difference(&present).cloned().collect();
        for name in &gone {
            remove_link(&self.keep_dir.join(name))?;
        }
        if fresh > 0 || !gone.is_empty() {
            sync_dir(&self.keep_dir)?;
        }
        *synced = present;
        Ok(fresh)
    }
}

fn remove_link(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("removing", path, e)),
        _ => Ok(()),
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("syncing directory", dir, e))
}
