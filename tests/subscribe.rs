//! SubscribeToShard through the SDK over HTTP/1.1: the initial response, live pushes, the
//! idle heartbeat, take-over, 5-minute expiry (injected clock) and the end of a closed shard.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition, SubscribeToShardEventStream};
use aws_sdk_kinesis::Client;
use common::{client, start};
use kinesd::Config;
use std::time::{Duration, Instant};

async fn setup(c: &Client, shards: i32) -> String {
    c.create_stream()
        .stream_name("s")
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    let arn = c
        .describe_stream_summary()
        .stream_name("s")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_arn
        .clone();
    c.register_stream_consumer()
        .stream_arn(arn)
        .consumer_name("c")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
        .consumer_arn
}

fn position(t: ShardIteratorType) -> StartingPosition {
    StartingPosition::builder().r#type(t).build().unwrap()
}

type Events = aws_sdk_kinesis::primitives::event_stream::EventReceiver<
    SubscribeToShardEventStream,
    aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError,
>;

/// Subscribes `consumer` to the first shard from `start`.
async fn subscribe(c: &Client, consumer: &str, start: ShardIteratorType) -> Events {
    c.subscribe_to_shard()
        .consumer_arn(consumer)
        .shard_id("shardId-000000000000")
        .starting_position(position(start))
        .send()
        .await
        .unwrap()
        .event_stream
}

async fn next_event(
    rx: &mut aws_sdk_kinesis::primitives::event_stream::EventReceiver<
        SubscribeToShardEventStream,
        aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError,
    >,
) -> Option<aws_sdk_kinesis::types::SubscribeToShardEvent> {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
    {
        Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(e))) => Some(e),
        Ok(Some(other)) => panic!("unexpected event {other:?}"),
        Ok(None) => None,
        Err(e) => panic!("stream error {e:?}"),
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_are_pushed_live_and_continuation_resumes() {
        let (server, _clock) = start(Config {
            subscribe_heartbeat_ms: 200,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        let consumer = setup(&c, 1).await;
        c.put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("before"))
            .send()
            .await
            .unwrap();
        let mut rx = subscribe(&c, &consumer, ShardIteratorType::TrimHorizon).await;
        let first = next_event(&mut rx).await.unwrap();
        assert_eq!(first.records().len(), 1);
        assert_eq!(first.records()[0].data().as_ref(), b"before");
        assert_eq!(first.millis_behind_latest(), 0);
        // An idle stream still sends events, with a continuation that resumes after the record.
        let idle = next_event(&mut rx).await.unwrap();
        assert!(idle.records().is_empty());
        assert!(idle.continuation_sequence_number() >= first.records()[0].sequence_number());
        // A record put now is pushed without polling.
        let put_at = Instant::now();
        let put = c
            .put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("live"))
            .send()
            .await
            .unwrap();
        let pushed = loop {
            let e = next_event(&mut rx).await.unwrap();
            if !e.records().is_empty() {
                break e;
            }
        };
        assert!(put_at.elapsed() < Duration::from_secs(5));
        assert_eq!(pushed.records()[0].sequence_number(), put.sequence_number());
        assert_eq!(pushed.continuation_sequence_number(), put.sequence_number());
    }
}

