//! DescribeStream, ListStreams and ListShards paging, ListShards filters, and their argument errors
//! and token expiry.

use super::*;

fn big_config() -> Config {
    Config {
        shard_limit: 10_000,
        ..Config::default()
    }
}

/// floor(2^128 / n) · i, as CreateStream splits the hash space.
fn even_start(n: u128, i: u128) -> u128 {
    // 2^128 / n == (u128::MAX / n) unless n divides 2^128 exactly (powers of two).
    let step = if n.is_power_of_two() {
        if n == 1 {
            0
        } else {
            1u128 << (128 - n.trailing_zeros())
        }
    } else {
        u128::MAX / n
    };
    step * i
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn describe_stream_pages_shards() {
        let (server, _clock, client) = setup(big_config()).await;
        create(&client, "seven", 7).await;
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let out = client
                .describe_stream()
                .stream_name("seven")
                .limit(3)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .unwrap();
            let d = out.stream_description().unwrap();
            pages.push((d.shards().len(), d.has_more_shards()));
            seen.extend(d.shards().iter().map(|s| s.shard_id().to_string()));
            if !d.has_more_shards() {
                break;
            }
            start = Some(d.shards().last().unwrap().shard_id().to_string());
        }
        assert_eq!(pages, [(3, true), (3, true), (1, false)]);
        assert_eq!(seen, (0..7).map(shard_id).collect::<Vec<_>>());

        // Limit equal to the remaining count: no more shards.
        let out = client
            .describe_stream()
            .stream_name("seven")
            .limit(7)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_description().unwrap().shards().len(), 7);
        assert!(!out.stream_description().unwrap().has_more_shards());
        // Starting after the last shard: an empty page.
        let out = client
            .describe_stream()
            .stream_name("seven")
            .exclusive_start_shard_id(shard_id(6))
            .send()
            .await
            .unwrap();
        assert!(out.stream_description().unwrap().shards().is_empty());
        assert!(!out.stream_description().unwrap().has_more_shards());

        // The default (and maximum) page is 100 shards.
        create(&client, "big", 150).await;
        let out = client
            .describe_stream()
            .stream_name("big")
            .send()
            .await
            .unwrap();
        let d = out.stream_description().unwrap();
        assert_eq!(d.shards().len(), 100);
        assert!(d.has_more_shards());
        assert_eq!(d.shards()[99].shard_id(), shard_id(99));
        let out = client
            .describe_stream()
            .stream_name("big")
            .limit(1000)
            .exclusive_start_shard_id(shard_id(99))
            .send()
            .await
            .unwrap();
        let d = out.stream_description().unwrap();
        assert_eq!(d.shards().len(), 50);
        assert!(!d.has_more_shards());
        assert_eq!(d.shards()[0].shard_id(), shard_id(100));
        server.shutdown().await;
    }
}

