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
//!   * `b'r'` + stream (u64) + shard (u32) + subseq (u64) → record value. A stream's
//!     records form one contiguous key range, and so do a shard's, in subseq order.
//!   * `b'h'` + stream (u64) + shard (u32) → `[1][subseq u64]`, the shard's trim
//!     high-water mark (highest subseq ever deleted by a trim).
//!
//!   Marks live in the same tree as records so that "delete records + raise mark" is a
//!   single atomic sled batch: a crash can never leave a trimmed shard without its mark.
//! * `catalog` — `b'm'` + stream (u64) → `[1][opaque doc]`; `b's'` + name → `[1][value]`.
//!
//! Record values are `[1][arrival_ms i64][pk_len u16][pk utf-8][data]`.
//!
//! Every stored value starts with a format version byte (currently 1). Decoding a value
//! with any other version, or with inconsistent lengths, yields [`StoreError::Corrupt`];
//! nothing in this crate panics on bad stored bytes.
//!
//! # Durability
//!
//! Writes are atomic per call but only guaranteed durable after [`Store::flush`]
//! returns. The engine also flushes in the background every few hundred milliseconds,
//! but acknowledgements to clients must be gated on an explicit `flush`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Result type of every fallible store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Errors returned by the store.
#[derive(Debug, thiserror::Error)]
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

/// How long `Store::open` keeps retrying while the directory lock is held.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Retained records live on disk, not in RAM: sled's page cache defaults to 1 GiB, far more
/// than an emulator should hold, so it is capped.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

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
/// `subseq` is the per-shard position assigned by the caller; it must be strictly
/// increasing per shard (across calls too, and above anything ever trimmed), and
/// `arrival_ms` must be non-decreasing in subseq order within a shard. The store relies
/// on both (range reads, time binary search, trimming) but does not check them.
#[derive(Clone, Copy, Debug)]
pub struct NewRecord<'a> {
    pub subseq: u64,
    pub arrival_ms: i64,
    pub partition_key: &'a str,
    pub data: &'a [u8],
}

/// A record as read back from a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub subseq: u64,
    pub arrival_ms: i64,
    pub partition_key: String,
    pub data: Vec<u8>,
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

const TAG_RECORD: u8 = b'r';
const TAG_HIGH_WATER: u8 = b'h';
const TAG_STREAM_META: u8 = b'm';
const TAG_SETTING: u8 = b's';

const RECORD_KEY_LEN: usize = 1 + 8 + 4 + 8;
/// version + arrival_ms + pk_len
const RECORD_HEADER_LEN: usize = 1 + 8 + 2;

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

fn record_key(shard: ShardKey, subseq: u64) -> [u8; RECORD_KEY_LEN] {
    let mut k = [0u8; RECORD_KEY_LEN];
    k[..13].copy_from_slice(&shard_prefix(TAG_RECORD, shard));
    k[13..].copy_from_slice(&subseq.to_be_bytes());
    k
}

fn high_water_key(shard: ShardKey) -> [u8; 13] {
    shard_prefix(TAG_HIGH_WATER, shard)
}

fn subseq_of_key(key: &[u8]) -> Result<u64> {
    let raw: [u8; 8] = key
        .get(13..)
        .and_then(|s| s.try_into().ok())
        .filter(|_| key.len() == RECORD_KEY_LEN)
        .ok_or_else(|| StoreError::Corrupt(format!("record key of {} bytes", key.len())))?;
    Ok(u64::from_be_bytes(raw))
}

