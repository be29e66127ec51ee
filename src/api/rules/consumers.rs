//! Naming a consumer: by ConsumerARN, or by StreamARN and ConsumerName (Describe and
//! DeregisterStreamConsumer).

use crate::api::Ctx;
use crate::error::ApiError;
use crate::protocol::model::ConsumerRefInput;
use crate::streams::meta::ConsumerMeta;
use crate::streams::Stream;
use std::sync::Arc;

/// AWS's text (typo included) when neither a consumer ARN nor stream ARN + name is given.
pub(crate) const NEED_CONSUMER: &str =
    "Both streamARN and consumer name must be provided if consumerARN is not provied.";

/// Resolves ConsumerARN, or StreamARN + ConsumerName; all three may be given if they agree.
pub(crate) fn resolve_consumer(
    ctx: &Ctx,
    input: &ConsumerRefInput,
) -> Result<(Arc<Stream>, ConsumerMeta), ApiError> {
    match (&input.consumer_arn, &input.stream_arn, &input.consumer_name) {
        (Some(arn), stream_arn, name) => {
            let (stream, consumer) = ctx.resolve_consumer_arn(arn)?;
            let stream_conflicts = stream_arn.as_ref().is_some_and(|s| *s != stream.arn);
            let name_conflicts = name.as_ref().is_some_and(|n| *n != consumer.name);
            if stream_conflicts || name_conflicts {
                return Err(ApiError::InvalidArgument(format!(
                    "ConsumerARN {arn} does not match the given StreamARN and ConsumerName."
                )));
            }
            Ok((stream, consumer))
        }
        (None, Some(stream_arn), Some(name)) => {
            let stream = ctx.resolve(None, Some(stream_arn))?;
            let consumer = ctx.find_consumer(&stream, name)?;
            Ok((stream, consumer))
        }
        _ => Err(ApiError::InvalidArgument(NEED_CONSUMER.into())),
    }
}
