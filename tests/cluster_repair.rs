//! Cluster mode's self-repair, seen from JetStream itself: a shard left closed by a node that
//! died mid-reshard is reopened by the next put once the grace is over (and not before: a
//! reshard in progress is not undone), and the catalogue keeps no key of a deleted stream or
//! of a finished subscription. Two kinesd nodes over the test process's nats-server, in a
//! namespace of the test's own; the tests break and inspect the layout with async-nats.

mod common;

use async_nats::jetstream::{self, kv};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;
use common::{client, whole_second_clock};
use futures_util::StreamExt;
use kinesd::{Clock, Config, ManualClock, Server};
use shard_store::jetstream::JetStreamOptions;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const GRACE_MS: i64 = 1_000;

struct Pair {
    ns: String,
    first: Server,
    second: Server,
    clock: ManualClock,
    js: jetstream::Context,
    kv: kv::Store,
}

/// Two nodes on a fresh namespace, with a short heal grace; `None` without nats-server.
async fn pair() -> Option<Pair> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if !common::cluster::available() {
        return None;
    }
    let url = common::nats::url()?;
    let ns = format!(
        "r{}n{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let config = Config {
        nats: Some(JetStreamOptions {
            urls: vec![url.clone()],
            replicas: Some(1),
            namespace: ns.clone(),
            ..JetStreamOptions::default()
        }),
        reshard_heal_grace_ms: GRACE_MS,
        ..Config::default()
    };
    let clock = whole_second_clock();
    let addr = "127.0.0.1:0".parse().unwrap();
    let first = Server::start(config.clone(), Arc::new(clock.clone()), addr)
        .await
        .unwrap();
    let second = Server::start(config, Arc::new(clock.clone()), addr)
        .await
        .unwrap();
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let kv = js.get_key_value(format!("{ns}_catalog")).await.unwrap();
    Some(Pair {
        ns,
        first,
        second,
        clock,
        js,
        kv,
    })
}

impl Pair {
    fn clients(&self) -> (Client, Client) {
        (
            client(&self.first.endpoint()),
            client(&self.second.endpoint()),
        )
    }

    fn stream_id(&self, name: &str) -> u64 {
        self.first.registry().lookup(name).unwrap().id
    }

    /// What a reshard's close does, without the document that should follow it: the node
    /// "dies" right after.
    async fn close_behind_the_catalogue(&self, id: u64, shard: u32, at_ms: i64) {
        let name = format!("{}_{id}_{shard}", self.ns);
        let mut stream = self.js.get_stream(&name).await.unwrap();
        let mut config = stream.info().await.unwrap().config.clone();
        config.subjects = vec![format!("{}.closed.{id}.{shard}", self.ns)];
        config
            .metadata
            .insert("kinesd-closed".into(), at_ms.to_string());
        self.js.update_stream(config).await.unwrap();
    }

    async fn closed_mark(&self, id: u64, shard: u32) -> Option<String> {
        let name = format!("{}_{id}_{shard}", self.ns);
        let mut stream = self.js.get_stream(&name).await.unwrap();
        let info = stream.info().await.unwrap();
        info.config.metadata.get("kinesd-closed").cloned()
    }

    async fn keys(&self) -> Vec<String> {
        let mut keys = self.kv.keys().await.unwrap();
        let mut all = Vec::new();
        while let Some(key) = keys.next().await {
            all.push(key.unwrap());
        }
        all
    }
}

async fn put(c: &Client, stream: &str, key: &str, data: &str) -> Result<String, String> {
    c.put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(Blob::new(data.as_bytes()))
        .send()
        .await
        .map(|o| o.shard_id)
        .map_err(|e| format!("{e:?}"))
}