async fn create_many(client: &Client, names: &[String]) {
    let mut set = tokio::task::JoinSet::new();
    for chunk in names.chunks(names.len().div_ceil(16)) {
        let client = client.clone();
        let chunk = chunk.to_vec();
        set.spawn(async move {
            for name in chunk {
                create(&client, &name, 1).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_streams_pages_250_streams() {
        let config = Config {
            durability: kinesd::Durability::Relaxed,
            ..big_config()
        };
        let (server, _clock, client) = setup(config).await;
        let names: Vec<String> = (0..250).map(|i| format!("stream-{i:03}")).collect();
        create_many(&client, &names).await;

        // The SDK paginator follows NextToken to the end: 100 + 100 + 50.
        let pages = client
            .list_streams()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            pages
                .iter()
                .map(|p| (p.stream_names().len(), p.has_more_streams()))
                .collect::<Vec<_>>(),
            [(100, true), (100, true), (50, false)]
        );
        assert!(pages[2].next_token().is_none());
        let all: Vec<String> = pages
            .iter()
            .flat_map(|p| p.stream_names().iter().cloned())
            .collect();
        assert_eq!(all, names);
        let summaries: Vec<_> = pages.iter().flat_map(|p| p.stream_summaries()).collect();
        assert_eq!(summaries.len(), 250);
        for (s, name) in summaries.iter().zip(&names) {
            assert_eq!(s.stream_name(), name);
            assert_eq!(s.stream_arn(), arn(name));
            assert_eq!(s.stream_status(), &StreamStatus::Active);
            assert_eq!(
                s.stream_mode_details().unwrap().stream_mode(),
                &StreamMode::Provisioned
            );
            assert!(s.stream_creation_timestamp().is_some());
        }

        // Manually with NextToken and a small Limit.
        let mut token: Option<String> = None;
        let mut manual = Vec::new();
        let mut calls = 0;
        loop {
            let out = client
                .list_streams()
                .limit(30)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            calls += 1;
            manual.extend(out.stream_names().iter().cloned());
            assert_eq!(out.has_more_streams(), out.next_token().is_some());
            match out.next_token() {
                Some(t) => {
                    assert_eq!(out.stream_names().len(), 30);
                    token = Some(t.to_string());
                }
                None => break,
            }
        }
        assert_eq!(calls, 9);
        assert_eq!(manual, names);

        // Manually with ExclusiveStartStreamName (the older style).
        let mut start: Option<String> = None;
        let mut manual = Vec::new();
        loop {
            let out = client
                .list_streams()
                .limit(70)
                .set_exclusive_start_stream_name(start.clone())
                .send()
                .await
                .unwrap();
            manual.extend(out.stream_names().iter().cloned());
            if !out.has_more_streams() {
                break;
            }
            start = manual.last().cloned();
        }
        assert_eq!(manual, names);

        // A start name between existing names, and a Limit above the 100 maximum.
        let out = client
            .list_streams()
            .exclusive_start_stream_name("stream-1")
            .limit(1000)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_names().len(), 100);
        assert_eq!(out.stream_names()[0], "stream-100");
        assert!(out.has_more_streams());

        let (code, msg) = failure(
            client
                .list_streams()
                .next_token(token_of(&pages[0]))
                .exclusive_start_stream_name("stream-000")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "NextToken and ExclusiveStartStreamName cannot be provided together."
        );
        server.shutdown().await;
    }
}

fn token_of(out: &aws_sdk_kinesis::operation::list_streams::ListStreamsOutput) -> String {
    out.next_token().unwrap().to_string()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_pages_600_shards() {
        let (server, _clock, client) = setup(big_config()).await;
        create(&client, "six", 600).await;

        let mut all = Vec::new();
        let mut sizes = Vec::new();
        let out = client
            .list_shards()
            .stream_name("six")
            .max_results(250)
            .send()
            .await
            .unwrap();
        sizes.push(out.shards().len());
        all.extend(out.shards().iter().cloned());
        let mut token = out.next_token().map(str::to_string);
        while let Some(t) = token {
            let out = client
                .list_shards()
                .next_token(t)
                .max_results(250)
                .send()
                .await
                .unwrap();
            sizes.push(out.shards().len());
            all.extend(out.shards().iter().cloned());
            token = out.next_token().map(str::to_string);
        }
        assert_eq!(sizes, [250, 250, 100]);
        assert_eq!(
            all.iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            (0..600).map(shard_id).collect::<Vec<_>>()
        );
        // The ranges tile the hash space exactly, each starting at floor(2^128/600)·i.
        let mut expected_start = 0u128;
        for (i, s) in all.iter().enumerate() {
            let r = s.hash_key_range().unwrap();
            let start: u128 = r.starting_hash_key().parse().unwrap();
            let end: u128 = r.ending_hash_key().parse().unwrap();
            assert_eq!(start, expected_start, "shard {i}");
            assert_eq!(start, even_start(600, i as u128), "shard {i}");
            assert!(end >= start);
            expected_start = end.wrapping_add(1);
        }
        assert_eq!(
            all.last()
                .unwrap()
                .hash_key_range()
                .unwrap()
                .ending_hash_key(),
            MAX_HASH
        );

        // The default page holds up to 1000 shards, so 600 come in one page.
        let out = client
            .list_shards()
            .stream_name("six")
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 600);
        assert_eq!(out.next_token(), None);
        // MaxResults above 1000 still answers at most 1000.
        create(&client, "twelve", 1200).await;
        let out = client
            .list_shards()
            .stream_name("twelve")
            .max_results(5000)
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 1000);
        let out = client
            .list_shards()
            .next_token(out.next_token().expect("a second page"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 200);
        assert_eq!(out.shards()[0].shard_id(), shard_id(1000));
        assert_eq!(out.next_token(), None);

        // ExclusiveStartShardId pages too.
        let out = client
            .list_shards()
            .stream_name("six")
            .exclusive_start_shard_id(shard_id(597))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            [shard_id(598), shard_id(599)]
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_argument_errors_and_token_expiry() {
        let (server, clock, client) = setup(Config::default()).await;
        create(&client, "s", 5).await;
        let out = client
            .list_shards()
            .stream_name("s")
            .max_results(2)
            .send()
            .await
            .unwrap();
        let token = out.next_token().unwrap().to_string();

        let (code, msg) = failure(
            client
                .list_shards()
                .next_token(&token)
                .stream_name("s")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(msg, "NextToken and StreamName cannot be provided together.");

        let (code, msg) = failure(
            client
                .list_shards()
                .next_token(&token)
                .shard_filter(
                    ShardFilter::builder()
                        .r#type(ShardFilterType::AtLatest)
                        .build()
                        .unwrap(),
                )
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "NextToken and ShardFilter cannot be provided together."
        );

        let (code, _) = failure(
            client
                .list_shards()
                .next_token("bm90IGEgdG9rZW4=")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            failure(client.list_shards().stream_name("nope").send().await),
            not_found("nope")
        );

        // The token lives 300 s: still valid at exactly 300 s, expired after.
        clock.advance_ms(300_000);
        let out = client
            .list_shards()
            .next_token(&token)
            .max_results(2)
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect::<Vec<_>>(),
            [shard_id(2), shard_id(3)]
        );
        let fresh = out.next_token().unwrap().to_string();
        clock.advance_ms(1);
        let err = client
            .list_shards()
            .next_token(&token)
            .send()
            .await
            .expect_err("expired")
            .into_service_error();
        assert!(err.is_expired_next_token_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some(format!("The NextToken has expired. NextToken: {token}").as_str())
        );
        // The token from the later page is still good.
        let out = client
            .list_shards()
            .next_token(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(out.shards().len(), 1);
        assert_eq!(out.shards()[0].shard_id(), shard_id(4));
        assert_eq!(out.next_token(), None);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_shards_filters_on_a_stream_without_resharding() {
        let (server, clock, client) = setup(Config::default()).await;
        let created = clock.now_ms();
        create(&client, "s", 4).await;
        clock.advance_ms(60_000);
        let all: Vec<String> = (0..4).map(shard_id).collect();

        let ids = |out: aws_sdk_kinesis::operation::list_shards::ListShardsOutput| -> Vec<String> {
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_string())
                .collect()
        };
        let filter = |t: ShardFilterType| ShardFilter::builder().r#type(t);
        for t in [
            ShardFilterType::AtLatest,
            ShardFilterType::AtTrimHorizon,
            ShardFilterType::FromTrimHorizon,
        ] {
            let out = client
                .list_shards()
                .stream_name("s")
                .shard_filter(filter(t.clone()).build().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(ids(out), all, "{t:?}");
        }
        let out = client
            .list_shards()
            .stream_name("s")
            .shard_filter(
                filter(ShardFilterType::AfterShardId)
                    .shard_id(shard_id(1))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(ids(out), [shard_id(2), shard_id(3)]);
        for ts in [created, created + 30_000] {
            for t in [ShardFilterType::AtTimestamp, ShardFilterType::FromTimestamp] {
                let out = client
                    .list_shards()
                    .stream_name("s")
                    .shard_filter(
                        filter(t.clone())
                            .timestamp(DateTime::from_millis(ts))
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(ids(out), all, "{t:?} at {ts}");
            }
        }
        // With a filter, MaxResults still pages and the token carries the filter.
        let out = client
            .list_shards()
            .stream_name("s")
            .max_results(3)
            .shard_filter(filter(ShardFilterType::AtLatest).build().unwrap())
            .send()
            .await
            .unwrap();
        let token = out.next_token().unwrap().to_string();
        assert_eq!(ids(out), all[..3]);
        let out = client.list_shards().next_token(token).send().await.unwrap();
        assert_eq!(ids(out), all[3..]);
        server.shutdown().await;
    }
}
