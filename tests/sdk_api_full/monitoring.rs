//! EnableEnhancedMonitoring and DisableEnhancedMonitoring: the metric sets they answer with.

use super::*;

const SEVEN: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

both_backends! {
    #[tokio::test]
    async fn enhanced_monitoring_enable_and_disable() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let out = env
            .client
            .enable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::OutgoingBytes)
            .shard_level_metrics(MetricsName::IncomingBytes)
            .send()
            .await
            .unwrap();
        assert_eq!(out.stream_name(), Some("s"));
        assert_eq!(out.stream_arn(), Some(arn.as_str()));
        assert!(out.current_shard_level_metrics().is_empty());
        assert_eq!(
            names(out.desired_shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(d.enhanced_monitoring.len(), 1);
        assert_eq!(
            names(d.enhanced_monitoring[0].shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );

        let out = env
            .client
            .enable_enhanced_monitoring()
            .stream_arn(&arn)
            .shard_level_metrics(MetricsName::All)
            .send()
            .await
            .unwrap();
        assert_eq!(
            names(out.current_shard_level_metrics()),
            ["IncomingBytes", "OutgoingBytes"]
        );
        assert_eq!(names(out.desired_shard_level_metrics()), SEVEN);

        let out = env
            .client
            .disable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::IteratorAgeMilliseconds)
            .send()
            .await
            .unwrap();
        assert_eq!(names(out.current_shard_level_metrics()), SEVEN);
        assert_eq!(names(out.desired_shard_level_metrics()), &SEVEN[..6]);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(
            names(summary.enhanced_monitoring()[0].shard_level_metrics()),
            &SEVEN[..6]
        );
        let out = env
            .client
            .disable_enhanced_monitoring()
            .stream_name("s")
            .shard_level_metrics(MetricsName::All)
            .send()
            .await
            .unwrap();
        assert!(out.desired_shard_level_metrics().is_empty());
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert!(d.enhanced_monitoring[0].shard_level_metrics().is_empty());

        // Validation.
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("s")
                .shard_level_metrics(MetricsName::from("Nope"))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '[Nope]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("s")
                .set_shard_level_metrics(Some(vec![]))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .disable_enhanced_monitoring()
                .stream_name("s")
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'shardLevelMetrics' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .enable_enhanced_monitoring()
                .stream_name("missing")
                .shard_level_metrics(MetricsName::All)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}
