use super::rules::consumers::resolve_consumer;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ConsumerDescription, ConsumerRefInput, DescribeStreamConsumerOutput};
use crate::protocol::types::Timestamp;
use crate::protocol::Operation;

pub async fn describe_stream_consumer(
    ctx: &Ctx,
    input: ConsumerRefInput,
) -> Result<DescribeStreamConsumerOutput, ApiError> {
    let (stream, consumer) = resolve_consumer(ctx, &input)?;
    ctx.limit_control(Operation::DescribeStreamConsumer, Some(&stream))?;
    Ok(DescribeStreamConsumerOutput {
        consumer_description: ConsumerDescription {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn(&stream.arn),
            consumer_status: consumer.status(ctx.now()).to_string(),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
            stream_arn: stream.arn.clone(),
        },
    })
}
