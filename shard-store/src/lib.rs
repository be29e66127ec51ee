//! Durable storage for kinesd: every shard's records plus the stream catalogue.
//!
//! The domain sees only the traits of [`log`]: [`ShardLog`] (records, positions, durability,
//! visibility) and [`Catalog`] (stream documents by compare-and-set, ids, settings). The
//! embedded engine, [`SledStore`], implements both over [`Store`] (sled, blocks and the
//! journal, described below); a second engine implements the same traits and runs the same
//! contract tests (`tests/contract.rs`).
//!
//! A third trait, [`TableStore`] (`tables.rs`), keeps the keyed document tables of kinesd's
//! DynamoDB subset; the sled engine implements it in the same database (`sled_tables.rs`),
//! [`MemoryTables`] in memory.
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
//! * `tables` — table documents and items, see `sled_tables.rs`.
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
//! clients must be gated on one of those two. [`Store::append_relaxed`] (relaxed
//! durability) keeps records in memory only, where the engine's background flush does not
//! reach them: [`Store::flush`] moves them into the engine before flushing it, and the
//! group commit runs one within half a second of a relaxed append.
//!
//! Beside sled's files a store on a directory keeps `kinesd-witness` (how far sled was
//! flushed, see `witness.rs`) and `kinesd-blobs/` (a hard link to each of sled's blob files,
//! so one deleted from outside is put back before sled opens: see `engine_files.rs`).
//!
//! A store on a directory also keeps a *journal* (file `kinesd-journal`, see
//! `journal.rs`): `append_durably` writes small commits there with one `fdatasync`
//! instead of flushing the engine, and `open` puts back into the engine whatever
//! journaled records a crash took from it.
//!
//! Opening does not wait for the disk: the directory entries of the files it created (or
//! found) are synced on a thread of its own, and the first durable write (a flush or a
//! journal append) waits for that sync before its own (`data_dir.rs`, `DirSync`).

#![forbid(unsafe_code)]

mod block;
mod catalog;
mod data_dir;
mod disk;
mod encoding;
mod engine_files;
mod error;
mod group_commit;
#[cfg(feature = "jetstream")]
pub mod jetstream;
mod journal;
mod keys;
mod legacy;
pub mod log;
mod pending;
mod records;
mod shard_state;
mod sled_store;
mod sled_tables;
mod store;
pub mod tables;
#[cfg(test)]
mod test_support;
mod trim;
mod witness;

pub use log::{
    Catalog, CatalogChange, Chunk, Followed, Lease, NameClaim, Position, RecordIn, Run, RunOutcome,
    ShardLog, ShardStats, StoreFuture, StreamDoc,
};
pub use records::{Journaled, RelaxedAppend};
pub use sled_store::{Durability, SledOptions, SledStore, RELAXED_RESTART_GAP};
pub use store::Store;
pub use tables::{ItemWrite, Items, MemoryTables, TableStore, MAX_TABLE_NAME};

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
    #[error("data directory corrupt: {0}")]
    Corrupt(String),
    /// A compare-and-set named another revision than the stored one.
    #[error("conflicting update: {0}")]
    Conflict(String),
    /// The replicated engine could not be reached in time (no quorum, no server): nothing
    /// was acknowledged, and a retry may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Records too large for the engine (the NATS servers' `max_payload`).
    #[error("too large: {0}")]
    TooLarge(String),
    /// The disk has less free space than the store keeps in reserve: the write was refused
    /// before anything was written (see `disk.rs`). Retrying after space is freed succeeds.
    #[error("disk full: {0}")]
    DiskFull(String),
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
