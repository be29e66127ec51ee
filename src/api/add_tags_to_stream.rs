use super::rules::tags::{check_tag_characters, check_tag_count};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{AddTagsToStreamInput, Empty};

pub async fn add_tags_to_stream(ctx: &Ctx, input: AddTagsToStreamInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let tags = input.tags.unwrap_or_default();
    check_tag_characters(ctx, "stream", &stream.name, tags.iter())?;
    let name = stream.name.clone();
    ctx.update_meta(&stream, |m| {
        let mut merged = m.tags.clone();
        merged.extend(tags.clone());
        check_tag_count(ctx, "stream", &name, merged.len())?;
        m.tags = merged;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
