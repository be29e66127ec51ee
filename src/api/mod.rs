//! One file per operation: `async fn(&Ctx, Input) -> Result<Output, ApiError>`, no HTTP here.

mod account_settings;
mod add_tags_to_stream;
mod create_stream;
mod delete_resource_policy;
mod delete_stream;
mod deregister_stream_consumer;
mod describe_limits;
mod describe_stream;
mod describe_stream_consumer;
mod describe_stream_summary;
mod encryption;
mod enhanced_monitoring;
mod get_records;
mod get_resource_policy;
mod get_shard_iterator;
mod list_shards;
mod list_stream_consumers;
mod list_streams;
mod list_tags_for_resource;
mod list_tags_for_stream;
mod merge_shards;
mod put_record;
mod put_records;
mod put_resource_policy;
mod register_stream_consumer;
mod remove_tags_from_stream;
mod retention;
mod split_shard;
mod state;
pub mod subscribe_to_shard;
mod tag_resource;
mod tagging;
mod tokens;
mod untag_resource;
mod update_max_record_size;
mod update_shard_count;
mod update_stream_mode;
mod update_stream_warm_throughput;
mod warm_throughput;

use crate::error::ApiError;
use crate::protocol::model::{self, HashKeyRange, SequenceNumberRange};
use crate::protocol::{decode, encode, Encoding, Operation};
use crate::streams::sequence::shard_id;
use crate::streams::{Registry, ShardMeta, StreamMeta};

/// What every handler gets: the registry (store, clock, settings).
pub type Ctx = Registry;

/// Decodes the body for `op`, runs its handler and encodes the answer.
pub async fn dispatch(
    ctx: &Ctx,
    op: Operation,
    encoding: Encoding,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    macro_rules! call {
        ($handler:path) => {{
            let input = decode(encoding, body)?;
            let output = $handler(ctx, input).await?;
            Ok(encode(encoding, &output))
        }};
    }
    match op {
        Operation::CreateStream => call!(create_stream::create_stream),
        Operation::DeleteStream => call!(delete_stream::delete_stream),
        Operation::DescribeStream => call!(describe_stream::describe_stream),
        Operation::DescribeStreamSummary => {
            call!(describe_stream_summary::describe_stream_summary)
        }
        Operation::ListStreams => call!(list_streams::list_streams),
        Operation::ListShards => call!(list_shards::list_shards),
        Operation::PutRecord => call!(put_record::put_record),
        Operation::PutRecords => call!(put_records::put_records),
        Operation::GetShardIterator => call!(get_shard_iterator::get_shard_iterator),
        Operation::GetRecords => call!(get_records::get_records),
        Operation::IncreaseStreamRetentionPeriod => {
            call!(retention::increase_stream_retention_period)
        }
        Operation::DecreaseStreamRetentionPeriod => {
            call!(retention::decrease_stream_retention_period)
        }
        Operation::AddTagsToStream => call!(add_tags_to_stream::add_tags_to_stream),
        Operation::RemoveTagsFromStream => {
            call!(remove_tags_from_stream::remove_tags_from_stream)
        }
        Operation::ListTagsForStream => call!(list_tags_for_stream::list_tags_for_stream),
        Operation::DescribeLimits => call!(describe_limits::describe_limits),
        Operation::RegisterStreamConsumer => {
            call!(register_stream_consumer::register_stream_consumer)
        }
        Operation::DescribeStreamConsumer => {
            call!(describe_stream_consumer::describe_stream_consumer)
        }
        Operation::ListStreamConsumers => call!(list_stream_consumers::list_stream_consumers),
        Operation::DeregisterStreamConsumer => {
            call!(deregister_stream_consumer::deregister_stream_consumer)
        }
        Operation::TagResource => call!(tag_resource::tag_resource),
        Operation::UntagResource => call!(untag_resource::untag_resource),
        Operation::ListTagsForResource => call!(list_tags_for_resource::list_tags_for_resource),
        Operation::PutResourcePolicy => call!(put_resource_policy::put_resource_policy),
        Operation::GetResourcePolicy => call!(get_resource_policy::get_resource_policy),
        Operation::DeleteResourcePolicy => call!(delete_resource_policy::delete_resource_policy),
        Operation::StartStreamEncryption => call!(encryption::start_stream_encryption),
        Operation::StopStreamEncryption => call!(encryption::stop_stream_encryption),
        Operation::EnableEnhancedMonitoring => {
            call!(enhanced_monitoring::enable_enhanced_monitoring)
        }
        Operation::DisableEnhancedMonitoring => {
            call!(enhanced_monitoring::disable_enhanced_monitoring)
        }
        Operation::UpdateStreamMode => call!(update_stream_mode::update_stream_mode),
        Operation::UpdateMaxRecordSize => call!(update_max_record_size::update_max_record_size),
        Operation::UpdateStreamWarmThroughput => {
            call!(update_stream_warm_throughput::update_stream_warm_throughput)
        }
        Operation::DescribeAccountSettings => call!(account_settings::describe_account_settings),
        Operation::UpdateAccountSettings => call!(account_settings::update_account_settings),
        Operation::SplitShard => call!(split_shard::split_shard),
        Operation::MergeShards => call!(merge_shards::merge_shards),
        Operation::UpdateShardCount => call!(update_shard_count::update_shard_count),
        other => Err(ApiError::UnknownOperation(Some(format!(
            "Operation {} is not supported by this version of kinesd.",
            other.name()
        )))),
    }
}

/// The `Shard` shape of DescribeStream and ListShards.
pub(crate) fn shard_shape(meta: &StreamMeta, shard: &ShardMeta) -> model::Shard {
    model::Shard {
        shard_id: shard_id(shard.index),
        parent_shard_id: shard.parent.map(shard_id),
        adjacent_parent_shard_id: shard.adjacent_parent.map(shard_id),
        hash_key_range: hash_key_range(shard),
        sequence_number_range: SequenceNumberRange {
            starting_sequence_number: meta.starting_sequence(shard).to_string(),
            ending_sequence_number: meta.ending_sequence(shard).map(|s| s.to_string()),
        },
    }
}

pub(crate) fn hash_key_range(shard: &ShardMeta) -> HashKeyRange {
    HashKeyRange {
        starting_hash_key: shard.hash_start.to_string(),
        ending_hash_key: shard.hash_end.to_string(),
    }
}

pub(crate) fn stream_mode(meta: &StreamMeta) -> model::StreamModeDetails {
    model::StreamModeDetails {
        stream_mode: Some(meta.mode.as_str().to_string()),
    }
}

/// `EnhancedMonitoring` as AWS reports it: one entry, with an empty list when none is enabled.
pub(crate) fn enhanced_monitoring(meta: &StreamMeta) -> Vec<model::EnhancedMetrics> {
    vec![model::EnhancedMetrics {
        shard_level_metrics: meta.shard_level_metrics.clone(),
    }]
}

pub(crate) fn encryption_type(meta: &StreamMeta) -> &'static str {
    if meta.encryption_key.is_some() {
        "KMS"
    } else {
        "NONE"
    }
}

/// Largest record (data plus partition key) the stream accepts, in bytes.
pub(crate) fn record_size_limit(meta: &StreamMeta) -> usize {
    (meta.max_record_size_kib as usize) * 1024
}