both_backends! {
    /// Only the push on write can deliver the record here: the idle heartbeat (which also re-reads
    /// the shard) is a minute away, far beyond the ten seconds `next_event` waits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_put_is_pushed_at_once_not_found_by_the_heartbeat() {
        let (server, _clock) = start(Config {
            subscribe_heartbeat_ms: 60_000,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        let consumer = setup(&c, 1).await;
        let mut rx = subscribe(&c, &consumer, ShardIteratorType::Latest).await;
        // The first event goes out at once, empty: the subscription is now waiting.
        let first = next_event(&mut rx).await.unwrap();
        assert!(first.records().is_empty());
        for i in 0..3 {
            let data = format!("pushed {i}");
            let put = c
                .put_record()
                .stream_name("s")
                .partition_key("a")
                .data(Blob::new(data.as_bytes()))
                .send()
                .await
                .unwrap();
            // After an event with records the stream reads on at once, so an empty event may
            // come first; after that, only the push can wake it within `next_event`'s 10 s.
            let pushed = loop {
                let e = next_event(&mut rx).await.expect("the stream is still open");
                if !e.records().is_empty() {
                    break e;
                }
            };
            assert_eq!(pushed.records().len(), 1);
            assert_eq!(pushed.records()[0].data().as_ref(), data.as_bytes());
            assert_eq!(pushed.records()[0].sequence_number(), put.sequence_number());
        }
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn takeover_within_five_seconds_is_refused_then_allowed_and_streams_expire() {
        let (server, clock) = start(Config {
            subscribe_heartbeat_ms: 100,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        let consumer = setup(&c, 1).await;
        let subscribe = || {
            c.subscribe_to_shard()
                .consumer_arn(&consumer)
                .shard_id("shardId-000000000000")
                .starting_position(position(ShardIteratorType::Latest))
                .send()
        };
        let mut first = subscribe().await.unwrap().event_stream;
        next_event(&mut first).await.unwrap();
        let err = subscribe().await.unwrap_err().into_service_error();
        assert!(err.is_resource_in_use_exception(), "{err:?}");
        clock.advance_ms(5_000);
        let mut second = subscribe().await.unwrap().event_stream;
        next_event(&mut second).await.unwrap();
        // The first stream ends with a ResourceInUseException frame.
        let ended = loop {
            match tokio::time::timeout(Duration::from_secs(10), first.recv())
                .await
                .unwrap()
            {
                Ok(Some(_)) => continue,
                Ok(None) => break "closed".to_string(),
                Err(e) => break format!("{e:?}"),
            }
        };
        assert!(ended.contains("ResourceInUse"), "{ended}");
        // Five minutes later (by the clock) the second stream ends by itself.
        clock.advance_ms(300_000);
        let end = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match second.recv().await {
                    Ok(Some(_)) => continue,
                    other => return other.map(|_| ()),
                }
            }
        })
        .await
        .expect("stream ends after five minutes");
        assert!(end.is_ok(), "{end:?}");
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_shard_ends_with_child_shards_and_errors_are_aws_like() {
        let (server, _clock) = start(Config::default()).await;
        let c = client(&server.endpoint());
        let consumer = setup(&c, 1).await;
        c.put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap();
        c.split_shard()
            .stream_name("s")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key((1u128 << 127).to_string())
            .send()
            .await
            .unwrap();
        let mut rx = c
            .subscribe_to_shard()
            .consumer_arn(&consumer)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::TrimHorizon))
            .send()
            .await
            .unwrap()
            .event_stream;
        let mut records = 0;
        let last = loop {
            let e = next_event(&mut rx).await.expect("an event before the end");
            records += e.records().len();
            if !e.child_shards().is_empty() {
                break e;
            }
        };
        assert_eq!(records, 1);
        assert_eq!(last.child_shards().len(), 2);
        assert!(
            next_event(&mut rx).await.is_none(),
            "stream ends after ChildShards"
        );

        // Unknown consumer and unknown shard.
        let err = c
            .subscribe_to_shard()
            .consumer_arn(format!("{consumer}9"))
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_not_found_exception(), "{err:?}");
        let err = c
            .subscribe_to_shard()
            .consumer_arn(&consumer)
            .shard_id("shardId-000000000009")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_not_found_exception(), "{err:?}");
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deregistering_the_consumer_ends_the_stream_with_an_error() {
        let (server, _clock) = start(Config {
            subscribe_heartbeat_ms: 50,
            ..Config::default()
        })
        .await;
        let c = client(&server.endpoint());
        let consumer = setup(&c, 1).await;
        let mut rx = c
            .subscribe_to_shard()
            .consumer_arn(&consumer)
            .shard_id("shardId-000000000000")
            .starting_position(position(ShardIteratorType::Latest))
            .send()
            .await
            .unwrap()
            .event_stream;
        next_event(&mut rx).await.unwrap();
        c.deregister_stream_consumer()
            .consumer_arn(&consumer)
            .send()
            .await
            .unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match rx.recv().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return "closed without error".to_string(),
                    Err(e) => return format!("{e:?}"),
                }
            }
        })
        .await
        .expect("the stream ends");
        assert!(ended.contains("ResourceNotFound"), "{ended}");
    }
}

/// Shutdown ends open subscriptions cleanly instead of holding their connections for the
/// whole grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_subscriptions_at_once() {
    let (server, _clock) = start(Config::default()).await;
    let c = client(&server.endpoint());
    let consumer = setup(&c, 1).await;
    let mut rx = subscribe(&c, &consumer, ShardIteratorType::Latest).await;
    assert!(next_event(&mut rx).await.is_some());
    let began = Instant::now();
    server.shutdown().await;
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown waited {took:?} for a subscription (grace period 5 s)"
    );
    assert!(
        next_event(&mut rx).await.is_none(),
        "the stream ends cleanly"
    );
}
