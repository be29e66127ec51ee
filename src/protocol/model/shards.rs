//! Requests and responses of the shard operations: ListShards and resharding (SplitShard,
//! MergeShards, UpdateShardCount), and the shard shapes DescribeStream shares.

use super::*;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HashKeyRange {
    pub starting_hash_key: String,
    pub ending_hash_key: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SequenceNumberRange {
    pub starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    pub shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjacent_parent_shard_id: Option<String>,
    pub hash_key_range: HashKeyRange,
    pub sequence_number_range: SequenceNumberRange,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChildShard {
    pub shard_id: String,
    pub parent_shards: Vec<String>,
    pub hash_key_range: HashKeyRange,
}

pub const SHARD_FILTER_TYPES: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShardFilter {
    #[serde(rename = "Type")]
    pub filter_type: Option<String>,
    pub shard_id: Option<String>,
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListShardsInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub next_token: Option<String>,
    pub exclusive_start_shard_id: Option<String>,
    pub max_results: Option<i64>,
    pub stream_creation_timestamp: Option<Timestamp>,
    pub shard_filter: Option<ShardFilter>,
}

impl Validate for ListShardsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.length("nextToken", self.next_token.as_deref(), 1, 1048576);
        shard_id(
            &mut c,
            "exclusiveStartShardId",
            &self.exclusive_start_shard_id,
        );
        c.range("maxResults", self.max_results, 1, 10000);
        if let Some(f) = &self.shard_filter {
            c.required("shardFilter.type", &f.filter_type);
            c.one_of(
                "shardFilter.type",
                f.filter_type.as_deref(),
                &SHARD_FILTER_TYPES,
            );
            shard_id(&mut c, "shardFilter.shardId", &f.shard_id);
        }
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListShardsOutput {
    pub shards: Vec<Shard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

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
