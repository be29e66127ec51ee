//! The storage boundary: what kinesd's domain needs from a storage engine, in its own words.
//!
//! Two traits, one for each kind of data:
//! - [`ShardLog`]: every shard's records. The log assigns each record its *position* (its place
//!   in the shard) and its arrival time, makes it durable, and only then lets readers see it.
//!   Position assignment and durability belong to the engine: the embedded sled store counts
//!   positions itself and group-commits through its journal; a replicated engine may take a
//!   position from its own sequence (a JetStream stream sequence, say).
//! - [`Catalog`]: the stream documents (opaque bytes to the store), replaced by compare-and-set
//!   on a revision, stream id allocation, small named settings and the iterator-signing key.
//!
//! Contract of every implementation (checked by `tests/model.rs` against a `BTreeMap`):
//! - Positions are > 0 and strictly increase in append order within a shard; the records of
//!   one [`Run`] get consecutive positions; arrival times never decrease within a shard.
//! - An append resolves only once its records are durable (unless the engine was opened with
//!   relaxed durability) and visible: a read issued after it resolves returns them.
//! - A reader never sees a record before it is durable, and never a gap that later fills: the
//!   records a read returns are a run of the shard's records with nothing missing between them.
//! - [`ShardLog::last_position`] never decreases while the stream exists, even when trimming
//!   empties the shard and across restarts.
//! - Records go only from the low end of a shard (trim) or with their whole stream.
//! - After [`ShardLog::close`], appends to the shard report [`RunOutcome::Closed`] and write
//!   nothing; the position `close` returns is the shard's last one for ever.
//! - A catalogue document write resolves only once durable; stream ids are never reused.
//!
//! Futures are boxed so the traits can be used as trait objects (`Arc<dyn ShardLog>`): the
//! domain holds one engine chosen at start-up. Each call allocates one box, which is noise
//! next to a disk sync or a network round trip.

use crate::{Result, ShardKey, StoreError, StoredRecord, TrimReport};
use std::future::Future;
use std::pin::Pin;

/// A record's place in its shard (see the module doc). 0 means "before the first record".
pub type Position = u64;

/// What every fallible storage call returns: a boxed future, so the traits stay object-safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// A record handed to [`ShardLog::append`]. Owned, so the engine keeps its bytes without
/// copying them while the commit is under way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordIn {
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// Records for one shard, in order.
#[derive(Debug)]
pub struct Run {
    pub shard: ShardKey,
    pub records: Vec<RecordIn>,
    /// The run's first position must be above this one (PutRecord's
    /// `SequenceNumberForOrdering` naming a position of this shard).
    pub after: Option<Position>,
}

/// What became of one [`Run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run's records are at `first`, `first + 1`, …, all with arrival time `arrival_ms`.
    Appended { first: Position, arrival_ms: i64 },
    /// The shard was closed (resharding): nothing of the run was written, and its records
    /// come back, in order, to be routed again.
    Closed { records: Vec<RecordIn> },
}

/// A stretch of a shard's visible records, as [`ShardLog::read`] returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunk {
    pub records: Vec<StoredRecord>,
    /// Where the next read continues: after the last record returned, or, when nothing was
    /// returned, past whatever retention removed below the tip (never beyond `tip + 1`).
    pub next: Position,
    /// The highest visible position of the shard when the read was made (0: none yet).
    pub tip: Position,
}

/// Record count and billed bytes (data + partition key) of a shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    pub records: u64,
    pub bytes: u64,
}

/// Every shard's records. See the module doc for the contract.
pub trait ShardLog: Send + Sync {
    /// Appends each run to its shard and resolves once all appended records are durable and
    /// visible. Positions and arrival times (`now_ms`, or the shard's last arrival time if that
    /// is later) are assigned when `append` is called, before the future is first polled, so a
    /// caller's appends keep the order of its calls. Outcomes are in run order.
    fn append(&self, runs: Vec<Run>, now_ms: i64) -> StoreFuture<'static, Vec<RunOutcome>>;

