//! DescribeAccountSettings and UpdateAccountSettings: the minimum throughput billing
//! commitment (window rules in `streams/settings.rs`). Update is synchronous and answers with
//! the new settings.

use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{
    AccountSettingsOutput, DescribeAccountSettingsInput, MinimumThroughputBillingCommitmentOutput,
    UpdateAccountSettingsInput,
};
use crate::protocol::types::Timestamp;
use crate::streams::settings::BillingCommitment;

fn shape(c: BillingCommitment) -> AccountSettingsOutput {
    AccountSettingsOutput {
        minimum_throughput_billing_commitment: MinimumThroughputBillingCommitmentOutput {
            status: c.status.as_str().to_string(),
            started_at: c.started_at_ms.map(Timestamp),
            ended_at: c.ended_at_ms.map(Timestamp),
            earliest_allowed_end_at: c.earliest_allowed_end_at_ms.map(Timestamp),
        },
    }
}

pub async fn describe_account_settings(
    ctx: &Ctx,
    _input: DescribeAccountSettingsInput,
) -> Result<AccountSettingsOutput, ApiError> {
    Ok(shape(ctx.billing_commitment()?))
}

pub async fn update_account_settings(
    ctx: &Ctx,
    input: UpdateAccountSettingsInput,
) -> Result<AccountSettingsOutput, ApiError> {
    let enable = input
        .minimum_throughput_billing_commitment
        .and_then(|c| c.status)
        .as_deref()
        == Some("ENABLED");
    Ok(shape(ctx.set_billing_commitment(enable).await?))
}
