//! Bodies as the Java SDK encodes them (the PutRecord golden bytes of the unit test, as they are,
//! and every timestamp form), and malformed CBOR.

use super::*;

both_backends! {
    #[tokio::test]
    async fn java_sdk_style_bytes_and_every_timestamp_form() {
        let clock = ManualClock::new(1_700_000_000_000);
        let server = common::start_with_clock(Config::default(), &clock).await;
        let addr = server.local_addr();

        let (status, body, reply) = cbor_call(
            addr,
            "CreateStream",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("ShardCount", Cbor::Integer(1.into())),
            ])),
        )
        .await;
        assert_eq!((status, body.is_none()), (200, true));
        assert_eq!(reply.header("content-length"), Some("0"));

        // The PutRecord of the unit test's golden bytes, as is.
        let golden = "a36a53747265616d4e616d6561736444617461426869\
                      6c506172746974696f6e4b6579616b";
        let golden: Vec<u8> = (0..golden.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&golden[i..i + 2], 16).unwrap())
            .collect();
        let (status, body, _) = cbor_call(addr, "PutRecord", &golden).await;
        assert_eq!(status, 200);
        let body = body.unwrap();
        assert_eq!(member(&body, "ShardId"), &text("shardId-000000000000"));
        assert!(member(&body, "SequenceNumber").is_text());

        // A second record 10 s later.
        clock.advance_ms(10_000);
        let (status, _, _) = cbor_call(
            addr,
            "PutRecord",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("Data", Cbor::Bytes(vec![0, 0xff, 0x80])),
                ("PartitionKey", text("k")),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        clock.advance_ms(1_000);

        // AT_TIMESTAMP at 1_700_000_005_000 in every form finds only the second record.
        let at_ms = 1_700_000_005_000_i64;
        let forms = [
            ("untagged ms", Cbor::Integer(at_ms.into())),
            (
                "tag 1 ms",
                Cbor::Tag(1, Box::new(Cbor::Integer(at_ms.into()))),
            ),
            ("float seconds", Cbor::Float(at_ms as f64 / 1000.0)),
            (
                "tag 1 float seconds",
                Cbor::Tag(1, Box::new(Cbor::Float(at_ms as f64 / 1000.0))),
            ),
            ("float ms", Cbor::Float(at_ms as f64)),
        ];
        for (form, timestamp) in forms {
            let (status, body, _) = cbor_call(
                addr,
                "GetShardIterator",
                &encode(&map(vec![
                    ("StreamName", text("s")),
                    ("ShardId", text("shardId-000000000000")),
                    ("ShardIteratorType", text("AT_TIMESTAMP")),
                    ("Timestamp", timestamp),
                ])),
            )
            .await;
            assert_eq!(status, 200, "{form}: {body:?}");
            let iterator = member(body.as_ref().unwrap(), "ShardIterator").clone();
            let (status, body, _) = cbor_call(
                addr,
                "GetRecords",
                &encode(&map(vec![("ShardIterator", iterator)])),
            )
            .await;
            assert_eq!(status, 200, "{form}");
            let body = body.unwrap();
            let records = member(&body, "Records").as_array().unwrap();
            assert_eq!(records.len(), 1, "{form}");
            assert_eq!(
                member(&records[0], "Data"),
                &Cbor::Bytes(vec![0, 0xff, 0x80]),
                "{form}"
            );
            assert_eq!(
                member(&records[0], "ApproximateArrivalTimestamp"),
                &ms_timestamp(1_700_000_010_000),
                "{form}: tag 1 around integer milliseconds"
            );
            assert_eq!(
                member(&body, "MillisBehindLatest"),
                &Cbor::Integer(0.into())
            );
        }

        // StreamCreationTimestamp is tag 1 around integer milliseconds too; in bytes:
        // c1 (tag 1) 1b (64-bit unsigned) 0000018bcfe56800 (1_700_000_000_000).
        let (_, body, reply) = cbor_call(
            addr,
            "DescribeStreamSummary",
            &encode(&map(vec![("StreamName", text("s"))])),
        )
        .await;
        let summary = member(body.as_ref().unwrap(), "StreamDescriptionSummary");
        assert_eq!(
            member(summary, "StreamCreationTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        let mut golden = b"\x77StreamCreationTimestamp".to_vec();
        golden.extend([0xc1, 0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
        assert!(
            reply.body.windows(golden.len()).any(|w| w == golden),
            "{:02x?}",
            reply.body
        );
        server.shutdown().await;
    }
}

both_backends! {
    #[tokio::test]
    async fn malformed_cbor_is_a_serialization_exception_in_cbor() {
        let (server, _clock) = common::start(Config::default()).await;
        let addr = server.local_addr();
        let bodies: [&[u8]; 6] = [
            b"{\"StreamName\":\"s\"}", // JSON sent as CBOR
            &[0xa1, 0x6a],             // truncated
            &[0x81, 0xa0],             // an array, not a map
            &[0xa0, 0x00],             // trailing bytes
            &[
                0xa1, 0x6a, b'S', b't', b'r', b'e', b'a', b'm', b'N', b'a', b'm', b'e', 0xf5,
            ],
            &[0xff],
        ];
        for body in bodies {
            let (status, answer, reply) = cbor_call(addr, "DescribeStream", body).await;
            assert_eq!(status, 400, "{body:02x?}");
            assert_eq!(reply.header("content-type"), Some(CBOR_CT));
            let answer = answer.unwrap();
            assert_eq!(
                member(&answer, "__type"),
                &text("SerializationException"),
                "{body:02x?}"
            );
        }
        // The server is still serving.
        let (status, _, _) = cbor_call(addr, "ListStreams", &[0xa0]).await;
        assert_eq!(status, 200);
        server.shutdown().await;
    }
}
