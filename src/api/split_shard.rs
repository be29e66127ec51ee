use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::Empty;
use crate::protocol::model::SplitShardInput;

pub async fn split_shard(ctx: &Ctx, input: SplitShardInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    ctx.split_shard(
        &stream,
        input.shard_to_split.as_deref().unwrap_or_default(),
        input.new_starting_hash_key.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Empty {})
}
