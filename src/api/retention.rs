//! IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod: mirror images.

use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, RetentionInput};

pub const MIN_HOURS: i64 = 24;
pub const MAX_HOURS: i64 = 8760;

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Increase,
    Decrease,
}

async fn change_retention(
    ctx: &Ctx,
    input: RetentionInput,
    direction: Direction,
) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let hours = input.retention_period_hours.unwrap_or_default();
    if hours < MIN_HOURS {
        return Err(ApiError::InvalidArgument(format!(
            "Minimum allowed retention period is {MIN_HOURS} hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    if hours > MAX_HOURS {
        return Err(ApiError::InvalidArgument(format!(
            "Maximum allowed retention period is {MAX_HOURS} hours. Requested retention period ({hours} hours) is too long."
        )));
    }
    let name = stream.name.clone();
    ctx.update_meta(&stream, |m| {
        let current = m.retention_hours;
        match direction {
            Direction::Increase if hours < current => Err(ApiError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
            ))),
            Direction::Decrease if hours > current => Err(ApiError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
            ))),
            _ => {
                m.retention_hours = hours;
                Ok(())
            }
        }
    })
    .await?;
    Ok(Empty {})
}

pub async fn increase_stream_retention_period(
    ctx: &Ctx,
    input: RetentionInput,
) -> Result<Empty, ApiError> {
    change_retention(ctx, input, Direction::Increase).await
}

pub async fn decrease_stream_retention_period(
    ctx: &Ctx,
    input: RetentionInput,
) -> Result<Empty, ApiError> {
    change_retention(ctx, input, Direction::Decrease).await
}
