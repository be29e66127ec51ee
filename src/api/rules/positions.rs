//! Where a reader starts: the shard a request names and the five starting-position kinds,
//! shared by GetShardIterator and SubscribeToShard.

use crate::api::Ctx;
use crate::error::ApiError;
use crate::protocol::types::Timestamp;
use crate::streams::sequence::{parse_shard_id, shard_id, SequenceNumber};
use crate::streams::{Shard, Stream};

/// The shard a request names, or AWS's ResourceNotFoundException.
pub(crate) fn find_shard(ctx: &Ctx, stream: &Stream, requested: &str) -> Result<Shard, ApiError> {
    parse_shard_id(requested)
        .and_then(|i| stream.shard(i))
        .ok_or_else(|| ctx.shard_not_found(&stream.name, requested))
}

/// Where a reader starts, for the five iterator types; shared with SubscribeToShard's
/// StartingPosition. `operation` names the caller in AWS's messages.
pub(crate) async fn starting_position(
    ctx: &Ctx,
    stream: &Stream,
    shard: &Shard,
    kind: &str,
    sequence_number: Option<&str>,
    timestamp: Option<Timestamp>,
    operation: &str,
) -> Result<u64, ApiError> {
    let sid = shard_id(shard.index);
    let account = &ctx.config().account_id;
    let now = ctx.now();
    let must_either = |what: &str| {
        ApiError::InvalidArgument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {what} StartingSequenceNumber."
        ))
    };
    match kind {
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
            let text = sequence_number.ok_or_else(|| must_either("no"))?;
            let invalid = |why: &str| {
                ApiError::InvalidArgument(format!(
                    "StartingSequenceNumber {text} used in {operation} on shard {sid} in stream {} under account {account} is invalid{why}.",
                    stream.name
                ))
            };
            let seq: SequenceNumber = text.parse().map_err(|_| invalid(""))?;
            if seq.stream_id != stream.id {
                return Err(invalid(" because it did not come from this stream"));
            }
            if seq.shard_index != shard.index {
                return Err(ApiError::InvalidArgument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {sid}",
                    shard_id(seq.shard_index)
                )));
            }
            Ok(if kind == "AT_SEQUENCE_NUMBER" {
                seq.position
            } else {
                seq.position.saturating_add(1)
            })
        }
        _ if sequence_number.is_some() && kind != "AT_TIMESTAMP" => Err(must_either("also a")),
        "TRIM_HORIZON" => Ok(0),
        "LATEST" => ctx.latest_position(shard).await,
        _ => {
            // AT_TIMESTAMP
            let ts = timestamp.ok_or_else(|| {
                ApiError::InvalidArgument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.".into(),
                )
            })?;
            if ts.0 > now {
                return Err(ApiError::InvalidArgument(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: {now}",
                    ts.0
                )));
            }
            ctx.position_at_time(shard, ts.0).await
        }
    }
}
