use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{DescribeLimitsInput, DescribeLimitsOutput};

pub async fn describe_limits(
    ctx: &Ctx,
    _input: DescribeLimitsInput,
) -> Result<DescribeLimitsOutput, ApiError> {
    let (open_shards, on_demand) = ctx.usage();
    Ok(DescribeLimitsOutput {
        shard_limit: ctx.config().shard_limit,
        open_shard_count: open_shards,
        on_demand_stream_count: on_demand,
        on_demand_stream_count_limit: ctx.config().on_demand_stream_limit,
    })
}
