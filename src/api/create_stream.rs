use super::rules::tags::{check_tag_characters, check_tag_count};
use super::rules::warm_throughput::{check_warm_throughput, set_warm_throughput};
use super::Ctx;
use crate::error::ApiError;
use crate::protocol::model::{CreateStreamInput, Empty};
use crate::streams::StreamMode;

/// AWS gives a new on-demand stream four shards.
const ON_DEMAND_SHARDS: u32 = 4;

pub async fn create_stream(ctx: &Ctx, input: CreateStreamInput) -> Result<Empty, ApiError> {
    let name = input.stream_name.unwrap_or_default();
    let mode = match input
        .stream_mode_details
        .and_then(|d| d.stream_mode)
        .as_deref()
    {
        Some("ON_DEMAND") => StreamMode::OnDemand,
        Some(_) => StreamMode::Provisioned,
        // Without either, AWS creates an on-demand stream of four shards.
        None if input.shard_count.is_none() => StreamMode::OnDemand,
        None => StreamMode::Provisioned,
    };
    let shard_count = match mode {
        StreamMode::OnDemand => ON_DEMAND_SHARDS,
        StreamMode::Provisioned => {
            let n = input.shard_count.ok_or_else(|| {
                ApiError::InvalidArgument(
                    "ShardCount is required for streams in PROVISIONED mode.".into(),
                )
            })?;
            u32::try_from(n).unwrap_or(u32::MAX)
        }
    };
    let tags = input.tags.unwrap_or_default();
    // The count before the characters, unlike AddTagsToStream: AWS's order for each.
    check_tag_count(ctx, "stream", &name, tags.len())?;
    check_tag_characters(ctx, "stream", &name, tags.iter())?;
    if let Some(mibps) = input.warm_throughput_mibps {
        check_warm_throughput(ctx, &name, mode, mibps)?;
    }
    let stream = ctx
        .create_stream(
            &name,
            shard_count,
            mode,
            tags,
            input.max_record_size_in_kib.unwrap_or(1024),
        )
        .await?;
    if let Some(mibps) = input.warm_throughput_mibps {
        // Warm from the moment the stream turns ACTIVE.
        ctx.update_meta(&stream, |m| {
            let active_at = m.active_at_ms;
            set_warm_throughput(m, mibps, active_at, active_at);
            Ok(())
        })
        .await?;
    }
    Ok(Empty {})
}
