//! kill -9 durability: every write the server acknowledged survives SIGKILL, with the same
//! sequence number and data, and sequence numbers keep growing after the restart.

mod common;

use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::{Credentials, Region};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use aws_sdk_kinesis::Client;
use common::process::Kinesd;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STREAM: &str = "crash";
const SHARDS: usize = 4;
const WRITERS: usize = 8;

/// The server on `data_dir`, its log appended to `log`. `KINESD_CRASH_DURABILITY=relaxed`
/// acknowledges before the flush, so it must make this test fail: a check that the test can
/// see lost writes at all.
fn spawn(data_dir: &Path, log: &Path) -> Kinesd {
    let durability = std::env::var("KINESD_CRASH_DURABILITY").unwrap_or_else(|_| "flush".into());
    let args: [&std::ffi::OsStr; 4] = [
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "--durability".as_ref(),
        durability.as_ref(),
    ];
    Kinesd::spawn(&args, Some(log))
}

fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_kinesis::config::Builder::new()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("a", "b", None, None, "t"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

#[derive(Clone, Debug)]
struct Acked {
    shard: String,
    seq: String,
    data: Vec<u8>,
}

/// Writes until `stop` is set or the server goes away; returns what was acknowledged.
async fn writer(c: Client, id: usize, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<Acked>>>) {
    let mut n = 0u64;
    let payload = |n: u64| {
        // Varied sizes, content unique per writer and counter.
        let mut d = format!("w{id}-n{n}-").into_bytes();
        d.extend((0..(n * 37 % 900) as usize).map(|i| (i as u8) ^ (id as u8)));
        d
    };
    while !stop.load(Ordering::Relaxed) {
        if n.is_multiple_of(2) {
            let data = payload(n);
            let r = c
                .put_record()
                .stream_name(STREAM)
                .partition_key(format!("pk-{id}-{n}"))
                .data(Blob::new(data.clone()))
                .send()
                .await;
            n += 1;
            match r {
                Ok(out) => acked.lock().unwrap().push(Acked {
                    shard: out.shard_id().to_string(),
                    seq: out.sequence_number().to_string(),
                    data,
                }),
                Err(_) => return,
            }
        } else {
            let batch = 1 + (n as usize * 7 + id) % 40;
            let datas: Vec<Vec<u8>> = (0..batch as u64).map(|k| payload(n + k)).collect();
            let entries = datas
                .iter()
                .enumerate()
                .map(|(k, d)| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(format!("pk-{id}-{n}-{k}"))
                        .data(Blob::new(d.clone()))
                        .build()
                        .unwrap()
                })
                .collect();
            let r = c
                .put_records()
                .stream_name(STREAM)
                .set_records(Some(entries))
                .send()
                .await;
            n += batch as u64;
            match r {
                Ok(out) => {
                    let mut a = acked.lock().unwrap();
                    for (res, data) in out.records().iter().zip(datas) {
                        if let (Some(shard), Some(seq)) = (res.shard_id(), res.sequence_number()) {
                            a.push(Acked {
                                shard: shard.to_string(),
                                seq: seq.to_string(),
                                data,
                            });
                        }
                    }
                }
                Err(_) => return,
            }
        }
    }
}

/// Every record of every shard, TRIM_HORIZON to the tip: shard → [(seq, data)].
async fn read_everything(c: &Client) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    let shards = c.list_shards().stream_name(STREAM).send().await.unwrap();
    let mut out = BTreeMap::new();
    for shard in shards.shards() {
        let sid = shard.shard_id().to_string();
        let mut it = c
            .get_shard_iterator()
            .stream_name(STREAM)
            .shard_id(&sid)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator()
            .unwrap()
            .to_string();
        let mut records = Vec::new();
        loop {
            let r = c.get_records().shard_iterator(&it).send().await.unwrap();
            if r.records().is_empty() {
                break;
            }
            for rec in r.records() {
                records.push((
                    rec.sequence_number().to_string(),
                    rec.data().as_ref().to_vec(),
                ));
            }
            it = r.next_shard_iterator().unwrap().to_string();
        }
        out.insert(sid, records);
    }
    out
}

