use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{DeleteStreamInput, Empty};

pub async fn delete_stream(ctx: &Ctx, input: DeleteStreamInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    ctx.delete_stream(&stream).await?;
    Ok(Empty {})
}
