//! Account settings (the minimum throughput billing commitment, whose rules are in
//! `account.rs`) and resolution of the resource ARNs that tagging and resource policies take.
use super::account::{AccountSettings, ACCOUNT_SETTINGS_KEY};
pub use super::account::{BillingCommitment, CommitmentStatus, COMMITMENT_MIN_MS};
use super::meta::ConsumerMeta;
use super::{Registry, Stream};
use crate::error::ApiError;
use crate::protocol::arn::{self, parse_consumer_arn};
use std::sync::Arc;

/// What a `ResourceARN` (TagResource, PutResourcePolicy, …) names.
pub enum Resource {
    Stream(Arc<Stream>),
    Consumer(Arc<Stream>, ConsumerMeta),
}

impl Registry {
    fn account_settings(&self) -> AccountSettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The account's minimum throughput billing commitment as of now.
    pub fn billing_commitment(&self) -> Result<BillingCommitment, ApiError> {
        Ok(self.account_settings().commitment.at(self.now()))
    }

    /// UpdateAccountSettings: enables or disables the commitment and makes it durable.
    pub async fn set_billing_commitment(
        &self,
        enable: bool,
    ) -> Result<BillingCommitment, ApiError> {
        let _guard = self.control.lock().await;
        let now = self.now();
        let mut settings = self.account_settings();
        let current = settings.commitment.clone().at(now);
        settings.commitment = if enable {
            current.enable(now)
        } else {
            current.disable(now)
        };
        let doc = serde_json::to_vec(&settings).map_err(ApiError::internal)?;
        self.catalog.put_setting(ACCOUNT_SETTINGS_KEY, doc).await?;
        let commitment = settings.commitment.clone();
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(commitment)
    }

    /// Resolves a stream or consumer ARN (model pattern `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`).
    pub fn resolve_resource(&self, resource_arn: &str) -> Result<Resource, ApiError> {
        if parse_consumer_arn(resource_arn).is_some() {
            let (stream, consumer) = self.resolve_consumer_arn(resource_arn)?;
            return Ok(Resource::Consumer(stream, consumer));
        }
        match arn::parse_stream_arn(resource_arn) {
            Some(_) => Ok(Resource::Stream(self.resolve(None, Some(resource_arn))?)),
            None => Err(ApiError::InvalidArgument(format!(
                "Invalid ResourceARN: {resource_arn}"
            ))),
        }
    }
}