/// Says where a decoding error happened without repeating the variant's own prefix.
fn with_context(e: StoreError, at: std::fmt::Arguments<'_>) -> StoreError {
    match e {
        StoreError::Corrupt(msg) => StoreError::Corrupt(format!("{at}: {msg}")),
        StoreError::Io(msg) => StoreError::Io(format!("{at}: {msg}")),
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

fn encode_record(r: &NewRecord<'_>) -> Result<Vec<u8>> {
    let pk = r.partition_key.as_bytes();
    let pk_len = u16::try_from(pk.len()).map_err(|_| {
        StoreError::Corrupt(format!(
            "partition key of {} bytes cannot be encoded (max 65535)",
            pk.len()
        ))
    })?;
    let mut v = Vec::with_capacity(RECORD_HEADER_LEN + pk.len() + r.data.len());
    v.push(FORMAT_VERSION);
    v.extend_from_slice(&r.arrival_ms.to_be_bytes());
    v.extend_from_slice(&pk_len.to_be_bytes());
    v.extend_from_slice(pk);
    v.extend_from_slice(r.data);
    Ok(v)
}

/// A record value checked for version and lengths but not yet copied out, so callers
/// can look at the arrival time or size without allocating.
struct RecordView<'v> {
    arrival_ms: i64,
    pk: &'v [u8],
    data: &'v [u8],
}

impl<'v> RecordView<'v> {
    fn parse(value: &'v [u8]) -> Result<Self> {
        let body = versioned_body(value, "record")?;
        if body.len() < RECORD_HEADER_LEN - 1 {
            return Err(StoreError::Corrupt(format!(
                "record: {} bytes is shorter than the header",
                value.len()
            )));
        }
        let arrival_ms = i64::from_be_bytes(body[0..8].try_into().expect("8 bytes"));
        let pk_len = u16::from_be_bytes(body[8..10].try_into().expect("2 bytes")) as usize;
        let rest = &body[10..];
        if rest.len() < pk_len {
            return Err(StoreError::Corrupt(format!(
                "record: partition key length {pk_len} exceeds the {} remaining bytes",
                rest.len()
            )));
        }
        let (pk, data) = rest.split_at(pk_len);
        Ok(RecordView {
            arrival_ms,
            pk,
            data,
        })
    }

    /// The size that counts against read limits: data plus partition key bytes.
    fn billed_len(&self) -> usize {
        self.pk.len() + self.data.len()
    }

    fn to_stored(&self, subseq: u64) -> Result<StoredRecord> {
        let partition_key = std::str::from_utf8(self.pk)
            .map_err(|e| StoreError::Corrupt(format!("record {subseq}: partition key: {e}")))?
            .to_owned();
        Ok(StoredRecord {
            subseq,
            arrival_ms: self.arrival_ms,
            partition_key,
            data: self.data.to_vec(),
        })
    }
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
    records: sled::Tree,
    catalog: sled::Tree,
    /// Serializes trims and stream deletions. Each of them reads, then writes a batch
    /// computed from what it read (notably the high-water mark); two interleaved ones on
    /// the same shard could otherwise lower the mark. Appends and reads never take it.
    maintenance: Mutex<()>,
}

/// Handle to an open store.
///
/// Cloning is cheap (shared `Arc`) and the handle is `Send + Sync`; all clones see the
/// same data. Every mutating call is atomic on its own (all or nothing after a crash),
/// and becomes durable once a later [`Store::flush`] has returned.
///
/// Invariants kept by the store, given the caller honours those of [`NewRecord`]:
/// * within a shard, records are returned in strictly increasing subseq order;
/// * [`Store::last_subseq`] never decreases while the stream exists, even across
///   trims that empty the shard and process restarts;
/// * records are deleted only from the low end of a shard (trim) or wholesale
///   (stream deletion), so the stored subseqs of a shard are always a suffix of what
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
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))?;
        Self::from_config(tuned(sled::Config::new().path(dir)))
    }

    /// Opens a store that lives only as long as this handle (and its clones); meant for
    /// tests.
    pub fn open_temporary() -> Result<Store> {
        Self::from_config(tuned(sled::Config::new().temporary(true)))
    }

    fn from_config(config: sled::Config) -> Result<Store> {
        let db = open_waiting_for_lock(&config)?;
        let records = db.open_tree("records").map_err(engine_err)?;
        let catalog = db.open_tree("catalog").map_err(engine_err)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                records,
                catalog,
                maintenance: Mutex::new(()),
            }),
        })
    }

    /// Makes everything written so far (through any clone) durable (fsync). Blocking;
    /// may take milliseconds, so batch acknowledgements behind one call.
    pub fn flush(&self) -> Result<()> {
        // All trees share one log, so flushing the Db covers records and catalogue.
        self.inner.db.flush().map(drop).map_err(engine_err)
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
    /// The caller guarantees the [`NewRecord`] ordering invariants; an empty batch is a
    /// no-op. Fails with `Corrupt` (writing nothing) if a partition key exceeds 65535
    /// bytes, which the stored format cannot represent.
    pub fn append(&self, shard: ShardKey, records: &[NewRecord<'_>]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let encoded = records
            .iter()
            .map(|r| Ok((record_key(shard, r.subseq), encode_record(r)?)))
            .collect::<Result<Vec<_>>>()?;
        for (key, value) in encoded {
            self.inner
                .records
                .insert(&key[..], value)
                .map_err(engine_err)?;
        }
        Ok(())
    }

    /// Records with subseq >= `from`, ascending, at most `max_records` of them.
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
        let mut out = Vec::new();
        let mut total = 0usize;
        let range = record_key(shard, from)..=record_key(shard, u64::MAX);
        for item in self.inner.records.range(range) {
            if out.len() >= max_records {
                break;
            }
            let (key, value) = item.map_err(engine_err)?;
            let subseq = subseq_of_key(&key)?;
            let view = RecordView::parse(&value)
                .map_err(|e| with_context(e, format_args!("{shard:?} subseq {subseq}")))?;
            let size = view.billed_len();
            if !out.is_empty() && (total >= max_bytes || total.saturating_add(size) > max_bytes) {
                break;
            }
            total = total.saturating_add(size);
            out.push(view.to_stored(subseq)?);
        }
        Ok(out)
    }

    /// Highest subseq ever appended to the shard, including records since trimmed (the
    /// trim high-water mark covers an emptied shard, across restarts), or None if
    /// nothing was ever appended (or the stream's records were deleted).
    pub fn last_subseq(&self, shard: ShardKey) -> Result<Option<u64>> {
        let stored = self.last_stored_subseq(shard)?;
        let mark = self.high_water(shard)?;
        Ok(stored.max(mark))
    }

    fn last_stored_subseq(&self, shard: ShardKey) -> Result<Option<u64>> {
        let range = record_key(shard, 0)..=record_key(shard, u64::MAX);
        match self.inner.records.range(range).next_back() {
            Some(item) => Ok(Some(subseq_of_key(&item.map_err(engine_err)?.0)?)),
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

    /// The first stored record with subseq >= `from`: (subseq, arrival_ms).
    fn first_at_or_after(&self, shard: ShardKey, from: u64) -> Result<Option<(u64, i64)>> {
        let range = record_key(shard, from)..=record_key(shard, u64::MAX);
        match self.inner.records.range(range).next() {
            Some(item) => {
                let (key, value) = item.map_err(engine_err)?;
                let subseq = subseq_of_key(&key)?;
                let view = RecordView::parse(&value)
                    .map_err(|e| with_context(e, format_args!("{shard:?} subseq {subseq}")))?;
                Ok(Some((subseq, view.arrival_ms)))
            }
            None => Ok(None),
        }
    }

    /// Lowest subseq still stored, with its arrival time, or None if the shard holds no
    /// record.
    pub fn first_record_position(&self, shard: ShardKey) -> Result<Option<(u64, i64)>> {
        self.first_at_or_after(shard, 0)
    }

    /// The subseq of the first stored record with `arrival_ms >= ts_ms`, or None if
    /// there is none.
    ///
    /// Relies on arrival times being non-decreasing in subseq order (a [`NewRecord`]
    /// invariant): it binary-searches the subseq key space with point lookups, so it
    /// costs O(64) index lookups at most, independent of the shard's size.
    pub fn first_subseq_at_or_after_time(
        &self,
        shard: ShardKey,
        ts_ms: i64,
    ) -> Result<Option<u64>> {
        let Some((first, first_ms)) = self.first_record_position(shard)? else {
            return Ok(None);
        };
        if first_ms >= ts_ms {
            return Ok(Some(first));
        }
        let Some(last) = self.last_stored_subseq(shard)? else {
            return Ok(None);
        };
        let Some((last, last_ms)) = self.first_at_or_after(shard, last)? else {
            return Ok(None);
        };
        if last_ms < ts_ms {
            return Ok(None);
        }
        // Invariant: the first stored record at or after `lo` (which is `lo` itself) is
        // too early; the first stored record at or after key `hi` is `answer` and is
        // late enough. So the answer is `answer` once no key lies between lo and hi.
        let (mut lo, mut hi, mut answer) = (first, last, last);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            // None only if a concurrent trim/deletion emptied the tail under us.
            let Some((s, ms)) = self.first_at_or_after(shard, mid)? else {
                return Ok(None);
            };
            if ms >= ts_ms {
                hi = mid;
                answer = s;
            } else if s < hi {
                // Jump to the stored record itself: skips the empty key space in between.
                lo = s;
            } else {
                // Only reachable under a concurrent trim; fall back to plain bisection.
                lo = mid;
            }
        }
        Ok(Some(answer))
    }

    /// Deletes, in subseq order, the records whose `arrival_ms < cutoff_ms`, at most
    /// `max` of them, in one atomic batch that also raises the shard's high-water mark to
    /// the highest deleted subseq (so [`Store::last_subseq`] survives an emptied shard
    /// and a restart).
    ///
    /// `done` is true when no record older than the cutoff remains. With `max == 0`
    /// nothing is deleted and `done` only reports whether work remains.
    pub fn trim_before_time(
        &self,
        shard: ShardKey,
        cutoff_ms: i64,
        max: usize,
    ) -> Result<TrimReport> {
        let _guard = self.maintenance_lock();
        let range = record_key(shard, 0)..=record_key(shard, u64::MAX);
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut highest = None;
        let mut done = true;
        for item in self.inner.records.range(range) {
            let (key, value) = item.map_err(engine_err)?;
            let subseq = subseq_of_key(&key)?;
            let view = RecordView::parse(&value)
                .map_err(|e| with_context(e, format_args!("{shard:?} subseq {subseq}")))?;
            if view.arrival_ms >= cutoff_ms {
                break;
            }
            if removed == max {
                done = false;
                break;
            }
            batch.remove(key);
            removed += 1;
            highest = Some(subseq);
        }
        if let Some(highest) = highest {
            let mark = self.high_water(shard)?.map_or(highest, |m| m.max(highest));
            batch.insert(&high_water_key(shard)[..], versioned(&mark.to_be_bytes()));
            self.inner.records.apply_batch(batch).map_err(engine_err)?;
        }
        Ok(TrimReport { removed, done })
    }

    /// Removes up to `max` records of the stream (all shards, lowest keys first) in one
    /// atomic batch; the batch that removes the last record also removes the stream's
    /// high-water marks. Call until `done`; afterwards `last_subseq` of every shard of
    /// the stream is None. With `max == 0` no record is deleted (the marks still go if
    /// no record is left).
    ///
    /// The caller must stop appending to the stream first, or `done` is meaningless.
    pub fn delete_stream_records(&self, stream: u64, max: usize) -> Result<TrimReport> {
        let _guard = self.maintenance_lock();
        let mut batch = sled::Batch::default();
        let mut removed = 0usize;
        let mut done = true;
        for item in self
            .inner
            .records
            .scan_prefix(stream_prefix(TAG_RECORD, stream))
        {
            let (key, _) = item.map_err(engine_err)?;
            if removed == max {
                done = false;
                break;
            }
            batch.remove(key);
            removed += 1;
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
    /// Scans the whole shard; for tests and diagnostics.
    pub fn shard_stats(&self, shard: ShardKey) -> Result<(u64, u64)> {
        let range = record_key(shard, 0)..=record_key(shard, u64::MAX);
        let (mut count, mut bytes) = (0u64, 0u64);
        for item in self.inner.records.range(range) {
            let (key, value) = item.map_err(engine_err)?;
            let view = RecordView::parse(&value).map_err(|e| {
                let at = subseq_of_key(&key).map_or_else(|_| "?".into(), |s| s.to_string());
                with_context(e, format_args!("{shard:?} subseq {at}"))
            })?;
            count += 1;
            bytes += view.billed_len() as u64;
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

    fn rec(subseq: u64, arrival_ms: i64) -> NewRecord<'static> {
        NewRecord {
            subseq,
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

    #[test]
    fn store_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Store>();
    }

    #[test]
    fn key_layout_is_big_endian_and_tagged() {
        let k = record_key(
            ShardKey {
                stream: 0x0102030405060708,
                shard: 0x090a0b0c,
            },
            0x0d0e0f1011121314,
        );
        assert_eq!(k[0], b'r');
        assert_eq!(&k[1..], &(1u8..=0x14).collect::<Vec<_>>()[..]);
        assert_eq!(subseq_of_key(&k).unwrap(), 0x0d0e0f1011121314);
        assert!(record_key(S, u64::MAX) < record_key(ShardKey { shard: 3, ..S }, 0));
    }

    #[test]
    fn record_round_trip() {
        let r = NewRecord {
            subseq: 9,
            arrival_ms: -5,
            partition_key: "clé",
            data: &[0, 1, 255],
        };
        let v = encode_record(&r).unwrap();
        assert_eq!(v[0], 1);
        let view = RecordView::parse(&v).unwrap();
        assert_eq!(
            view.to_stored(9).unwrap(),
            StoredRecord {
                subseq: 9,
                arrival_ms: -5,
                partition_key: "clé".into(),
                data: vec![0, 1, 255],
            }
        );
    }

    #[test]
    fn oversized_partition_key_is_rejected_without_writing() {
        let store = Store::open_temporary().unwrap();
        let pk = "x".repeat(70_000);
        let recs = [
            rec(1, 1),
            NewRecord {
                subseq: 2,
                arrival_ms: 1,
                partition_key: &pk,
                data: b"",
            },
        ];
        assert_corrupt(store.append(S, &recs));
        assert_eq!(store.last_subseq(S).unwrap(), None);
    }

    #[test]
    fn malformed_record_values_decode_to_corrupt() {
        let good = encode_record(&rec(1, 1)).unwrap();
        let mut bad_version = good.clone();
        bad_version[0] = 2;
        let mut bad_pk_len = good.clone();
        bad_pk_len[9..11].copy_from_slice(&1000u16.to_be_bytes());
        let mut bad_utf8 = good.clone();
        bad_utf8[11] = 0xff;
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            bad_version,
            good[..5].to_vec(),
            bad_pk_len,
            bad_utf8,
        ];
        for (i, bad) in cases.into_iter().enumerate() {
            let store = Store::open_temporary().unwrap();
            store.append(S, &[rec(1, 10)]).unwrap();
            store
                .inner
                .records
                .insert(&record_key(S, 2)[..], bad)
                .unwrap();
            store.append(S, &[rec(3, 30)]).unwrap();
            assert_corrupt(store.read(S, 0, 10, 1 << 20));
            assert_corrupt(store.read(S, 2, 10, 1 << 20));
            // Decoding the first record is fine; only paths touching subseq 2 must fail.
            assert_eq!(store.read(S, 0, 1, 1 << 20).unwrap().len(), 1);
            // Paths that only need the header and lengths do not look at the
            // partition key's UTF-8, so bad UTF-8 (case 5) is only caught by `read`.
            if i != 5 {
                assert_corrupt(store.shard_stats(S));
                assert_corrupt(store.trim_before_time(S, 100, 10));
            }
        }
    }

    #[test]
    fn malformed_first_record_fails_position_queries() {
        let store = Store::open_temporary().unwrap();
        store
            .inner
            .records
            .insert(&record_key(S, 1)[..], vec![9, 0, 0])
            .unwrap();
        assert_corrupt(store.first_record_position(S));
        assert_corrupt(store.first_subseq_at_or_after_time(S, 0));
        let msg = store.read(S, 0, 1, 1).unwrap_err().to_string();
        assert_eq!(
            msg,
            "corrupt stored value: ShardKey { stream: 7, shard: 2 } subseq 1: \
             record: unknown format version 9"
        );
    }

    #[test]
    fn malformed_keys_are_corrupt() {
        let store = Store::open_temporary().unwrap();
        let mut long = record_key(S, 1).to_vec();
        long.push(0);
        store
            .inner
            .records
            .insert(long, encode_record(&rec(1, 1)).unwrap())
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
        assert_corrupt(store.last_subseq(S));
        store
            .inner
            .records
            .insert(&high_water_key(S)[..], {
                let mut v = versioned(&5u64.to_be_bytes());
                v[0] = 0;
                v
            })
            .unwrap();
        assert_corrupt(store.last_subseq(S));
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
        store.append(S, &[rec(u64::MAX, 1)]).unwrap();
        store.append(next, &[rec(0, 1)]).unwrap();
        let got = store.read(S, 0, 10, 1000).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].subseq, u64::MAX);
        assert_eq!(store.last_subseq(next).unwrap(), Some(0));
        assert_eq!(store.first_record_position(next).unwrap(), Some((0, 1)));
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
            let want = recs.iter().find(|r| r.arrival_ms >= ts).map(|r| r.subseq);
            assert_eq!(
                store.first_subseq_at_or_after_time(S, ts).unwrap(),
                want,
                "ts {ts}"
            );
        }
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
