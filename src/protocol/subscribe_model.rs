//! SubscribeToShard's request and its event payload.

use super::model::{ChildShard, Record, Validate, SHARD_ITERATOR_TYPES};
use super::types::Timestamp;
use super::validate::{Coral, Pattern, NAME, SEQUENCE_NUMBER};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};

pub const CONSUMER_ARN: Pattern = Pattern {
    text: "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
    matches: |s| {
        s.starts_with("arn:aws")
            && s.contains(":kinesis:")
            && s.contains("/consumer/")
            && s.rsplit(':').next().is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    },
};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartingPosition {
    #[serde(rename = "Type")]
    pub position_type: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeToShardInput {
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
    pub shard_id: Option<String>,
    pub starting_position: Option<StartingPosition>,
}

impl Validate for SubscribeToShardInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("consumerARN", &self.consumer_arn);
        c.length("consumerARN", self.consumer_arn.as_deref(), 1, 2048);
        c.pattern("consumerARN", self.consumer_arn.as_deref(), CONSUMER_ARN);
        c.required("shardId", &self.shard_id);
        c.string("shardId", self.shard_id.as_deref(), 1, 128, NAME);
        c.required("startingPosition", &self.starting_position);
        if let Some(p) = &self.starting_position {
            c.required("startingPosition.type", &p.position_type);
            c.one_of(
                "startingPosition.type",
                p.position_type.as_deref(),
                &SHARD_ITERATOR_TYPES,
            );
            c.pattern(
                "startingPosition.sequenceNumber",
                p.sequence_number.as_deref(),
                SEQUENCE_NUMBER,
            );
        }
        c.finish()
    }
}

/// The payload of each `SubscribeToShardEvent` message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeToShardEvent {
    pub records: Vec<Record>,
    pub continuation_sequence_number: String,
    pub millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_shards: Option<Vec<ChildShard>>,
}
