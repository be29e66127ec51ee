//! The store handle: opening sled on a directory (or temporary), the journal replay, flushing,
//! and the shared state every operation works on (`Inner`, whose locks are documented where
//! they are declared).

use crate::data_dir::DirSync;
use crate::disk::DiskWatch;
use crate::encoding::{versioned, versioned_body};
use crate::engine_files::{EngineFiles, KEEP_DIR};
use crate::error::engine_err;
use crate::journal::{self, Journal};
use crate::keys::{setting_key, stream_prefix, TAG_STREAM_META};
use crate::pending::Pending;
use crate::witness::{self, Witness};
use crate::{NewRecord, Result, ShardKey, StoreError, StoredRecord};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The journal's file name inside the store's directory (beside sled's own files).
pub(crate) const JOURNAL_FILE: &str = "kinesd-journal";

/// How long `Store::open` keeps retrying while the directory lock is held.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Retained records live on disk, not in RAM: sled's page cache defaults to 1 GiB, far more
/// than an emulator should hold, so it is capped.
pub(crate) const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// sled's segment size stays at its default (512 KiB): see [`BLOCK_BYTES`] for why.
pub(crate) fn tuned(config: sled::Config) -> sled::Config {
    config.cache_capacity(CACHE_BYTES)
}

/// sled 0.34 releases its directory lock asynchronously: for a few milliseconds after
/// the last handle is dropped, internal I/O threads still hold it, so reopening the same
/// directory in-process (a restart in tests, a server rebuilt on the same data dir)
/// fails with "could not acquire lock" (spacejam/sled#1234, #1289). Retry briefly; a
/// lock held by a live second process lasts far longer than `LOCK_WAIT` and still
/// surfaces as an error.
pub(crate) fn open_waiting_for_lock(config: &sled::Config) -> Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(5);
    loop {
        match config.open() {
            Err(e) if is_lock_contention(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other.map_err(engine_err),
        }
    }
}

pub(crate) fn is_lock_contention(e: &sled::Error) -> bool {
    // sled reports it as a generic io::Error; the message is the only discriminator.
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

pub(crate) struct Inner {
    pub(crate) db: sled::Db,
    /// sled's files, synced after its flushes; `None` for a temporary store.
    pub(crate) engine_files: Option<EngineFiles>,
    pub(crate) records: sled::Tree,
    pub(crate) catalog: sled::Tree,
    /// DynamoDB-style tables and their items (see `sled_tables.rs`).
    pub(crate) tables: sled::Tree,
    /// Serializes trims and stream deletions. Each of them reads, then writes a batch
    /// computed from what it read (notably the high-water mark and the rewritten block
    /// a trim cuts through); two interleaved ones on the same shard could otherwise
    /// lower the mark or resurrect records. Appends and reads never take it.
    pub(crate) maintenance: Mutex<()>,
    /// The record journal of a store opened on a directory (see [`Store::append_durably`]).
    /// Its lock is held across "journal, then keep in memory" and across "drain memory into
    /// sled, flush sled, then checkpoint", so a checkpoint never drops an entry whose records
    /// sled has not flushed.
    /// Set once, by `Store::open`, after the replay.
    pub(crate) journal: OnceLock<Mutex<Journal>>,
    /// The free-space check every write passes first (see `disk.rs`).
    pub(crate) disk: DiskWatch,
    /// The directory entries of the store's files; every durable write waits for them.
    pub(crate) dir_sync: Arc<DirSync>,
    /// Numbers every flush, outside sled (see `witness.rs`); `None` for a temporary store.
    /// Held across a whole flush, so flush numbers reach the file in order.
    pub(crate) witness: Option<Mutex<Witness>>,
    /// Damage found on open is logged and skipped rather than refused (`--accept-data-loss`).
    pub(crate) accept_loss: bool,
    /// Records the journal gave back on open (written but not in sled before a crash).
    pub(crate) replayed: AtomicU64,
    /// Journaled records not yet written to sled, and those of relaxed appends.
    pub(crate) pending: Pending,
    /// `pending` holds records of [`Store::append_relaxed`], which no journal keeps: the
    /// next flush moves them into sled first. Set after they are pushed, cleared before the
    /// flush drains, so a flush covers every relaxed append that returned before it began.
    pub(crate) relaxed_in_memory: AtomicBool,
    /// Serializes drains of `pending`: two drains of one shard could cut its records into
    /// blocks differently and overwrite each other's blocks.
    pub(crate) draining: Mutex<()>,
    /// Streams whose records are being or have been deleted in this process. A put that
    /// raced the deletion may still hand records over afterwards; they are dropped rather
    /// than left behind under an id nothing will ever purge again (ids are never reused).
    pub(crate) deleted: Mutex<HashSet<u64>>,
}

impl Inner {
    /// sled's flush, then what it leaves unsynced (see `engine_files`).
    pub(crate) fn flush(&self) -> Result<()> {
        self.dir_sync.wait()?;
        if self.relaxed_in_memory.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.drain(|_| true) {
                self.relaxed_in_memory.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        let mut witness = self
            .witness
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(|p| p.into_inner()));
        let number = witness.as_ref().map(|w| w.next());
        if let Some(n) = number {
            self.catalog
                .insert(setting_key(witness::COUNTER), versioned(&n.to_be_bytes()))
                .map_err(engine_err)?;
        }
        // All trees share one log, so flushing the Db covers records, catalogue and tables.
        self.db.flush().map_err(engine_err)?;
        if let Some(files) = &self.engine_files {
            files.sync()?;
        }
        if let (Some(witness), Some(n)) = (witness.as_mut(), number) {
            witness.record(n)?;
        }
        Ok(())
    }

    pub(crate) fn is_deleted(&self, stream: u64) -> bool {
        let deleted = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        deleted.contains(&stream)
    }

    pub(crate) fn without_deleted(
        &self,
        mut groups: Vec<(ShardKey, Vec<StoredRecord>)>,
    ) -> Vec<(ShardKey, Vec<StoredRecord>)> {
        let deleted = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        groups.retain(|(k, _)| !deleted.contains(&k.stream));
        groups
    }

    pub(crate) fn draining_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // Guards no data of its own: ignore poison.
        self.draining.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A clean close leaves an empty journal, so the next open has nothing to replay.
        if let Some(journal) = self.journal.get() {
            let mut journal = journal.lock().unwrap_or_else(|p| p.into_inner());
            // Not on a full disk: sled could block for good in its flush (see `disk.rs`), and
            // the journal keeps the records for the next start anyway.
            if self.disk.check().is_ok() && self.drain(|_| true).is_ok() && self.flush().is_ok() {
                let _ = journal.checkpoint();
            }
        }
        // sled flushes again when it is dropped, until nothing is dirty, and collects the
        // blobs its last writes superseded; doing that here first lets the blob links follow
        // (`engine_files.rs`), so a clean stop leaves no link to a blob sled has removed.
        if let Some(files) = &self.engine_files {
            if self.disk.check().is_ok() {
                for _ in 0..16 {
                    match self.db.flush() {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                let _ = files.sync();
            }
        }
    }
}

/// Handle to an open store.
///
/// Cloning is cheap (shared `Arc`) and the handle is `Send + Sync`; all clones see the
/// same data. Every mutating call is atomic on its own (all or nothing after a crash),
/// and becomes durable once a later [`Store::flush`] has returned.
///
/// Invariants kept by the store, given the caller honours those of [`NewRecord`]:
/// * within a shard, records are returned in strictly increasing position order;
/// * [`Store::last_position`] never decreases while the stream exists, even across
///   trims that empty the shard and process restarts;
/// * records are deleted only from the low end of a shard (trim) or wholesale
///   (stream deletion), so the stored positions of a shard are always a suffix of what
///   was appended.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if missing.
    ///
    /// Only one process may have a given directory open at a time; within a process,
    /// share one `Store` via `clone` rather than opening twice.
    ///
    /// A directory written before records were stored in blocks is converted on the
    /// way (in bounded atomic batches, so an interrupted conversion resumes on the next
    /// open); a legacy record that cannot be decoded fails the open with `Corrupt`.
    ///
    /// Damage found on the way (see `witness.rs` and `journal.rs`) fails the open with
    /// `Corrupt`, naming the file.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_checked(dir, false)
    }

    /// [`Store::open`]; with `accept_loss`, damage is logged with what it cost and the store
    /// opens with what is readable.
    pub fn open_checked(dir: &Path, accept_loss: bool) -> Result<Store> {
        crate::data_dir::prepare(dir)?;
        let open =
            || Self::from_config(tuned(sled::Config::new().path(dir)), Some(dir), accept_loss);
        let store = match open() {
            Err(StoreError::Corrupt(what)) if accept_loss => {
                let aside = crate::data_dir::quarantine_engine_files(dir)?;
                tracing::error!(
                    "data directory corrupt: {what}; starting anyway (--accept-data-loss): the \
                     storage engine's files were moved to {} and the streams and records in \
                     them are lost",
                    aside.display()
                );
                open()?
            }
            other => other?,
        };
        // sled has just created its files with the process's umask: narrow them too.
        crate::data_dir::prepare(dir)?;
        Ok(store)
    }

    /// Opens a store that lives only as long as this handle (and its clones); meant for
    /// tests.
    pub fn open_temporary() -> Result<Store> {
        Self::from_config(tuned(sled::Config::new().temporary(true)), None, false)
    }

    pub(crate) fn from_config(
        config: sled::Config,
        dir: Option<&Path>,
        accept_loss: bool,
    ) -> Result<Store> {
        // Before sled reads its log: a blob it would miss is silently dropped with its node.
        if let Some(dir) = dir {
            crate::engine_files::restore_blobs(dir)?;
        }
        // sled panics on some damaged files instead of answering an error.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            open_waiting_for_lock(&config)
        }));
        let db = opened.map_err(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            StoreError::Corrupt(format!(
                "db: the storage engine failed to read its files ({why})"
            ))
        })??;
        let engine_files = dir.map(EngineFiles::open).transpose()?;
        let records = db.open_tree("records").map_err(engine_err)?;
        let catalog = db.open_tree("catalog").map_err(engine_err)?;
        let tables = db.open_tree("tables").map_err(engine_err)?;
        let witness = match dir {
            Some(dir) => {
                let (mut witness, witnessed) = Witness::open(dir)?;
                let in_engine = catalog
                    .get(setting_key(witness::COUNTER))
                    .map_err(engine_err)?
                    .map(|v| -> Result<u64> {
                        let body = versioned_body(&v, "flush witness")?;
                        body.try_into()
                            .map(u64::from_be_bytes)
                            .map_err(|_| StoreError::Corrupt("db: flush witness".into()))
                    })
                    .transpose()?;
                witness::check(in_engine, witnessed, accept_loss)?;
                // From here on both agree (or the loss was accepted): number on from the
                // higher of the two. A new store's empty witness already says "no flush".
                let start = in_engine.unwrap_or(0).max(witnessed.unwrap_or(0));
                if start != witnessed.unwrap_or(0) {
                    witness.record(start)?;
                }
                Some(Mutex::new(witness))
            }
            None => None,
        };
        // Every file the store opens at start now exists: their directory entries can be
        // synced, off the start-up path.
        let dir_sync = match dir {
            Some(dir) => {
                Journal::create(&dir.join(JOURNAL_FILE))?;
                DirSync::start(vec![dir.to_path_buf(), dir.join(KEEP_DIR)])
            }
            None => DirSync::none(),
        };
        let store = Store {
            inner: Arc::new(Inner {
                db,
                engine_files,
                records,
                catalog,
                tables,
                maintenance: Mutex::new(()),
                journal: OnceLock::new(),
                disk: DiskWatch::new(dir.map(Path::to_path_buf)),
                dir_sync,
                witness,
                accept_loss,
                replayed: AtomicU64::new(0),
                pending: Pending::default(),
                relaxed_in_memory: AtomicBool::new(false),
                draining: Mutex::new(()),
                deleted: Mutex::new(HashSet::new()),
            }),
        };
        let migrated = store.migrate_legacy_records()?;
        let mut replayed = 0;
        if let Some(dir) = dir {
            let journal;
            (journal, replayed) = store.replay_journal(dir)?;
            store.inner.replayed.store(replayed, Ordering::Relaxed);
            let _ = store.inner.journal.set(Mutex::new(journal));
        }
        if migrated > 0 || replayed > 0 {
            store.flush()?;
            store
                .journal_lock()
                .map(|mut j| j.checkpoint())
                .transpose()?;
        }
        Ok(store)
    }

    /// Opens the journal and appends to sled whatever it holds that sled lost: records
    /// above each shard's last stored position, of streams that still exist (a stream's
    /// metadata is flushed before its first put, and ids are never reused, so a missing
    /// one means the stream was deleted).
    pub(crate) fn replay_journal(&self, dir: &Path) -> Result<(Journal, u64)> {
        let mut replayed = 0u64;
        let accept_loss = self.inner.accept_loss;
        let path = dir.join(JOURNAL_FILE);
        let journal = Journal::open(&path, journal::JOURNAL_BYTES, accept_loss, |groups| {
            for (shard, records) in groups {
                let exists = self
                    .inner
                    .catalog
                    .contains_key(stream_prefix(TAG_STREAM_META, shard.stream))
                    .map_err(engine_err)?;
                if !exists {
                    continue;
                }
                let last = self.last_position(shard)?;
                let missing: Vec<NewRecord<'_>> = records
                    .into_iter()
                    .filter(|r| last.is_none_or(|last| r.position > last))
                    .collect();
                self.append(shard, &missing)?;
                replayed += missing.len() as u64;
            }
            Ok(())
        })?;
        Ok((journal, replayed))
    }

    /// Records that the journal restored on open: acknowledged before a crash but not yet
    /// in the engine's own files. For logs and tests.
    pub fn replayed_from_journal(&self) -> u64 {
        self.inner.replayed.load(Ordering::Relaxed)
    }

    pub(crate) fn journal_lock(&self) -> Option<std::sync::MutexGuard<'_, Journal>> {
        // The journal's state is its file plus a cursor that every failing path restores,
        // so a panic elsewhere leaves nothing half-done: ignore poison.
        self.inner
            .journal
            .get()
            .map(|j| j.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Makes everything written so far (through any clone) durable: it survives a crash,
    /// a `kill -9` of the process or a power cut (sled's flush, completed by an `fsync` of
    /// its files; see `engine_files` for the one window left). Blocking; may take
    /// milliseconds, so batch acknowledgements behind one call.
    pub fn flush(&self) -> Result<()> {
        self.writable()?;
        self.inner.flush()
    }

    /// Keeps `bytes` of the disk free: writes are refused below it (see `disk.rs`).
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.inner.disk.set_min_free(bytes);
    }

    /// Ok when a write may go to disk (see `disk.rs`).
    pub(crate) fn writable(&self) -> Result<()> {
        self.inner.disk.check()
    }

    pub(crate) fn maintenance_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded state lives in the tree, not in the mutex, and every batch is
        // atomic, so a panic elsewhere cannot leave anything half-done: ignore poison.
        self.inner
            .maintenance
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Writes every journaled record to the engine, flushes it and empties the journal, so
    /// a restart has nothing to replay. For idle moments; a no-op on a temporary store.
    pub fn settle(&self) -> Result<()> {
        self.writable()?;
        let Some(mut journal) = self.journal_lock() else {
            return Ok(());
        };
        self.inner.drain(|_| true)?;
        self.flush()?;
        journal.checkpoint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn flush_syncs_the_blob_files_sled_leaves_unsynced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shard = ShardKey {
            stream: 1,
            shard: 0,
        };
        let big = vec![7u8; 1 << 20];
        let blobs = || -> HashSet<std::ffi::OsString> {
            std::fs::read_dir(dir.path().join("blobs"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect()
        };
        let files = store.inner.engine_files.as_ref().unwrap();
        // A 1 MiB record becomes a blob file as it is written; sled's flush leaves it unsynced.
        let first = [NewRecord {
            position: 1,
            arrival_ms: 5,
            partition_key: "k",
            data: &big,
        }];
        store.append(shard, &first).unwrap();
        store.inner.db.flush().unwrap();
        assert!(!blobs().is_empty(), "a 1 MiB record did not become a blob");
        assert!(files.sync().unwrap() >= 1);
        assert_eq!(files.sync().unwrap(), 0, "synced the same blob twice");
        // `Store::flush` syncs the next one itself: nothing is left for a second sync.
        let second = [NewRecord {
            position: 2,
            arrival_ms: 6,
            partition_key: "k",
            data: &big,
        }];
        let before = blobs();
        store.append(shard, &second).unwrap();
        store.flush().unwrap();
        assert!(
            !blobs().is_subset(&before),
            "the second record made no new blob"
        );
        assert_eq!(
            files.sync().unwrap(),
            0,
            "Store::flush left a blob unsynced"
        );
        let store = reopen(store, dir.path());
        assert_eq!(store.read(shard, 1, 10, usize::MAX).unwrap().len(), 2);
    }

    #[test]
    fn store_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Store>();
    }
}
