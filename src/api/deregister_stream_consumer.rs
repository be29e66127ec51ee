use super::rules::consumers::resolve_consumer;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ConsumerRefInput, Empty};
use crate::protocol::Operation;

pub async fn deregister_stream_consumer(
    ctx: &Ctx,
    input: ConsumerRefInput,
) -> Result<Empty, ApiError> {
    let (stream, consumer) = resolve_consumer(ctx, &input)?;
    ctx.limit_control(Operation::DeregisterStreamConsumer, Some(&stream))?;
    ctx.deregister_consumer(&stream, &consumer).await?;
    Ok(Empty {})
}
