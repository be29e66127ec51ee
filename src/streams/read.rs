//! The read path: GetRecords, SubscribeToShard and the iterator starting positions.
//!
//! Invariants:
//! - A reader sees only what the shard log made visible (durable), in position order, with
//!   nothing missing in between; positions past what it returns are never skipped.
//! - Records older than the retention period are never returned, even before retention has
//!   trimmed them; the reader's next position still moves past them.
//! - The end of a closed shard is reported once the reader is past its ending position, with
//!   the shard's children, so consumers can follow the lineage.

use super::meta::ShardMeta;
use super::stream::{Shard, Stream};
use super::Registry;
use crate::error::ApiError;
use shard_store::Position;

/// A record as read back: its position, arrival time, partition key and data.
pub use shard_store::StoredRecord;

/// Most bytes one GetRecords answer carries (AWS: 10 MiB).
pub const MAX_GET_RECORDS_BYTES: usize = 10 * 1024 * 1024;

/// What a GetRecords call found.
pub struct ReadOutcome {
    pub records: Vec<StoredRecord>,
    /// Position to continue from, or `None` at the end of a closed shard.
    pub next_position: Option<u64>,
    pub millis_behind_latest: i64,
    /// Present when the end of a closed shard was reached.
    pub child_shards: Option<Vec<ShardMeta>>,
}

impl Registry {
    /// Reads from `position` on, never past what is durable nor before the retention horizon.
    pub async fn read(
        &self,
        stream: &Stream,
        shard: &Shard,
        position: u64,
        limit: usize,
    ) -> Result<ReadOutcome, ApiError> {
        let now = self.now();
        let (cutoff, closed, children) = stream.with_meta(|m| {
            let me = &m.shards[shard.index as usize];
            let children: Vec<ShardMeta> = m
                .shards
                .iter()
                .filter(|s| s.parent == Some(shard.index) || s.adjacent_parent == Some(shard.index))
                .cloned()
                .collect();
            (now - m.retention_ms(), me.closed, children)
        });
        let chunk = self
            .log
            .read(shard.key, position, limit, MAX_GET_RECORDS_BYTES)
            .await?;
        // Expired but not yet trimmed: never returned.
        let records: Vec<StoredRecord> = chunk
            .records
            .into_iter()
            .filter(|r| r.arrival_ms >= cutoff)
            .collect();
        let next = chunk.next;
        let millis_behind_latest = match records.last() {
            Some(last) if last.position < chunk.tip => (now - last.arrival_ms).max(0),
            _ => 0,
        };
        if let Some(c) = closed {
            // Positions start at 1, so a reader at 0 of an empty closed shard is at its end too.
            if next.max(1) > c.ending_position {
                return Ok(ReadOutcome {
                    records,
                    next_position: None,
                    millis_behind_latest: 0,
                    child_shards: Some(children),
                });
            }
        }
        Ok(ReadOutcome {
            records,
            next_position: Some(next),
            millis_behind_latest,
            child_shards: None,
        })
    }

    /// Where a LATEST iterator starts: just after the last visible record.
    pub async fn latest_position(&self, shard: &Shard) -> Result<Position, ApiError> {
        Ok(self.log.last_position(shard.key).await? + 1)
    }

    /// Where an AT_TIMESTAMP iterator starts: the first record that arrived at or after
    /// `ts_ms`, else just after the last visible record.
    pub async fn position_at_time(&self, shard: &Shard, ts_ms: i64) -> Result<Position, ApiError> {
        match self.log.position_at_time(shard.key, ts_ms).await? {
            Some(position) => Ok(position),
            None => self.latest_position(shard).await,
        }
    }

    /// A receiver that changes whenever records of the shard become visible (SubscribeToShard).
    pub fn watch_shard(
        &self,
        shard: &Shard,
    ) -> Result<tokio::sync::watch::Receiver<Position>, ApiError> {
        Ok(self.log.watch(shard.key)?)
    }
}
