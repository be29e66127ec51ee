//! Checks on a stream's lifecycle state shared by the control-plane operations.

use crate::error::ApiError;
use crate::streams::{StreamMeta, StreamStatus};

/// AWS's ResourceInUseException for an operation that needs an ACTIVE stream.
pub(crate) fn check_active(account: &str, meta: &StreamMeta, now: i64) -> Result<(), ApiError> {
    let status = meta.status(now);
    if status != StreamStatus::Active {
        return Err(ApiError::ResourceInUse(format!(
            "Stream {} under account {account} not ACTIVE, instead in state {status}",
            meta.name
        )));
    }
    Ok(())
}
