//! How the domain's streams, shards and records look on the wire: the shapes several
//! operations answer with (DescribeStream and ListShards share `Shard`; GetRecords and
//! SubscribeToShard share `Record` and `ChildShard`).

use crate::protocol::model::{self, ChildShard, HashKeyRange, Record, SequenceNumberRange};
use crate::protocol::types::{Blob, Timestamp};
use crate::streams::sequence::{shard_id, SequenceNumber};
use crate::streams::{ShardMeta, StoredRecord, Stream, StreamMeta};

/// The `Shard` shape of DescribeStream and ListShards.
pub(crate) fn shard_shape(meta: &StreamMeta, shard: &ShardMeta) -> model::Shard {
    model::Shard {
        shard_id: shard_id(shard.index),
        parent_shard_id: shard.parent.map(shard_id),
        adjacent_parent_shard_id: shard.adjacent_parent.map(shard_id),
        hash_key_range: hash_key_range(shard),
        sequence_number_range: SequenceNumberRange {
            starting_sequence_number: meta.starting_sequence(shard).to_string(),
            ending_sequence_number: meta.ending_sequence(shard).map(|s| s.to_string()),
        },
    }
}

pub(crate) fn hash_key_range(shard: &ShardMeta) -> HashKeyRange {
    HashKeyRange {
        starting_hash_key: shard.hash_start.to_string(),
        ending_hash_key: shard.hash_end.to_string(),
    }
}

pub(crate) fn stream_mode(meta: &StreamMeta) -> model::StreamModeDetails {
    model::StreamModeDetails {
        stream_mode: Some(meta.mode.as_str().to_string()),
    }
}

/// `EnhancedMonitoring` as AWS reports it: one entry, with an empty list when none is enabled.
pub(crate) fn enhanced_monitoring(meta: &StreamMeta) -> Vec<model::EnhancedMetrics> {
    vec![model::EnhancedMetrics {
        shard_level_metrics: meta.shard_level_metrics.clone(),
    }]
}

pub(crate) fn encryption_type(meta: &StreamMeta) -> &'static str {
    if meta.encryption_key.is_some() {
        "KMS"
    } else {
        "NONE"
    }
}

/// Stored records as the API's `Record` shape (GetRecords and SubscribeToShard).
pub(crate) fn record_shapes(
    stream: &Stream,
    shard_index: u32,
    stored: Vec<StoredRecord>,
) -> Vec<Record> {
    let encryption = stream
        .with_meta(|m| (encryption_type(m) != "NONE").then(|| encryption_type(m).to_string()));
    stored
        .into_iter()
        .map(|r| Record {
            sequence_number: SequenceNumber {
                stream_id: stream.id,
                shard_index,
                position: r.position,
                arrival_ms: r.arrival_ms,
            }
            .to_string(),
            approximate_arrival_timestamp: Timestamp(r.arrival_ms),
            data: Blob(r.data),
            partition_key: r.partition_key,
            encryption_type: encryption.clone(),
        })
        .collect()
}

/// The `ChildShards` of a closed shard's end.
pub(crate) fn child_shard_shapes(children: &[ShardMeta]) -> Vec<ChildShard> {
    children
        .iter()
        .map(|c| ChildShard {
            shard_id: shard_id(c.index),
            parent_shards: c
                .parent
                .iter()
                .chain(&c.adjacent_parent)
                .map(|p| shard_id(*p))
                .collect(),
            hash_key_range: hash_key_range(c),
        })
        .collect()
}
