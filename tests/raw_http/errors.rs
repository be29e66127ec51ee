//! Protocol-level errors: unknown operations, broken and mistyped bodies, authentication, methods,
//! missing members, bad base64.

use super::*;

both_backends! {
    #[tokio::test]
    async fn unknown_operation_and_wrong_service_prefix() {
        let s = start().await;
        for target in [
            // (`DynamoDB_20120810.<Op>` goes to kinesd's DynamoDB subset: tests/dynamodb.rs.)
            Some("Kinesis_20131202.NoSuchOperation"),
            Some("DynamoDB20120810.PutRecord"),
            Some("Kinesis_20131202."),
            Some("kinesis_20131202.PutRecord"),
            Some("PutRecord"),
            None,
        ] {
            let r = send_raw(
                s.addr,
                &request_bytes("POST", target, Some(AUTH), b"{}", false),
            )
            .await;
            assert_error(&r, 400, r#"{"__type":"UnknownOperationException"}"#);
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn empty_and_broken_bodies_are_serialization_errors() {
        let s = start().await;
        for body in [
            "",
            "   ",
            "{",
            "{\"StreamName\":",
            "not json",
            "[]",
            "null",
            "{}}",
        ] {
            let r = call(s.addr, "CreateStream", body).await;
            assert_error(&r, 400, r#"{"__type":"SerializationException"}"#);
        }
        // Broken JSON on an operation with no members at all.
        let r = call(s.addr, "DescribeLimits", "{\"a\":").await;
        assert_error(&r, 400, r#"{"__type":"SerializationException"}"#);
    }
}

both_backends! {
    #[tokio::test]
    async fn wrong_json_types_use_coral_texts() {
        let s = start().await;
        let cases = [
            (
                "CreateStream",
                r#"{"StreamName": 5}"#,
                "class java.math.BigDecimal can not be converted to an String",
            ),
            (
                "CreateStream",
                r#"{"StreamName": "s", "ShardCount": "x"}"#,
                "class java.lang.String can not be converted to an Integer",
            ),
            (
                "CreateStream",
                r#"{"StreamName": true}"#,
                "class java.lang.Boolean can not be converted to an String",
            ),
            (
                "PutRecords",
                r#"{"StreamName": "s", "Records": {}}"#,
                "Start of structure or map found where not expected.",
            ),
            (
                "CreateStream",
                r#"{"StreamName": ["a"]}"#,
                "Start of list found where not expected",
            ),
        ];
        for (op, body, message) in cases {
            let r = call(s.addr, op, body).await;
            let expected = json!({"__type": "SerializationException", "message": message}).to_string();
            assert_error(&r, 400, &expected);
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn authentication_errors() {
        let s = start().await;
        // No Authorization header at all.
        let r = send_raw(
            s.addr,
            &request_bytes(
                "POST",
                Some("Kinesis_20131202.ListStreams"),
                None,
                b"{}",
                false,
            ),
        )
        .await;
        assert_error(
            &r,
            400,
            r#"{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}"#,
        );

        // An Authorization header without Credential=.
        let bad = "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc";
        let r = send_raw(
            s.addr,
            &request_bytes(
                "POST",
                Some("Kinesis_20131202.ListStreams"),
                Some(bad),
                b"{}",
                false,
            ),
        )
        .await;
        let expected = json!({
            "__type": "IncompleteSignatureException",
            "message": format!("Authorization header requires 'Credential' parameter. Authorization={bad}"),
        })
        .to_string();
        assert_error(&r, 400, &expected);

        // Garbage: every missing part is listed.
        let r = send_raw(
            s.addr,
            &request_bytes(
                "POST",
                Some("Kinesis_20131202.ListStreams"),
                Some("foo"),
                b"{}",
                false,
            ),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.error_type().as_deref(),
            Some("IncompleteSignatureException")
        );
        let msg = r.json()["message"].as_str().unwrap().to_string();
        for part in ["'Credential'", "'Signature'", "'SignedHeaders'"] {
            assert!(msg.contains(part), "{msg}");
        }
        assert!(msg.ends_with("Authorization=foo"), "{msg}");
    }
}

both_backends! {
    #[tokio::test]
    async fn non_post_methods_are_access_denied() {
        let s = start().await;
        for method in ["GET", "PUT", "DELETE"] {
            let r = send_raw(
                s.addr,
                &request_bytes(
                    method,
                    Some("Kinesis_20131202.ListStreams"),
                    Some(AUTH),
                    b"",
                    false,
                ),
            )
            .await;
            assert_eq!(r.status, 403, "{method}: {}", r.text());
            let text = r.text();
            assert!(text.contains("AccessDeniedException"), "{text}");
            assert!(
                text.contains("Unable to determine service/operation name to be authorized"),
                "{text}"
            );
            assert_request_id(&r);
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn missing_required_member_is_coral_validation() {
        let s = start().await;
        let r = call(s.addr, "CreateStream", "{}").await;
        assert_error(
            &r,
            400,
            r#"{"__type":"ValidationException","message":"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"}"#,
        );
        // Two violations are joined and counted.
        let r = call(s.addr, "CreateStream", r#"{"ShardCount": 0}"#).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json()["message"].as_str().unwrap(),
            "2 validation errors detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null; Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }
}

both_backends! {
    #[tokio::test]
    async fn invalid_base64_data_is_a_serialization_error() {
        let s = start().await;
        create_stream(s.addr, "b64", 1).await;
        let cases = [
            (
                "aGk",
                "'aGk' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
            (
                "aG!=",
                "'aG!=' can not be converted to a Blob: Invalid Base64 character: '!'",
            ),
        ];
        for (data, message) in cases {
            let body = json!({"StreamName": "b64", "PartitionKey": "k", "Data": data}).to_string();
            let r = call(s.addr, "PutRecord", &body).await;
            let expected = json!({"__type": "SerializationException", "message": message}).to_string();
            assert_error(&r, 400, &expected);
            // Same inside PutRecords.
            let body = json!({"StreamName": "b64", "Records": [{"PartitionKey": "k", "Data": data}]})
                .to_string();
            let r = call(s.addr, "PutRecords", &body).await;
            assert_eq!(r.status, 400, "{}", r.text());
            assert_eq!(r.error_type().as_deref(), Some("SerializationException"));
        }
        // Nothing was written.
        assert!(read_all(s.addr, "b64", "shardId-000000000000")
            .await
            .is_empty());
    }
}
