use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, ResourceRefInput};
use crate::streams::settings::Resource;

pub async fn delete_resource_policy(ctx: &Ctx, input: ResourceRefInput) -> Result<Empty, ApiError> {
    let arn = input.resource_arn.unwrap_or_default();
    // Deleting a policy that is not there is a ResourceNotFoundException, as LocalStack and
    // moto answer (unverified on AWS).
    let absent =
        || ApiError::ResourceNotFound(format!("No resource policy found for resource ARN {arn}."));
    match ctx.resolve_resource(&arn)? {
        Resource::Stream(stream) => {
            ctx.update_meta(&stream, |m| m.policy.take().map(drop).ok_or_else(absent))
                .await?
        }
        Resource::Consumer(stream, consumer) => {
            ctx.update_consumer(&stream, &consumer, |c| {
                c.policy.take().map(drop).ok_or_else(absent)
            })
            .await?
        }
    }
    Ok(Empty {})
}
