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

/// sled's files in a store's directory (the names are sled 0.34's).
pub(crate) struct EngineFiles {
    log: File,
    log_path: PathBuf,
    blob_dir: PathBuf,
    /// Blob files already synced; pruned to those still present at each sync, so it
    /// never outgrows the directory.
    synced_blobs: Mutex<HashSet<std::ffi::OsString>>,
}

impl EngineFiles {
    /// Opens sled's log in `dir` (sled has created it) and makes the directory's entries
    /// durable once, for the files sled created.
    pub(crate) fn open(dir: &Path) -> Result<EngineFiles> {
        let log_path = dir.join("db");
        let log = File::open(&log_path).map_err(|e| io_err("opening", &log_path, e))?;
        sync_dir(dir)?;
        Ok(EngineFiles {
            log,
            log_path,
            blob_dir: dir.join("blobs"),
            synced_blobs: Mutex::new(HashSet::new()),
        })
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
                        match File::open(entry.path()).and_then(|f| f.sync_all()) {
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
        *synced = present;
        self.log
            .sync_data()
            .map_err(|e| io_err("syncing", &self.log_path, e))?;
        Ok(fresh)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("syncing directory", dir, e))
}
