//! Enhanced fan-out consumers: registration, the clock-driven CREATING/DELETING lifecycle, limits,
//! and their errors.

use super::*;

both_backends! {
    #[tokio::test]
    async fn consumer_lifecycle_follows_the_clock() {
        let env = start(Config {
            consumer_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let now_secs = env.clock.now_secs();
        let c = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .tags("team", "data")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        assert_eq!(c.consumer_name, "c1");
        assert_eq!(c.consumer_status, ConsumerStatus::Creating);
        assert_eq!(c.consumer_arn, format!("{arn}/consumer/c1:{now_secs}"));
        assert_eq!(c.consumer_creation_timestamp.secs(), now_secs);

        // Not yet usable by SubscribeToShard.
        let e = env
            .server
            .registry()
            .active_consumer(&c.consumer_arn)
            .err()
            .expect("a CREATING consumer is not active");
        assert_eq!(e.type_name(), "ResourceInUseException");
        assert_eq!(
            e.message().unwrap(),
            format!(
                "Consumer c1 with creation timestamp {now_secs} under stream s and account {ACCOUNT} is not in ACTIVE status."
            )
        );

        // Both ways of naming it describe the same consumer.
        let by_arn = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(by_arn.consumer_status, ConsumerStatus::Creating);
        assert_eq!(by_arn.stream_arn, arn);
        let by_name = env
            .client
            .describe_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(by_name.consumer_arn, c.consumer_arn);
        // All three, agreeing, are fine too.
        env.client
            .describe_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();

        env.clock.advance_ms(1_000);
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
        let (stream, consumer) = env
            .server
            .registry()
            .active_consumer(&c.consumer_arn)
            .unwrap();
        assert_eq!((stream.name.as_str(), consumer.name.as_str()), ("s", "c1"));

        let summary = env
            .client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(1));

        // A second consumer of the same name is refused.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c1")
                .send()
                .await),
            (
                "ResourceInUseException".into(),
                format!("Consumer c1 under stream s and account {ACCOUNT} already exists.")
            )
        );

        // Deregister by ARN: DELETING for the delay, then gone.
        env.client
            .deregister_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        let d = env
            .client
            .describe_stream_consumer()
            .consumer_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap()
            .consumer_description
            .unwrap();
        assert_eq!(d.consumer_status, ConsumerStatus::Deleting);
        // The name stays taken while DELETING; deregistering again changes nothing.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c1")
                .send()
                .await)
            .0,
            "ResourceInUseException"
        );
        env.client
            .deregister_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c1")
            .send()
            .await
            .unwrap();
        env.clock.advance_ms(1_000);
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!(
                    "Consumer c1 with creation timestamp {now_secs} under stream s and account {ACCOUNT} not found."
                )
            )
        );
        let listed = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        assert!(listed.consumers().is_empty());
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(0));

        // Registered again a second later, it gets a new ARN; the old one stays dead.
        env.clock.advance_ms(1_000);
        let again = register(&env, &arn, "c1").await;
        assert_ne!(again.consumer_arn, c.consumer_arn);
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn consumer_errors_and_validation() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let need = (
            "InvalidArgumentException".to_string(),
            "Both streamARN and consumer name must be provided if consumerARN is not provied."
                .to_string(),
        );
        assert_eq!(
            err(env.client.deregister_stream_consumer().send().await),
            need
        );
        assert_eq!(
            err(env
                .client
                .deregister_stream_consumer()
                .stream_arn(&arn)
                .send()
                .await),
            need
        );
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_name("c")
                .send()
                .await),
            need
        );
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("nope")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Consumer nope under stream s and account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .deregister_stream_consumer()
                .consumer_arn(format!("{arn}/consumer/nope:1700000000"))
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!(
                    "Consumer nope with creation timestamp 1700000000 under stream s and account {ACCOUNT} not found."
                )
            )
        );
        let c = register(&env, &arn, "c").await;
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .consumer_name("other")
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        // Unknown stream.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(stream_arn("missing"))
                .consumer_name("c")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
        // Coral validation.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'consumerName' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("a b")
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value 'a b' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".into()
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "DescribeStreamConsumer",
                &format!(r#"{{"ConsumerARN":"{arn}"}}"#)
            )
            .await,
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{arn}' at 'consumerARN' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{{12}}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+")
            )
        );
        assert_eq!(
            raw_error(
                &env.server.endpoint(),
                "ListTagsForResource",
                r#"{"ResourceARN":"arn:aws:sqs:us-east-1:000000000000:stream/s"}"#
            )
            .await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value 'arn:aws:sqs:us-east-1:000000000000:stream/s' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+".into()
            )
        );
        // Tags on registration follow the tag rules.
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("t")
                .tags("aws:x", "y")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to consumer t under account {ACCOUNT} because the tag key prefix 'aws:' is reserved for AWS use.")
            )
        );
        // A stream still CREATING takes no consumer.
        let env2 = start(Config {
            create_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn2 = create(&env2, "young", 1).await;
        assert_eq!(
            err(env2
                .client
                .register_stream_consumer()
                .stream_arn(&arn2)
                .consumer_name("c")
                .send()
                .await),
            not_active("young", "CREATING")
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn consumer_limits() {
        let env = start(Config {
            consumer_delay_ms: 10_000,
            ..Config::default()
        })
        .await;
        let a = create(&env, "a", 1).await;
        let b = create(&env, "b", 1).await;
        // Five CREATING at once across the account; the sixth waits.
        for i in 0..3 {
            register(&env, &a, &format!("a{i}")).await;
        }
        for i in 0..2 {
            register(&env, &b, &format!("b{i}")).await;
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&a)
                .consumer_name("sixth")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 5 consumers in CREATING state for the account {ACCOUNT}.")
            )
        );
        env.clock.advance_ms(10_000);
        // Twenty per stream.
        let mut n = 3;
        while n < 20 {
            for _ in 0..5 {
                if n < 20 {
                    register(&env, &a, &format!("a{n}")).await;
                    n += 1;
                }
            }
            env.clock.advance_ms(10_000);
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&a)
                .consumer_name("twenty-first")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 20 consumers for stream a under account {ACCOUNT}.")
            )
        );
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("a")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.consumer_count, Some(20));
    }
}

