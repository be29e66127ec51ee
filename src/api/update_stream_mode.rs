use super::rules::warm_throughput::{check_warm_throughput, set_warm_throughput};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, UpdateStreamModeInput};
use crate::streams::StreamMode;

/// AWS allows two capacity-mode switches per stream in a rolling 24 hours.
const MAX_SWITCHES_PER_DAY: usize = 2;
const DAY_MS: i64 = 86_400_000;

/// Switches PROVISIONED ⇄ ON_DEMAND, keeping the shards; the stream is UPDATING for
/// `update_delay_ms`. Switching to PROVISIONED drops any warm throughput.
pub async fn update_stream_mode(
    ctx: &Ctx,
    input: UpdateStreamModeInput,
) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(None, input.stream_arn.as_deref())?;
    let target = match input
        .stream_mode_details
        .and_then(|d| d.stream_mode)
        .as_deref()
    {
        Some("ON_DEMAND") => StreamMode::OnDemand,
        _ => StreamMode::Provisioned,
    };
    if let Some(mibps) = input.warm_throughput_mibps {
        check_warm_throughput(ctx, &stream.name, target, mibps)?;
    }
    let account = ctx.config().account_id.clone();
    if target == StreamMode::OnDemand && stream.with_meta(|m| m.mode) != target {
        let (_, on_demand) = ctx.usage();
        if on_demand >= ctx.config().on_demand_stream_limit {
            return Err(ApiError::LimitExceeded(format!(
                "This request would exceed the on-demand stream limit for the account {account} in {}. Current limit of on-demand streams per account is {}.",
                ctx.config().region, ctx.config().on_demand_stream_limit
            )));
        }
    }
    let now = ctx.now();
    let until = now + ctx.config().update_delay_ms.max(0);
    ctx.update_meta(&stream, |m| {
        m.require_active(now, &account)?;
        if m.mode == target {
            return Err(ApiError::InvalidArgument(format!(
                "Stream {} under account {account} is already in {} mode.",
                m.name,
                target.as_str()
            )));
        }
        m.mode_switches.retain(|t| now - t < DAY_MS);
        if m.mode_switches.len() >= MAX_SWITCHES_PER_DAY {
            return Err(ApiError::LimitExceeded(format!(
                "Stream {} under account {account} has already switched capacity mode {MAX_SWITCHES_PER_DAY} times in the last 24 hours.",
                m.name
            )));
        }
        m.mode_switches.push(now);
        m.mode = target;
        m.updating_until_ms = Some(until);
        match (target, input.warm_throughput_mibps) {
            (StreamMode::OnDemand, Some(mibps)) => set_warm_throughput(m, mibps, now, until),
            (StreamMode::OnDemand, None) => {}
            (StreamMode::Provisioned, _) => m.warm_throughput = None,
        }
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
