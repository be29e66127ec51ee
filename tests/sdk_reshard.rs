//! Resharding through the SDK: SplitShard, MergeShards, UpdateShardCount, their errors, and a
//! reshard-under-load test with a KCL-style reader that follows ChildShards.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ScalingType, Shard, ShardIteratorType};
use aws_sdk_kinesis::Client;
use common::{client, start};
use kinesd::Config;
use std::collections::{BTreeMap, HashMap, HashSet};

async fn create(c: &Client, name: &str, shards: i32) {
    c.create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
}

async fn shards(c: &Client, name: &str) -> Vec<Shard> {
    c.list_shards()
        .stream_name(name)
        .send()
        .await
        .unwrap()
        .shards
        .unwrap_or_default()
}

fn open(shards: &[Shard]) -> Vec<&Shard> {
    shards
        .iter()
        .filter(|s| {
            s.sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_none()
        })
        .collect()
}

fn range(s: &Shard) -> (u128, u128) {
    let r = s.hash_key_range().unwrap();
    (
        r.starting_hash_key().parse().unwrap(),
        r.ending_hash_key().parse().unwrap(),
    )
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn split_then_merge_keeps_lineage_and_hash_space() {
        let (server, _clock) = start(Config::default()).await;
        let c = client(&server.endpoint());
        create(&c, "s", 1).await;
        let before = c
            .put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap();
        let mid = (1u128 << 127).to_string();
        c.split_shard()
            .stream_name("s")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key(&mid)
            .send()
            .await
            .unwrap();
        let all = shards(&c, "s").await;
        assert_eq!(all.len(), 3);
        let parent = &all[0];
        let ending = parent
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .expect("parent closed");
        assert!(ending >= before.sequence_number());
        assert_eq!(all[1].parent_shard_id(), Some("shardId-000000000000"));
        assert_eq!(all[2].parent_shard_id(), Some("shardId-000000000000"));
        assert_eq!(range(&all[1]), (0, (1u128 << 127) - 1));
        assert_eq!(range(&all[2]), (1u128 << 127, u128::MAX));
        // Children's numbers sort above the parent's.
        assert!(
            all[1]
                .sequence_number_range()
                .unwrap()
                .starting_sequence_number()
                > ending,
            "child starts above parent"
        );
        // Writes now land only in open shards.
        let after = c
            .put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("y"))
            .send()
            .await
            .unwrap();
        assert_ne!(after.shard_id(), "shardId-000000000000");

        // Splitting a closed shard is refused.
        let err = c
            .split_shard()
            .stream_name("s")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key(&mid)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_argument_exception(), "{err:?}");
        assert_eq!(
            err.meta().message(),
            Some("Shard shardId-000000000000 in stream s under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.")
        );

        // Merge the two children back.
        c.merge_shards()
            .stream_name("s")
            .shard_to_merge("shardId-000000000001")
            .adjacent_shard_to_merge("shardId-000000000002")
            .send()
            .await
            .unwrap();
        let all = shards(&c, "s").await;
        assert_eq!(all.len(), 4);
        assert_eq!(all[3].parent_shard_id(), Some("shardId-000000000001"));
        assert_eq!(
            all[3].adjacent_parent_shard_id(),
            Some("shardId-000000000002")
        );
        assert_eq!(range(&all[3]), (0, u128::MAX));
        assert_eq!(open(&all).len(), 1);

        // AT_LATEST lists only the open shard.
        let latest = c
            .list_shards()
            .stream_name("s")
            .shard_filter(
                aws_sdk_kinesis::types::ShardFilter::builder()
                    .r#type(aws_sdk_kinesis::types::ShardFilterType::AtLatest)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(latest.shards().len(), 1);
        assert_eq!(latest.shards()[0].shard_id(), "shardId-000000000003");

        // The closed parent is still readable, and its end carries ChildShards.
        let it = c
            .get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let out = c.get_records().shard_iterator(it).send().await.unwrap();
        assert_eq!(out.records().len(), 1);
        assert!(out.next_shard_iterator().is_none());
        let children: Vec<&str> = out.child_shards().iter().map(|c| c.shard_id()).collect();
        assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
        assert_eq!(
            out.child_shards()[0].parent_shards(),
            ["shardId-000000000000"]
        );
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reshard_errors_match_aws() {
        let (server, _clock) = start(Config {
            shard_limit: 7,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        create(&c, "s", 3).await;
        let err = c
            .merge_shards()
            .stream_name("s")
            .shard_to_merge("shardId-000000000000")
            .adjacent_shard_to_merge("shardId-000000000002")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            err.meta().message(),
            Some("Shards shardId-000000000000 and shardId-000000000002 in stream s under account 000000000000 are not an adjacent pair of shards eligible for merging")
        );
        let err = c
            .split_shard()
            .stream_name("s")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key("1")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_argument_exception());
        assert!(err
            .meta()
            .message()
            .unwrap()
            .starts_with("NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream s under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0"));
        let err = c
            .split_shard()
            .stream_name("s")
            .shard_to_split("shardId-000000000009")
            .new_starting_hash_key("100")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_not_found_exception());
        assert_eq!(
            err.meta().message(),
            Some("Could not find shard shardId-000000000009 in stream s under account 000000000000.")
        );
        let err = c
            .update_shard_count()
            .stream_name("s")
            .target_shard_count(7)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_limit_exceeded_exception(), "{err:?}");
        let err = c
            .update_shard_count()
            .stream_name("s")
            .target_shard_count(1)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            err.meta().message(),
            Some("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 3, Target shard count: 1")
        );
        // On-demand streams cannot be resharded by hand.
        c.create_stream().stream_name("od").send().await.unwrap();
        let err = c
            .split_shard()
            .stream_name("od")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key("100")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.meta().code(), Some("ValidationException"));
        assert_eq!(
            err.meta().message(),
            Some("Request is invalid. Stream od under account 000000000000 is in On-Demand mode.")
        );
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_shard_count_is_uniform_with_intermediate_shards() {
        let (server, clock) = start(Config {
            shard_limit: 1000,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        create(&c, "u", 5).await;
        let out = c
            .update_shard_count()
            .stream_name("u")
            .target_shard_count(3)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap();
        assert_eq!(out.current_shard_count(), Some(5));
        assert_eq!(out.target_shard_count(), Some(3));
        let all = shards(&c, "u").await;
        let mut open_ranges: Vec<(u128, u128)> = open(&all).iter().map(|s| range(s)).collect();
        open_ranges.sort();
        assert_eq!(open_ranges, kinesd_even(3));
        // Up again to 6, then count scalings: the 11th in 24 h is refused.
        c.update_shard_count()
            .stream_name("u")
            .target_shard_count(6)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap();
        let all = shards(&c, "u").await;
        let mut open_ranges: Vec<(u128, u128)> = open(&all).iter().map(|s| range(s)).collect();
        open_ranges.sort();
        assert_eq!(open_ranges, kinesd_even(6));
        let mut n = 6;
        for _ in 0..8 {
            n = if n == 6 { 4 } else { 6 };
            c.update_shard_count()
                .stream_name("u")
                .target_shard_count(n)
                .scaling_type(ScalingType::UniformScaling)
                .send()
                .await
                .unwrap();
        }
        let err = c
            .update_shard_count()
            .stream_name("u")
            .target_shard_count(if n == 6 { 4 } else { 6 })
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_limit_exceeded_exception(), "{err:?}");
        clock.advance_ms(24 * 3_600_000);
        c.update_shard_count()
            .stream_name("u")
            .target_shard_count(if n == 6 { 4 } else { 6 })
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap();
    }
}

