//! Typed requests and responses of the Kinesis API (2013-12-02), with the model's shape
//! constraints. Every input member is optional at the serde level so that a missing required
//! member is reported by [`Validate`] in Coral's words rather than as a serialization error.

use super::types::{Blob, Timestamp};
use super::validate::{Coral, HASH_KEY, NAME, SEQUENCE_NUMBER, STREAM_ARN};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[path = "model_more.rs"]
mod more;
pub use more::*;

/// Shape validation from the API model; business rules live in `api/`.
pub trait Validate {
    fn validate(&self) -> Result<(), ApiError>;
}

/// An operation with no output members answers with an empty body, as AWS does.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

pub const SHARD_ITERATOR_TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

pub const SHARD_FILTER_TYPES: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

pub(crate) fn stream_ref(c: &mut Coral, name: &Option<String>, arn: &Option<String>) {
    c.string("streamName", name.as_deref(), 1, 128, NAME);
    c.string("streamARN", arn.as_deref(), 1, 2048, STREAM_ARN);
}

fn shard_id(c: &mut Coral, member: &str, v: &Option<String>) {
    c.string(member, v.as_deref(), 1, 128, NAME);
}

// ---------------------------------------------------------------- shared shapes

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamModeDetails {
    pub stream_mode: Option<String>,
}

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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMetrics {
    pub shard_level_metrics: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

fn tag_map(c: &mut Coral, member: &str, tags: &Option<BTreeMap<String, String>>, min: usize) {
    if let Some(tags) = tags {
        let shown = format!(
            "{{{}}}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.count(member, &shown, Some(tags.len()), min, 200);
        for (k, v) in tags {
            c.length(&format!("{member}.{k}.member.key"), Some(k), 1, 128);
            c.length(&format!("{member}.{k}.member.value"), Some(v), 0, 256);
        }
    }
}

/// A required `TagKeys` list: 1–50 keys of 1–128 characters.
pub(crate) fn tag_keys(c: &mut Coral, keys: &Option<Vec<String>>) {
    c.required("tagKeys", keys);
    if let Some(keys) = keys {
        c.list_count("tagKeys", keys, 1, 50);
        for (i, k) in keys.iter().enumerate() {
            c.length(&format!("tagKeys.{}.member", i + 1), Some(k), 1, 128);
        }
    }
}

// ---------------------------------------------------------------- CreateStream

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateStreamInput {
    pub stream_name: Option<String>,
    pub shard_count: Option<i64>,
    pub stream_mode_details: Option<StreamModeDetails>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    pub max_record_size_in_kib: Option<i64>,
    #[serde(rename = "WarmThroughputMiBps")]
    pub warm_throughput_mibps: Option<i64>,
}

impl Validate for CreateStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamName", &self.stream_name);
        c.string("streamName", self.stream_name.as_deref(), 1, 128, NAME);
        c.range("shardCount", self.shard_count, 1, i64::MAX);
        if let Some(m) = &self.stream_mode_details {
            c.required("streamModeDetails.streamMode", &m.stream_mode);
            c.one_of(
                "streamModeDetails.streamMode",
                m.stream_mode.as_deref(),
                &["PROVISIONED", "ON_DEMAND"],
            );
        }
        tag_map(&mut c, "tags", &self.tags, 1);
        c.range(
            "maxRecordSizeInKiB",
            self.max_record_size_in_kib,
            1024,
            10240,
        );
        c.range(
            "warmThroughputMiBps",
            self.warm_throughput_mibps,
            0,
            i64::MAX,
        );
        c.finish()
    }
}

// ---------------------------------------------------------------- DeleteStream

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub enforce_consumer_deletion: Option<bool>,
}

impl Validate for DeleteStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.finish()
    }
}

// ---------------------------------------------------------------- DescribeStream

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_shard_id: Option<String>,
}

