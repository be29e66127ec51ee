//! StartStreamEncryption and StopStreamEncryption: the stream goes UPDATING for
//! `update_delay_ms`, then ACTIVE. The KMS key id is stored, not checked against KMS; records
//! read afterwards carry `EncryptionType: KMS` while a key is set.

use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{Empty, StreamEncryptionInput};

async fn change_encryption(
    ctx: &Ctx,
    input: StreamEncryptionInput,
    start: bool,
) -> Result<Empty, ApiError> {
    let stream = ctx.resolve(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    if input.encryption_type.as_deref() != Some("KMS") {
        return Err(ApiError::InvalidArgument(format!(
            "Encryption type {} is not supported by this operation; the only supported encryption type is KMS.",
            input.encryption_type.as_deref().unwrap_or_default()
        )));
    }
    let key = input.key_id.unwrap_or_default();
    if start {
        ctx.limit_new_kms_key(&key)?;
    }
    let now = ctx.now();
    let until = now + ctx.config().update_delay_ms.max(0);
    let account = ctx.config().account_id.clone();
    ctx.update_meta(&stream, |m| {
        m.require_active(now, &account)?;
        m.encryption_key = start.then(|| key.clone());
        m.updating_until_ms = Some(until);
        Ok(())
    })
    .await?;
    if start {
        ctx.note_kms_key(&key);
    }
    Ok(Empty {})
}

pub async fn start_stream_encryption(
    ctx: &Ctx,
    input: StreamEncryptionInput,
) -> Result<Empty, ApiError> {
    change_encryption(ctx, input, true).await
}

pub async fn stop_stream_encryption(
    ctx: &Ctx,
    input: StreamEncryptionInput,
) -> Result<Empty, ApiError> {
    change_encryption(ctx, input, false).await
}
