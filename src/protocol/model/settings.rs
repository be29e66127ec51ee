//! Requests and responses of a stream's and the account's settings: resource policies,
//! encryption, enhanced monitoring, warm throughput and account settings.

use super::*;

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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMetrics {
    pub shard_level_metrics: Vec<String>,
}

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
