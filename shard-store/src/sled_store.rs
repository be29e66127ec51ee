//! The embedded engine behind the storage traits: [`Store`] (sled, blocks, journal) plus what
//! makes it a [`ShardLog`] and a [`Catalog`] — each shard's writer and visible position
//! (`shard_state.rs`) and the group commit (`group_commit.rs`).
//!
//! Invariants, beyond the traits' contract:
//! - A shard's state is created on first use from the store's last position, so a restart
//!   resumes numbering after everything stored, trimmed records included. With relaxed
//!   durability, acknowledged records may have been lost in a crash; numbering then resumes
//!   [`RELAXED_RESTART_GAP`] further, so a position never names two different records.
//! - Catalogue revisions live in memory: one process at a time opens a directory, and every
//!   document write goes through this handle, so the in-memory revision is the stored one.

use crate::group_commit::GroupCommit;
use crate::log::{
    revision_conflict, Catalog, Chunk, Followed, Lease, NameClaim, Position, RecordIn, Run,
    RunOutcome, ShardLog, ShardStats, StoreFuture, StreamDoc,
};
use crate::shard_state::ShardState;
use crate::{Result, ShardKey, Store, StoreError, StoredRecord, TrimReport};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// When an append is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Once durable (group commit through the journal). The default.
    #[default]
    Flush,
    /// Once in the store's memory; sled flushes it within about 500 ms.
    Relaxed,
}

/// How to open the embedded store.
#[derive(Debug, Clone, Copy, Default)]
pub struct SledOptions {
    pub durability: Durability,
    /// Runs on the flusher thread when it falls idle after writes (hand memory back to the OS).
    pub on_idle: Option<fn()>,
    /// Writes are refused while the data directory's disk has less free space than this
    /// (see `disk.rs`); 0 turns the check off.
    pub min_free_bytes: u64,
    /// Open a damaged directory anyway, with what is readable, logging what was lost
    /// (see `witness.rs` and `journal.rs`); otherwise damage fails the open.
    pub accept_data_loss: bool,
}

/// Positions skipped on start in relaxed durability: more than can be acknowledged between
/// two of the store's periodic flushes.
pub const RELAXED_RESTART_GAP: u64 = 1 << 24;

/// Name of the setting that holds the iterator-signing key.
const ITERATOR_KEY: &str = "iterator-key";

