//! Everything the operations above set survives a restart of a durable server.

use super::*;

both_backends! {
    #[tokio::test]
    async fn everything_persists_across_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            consumer_delay_ms: 5_000,
            update_delay_ms: 5_000,
            ..Config::default()
        };
        let clock = ManualClock::starting_now();
        let env = start_with(config.clone(), clock.clone()).await;
        enable_commitment(&env, true).await;
        env.client
            .create_stream()
            .stream_name("s")
            .stream_mode_details(on_demand())
            .tags("a", "1")
            .send()
            .await
            .unwrap();
        let arn = stream_arn("s");
        let active = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("active")
            .tags("ct", "v")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        clock.advance_ms(5_000);
        let creating = register(&env, &arn, "creating").await;
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("b", "2")
            .send()
            .await
            .unwrap();
        env.client
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
        env.client
            .put_resource_policy()
            .resource_arn(&active.consumer_arn)
            .policy(r#"{"consumer":true}"#)
            .send()
            .await
            .unwrap();
        env.client
            .enable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::IncomingBytes)
            .send()
            .await
            .unwrap();
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(4096)
            .send()
            .await
            .unwrap();
        env.client
            .update_stream_warm_throughput()
            .stream_arn(&arn)
            .warm_throughput_mibps(64)
            .send()
            .await
            .unwrap();
        clock.advance_ms(5_000);
        // Encryption is left in flight: UPDATING across the restart.
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("my-key")
            .send()
            .await
            .unwrap();
        let Env { server, .. } = env;
        server.shutdown().await;

        let env = start_with(config, clock.clone()).await;
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Updating);
        assert_eq!(summary.encryption_type, Some(EncryptionType::Kms));
        assert_eq!(summary.key_id.as_deref(), Some("my-key"));
        assert_eq!(
            summary.stream_mode_details.as_ref().unwrap().stream_mode,
            Mode::OnDemand
        );
        assert_eq!(summary.max_record_size_in_kib, Some(4096));
        assert_eq!(summary.consumer_count, Some(2));
        assert_eq!(
            names(summary.enhanced_monitoring()[0].shard_level_metrics()),
            ["IncomingBytes"]
        );
        let w = summary.warm_throughput.unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(64), Some(64)));
        clock.advance_ms(5_000);
        assert_eq!(status(&env, "s").await, StreamStatus::Active);

        let tags: Vec<String> = env
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| t.key.clone())
            .collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            POLICY
        );
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&active.consumer_arn)
                .send()
                .await
                .unwrap()
                .policy,
            r#"{"consumer":true}"#
        );
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&active.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(ctags.tags().len(), 1);
        let listed = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        let statuses: Vec<(&str, &ConsumerStatus)> = listed
            .consumers()
            .iter()
            .map(|c| (c.consumer_name.as_str(), &c.consumer_status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("active", &ConsumerStatus::Active),
                // Its CREATING period (5 s from registration) has passed in the meantime.
                ("creating", &ConsumerStatus::Active),
            ]
        );
        assert_eq!(listed.consumers()[1].consumer_arn, creating.consumer_arn);
        env.server
            .registry()
            .active_consumer(&active.consumer_arn)
            .unwrap();
        let settings = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(settings.status, CommitOut::Enabled);
        let Env { server, .. } = env;
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test]
    async fn a_creating_consumer_stays_creating_across_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            consumer_delay_ms: 5_000,
            ..Config::default()
        };
        let clock = ManualClock::starting_now();
        let env = start_with(config.clone(), clock.clone()).await;
        let arn = create(&env, "s", 1).await;
        let c = register(&env, &arn, "c").await;
        let Env { server, .. } = env;
        server.shutdown().await;
        let env = start_with(config, clock.clone()).await;
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Creating);
        clock.advance_ms(5_000);
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Active);
        let Env { server, .. } = env;
        server.shutdown().await;
    }
}
