//! UpdateMaxRecordSize and the record-size limit it sets for PutRecord(s).

use super::*;

both_backends! {
    #[tokio::test]
    async fn update_max_record_size_changes_the_write_limit() {
        let env = start(Config {
            update_delay_ms: 1_000,
            ..Config::default()
        })
        .await;
        let arn = create(&env, "s", 1).await;
        let big = vec![7u8; 1536 * 1024];
        assert_eq!(
            err(env
                .client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(big.clone()))
                .send()
                .await),
            (
                "ValidationException".into(),
                "1 validation error detected: Value at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576".into()
            )
        );
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(2048)
            .send()
            .await
            .unwrap();
        let summary = env
            .client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.max_record_size_in_kib, Some(2048));
        assert_eq!(summary.stream_status, StreamStatus::Active);
        env.client
            .put_record()
            .stream_name("s")
            .partition_key("k")
            .data(Blob::new(big.clone()))
            .send()
            .await
            .unwrap();
        let (code, message) = err(env
            .client
            .put_records()
            .stream_name("s")
            .records(
                aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                    .partition_key("k")
                    .data(Blob::new(vec![1u8; 2048 * 1024]))
                    .build()
                    .unwrap(),
            )
            .send()
            .await);
        assert_eq!(code, "ValidationException");
        assert_eq!(message, "1 validation error detected: Value at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 2097152");

        for (kib, what) in [
            (1023, "have value greater than or equal to 1024"),
            (10241, "have value less than or equal to 10240"),
        ] {
            assert_eq!(
                err(env
                    .client
                    .update_max_record_size()
                    .stream_arn(&arn)
                    .max_record_size_in_kib(kib)
                    .send()
                    .await),
                (
                    "ValidationException".into(),
                    format!("1 validation error detected: Value '{kib}' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must {what}")
                )
            );
        }
        // Only while ACTIVE.
        env.client
            .start_stream_encryption()
            .stream_name("s")
            .encryption_type(EncryptionType::Kms)
            .key_id("k")
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .update_max_record_size()
                .stream_arn(&arn)
                .max_record_size_in_kib(1024)
                .send()
                .await),
            not_active("s", "UPDATING")
        );
        env.clock.advance_ms(1_000);
        env.client
            .update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(1024)
            .send()
            .await
            .unwrap();
        assert_eq!(
            err(env
                .client
                .put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(big))
                .send()
                .await)
            .0,
            "ValidationException"
        );
    }
}
