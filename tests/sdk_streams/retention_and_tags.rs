//! IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod bounds; AddTagsToStream,
//! ListTagsForStream, RemoveTagsFromStream and their limits.

use super::*;

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_period_bounds_and_direction() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 1).await;
        let hours = |c: Client| async move {
            c.describe_stream_summary()
                .stream_name("s")
                .send()
                .await
                .unwrap()
                .stream_description_summary()
                .unwrap()
                .retention_period_hours()
        };
        assert_eq!(hours(client.clone()).await, 24);

        client
            .increase_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(48)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 48);

        let (code, msg) = failure(
            client
                .increase_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(30)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Requested retention period (30 hours) for stream s can not be shorter than existing \
             retention period (48 hours). Use DecreaseRetentionPeriod API."
        );
        let (code, msg) = failure(
            client
                .decrease_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(72)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Requested retention period (72 hours) for stream s can not be longer than existing \
             retention period (48 hours). Use IncreaseRetentionPeriod API."
        );
        let (code, msg) = failure(
            client
                .increase_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(8761)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) \
             is too long."
        );
        let (code, msg) = failure(
            client
                .decrease_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(23)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is \
             too short."
        );
        assert_eq!(hours(client.clone()).await, 48);

        client
            .increase_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(8760)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 8760);
        client
            .decrease_stream_retention_period()
            .stream_name("s")
            .retention_period_hours(24)
            .send()
            .await
            .unwrap();
        assert_eq!(hours(client.clone()).await, 24);
        assert_eq!(
            failure(
                client
                    .increase_stream_retention_period()
                    .stream_name("nope")
                    .retention_period_hours(48)
                    .send()
                    .await
            ),
            not_found("nope")
        );
        server.shutdown().await;
    }
}

async fn tag_list(client: &Client, name: &str) -> Vec<(String, String)> {
    let out = client
        .list_tags_for_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap();
    assert!(!out.has_more_tags());
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tags_add_list_remove_and_limits() {
        let (server, _clock, client) = setup(Config::default()).await;
        client
            .create_stream()
            .stream_name("s")
            .shard_count(1)
            .tags("env", "test")
            .send()
            .await
            .unwrap();
        assert_eq!(tag_list(&client, "s").await, pairs(&[("env", "test")]));

        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("b", "2")
            .tags("a", "1")
            .tags("c", "")
            .send()
            .await
            .unwrap();
        assert_eq!(
            tag_list(&client, "s").await,
            pairs(&[("a", "1"), ("b", "2"), ("c", ""), ("env", "test")])
        );
        // Overwriting a value.
        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("a", "one")
            .send()
            .await
            .unwrap();

        // Limit / HasMoreTags / ExclusiveStartTagKey.
        let out = client
            .list_tags_for_stream()
            .stream_name("s")
            .limit(2)
            .send()
            .await
            .unwrap();
        assert!(out.has_more_tags());
        assert_eq!(
            out.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(out.tags()[0].value(), Some("one"));
        let out = client
            .list_tags_for_stream()
            .stream_name("s")
            .limit(2)
            .exclusive_start_tag_key("b")
            .send()
            .await
            .unwrap();
        assert!(!out.has_more_tags());
        assert_eq!(
            out.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
            ["c", "env"]
        );

        client
            .remove_tags_from_stream()
            .stream_name("s")
            .tag_keys("b")
            .tag_keys("env")
            .tag_keys("absent")
            .send()
            .await
            .unwrap();
        assert_eq!(
            tag_list(&client, "s").await,
            pairs(&[("a", "one"), ("c", "")])
        );

        // Up to 50 tags in total; more is refused and changes nothing.
        let mut add = client.add_tags_to_stream().stream_name("s");
        for i in 0..48 {
            add = add.tags(format!("k{i:02}"), "v");
        }
        add.send().await.unwrap();
        assert_eq!(tag_list(&client, "s").await.len(), 50);
        let (code, msg) = failure(
            client
                .add_tags_to_stream()
                .stream_name("s")
                .tags("one-too-many", "v")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream s under account 000000000000 because a given stream \
             cannot have more than 50 tags associated with it."
        );
        assert_eq!(tag_list(&client, "s").await.len(), 50);
        // Replacing an existing key at 50 tags is fine.
        client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("k00", "w")
            .send()
            .await
            .unwrap();

        let mut create = client.create_stream().stream_name("many").shard_count(1);
        for i in 0..51 {
            create = create.tags(format!("k{i:02}"), "v");
        }
        let (code, msg) = failure(create.send().await);
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream many under account 000000000000 because a given stream \
             cannot have more than 50 tags associated with it."
        );

        let (code, msg) = failure(
            client
                .add_tags_to_stream()
                .stream_name("s")
                .tags("aws:reserved", "v")
                .send()
                .await,
        );
        assert_eq!(code, "InvalidArgumentException");
        assert_eq!(
            msg,
            "Failed to add tags to stream s under account 000000000000 because the tag key prefix \
             'aws:' is reserved for AWS use."
        );
        let (code, msg) = failure(
            client
                .list_tags_for_stream()
                .stream_name("s")
                .limit(51)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: \
             Member must have value less than or equal to 50"
        );
        assert_eq!(
            failure(
                client
                    .list_tags_for_stream()
                    .stream_name("nope")
                    .send()
                    .await
            ),
            not_found("nope")
        );
        server.shutdown().await;
    }
}
