//! Which stream may take writes: one that has finished CREATING. (Control-plane changes need
//! an ACTIVE stream: `StreamMeta::require_active`, shared with resharding.)

use crate::api::Ctx;
use crate::error::ApiError;
use crate::streams::{Stream, StreamStatus};
use std::sync::Arc;

/// The stream for a write: it must exist and have finished CREATING.
pub(crate) fn writable_stream(
    ctx: &Ctx,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<Arc<Stream>, ApiError> {
    let stream = ctx.resolve(name, arn)?;
    let now = ctx.now();
    if stream.with_meta(|m| m.status(now) == StreamStatus::Creating) {
        return Err(ctx.not_found(&stream.name));
    }
    Ok(stream)
}