/// The embedded store as a [`ShardLog`] and a [`Catalog`].
pub struct SledStore {
    store: Store,
    commit: Arc<GroupCommit>,
    durability: Durability,
    /// Run-time state of every shard used since start. Read-locked on every append and read;
    /// write-locked only to add a shard or drop a deleted stream's.
    shards: RwLock<HashMap<ShardKey, Arc<ShardState>>>,
    /// Current revision of every stream document. Held across the revision check and the
    /// write, so two compare-and-sets on one document cannot both succeed.
    revisions: Mutex<HashMap<u64, u64>>,
    /// Serializes the creation of the iterator key.
    iterator_key: tokio::sync::Mutex<()>,
    /// Name claims. Kept in memory only: one process owns a sled store, and its registry
    /// knows every live stream's name after a restart; claims arbitrate between nodes.
    names: Mutex<HashMap<String, NameClaim>>,
    /// Subscription leases, in memory for the same reason.
    leases: Mutex<HashMap<String, Lease>>,
    /// Serializes item batches and table deletions (see `sled_tables.rs`).
    table_writes: Mutex<()>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Maps changed by single inserts and removes: poison cannot leave one half changed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The in-memory compare-and-set of name claims and leases: stores `make(revision)` under
/// `key` if the entry's revision is `expected` (`None`: no entry), with the next revision.
fn compare_and_insert<T>(
    map: &mut HashMap<String, T>,
    key: &str,
    expected: Option<u64>,
    revision_of: fn(&T) -> u64,
    make: impl FnOnce(u64) -> T,
    conflict: impl FnOnce() -> String,
) -> Result<u64> {
    let current = map.get(key).map(revision_of);
    if current != expected {
        return Err(StoreError::Conflict(conflict()));
    }
    let revision = current.unwrap_or(0) + 1;
    map.insert(key.to_string(), make(revision));
    Ok(revision)
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`; see [`Store::open`].
    pub fn open(dir: &Path, options: SledOptions) -> Result<Arc<SledStore>> {
        Self::over(Store::open_checked(dir, options.accept_data_loss)?, options)
    }

    /// A store that vanishes with the handle (tests, `--in-memory`).
    pub fn open_temporary(options: SledOptions) -> Result<Arc<SledStore>> {
        Self::over(Store::open_temporary()?, options)
    }

    fn over(store: Store, options: SledOptions) -> Result<Arc<SledStore>> {
        store.set_min_free_bytes(options.min_free_bytes);
        let commit = GroupCommit::start(store.clone(), options.on_idle)?;
        Ok(Arc::new(SledStore {
            store,
            commit,
            durability: options.durability,
            shards: RwLock::new(HashMap::new()),
            revisions: Mutex::new(HashMap::new()),
            iterator_key: tokio::sync::Mutex::new(()),
            names: Mutex::default(),
            leases: Mutex::default(),
            table_writes: Mutex::default(),
        }))
    }

    /// Records the journal gave back on open (acknowledged before a crash, not yet in sled).
    pub fn replayed_from_journal(&self) -> u64 {
        self.store.replayed_from_journal()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// A ticket done once everything written to the store so far is durable.
    pub(crate) fn durable_ticket(&self) -> crate::group_commit::Ticket {
        self.commit.ticket(true)
    }

    pub(crate) fn table_writes(&self) -> MutexGuard<'_, ()> {
        locked(&self.table_writes)
    }

    fn names(&self) -> MutexGuard<'_, HashMap<String, NameClaim>> {
        locked(&self.names)
    }

    fn revisions(&self) -> MutexGuard<'_, HashMap<u64, u64>> {
        // A plain map updated in single assignments: poison cannot leave it half changed.
        self.revisions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shard's state, created from the store on first use.
    fn shard(&self, key: ShardKey) -> Result<Arc<ShardState>> {
        if let Some(state) = self
            .shards
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(state.clone());
        }
        let last = self.store.last_position(key)?.unwrap_or(0);
        let next = match self.durability {
            Durability::Flush => last + 1,
            Durability::Relaxed => last + 1 + RELAXED_RESTART_GAP,
        };
        let mut shards = self.shards.write().unwrap_or_else(|p| p.into_inner());
        // Another caller may have created it meanwhile: theirs wins, it may hold positions.
        let state = shards
            .entry(key)
            .or_insert_with(|| Arc::new(ShardState::new(key, last, next)));
        Ok(state.clone())
    }

    /// Assigns positions to one run and hands its records on, unless the shard is closed.
    fn append_run(&self, run: Run, now_ms: i64) -> Result<RunOutcome> {
        let state = self.shard(run.shard)?;
        let mut w = state.writer();
        if w.closed.is_some() {
            return Ok(RunOutcome::Closed {
                records: run.records,
            });
        }
        if let Some(after) = run.after {
            w.next_position = w.next_position.max(after.saturating_add(1));
        }
        let arrival_ms = now_ms.max(w.last_arrival_ms);
        let first = w.next_position;
        let count = run.records.len() as u64;
        let records: Vec<StoredRecord> = run
            .records
            .into_iter()
            .zip(first..)
            .map(
                |(
                    RecordIn {
                        partition_key,
                        data,
                    },
                    position,
                )| StoredRecord {
                    position,
                    arrival_ms,
                    partition_key,
                    data,
                },
            )
            .collect();
        if count > 0 {
            match self.durability {
                Durability::Flush => self.commit.enqueue(&state, records),
                Durability::Relaxed => {
                    let appended = self.store.append_relaxed(vec![(run.shard, records)])?;
                    self.commit.relaxed_appended(appended);
                    state.publish(first + count - 1);
                }
            }
            w.next_position = first + count;
            w.last_arrival_ms = arrival_ms;
        }
        Ok(RunOutcome::Appended { first, arrival_ms })
    }

    /// Runs a blocking store call off the async workers (trims and scans may take a while).
    fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let store = self.store.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || call(&store))
                .await
                .map_err(|e| StoreError::Io(format!("store task failed: {e}")))?
        })
    }
}

fn ready<'a, T: Send + 'a>(value: Result<T>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl ShardLog for SledStore {
    fn append(&self, runs: Vec<Run>, now_ms: i64) -> StoreFuture<'static, Vec<RunOutcome>> {
        let mut outcomes = Vec::with_capacity(runs.len());
        for run in runs {
            match self.append_run(run, now_ms) {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => return ready(Err(e)),
            }
        }
        let queued = outcomes
            .iter()
            .any(|o| matches!(o, RunOutcome::Appended { .. }));
        if self.durability == Durability::Relaxed || !queued {
            return ready(Ok(outcomes));
        }
        // The flusher publishes the new positions to readers once they are durable.
        let ticket = self.commit.ticket(false);
        Box::pin(async move {
            ticket.wait().await?;
            Ok(outcomes)
        })
    }

    fn read(
        &self,
        shard: ShardKey,
        from: Position,
        max_records: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, Chunk> {
        let read = || -> Result<Chunk> {
            let tip = self.shard(shard)?.visible();
            let mut chunk = Chunk {
                records: Vec::new(),
                next: from,
                tip,
            };
            if from > tip {
                return Ok(chunk);
            }
            // Positions are consecutive here, so nothing past the tip needs reading.
            let want = max_records.min((tip - from + 1) as usize);
            let found = self.store.read(shard, from, want, max_bytes)?;
            if found.is_empty() {
                // Nothing is stored up to the durable tip: whatever was there has been trimmed.
                chunk.next = tip + 1;
            }
            for r in found {
                if r.position > tip {
                    break;
                }
                chunk.next = r.position + 1;
                chunk.records.push(r);
            }
            Ok(chunk)
        };
        ready(read())
    }

    fn last_position(&self, shard: ShardKey) -> StoreFuture<'_, Position> {
        ready(self.shard(shard).map(|s| s.visible()))
    }

    fn watch(&self, shard: ShardKey) -> Result<tokio::sync::watch::Receiver<Position>> {
        Ok(self.shard(shard)?.subscribe())
    }

    fn position_at_time(&self, shard: ShardKey, ts_ms: i64) -> StoreFuture<'_, Option<Position>> {
        ready(self.store.first_position_at_or_after_time(shard, ts_ms))
    }

    fn close(&self, shard: ShardKey, now_ms: i64) -> StoreFuture<'_, Position> {
        let close = || -> Result<Position> {
            let state = self.shard(shard)?;
            let mut w = state.writer();
            w.closed = Some(now_ms);
            Ok(w.next_position - 1)
        };
        ready(close())
    }

    fn reopen(&self, shard: ShardKey) -> StoreFuture<'_, ()> {
        let reopen = || -> Result<()> {
            self.shard(shard)?.writer().closed = None;
            Ok(())
        };
        ready(reopen())
    }

    fn closed_at(&self, shard: ShardKey) -> StoreFuture<'_, Option<i64>> {
        ready(self.shard(shard).map(|s| s.writer().closed))
    }

    fn reopen_closed_at(&self, shard: ShardKey, closed_ms: i64) -> StoreFuture<'_, bool> {
        let reopen = || -> Result<bool> {
            let state = self.shard(shard)?;
            let mut w = state.writer();
            let matches = w.closed == Some(closed_ms);
            if matches {
                w.closed = None;
            }
            Ok(matches)
        };
        ready(reopen())
    }

    fn trim(&self, shard: ShardKey, cutoff_ms: i64, max: usize) -> StoreFuture<'_, TrimReport> {
        self.blocking(move |store| store.trim_before_time(shard, cutoff_ms, max))
    }

    fn delete_stream(&self, stream: u64, max: usize, _now_ms: i64) -> StoreFuture<'_, TrimReport> {
        let deletion = self.blocking(move |store| store.delete_stream_records(stream, max));
        Box::pin(async move {
            let report = deletion.await?;
            if report.done {
                let mut shards = self.shards.write().unwrap_or_else(|p| p.into_inner());
                shards.retain(|key, _| key.stream != stream);
            }
            Ok(report)
        })
    }

    fn stats(&self, shard: ShardKey) -> StoreFuture<'_, ShardStats> {
        self.blocking(move |store| {
            let (records, bytes) = store.shard_stats(shard)?;
            Ok(ShardStats { records, bytes })
        })
    }

    fn sync(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.commit.durable().await?;
            self.blocking(Store::flush).await
        })
    }
}

impl Catalog for SledStore {
    fn allocate_stream_id(&self) -> StoreFuture<'_, u64> {
        ready(self.store.allocate_stream_id())
    }

    fn load_streams(&self) -> StoreFuture<'_, Vec<StreamDoc>> {
        let load = || -> Result<Vec<StreamDoc>> {
            let mut revisions = self.revisions();
            let docs = self.store.load_stream_metas()?;
            Ok(docs
                .into_iter()
                .map(|(stream, doc)| {
                    let revision = *revisions.entry(stream).or_insert(1);
                    StreamDoc {
                        stream,
                        revision,
                        doc,
                    }
                })
                .collect())
        };
        ready(load())
    }

    fn put_stream(&self, stream: u64, expected: Option<u64>, doc: Vec<u8>) -> StoreFuture<'_, u64> {
        let write = || -> Result<u64> {
            let mut revisions = self.revisions();
            let current = revisions.get(&stream).copied();
            if current != expected {
                return Err(revision_conflict(stream, expected));
            }
            self.store.put_stream_meta(stream, &doc)?;
            let revision = current.unwrap_or(0) + 1;
            revisions.insert(stream, revision);
            Ok(revision)
        };
        let written = write().map(|revision| (revision, self.commit.ticket(true)));
        Box::pin(async move {
            let (revision, ticket) = written?;
            ticket.wait().await?;
            Ok(revision)
        })
    }

    fn stream(&self, stream: u64) -> StoreFuture<'_, Option<StreamDoc>> {
        let load = || -> Result<Option<StreamDoc>> {
            let mut revisions = self.revisions();
            Ok(self.store.stream_meta(stream)?.map(|doc| StreamDoc {
                stream,
                revision: *revisions.entry(stream).or_insert(1),
                doc,
            }))
        };
        ready(load())
    }

    fn name_claim(&self, name: &str) -> StoreFuture<'_, Option<NameClaim>> {
        let claim = self.names().get(name).copied();
        ready(Ok(claim))
    }

    fn claim_name(
        &self,
        name: &str,
        stream: u64,
        claimed_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        ready(compare_and_insert(
            &mut self.names(),
            name,
            expected,
            |c| c.revision,
            |revision| NameClaim {
                stream,
                claimed_ms,
                revision,
            },
            || format!("name {name} is held by another stream"),
        ))
    }

    fn lease(&self, key: &str) -> StoreFuture<'_, Option<Lease>> {
        ready(Ok(locked(&self.leases).get(key).copied()))
    }

    fn leases(&self) -> StoreFuture<'_, Vec<(String, Lease)>> {
        let all = locked(&self.leases)
            .iter()
            .map(|(k, l)| (k.clone(), *l))
            .collect();
        ready(Ok(all))
    }

    fn remove_lease(&self, key: &str, revision: u64) -> StoreFuture<'_, bool> {
        let mut leases = locked(&self.leases);
        let current = leases.get(key).is_some_and(|l| l.revision == revision);
        if current {
            leases.remove(key);
        }
        ready(Ok(current))
    }

    fn put_lease(
        &self,
        key: &str,
        holder: u64,
        started_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        ready(compare_and_insert(
            &mut locked(&self.leases),
            key,
            expected,
            |l| l.revision,
            |revision| Lease {
                holder,
                started_ms,
                revision,
            },
            || format!("lease {key} changed"),
        ))
    }

    fn release_name(&self, name: &str, stream: u64) -> StoreFuture<'_, ()> {
        let mut names = self.names();
        if names.get(name).is_some_and(|c| c.stream == stream) {
            names.remove(name);
        }
        ready(Ok(()))
    }

    fn remove_stream(&self, stream: u64) -> StoreFuture<'_, ()> {
        let removed = self.store.remove_stream_meta(stream);
        if removed.is_ok() {
            self.revisions().remove(&stream);
        }
        ready(removed)
    }

    fn setting(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        ready(self.store.get_setting(name))
    }

    fn put_setting(&self, name: &str, value: Vec<u8>) -> StoreFuture<'_, ()> {
        let written = self
            .store
            .put_setting(name, &value)
            .map(|()| self.commit.ticket(true));
        Box::pin(async move { written?.wait().await })
    }

    fn iterator_key(&self) -> StoreFuture<'_, [u8; 32]> {
        Box::pin(async move {
            let _once = self.iterator_key.lock().await;
            if let Some(key) = self.store.get_setting(ITERATOR_KEY)? {
                if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                    return Ok(key);
                }
            }
            let key: [u8; 32] = rand::random();
            self.store.put_setting(ITERATOR_KEY, &key)?;
            // The key must be durable before an iterator signed with it is handed out. An
            // iterator names a stream, and writing a stream's document makes the whole store
            // durable, key included: a store without streams (a new one) need not wait for
            // the disk here, on the start-up path.
            if self.store.has_streams()? {
                self.commit.durable().await?;
            }
            Ok(key)
        })
    }

    fn follow(&self) -> StoreFuture<'_, Option<Followed>> {
        // This process is the store's only writer.
        ready(Ok(None))
    }

    fn sync_point(&self) -> StoreFuture<'_, u64> {
        ready(Ok(0))
    }
}
