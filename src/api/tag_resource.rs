use super::rules::tags::merge_tags;
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, TagResourceInput};
use crate::streams::settings::Resource;

pub async fn tag_resource(ctx: &Ctx, input: TagResourceInput) -> Result<Empty, ApiError> {
    let resource = ctx.resolve_resource(input.resource_arn.as_deref().unwrap_or_default())?;
    let tags = input.tags.unwrap_or_default();
    match resource {
        Resource::Stream(stream) => {
            let name = stream.name.clone();
            ctx.update_meta(&stream, |m| {
                m.tags = merge_tags(ctx, "stream", &name, &m.tags, &tags)?;
                Ok(())
            })
            .await?
        }
        Resource::Consumer(stream, consumer) => {
            ctx.update_consumer(&stream, &consumer, |c| {
                c.tags = merge_tags(ctx, "consumer", &c.name, &c.tags, &tags)?;
                Ok(())
            })
            .await?
        }
    }
    Ok(Empty {})
}
