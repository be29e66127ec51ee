use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{UpdateShardCountInput, UpdateShardCountOutput};

pub async fn update_shard_count(
    ctx: &Ctx,
    input: UpdateShardCountInput,
) -> Result<UpdateShardCountOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let target = input.target_shard_count.unwrap_or_default();
    let current = ctx.update_shard_count(&stream, target).await?;
    Ok(UpdateShardCountOutput {
        stream_name: stream.name.clone(),
        current_shard_count: current,
        target_shard_count: target,
        stream_arn: stream.arn.clone(),
    })
}
