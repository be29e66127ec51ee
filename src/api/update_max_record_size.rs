use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, UpdateMaxRecordSizeInput};

/// Synchronous here (AWS documents no UPDATING phase for it); the stream must be ACTIVE. The
/// new limit applies to the next PutRecord/PutRecords.
pub async fn update_max_record_size(
    ctx: &Ctx,
    input: UpdateMaxRecordSizeInput,
) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(None, input.stream_arn.as_deref())?;
    let kib = input.max_record_size_in_kib.unwrap_or(1024);
    let now = ctx.now();
    let account = ctx.config().account_id.clone();
    ctx.update_meta(&stream, |m| {
        m.require_active(now, &account)?;
        m.max_record_size_kib = kib;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
