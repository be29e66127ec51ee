//! Requests and responses of the consumer, tagging-by-ARN, resource-policy, encryption,
//! monitoring, capacity-mode, record-size, warm-throughput and account-settings operations,
//! with the model's shape constraints (re-exported from `model`).

use super::super::types::Timestamp;
use super::super::validate::{Coral, Pattern, NAME, STREAM_ARN};
use super::{stream_ref, tag_keys, tag_map, StreamModeDetails, Tag, Validate};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// ---------------------------------------------------------------- patterns

/// Index just past `arn:aws.*:kinesis:.*:\d{12}:` at its earliest match in `s`.
fn arn_head(s: &str) -> Option<usize> {
    if !s.starts_with("arn:aws") {
        return None;
    }
    let b = s.as_bytes();
    let i = s[7..].find(":kinesis:")? + 7;
    (i + 9..b.len()).find_map(|j| {
        let digits = b.get(j + 1..j + 13)?;
        (b[j] == b':' && digits.iter().all(u8::is_ascii_digit) && b.get(j + 13) == Some(&b':'))
            .then_some(j + 14)
    })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

/// `^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`
fn consumer_arn_ok(s: &str) -> bool {
    let Some((head, digits)) = s.rsplit_once(':') else {
        return false;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some((head, consumer)) = head.rsplit_once("/consumer/") else {
        return false;
    };
    if consumer.is_empty() || !consumer.bytes().all(is_name_byte) {
        return false;
    }
    let Some((head, stream)) = head.rsplit_once('/') else {
        return false;
    };
    if stream.is_empty() || !stream.bytes().all(is_name_byte) {
        return false;
    }
    match head.strip_suffix("stream") {
        Some(prefix) => arn_head(prefix).is_some(),
        None => false,
    }
}

/// `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`
fn resource_arn_ok(s: &str) -> bool {
    let Some(k) = arn_head(s) else {
        return false;
    };
    s[k..].match_indices("stream/").any(|(m, _)| {
        let tail = &s[k + m + 7..];
        !tail.is_empty() && !tail.chars().any(char::is_whitespace)
    })
}

pub const CONSUMER_ARN: Pattern = Pattern {
    text: "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
    matches: consumer_arn_ok,
};

pub const RESOURCE_ARN: Pattern = Pattern {
    text: "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
    matches: resource_arn_ok,
};

pub const METRICS: [&str; 8] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
    "ALL",
];

fn consumer_ref(
    c: &mut Coral,
    stream_arn: &Option<String>,
    name: &Option<String>,
    arn: &Option<String>,
) {
    c.string("streamARN", stream_arn.as_deref(), 1, 2048, STREAM_ARN);
    c.string("consumerName", name.as_deref(), 1, 128, NAME);
    c.string("consumerARN", arn.as_deref(), 1, 2048, CONSUMER_ARN);
}

fn resource_arn(c: &mut Coral, arn: &Option<String>) {
    c.required("resourceARN", arn);
    c.string("resourceARN", arn.as_deref(), 1, 2048, RESOURCE_ARN);
}

// ---------------------------------------------------------------- consumers

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Consumer {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: String,
    pub consumer_creation_timestamp: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerDescription {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: String,
    pub consumer_creation_timestamp: Timestamp,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterStreamConsumerInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for RegisterStreamConsumerInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamARN", &self.stream_arn);
        c.required("consumerName", &self.consumer_name);
        consumer_ref(&mut c, &self.stream_arn, &self.consumer_name, &None);
        tag_map(&mut c, "tags", &self.tags, 1);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterStreamConsumerOutput {
    pub consumer: Consumer,
}

/// DescribeStreamConsumer and DeregisterStreamConsumer: a consumer ARN, or stream ARN + name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerRefInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
}

impl Validate for ConsumerRefInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        consumer_ref(
            &mut c,
            &self.stream_arn,
            &self.consumer_name,
            &self.consumer_arn,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamConsumerOutput {
    pub consumer_description: ConsumerDescription,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamConsumersInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub stream_creation_timestamp: Option<Timestamp>,
}

impl Validate for ListStreamConsumersInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamARN", &self.stream_arn);
        c.string("streamARN", self.stream_arn.as_deref(), 1, 2048, STREAM_ARN);
        c.length("nextToken", self.next_token.as_deref(), 1, 1048576);
        c.range("maxResults", self.max_results, 1, 10000);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamConsumersOutput {
    pub consumers: Vec<Consumer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------- tagging by ARN

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for TagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("tags", &self.tags);
        tag_map(&mut c, "tags", &self.tags, 1);
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub tag_keys: Option<Vec<String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for UntagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        tag_keys(&mut c, &self.tag_keys);
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

/// ListTagsForResource, GetResourcePolicy and DeleteResourcePolicy: just a resource ARN.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRefInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for ResourceRefInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    pub tags: Vec<Tag>,
}

// ---------------------------------------------------------------- resource policies

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    pub policy: Option<String>,
}

impl Validate for PutResourcePolicyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        resource_arn(&mut c, &self.resource_arn);
        c.required("policy", &self.policy);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyOutput {
    pub policy: String,
}

// ---------------------------------------------------------------- encryption

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamEncryptionInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub encryption_type: Option<String>,
    pub key_id: Option<String>,
}

impl Validate for StreamEncryptionInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("encryptionType", &self.encryption_type);
        c.one_of(
            "encryptionType",
            self.encryption_type.as_deref(),
            &["NONE", "KMS"],
        );
        c.required("keyId", &self.key_id);
        c.length("keyId", self.key_id.as_deref(), 1, 2048);
        c.finish()
    }
}

