//! Control-plane operations through the AWS SDK for Rust: CreateStream, DeleteStream,
//! DescribeStream(Summary), ListStreams, ListShards, retention, tags, DescribeLimits and
//! StreamARN addressing.
//!
//! The tests live in `tests/sdk_streams/`, a file per concern; this file holds what they share.

mod common;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use common::{create, failure, setup};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{
    ShardFilter, ShardFilterType, ShardIteratorType, StreamMode, StreamModeDetails, StreamStatus,
};
use aws_sdk_kinesis::Client;
use kinesd::{Clock, Config};

const MAX_HASH: &str = "340282366920938463463374607431768211455";

fn not_found(name: &str) -> (String, String) {
    (
        "ResourceNotFoundException".into(),
        format!("Stream {name} under account 000000000000 not found."),
    )
}

fn arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}")
}

fn shard_id(i: usize) -> String {
    format!("shardId-{i:012}")
}

#[path = "sdk_streams/arn_addressing.rs"]
mod arn_addressing;
#[path = "sdk_streams/create.rs"]
mod create;
#[path = "sdk_streams/lifecycle.rs"]
mod lifecycle;
#[path = "sdk_streams/paging.rs"]
mod paging;
#[path = "sdk_streams/retention_and_tags.rs"]
mod retention_and_tags;