    /// Visible records from position `from` on, at most `max_records`, and while their summed
    /// billed bytes stay within `max_bytes` — except that the first record is returned even if
    /// it alone is larger, so a reader always makes progress.
    fn read(
        &self,
        shard: ShardKey,
        from: Position,
        max_records: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, Chunk>;

    /// The highest visible position (0 if nothing was ever appended), trimmed records included.
    fn last_position(&self, shard: ShardKey) -> StoreFuture<'_, Position>;

    /// A receiver whose value is the shard's highest visible position, changed whenever new
    /// records become visible: what SubscribeToShard waits on.
    fn watch(&self, shard: ShardKey) -> Result<tokio::sync::watch::Receiver<Position>>;

    /// The position of the first stored record with arrival time >= `ts_ms`, if any.
    fn position_at_time(&self, shard: ShardKey, ts_ms: i64) -> StoreFuture<'_, Option<Position>>;

    /// Stops appends to the shard and returns its last position: every record the shard holds
    /// is at or below it, and nothing is ever appended to it again. (Not necessarily the last
    /// record's position: an engine may have skipped positions, as sled does after a restart
    /// with relaxed durability.) `now_ms` is noted as the time of the close
    /// ([`ShardLog::closed_at`]).
    fn close(&self, shard: ShardKey, now_ms: i64) -> StoreFuture<'_, Position>;

    /// When the shard was closed (the `now_ms` of its [`ShardLog::close`]), if it is closed.
    fn closed_at(&self, shard: ShardKey) -> StoreFuture<'_, Option<i64>>;

    /// Undoes a [`ShardLog::close`] whose reshard was not stored (another node's change won
    /// the compare-and-set): the shard takes appends again.
    fn reopen(&self, shard: ShardKey) -> StoreFuture<'_, ()>;

    /// Reopens the shard if it is still closed by the close made at `closed_ms` (as
    /// [`ShardLog::closed_at`] reported it), and says whether it did: a close orphaned by a
    /// node that died before storing its reshard is undone once, however many nodes try.
    fn reopen_closed_at(&self, shard: ShardKey, closed_ms: i64) -> StoreFuture<'_, bool>;

    /// Removes, from the low end, records with arrival time < `cutoff_ms`, about `max` at a time
    /// (call again while `done` is false).
    fn trim(&self, shard: ShardKey, cutoff_ms: i64, max: usize) -> StoreFuture<'_, TrimReport>;

    /// Removes the records of a deleted stream, about `max` at a time (call again while `done`
    /// is false). Appends to the stream that race the deletion are dropped. `now_ms`: when
    /// (an engine may keep a note of the deletion for a while, see [`ShardLog::sweep`]).
    fn delete_stream(&self, stream: u64, max: usize, now_ms: i64) -> StoreFuture<'_, TrimReport>;

    /// Removes the engine's own bookkeeping that can no longer matter (deleted streams'
    /// notes past their grace); idempotent, and safe from any number of processes at once.
    /// Returns how many deleted streams' notes went.
    fn sweep(&self, now_ms: i64) -> StoreFuture<'_, usize> {
        let _ = now_ms;
        Box::pin(async { Ok(0) })
    }

    /// Count and bytes of the records stored in a shard (a full scan: for tests, diagnostics).
    fn stats(&self, shard: ShardKey) -> StoreFuture<'_, ShardStats>;

    /// Makes everything written so far durable (shutdown, tests).
    fn sync(&self) -> StoreFuture<'_, ()>;
}

/// A stream document as stored, with the revision a compare-and-set must name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamDoc {
    pub stream: u64,
    pub revision: u64,
    pub doc: Vec<u8>,
}

/// A compare-and-set found another revision than the one named.
pub fn revision_conflict(stream: u64, expected: Option<u64>) -> StoreError {
    StoreError::Conflict(format!(
        "stream {stream}: the document is not at revision {expected:?}"
    ))
}

/// Which stream holds a name (see [`Catalog::claim_name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameClaim {
    pub stream: u64,
    /// When the claim was made (the claimer's clock).
    pub claimed_ms: i64,
    /// What a compare-and-set replacing the claim must name.
    pub revision: u64,
}

/// A subscription lease as the catalogue holds it (see [`Catalog::put_lease`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The subscription holding it (ids unique across processes).
    pub holder: u64,
    pub started_ms: i64,
    /// What a compare-and-set replacing the lease must name.
    pub revision: u64,
}

