use super::rules::warm_throughput::{
    check_warm_throughput, set_warm_throughput, warm_throughput_shape,
};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{
    UpdateStreamWarmThroughputInput, UpdateStreamWarmThroughputOutput, WarmThroughputObject,
};

/// Asynchronous on AWS: the stream is UPDATING for `update_delay_ms`, and the answer's
/// CurrentMiBps is what is in effect until then.
pub async fn update_stream_warm_throughput(
    ctx: &Ctx,
    input: UpdateStreamWarmThroughputInput,
) -> Result<UpdateStreamWarmThroughputOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let mibps = input.warm_throughput_mibps.unwrap_or_default();
    let now = ctx.now();
    let until = now + ctx.config().update_delay_ms.max(0);
    let account = ctx.config().account_id.clone();
    let shape = ctx
        .update_meta(&stream, |m| {
            check_warm_throughput(ctx, &m.name, m.mode, mibps)?;
            m.require_active(now, &account)?;
            set_warm_throughput(m, mibps, now, until);
            m.updating_until_ms = Some(until);
            Ok(warm_throughput_shape(m, now))
        })
        .await?;
    Ok(UpdateStreamWarmThroughputOutput {
        stream_arn: stream.arn.clone(),
        stream_name: stream.name.clone(),
        warm_throughput: shape.unwrap_or(WarmThroughputObject {
            target_mibps: mibps,
            current_mibps: 0,
        }),
    })
}
