//! Successful responses: headers, empty bodies, keep-alive, number and timestamp formats, quoted
//! iterators.

use super::*;

both_backends! {
    #[tokio::test]
    async fn success_headers_and_empty_output() {
        let s = start().await;
        let r = call(
            s.addr,
            "CreateStream",
            r#"{"StreamName":"hdr","ShardCount":1}"#,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.body.is_empty(), "CreateStream body: {:?}", r.text());
        assert_eq!(r.header("content-length"), Some("0"));
        assert_eq!(r.header("content-type"), Some(JSON_CT));
        assert_request_id(&r);
        assert!(r.header("x-amz-id-2").is_some());

        let r = call(s.addr, "DescribeLimits", "{}").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(JSON_CT));
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
        assert_request_id(&r);
        let v = r.json();
        assert_eq!(v["ShardLimit"], 500);
        assert_eq!(v["OpenShardCount"], 1);

        // Request ids differ per request.
        let r2 = call(s.addr, "DescribeLimits", "{}").await;
        assert_ne!(r.header("x-amzn-RequestId"), r2.header("x-amzn-RequestId"));

        // `application/json` is read as JSON too, and answered in the Kinesis JSON type.
        let req = String::from_utf8(request_bytes(
            "POST",
            Some("Kinesis_20131202.DescribeLimits"),
            Some(AUTH),
            b"{}",
            false,
        ))
        .unwrap()
        .replace(JSON_CT, "application/json");
        let r = send_raw(s.addr, req.as_bytes()).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some(JSON_CT));
    }
}

both_backends! {
    #[tokio::test]
    async fn keep_alive_connection_serves_many_requests_including_errors() {
        let s = start().await;
        let mut conn = Conn::open(s.addr).await;
        for i in 0..50 {
            let (target, body): (&str, &[u8]) = match i % 3 {
                0 => ("Kinesis_20131202.DescribeLimits", b"{}"),
                1 => ("Kinesis_20131202.Nope", b"{}"),
                _ => ("Kinesis_20131202.CreateStream", b"{"),
            };
            let r = conn
                .roundtrip(&request_bytes("POST", Some(target), Some(AUTH), body, true))
                .await;
            assert_eq!(r.status, if i % 3 == 0 { 200 } else { 400 });
        }
    }
}

/// `digits` or `digits.fraction` with 1–3 fraction digits; never an exponent.
fn assert_plain_decimal(raw: &str, what: &str) {
    let (int, frac) = match raw.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (raw, None),
    };
    assert!(
        !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()),
        "{what} = {raw}"
    );
    if let Some(f) = frac {
        assert!(
            (1..=3).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()),
            "{what} = {raw}"
        );
    }
}

/// The raw JSON text of every value of `"key":` in a body.
fn raw_numbers(body: &str, key: &str) -> Vec<String> {
    let pat = format!("\"{key}\":");
    body.match_indices(&pat)
        .map(|(i, _)| {
            body[i + pat.len()..]
                .trim_start()
                .chars()
                .take_while(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                .collect()
        })
        .collect()
}

both_backends! {
    #[tokio::test]
    async fn timestamps_are_plain_decimals_with_millisecond_precision() {
        let s = start().await;
        // Creation at a whole second plus 100 ms.
        s.clock.set_ms(1_700_000_000_100);
        create_stream(s.addr, "ts", 1).await;
        let r = call(s.addr, "DescribeStreamSummary", r#"{"StreamName":"ts"}"#).await;
        assert_eq!(r.status, 200);
        let raw = raw_numbers(&r.text(), "StreamCreationTimestamp");
        assert_eq!(raw, vec!["1700000000.1".to_string()], "{}", r.text());

        // Records at varied millisecond offsets (arrival times never go backwards).
        let times = [
            1_700_000_001_000,
            1_700_000_001_001,
            1_700_000_001_010,
            1_700_000_001_999,
            1_700_000_002_120,
            // Still inside the 24 h retention window of the earlier ones.
            1_700_050_000_042,
        ];
        for (i, t) in times.iter().enumerate() {
            s.clock.set_ms(*t);
            ok(
                s.addr,
                "PutRecord",
                json!({"StreamName": "ts", "PartitionKey": "k", "Data": b64(&[i as u8])}),
            )
            .await;
        }
        let it = trim_horizon(s.addr, "ts", "shardId-000000000000").await;
        let r = call(
            s.addr,
            "GetRecords",
            &json!({"ShardIterator": it}).to_string(),
        )
        .await;
        assert_eq!(r.status, 200);
        let body = r.text();
        let raw = raw_numbers(&body, "ApproximateArrivalTimestamp");
        assert_eq!(raw.len(), times.len(), "{body}");
        for (raw, t) in raw.iter().zip(times) {
            assert_plain_decimal(raw, "ApproximateArrivalTimestamp");
            let ms = (raw.parse::<f64>().unwrap() * 1000.0).round() as i64;
            assert_eq!(ms, t, "{raw}");
        }
        assert_eq!(raw[0], "1700000001");
        assert_eq!(raw[1], "1700000001.001");
        assert_eq!(raw[2], "1700000001.01");
        assert_eq!(raw[5], "1700050000.042");

        // ListStreams summaries carry a timestamp too.
        let r = call(s.addr, "ListStreams", "{}").await;
        for raw in raw_numbers(&r.text(), "StreamCreationTimestamp") {
            assert_plain_decimal(&raw, "ListStreams StreamCreationTimestamp");
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn shard_iterator_in_literal_quotes_works() {
        let s = start().await;
        create_stream(s.addr, "quoted", 1).await;
        ok(
            s.addr,
            "PutRecord",
            json!({"StreamName": "quoted", "PartitionKey": "k", "Data": b64(b"hello")}),
        )
        .await;
        let it = trim_horizon(s.addr, "quoted", "shardId-000000000000").await;
        let v = ok(
            s.addr,
            "GetRecords",
            json!({"ShardIterator": format!("\"{it}\"")}),
        )
        .await;
        let recs = v["Records"].as_array().unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(unb64(recs[0]["Data"].as_str().unwrap()), b"hello");
        assert!(v["NextShardIterator"].is_string());

        // A tampered iterator is InvalidArgument, not a 500.
        let mut bad = it.clone().into_bytes();
        let i = bad.len() / 2;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        let r = call(
            s.addr,
            "GetRecords",
            &json!({"ShardIterator": String::from_utf8(bad).unwrap()}).to_string(),
        )
        .await;
        assert_error(
            &r,
            400,
            r#"{"__type":"InvalidArgumentException","message":"Invalid ShardIterator."}"#,
        );
    }
}