both_backends! {
    /// "On-demand Advantage" streams take 50 consumers; kinesd reads that as on-demand streams in
    /// an account with the billing commitment in effect.
    #[tokio::test]
    async fn on_demand_streams_with_the_commitment_take_fifty_consumers() {
        let env = start(Config::default()).await;
        enable_commitment(&env, true).await;
        env.client
            .create_stream()
            .stream_name("od")
            .stream_mode_details(on_demand())
            .send()
            .await
            .unwrap();
        let arn = stream_arn("od");
        for i in 0..50 {
            register(&env, &arn, &format!("c{i}")).await;
        }
        assert_eq!(
            err(env
                .client
                .register_stream_consumer()
                .stream_arn(&arn)
                .consumer_name("c50")
                .send()
                .await),
            (
                "LimitExceededException".into(),
                format!("This request would exceed the limit of 50 consumers for stream od under account {ACCOUNT}.")
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn list_stream_consumers_pages_and_tokens_expire() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        for i in 0..5 {
            register(&env, &arn, &format!("c{i}")).await;
            env.clock.advance_ms(1);
        }
        let first = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .max_results(2)
            .send()
            .await
            .unwrap();
        assert_eq!(first.consumers().len(), 2);
        let mut names: Vec<String> = first
            .consumers()
            .iter()
            .map(|c| c.consumer_name.clone())
            .collect();
        let mut token = first.next_token().map(str::to_string);
        while let Some(t) = token {
            let page = env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .max_results(2)
                .next_token(&t)
                .send()
                .await
                .unwrap();
            names.extend(page.consumers().iter().map(|c| c.consumer_name.clone()));
            token = page.next_token().map(str::to_string);
        }
        assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
        // Default page: everything, no token.
        let all = env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(all.consumers().len(), 5);
        assert!(all.next_token().is_none());
        assert!(all
            .consumers()
            .iter()
            .all(|c| c.consumer_status == ConsumerStatus::Active));

        // Tokens last 300 s.
        let t = first.next_token().unwrap().to_string();
        env.clock.advance_ms(300_001);
        let (code, message) = err(env
            .client
            .list_stream_consumers()
            .stream_arn(&arn)
            .next_token(&t)
            .send()
            .await);
        assert_eq!(code, "ExpiredNextTokenException");
        assert_eq!(
            message,
            format!("The NextToken has expired. NextToken: {t}")
        );
        assert_eq!(
            err(env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .next_token("garbage")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                "Invalid NextToken: garbage".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .list_stream_consumers()
                .stream_arn(&arn)
                .max_results(0)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1".into()
            )
        );
        assert_eq!(
            raw_error(&env.server.endpoint(), "ListStreamConsumers", "{}").await,
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn delete_stream_needs_enforce_consumer_deletion() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        let c = register(&env, &arn, "c").await;
        assert_eq!(
            err(env.client.delete_stream().stream_name("s").send().await),
            (
                "ResourceInUseException".into(),
                format!("DeleteStream can't delete {ACCOUNT}:s because there are consumers associated with this data stream. To delete s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.")
            )
        );
        assert_eq!(
            err(env
                .client
                .delete_stream()
                .stream_name("s")
                .enforce_consumer_deletion(false)
                .send()
                .await)
            .0,
            "ResourceInUseException"
        );
        env.client
            .delete_stream()
            .stream_name("s")
            .enforce_consumer_deletion(true)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .describe_stream_consumer()
                .consumer_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        // Without consumers, no flag is needed.
        create(&env, "t", 1).await;
        env.client
            .delete_stream()
            .stream_name("t")
            .send()
            .await
            .unwrap();
    }
}
