use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ListTagsForStreamInput, ListTagsForStreamOutput, Tag};

const DEFAULT_LIMIT: usize = 50;

pub async fn list_tags_for_stream(
    ctx: &Ctx,
    input: ListTagsForStreamInput,
) -> Result<ListTagsForStreamOutput, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let limit = input.limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    let start = input.exclusive_start_tag_key;
    let tags: Vec<Tag> = stream.with_meta(|m| {
        m.tags
            .iter()
            .filter(|(k, _)| start.as_ref().is_none_or(|s| *k > s))
            .map(|(k, v)| Tag {
                key: k.clone(),
                value: Some(v.clone()),
            })
            .collect()
    });
    let has_more_tags = tags.len() > limit;
    Ok(ListTagsForStreamOutput {
        tags: tags.into_iter().take(limit).collect(),
        has_more_tags,
    })
}
