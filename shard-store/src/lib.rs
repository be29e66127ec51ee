//! Durable storage for kinesd: every shard's records plus the stream catalogue.
//!
//! The API speaks kinesd's vocabulary only (streams, shards, sub-sequence numbers,
//! arrival times); the embedded key-value engine (currently sled) never appears in a
//! public signature so it can be replaced without touching the server.
//!
//! # On-disk layout
//!
//! Two trees:
//!
//! * `records` — every key starts with a tag byte, all integers are big-endian so byte
//!   order equals numeric order:
//!   * `b'b'` + stream (u64) + shard (u32) + first position (u64) → a *block*: a run of
//!     consecutive records of the shard, in one value (format below). A stream's blocks
//!     form one contiguous key range, and so do a shard's, in position order.
//!   * `b'h'` + stream (u64) + shard (u32) → `[1][position u64]`, the shard's trim
//!     high-water mark (highest position ever deleted by a trim).
//!   * `b'r'` + stream (u64) + shard (u32) + position (u64) → one legacy record,
//!     `[1][arrival_ms i64][pk_len u16][pk][data]`. Only directories written before
//!     blocks existed hold these; [`Store::open`] converts them to blocks before it
//!     returns, so no other code path sees them.
//!
//!   Marks live in the same tree as records so that "delete records + raise mark" is a
//!   single atomic sled batch: a crash can never leave a trimmed shard without its mark.
//! * `catalog` — `b'm'` + stream (u64) → `[1][opaque doc]`; `b's'` + name → `[1][value]`.
//!
//! A block value is
//!
//! ```text
//! [1][count u32][last position u64][first arrival_ms i64][last arrival_ms i64]
//! then `count` times: [position u64][arrival_ms i64][pk_len u16][data_len u32][pk][data]
//! ```
//!
//! The header lets trimming, `last_position` and the time search decide about a whole
//! block without walking its records. One `append` call writes its records as blocks of
//! at most `BLOCK_BYTES` (a record larger than that is a block of its own); blocks are
//! never extended afterwards.
//!
//! Block invariants (for each shard):
//! * a block holds at least one record; positions strictly increase inside it (they need
//!   not be contiguous); its key carries its first position and its header agrees with
//!   its records;
//! * blocks do not overlap: every position of a block is below the key of the next one;
//! * a block is never modified in place: it is written once by `append`, then either
//!   deleted whole or, when a trim cuts through it, replaced (in one batch) by the
//!   suffix of its records under the key of the suffix's first record.
//!
//! Every stored value starts with a format version byte (currently 1). Decoding a value
//! with any other version, or with inconsistent lengths, counts or positions, yields
//! [`StoreError::Corrupt`]; nothing in this crate panics on bad stored bytes.
//!
//! # Durability
//!
//! Writes are atomic per call but only guaranteed durable after [`Store::flush`]
//! returns, or, for records, once [`Store::append_durably`] returns. The engine also
//! flushes in the background every few hundred milliseconds, but acknowledgements to
//! clients must be gated on one of those two.
//!
//! A store on a directory also keeps a *journal* (file `kinesd-journal`, see
//! `journal.rs`): `append_durably` writes small commits there with one `fdatasync`
//! instead of flushing the engine, and `open` puts back into the engine whatever
//! journaled records a crash took from it.

mod block;
mod engine_files;
mod group_commit;
mod journal;
pub mod log;
mod pending;
mod shard_state;
mod sled_store;

pub use log::{
    Catalog, Chunk, Position, RecordIn, Run, RunOutcome, ShardLog, ShardStats, StoreFuture,
    StreamDoc,
};
pub use sled_store::{Durability, SledOptions, SledStore, RELAXED_RESTART_GAP};

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use block::{Block, BlockBuilder, BlockRecord, Header};
use engine_files::EngineFiles;
use journal::Journal;
use pending::Pending;

/// Result type of every fallible store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Errors returned by the store.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (disk error, engine bug, misuse such as opening a
    /// directory that another process holds).
    #[error("storage I/O error: {0}")]
    Io(String),
    /// A stored value could not be decoded (unknown format version, bad lengths, bad
    /// UTF-8), the engine detected on-disk corruption, or a value could not be encoded
    /// in the stored format (partition key longer than 65535 bytes).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A compare-and-set named another revision than the stored one.
    #[error("conflicting update: {0}")]
    Conflict(String),
}

// Private on purpose: a pub `From<sled::Error>` would leak sled into the API.
fn engine_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => {
            StoreError::Corrupt(format!("storage engine reported corruption at {at:?}"))
        }
        other => StoreError::Io(other.to_string()),
    }
}

/// The journal's file name inside the store's directory (beside sled's own files).
const JOURNAL_FILE: &str = "kinesd-journal";

/// How long `Store::open` keeps retrying while the directory lock is held.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Retained records live on disk, not in RAM: sled's page cache defaults to 1 GiB, far more
/// than an emulator should hold, so it is capped.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// sled's segment size stays at its default (512 KiB): see [`BLOCK_BYTES`] for why.
fn tuned(config: sled::Config) -> sled::Config {
    config.cache_capacity(CACHE_BYTES)
}

/// sled 0.34 releases its directory lock asynchronously: for a few milliseconds after
/// the last handle is dropped, internal I/O threads still hold it, so reopening the same
/// directory in-process (a restart in tests, a server rebuilt on the same data dir)
/// fails with "could not acquire lock" (spacejam/sled#1234, #1289). Retry briefly; a
/// lock held by a live second process lasts far longer than `LOCK_WAIT` and still
/// surfaces as an error.
fn open_waiting_for_lock(config: &sled::Config) -> Result<sled::Db> {
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

fn is_lock_contention(e: &sled::Error) -> bool {
    // sled reports it as a generic io::Error; the message is the only discriminator.
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Identifies one shard: the stream's numeric id (never reused, see
/// [`Store::allocate_stream_id`]) and the shard index within the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardKey {
    pub stream: u64,
    pub shard: u32,
}

/// A record to append.
///
/// `position` is the per-shard position assigned by the caller; it must be strictly
/// increasing per shard (across calls too, and above anything ever trimmed), and
/// `arrival_ms` must be non-decreasing in position order within a shard. The store relies
/// on both (range reads, time binary search, trimming) but does not check them.
#[derive(Clone, Copy, Debug)]
pub struct NewRecord<'a> {
    pub position: u64,
    pub arrival_ms: i64,
    pub partition_key: &'a str,
    pub data: &'a [u8],
}

/// A record as read back from a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub position: u64,
    pub arrival_ms: i64,
    pub partition_key: String,
    pub data: Vec<u8>,
}

impl StoredRecord {
    /// The record as [`Store::append`] takes it.
    pub fn as_new(&self) -> NewRecord<'_> {
        NewRecord {
            position: self.position,
            arrival_ms: self.arrival_ms,
            partition_key: &self.partition_key,
            data: &self.data,
        }
    }
}

/// Outcome of one bounded deletion step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrimReport {
    /// Records deleted by this call.
    pub removed: usize,
    /// True when nothing more is left to delete for the same arguments; while false the
    /// caller should call again.
    pub done: bool,
}

const FORMAT_VERSION: u8 = 1;

const TAG_BLOCK: u8 = b'b';
const TAG_LEGACY_RECORD: u8 = b'r';
const TAG_HIGH_WATER: u8 = b'h';
const TAG_STREAM_META: u8 = b'm';
const TAG_SETTING: u8 = b's';

/// Upper bound on the encoded size of a block written by `append` (header included),
/// unless one record alone is larger.
///
/// Chosen by measurement (`examples/append_throughput.rs`, 200 MB per run, 40 and 400
/// records per append + flush). sled keeps a leaf node's values inline, and splits a
/// leaf above 16 entries but may hold ~26 (pending fragments) when it rewrites the
/// whole node; any log item larger than a quarter segment (~128 KiB with the default
/// 512 KiB segments) goes to a separate blob file instead, which sled 0.34 never
/// fsyncs. 4 KiB keeps a full node (26 × ~4.1 KiB ≈ 107 KiB) inline. Larger blocks
/// only measured faster when consolidations spilled into blob files (16 KiB and up);
/// with segments raised so nodes stay inline (2 and 8 MiB), 16–64 KiB blocks were no
/// faster than 4 KiB, so neither the cap nor the segment size goes higher.
const BLOCK_BYTES: usize = 4 * 1024;

/// Bounds of one migration batch (legacy records converted per atomic sled batch).
const MIGRATION_BATCH_RECORDS: usize = 4096;
const MIGRATION_BATCH_BYTES: usize = 4 << 20;

