//! EnableEnhancedMonitoring and DisableEnhancedMonitoring: the answer names the metrics
//! before (current) and after (desired) the change; `ALL` stands for all seven metrics.
//! Metrics are kept in the model's enum order.

use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{EnhancedMonitoringInput, EnhancedMonitoringOutput, METRICS};

/// The seven metric names `ALL` expands to.
fn all_metrics() -> impl Iterator<Item = &'static str> {
    METRICS.iter().copied().filter(|m| *m != "ALL")
}

async fn change_monitoring(
    ctx: &Ctx,
    input: EnhancedMonitoringInput,
    enable: bool,
) -> Result<EnhancedMonitoringOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let requested = input.shard_level_metrics.unwrap_or_default();
    let all = requested.iter().any(|m| m == "ALL");
    let named = |m: &str| all || requested.iter().any(|r| r == m);
    let now = ctx.now();
    let account = ctx.config().account_id.clone();
    let (current, desired) = ctx
        .update_meta(&stream, |m| {
            m.require_active(now, &account)?;
            let current = m.shard_level_metrics.clone();
            let desired: Vec<String> = all_metrics()
                .filter(|metric| {
                    let on = current.iter().any(|c| c == metric);
                    if enable {
                        on || named(metric)
                    } else {
                        on && !named(metric)
                    }
                })
                .map(str::to_string)
                .collect();
            m.shard_level_metrics = desired.clone();
            Ok((current, desired))
        })
        .await?;
    Ok(EnhancedMonitoringOutput {
        stream_name: stream.name.clone(),
        stream_arn: stream.arn.clone(),
        current_shard_level_metrics: current,
        desired_shard_level_metrics: desired,
    })
}

pub async fn enable_enhanced_monitoring(
    ctx: &Ctx,
    input: EnhancedMonitoringInput,
) -> Result<EnhancedMonitoringOutput, ApiError> {
    change_monitoring(ctx, input, true).await
}

pub async fn disable_enhanced_monitoring(
    ctx: &Ctx,
    input: EnhancedMonitoringInput,
) -> Result<EnhancedMonitoringOutput, ApiError> {
    change_monitoring(ctx, input, false).await
}