impl Validate for DescribeStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.range("limit", self.limit, 1, 10000);
        shard_id(
            &mut c,
            "exclusiveStartShardId",
            &self.exclusive_start_shard_id,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescription {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: String,
    pub stream_mode_details: StreamModeDetails,
    pub shards: Vec<Shard>,
    pub has_more_shards: bool,
    pub retention_period_hours: i64,
    pub stream_creation_timestamp: Timestamp,
    pub enhanced_monitoring: Vec<EnhancedMetrics>,
    pub encryption_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamOutput {
    pub stream_description: StreamDescription,
}

// ---------------------------------------------------------------- DescribeStreamSummary

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamRefInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
}

impl Validate for StreamRefInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescriptionSummary {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: String,
    pub stream_mode_details: StreamModeDetails,
    pub retention_period_hours: i64,
    pub stream_creation_timestamp: Timestamp,
    pub enhanced_monitoring: Vec<EnhancedMetrics>,
    pub encryption_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub open_shard_count: i64,
    pub consumer_count: i64,
    #[serde(rename = "MaxRecordSizeInKiB")]
    pub max_record_size_in_kib: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<WarmThroughputObject>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamSummaryOutput {
    pub stream_description_summary: StreamDescriptionSummary,
}

// ---------------------------------------------------------------- ListStreams

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsInput {
    pub limit: Option<i64>,
    pub exclusive_start_stream_name: Option<String>,
    pub next_token: Option<String>,
}

impl Validate for ListStreamsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.range("limit", self.limit, 1, 10000);
        c.string(
            "exclusiveStartStreamName",
            self.exclusive_start_stream_name.as_deref(),
            1,
            128,
            NAME,
        );
        c.length("nextToken", self.next_token.as_deref(), 1, 1048576);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSummary {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: String,
    pub stream_mode_details: StreamModeDetails,
    pub stream_creation_timestamp: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsOutput {
    pub stream_names: Vec<String>,
    pub has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub stream_summaries: Vec<StreamSummary>,
}

// ---------------------------------------------------------------- ListShards

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

// ---------------------------------------------------------------- PutRecord(s)

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub data: Option<Blob>,
    pub partition_key: Option<String>,
    pub explicit_hash_key: Option<String>,
    pub sequence_number_for_ordering: Option<String>,
}

/// The model's own ceiling for a blob; the stream's (smaller) record size is a business rule.
pub const MODEL_MAX_DATA: usize = 10 * 1024 * 1024;

impl Validate for PutRecordInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("data", &self.data);
        if let Some(d) = &self.data {
            c.blob_max("data", d.0.len(), MODEL_MAX_DATA);
        }
        c.required("partitionKey", &self.partition_key);
        c.length("partitionKey", self.partition_key.as_deref(), 1, 256);
        c.pattern(
            "explicitHashKey",
            self.explicit_hash_key.as_deref(),
            HASH_KEY,
        );
        c.pattern(
            "sequenceNumberForOrdering",
            self.sequence_number_for_ordering.as_deref(),
            SEQUENCE_NUMBER,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordOutput {
    pub shard_id: String,
    pub sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsEntry {
    pub data: Option<Blob>,
    pub explicit_hash_key: Option<String>,
    pub partition_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub records: Option<Vec<PutRecordsEntry>>,
}

impl Validate for PutRecordsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("records", &self.records);
        if let Some(records) = &self.records {
            let shown = format!(
                "[{}]",
                vec!["com.amazonaws.kinesis.model.PutRecordsRequestEntry"; records.len().min(3)]
                    .join(", ")
            );
            c.count("records", &shown, Some(records.len()), 1, 500);
            for (i, r) in records.iter().enumerate() {
                let at = |m: &str| format!("records.{}.member.{m}", i + 1);
                c.required(&at("data"), &r.data);
                if let Some(d) = &r.data {
                    c.blob_max(&at("data"), d.0.len(), MODEL_MAX_DATA);
                }
                c.required(&at("partitionKey"), &r.partition_key);
                c.length(&at("partitionKey"), r.partition_key.as_deref(), 1, 256);
                c.pattern(
                    &at("explicitHashKey"),
                    r.explicit_hash_key.as_deref(),
                    HASH_KEY,
                );
            }
        }
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsOutput {
    pub failed_record_count: i64,
    pub records: Vec<PutRecordsResultEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
}

// ---------------------------------------------------------------- GetShardIterator

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub shard_id: Option<String>,
    pub shard_iterator_type: Option<String>,
    pub starting_sequence_number: Option<String>,
    pub timestamp: Option<Timestamp>,
}

impl Validate for GetShardIteratorInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("shardId", &self.shard_id);
        shard_id(&mut c, "shardId", &self.shard_id);
        c.required("shardIteratorType", &self.shard_iterator_type);
        c.one_of(
            "shardIteratorType",
            self.shard_iterator_type.as_deref(),
            &SHARD_ITERATOR_TYPES,
        );
        c.pattern(
            "startingSequenceNumber",
            self.starting_sequence_number.as_deref(),
            SEQUENCE_NUMBER,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorOutput {
    pub shard_iterator: String,
}

// ---------------------------------------------------------------- GetRecords

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsInput {
    pub shard_iterator: Option<String>,
    pub limit: Option<i64>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
}

impl Validate for GetRecordsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("shardIterator", &self.shard_iterator);
        c.length("shardIterator", self.shard_iterator.as_deref(), 1, 512);
        c.range("limit", self.limit, 1, 10000);
        c.string("streamARN", self.stream_arn.as_deref(), 1, 2048, STREAM_ARN);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    pub sequence_number: String,
    pub approximate_arrival_timestamp: Timestamp,
    pub data: Blob,
    pub partition_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsOutput {
    pub records: Vec<Record>,
    pub next_shard_iterator: Option<String>,
    pub millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_shards: Option<Vec<ChildShard>>,
}

// ---------------------------------------------------------------- retention

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetentionInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub retention_period_hours: Option<i64>,
}

impl Validate for RetentionInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("retentionPeriodHours", &self.retention_period_hours);
        c.finish()
    }
}

// ---------------------------------------------------------------- tags

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddTagsToStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for AddTagsToStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("tags", &self.tags);
        tag_map(&mut c, "tags", &self.tags, 1);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTagsFromStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for RemoveTagsFromStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        tag_keys(&mut c, &self.tag_keys);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub exclusive_start_tag_key: Option<String>,
    pub limit: Option<i64>,
}

impl Validate for ListTagsForStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.length(
            "exclusiveStartTagKey",
            self.exclusive_start_tag_key.as_deref(),
            1,
            128,
        );
        c.range("limit", self.limit, 1, 50);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForStreamOutput {
    pub tags: Vec<Tag>,
    pub has_more_tags: bool,
}

// ---------------------------------------------------------------- DescribeLimits

#[derive(Debug, Default, Deserialize)]
pub struct DescribeLimitsInput {}

impl Validate for DescribeLimitsInput {
    fn validate(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLimitsOutput {
    pub shard_limit: i64,
    pub open_shard_count: i64,
    pub on_demand_stream_count: i64,
    pub on_demand_stream_count_limit: i64,
}
