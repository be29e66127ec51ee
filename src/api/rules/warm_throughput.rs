//! Warm throughput of on-demand streams (CreateStream, UpdateStreamMode and
//! UpdateStreamWarmThroughput). AWS allows it only for ON_DEMAND streams in accounts whose
//! MinimumThroughputBillingCommitment is enabled, up to 10 GiB/s. kinesd's choice of
//! exceptions: a PROVISIONED stream is a ValidationException (the model's exception for "API
//! not supported for this capacity mode"); a missing commitment or a target above the ceiling
//! is an InvalidArgumentException. A commitment that is winding down
//! (ENABLED_UNTIL_EARLIEST_ALLOWED_END) still counts as enabled.

use crate::api::Ctx;
use crate::error::ApiError;
use crate::protocol::model::WarmThroughputObject;
use crate::streams::meta::WarmThroughput;
use crate::streams::{StreamMeta, StreamMode};

pub(crate) const MAX_WARM_MIBPS: i64 = 10_240;

/// Checks a requested warm throughput for the stream `name`, which will be in `mode`.
pub(crate) fn check_warm_throughput(
    ctx: &Ctx,
    name: &str,
    mode: StreamMode,
    mibps: i64,
) -> Result<(), ApiError> {
    let account = &ctx.config().account_id;
    if mode != StreamMode::OnDemand {
        return Err(ApiError::Validation(format!(
            "Request is invalid. Stream {name} under account {account} is in Provisioned mode. Warm throughput is only supported for streams in On-Demand mode."
        )));
    }
    if !ctx.billing_commitment()?.in_effect() {
        return Err(ApiError::InvalidArgument(format!(
            "Warm throughput requires the MinimumThroughputBillingCommitment of account {account} to be ENABLED."
        )));
    }
    if mibps > MAX_WARM_MIBPS {
        return Err(ApiError::InvalidArgument(format!(
            "Requested warm throughput of {mibps} MiBps for stream {name} under account {account} exceeds the maximum of {MAX_WARM_MIBPS} MiBps."
        )));
    }
    Ok(())
}

/// Sets a new target that applies at `ready_at_ms`; until then the old one stays current.
pub(crate) fn set_warm_throughput(meta: &mut StreamMeta, mibps: i64, now: i64, ready_at_ms: i64) {
    let previous = meta.warm_throughput.map_or(0, |w| w.current(now));
    meta.warm_throughput = Some(WarmThroughput {
        target_mibps: mibps,
        previous_mibps: previous,
        ready_at_ms,
    });
}

/// DescribeStreamSummary's `WarmThroughput`: reported for on-demand streams that have one.
pub(crate) fn warm_throughput_shape(meta: &StreamMeta, now: i64) -> Option<WarmThroughputObject> {
    match (meta.mode, meta.warm_throughput) {
        (StreamMode::OnDemand, Some(w)) => Some(WarmThroughputObject {
            target_mibps: w.target_mibps,
            current_mibps: w.current(now),
        }),
        _ => None,
    }
}
