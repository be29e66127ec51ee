//! Data-plane operations through the AWS SDK for Rust: PutRecord(s), GetShardIterator,
//! GetRecords, retention trimming and restart persistence.
//!
//! The tests live in `tests/sdk_records/`, a file per concern; this file holds what they share.

mod common;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use common::{create, failure, setup};

use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, Record, ShardIteratorType};
use aws_sdk_kinesis::Client;
use kinesd::{Clock, Config};
use std::collections::BTreeMap;

const MAX_HASH: &str = "340282366920938463463374607431768211455";
const HOUR_MS: i64 = 3_600_000;

/// A config whose background retention worker stays out of the way of explicit passes.
fn config() -> Config {
    Config {
        retention_check_ms: 3_600_000,
        ..Config::default()
    }
}

fn shard_id(i: usize) -> String {
    format!("shardId-{i:012}")
}

fn md5_hash(key: &str) -> u128 {
    u128::from_be_bytes(md5::compute(key.as_bytes()).0)
}

/// Puts one record; `ehk` routes it explicitly.
async fn put(
    client: &Client,
    stream: &str,
    pk: &str,
    ehk: Option<&str>,
    data: &str,
) -> (String, String) {
    let out = client
        .put_record()
        .stream_name(stream)
        .partition_key(pk)
        .set_explicit_hash_key(ehk.map(str::to_string))
        .data(Blob::new(data))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put to {stream}: {e:?}"));
    (
        out.shard_id().to_string(),
        out.sequence_number().to_string(),
    )
}

async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_starting_sequence_number(seq.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("iterator on {stream}/{shard}: {e:?}"))
        .shard_iterator()
        .unwrap()
        .to_string()
}

/// Reads from `it` until a call returns no records; returns the records and the last
/// NextShardIterator.
async fn drain(client: &Client, mut it: String) -> (Vec<Record>, String) {
    let mut all = Vec::new();
    loop {
        let out = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get_records: {e:?}"));
        it = out.next_shard_iterator().expect("open shard").to_string();
        if out.records().is_empty() {
            assert_eq!(out.millis_behind_latest(), Some(0));
            return (all, it);
        }
        all.extend(out.records().iter().cloned());
    }
}

async fn read_shard(client: &Client, stream: &str, shard: &str) -> Vec<Record> {
    let it = iterator(client, stream, shard, ShardIteratorType::TrimHorizon, None).await;
    drain(client, it).await.0
}

fn texts(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap())
        .collect()
}

fn seqs(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.sequence_number().to_string())
        .collect()
}

/// Numeric comparison of decimal sequence numbers.
fn seq_lt(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

async fn set_retention(client: &Client, stream: &str, hours: i32, increase: bool) {
    if increase {
        client
            .increase_stream_retention_period()
            .stream_name(stream)
            .retention_period_hours(hours)
            .send()
            .await
            .unwrap();
    } else {
        client
            .decrease_stream_retention_period()
            .stream_name(stream)
            .retention_period_hours(hours)
            .send()
            .await
            .unwrap();
    }
}

#[path = "sdk_records/concurrency.rs"]
mod concurrency;
#[path = "sdk_records/reads.rs"]
mod reads;
#[path = "sdk_records/restart.rs"]
mod restart;
#[path = "sdk_records/retention.rs"]
mod retention;
#[path = "sdk_records/writes.rs"]
mod writes;
