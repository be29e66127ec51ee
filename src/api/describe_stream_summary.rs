use super::rules::shapes::{encryption_type, enhanced_monitoring, stream_mode};
use super::rules::warm_throughput::warm_throughput_shape;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{
    DescribeStreamSummaryOutput, StreamDescriptionSummary, StreamRefInput,
};
use crate::protocol::types::Timestamp;

pub async fn describe_stream_summary(
    ctx: &Ctx,
    input: StreamRefInput,
) -> Result<DescribeStreamSummaryOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let meta = stream.meta();
    let now = ctx.now();
    Ok(DescribeStreamSummaryOutput {
        stream_description_summary: StreamDescriptionSummary {
            stream_name: meta.name.clone(),
            stream_arn: stream.arn.clone(),
            stream_status: meta.status(now).to_string(),
            stream_mode_details: stream_mode(&meta),
            retention_period_hours: meta.retention_hours,
            stream_creation_timestamp: Timestamp(meta.created_ms),
            enhanced_monitoring: enhanced_monitoring(&meta),
            encryption_type: encryption_type(&meta).to_string(),
            key_id: meta.encryption_key.clone(),
            open_shard_count: meta.open_shard_count() as i64,
            consumer_count: meta.live_consumers(now).count() as i64,
            max_record_size_in_kib: meta.max_record_size_kib,
            warm_throughput: warm_throughput_shape(&meta, now),
        },
    })
}