/// Keys of blocks and of legacy records: tag + stream + shard + position.
const POSITION_KEY_LEN: usize = 1 + 8 + 4 + 8;
/// Legacy record values: version + arrival_ms + pk_len.
const LEGACY_HEADER_LEN: usize = 1 + 8 + 2;

fn stream_prefix(tag: u8, stream: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = tag;
    k[1..9].copy_from_slice(&stream.to_be_bytes());
    k
}

fn shard_prefix(tag: u8, shard: ShardKey) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..9].copy_from_slice(&stream_prefix(tag, shard.stream));
    k[9..13].copy_from_slice(&shard.shard.to_be_bytes());
    k
}

fn position_key(tag: u8, shard: ShardKey, position: u64) -> [u8; POSITION_KEY_LEN] {
    let mut k = [0u8; POSITION_KEY_LEN];
    k[..13].copy_from_slice(&shard_prefix(tag, shard));
    k[13..].copy_from_slice(&position.to_be_bytes());
    k
}

fn block_key(shard: ShardKey, first: u64) -> [u8; POSITION_KEY_LEN] {
    position_key(TAG_BLOCK, shard, first)
}

fn high_water_key(shard: ShardKey) -> [u8; 13] {
    shard_prefix(TAG_HIGH_WATER, shard)
}

/// Splits a block or legacy record key into its shard and position.
fn parse_position_key(key: &[u8]) -> Result<(ShardKey, u64)> {
    if key.len() != POSITION_KEY_LEN {
        return Err(StoreError::Corrupt(format!(
            "record key of {} bytes",
            key.len()
        )));
    }
    let be = |r: std::ops::Range<usize>| -> u64 {
        key[r].iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
    };
    let shard = ShardKey {
        stream: be(1..9),
        shard: be(9..13) as u32,
    };
    Ok((shard, be(13..21)))
}

/// Says where a decoding error happened without repeating the variant's own prefix.
fn with_context(e: StoreError, at: std::fmt::Arguments<'_>) -> StoreError {
    match e {
        StoreError::Corrupt(msg) => StoreError::Corrupt(format!("{at}: {msg}")),
        StoreError::Io(msg) => StoreError::Io(format!("{at}: {msg}")),
        StoreError::Conflict(msg) => StoreError::Conflict(format!("{at}: {msg}")),
    }
}

/// Strips and checks the version byte shared by every stored value.
fn versioned_body<'v>(value: &'v [u8], what: &str) -> Result<&'v [u8]> {
    match value.split_first() {
        Some((&FORMAT_VERSION, body)) => Ok(body),
        Some((v, _)) => Err(StoreError::Corrupt(format!(
            "{what}: unknown format version {v}"
        ))),
        None => Err(StoreError::Corrupt(format!("{what}: empty value"))),
    }
}

fn versioned(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + body.len());
    v.push(FORMAT_VERSION);
    v.extend_from_slice(body);
    v
}

/// A legacy per-record value: `[1][arrival_ms i64][pk_len u16][pk][data]`.
struct LegacyRecord<'v> {
    arrival_ms: i64,
    pk: &'v [u8],
    data: &'v [u8],
}

impl<'v> LegacyRecord<'v> {
    fn parse(value: &'v [u8]) -> Result<Self> {
        let body = versioned_body(value, "legacy record")?;
        if body.len() < LEGACY_HEADER_LEN - 1 {
            return Err(StoreError::Corrupt(format!(
                "legacy record: {} bytes is shorter than the header",
                value.len()
            )));
        }
        let arrival_ms = i64::from_be_bytes(body[0..8].try_into().expect("8 bytes"));
        let pk_len = u16::from_be_bytes(body[8..10].try_into().expect("2 bytes")) as usize;
        let rest = &body[10..];
        if rest.len() < pk_len {
            return Err(StoreError::Corrupt(format!(
                "legacy record: partition key length {pk_len} exceeds the {} remaining bytes",
                rest.len()
            )));
        }
        let (pk, data) = rest.split_at(pk_len);
        Ok(LegacyRecord {
            arrival_ms,
            pk,
            data,
        })
    }
}

fn to_stored(shard: ShardKey, r: &BlockRecord<'_>) -> Result<StoredRecord> {
    let partition_key = std::str::from_utf8(r.pk)
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "{shard:?} position {}: partition key: {e}",
                r.position
            ))
        })?
        .to_owned();
    Ok(StoredRecord {
        position: r.position,
        arrival_ms: r.arrival_ms,
        partition_key,
        data: r.data.to_vec(),
    })
}

fn decode_u64_value(value: &[u8], what: &str) -> Result<u64> {
    let body = versioned_body(value, what)?;
    let raw: [u8; 8] = body
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, want 9", value.len())))?;
    Ok(u64::from_be_bytes(raw))
}

struct Inner {
    db: sled::Db,
    /// sled's files, synced after its flushes; `None` for a temporary store.
    engine_files: Option<EngineFiles>,
    records: sled::Tree,
    catalog: sled::Tree,
    /// Serializes trims and stream deletions. Each of them reads, then writes a batch
    /// computed from what it read (notably the high-water mark and the rewritten block
    /// a trim cuts through); two interleaved ones on the same shard could otherwise
    /// lower the mark or resurrect records. Appends and reads never take it.
    maintenance: Mutex<()>,
    /// The record journal of a store opened on a directory (see [`Store::append_durably`]).
    /// Its lock is held across "journal, then keep in memory" and across "drain memory into
    /// sled, flush sled, then checkpoint", so a checkpoint never drops an entry whose records
    /// sled has not flushed.
    /// Set once, by `Store::open`, after the replay.
    journal: OnceLock<Mutex<Journal>>,
    /// Records the journal gave back on open (written but not in sled before a crash).
    replayed: AtomicU64,
    /// Journaled records not yet written to sled.
    pending: Pending,
    /// Serializes drains of `pending`: two drains of one shard could cut its records into
    /// blocks differently and overwrite each other's blocks.
    draining: Mutex<()>,
    /// Streams whose records are being or have been deleted in this process. A put that
    /// raced the deletion may still hand records over afterwards; they are dropped rather
    /// than left behind under an id nothing will ever purge again (ids are never reused).
    deleted: Mutex<HashSet<u64>>,
}

/// How many journaled record bytes may wait in memory before they go to the engine.
/// Measured with 16 clients of 100 B PutRecords: 128 KiB to 32 MiB were within noise of
/// each other; small enough to bound memory, large enough for full blocks.
const PENDING_BYTES: usize = 2 << 20;

fn as_new(records: &[StoredRecord]) -> Vec<NewRecord<'_>> {
    records.iter().map(StoredRecord::as_new).collect()
}

impl Inner {
    /// sled's flush, then what it leaves unsynced (see `engine_files`).
    fn flush(&self) -> Result<()> {
        // All trees share one log, so flushing the Db covers records and catalogue.
        self.db.flush().map_err(engine_err)?;
        if let Some(files) = &self.engine_files {
            files.sync()?;
        }
        Ok(())
    }

    fn is_deleted(&self, stream: u64) -> bool {
        let deleted = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        deleted.contains(&stream)
    }

    fn without_deleted(
        &self,
        mut groups: Vec<(ShardKey, Vec<StoredRecord>)>,
    ) -> Vec<(ShardKey, Vec<StoredRecord>)> {
        let deleted = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        groups.retain(|(k, _)| !deleted.contains(&k.stream));
        groups
    }

    fn draining_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // Guards no data of its own: ignore poison.
        self.draining.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the pending records of one shard (or of all) to the engine, then forgets
    /// them; readers find each record in memory or in the engine throughout.
    fn drain(&self, which: impl Fn(&ShardKey) -> bool) -> Result<()> {
        let _draining = self.draining_lock();
        for (shard, chunks) in self.pending.snapshot(which) {
            let records: Vec<NewRecord<'_>> = chunks
                .iter()
                .flat_map(|c| c.iter().map(StoredRecord::as_new))
                .collect();
            self.append_engine(shard, &records)?;
            if let Some(last) = records.last() {
                self.pending.remove_through(shard, last.position);
            }
        }
        Ok(())
    }

