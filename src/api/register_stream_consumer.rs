use super::rules::tags::check_tags;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Consumer, RegisterStreamConsumerInput, RegisterStreamConsumerOutput};
use crate::protocol::types::Timestamp;

pub async fn register_stream_consumer(
    ctx: &Ctx,
    input: RegisterStreamConsumerInput,
) -> Result<RegisterStreamConsumerOutput, ApiError> {
    let stream = ctx.resolve(None, input.stream_arn.as_deref())?;
    let name = input.consumer_name.unwrap_or_default();
    let tags = input.tags.unwrap_or_default();
    check_tags(ctx, "consumer", &name, tags.iter(), tags.len())?;
    let consumer = ctx.register_consumer(&stream, &name, tags).await?;
    Ok(RegisterStreamConsumerOutput {
        consumer: Consumer {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn(&stream.arn),
            consumer_status: consumer.status(ctx.now()).to_string(),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
        },
    })
}
