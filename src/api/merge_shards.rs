use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::Empty;
use crate::protocol::model::MergeShardsInput;

pub async fn merge_shards(ctx: &Ctx, input: MergeShardsInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    ctx.merge_shards(
        &stream,
        input.shard_to_merge.as_deref().unwrap_or_default(),
        input.adjacent_shard_to_merge.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Empty {})
}
