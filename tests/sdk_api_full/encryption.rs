//! StartStreamEncryption and StopStreamEncryption: the UPDATING state, the records they mark, and
//! their errors.

use super::*;

both_backends! {
    #[tokio::test]
    async fn stream_encryption_start_and_stop() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        create(&env, "s", 1).await;
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/aws/kinesis")
            .send()
            .await
            .unwrap();
        let d = env
            .client
            .describe_stream()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(d.stream_status, StreamStatus::Updating);
        assert_eq!(d.encryption_type, Some(EncryptionType::Kms));
        assert_eq!(d.key_id.as_deref(), Some("alias/aws/kinesis"));
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::Kms)
                .key_id("k2")
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        assert_eq!(status(&env, "s").await, StreamStatus::Active);

        // Records written and read now carry EncryptionType KMS.
        let put = env
            .client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new("secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.encryption_type, Some(EncryptionType::Kms));
        let it = env
            .client
            .get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let recs = env
            .client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .unwrap();
        assert_eq!(recs.records().len(), 1);
        assert_eq!(recs.records()[0].encryption_type, Some(EncryptionType::Kms));

        env.client
            .stop_stream_encryption()
            .stream_arn(stream_arn("s"))
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/aws/kinesis")
            .send()
            .await
            .unwrap();
        assert_eq!(status(&env, "s").await, StreamStatus::Updating);
        env.clock.advance_ms(1_000);
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_status, StreamStatus::Active);
        assert_eq!(summary.encryption_type, Some(EncryptionType::None));
        assert!(summary.key_id.is_none());
        let put = env
            .client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new("plain"))
            .send()
            .await
            .unwrap();
        assert!(put.encryption_type.is_none());

        // Errors.
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::None)
                .key_id("k")
                .send()
                .await),
            (
                "InvalidArgumentException".into(),
                "Encryption type NONE is not supported by this operation; the only supported encryption type is KMS.".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .start_stream_encryption()
                .stream_name("s")
                .encryption_type(EncryptionType::Kms)
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null".into()
            )
        );
        assert_eq!(
            err(env
                .client
                .stop_stream_encryption()
                .stream_name("missing")
                .encryption_type(EncryptionType::Kms)
                .key_id("k")
                .send()
                .await),
            (
                "ResourceNotFoundException".into(),
                format!("Stream missing under account {ACCOUNT} not found.")
            )
        );
    }
}
