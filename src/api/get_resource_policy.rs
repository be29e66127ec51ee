use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{GetResourcePolicyOutput, ResourceRefInput};
use crate::streams::settings::Resource;

pub async fn get_resource_policy(
    ctx: &Ctx,
    input: ResourceRefInput,
) -> Result<GetResourcePolicyOutput, ApiError> {
    let policy = match ctx.resolve_resource(input.resource_arn.as_deref().unwrap_or_default())? {
        Resource::Stream(stream) => stream.with_meta(|m| m.policy.clone()),
        Resource::Consumer(_, consumer) => consumer.policy,
    };
    // Without a policy AWS answers 200 with `"Policy": "{}"`.
    Ok(GetResourcePolicyOutput {
        policy: policy.unwrap_or_else(|| "{}".to_string()),
    })
}
