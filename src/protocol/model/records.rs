//! Requests and responses of the data plane: PutRecord, PutRecords, GetShardIterator and
//! GetRecords.

use super::*;

pub const SHARD_ITERATOR_TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

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

/// The model's own ceiling for a blob; the stream's (smaller) record size is a business rule.
pub const MODEL_MAX_DATA: usize = 10 * 1024 * 1024;

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