/// Sequence numbers are fixed-width decimals: compare by length, then digits.
fn seq_less(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

fn verify(
    round: usize,
    acked: &[Acked],
    found: &BTreeMap<String, Vec<(String, Vec<u8>)>>,
) -> HashMap<String, String> {
    assert_eq!(found.len(), SHARDS, "round {round}: shards after restart");
    let mut max_per_shard = HashMap::new();
    let mut index: HashMap<(&str, &str), &[u8]> = HashMap::new();
    for (shard, records) in found {
        for w in records.windows(2) {
            assert!(
                seq_less(&w[0].0, &w[1].0),
                "round {round}: {shard} not strictly increasing: {} then {}",
                w[0].0,
                w[1].0
            );
        }
        if let Some(last) = records.last() {
            max_per_shard.insert(shard.clone(), last.0.clone());
        }
        for (seq, data) in records {
            index.insert((shard.as_str(), seq.as_str()), data.as_slice());
        }
    }
    let mut missing = 0;
    for a in acked {
        match index.get(&(a.shard.as_str(), a.seq.as_str())) {
            Some(data) => assert_eq!(
                *data,
                a.data.as_slice(),
                "round {round}: data of {} {} changed",
                a.shard,
                a.seq
            ),
            None => {
                if missing < 5 {
                    eprintln!("round {round}: lost acknowledged {} {}", a.shard, a.seq);
                }
                missing += 1;
            }
        }
    }
    assert_eq!(
        missing,
        0,
        "round {round}: {missing} of {} acknowledged records lost",
        acked.len()
    );
    max_per_shard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let log = dir.path().join("kinesd.log");
    let mut all_acked: Vec<Acked> = Vec::new();

    let mut server = spawn(&data_dir, &log);
    let c = client(&server.endpoint);
    c.create_stream()
        .stream_name(STREAM)
        .shard_count(SHARDS as i32)
        .send()
        .await
        .unwrap();
    // CreateStream is acknowledged too: the stream must exist after the first crash.

    const ROUNDS: usize = 2;
    for round in 0..ROUNDS {
        let c = client(&server.endpoint);
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|id| tokio::spawn(writer(c.clone(), id, stop.clone(), acked.clone())))
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let before_kill = acked.lock().unwrap().len();
        server.kill9();
        // Writers now fail on their in-flight request and stop.
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .expect("writer did not stop after the kill")
                .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        assert!(
            before_kill > 100,
            "round {round}: only {before_kill} writes acknowledged before the kill"
        );
        all_acked.extend(acked);

        server = spawn(&data_dir, &log);
        let c = client(&server.endpoint);
        let summary = c
            .describe_stream_summary()
            .stream_name(STREAM)
            .send()
            .await
            .unwrap();
        let desc = summary.stream_description_summary().unwrap();
        assert_eq!(desc.open_shard_count(), SHARDS as i32);
        assert_eq!(desc.stream_status().as_str(), "ACTIVE");

        let found = read_everything(&c).await;
        let total: usize = found.values().map(Vec::len).sum();
        let max_before = verify(round, &all_acked, &found);
        eprintln!(
            "round {round}: {} acknowledged in total, {total} records on disk after kill -9",
            all_acked.len()
        );

        // New writes on every shard get larger sequence numbers than anything before.
        let entries: Vec<PutRecordsRequestEntry> = (0..64)
            .map(|k| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("after-{round}-{k}"))
                    .data(Blob::new(format!("after-{round}-{k}").into_bytes()))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = c
            .put_records()
            .stream_name(STREAM)
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_record_count(), Some(0));
        let mut shards_hit = std::collections::HashSet::new();
        for (k, r) in out.records().iter().enumerate() {
            let shard = r.shard_id().unwrap();
            let seq = r.sequence_number().unwrap();
            shards_hit.insert(shard.to_string());
            if let Some(max) = max_before.get(shard) {
                assert_eq!(seq.len(), max.len());
                assert!(
                    seq_less(max, seq),
                    "round {round}: new {seq} on {shard} not above pre-crash {max}"
                );
            }
            all_acked.push(Acked {
                shard: shard.to_string(),
                seq: seq.to_string(),
                data: format!("after-{round}-{k}").into_bytes(),
            });
        }
        assert_eq!(shards_hit.len(), SHARDS, "64 keys should reach all shards");
    }
    let c = client(&server.endpoint);
    let found = read_everything(&c).await;
    verify(ROUNDS, &all_acked, &found);
    drop(server);
    eprintln!("crash test took {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(120));
}
