//! One file per operation: `async fn(&Ctx, Input) -> Result<Output, ApiError>`, no HTTP here.
//! Rules several operations share live in `rules/`; an operation file never imports another.

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
mod rules;
mod split_shard;
mod subscribe_to_shard;
mod tag_resource;
mod untag_resource;
mod update_max_record_size;
mod update_shard_count;
mod update_stream_mode;
mod update_stream_warm_throughput;

use crate::error::ApiError;
use crate::protocol::{decode, encode, Encoding, Operation};
use crate::streams::Registry;
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What every handler gets: the registry's public face (streams, the clock, the settings, the
/// iterator signer); its storage stays private to the domain.
pub type Ctx = Registry;

/// An operation's answer: a whole body, or SubscribeToShard's event stream (a channel of
/// framed event-stream messages that ends when the subscription does).
pub enum Answer {
    Whole(Vec<u8>),
    Events(mpsc::Receiver<Bytes>),
}

/// Decodes the body for `op`, runs its handler and encodes the answer. The match names every
/// operation: one without a handler does not compile.
pub async fn dispatch(
    ctx: &Arc<Ctx>,
    op: Operation,
    encoding: Encoding,
    body: &[u8],
) -> Result<Answer, ApiError> {
    if op.is_data_plane() {
        // Served from this node's view of the catalogue; a stream another node created a
        // moment ago may not be in it yet, so a miss catches up and tries once more (nothing
        // was written by the failed attempt).
        match run(ctx, op, encoding, body).await {
            Err(ApiError::ResourceNotFound(_)) => ctx.catch_up().await?,
            other => return other,
        }
    } else {
        ctx.catch_up().await?;
    }
    run(ctx, op, encoding, body).await
}

async fn run(
    ctx: &Arc<Ctx>,
    op: Operation,
    encoding: Encoding,
    body: &[u8],
) -> Result<Answer, ApiError> {
    macro_rules! call {
        ($handler:path) => {{
            let input = decode(encoding, body)?;
            let output = $handler(ctx, input).await?;
            Ok(Answer::Whole(encode(encoding, &output)))
        }};
    }
    // Account-wide rates here; per-stream ones in their handlers, once the stream is known.
    ctx.limit_control(op, None)?;
    match op {
        Operation::SubscribeToShard => subscribe_to_shard::start(ctx.clone(), encoding, body)
            .await
            .map(Answer::Events),
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
    }
}
