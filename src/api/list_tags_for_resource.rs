use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{ListTagsForResourceOutput, ResourceRefInput, Tag};
use crate::streams::settings::Resource;

pub async fn list_tags_for_resource(
    ctx: &Ctx,
    input: ResourceRefInput,
) -> Result<ListTagsForResourceOutput, ApiError> {
    let tags = match ctx.resolve_resource(input.resource_arn.as_deref().unwrap_or_default())? {
        Resource::Stream(stream) => stream.with_meta(|m| m.tags.clone()),
        Resource::Consumer(_, consumer) => consumer.tags,
    };
    Ok(ListTagsForResourceOutput {
        tags: tags
            .into_iter()
            .map(|(key, value)| Tag {
                key,
                value: Some(value),
            })
            .collect(),
    })
}
