//! UpdateAccountSettings, DescribeAccountSettings (the minimum throughput billing commitment) and
//! UpdateStreamWarmThroughput.

use super::*;

both_backends! {
    #[tokio::test]
    async fn account_settings_commitment_window() {
        let env = start(Config::default()).await;
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::Disabled);
        assert!(d.started_at.is_none() && d.ended_at.is_none() && d.earliest_allowed_end_at.is_none());

        let start_secs = env.clock.now_secs();
        let c = enable_commitment(&env, true).await;
        assert_eq!(c.status, CommitOut::Enabled);
        assert_eq!(c.started_at.unwrap().secs(), start_secs);
        assert_eq!(
            c.earliest_allowed_end_at.unwrap().secs(),
            start_secs + 365 * 86_400
        );
        assert!(c.ended_at.is_none());

        // Disabling inside the window winds down until its end.
        env.clock.advance_ms(DAY_MS);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        assert_eq!(c.ended_at.unwrap().secs(), start_secs + 365 * 86_400);
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        // Enabling again resumes the same commitment.
        let c = enable_commitment(&env, true).await;
        assert_eq!(c.status, CommitOut::Enabled);
        assert_eq!(c.started_at.unwrap().secs(), start_secs);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::EnabledUntilEarliestAllowedEnd);
        env.clock.advance_ms(364 * DAY_MS);
        let d = env
            .client
            .describe_account_settings()
            .send()
            .await
            .unwrap()
            .minimum_throughput_billing_commitment
            .unwrap();
        assert_eq!(d.status, CommitOut::Disabled);
        assert_eq!(d.ended_at.unwrap().secs(), start_secs + 365 * 86_400);

        // After the window, disabling ends the commitment at once.
        let c = enable_commitment(&env, true).await;
        let started = c.started_at.unwrap().secs();
        assert_eq!(started, env.clock.now_secs());
        env.clock.advance_ms(366 * DAY_MS);
        let c = enable_commitment(&env, false).await;
        assert_eq!(c.status, CommitOut::Disabled);
        assert_eq!(c.ended_at.unwrap().secs(), env.clock.now_secs());

        assert_eq!(
            err(env.client.update_account_settings().send().await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn warm_throughput_needs_on_demand_and_the_commitment() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        env.client
            .create_stream()
            .stream_name("od")
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let od = stream_arn("od");
        create(&env, "p", 1).await;
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(100)
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Warm throughput requires the MinimumThroughputBillingCommitment of account {ACCOUNT} to be ENABLED.")
            )
        );
        assert_eq!(
            err(env
                .client
                .create_stream()
                .stream_name("warm")
                .stream_mode_details(on_demand())
                .warm_throughput_mibps(10)
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        enable_commitment(&env, true).await;
        let provisioned_error = (
            "ValidationException".to_string(),
            format!("Request is invalid. Stream p under account {ACCOUNT} is in Provisioned mode. Warm throughput is only supported for streams in On-Demand mode."),
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_name("p")
                .warm_throughput_mibps(100)
                .send()
                .await),
            provisioned_error
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(10_241)
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Requested warm throughput of 10241 MiBps for stream od under account {ACCOUNT} exceeds the maximum of 10240 MiBps.")
            )
        );
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(-1)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0".into()
            )
        );

        let out = env
            .client
            .update_stream_warm_throughput()
            .stream_arn(&od)
            .warm_throughput_mibps(100)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_name(), Some("od"));
        assert_eq!(out.stream_arn(), Some(od.as_str()));
        let w = out.warm_throughput().unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(100), Some(0)));
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&od)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Updating);
        let w = summary.warm_throughput.unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(100), Some(0)));
        assert_eq!(
            err(env
                .client
                .update_stream_warm_throughput()
                .stream_arn(&od)
                .warm_throughput_mibps(200)
                .send()
                .await),
            not_active("od", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&od)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Active);
        let w = summary.warm_throughput.unwrap();
        assert_eq!(
            (w.target_mibps(), w.current_mibps()),
            (Some(100), Some(100))
        );
        // A provisioned stream reports none.
        let p = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert!(p.warm_throughput.is_none());

        // CreateStream with WarmThroughputMiBps.
        env.client
            .create_stream()
            .stream_name("warm")
            .stream_mode_details(on_demand())
            .warm_throughput_mibps(50)
            .send()
            .await
            .unwrap();
        let w = env
            .client
            .describe_stream_summary()
            .stream_name("warm")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap()
            .warm_throughput
            .unwrap();
        assert_eq!((w.target_mibps(), w.current_mibps()), (Some(50), Some(50)));
        assert_eq!(
            err(env
                .client
                .create_stream()
                .stream_name("cold")
                .shard_count(1)
                .warm_throughput_mibps(50)
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("Request is invalid. Stream cold under account {ACCOUNT} is in Provisioned mode. Warm throughput is only supported for streams in On-Demand mode.")
            )
        );

        // UpdateStreamMode with WarmThroughputMiBps: only towards ON_DEMAND.
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&od)
                .stream_mode_details(provisioned())
                .warm_throughput_mibps(10)
                .send()
                .await)
            .0,
            "ValidationException"
        );
        env.client
            .update_stream_mode()
            .stream_arn(stream_arn("p"))
            .stream_mode_details(on_demand())
            .warm_throughput_mibps(300)
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        let w = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap()
            .warm_throughput
            .unwrap();
        assert_eq!(
            (w.target_mibps(), w.current_mibps()),
            (Some(300), Some(300))
        );
        // Back to PROVISIONED drops it.
        env.client
            .update_stream_mode()
            .stream_arn(stream_arn("p"))
            .stream_mode_details(provisioned())
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        let p = env
            .client
            .describe_stream_summary()
            .stream_name("p")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert!(p.warm_throughput.is_none());
        assert_eq!(
            env.client
                .describe_limits()
                .send()
                .await
                .unwrap()
                .on_demand_stream_count,
            2
        );
    }
}