/// A change to the catalogue, as [`Catalog::follow`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogChange {
    /// A stream document was written (by any node).
    Stream(StreamDoc),
    /// A stream document was removed.
    Removed(u64),
    /// A setting was written.
    Setting(String),
    /// A subscription lease was taken (`Some(holder)`) or given back (`None`).
    Lease { key: String, holder: Option<u64> },
}

/// What [`Catalog::follow`] reports: (revision, change) in revision order.
pub type Followed = tokio::sync::mpsc::UnboundedReceiver<(u64, Option<CatalogChange>)>;

/// Stream documents, settings and ids. See the module doc for the contract.
pub trait Catalog: Send + Sync {
    /// A fresh stream id: > 0, never returned before, never returned again.
    fn allocate_stream_id(&self) -> StoreFuture<'_, u64>;

    /// Every stream document, sorted by stream id.
    fn load_streams(&self) -> StoreFuture<'_, Vec<StreamDoc>>;

    /// Replaces a stream's document if it is at revision `expected` (`None`: it must not
    /// exist yet) and resolves once the new one is durable, with its revision; otherwise fails
    /// with [`StoreError::Conflict`] and writes nothing.
    fn put_stream(&self, stream: u64, expected: Option<u64>, doc: Vec<u8>) -> StoreFuture<'_, u64>;

    /// A stream's document as the catalogue holds it now (`None` if absent).
    fn stream(&self, stream: u64) -> StoreFuture<'_, Option<StreamDoc>>;

    /// Removes a stream's document (a no-op if absent) once its records are gone.
    fn remove_stream(&self, stream: u64) -> StoreFuture<'_, ()>;

    /// Which stream holds `name`, if any has claimed it.
    fn name_claim(&self, name: &str) -> StoreFuture<'_, Option<NameClaim>>;

    /// Makes `stream` the holder of `name` if the claim is at revision `expected` (`None`:
    /// unclaimed); otherwise fails with [`StoreError::Conflict`]. Of two nodes creating one
    /// name at once, exactly one succeeds. Returns the claim's revision.
    fn claim_name(
        &self,
        name: &str,
        stream: u64,
        claimed_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64>;

    /// Drops the claim on `name` if `stream` still holds it (the stream is deleted).
    fn release_name(&self, name: &str, stream: u64) -> StoreFuture<'_, ()>;

    /// The subscription lease `key` (consumer and shard), if held.
    fn lease(&self, key: &str) -> StoreFuture<'_, Option<Lease>>;

    /// Every subscription lease, by key.
    fn leases(&self) -> StoreFuture<'_, Vec<(String, Lease)>>;

    /// Removes lease `key` if it is still at `revision`; false if it changed (or is gone).
    fn remove_lease(&self, key: &str, revision: u64) -> StoreFuture<'_, bool>;

    /// Gives lease `key` to `holder` if it is at revision `expected` (`None`: not held);
    /// otherwise fails with [`StoreError::Conflict`]. Returns the new revision.
    fn put_lease(
        &self,
        key: &str,
        holder: u64,
        started_ms: i64,
        expected: Option<u64>,
    ) -> StoreFuture<'_, u64>;

    /// A small named setting.
    fn setting(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>>;

    /// Replaces a small named setting; resolves once durable.
    fn put_setting(&self, name: &str, value: Vec<u8>) -> StoreFuture<'_, ()>;

    /// The key that signs shard iterators: created once, at random, then the same for every
    /// caller and every restart. An engine may leave a new key's durability to the first
    /// stream document written: nothing is signed for a store without streams.
    fn iterator_key(&self) -> StoreFuture<'_, [u8; 32]>;

    /// Changes other processes make to the catalogue, as they happen (stream documents
    /// written before the call included), each with the catalogue revision it brought (a
    /// change of no interest to the domain comes as `None`, so the revision still advances);
    /// `None` for an engine only this process writes.
    fn follow(&self) -> StoreFuture<'_, Option<Followed>>;

    /// The catalogue's revision now: once [`Catalog::follow`] has reported this revision,
    /// this process has seen every change made before the call. 0 for an engine only this
    /// process writes.
    fn sync_point(&self) -> StoreFuture<'_, u64>;
}
