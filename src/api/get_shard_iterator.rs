use super::rules::positions::{find_shard, starting_position};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{GetShardIteratorInput, GetShardIteratorOutput};
use crate::streams::iterator::ShardIterator;

pub async fn get_shard_iterator(
    ctx: &Ctx,
    input: GetShardIteratorInput,
) -> Result<GetShardIteratorOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let shard = find_shard(ctx, &stream, input.shard_id.as_deref().unwrap_or_default())?;
    let position = starting_position(
        ctx,
        &stream,
        &shard,
        input.shard_iterator_type.as_deref().unwrap_or_default(),
        input.starting_sequence_number.as_deref(),
        input.timestamp,
        "GetShardIterator",
    )
    .await?;
    let iterator = ShardIterator {
        stream_name: stream.name.clone(),
        stream_id: stream.id,
        shard_index: shard.index,
        position,
        issued_ms: ctx.now(),
    };
    Ok(GetShardIteratorOutput {
        shard_iterator: iterator.encode(ctx.signer()),
    })
}
