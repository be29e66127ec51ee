//! A stream's persisted description: its metadata document, shards, mode and lifecycle status.
//!
//! Invariants:
//! - The whole document is one store value, so every control-plane change is atomic with
//!   respect to crashes; `version` is checked on load and unknown versions are refused.
//! - Status is never stored: it is computed from the clock and the recorded instants
//!   (`active_at_ms`, `delete_at_ms`, `updating_until_ms`), so delays elapse without a writer.
//! - Shards are never removed from `shards` while the stream lives: their index is their
//!   position in the vector, and closed shards keep their lineage and ending position.

use super::sequence::SequenceNumber;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const META_VERSION: u8 = 1;

/// A stream's lifecycle status, as DescribeStream reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    Creating,
    Deleting,
    Active,
    Updating,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Deleting => "DELETING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
        }
    }
}

impl std::fmt::Display for StreamStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMode {
    #[serde(rename = "PROVISIONED")]
    Provisioned,
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
}

impl StreamMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "PROVISIONED",
            StreamMode::OnDemand => "ON_DEMAND",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub index: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    pub hash_start: u128,
    pub hash_end: u128,
    pub created_ms: i64,
    /// Set once the shard is closed by resharding: when, and its last position.
    pub closed: Option<ShardClosed>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ShardClosed {
    pub at_ms: i64,
    pub ending_position: u64,
}

/// The persisted description of a stream (one store value per stream).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub version: u8,
    pub id: u64,
    pub name: String,
    pub created_ms: i64,
    /// CREATING until then, ACTIVE after.
    pub active_at_ms: i64,
    /// Set by DeleteStream: DELETING until then, gone after.
    pub delete_at_ms: Option<i64>,
    /// UPDATING until then (resharding and other updates).
    pub updating_until_ms: Option<i64>,
    pub retention_hours: i64,
    pub mode: StreamMode,
    pub max_record_size_kib: i64,
    pub tags: BTreeMap<String, String>,
    pub encryption_key: Option<String>,
    pub shards: Vec<ShardMeta>,
    /// When UpdateShardCount ran, for the ten-per-rolling-day limit.
    #[serde(default)]
    pub scaling_history: Vec<i64>,
    /// Enhanced fan-out consumers, in registration order (see `consumers.rs`).
    #[serde(default)]
    pub consumers: Vec<ConsumerMeta>,
    /// Resource policy document (PutResourcePolicy), verbatim.
    #[serde(default)]
    pub policy: Option<String>,
    /// Enabled shard-level metrics, in the model's enum order.
    #[serde(default)]
    pub shard_level_metrics: Vec<String>,
    /// On-demand warm throughput (UpdateStreamWarmThroughput).
    #[serde(default)]
    pub warm_throughput: Option<WarmThroughput>,
    /// When the capacity mode was switched (two switches per rolling 24 h).
    #[serde(default)]
    pub mode_switches: Vec<i64>,
}

impl StreamMeta {
    pub fn status(&self, now: i64) -> StreamStatus {
        if self.delete_at_ms.is_some() {
            StreamStatus::Deleting
        } else if now < self.active_at_ms && self.active_at_ms > self.created_ms {
            StreamStatus::Creating
        } else if self.updating_until_ms.is_some_and(|t| now < t) {
            StreamStatus::Updating
        } else {
            StreamStatus::Active
        }
    }

    /// AWS's ResourceInUseException for an operation that needs an ACTIVE stream: the one copy
    /// of this rule, for the control-plane operations and resharding alike.
    pub fn require_active(&self, now: i64, account: &str) -> Result<(), ApiError> {
        let status = self.status(now);
        if status != StreamStatus::Active {
            return Err(ApiError::ResourceInUse(format!(
                "Stream {} under account {account} not ACTIVE, instead in state {status}",
                self.name
            )));
        }
        Ok(())
    }

    pub fn retention_ms(&self) -> i64 {
        self.retention_hours * 3_600_000
    }

    pub fn open_shard_count(&self) -> usize {
        self.shards.iter().filter(|s| s.closed.is_none()).count()
    }

    pub fn starting_sequence(&self, shard: &ShardMeta) -> SequenceNumber {
        SequenceNumber {
            stream_id: self.id,
            shard_index: shard.index,
            position: 0,
            arrival_ms: shard.created_ms,
        }
    }

    pub fn ending_sequence(&self, shard: &ShardMeta) -> Option<SequenceNumber> {
        shard.closed.map(|c| SequenceNumber {
            stream_id: self.id,
            shard_index: shard.index,
            position: c.ending_position,
            arrival_ms: c.at_ms,
        })
    }
}

/// A consumer's lifecycle status, as DescribeStreamConsumer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerStatus {
    Creating,
    Deleting,
    Active,
}

impl ConsumerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Deleting => "DELETING",
            ConsumerStatus::Active => "ACTIVE",
        }
    }
}

impl std::fmt::Display for ConsumerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerMeta {
    pub name: String,
    pub created_ms: i64,
    /// CREATING until then, ACTIVE after.
    pub active_at_ms: i64,
    /// Set by DeregisterStreamConsumer: DELETING until then, gone after.
    #[serde(default)]
    pub delete_at_ms: Option<i64>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Resource policy document (PutResourcePolicy on the consumer ARN), verbatim.
    #[serde(default)]
    pub policy: Option<String>,
}

impl ConsumerMeta {
    pub fn status(&self, now: i64) -> ConsumerStatus {
        if self.delete_at_ms.is_some() {
            ConsumerStatus::Deleting
        } else if now < self.active_at_ms {
            ConsumerStatus::Creating
        } else {
            ConsumerStatus::Active
        }
    }

    /// Not yet gone (DELETING consumers still count until their deletion completes).
    pub fn is_live(&self, now: i64) -> bool {
        self.delete_at_ms.is_none_or(|t| now < t)
    }

    pub fn created_secs(&self) -> i64 {
        self.created_ms.div_euclid(1000)
    }

    pub fn arn(&self, stream_arn: &str) -> String {
        format!(
            "{stream_arn}/consumer/{}:{}",
            self.name,
            self.created_secs()
        )
    }
}

/// Warm throughput of an on-demand stream: the target applies once `ready_at_ms` is reached
/// (the stream is UPDATING until then); `previous_mibps` is reported as current before that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmThroughput {
    pub target_mibps: i64,
    pub previous_mibps: i64,
    pub ready_at_ms: i64,
}

impl WarmThroughput {
    pub fn current(&self, now: i64) -> i64 {
        if now >= self.ready_at_ms {
            self.target_mibps
        } else {
            self.previous_mibps
        }
    }
}