fn kinesd_even(n: u128) -> Vec<(u128, u128)> {
    let step = if n == 1 {
        0
    } else {
        u128::MAX / n + u128::from(u128::MAX % n == n - 1)
    };
    (0..n)
        .map(|i| {
            let start = step * i;
            let end = if i + 1 == n {
                u128::MAX
            } else {
                step * (i + 1) - 1
            };
            (start, end)
        })
        .collect()
}

both_backends! {
    /// Writers keep writing while the stream is split, merged and rescaled; a reader that finishes
    /// parents before children (as KCL does) sees every acknowledged record exactly once, and each
    /// partition key's records in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resharding_under_load_loses_nothing_and_keeps_key_order() {
        let (server, _clock) = start(Config {
            shard_limit: 1000,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        create(&c, "load", 2).await;
        let writers = 4;
        let per_writer = 150;
        let mut tasks = Vec::new();
        for w in 0..writers {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..per_writer {
                    let key = format!("w{w}-k{}", n % 5);
                    let data = format!("{key}:{n}");
                    let out = c
                        .put_record()
                        .stream_name("load")
                        .partition_key(&key)
                        .data(Blob::new(data.clone()))
                        .send()
                        .await
                        .unwrap();
                    acked.push((out.sequence_number().to_string(), data));
                }
                acked
            }));
        }
        // Reshard while they write.
        let mid = (1u128 << 126).to_string();
        c.split_shard()
            .stream_name("load")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key(&mid)
            .send()
            .await
            .unwrap();
        tokio::task::yield_now().await;
        c.merge_shards()
            .stream_name("load")
            .shard_to_merge("shardId-000000000002")
            .adjacent_shard_to_merge("shardId-000000000003")
            .send()
            .await
            .unwrap();
        c.update_shard_count()
            .stream_name("load")
            .target_shard_count(3)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap();
        let mut acked = HashMap::new();
        for t in tasks {
            for (seq, data) in t.await.unwrap() {
                acked.insert(seq, data);
            }
        }
        assert_eq!(acked.len(), writers * per_writer);

        // KCL-style: start at the roots, finish all parents of a shard before reading it.
        let all = shards(&c, "load").await;
        let parents: HashMap<String, Vec<String>> = all
            .iter()
            .map(|s| {
                let ps = s
                    .parent_shard_id()
                    .into_iter()
                    .chain(s.adjacent_parent_shard_id())
                    .map(str::to_string)
                    .collect();
                (s.shard_id().to_string(), ps)
            })
            .collect();
        let mut done: HashSet<String> = HashSet::new();
        let mut queue: Vec<String> = all
            .iter()
            .filter(|s| s.parent_shard_id().is_none())
            .map(|s| s.shard_id().to_string())
            .collect();
        let mut per_key: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut seen = HashSet::new();
        while let Some(shard) = queue.pop() {
            if done.contains(&shard) {
                continue;
            }
            let mut it = c
                .get_shard_iterator()
                .stream_name("load")
                .shard_id(&shard)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator;
            let mut children = Vec::new();
            let mut empty_reads = 0;
            while let Some(i) = it {
                let out = c.get_records().shard_iterator(i).send().await.unwrap();
                if out.records().is_empty() {
                    empty_reads += 1;
                    assert!(
                        empty_reads < 50,
                        "open shard {shard} never ends? it should be drained"
                    );
                }
                for r in out.records() {
                    assert!(seen.insert(r.sequence_number().to_string()), "duplicate");
                    let text = String::from_utf8(r.data().as_ref().to_vec()).unwrap();
                    let (key, n) = text.split_once(':').unwrap();
                    assert_eq!(Some(key), r.partition_key());
                    per_key
                        .entry(key.to_string())
                        .or_default()
                        .push(n.parse().unwrap());
                }
                children = out
                    .child_shards()
                    .iter()
                    .map(|c| c.shard_id().to_string())
                    .collect();
                it = out.next_shard_iterator().map(str::to_string);
                // An open shard has no end: stop once it is drained.
                if out.records().is_empty() && out.millis_behind_latest() == Some(0) && it.is_some() {
                    break;
                }
            }
            done.insert(shard.clone());
            for child in children {
                if parents[&child].iter().all(|p| done.contains(p)) {
                    queue.push(child);
                }
            }
        }
        assert_eq!(
            seen.len(),
            acked.len(),
            "every acknowledged record read once"
        );
        for seq in acked.keys() {
            assert!(seen.contains(seq), "acknowledged {seq} missing");
        }
        for (key, ns) in per_key {
            let mut sorted = ns.clone();
            sorted.sort();
            assert_eq!(ns, sorted, "records of {key} out of order");
        }
    }
}