// ---------------------------------------------------------------- enhanced monitoring

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMonitoringInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub shard_level_metrics: Option<Vec<String>>,
}

impl Validate for EnhancedMonitoringInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("shardLevelMetrics", &self.shard_level_metrics);
        if let Some(metrics) = &self.shard_level_metrics {
            c.list_count("shardLevelMetrics", metrics, 1, 7);
            c.members_one_of("shardLevelMetrics", metrics, &METRICS);
        }
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMonitoringOutput {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub current_shard_level_metrics: Vec<String>,
    pub desired_shard_level_metrics: Vec<String>,
}

// ---------------------------------------------------------------- capacity mode and size

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

// ---------------------------------------------------------------- warm throughput

#[derive(Debug, Clone, Copy, Serialize)]
pub struct WarmThroughputObject {
    #[serde(rename = "TargetMiBps")]
    pub target_mibps: i64,
    #[serde(rename = "CurrentMiBps")]
    pub current_mibps: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateStreamWarmThroughputInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub stream_name: Option<String>,
    #[serde(rename = "WarmThroughputMiBps")]
    pub warm_throughput_mibps: Option<i64>,
}

impl Validate for UpdateStreamWarmThroughputInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("warmThroughputMiBps", &self.warm_throughput_mibps);
        c.range(
            "warmThroughputMiBps",
            self.warm_throughput_mibps,
            0,
            i64::MAX,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateStreamWarmThroughputOutput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_name: String,
    pub warm_throughput: WarmThroughputObject,
}

// ---------------------------------------------------------------- account settings

#[derive(Debug, Default, Deserialize)]
pub struct DescribeAccountSettingsInput {}

impl Validate for DescribeAccountSettingsInput {
    fn validate(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MinimumThroughputBillingCommitmentInput {
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAccountSettingsInput {
    pub minimum_throughput_billing_commitment: Option<MinimumThroughputBillingCommitmentInput>,
}

impl Validate for UpdateAccountSettingsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required(
            "minimumThroughputBillingCommitment",
            &self.minimum_throughput_billing_commitment,
        );
        if let Some(m) = &self.minimum_throughput_billing_commitment {
            c.required("minimumThroughputBillingCommitment.status", &m.status);
            c.one_of(
                "minimumThroughputBillingCommitment.status",
                m.status.as_deref(),
                &["ENABLED", "DISABLED"],
            );
        }
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MinimumThroughputBillingCommitmentOutput {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_allowed_end_at: Option<Timestamp>,
}

/// DescribeAccountSettings and UpdateAccountSettings answer alike.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSettingsOutput {
    pub minimum_throughput_billing_commitment: MinimumThroughputBillingCommitmentOutput,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_patterns() {
        let ok = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
        assert!(consumer_arn_ok(ok));
        assert!(resource_arn_ok(ok));
        assert!(resource_arn_ok(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        ));
        assert!(resource_arn_ok("arn:aws-cn:kinesis::000000000000:stream/s"));
        assert!(!resource_arn_ok(
            "arn:aws:kinesis:us-east-1:000000000000:stream/"
        ));
        assert!(!resource_arn_ok(
            "arn:aws:sqs:us-east-1:000000000000:stream/s"
        ));
        assert!(!resource_arn_ok("arn:aws:kinesis:us-east-1:00000:stream/s"));
        assert!(!consumer_arn_ok(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"
        ));
        assert!(!consumer_arn_ok(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:x1"
        ));
        assert!(!consumer_arn_ok(
            "arn:aws:kinesis:us-east-1:000000000000:s/consumer/c:1"
        ));
    }

    #[test]
    fn metric_lists_read_like_coral() {
        let input = EnhancedMonitoringInput {
            stream_name: Some("s".into()),
            stream_arn: None,
            shard_level_metrics: Some(vec!["Nope".into()]),
        };
        assert_eq!(
            input.validate().unwrap_err().message().unwrap(),
            "1 validation error detected: Value '[Nope]' at 'shardLevelMetrics' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
             [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, \
             WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, \
             IteratorAgeMilliseconds, ALL]]"
        );
    }
}
