use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, RemoveTagsFromStreamInput};

pub async fn remove_tags_from_stream(
    ctx: &Ctx,
    input: RemoveTagsFromStreamInput,
) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let keys = input.tag_keys.unwrap_or_default();
    ctx.update_meta(&stream, |m| {
        for k in &keys {
            m.tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
