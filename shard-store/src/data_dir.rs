//! The data directory's own safety, settled before anything in it is opened: it is the
//! owner's alone (directories 0700, files 0600), and nothing inside it leads elsewhere.
//!
//! Why links are refused rather than followed: every file here is opened for writing
//! (sled's files, the journal, the TLS material), so a link planted inside the directory —
//! `journal` pointing at `~/.bashrc`, say — would have kinesd overwrite its target. The
//! directory itself may be a link (a data directory on another disk); only what is inside is
//! checked. Opening the journal with `O_NOFOLLOW` closes the gap between this check and the
//! open for the one file kinesd writes by itself.

use crate::{Result, StoreError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// The directory entries of a store's files (sled's, the journal, the witness), made durable
/// once per open on a thread of its own, so start-up does not wait for the disk: on a fresh
/// directory those syncs were about 3 ms, half of kinesd's start-up, on the disks we measured.
/// Every durable write waits for them first ([`DirSync::wait`]: the journal's appends and
/// the engine's flushes), so nothing is acknowledged in a file a crash could unlink. A
/// failure is kept: every later durable write fails with it.
pub(crate) struct DirSync {
    /// Set once the outcome is known and Ok: the check every durable write makes.
    synced: AtomicBool,
    /// `None` while the sync runs.
    outcome: Mutex<Option<Result<()>>>,
    done: Condvar,
}

impl DirSync {
    fn with(outcome: Option<Result<()>>) -> Arc<DirSync> {
        Arc::new(DirSync {
            synced: AtomicBool::new(matches!(outcome, Some(Ok(())))),
            outcome: Mutex::new(outcome),
            done: Condvar::new(),
        })
    }

    /// Nothing to sync (a temporary store).
    pub(crate) fn none() -> Arc<DirSync> {
        DirSync::with(Some(Ok(())))
    }

    /// Starts syncing `dirs`, after every file in them the store opens at start was created.
    pub(crate) fn start(dirs: Vec<PathBuf>) -> Arc<DirSync> {
        let sync = DirSync::with(None);
        let run = {
            let sync = sync.clone();
            let dirs = dirs.clone();
            move || sync.finish(sync_dirs(&dirs))
        };
        if let Err(e) = std::thread::Builder::new()
            .name("kinesd-dirsync".into())
            .spawn(run)
        {
            tracing::debug!(error = %e, "no thread for the directory sync: syncing now");
            sync.finish(sync_dirs(&dirs));
        }
        sync
    }

    fn finish(&self, outcome: Result<()>) {
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        self.synced.store(outcome.is_ok(), Ordering::Release);
        *slot = Some(outcome);
        self.done.notify_all();
    }

    /// Returns once the directories are durable, or with the error that stopped them.
    pub(crate) fn wait(&self) -> Result<()> {
        if self.synced.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(outcome) = slot.as_ref() {
                return outcome.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
}

fn sync_dirs(dirs: &[PathBuf]) -> Result<()> {
    dirs.iter()
        .try_for_each(|d| crate::engine_files::sync_dir(d))
}

/// Creates `dir` (owner-only) if missing, then walks it: a symbolic link anywhere inside fails
/// the open; broader permissions than the owner's are narrowed.
pub(crate) fn prepare(dir: &Path) -> Result<()> {
    create_private(dir)?;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| io_err("reading", &current, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_err("reading", &current, e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| io_err("inspecting", &path, e))?;
            if kind.is_symlink() {
                return Err(StoreError::Io(format!(
                    "data directory {}: {} is a symbolic link; kinesd does not follow links \
                     inside its data directory (remove it, or move what it points to into the \
                     directory)",
                    dir.display(),
                    path.display()
                )));
            }
            if kind.is_dir() {
                restrict(&path, 0o700);
                pending.push(path);
            } else {
                restrict(&path, 0o600);
            }
        }
    }
    restrict(dir, 0o700);
    Ok(())
}

/// Moves sled's own files (`db`, `conf`, `blobs`, `snap.*`, and the blob links) into a new `damaged-<n>`
/// directory inside `dir`, so a fresh engine can start there (`--accept-data-loss`). Returns
/// where they went.
pub(crate) fn quarantine_engine_files(dir: &Path) -> Result<std::path::PathBuf> {
    let aside = (1..)
        .map(|n| dir.join(format!("damaged-{n}")))
        .find(|p| !p.exists())
        .expect("some name is free");
    create_private(&aside)?;
    let entries = std::fs::read_dir(dir).map_err(|e| io_err("reading", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("reading", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let engine = matches!(name.as_ref(), "db" | "conf" | "blobs");
        if engine || name == crate::engine_files::KEEP_DIR || name.starts_with("snap.") {
            std::fs::rename(entry.path(), aside.join(&*name))
                .map_err(|e| io_err("moving aside", &entry.path(), e))?;
        }
    }
    Ok(aside)
}

fn create_private(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| io_err("creating", dir, e))
}

/// Narrows `path` to `mode` if group or others have any access. A failure (a file owned by
/// someone else) is logged, not fatal: the directory's own 0700 already keeps others out.
fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o077 == 0 {
            return;
        }
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            tracing::warn!(path = %path.display(), error = %e, "could not make owner-only");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_directory_sync_reports_its_outcome_to_every_waiter_and_keeps_a_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let synced = DirSync::start(vec![tmp.path().to_path_buf()]);
        synced.wait().unwrap();
        synced.wait().unwrap();
        let failed = DirSync::start(vec![tmp.path().to_path_buf(), tmp.path().join("gone")]);
        let first = failed.wait().unwrap_err().to_string();
        assert!(first.contains("gone"), "{first}");
        assert_eq!(failed.wait().unwrap_err().to_string(), first, "kept");
        DirSync::none().wait().unwrap();
    }

    #[test]
    fn a_new_directory_is_owner_only_and_existing_files_are_narrowed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::create_dir(dir.join("tls")).unwrap();
        std::fs::set_permissions(dir.join("tls"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("tls/ca.pem"), b"x").unwrap();
        std::fs::set_permissions(
            dir.join("tls/ca.pem"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("tls")), 0o700);
        assert_eq!(mode(&dir.join("tls/ca.pem")), 0o600);
    }

    #[test]
    fn a_link_inside_is_refused_and_its_target_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        prepare(&dir).unwrap();
        let target = tmp.path().join("precious");
        std::fs::write(&target, b"keep me").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("journal")).unwrap();
        let err = prepare(&dir).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        assert!(err.contains("journal"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    }

    #[test]
    fn the_directory_itself_may_be_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        prepare(&link).unwrap();
    }
}
