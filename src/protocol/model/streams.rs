//! Requests and responses of the stream operations: create, delete, describe, list,
//! retention, capacity mode, record size, limits.

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamModeDetails {
    pub stream_mode: Option<String>,
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateStreamModeInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub stream_mode_details: Option<StreamModeDetails>,
    #[serde(rename = "WarmThroughputMiBps")]
    pub warm_throughput_mibps: Option<i64>,
}

impl Validate for UpdateStreamModeInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamARN", &self.stream_arn);
        c.string("streamARN", self.stream_arn.as_deref(), 1, 2048, STREAM_ARN);
        c.required("streamModeDetails", &self.stream_mode_details);
        if let Some(m) = &self.stream_mode_details {
            c.required("streamModeDetails.streamMode", &m.stream_mode);
            c.one_of(
                "streamModeDetails.streamMode",
                m.stream_mode.as_deref(),
                &["PROVISIONED", "ON_DEMAND"],
            );
        }
        c.range(
            "warmThroughputMiBps",
            self.warm_throughput_mibps,
            0,
            i64::MAX,
        );
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateMaxRecordSizeInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    pub max_record_size_in_kib: Option<i64>,
}

impl Validate for UpdateMaxRecordSizeInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.string("streamARN", self.stream_arn.as_deref(), 1, 2048, STREAM_ARN);
        c.required("maxRecordSizeInKiB", &self.max_record_size_in_kib);
        c.range(
            "maxRecordSizeInKiB",
            self.max_record_size_in_kib,
            1024,
            10240,
        );
        c.finish()
    }
}

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