    fn append_engine(&self, shard: ShardKey, records: &[NewRecord<'_>]) -> Result<()> {
        let mut blocks = Vec::new();
        let mut builder = BlockBuilder::new();
        for r in records {
            let len = block::record_len(r.partition_key.len(), r.data.len());
            if !builder.is_empty() && builder.len() + len > BLOCK_BYTES {
                blocks.extend(builder.take());
            }
            builder.push(r.position, r.arrival_ms, r.partition_key.as_bytes(), r.data)?;
        }
        blocks.extend(builder.take());
        for (first, value) in blocks {
            self.records
                .insert(&block_key(shard, first)[..], value)
                .map_err(engine_err)?;
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A clean close leaves an empty journal, so the next open has nothing to replay.
        if let Some(journal) = self.journal.get() {
            let mut journal = journal.lock().unwrap_or_else(|p| p.into_inner());
            if self.drain(|_| true).is_ok() && self.flush().is_ok() {
                let _ = journal.checkpoint();
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
    inner: Arc<Inner>,
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
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))?;
        Self::from_config(tuned(sled::Config::new().path(dir)), Some(dir))
    }

    /// Opens a store that lives only as long as this handle (and its clones); meant for
    /// tests.
    pub fn open_temporary() -> Result<Store> {
        Self::from_config(tuned(sled::Config::new().temporary(true)), None)
    }

    fn from_config(config: sled::Config, dir: Option<&Path>) -> Result<Store> {
        let db = open_waiting_for_lock(&config)?;
        let engine_files = dir.map(EngineFiles::open).transpose()?;
        let records = db.open_tree("records").map_err(engine_err)?;
        let catalog = db.open_tree("catalog").map_err(engine_err)?;
        let store = Store {
            inner: Arc::new(Inner {
                db,
                engine_files,
                records,
                catalog,
                maintenance: Mutex::new(()),
                journal: OnceLock::new(),
                replayed: AtomicU64::new(0),
                pending: Pending::default(),
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
    fn replay_journal(&self, dir: &Path) -> Result<(Journal, u64)> {
        let mut replayed = 0u64;
        let journal = Journal::open(&dir.join(JOURNAL_FILE), journal::JOURNAL_BYTES, |groups| {
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

    fn journal_lock(&self) -> Option<std::sync::MutexGuard<'_, Journal>> {
        // The journal's state is its file plus a cursor that every failing path restores,
        // so a panic elsewhere leaves nothing half-done: ignore poison.
        self.inner
            .journal
            .get()
            .map(|j| j.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Converts every legacy per-record key into blocks, in atomic batches that each
    /// insert some blocks and remove exactly the legacy keys they hold. Returns the
    /// number of records converted.
    fn migrate_legacy_records(&self) -> Result<u64> {
        let records = &self.inner.records;
        let mut converted = 0u64;
        loop {
            let mut batch = sled::Batch::default();
            let (mut taken, mut bytes) = (0usize, 0usize);
            let mut current: Option<ShardKey> = None;
            let mut builder = BlockBuilder::new();
            // Each round rescans from the start: the previous round removed what it
            // converted, so the scan begins at the first record still to do.
            for item in records.scan_prefix([TAG_LEGACY_RECORD]) {
                let (key, value) = item.map_err(engine_err)?;
                if taken >= MIGRATION_BATCH_RECORDS || bytes >= MIGRATION_BATCH_BYTES {
                    break;
                }
                let (shard, position) = parse_position_key(&key)?;
                let legacy = LegacyRecord::parse(&value).map_err(|e| {
                    with_context(e, format_args!("{shard:?} legacy position {position}"))
                })?;
                let len = block::record_len(legacy.pk.len(), legacy.data.len());
                if current != Some(shard)
                    || (!builder.is_empty() && builder.len() + len > BLOCK_BYTES)
                {
                    if let (Some(done), Some((first, block))) = (current, builder.take()) {
                        batch.insert(&block_key(done, first)[..], block);
                    }
                    current = Some(shard);
                }
                builder.push(position, legacy.arrival_ms, legacy.pk, legacy.data)?;
                batch.remove(key);
                taken += 1;
                bytes += len;
            }
            if let (Some(shard), Some((first, block))) = (current, builder.take()) {
                batch.insert(&block_key(shard, first)[..], block);
            }
            if taken == 0 {
                return Ok(converted);
            }
            records.apply_batch(batch).map_err(engine_err)?;
            converted += taken as u64;
        }
    }

    /// Makes everything written so far (through any clone) durable: it survives a crash,
    /// a `kill -9` of the process or a power cut (sled's flush, completed by an `fsync` of
    /// its files; see `engine_files` for the one window left). Blocking; may take
    /// milliseconds, so batch acknowledgements behind one call.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }

    fn maintenance_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded state lives in the tree, not in the mutex, and every batch is
        // atomic, so a panic elsewhere cannot leave anything half-done: ignore poison.
        self.inner
            .maintenance
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    // ---- catalogue ----

    /// Returns a fresh stream id: > 0, larger than every id returned before, never
    /// returned again, even after a crash or restart (ids may skip values).
    pub fn allocate_stream_id(&self) -> Result<u64> {
        // sled persists its id generator itself and jumps ahead on recovery, so ids stay
        // unique across crashes without an explicit flush here; +1 keeps 0 unused.
        let id = self.inner.db.generate_id().map_err(engine_err)?;
        id.checked_add(1)
            .ok_or_else(|| StoreError::Io("stream id space exhausted".into()))
    }

    /// Stores (replacing any previous one) the opaque metadata document of a stream, in
    /// a single atomic write.
    pub fn put_stream_meta(&self, stream: u64, doc: &[u8]) -> Result<()> {
        self.inner
            .catalog
            .insert(stream_prefix(TAG_STREAM_META, stream), versioned(doc))
            .map(drop)
            .map_err(engine_err)
    }

    /// Removes a stream's metadata document (no-op if absent). Its records are removed
    /// separately with [`Store::delete_stream_records`].
    pub fn remove_stream_meta(&self, stream: u64) -> Result<()> {
        self.inner
            .catalog
            .remove(stream_prefix(TAG_STREAM_META, stream))
            .map(drop)
            .map_err(engine_err)
    }

    /// All stream metadata documents, sorted by stream id.
    pub fn load_stream_metas(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.inner.catalog.scan_prefix([TAG_STREAM_META]) {
            let (key, value) = item.map_err(engine_err)?;
            let raw: [u8; 8] = key
                .get(1..)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("stream meta key of {} bytes", key.len()))
                })?;
            let stream = u64::from_be_bytes(raw);
            let doc = versioned_body(&value, "stream meta")
                .map_err(|e| with_context(e, format_args!("stream {stream}")))?;
            out.push((stream, doc.to_vec()));
        }
        Ok(out)
    }

    /// Reads a small named setting (e.g. the server's iterator-signing key).
    pub fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let value = self
            .inner
            .catalog
            .get(setting_key(name))
            .map_err(engine_err)?;
        value
            .map(|v| versioned_body(&v, "setting").map(<[u8]>::to_vec))
            .transpose()
    }

    /// Stores (replacing) a small named setting.
    pub fn put_setting(&self, name: &str, value: &[u8]) -> Result<()> {
        self.inner
            .catalog
            .insert(setting_key(name), versioned(value))
            .map(drop)
            .map_err(engine_err)
    }

    // ---- records ----

    /// Appends records to one shard in order. Not durable until [`Store::flush`]; a crash
    /// before it keeps a prefix of the records (the engine's log is ordered), never a gap.
    /// Plain inserts rather than an atomic batch: a batch costs the engine two extra log
    /// writes per call, and callers acknowledge nothing before the flush anyway.
    ///
    /// The records are stored as blocks of consecutive records (see the crate docs), so
    /// one call with many records costs a handful of engine writes; prefer one call per
    /// group commit over one per record.
    ///
    /// The caller guarantees the [`NewRecord`] ordering invariants; an empty batch is a
    /// no-op. Fails with `Corrupt` (writing nothing) if a partition key exceeds 65535
    /// bytes, which the stored format cannot represent.
    pub fn append(&self, shard: ShardKey, records: &[NewRecord<'_>]) -> Result<()> {
        if self.inner.is_deleted(shard.stream) {
            return Ok(());
        }
        if self.inner.pending.holds(shard) {
            self.inner.drain(|k| *k == shard)?;
        }
        self.inner.append_engine(shard, records)
    }

    /// Appends each group's records to its shard and returns once all of them are
    /// durable, without making anything else durable. Groups follow the [`NewRecord`]
    /// ordering invariants.
    ///
    /// A store opened on a directory writes small commits to its journal, one write and
    /// one `fdatasync` on the calling thread, and keeps the records in memory (readable
    /// at once) until a few hundred KiB have gathered; then they go to the engine as
    /// full blocks, which the engine flushes in the background. A crash before that is
    /// repaired by the next [`Store::open`] from the journal. Large commits, a full
    /// journal and temporary stores take the engine and a full [`Store::flush`] instead.
    /// Meant for one committing thread; concurrent callers are serialized.
    pub fn append_durably(&self, groups: Vec<(ShardKey, Vec<StoredRecord>)>) -> Result<()> {
        let groups = self.inner.without_deleted(groups);
        let Some(mut journal) = self.journal_lock() else {
            self.append_groups(&groups)?;
            return self.flush();
        };
        if journal::entry_len(&groups) <= journal::JOURNAL_ENTRY_MAX && journal.append(&groups)? {
            if self.inner.pending.push(groups) >= PENDING_BYTES {
                self.inner.drain(|_| true)?;
            }
            return Ok(());
        }
        // Everything older goes to the engine first, so each shard's blocks keep their
        // order; the flush then covers all the journal holds, which restarts.
        self.inner.drain(|_| true)?;
        self.append_groups(&groups)?;
        self.flush()?;
        journal.checkpoint()
    }

    fn append_groups(&self, groups: &[(ShardKey, Vec<StoredRecord>)]) -> Result<()> {
        for (shard, records) in groups {
            self.inner.append_engine(*shard, &as_new(records))?;
        }
        Ok(())
    }

    /// Writes every journaled record to the engine, flushes it and empties the journal, so
    /// a restart has nothing to replay. For idle moments; a no-op on a temporary store.
    pub fn settle(&self) -> Result<()> {
        let Some(mut journal) = self.journal_lock() else {
            return Ok(());
        };
        self.inner.drain(|_| true)?;
        self.flush()?;
        journal.checkpoint()
    }

    /// Records with position >= `from`, ascending, at most `max_records` of them.
    ///
    /// Size limit: a record is included only while the summed data + partition-key
    /// bytes stay <= `max_bytes`; reading stops at the first record that does not fit
    /// (never skips), and also once the sum has reached `max_bytes`. Exception: the
    /// first record is always returned if one exists, even if it alone exceeds
    /// `max_bytes`, so a reader always makes progress. `max_records == 0` returns
    /// nothing.
    pub fn read(
        &self,
        shard: ShardKey,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredRecord>> {
        loop {
            let moved = self.inner.pending.moved();
            let (mut out, ran_out) = self.read_engine(shard, from, max_records, max_bytes)?;
            // Memory holds only records above the engine's (or copies of its last ones),
            // so a read the limits stopped is complete.
            if !ran_out
                || self.inner.pending.extend_read(
                    shard,
                    moved,
                    &mut out,
                    from,
                    max_records,
                    max_bytes,
                )
            {
                return Ok(out);
            }
            // A drain moved records into the engine while we read it: read again.
        }
    }

    /// The engine's part of [`Store::read`]; the flag says whether the read ran out of
    /// engine records (rather than of limits), so that memory may continue it.
    fn read_engine(
        &self,
        shard: ShardKey,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let mut out: Vec<StoredRecord> = Vec::new();
        if max_records == 0 {
            return Ok((out, false));
        }
        // `from` may fall inside a block: start at the block holding it, if any.
        let start = match self.block_at_or_before(shard, from)? {
            Some((first, value)) if self.header(shard, first, &value)?.last >= from => first,
            _ => from,
        };
        let mut total = 0usize;
        for item in self.blocks_from(shard, start) {
            if out.len() >= max_records {
                return Ok((out, false));
            }
            let (first, value) = item?;
            let block = self.decode(shard, first, &value)?;
            // Records below the cursor are skipped: the first block may start before
            // `from`, and a trim rewriting a block between two steps of this scan can
            // show us the suffix of a block we already read.
            let cursor = out.last().map_or(Some(from), |r| r.position.checked_add(1));
            let Some(cursor) = cursor else {
                return Ok((out, false));
            };
            for r in block.records.iter().filter(|r| r.position >= cursor) {
                let size = r.billed_len();
                if !pending::fits(out.len(), total, size, max_records, max_bytes) {
                    return Ok((out, false));
                }
                total = total.saturating_add(size);
                out.push(to_stored(shard, r)?);
            }
        }
        Ok((out, true))
    }

    /// Highest position ever appended to the shard, including records since trimmed (the
    /// trim high-water mark covers an emptied shard, across restarts), or None if
    /// nothing was ever appended (or the stream's records were deleted).
    pub fn last_position(&self, shard: ShardKey) -> Result<Option<u64>> {
        // Memory first: a record leaves it only once the engine holds it.
        if let Some(last) = self.inner.pending.last(shard) {
            return Ok(Some(last));
        }
        let stored = self.last_stored_position(shard)?;
        let mark = self.high_water(shard)?;
        Ok(stored.max(mark))
    }

    fn last_stored_position(&self, shard: ShardKey) -> Result<Option<u64>> {
        match self.block_at_or_before(shard, u64::MAX)? {
            Some((first, value)) => Ok(Some(self.header(shard, first, &value)?.last)),
            None => Ok(None),
        }
    }

    fn high_water(&self, shard: ShardKey) -> Result<Option<u64>> {
        self.inner
            .records
            .get(high_water_key(shard))
            .map_err(engine_err)?
            .map(|v| decode_u64_value(&v, "high-water mark"))
            .transpose()
    }

    /// The shard's blocks whose first position is >= `from`, ascending, as
    /// (first position, value).
    fn blocks_from(
        &self,
        shard: ShardKey,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec)>> {
        self.inner
            .records
            .range(block_key(shard, from)..=block_key(shard, u64::MAX))
            .map(|item| {
                let (key, value) = item.map_err(engine_err)?;
                Ok((parse_position_key(&key)?.1, value))
            })
    }

    /// The shard's block with the highest first position <= `at`, if any: the only block
    /// that can hold position `at`.
    fn block_at_or_before(&self, shard: ShardKey, at: u64) -> Result<Option<(u64, sled::IVec)>> {
        let found = self
            .inner
            .records
            .range(block_key(shard, 0)..=block_key(shard, at))
            .next_back();
        match found {
            Some(item) => {
                let (key, value) = item.map_err(engine_err)?;
                Ok(Some((parse_position_key(&key)?.1, value)))
            }
            None => Ok(None),
        }
    }

    fn header(&self, shard: ShardKey, first: u64, value: &[u8]) -> Result<Header> {
        Header::parse(first, value)
            .map_err(|e| with_context(e, format_args!("{shard:?} block {first}")))
    }

    fn decode<'v>(&self, shard: ShardKey, first: u64, value: &'v [u8]) -> Result<Block<'v>> {
        Block::decode(first, value)
            .map_err(|e| with_context(e, format_args!("{shard:?} block {first}")))
    }

    /// Lowest position still stored, with its arrival time, or None if the shard holds no
    /// record.
    pub fn first_record_position(&self, shard: ShardKey) -> Result<Option<(u64, i64)>> {
        self.inner.drain(|k| *k == shard)?;
        match self.blocks_from(shard, 0).next() {
            Some(item) => {
                let (first, value) = item?;
                let header = self.header(shard, first, &value)?;
                Ok(Some((first, header.first_ms)))
            }
            None => Ok(None),
        }
    }

    /// The position of the first stored record with `arrival_ms >= ts_ms`, or None if
    /// there is none.
    ///
    /// Relies on arrival times being non-decreasing in position order (a [`NewRecord`]
    /// invariant): it bisects the position key space with "block at or before" lookups,
    /// deciding from block headers alone, so it costs O(64) index lookups at most,
    /// independent of the shard's size, plus decoding the one block holding the answer.
    pub fn first_position_at_or_after_time(
        &self,
        shard: ShardKey,
        ts_ms: i64,
    ) -> Result<Option<u64>> {
        self.inner.drain(|k| *k == shard)?;
        let Some(item) = self.blocks_from(shard, 0).next() else {
            return Ok(None);
        };
        let (first, value) = item?;
        let head = self.header(shard, first, &value)?;
        // The scan at the end starts at the first block with a key >= `start`.
        let start = if head.last_ms >= ts_ms {
            first
        } else {
            let Some((last, value)) = self.block_at_or_before(shard, u64::MAX)? else {
                return Ok(None);
            };
            let tail = self.header(shard, last, &value)?;
            if tail.last_ms < ts_ms {
                return Ok(None);
            }
            // Invariant: every block with a key <= `lo` ends too early; the block keyed
            // `hi` ends late enough. Once no key lies strictly between them, the answer
            // is in the first block after `lo`, which is `hi`.
            let (mut lo, mut hi) = (head.last, last);
            while hi > lo && hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                // None only if a concurrent trim removed every block up to `mid`.
                let Some((key, value)) = self.block_at_or_before(shard, mid)? else {
                    lo = mid;
                    continue;
                };
                let block = self.header(shard, key, &value)?;
                if block.last_ms >= ts_ms && key > lo {
                    hi = key;
                } else {
                    // No block starts inside (mid, block.last]: skip that key space.
                    lo = mid.max(block.last);
                }
            }
            match lo.checked_add(1) {
                Some(next) => next,
                None => return Ok(None),
            }
        };
        // Normally the first block looked at holds the answer; scanning on covers a
        // concurrent trim having rewritten it under a later key.
        for item in self.blocks_from(shard, start) {
            let (first, value) = item?;
            if self.header(shard, first, &value)?.last_ms < ts_ms {
                continue;
            }
            let block = self.decode(shard, first, &value)?;
            if let Some(r) = block.records.iter().find(|r| r.arrival_ms >= ts_ms) {
                return Ok(Some(r.position));
            }
        }
        Ok(None)
    }

    /// Deletes, in position order, the records whose `arrival_ms < cutoff_ms`, in one
    /// atomic batch that also raises the shard's high-water mark to the highest deleted
    /// position (so [`Store::last_position`] survives an emptied shard and a restart).
    ///
    /// `max` bounds the batch roughly: records go a block at a time (whole blocks, or
    /// the expired part of the block the cutoff falls into), and another block is taken
    /// only while fewer than `max` records have been removed, so `removed` may exceed
    /// `max` by less than one block's worth of records. `done` is true when no record
    /// older than the cutoff remains. With `max == 0` nothing is deleted and `done` only
    /// reports whether work remains.
    pub fn trim_before_time(
        &self,
        shard: ShardKey,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<TrimReport> {
        self.inner.drain(|k| *k == shard)?;
        let _guard = self.maintenance_lock();
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut highest = None;
        let mut done = true;
        for item in self.blocks_from(shard, 0) {
            let (first, value) = item?;
            let header = self.header(shard, first, &value)?;
            if header.first_ms >= cutoff_ms {
                break;
            }
            if removed >= max {
                done = false;
                break;
            }
            batch.remove(&block_key(shard, first)[..]);
            if header.last_ms < cutoff_ms {
                removed += header.count as usize;
                highest = Some(header.last);
                continue;
            }
            // The cutoff falls inside this block: keep the suffix that is late enough,
            // under the key of its first record, in the same batch as the removal.
            let block = self.decode(shard, first, &value)?;
            let keep = block
                .records
                .iter()
                .position(|r| r.arrival_ms >= cutoff_ms)
                .unwrap_or(block.records.len());
            removed += keep;
            if let Some(last_gone) = keep.checked_sub(1) {
                highest = Some(block.records[last_gone].position);
            }
            if keep < block.records.len() {
                let (new_first, suffix) = block.suffix(keep);
                batch.insert(&block_key(shard, new_first)[..], suffix);
            }
            break;
        }
        if let Some(highest) = highest {
            let mark = self.high_water(shard)?.map_or(highest, |m| m.max(highest));
            batch.insert(&high_water_key(shard)[..], versioned(&mark.to_be_bytes()));
            self.inner.records.apply_batch(batch).map_err(engine_err)?;
        }
        Ok(TrimReport { removed, done })
    }

    /// Removes records of the stream (all shards, lowest keys first), whole blocks at a
    /// time, in one atomic batch; another block is taken only while fewer than `max`
    /// records have been removed, so `removed` may exceed `max` by less than one
    /// block's worth. The batch that removes the last record also removes the stream's
    /// high-water marks. Call until `done`; afterwards `last_position` of every shard of
    /// the stream is None. With `max == 0` no record is deleted (the marks still go if
    /// no record is left).
    ///
    /// From the first call on, this store handle drops whatever is still appended to the
    /// stream (a put that raced the deletion), so `done` stays true; stream ids are never
    /// reused, so nothing legitimate is lost.
    pub fn delete_stream_records(&self, stream: u64, max: usize) -> Result<TrimReport> {
        self.inner
            .deleted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(stream);
        // Records still in memory go to the engine first, to be deleted within the bound.
        self.inner.drain(|k| k.stream == stream)?;
        let _guard = self.maintenance_lock();
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut done = true;
        for item in self
            .inner
            .records
            .scan_prefix(stream_prefix(TAG_BLOCK, stream))
        {
            let (key, value) = item.map_err(engine_err)?;
            if removed >= max {
                done = false;
                break;
            }
            // The whole stream goes: a value that cannot be decoded goes with it (counted as
            // one record) instead of failing every purge attempt from now on.
            removed += parse_position_key(&key)
                .and_then(|(shard, first)| self.header(shard, first, &value))
                .map_or(1, |h| h.count as usize);
            batch.remove(key);
        }
        let mut changed = removed > 0;
        if done {
            for item in self
                .inner
                .records
                .scan_prefix(stream_prefix(TAG_HIGH_WATER, stream))
            {
                let (key, _) = item.map_err(engine_err)?;
                batch.remove(key);
                changed = true;
            }
        }
        if changed {
            self.inner.records.apply_batch(batch).map_err(engine_err)?;
        }
        Ok(TrimReport { removed, done })
    }

    /// Number of stored records in a shard and their summed data + partition-key bytes.
    /// Scans (and fully decodes) the whole shard; for tests and diagnostics.
    pub fn shard_stats(&self, shard: ShardKey) -> Result<(u64, u64)> {
        self.inner.drain(|k| *k == shard)?;
        let (mut count, mut bytes) = (0u64, 0u64);
        // As in `read`, a concurrent trim may show us a block's suffix twice.
        let mut cursor = Some(0u64);
        for item in self.blocks_from(shard, 0) {
            let Some(from) = cursor else { break };
            let (first, value) = item?;
            let block = self.decode(shard, first, &value)?;
            for r in block.records.iter().filter(|r| r.position >= from) {
                count += 1;
                bytes += r.billed_len() as u64;
                cursor = r.position.checked_add(1);
            }
        }
        Ok((count, bytes))
    }
}

fn setting_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(TAG_SETTING);
    k.extend_from_slice(name.as_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: ShardKey = ShardKey {
        stream: 7,
        shard: 2,
    };

    fn rec(position: u64, arrival_ms: i64) -> NewRecord<'static> {
        NewRecord {
            position,
            arrival_ms,
            partition_key: "pk",
            data: b"data",
        }
    }

    fn assert_corrupt<T: std::fmt::Debug>(r: Result<T>) {
        match r {
            Err(StoreError::Corrupt(_)) => {}
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    /// An owned record, for tests that need varied partition keys and data.
    fn owned(position: u64, arrival_ms: i64, data_len: usize) -> StoredRecord {
        StoredRecord {
            position,
            arrival_ms,
            partition_key: format!("pk-{position}"),
            data: (0..data_len).map(|i| (i as u64 ^ position) as u8).collect(),
        }
    }

    fn borrowed(records: &[StoredRecord]) -> Vec<NewRecord<'_>> {
        records.iter().map(StoredRecord::as_new).collect()
    }

    /// The documented `read` semantics over a plain list.
    fn reference_read(
        all: &[StoredRecord],
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        let mut total = 0usize;
        for r in all.iter().filter(|r| r.position >= from) {
            let size = r.partition_key.len() + r.data.len();
            if out.len() >= max_records
                || (!out.is_empty() && (total >= max_bytes || total + size > max_bytes))
            {
                break;
            }
            total += size;
            out.push(r.clone());
        }
        out
    }

    /// (first position, record count, value length) of every block of `shard`.
    fn block_layout(store: &Store, shard: ShardKey) -> Vec<(u64, u32, usize)> {
        store
            .blocks_from(shard, 0)
            .map(|item| {
                let (first, value) = item.unwrap();
                let header = Header::parse(first, &value).unwrap();
                (first, header.count, value.len())
            })
            .collect()
    }

    /// Writes one record in the pre-block layout, as older versions did.
    fn write_legacy(store: &Store, shard: ShardKey, r: &StoredRecord) {
        let mut value = vec![FORMAT_VERSION];
        value.extend_from_slice(&r.arrival_ms.to_be_bytes());
        value.extend_from_slice(&(r.partition_key.len() as u16).to_be_bytes());
        value.extend_from_slice(r.partition_key.as_bytes());
        value.extend_from_slice(&r.data);
        store
            .inner
            .records
            .insert(
                &position_key(TAG_LEGACY_RECORD, shard, r.position)[..],
                value,
            )
            .unwrap();
    }

    fn legacy_keys(store: &Store) -> usize {
        store.inner.records.scan_prefix([TAG_LEGACY_RECORD]).count()
    }

    fn reopen(store: Store, dir: &Path) -> Store {
        store.flush().unwrap();
        drop(store);
        Store::open(dir).unwrap()
    }

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

    #[test]
    fn key_layout_is_big_endian_and_tagged() {
        let shard = ShardKey {
            stream: 0x0102030405060708,
            shard: 0x090a0b0c,
        };
        let k = block_key(shard, 0x0d0e0f1011121314);
        assert_eq!(k[0], b'b');
        assert_eq!(&k[1..], &(1u8..=0x14).collect::<Vec<_>>()[..]);
        assert_eq!(parse_position_key(&k).unwrap(), (shard, 0x0d0e0f1011121314));
        assert!(block_key(S, u64::MAX) < block_key(ShardKey { shard: 3, ..S }, 0));
        assert_corrupt(parse_position_key(&k[..20]));
    }

    #[test]
    fn record_round_trip() {
        let store = Store::open_temporary().unwrap();
        let r = NewRecord {
            position: 9,
            arrival_ms: -5,
            partition_key: "clé",
            data: &[0, 1, 255],
        };
        store.append(S, &[r]).unwrap();
        assert_eq!(
            store.read(S, 0, 10, 100).unwrap(),
            vec![StoredRecord {
                position: 9,
                arrival_ms: -5,
                partition_key: "clé".into(),
                data: vec![0, 1, 255],
            }]
        );
        let value = store.inner.records.get(block_key(S, 9)).unwrap().unwrap();
        assert_eq!(value[0], FORMAT_VERSION);
    }

    #[test]
    fn oversized_partition_key_is_rejected_without_writing() {
        let store = Store::open_temporary().unwrap();
        let pk = "x".repeat(70_000);
        let recs = [
            rec(1, 1),
            NewRecord {
                position: 2,
                arrival_ms: 1,
                partition_key: &pk,
                data: b"",
            },
        ];
        assert_corrupt(store.append(S, &recs));
        assert_eq!(store.last_position(S).unwrap(), None);
    }

    #[test]
    fn appends_are_split_into_blocks_of_at_most_block_bytes() {
        let store = Store::open_temporary().unwrap();
        let n = (3 * BLOCK_BYTES / 100) as u64;
        let small: Vec<_> = (0..n).map(|i| owned(i, 1, 100)).collect();
        store.append(S, &borrowed(&small)).unwrap();
        let layout = block_layout(&store, S);
        assert!(layout.len() > 1, "{layout:?}");
        assert!(layout.iter().all(|&(_, _, len)| len <= BLOCK_BYTES));
        // Full blocks: adding the next record would have crossed the cap.
        let record = block::record_len(small[0].partition_key.len(), 100);
        for &(_, _, len) in &layout[..layout.len() - 1] {
            assert!(len + record > BLOCK_BYTES, "{layout:?}");
        }
        assert_eq!(layout.iter().map(|l| u64::from(l.1)).sum::<u64>(), n);

        // A record larger than the cap is a block of its own.
        let other = ShardKey { shard: 9, ..S };
        let mixed = vec![
            owned(1, 1, 10),
            owned(2, 1, BLOCK_BYTES * 2),
            owned(3, 1, 10),
        ];
        store.append(other, &borrowed(&mixed)).unwrap();
        let layout = block_layout(&store, other);
        assert_eq!(
            layout.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(1, 1), (2, 1), (3, 1)]
        );
        assert_eq!(store.read(other, 0, 10, usize::MAX).unwrap(), mixed);
        store.append(other, &[]).unwrap();
        assert_eq!(block_layout(&store, other).len(), 3);
    }

    /// Several appends, each split into several blocks, with gaps between positions.
    fn many_blocks(store: &Store) -> Vec<StoredRecord> {
        let mut all = Vec::new();
        let mut position = 3;
        for append in 0..4u64 {
            let batch: Vec<_> = (0..60)
                .map(|i| {
                    position += if i % 7 == 0 { 1_000 } else { 1 };
                    let data_len = BLOCK_BYTES / 25 + (i as usize % 5) * BLOCK_BYTES / 100;
                    owned(position, (append * 100 + i / 3) as i64, data_len)
                })
                .collect();
            store.append(S, &borrowed(&batch)).unwrap();
            all.extend(batch);
        }
        assert!(block_layout(store, S).len() >= 8);
        all
    }

    #[test]
    fn read_starts_mid_block_and_crosses_blocks() {
        let store = Store::open_temporary().unwrap();
        let all = many_blocks(&store);
        let mut froms: Vec<u64> = vec![0, u64::MAX];
        for r in &all {
            froms.extend([r.position - 1, r.position, r.position + 1]);
        }
        for from in froms {
            assert_eq!(
                store.read(S, from, usize::MAX, usize::MAX).unwrap(),
                reference_read(&all, from, usize::MAX, usize::MAX),
                "from {from}"
            );
        }
    }

    #[test]
    fn read_limits_across_blocks() {
        let store = Store::open_temporary().unwrap();
        let all = many_blocks(&store);
        let starts = [0, all[10].position, all[59].position, all[61].position];
        for from in starts {
            for max_records in [0, 1, 2, 17, 59, 60, 61, 150, usize::MAX] {
                let block = BLOCK_BYTES;
                for max_bytes in [
                    0,
                    1,
                    100,
                    block / 2,
                    block,
                    block + 999,
                    3 * block,
                    usize::MAX,
                ] {
                    assert_eq!(
                        store.read(S, from, max_records, max_bytes).unwrap(),
                        reference_read(&all, from, max_records, max_bytes),
                        "read({from}, {max_records}, {max_bytes})"
                    );
                }
            }
        }
    }

    #[test]
    fn read_byte_limit() {
        let store = Store::open_temporary().unwrap();
        // each record bills 2 (pk) + 4 (data) = 6 bytes
        let recs: Vec<_> = (1..=5).map(|i| rec(i, i as i64)).collect();
        store.append(S, &recs).unwrap();
        let lens = |max_bytes| store.read(S, 0, 100, max_bytes).unwrap().len();
        assert_eq!(lens(0), 1);
        assert_eq!(lens(5), 1);
        assert_eq!(lens(6), 1);
        assert_eq!(lens(11), 1);
        assert_eq!(lens(12), 2);
        assert_eq!(lens(1000), 5);
        assert_eq!(store.read(S, 0, 0, 1000).unwrap().len(), 0);
        assert_eq!(store.read(S, 4, 100, 1000).unwrap().len(), 2);
        assert_eq!(store.read(S, 6, 100, 1000).unwrap().len(), 0);
    }

    #[test]
    fn read_does_not_cross_shards() {
        let store = Store::open_temporary().unwrap();
        let next = ShardKey { shard: 3, ..S };
        store
            .append(S, &[rec(u64::MAX - 1, 1), rec(u64::MAX, 1)])
            .unwrap();
        store.append(next, &[rec(0, 1)]).unwrap();
        let got = store.read(S, 0, 10, 1000).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].position, u64::MAX);
        assert_eq!(store.read(S, u64::MAX, 10, 1000).unwrap().len(), 1);
        assert_eq!(store.last_position(S).unwrap(), Some(u64::MAX));
        assert_eq!(store.last_position(next).unwrap(), Some(0));
        assert_eq!(store.first_record_position(next).unwrap(), Some((0, 1)));
        assert_eq!(
            store.first_position_at_or_after_time(S, 1).unwrap(),
            Some(u64::MAX - 1)
        );
        assert_eq!(store.first_position_at_or_after_time(S, 2).unwrap(), None);
    }

    #[test]
    fn time_search_with_equal_times_and_gaps() {
        let store = Store::open_temporary().unwrap();
        let times = [5, 5, 5, 7, 7, 9, 20, 20, 20, 21];
        let recs: Vec<_> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| rec(1000 + (i as u64) * (i as u64) * 1_000_000_007, t))
            .collect();
        store.append(S, &recs).unwrap();
        for ts in 0..25 {
            let want = recs.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
            assert_eq!(
                store.first_position_at_or_after_time(S, ts).unwrap(),
                want,
                "ts {ts}"
            );
        }
    }

    #[test]
    fn time_search_across_many_blocks() {
        let store = Store::open_temporary().unwrap();
        let mut all = Vec::new();
        let mut position = 0u64;
        let mut ms = 0i64;
        // 300 single- and multi-block appends; times repeat across block boundaries and
        // jump elsewhere, positions sometimes jump by huge amounts.
        for append in 0..300u64 {
            let n = 1 + (append * 7 % 13) as usize;
            let batch: Vec<_> = (0..n)
                .map(|i| {
                    position += match (append + i as u64) % 11 {
                        0 => 1 << 40,
                        1 => 5,
                        _ => 1,
                    };
                    ms += match (append * 3 + i as u64) % 9 {
                        0 => 50,
                        1 | 2 => 1,
                        _ => 0,
                    };
                    owned(position, ms, if append % 10 == 0 { 1_500 } else { 10 })
                })
                .collect();
            store.append(S, &borrowed(&batch)).unwrap();
            all.extend(batch);
        }
        assert!(block_layout(&store, S).len() >= 300);
        for ts in (-2..=ms + 2).chain([i64::MIN, i64::MAX]) {
            let want = all.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
            assert_eq!(
                store.first_position_at_or_after_time(S, ts).unwrap(),
                want,
                "ts {ts}"
            );
        }
        // Still right after trims cut blocks in the middle.
        for cutoff in [3, 200, 1_000] {
            store.trim_before_time(S, cutoff, usize::MAX).unwrap();
            all.retain(|r| r.arrival_ms >= cutoff);
            for ts in (-2..=ms + 2).step_by(7) {
                let want = all.iter().find(|r| r.arrival_ms >= ts).map(|r| r.position);
                assert_eq!(
                    store.first_position_at_or_after_time(S, ts).unwrap(),
                    want,
                    "cutoff {cutoff} ts {ts}"
                );
            }
        }
    }

    #[test]
    fn trim_rewrites_the_straddling_block_then_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let first: Vec<_> = (10..20).map(|i| owned(i, i as i64, 5)).collect();
        let second: Vec<_> = (30..35).map(|i| owned(i, i as i64, 5)).collect();
        store.append(S, &borrowed(&first)).unwrap();
        store.append(S, &borrowed(&second)).unwrap();
        assert_eq!(block_layout(&store, S).len(), 2);

        // Cutoff 14: records 10..=13 go, the block continues at 14.
        assert_eq!(
            store.trim_before_time(S, 14, 100).unwrap(),
            TrimReport {
                removed: 4,
                done: true
            }
        );
        let layout = block_layout(&store, S);
        assert_eq!(
            layout.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(14, 6), (30, 5)]
        );
        assert_eq!(store.high_water(S).unwrap(), Some(13));
        assert_eq!(store.first_record_position(S).unwrap(), Some((14, 14)));
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap()[0].position, 14);
        assert_eq!(store.read(S, 12, 3, usize::MAX).unwrap().len(), 3);

