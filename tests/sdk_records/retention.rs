//! Retention periods trim records, driven by the manual clock.

use super::*;

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_trims_records_and_moves_the_trim_horizon() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "short", 1).await;
        create(&client, "long", 1).await;
        set_retention(&client, "long", 48, true).await;
        let sh0 = shard_id(0);
        let key = |name: &str| {
            server
                .registry()
                .lookup(name)
                .unwrap()
                .shard(0)
                .unwrap()
                .key
        };
        let (short_key, long_key) = (key("short"), key("long"));
        let registry = server.registry();

        let t0 = clock.now_ms();
        let mut short_seqs = Vec::new();
        for i in 0..3 {
            short_seqs.push(put(&client, "short", "k", None, &format!("old{i}")).await.1);
            put(&client, "long", "k", None, &format!("old{i}")).await;
        }
        clock.advance_ms(12 * HOUR_MS);
        for i in 0..2 {
            short_seqs.push(put(&client, "short", "k", None, &format!("new{i}")).await.1);
            put(&client, "long", "k", None, &format!("new{i}")).await;
        }
        clock.advance_ms(13 * HOUR_MS); // t0 + 25 h

        // Expired records are never returned, even before a retention pass removes them.
        assert_eq!(
            texts(&read_shard(&client, "short", &sh0).await),
            ["new0", "new1"]
        );
        assert_eq!(registry.shard_stats(short_key).await.unwrap().records, 5);
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 3);
        assert_eq!(registry.shard_stats(short_key).await.unwrap().records, 2);
        assert_eq!(registry.shard_stats(long_key).await.unwrap().records, 5);

        // TRIM_HORIZON and an old AT_TIMESTAMP now start at the first surviving record.
        let records = read_shard(&client, "short", &sh0).await;
        assert_eq!(seqs(&records), short_seqs[3..]);
        let it = client
            .get_shard_iterator()
            .stream_name("short")
            .shard_id(&sh0)
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(DateTime::from_millis(t0))
            .send()
            .await
            .unwrap();
        let (records, _) = drain(&client, it.shard_iterator().unwrap().to_string()).await;
        assert_eq!(texts(&records), ["new0", "new1"]);

        // The longer retention keeps everything for 48 h.
        assert_eq!(
            texts(&read_shard(&client, "long", &sh0).await),
            ["old0", "old1", "old2", "new0", "new1"]
        );
        clock.advance_ms(24 * HOUR_MS); // t0 + 49 h
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 5); // 3 from long, 2 from short
        assert_eq!(
            texts(&read_shard(&client, "long", &sh0).await),
            ["new0", "new1"]
        );
        assert_eq!(
            registry.shard_stats(short_key).await.unwrap(),
            Default::default()
        );
        assert!(read_shard(&client, "short", &sh0).await.is_empty());
        clock.advance_ms(12 * HOUR_MS); // t0 + 61 h
        server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(
            registry.shard_stats(long_key).await.unwrap(),
            Default::default()
        );

        // An emptied shard keeps counting upwards.
        let (_, seq) = put(&client, "short", "k", None, "after").await;
        assert!(seq_lt(short_seqs.last().unwrap(), &seq));
        assert_eq!(texts(&read_shard(&client, "short", &sh0).await), ["after"]);
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn decreasing_retention_drops_older_records() {
        let (server, clock, client) = setup(config()).await;
        create(&client, "s", 1).await;
        set_retention(&client, "s", 72, true).await;
        let sh0 = shard_id(0);
        put(&client, "s", "k", None, "a").await;
        put(&client, "s", "k", None, "b").await;
        clock.advance_ms(30 * HOUR_MS);
        put(&client, "s", "k", None, "c").await;
        assert_eq!(
            texts(&read_shard(&client, "s", &sh0).await),
            ["a", "b", "c"]
        );
        set_retention(&client, "s", 24, false).await;
        assert_eq!(texts(&read_shard(&client, "s", &sh0).await), ["c"]);
        let report = server.registry().enforce_retention_fully().await.unwrap();
        assert_eq!(report.records_trimmed, 2);
        // Increasing again does not bring them back.
        set_retention(&client, "s", 72, true).await;
        assert_eq!(texts(&read_shard(&client, "s", &sh0).await), ["c"]);
        server.shutdown().await;
    }
}
