use super::rules::shapes::{encryption_type, enhanced_monitoring, shard_shape, stream_mode};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{DescribeStreamInput, DescribeStreamOutput, StreamDescription};
use crate::protocol::types::Timestamp;
use crate::streams::sequence::parse_shard_id;

const DEFAULT_LIMIT: usize = 100;

pub async fn describe_stream(
    ctx: &Ctx,
    input: DescribeStreamInput,
) -> Result<DescribeStreamOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let meta = stream.meta();
    // Limit above 100 is accepted by the model but AWS answers at most 100 shards.
    let limit = input
        .limit
        .map_or(DEFAULT_LIMIT, |l| (l as usize).min(DEFAULT_LIMIT));
    let after = input
        .exclusive_start_shard_id
        .as_deref()
        .map(|id| parse_shard_id(id).map_or(-1, i64::from))
        .unwrap_or(-1);
    let candidates: Vec<_> = meta
        .shards
        .iter()
        .filter(|s| i64::from(s.index) > after)
        .collect();
    let shards = candidates
        .iter()
        .take(limit)
        .map(|s| shard_shape(&meta, s))
        .collect();
    Ok(DescribeStreamOutput {
        stream_description: StreamDescription {
            stream_name: meta.name.clone(),
            stream_arn: stream.arn.clone(),
            stream_status: meta.status(ctx.now()).to_string(),
            stream_mode_details: stream_mode(&meta),
            shards,
            has_more_shards: candidates.len() > limit,
            retention_period_hours: meta.retention_hours,
            stream_creation_timestamp: Timestamp(meta.created_ms),
            enhanced_monitoring: enhanced_monitoring(&meta),
            encryption_type: encryption_type(&meta).to_string(),
            key_id: meta.encryption_key.clone(),
        },
    })
}
