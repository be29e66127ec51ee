//! TagResource, UntagResource and ListTagsForResource on streams and consumers, addressed by ARN.

use super::*;

both_backends! {
    #[tokio::test]
    async fn tags_by_arn_share_the_stream_tag_store() {
        let env = start(Config::default()).await;
        env.client
            .create_stream()
            .stream_name("s")
            .shard_count(1)
            .tags("created", "yes")
            .send()
            .await
            .unwrap();
        let arn = stream_arn("s");
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("env", "test")
            .tags("owner", "me")
            .send()
            .await
            .unwrap();
        env.client
            .add_tags_to_stream()
            .stream_name("s")
            .tags("via", "stream-api")
            .send()
            .await
            .unwrap();
        let tags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        let pairs: Vec<(String, String)> = tags
            .tags()
            .iter()
            .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("created".to_string(), "yes".to_string()),
                ("env".into(), "test".into()),
                ("owner".into(), "me".into()),
                ("via".into(), "stream-api".into()),
            ]
        );
        let by_stream = env
            .client
            .list_tags_for_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        assert_eq!(by_stream.tags().len(), 4);
        env.client
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("env")
            .tag_keys("via")
            .send()
            .await
            .unwrap();
        let keys: Vec<String> = env
            .client
            .list_tags_for_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| t.key.clone())
            .collect();
        assert_eq!(keys, ["created", "owner"]);

        // Consumers have their own tags.
        let c = env
            .client
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c")
            .tags("a", "1")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap();
        env.client
            .tag_resource()
            .resource_arn(&c.consumer_arn)
            .tags("b", "2")
            .send()
            .await
            .unwrap();
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        let ckeys: Vec<&str> = ctags.tags().iter().map(|t| t.key.as_str()).collect();
        assert_eq!(ckeys, ["a", "b"]);
        env.client
            .untag_resource()
            .resource_arn(&c.consumer_arn)
            .tag_keys("a")
            .send()
            .await
            .unwrap();
        let ctags = env
            .client
            .list_tags_for_resource()
            .resource_arn(&c.consumer_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(ctags.tags().len(), 1);
        // The stream's tags are untouched by the consumer's.
        assert_eq!(
            env.client
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap()
                .tags()
                .len(),
            2
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn tag_rules_and_errors() {
        let env = start(Config::default()).await;
        let arn = create(&env, "s", 1).await;
        // At most 50 tags per resource, counting the ones already there.
        let mut req = env.client.tag_resource().resource_arn(&arn);
        for i in 0..49 {
            req = req.tags(format!("k{i}"), "v");
        }
        req.send().await.unwrap();
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("k0", "overwrite")
            .send()
            .await
            .unwrap();
        env.client
            .tag_resource()
            .resource_arn(&arn)
            .tags("k49", "v")
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("k50", "v")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to stream s under account {ACCOUNT} because a given stream cannot have more than 50 tags associated with it.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("aws:reserved", "v")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                format!("Failed to add tags to stream s under account {ACCOUNT} because the tag key prefix 'aws:' is reserved for AWS use.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("bad#", "v")
                .send()
                .await)
            .0,
            "InvalidArgumentException"
        );
        let long_key = "k".repeat(129);
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags(&long_key, "v")
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{long_key}' at 'tags.{long_key}.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
            )
        );
        let long_value = "v".repeat(257);
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(&arn)
                .tags("k", &long_value)
                .send()
                .await),
            (
                "ValidationException".into(),
                format!("1 validation error detected: Value '{long_value}' at 'tags.k.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
            )
        );
        assert_eq!(
            err(env
                .client
                .list_tags_for_resource()
                .resource_arn(stream_arn("missing"))
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .tag_resource()
                .resource_arn(format!("{arn}/consumer/ghost:1"))
                .tags("k", "v")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Consumer ghost with creation timestamp 1 under stream s and account {ACCOUNT} not found.")
            )
        );
        assert_eq!(
            err(env
                .client
                .untag_resource()
                .resource_arn(&arn)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null".into()
            )
        );
    }
}
