use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{DeleteStreamInput, Empty};

pub async fn delete_stream(ctx: &Ctx, input: DeleteStreamInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let now = ctx.now();
    if !input.enforce_consumer_deletion.unwrap_or(false)
        && stream.with_meta(|m| m.live_consumers(now).next().is_some())
    {
        // AWS's text (consumers go with the stream when EnforceConsumerDeletion is true).
        return Err(ApiError::ResourceInUse(format!(
            "DeleteStream can't delete {}:{} because there are consumers associated with this data stream. To delete {} anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.",
            ctx.config().account_id, stream.name, stream.name
        )));
    }
    ctx.delete_stream(&stream).await?;
    Ok(Empty {})
}
