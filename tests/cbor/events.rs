//! SubscribeToShard asked in CBOR: its event stream carries CBOR payloads.

use super::*;

/// Reads an HTTP/1.1 chunked answer incrementally and splits it into event-stream messages
/// (headers, payload) until `done` says enough.
async fn read_events(
    stream: &mut TcpStream,
    mut done: impl FnMut(&[(String, String)], &[u8]) -> bool,
) -> Vec<(Vec<(String, String)>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let mut head_end = None;
    let mut events = Vec::new();
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an event in time")
            .unwrap();
        assert!(n > 0, "the stream ended early");
        raw.extend_from_slice(&buf[..n]);
        if head_end.is_none() {
            head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
            let Some(end) = head_end else { continue };
            let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
            assert!(head.starts_with("http/1.1 200"), "{head}");
            assert!(
                head.contains("application/vnd.amazon.eventstream"),
                "{head}"
            );
            assert!(head.contains("transfer-encoding: chunked"), "{head}");
        }
        // Dechunk what has arrived (complete chunks only), then cut messages.
        let mut body = Vec::new();
        let mut rest = &raw[head_end.unwrap()..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
            if rest.len() < eol + 2 + size + 2 {
                break;
            }
            body.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        events.clear();
        let mut at = 0;
        while body.len() >= at + 12 {
            let total = u32::from_be_bytes(body[at..at + 4].try_into().unwrap()) as usize;
            let headers_len = u32::from_be_bytes(body[at + 4..at + 8].try_into().unwrap()) as usize;
            if body.len() < at + total {
                break;
            }
            let mut headers = Vec::new();
            let mut h = at + 12;
            while h < at + 12 + headers_len {
                let name_len = body[h] as usize;
                let name = String::from_utf8(body[h + 1..h + 1 + name_len].to_vec()).unwrap();
                h += 1 + name_len;
                assert_eq!(body[h], 7, "string headers only");
                let len = u16::from_be_bytes([body[h + 1], body[h + 2]]) as usize;
                let value = String::from_utf8(body[h + 3..h + 3 + len].to_vec()).unwrap();
                h += 3 + len;
                headers.push((name, value));
            }
            let payload = body[at + 12 + headers_len..at + total - 4].to_vec();
            at += total;
            events.push((headers, payload));
        }
        if events.iter().any(|(h, p)| done(h, p)) {
            return events;
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn subscribe_to_shard_events_are_cbor_when_asked_in_cbor() {
        let clock = ManualClock::new(1_700_000_000_000);
        let server = common::start_with_clock(Config::default(), &clock).await;
        let addr = server.local_addr();
        let (status, _, _) = cbor_call(
            addr,
            "CreateStream",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("ShardCount", Cbor::Integer(1.into())),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = cbor_call(
            addr,
            "PutRecord",
            &encode(&map(vec![
                ("StreamName", text("s")),
                ("Data", Cbor::Bytes(vec![1, 2, 3, 0xff])),
                ("PartitionKey", text("k")),
            ])),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body, _) = cbor_call(
            addr,
            "RegisterStreamConsumer",
            &encode(&map(vec![
                (
                    "StreamARN",
                    text("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
                ),
                ("ConsumerName", text("c")),
            ])),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        let consumer = member(body.as_ref().unwrap(), "Consumer");
        let consumer_arn = member(consumer, "ConsumerARN").clone();
        assert_eq!(
            member(consumer, "ConsumerCreationTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        clock.advance_ms(1_000);

        let request = encode(&map(vec![
            ("ConsumerARN", consumer_arn),
            ("ShardId", text("shardId-000000000000")),
            (
                "StartingPosition",
                map(vec![("Type", text("TRIM_HORIZON"))]),
            ),
        ]));
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: Kinesis_20131202.SubscribeToShard\r\nContent-Type: {CBOR_CT}\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: {AUTH}\r\nContent-Length: {}\r\n\r\n",
            request.len()
        );
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let is_event = |headers: &[(String, String)]| {
            headers
                .iter()
                .any(|(n, v)| n == ":event-type" && v == "SubscribeToShardEvent")
        };
        let events = read_events(&mut stream, |h, _| is_event(h)).await;
        let (headers, payload) = events.iter().find(|(h, _)| is_event(h)).unwrap();
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == ":content-type" && v == CBOR_CT),
            "{headers:?}"
        );
        let event: Cbor = ciborium::de::from_reader(&payload[..]).unwrap();
        let records = member(&event, "Records").as_array().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            member(&records[0], "Data"),
            &Cbor::Bytes(vec![1, 2, 3, 0xff])
        );
        assert_eq!(
            member(&records[0], "ApproximateArrivalTimestamp"),
            &ms_timestamp(1_700_000_000_000)
        );
        assert!(member(&event, "ContinuationSequenceNumber").is_text());
        assert!(member(&event, "MillisBehindLatest").is_integer());
        drop(stream);
        server.shutdown().await;
    }
}
