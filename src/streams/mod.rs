//! The domain: streams, their shards and consumers, and the rules that govern them, on top of
//! the storage traits of `shard-store` (a shard log and a catalogue).
//!
//! Rooms, each with its invariants in its module doc:
//! - `meta`: a stream's persisted document and its status;
//! - `registry`: live streams by name and the control-plane changes;
//! - `stream`: a stream at run time, its shards and hash routes;
//! - `write` and `read`: the data plane;
//! - `retention`: trimming expired records and purging deleted streams;
//! - `declared`: streams declared at start (`--streams`);
//! - `follow`: applying what other nodes change in a shared catalogue (cluster mode);
//! - `subscriptions`: SubscribeToShard's leases;
//! - `throughput`: AWS's throughput limits (`--enforce-limits`);
//! - `consumers`, `reshard`, `settings`: enhanced fan-out, resharding, account settings
//!   (the account's document in `account`);
//! - `sequence`, `iterator`, `hash`: the encodings clients hold on to (ARNs: `protocol::arn`).

mod account;
pub mod consumers;
pub mod declared;
mod follow;
pub mod hash;
pub mod iterator;
pub mod meta;
pub mod read;
mod registry;
mod reshard;
pub mod retention;
pub mod sequence;
pub mod settings;
mod stream;
pub mod subscriptions;
pub mod throughput;
mod write;

pub use meta::{ShardClosed, ShardMeta, StreamMeta, StreamMode, StreamStatus, META_VERSION};
pub use read::{ReadOutcome, StoredRecord, MAX_GET_RECORDS_BYTES};
pub use registry::{Registry, Storage};
pub use retention::RetentionReport;
pub use stream::{Shard, Stream};
pub use write::PutEntry;

/// How long a shard iterator stays valid (AWS: 5 minutes).
pub const ITERATOR_TTL_MS: i64 = 300_000;
