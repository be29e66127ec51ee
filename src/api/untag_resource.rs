use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, UntagResourceInput};
use crate::streams::settings::Resource;

pub async fn untag_resource(ctx: &Ctx, input: UntagResourceInput) -> Result<Empty, ApiError> {
    let resource = ctx.resolve_resource(input.resource_arn.as_deref().unwrap_or_default())?;
    let keys = input.tag_keys.unwrap_or_default();
    match resource {
        Resource::Stream(stream) => {
            ctx.update_meta(&stream, |m| {
                m.tags.retain(|k, _| !keys.contains(k));
                Ok(())
            })
            .await?
        }
        Resource::Consumer(stream, consumer) => {
            ctx.update_consumer(&stream, &consumer, |c| {
                c.tags.retain(|k, _| !keys.contains(k));
                Ok(())
            })
            .await?
        }
    }
    Ok(Empty {})
}