        store = reopen(store, dir.path());
        let mut want = first[4..].to_vec();
        want.extend(second.iter().cloned());
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap(), want);
        assert_eq!(store.shard_stats(S).unwrap().0, 11);
        assert_eq!(store.last_position(S).unwrap(), Some(34));

        // A cutoff between blocks removes the first block whole; one inside the second
        // then rewrites it.
        assert_eq!(
            store.trim_before_time(S, 25, 100).unwrap(),
            TrimReport {
                removed: 6,
                done: true
            }
        );
        assert_eq!(block_layout(&store, S)[0].0, 30);
        assert_eq!(
            store.trim_before_time(S, 34, 100).unwrap(),
            TrimReport {
                removed: 4,
                done: true
            }
        );
        store = reopen(store, dir.path());
        assert_eq!(store.read(S, 0, 100, usize::MAX).unwrap(), second[4..]);
        assert_eq!(store.high_water(S).unwrap(), Some(33));
        assert_eq!(store.last_position(S).unwrap(), Some(34));
        assert_eq!(
            store.trim_before_time(S, i64::MAX, 100).unwrap(),
            TrimReport {
                removed: 1,
                done: true
            }
        );
        store = reopen(store, dir.path());
        assert_eq!(store.first_record_position(S).unwrap(), None);
        assert_eq!(store.last_position(S).unwrap(), Some(34));
    }

    #[test]
    fn trim_and_delete_take_whole_blocks_up_to_max() {
        let store = Store::open_temporary().unwrap();
        // Three blocks of 4 records each, times 0..12.
        for b in 0..3u64 {
            let recs: Vec<_> = (b * 4..b * 4 + 4).map(|i| rec(i, i as i64)).collect();
            store.append(S, &recs).unwrap();
        }
        let report = |removed, done| TrimReport { removed, done };
        assert_eq!(store.trim_before_time(S, 100, 0).unwrap(), report(0, false));
        assert_eq!(store.trim_before_time(S, 0, 0).unwrap(), report(0, true));
        // max 1 still takes the whole first block.
        assert_eq!(store.trim_before_time(S, 100, 1).unwrap(), report(4, false));
        // max 5: after the block 4..=7 (4 < 5 records removed so far) the next one is
        // taken too, up to the cutoff: 4..=9 go.
        assert_eq!(store.trim_before_time(S, 10, 5).unwrap(), report(6, true));
        assert_eq!(block_layout(&store, S)[0].0, 10);
        assert_eq!(store.last_position(S).unwrap(), Some(11));

        let other = ShardKey { shard: 0, ..S };
        store.append(other, &[rec(0, 0)]).unwrap();
        // Stream 7 holds blocks [0] on shard 0, then [10, 11] on shard 2.
        assert_eq!(store.delete_stream_records(7, 0).unwrap(), report(0, false));
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(1, false));
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(2, true));
        assert_eq!(store.last_position(S).unwrap(), None);
        assert_eq!(store.delete_stream_records(7, 1).unwrap(), report(0, true));
    }

    #[test]
    fn reads_and_time_searches_stay_consistent_while_trims_cut_blocks() {
        let store = Store::open_temporary().unwrap();
        const N: u64 = 10_000;
        for start in (0..N).step_by(50) {
            let recs: Vec<_> = (start..start + 50).map(|i| rec(i, i as i64)).collect();
            store.append(S, &recs).unwrap();
        }
        let trimmer = {
            let store = store.clone();
            std::thread::spawn(move || {
                // Almost every cutoff falls inside a block, so almost every trim
                // rewrites one.
                for cutoff in (0..N as i64 - 10).step_by(3) {
                    // Give the reader time to run between trims.
                    std::thread::yield_now();
                    store.trim_before_time(S, cutoff, usize::MAX).unwrap();
                }
            })
        };
        let mut rounds = 0u64;
        while !trimmer.is_finished() || rounds < 100 {
            rounds += 1;
            let from = rounds * 37 % N;
            let got = store.read(S, from, 300, usize::MAX).unwrap();
            // Records trimmed while the read runs may be missing, nothing else: every
            // gap (and anything skipped at the start) must be gone by now.
            let first_now = store.first_record_position(S).unwrap().unwrap().0;
            assert!(!got.is_empty() && got[0].position >= from, "read({from})");
            assert!(got[0].position == from || got[0].position <= first_now);
            for pair in got.windows(2) {
                assert!(pair[1].position > pair[0].position, "read({from})");
                assert!(
                    pair[1].position == pair[0].position + 1 || pair[1].position <= first_now,
                    "read({from}) skipped from {} to {} but {first_now} is stored",
                    pair[0].position,
                    pair[1].position
                );
            }
            let at = store
                .first_position_at_or_after_time(S, from as i64)
                .unwrap()
                .unwrap();
            assert!(at >= from, "time search {from} gave {at}");
            let (first, ms) = store.first_record_position(S).unwrap().unwrap();
            assert_eq!(first as i64, ms);
        }
        trimmer.join().unwrap();
        let last_cutoff = (N - 11) / 3 * 3;
        assert_eq!(
            store.first_record_position(S).unwrap(),
            Some((last_cutoff, last_cutoff as i64))
        );
    }

    #[test]
    fn malformed_block_values_decode_to_corrupt() {
        let good = {
            let mut b = BlockBuilder::new();
            b.push(2, 20, b"pk", b"data").unwrap();
            b.push(3, 25, b"pk", b"data").unwrap();
            b.take().unwrap().1
        };
        let patched = |at: usize, bytes: &[u8]| {
            let mut v = good.clone();
            v[at..at + bytes.len()].copy_from_slice(bytes);
            v
        };
        let second = block::HEADER_LEN + block::record_len(2, 4);
        const RECORD_PK_AT: usize = block::RECORD_OVERHEAD;
        // (value, header is fine, records are fine but for the partition key's UTF-8)
        let cases: Vec<(Vec<u8>, bool, bool)> = vec![
            (vec![], false, false),
            (vec![0], false, false),
            (patched(0, &[2]), false, false),
            (good[..block::HEADER_LEN].to_vec(), false, false),
            (patched(1, &9u32.to_be_bytes()), false, false),
            (good[..good.len() - 1].to_vec(), true, false),
            (patched(second + 16, &1000u16.to_be_bytes()), true, false),
            (patched(second + 8, &26i64.to_be_bytes()), true, false),
            (patched(second + RECORD_PK_AT, &[0xff]), true, true),
        ];
        for (i, (bad, header_ok, utf8_only)) in cases.into_iter().enumerate() {
            let store = Store::open_temporary().unwrap();
            store.append(S, &[rec(1, 10)]).unwrap();
            store
                .inner
                .records
                .insert(&block_key(S, 2)[..], bad)
                .unwrap();
            store.append(S, &[rec(4, 30)]).unwrap();
            assert_corrupt(store.read(S, 0, 10, 1 << 20));
            assert_corrupt(store.read(S, 3, 10, 1 << 20));
            // Decoding the first block is fine; only paths touching block 2 must fail.
            assert_eq!(store.read(S, 0, 1, 1 << 20).unwrap().len(), 1);
            assert_eq!(store.read(S, 4, 10, 1 << 20).unwrap().len(), 1);
            assert_eq!(store.first_record_position(S).unwrap(), Some((1, 10)));
            assert_eq!(store.last_position(S).unwrap(), Some(4));
            if utf8_only {
                // Only copying a record out looks at the partition key's UTF-8.
                assert_eq!(store.shard_stats(S).unwrap().0, 4);
                continue;
            }
            assert_corrupt(store.shard_stats(S));
            // Time search and trims decide from headers; they decode a block only to
            // cut through it.
            if header_ok {
                assert_eq!(
                    store.first_position_at_or_after_time(S, 30).unwrap(),
                    Some(4)
                );
                assert_corrupt(store.first_position_at_or_after_time(S, 21));
                assert_corrupt(store.trim_before_time(S, 22, 10));
                assert_eq!(store.trim_before_time(S, 26, 10).unwrap().removed, 3, "{i}");
            } else {
                assert_corrupt(store.first_position_at_or_after_time(S, 21));
                assert_corrupt(store.trim_before_time(S, 26, 10));
                // A stream deletion takes an undecodable block with the rest.
                assert!(store.delete_stream_records(S.stream, 10).unwrap().done);
                assert_eq!(store.last_position(S).unwrap(), None);
            }
        }
    }

    #[test]
    fn malformed_first_block_fails_position_queries() {
        let store = Store::open_temporary().unwrap();
        store
            .inner
            .records
            .insert(&block_key(S, 1)[..], vec![9, 0, 0])
            .unwrap();
        assert_corrupt(store.first_record_position(S));
        assert_corrupt(store.first_position_at_or_after_time(S, 0));
        assert_corrupt(store.last_position(S));
        let msg = store.read(S, 0, 1, 1).unwrap_err().to_string();
        assert_eq!(
            msg,
            "corrupt stored value: ShardKey { stream: 7, shard: 2 } block 1: \
             block: unknown format version 9"
        );
    }

    #[test]
    fn a_corrupt_block_does_not_stop_a_stream_deletion() {
        let store = Store::open_temporary().unwrap();
        for first in [1u64, 10, 20] {
            store
                .append(S, &[rec(first, 1), rec(first + 1, 2)])
                .unwrap();
        }
        store
            .inner
            .records
            .insert(&block_key(S, 10)[..], vec![1, 0, 0])
            .unwrap();
        let mut bad_key = block_key(S, 30).to_vec();
        bad_key.push(9);
        store.inner.records.insert(bad_key, vec![1]).unwrap();
        assert_corrupt(store.read(S, 0, 10, 1000));
        let mut rounds = 0;
        while !store.delete_stream_records(S.stream, 1).unwrap().done {
            rounds += 1;
            assert!(rounds < 10);
        }
        assert_eq!(store.inner.records.len(), 0);
        assert_eq!(store.last_position(S).unwrap(), None);
    }

    #[test]
    fn malformed_keys_are_corrupt() {
        let store = Store::open_temporary().unwrap();
        let mut long = block_key(S, 1).to_vec();
        long.push(0);
        let mut b = BlockBuilder::new();
        b.push(1, 1, b"pk", b"data").unwrap();
        store
            .inner
            .records
            .insert(long, b.take().unwrap().1)
            .unwrap();
        assert_corrupt(store.read(S, 0, 10, 100));
        store
            .inner
            .catalog
            .insert([TAG_STREAM_META, 1, 2], versioned(b"doc"))
            .unwrap();
        assert_corrupt(store.load_stream_metas());
    }

    #[test]
    fn malformed_catalog_and_mark_values_are_corrupt() {
        let store = Store::open_temporary().unwrap();
        store.put_stream_meta(1, b"ok").unwrap();
        store
            .inner
            .catalog
            .insert(stream_prefix(TAG_STREAM_META, 2), vec![0, b'x'])
            .unwrap();
        assert_corrupt(store.load_stream_metas());

        store
            .inner
            .catalog
            .insert(setting_key("k"), Vec::<u8>::new())
            .unwrap();
        assert_corrupt(store.get_setting("k"));
        store
            .inner
            .catalog
            .insert(setting_key("k2"), vec![3, 1])
            .unwrap();
        assert_corrupt(store.get_setting("k2"));

        store
            .inner
            .records
            .insert(&high_water_key(S)[..], vec![1, 0, 0])
            .unwrap();
        assert_corrupt(store.last_position(S));
        store
            .inner
            .records
            .insert(&high_water_key(S)[..], {
                let mut v = versioned(&5u64.to_be_bytes());
                v[0] = 0;
                v
            })
            .unwrap();
        assert_corrupt(store.last_position(S));
    }

    #[test]
    fn legacy_records_are_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let a = ShardKey {
            stream: 3,
            shard: 0,
        };
        let b = ShardKey {
            stream: 3,
            shard: 1,
        };
        let c = ShardKey {
            stream: 4,
            shard: 0,
        };
        // Enough records for several migration batches; a few larger than a block.
        let plenty: Vec<_> = (0..(MIGRATION_BATCH_RECORDS as u64 * 2 + 100))
            .map(|i| {
                owned(
                    i * 2,
                    i as i64 / 10,
                    if i % 1000 == 7 { BLOCK_BYTES + 1 } else { 30 },
                )
            })
            .collect();
        let few: Vec<_> = (100..110).map(|i| owned(i, i as i64, 3)).collect();
        let one = vec![owned(5, 5, 0)];
        {
            let store = Store::open(dir.path()).unwrap();
            for r in &plenty {
                write_legacy(&store, a, r);
            }
            for r in &few {
                write_legacy(&store, b, r);
            }
            write_legacy(&store, c, &one[0]);
            // A high-water mark from an earlier trim is kept as is.
            store
                .inner
                .records
                .insert(&high_water_key(b)[..], versioned(&99u64.to_be_bytes()))
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(legacy_keys(&store), 0);
        for (shard, want) in [(a, &plenty), (b, &few), (c, &one)] {
            assert_eq!(
                &store.read(shard, 0, usize::MAX, usize::MAX).unwrap(),
                want,
                "{shard:?}"
            );
            let layout = block_layout(&store, shard);
            assert!(layout.len() < want.len() || want.len() == 1);
            assert!(layout
                .iter()
                .all(|&(_, count, len)| len <= BLOCK_BYTES || count == 1));
        }
        assert_eq!(store.last_position(b).unwrap(), Some(109));
        assert_eq!(store.high_water(b).unwrap(), Some(99));

        // Half-migrated shard (a crash between two batches): blocks below, legacy
        // records above. The next open finishes the job.
        let more: Vec<_> = (0..5).map(|i| owned(1_000_000 + i, 10_000, 8)).collect();
        for r in &more {
            write_legacy(&store, a, r);
        }
        let store = reopen(store, dir.path());
        assert_eq!(legacy_keys(&store), 0);
        let mut want = plenty.clone();
        want.extend(more);
        assert_eq!(store.read(a, 0, usize::MAX, usize::MAX).unwrap(), want);
        assert_eq!(
            store.first_position_at_or_after_time(a, 10_000).unwrap(),
            Some(1_000_000)
        );

        // A legacy record that cannot be decoded fails the open, and stays put.
        store
            .inner
            .records
            .insert(&position_key(TAG_LEGACY_RECORD, c, 9)[..], vec![1, 0])
            .unwrap();
        store.flush().unwrap();
        drop(store);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }

    #[test]
    fn stream_ids_are_positive_and_increasing() {
        let store = Store::open_temporary().unwrap();
        let a = store.allocate_stream_id().unwrap();
        let b = store.allocate_stream_id().unwrap();
        assert!(a >= 1);
        assert!(b > a);
    }
}
