//! PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy on streams and consumers.

use super::*;

both_backends! {
    #[tokio::test]
    async fn resource_policies_on_streams_and_consumers() {
        let env = start(Config {
            consumer_delay_ms: 500,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let got = env
            .client
            .get_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(got.policy, "{}");
        env.client
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
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
        for bad in ["not json", "[1,2]", "\"text\""] {
            assert_eq!(
                err(env
                    .client
                    .put_resource_policy()
                    .resource_arn(&arn)
                    .policy(bad)
                    .send()
                    .await),
                (
                    "InvalidArgumentException".into(),
                    "Invalid resource policy: the policy document must be a JSON object.".into()
                )
            );
        }
        env.client
            .delete_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            "{}"
        );
        assert_eq!(
            err(env
                .client
                .delete_resource_policy()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("No resource policy found for resource ARN {arn}.")
            )
        );

        // A consumer takes a policy once ACTIVE.
        let c = register(&env, &arn, "c").await;
        let secs = c.consumer_creation_timestamp.secs();
        assert_eq!(
            err(env
                .client
                .put_resource_policy()
                .resource_arn(&c.consumer_arn)
                .policy(POLICY)
                .send()
                .await),
            (
                "ResourceInUseException".into(),
                format!("Consumer c with creation timestamp {secs} under stream s and account {ACCOUNT} is not in ACTIVE status.")
            )
        );
        env.clock.advance_ms(500);
        env.client
            .put_resource_policy()
            .resource_arn(&c.consumer_arn)
            .policy(POLICY)
            .send()
            .await
            .unwrap();
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&c.consumer_arn)
                .send()
                .await
                .unwrap()
                .policy,
            POLICY
        );
        // The stream's own policy is separate.
        assert_eq!(
            env.client
                .get_resource_policy()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .policy,
            "{}"
        );
        env.client
            .delete_resource_policy()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .delete_resource_policy()
                .resource_arn(&c.consumer_arn)
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        assert_eq!(
            err(env
                .client
                .get_resource_policy()
                .resource_arn(stream_arn("missing"))
                .send()
                .await)
            .0,
            "ResourceNotFoundException"
        );
        assert_eq!(
            err(env
                .client
                .put_resource_policy()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}
