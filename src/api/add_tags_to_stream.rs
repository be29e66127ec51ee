use super::create_stream::MAX_TAGS;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{AddTagsToStreamInput, Empty};

/// AWS's tag alphabet: Unicode letters and digits, white space, and `_ . / = + - @ :`.
pub(crate) fn tag_char_ok(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_./=+-@:".contains(c)
}

pub(crate) fn check_tag_characters<'a>(
    ctx: &Ctx,
    stream: &str,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
) -> Result<(), ApiError> {
    for (k, v) in tags {
        if !k.chars().chain(v.chars()).all(tag_char_ok) {
            return Err(ApiError::InvalidArgument(format!(
                "Failed to add tags to stream {stream} under account {} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
                ctx.config.account_id
            )));
        }
        if k.starts_with("aws:") {
            return Err(ApiError::InvalidArgument(format!(
                "Failed to add tags to stream {stream} under account {} because the tag key prefix 'aws:' is reserved for AWS use.",
                ctx.config.account_id
            )));
        }
    }
    Ok(())
}

pub async fn add_tags_to_stream(ctx: &Ctx, input: AddTagsToStreamInput) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let tags = input.tags.unwrap_or_default();
    check_tag_characters(ctx, &stream.name, tags.iter())?;
    let name = stream.name.clone();
    let account = ctx.config.account_id.clone();
    ctx.update_meta(&stream, |m| {
        let mut merged = m.tags.clone();
        merged.extend(tags);
        if merged.len() > MAX_TAGS {
            return Err(ApiError::InvalidArgument(format!(
                "Failed to add tags to stream {name} under account {account} because a given stream cannot have more than {MAX_TAGS} tags associated with it."
            )));
        }
        m.tags = merged;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