async fn read_all(c: &Client, stream: &str, shard: &str) -> Vec<String> {
    let mut iterator = c
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator;
    let mut data = Vec::new();
    while let Some(it) = iterator {
        let out = c.get_records().shard_iterator(it).send().await.unwrap();
        let batch: Vec<String> = out
            .records
            .iter()
            .map(|r| String::from_utf8(r.data.as_ref().to_vec()).unwrap())
            .collect();
        let done = batch.is_empty();
        data.extend(batch);
        iterator = out.next_shard_iterator;
        if done {
            break;
        }
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_orphaned_by_a_dead_node_heals_after_the_grace() {
    let Some(p) = pair().await else { return };
    let (a, b) = p.clients();
    a.create_stream()
        .stream_name("orphan")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    put(&a, "orphan", "k", "before").await.unwrap();
    let id = p.stream_id("orphan");
    let revision =
        p.kv.entry(format!("stream.{id}"))
            .await
            .unwrap()
            .unwrap()
            .revision;
    // A node closed shard 0 for a reshard planned on `revision`, and died before storing it.
    p.close_behind_the_catalogue(id, 0, p.clock.now_ms()).await;
    p.clock.advance_ms(GRACE_MS + 1);
    // The next put, through the other node, reopens the shard and lands in it.
    let shard = put(&b, "orphan", "k", "after").await.unwrap();
    assert_eq!(shard, "shardId-000000000000");
    assert_eq!(p.closed_mark(id, 0).await, None, "the shard is open again");
    assert_eq!(read_all(&a, "orphan", &shard).await, ["before", "after"]);
    assert_eq!(read_all(&b, "orphan", &shard).await, ["before", "after"]);
    // The heal fenced the dead reshard: a document planned on the old revision cannot be
    // stored any more.
    let doc = p.kv.entry(format!("stream.{id}")).await.unwrap().unwrap();
    assert!(doc.revision > revision);
    let late =
        p.kv.update(format!("stream.{id}"), doc.value.clone(), revision)
            .await;
    assert!(
        late.is_err(),
        "a reshard planned before the heal cannot be stored"
    );
    // Both nodes write to it, and the shard still splits as usual.
    put(&a, "orphan", "k", "again").await.unwrap();
    a.split_shard()
        .stream_name("orphan")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .unwrap();
    assert!(p.closed_mark(id, 0).await.is_some());
    let child = put(&b, "orphan", "k", "child").await.unwrap();
    assert_ne!(child, "shardId-000000000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reshard_within_the_grace_is_not_undone() {
    let Some(p) = pair().await else { return };
    let (a, b) = p.clients();
    a.create_stream()
        .stream_name("slow")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    put(&a, "slow", "k", "before").await.unwrap();
    let id = p.stream_id("slow");
    // A reshard is under way: shard 0 is closed, its document not stored yet.
    let closed_at = p.clock.now_ms();
    p.close_behind_the_catalogue(id, 0, closed_at).await;
    p.clock.advance_ms(GRACE_MS - 100);
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { put(&b, "slow", "k", "during").await }
    });
    // The put waits (several heal checks pass) and leaves the close alone.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(!waiting.is_finished(), "the put waits for the reshard");
    assert_eq!(p.closed_mark(id, 0).await, Some(closed_at.to_string()));
    // The reshard completes (here: through the API; it closes the shard again and stores
    // its document): the waiting put goes to a child.
    a.split_shard()
        .stream_name("slow")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .unwrap();
    let shard = waiting.await.unwrap().unwrap();
    assert_ne!(shard, "shardId-000000000000");
    assert_eq!(
        read_all(&a, "slow", "shardId-000000000000").await,
        ["before"]
    );
    assert_eq!(read_all(&a, "slow", &shard).await, ["during"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_stream_and_consumer_leave_no_key_behind() {
    let Some(p) = pair().await else { return };
    let (a, b) = p.clients();
    a.create_stream()
        .stream_name("doomed")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    let id = p.stream_id("doomed");
    for i in 0..10 {
        put(&b, "doomed", &format!("k{i}"), "x").await.unwrap();
    }
    let stream_arn = a
        .describe_stream_summary()
        .stream_name("doomed")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_arn;
    let consumer_arn = a
        .register_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("c")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
        .consumer_arn;
    // A subscription's lease on each shard (as SubscribeToShard takes them).
    for shard in 0..2 {
        p.second
            .registry()
            .claim_subscription(&consumer_arn, shard)
            .await
            .unwrap();
    }
    let keys = p.keys().await;
    let lease = |k: &String| k.starts_with("lease.");
    assert_eq!(keys.iter().filter(|k| lease(k)).count(), 2, "{keys:?}");
    // A retention pass while the subscriptions may still run keeps their leases.
    p.first.registry().enforce_retention_fully().await.unwrap();
    assert_eq!(p.keys().await.iter().filter(|k| lease(k)).count(), 2);
    // Retention trims every record: the shards' last positions are noted.
    p.clock.advance_ms(25 * 3_600_000);
    p.first.registry().enforce_retention_fully().await.unwrap();
    let keys = p.keys().await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("trimmed.{id}."))),
        "{keys:?}"
    );
    a.deregister_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .unwrap();
    a.delete_stream()
        .stream_name("doomed")
        .send()
        .await
        .unwrap();
    // Past every grace, from either node, twice (idempotent).
    for registry in [p.first.registry(), p.second.registry()] {
        registry.enforce_retention_fully().await.unwrap();
    }
    p.clock
        .advance_ms(shard_store::jetstream::TOMBSTONE_GRACE_MS + 1);
    for registry in [p.second.registry(), p.first.registry(), p.second.registry()] {
        registry.enforce_retention_fully().await.unwrap();
    }
    let keys = p.keys().await;
    let theirs: Vec<&String> = keys
        .iter()
        .filter(|k| {
            k.ends_with(&format!(".{id}"))
                || k.contains(&format!(".{id}."))
                || k.starts_with("lease.")
                || *k == "name.doomed"
        })
        .collect();
    assert!(theirs.is_empty(), "left behind: {theirs:?} of {keys:?}");
    // Erased, not just marked deleted: the bucket keeps no purge marker either.
    for key in [format!("deleted.{id}"), format!("trimmed.{id}.0")] {
        assert!(p.kv.entry(&key).await.unwrap().is_none(), "{key}");
    }
    // And no shard stream.
    let mut names = p.js.stream_names();
    while let Some(name) = names.next().await {
        let name = name.unwrap();
        assert!(!name.starts_with(&format!("{}_{id}_", p.ns)), "{name}");
    }
}
