//! Refusing writes before the disk is full, so the engine never meets ENOSPC.
//!
//! Why before rather than after: sled 0.34 keeps the first I/O error it meets and answers it to
//! every later call, reads included, until the process restarts; and its flush can block for
//! good on a full disk. So the store checks the free space of its directory's file system
//! before each write that goes to disk, and refuses with [`StoreError::DiskFull`] while it is
//! below the configured minimum (`--min-free-disk-mb`). Reads never check. Once space returns,
//! the next write goes through: nothing was ever written to a full disk, so nothing is stuck.
//!
//! The minimum must cover what may be written between two checks: one group commit (a
//! PutRecords is at most 5 MiB of data) and sled's log segments (see `store.rs`).

use crate::{Result, StoreError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a free-space reading is trusted: `statvfs` on every group commit would cost the
/// flusher thread, the one every write waits on. The minimum free space covers far more than
/// can be written in this time.
const RECHECK_EVERY: Duration = Duration::from_millis(50);

/// The free-space check of one store directory.
#[derive(Debug)]
pub(crate) struct DiskWatch {
    /// None for a temporary store: nothing to watch.
    dir: Option<PathBuf>,
    /// Bytes that must stay free; 0 turns the check off.
    min_free: AtomicU64,
    /// The last check found the disk full (logged on each change only).
    full: AtomicBool,
    /// Nanoseconds after `base` when the free space is to be read again.
    next_check_ns: AtomicU64,
    base: Instant,
}

impl DiskWatch {
    pub(crate) fn new(dir: Option<PathBuf>) -> DiskWatch {
        DiskWatch {
            dir,
            min_free: AtomicU64::new(0),
            full: AtomicBool::new(false),
            next_check_ns: AtomicU64::new(0),
            base: Instant::now(),
        }
    }

    pub(crate) fn set_min_free(&self, bytes: u64) {
        self.min_free.store(bytes, Ordering::Relaxed);
        self.next_check_ns.store(0, Ordering::Relaxed);
    }

    /// Ok when a write may go to disk.
    pub(crate) fn check(&self) -> Result<()> {
        let min_free = self.min_free.load(Ordering::Relaxed);
        let Some(dir) = self.dir.as_ref().filter(|_| min_free > 0) else {
            return Ok(());
        };
        let now = self.base.elapsed().as_nanos() as u64;
        if now < self.next_check_ns.load(Ordering::Relaxed) {
            return match self.full.load(Ordering::Relaxed) {
                false => Ok(()),
                true => Err(StoreError::DiskFull(
                    "the data directory's disk is full".into(),
                )),
            };
        }
        self.next_check_ns
            .store(now + RECHECK_EVERY.as_nanos() as u64, Ordering::Relaxed);
        let free = match free_bytes(dir) {
            Ok(free) => free,
            // Not knowing is no reason to refuse; the write itself will report real trouble.
            Err(_) => return Ok(()),
        };
        if free < min_free {
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    dir = %dir.display(),
                    free_mb = free >> 20,
                    min_free_mb = min_free >> 20,
                    "disk full: refusing writes until space is freed (--min-free-disk-mb)"
                );
            }
            return Err(StoreError::DiskFull(format!(
                "{} MB free on the data directory's disk, {} MB needed",
                free >> 20,
                min_free >> 20
            )));
        }
        if self.full.swap(false, Ordering::Relaxed) {
            tracing::warn!(dir = %dir.display(), free_mb = free >> 20, "disk space returned: writing again");
        }
        Ok(())
    }
}

#[cfg(unix)]
fn free_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &std::path::Path) -> std::io::Result<u64> {
    Err(std::io::Error::other("free space unknown on this platform"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_below_the_minimum_and_recovers_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let watch = DiskWatch::new(Some(dir.path().to_path_buf()));
        assert!(watch.check().is_ok(), "off by default");
        watch.set_min_free(u64::MAX);
        let err = watch.check().unwrap_err();
        assert!(matches!(err, StoreError::DiskFull(_)), "{err:?}");
        watch.set_min_free(1);
        assert!(watch.check().is_ok(), "a new minimum is read at once");
        assert!(DiskWatch::new(None).check().is_ok());
    }
}
