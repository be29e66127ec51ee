//! Every control-plane operation that takes a StreamARN works with the ARN alone.

use super::*;

both_backends! {
    /// Every control-plane operation that takes a StreamARN works with the ARN alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_arn_addressing_control_plane() {
        let (server, _clock, client) = setup(Config::default()).await;
        create(&client, "s", 3).await;
        let a = arn("s");

        let d = client
            .describe_stream()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(d.stream_description().unwrap().stream_name(), "s");
        assert_eq!(d.stream_description().unwrap().shards().len(), 3);
        let sum = client
            .describe_stream_summary()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(sum.stream_description_summary().unwrap().stream_arn(), a);
        let shards = client.list_shards().stream_arn(&a).send().await.unwrap();
        assert_eq!(shards.shards().len(), 3);
        // StreamName and StreamARN together (as KPL sends them).
        let shards = client
            .list_shards()
            .stream_name("s")
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(shards.shards().len(), 3);

        client
            .increase_stream_retention_period()
            .stream_arn(&a)
            .retention_period_hours(100)
            .send()
            .await
            .unwrap();
        client
            .decrease_stream_retention_period()
            .stream_arn(&a)
            .retention_period_hours(50)
            .send()
            .await
            .unwrap();
        let sum = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(
            sum.stream_description_summary()
                .unwrap()
                .retention_period_hours(),
            50
        );

        client
            .add_tags_to_stream()
            .stream_arn(&a)
            .tags("x", "1")
            .tags("y", "2")
            .send()
            .await
            .unwrap();
        client
            .remove_tags_from_stream()
            .stream_arn(&a)
            .tag_keys("x")
            .send()
            .await
            .unwrap();
        let tags = client
            .list_tags_for_stream()
            .stream_arn(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags()
                .iter()
                .map(|t| (t.key(), t.value()))
                .collect::<Vec<_>>(),
            [("y", Some("2"))]
        );

        // An ARN naming a missing stream, or another account, is ResourceNotFound.
        assert_eq!(
            failure(
                client
                    .describe_stream_summary()
                    .stream_arn(arn("nope"))
                    .send()
                    .await
            ),
            not_found("nope")
        );
        let (code, _) = failure(
            client
                .describe_stream()
                .stream_arn("arn:aws:kinesis:us-east-1:111111111111:stream/s")
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException");

        client.delete_stream().stream_arn(&a).send().await.unwrap();
        assert_eq!(
            failure(client.describe_stream().stream_arn(&a).send().await),
            not_found("s")
        );
        server.shutdown().await;
    }
}
