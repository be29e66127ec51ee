//! UpdateStreamMode between provisioned and on-demand, and its limits.

use super::*;

both_backends! {
    #[tokio::test]
    async fn update_stream_mode_both_ways() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 2).await;
        let limits = env.client.describe_limits().send().await.unwrap();
        assert_eq!(limits.on_demand_stream_count, 0);
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
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
        assert_eq!(
            summary.stream_mode_details.as_ref().unwrap().stream_mode,
            Mode::OnDemand
        );
        assert_eq!(summary.open_shard_count, 2);
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(provisioned())
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        let limits = env.client.describe_limits().send().await.unwrap();
        assert_eq!(limits.on_demand_stream_count, 1);
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Stream s under account {ACCOUNT} is already in ON_DEMAND mode.")
            )
        );
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(provisioned())
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        assert_eq!(
            env.client
                .describe_limits()
                .send()
                .await
                .unwrap()
                .on_demand_stream_count,
            0
        );
        // Two switches per rolling 24 hours.
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("Stream s under account {ACCOUNT} has already switched capacity mode 2 times in the last 24 hours.")
            )
        );
        env.clock.advance_ms(DAY_MS);
        env.client
            .update_stream_mode()
            .stream_arn(&arn)
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();

        // Validation.
        assert_eq!(
            err(env.client.update_stream_mode().stream_arn(&arn).send().await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamModeDetails' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "UpdateStreamMode",
                r#"{"StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"#
            )
            .await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(stream_arn("missing"))
                .stream_mode_details(on_demand())
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn update_stream_mode_respects_the_on_demand_limit() {
        let env = start(Config {
            on_demand_stream_limit: 1,
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
        let arn = create(&env, "p", 1).await;
        assert_eq!(
            err(env
                .client
                .update_stream_mode()
                .stream_arn(&arn)
                .stream_mode_details(on_demand())
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the on-demand stream limit for the account {ACCOUNT} in us-east-1. Current limit of on-demand streams per account is 1.")
            )
        );
    }
}
