use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, PutResourcePolicyInput};
use crate::streams::meta::ConsumerStatus;
use crate::streams::settings::Resource;

/// The document must be a JSON object; it is stored verbatim (enforcing it is not kinesd's job).
pub(crate) fn check_policy(policy: &str) -> Result<(), ApiError> {
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(v) if v.is_object() => Ok(()),
        _ => Err(ApiError::InvalidArgument(
            "Invalid resource policy: the policy document must be a JSON object.".into(),
        )),
    }
}

pub async fn put_resource_policy(
    ctx: &Ctx,
    input: PutResourcePolicyInput,
) -> Result<Empty, ApiError> {
    let resource = ctx.resolve_resource(input.resource_arn.as_deref().unwrap_or_default())?;
    let policy = input.policy.unwrap_or_default();
    check_policy(&policy)?;
    match resource {
        Resource::Stream(stream) => {
            ctx.update_meta(&stream, |m| {
                m.policy = Some(policy.clone());
                Ok(())
            })
            .await?
        }
        Resource::Consumer(stream, consumer) => {
            // AWS: "Consumer … is not in ACTIVE status." for a consumer still CREATING.
            if consumer.status(ctx.now()) != ConsumerStatus::Active {
                return Err(ctx.consumer_not_active(&stream.name, &consumer));
            }
            ctx.update_consumer(&stream, &consumer, |c| {
                c.policy = Some(policy.clone());
                Ok(())
            })
            .await?
        }
    }
    Ok(Empty {})
}
