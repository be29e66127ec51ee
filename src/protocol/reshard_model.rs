//! Requests and responses of the resharding operations.

use super::model::{stream_ref, Validate};
use super::validate::{Coral, HASH_KEY, NAME};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SplitShardInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub shard_to_split: Option<String>,
    pub new_starting_hash_key: Option<String>,
}

impl Validate for SplitShardInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("shardToSplit", &self.shard_to_split);
        c.string("shardToSplit", self.shard_to_split.as_deref(), 1, 128, NAME);
        c.required("newStartingHashKey", &self.new_starting_hash_key);
        c.pattern(
            "newStartingHashKey",
            self.new_starting_hash_key.as_deref(),
            HASH_KEY,
        );
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MergeShardsInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub shard_to_merge: Option<String>,
    pub adjacent_shard_to_merge: Option<String>,
}

impl Validate for MergeShardsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("shardToMerge", &self.shard_to_merge);
        c.string("shardToMerge", self.shard_to_merge.as_deref(), 1, 128, NAME);
        c.required("adjacentShardToMerge", &self.adjacent_shard_to_merge);
        c.string(
            "adjacentShardToMerge",
            self.adjacent_shard_to_merge.as_deref(),
            1,
            128,
            NAME,
        );
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateShardCountInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub target_shard_count: Option<i64>,
    pub scaling_type: Option<String>,
}

impl Validate for UpdateShardCountInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("targetShardCount", &self.target_shard_count);
        c.range("targetShardCount", self.target_shard_count, 1, i64::MAX);
        c.required("scalingType", &self.scaling_type);
        c.one_of(
            "scalingType",
            self.scaling_type.as_deref(),
            &["UNIFORM_SCALING"],
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateShardCountOutput {
    pub stream_name: String,
    pub current_shard_count: i64,
    pub target_shard_count: i64,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}
