//! Protocol corners pinned with hand-written HTTP/1.1 and HTTP/2 (h2c) requests: status codes,
//! exact error bodies, headers, number formats, body limits, and a seeded fuzz run.

mod common;

use common::raw::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    _server: kinesd::Server,
    clock: kinesd::ManualClock,
    addr: SocketAddr,
}

async fn start() -> Server {
    let (server, clock) = common::start(kinesd::Config::default()).await;
    let addr = server.local_addr();
    Server {
        _server: server,
        clock,
        addr,
    }
}

/// Calls `op` and insists on 200; returns the parsed body (`Null` for an empty one).
async fn ok(addr: SocketAddr, op: &str, body: Value) -> Value {
    let r = call(addr, op, &body.to_string()).await;
    assert_eq!(r.status, 200, "{op} failed: {}", r.text());
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

fn assert_error(r: &Resp, status: u16, exact_body: &str) {
    assert_eq!(r.status, status, "body: {}", r.text());
    assert_eq!(r.text(), exact_body);
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    assert_request_id(r);
}

fn assert_request_id(r: &Resp) {
    let id = r
        .header("x-amzn-RequestId")
        .expect("x-amzn-RequestId header");
    let b = id.as_bytes();
    assert_eq!(b.len(), 36, "request id {id:?}");
    for (i, c) in b.iter().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            assert_eq!(*c, b'-', "request id {id:?}");
        } else {
            assert!(c.is_ascii_hexdigit(), "request id {id:?}");
        }
    }
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unb64(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 {c}"),
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let pads = chunk.iter().filter(|c| **c == b'=').count();
        let mut n = 0u32;
        for &c in chunk {
            n = n << 6 | if c == b'=' { 0 } else { val(c) as u32 };
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pads]);
    }
    out
}

async fn create_stream(addr: SocketAddr, name: &str, shards: u32) {
    ok(
        addr,
        "CreateStream",
        json!({"StreamName": name, "ShardCount": shards}),
    )
    .await;
}

async fn trim_horizon(addr: SocketAddr, stream: &str, shard: &str) -> String {
    let v = ok(
        addr,
        "GetShardIterator",
        json!({"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await;
    v["ShardIterator"].as_str().unwrap().to_string()
}

/// All records of a shard from TRIM_HORIZON to the tip.
async fn read_all(addr: SocketAddr, stream: &str, shard: &str) -> Vec<Value> {
    let mut it = trim_horizon(addr, stream, shard).await;
    let mut out = Vec::new();
    loop {
        let v = ok(addr, "GetRecords", json!({"ShardIterator": it})).await;
        let recs = v["Records"].as_array().unwrap().clone();
        let empty = recs.is_empty();
        out.extend(recs);
        if empty {
            return out;
        }
        it = v["NextShardIterator"].as_str().unwrap().to_string();
    }
}

// ---------------------------------------------------------------------------------------------
// Protocol-level errors
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Body size limit
// ---------------------------------------------------------------------------------------------

both_backends! {
    #[tokio::test]
    async fn oversize_body_is_refused_before_it_is_read() {
        let s = start().await;
        let declared = 16 * 1024 * 1024 + 1;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: {JSON_CT}\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\nAuthorization: {AUTH}\r\nX-Amz-Date: {AMZ_DATE}\r\nContent-Length: {declared}\r\n\r\n"
        );
        let started = std::time::Instant::now();
        let mut sock = TcpStream::connect(s.addr).await.unwrap();
        sock.write_all(head.as_bytes()).await.unwrap();
        // Only the head was sent: a server that waited for the body would never answer.
        let mut buf = Vec::new();
        let resp = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some(r) = take_response(&mut buf, false) {
                    return r;
                }
                let mut chunk = [0u8; 4096];
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    return take_response(&mut buf, true).expect("full response before close");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("413 must come without the body being sent");
        assert_eq!(resp.status, 413, "{}", resp.text());
        assert_eq!(resp.error_type().as_deref(), Some("SerializationException"));
        assert_eq!(resp.header("content-type"), Some(JSON_CT));
        assert_request_id(&resp);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(sock);

        // Exactly the limit is not refused for its size (it is just not valid JSON here).
        let r = send_raw(
            s.addr,
            &request_bytes(
                "POST",
                Some("Kinesis_20131202.DescribeLimits"),
                Some(AUTH),
                &vec![b' '; 16 * 1024 * 1024],
                false,
            ),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text());

        // The server still serves.
        let v = ok(s.addr, "DescribeLimits", json!({})).await;
        assert_eq!(v["ShardLimit"], 500);
    }
}

both_backends! {
    #[tokio::test]
    async fn oversize_chunked_body_is_cut_off() {
        let s = start().await;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: {JSON_CT}\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\nAuthorization: {AUTH}\r\nX-Amz-Date: {AMZ_DATE}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let sock = TcpStream::connect(s.addr).await.unwrap();
        let (mut rd, mut wr) = sock.into_split();
        // The writer keeps sending 1 MiB chunks (up to 20 MiB) and stops quietly once the server
        // has closed; the reader must see a 413 meanwhile.
        let writer = tokio::spawn(async move {
            if wr.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 1024 * 1024];
            for _ in 0..20 {
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if wr.write_all(&frame).await.is_err() {
                    return;
                }
            }
            let _ = wr.write_all(b"0\r\n\r\n").await;
        });
        let mut buf = Vec::new();
        let resp = tokio::time::timeout(IO_TIMEOUT, async {
            loop {
                if let Some(r) = take_response(&mut buf, false) {
                    return Some(r);
                }
                let mut chunk = [0u8; 4096];
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => return take_response(&mut buf, true),
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .expect("no answer to an endless chunked body");
        writer.abort();
        // A reset can occasionally swallow the answer; what matters is that the server did not
        // buffer 20 MiB and keeps serving.
        if resp.is_none() {
            eprintln!("oversize chunked: connection reset before the 413 could be read");
        }
        if let Some(resp) = resp {
            assert_eq!(resp.status, 413, "{}", resp.text());
            assert_eq!(resp.error_type().as_deref(), Some("SerializationException"));
        }
        let v = ok(s.addr, "DescribeLimits", json!({})).await;
        assert_eq!(v["ShardLimit"], 500);
    }
}

// ---------------------------------------------------------------------------------------------
// Successful responses: headers, empty bodies, number formats, quoted iterators
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// HTTP/2 cleartext (prior knowledge)
// ---------------------------------------------------------------------------------------------

both_backends! {
    #[tokio::test]
    async fn h2c_prior_knowledge_describe_limits() {
        let s = start().await;
        let (status, headers, body) = h2_call(s.addr, "DescribeLimits", "{}").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let get = |n: &str| {
            headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("content-type").as_deref(), Some(JSON_CT));
        assert!(get("x-amzn-requestid").is_some());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["ShardLimit"], 500);
        assert_eq!(v["OpenShardCount"], 0);

        // Errors over h2 look the same.
        let (status, _, body) = h2_call(s.addr, "Nope", "{}").await;
        assert_eq!(status, 400);
        assert_eq!(body, br#"{"__type":"UnknownOperationException"}"#);
    }
}

/// A minimal hand-rolled HTTP/2 client, to do what the JS SDK v3 does and no library client
/// lets us do: send GOAWAY(last_stream_id = 0) as soon as the response headers arrive.
mod raw_h2 {
    use super::*;

    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PING: u8 = 6;
    pub const GOAWAY: u8 = 7;
    pub const WINDOW_UPDATE: u8 = 8;
    pub const CONTINUATION: u8 = 9;

    pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn hpack_int(out: &mut Vec<u8>, prefix_bits: u8, first: u8, mut v: usize) {
        let max = (1usize << prefix_bits) - 1;
        if v < max {
            out.push(first | v as u8);
            return;
        }
        out.push(first | max as u8);
        v -= max;
        while v >= 128 {
            out.push((v % 128) as u8 | 0x80);
            v /= 128;
        }
        out.push(v as u8);
    }

    /// Header block of "literal without indexing, new name" fields, no Huffman coding.
    pub fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, v) in fields {
            out.push(0x00);
            hpack_int(&mut out, 7, 0, n.len());
            out.extend_from_slice(n.as_bytes());
            hpack_int(&mut out, 7, 0, v.len());
            out.extend_from_slice(v.as_bytes());
        }
        out
    }

    pub async fn read_frame(s: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.ok()?;
        let len = (head[0] as usize) << 16 | (head[1] as usize) << 8 | head[2] as usize;
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.ok()?;
        Some((head[3], head[4], stream, payload))
    }
}

both_backends! {
    #[tokio::test]
    async fn h2c_client_goaway_after_headers_still_gets_the_whole_body() {
        use raw_h2::*;
        let s = start().await;
        create_stream(s.addr, "goaway", 1).await;
        // A response far larger than the 64 KiB initial flow-control window, so most of the body
        // can only be sent after our GOAWAY (and our WINDOW_UPDATEs).
        let mut expected = Vec::new();
        for i in 0..4u8 {
            let data: Vec<u8> = (0..700_000u32).map(|j| (j as u8) ^ i).collect();
            ok(
                s.addr,
                "PutRecords",
                json!({"StreamName": "goaway", "Records": [{"PartitionKey": "k", "Data": b64(&data)}]}),
            )
            .await;
            expected.push(data);
        }
        let it = trim_horizon(s.addr, "goaway", "shardId-000000000000").await;
        let body = json!({"ShardIterator": it}).to_string();

        let mut sock = TcpStream::connect(s.addr).await.unwrap();
        let authority = s.addr.to_string();
        let len = body.len().to_string();
        let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        out.extend(frame(SETTINGS, 0, 0, &[]));
        let block = header_block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", &authority),
            ("content-type", JSON_CT),
            ("x-amz-target", "Kinesis_20131202.GetRecords"),
            ("authorization", AUTH),
            ("x-amz-date", AMZ_DATE),
            ("content-length", &len),
        ]);
        out.extend(frame(HEADERS, 0x4, 1, &block)); // END_HEADERS
        out.extend(frame(DATA, 0x1, 1, body.as_bytes())); // END_STREAM
        sock.write_all(&out).await.unwrap();

        let mut got_headers = false;
        let mut sent_goaway = false;
        let mut received = Vec::new();
        let mut finished = false;
        let result = tokio::time::timeout(IO_TIMEOUT, async {
            while let Some((kind, flags, stream, payload)) = read_frame(&mut sock).await {
                match kind {
                    SETTINGS if flags & 0x1 == 0 => {
                        sock.write_all(&frame(SETTINGS, 0x1, 0, &[])).await.unwrap();
                    }
                    PING if flags & 0x1 == 0 => {
                        sock.write_all(&frame(PING, 0x1, 0, &payload))
                            .await
                            .unwrap();
                    }
                    HEADERS | CONTINUATION if stream == 1 => {
                        if kind == HEADERS {
                            // :status 200 is static-table index 8.
                            assert_eq!(payload.first(), Some(&0x88), "status is not 200");
                        }
                        got_headers = true;
                        if !sent_goaway {
                            let mut p = 0u32.to_be_bytes().to_vec(); // last stream id 0
                            p.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR
                            sock.write_all(&frame(GOAWAY, 0, 0, &p)).await.unwrap();
                            sent_goaway = true;
                        }
                        if flags & 0x1 != 0 {
                            finished = true;
                            break;
                        }
                    }
                    DATA if stream == 1 => {
                        assert!(sent_goaway, "DATA before HEADERS");
                        received.extend_from_slice(&payload);
                        if flags & 0x1 == 0 && !payload.is_empty() {
                            let inc = (payload.len() as u32).to_be_bytes();
                            let mut w = frame(WINDOW_UPDATE, 0, 0, &inc);
                            w.extend(frame(WINDOW_UPDATE, 0, 1, &inc));
                            sock.write_all(&w).await.expect("server closed mid-body");
                        }
                        if flags & 0x1 != 0 {
                            finished = true;
                            break;
                        }
                    }
                    RST_STREAM => panic!("server reset the stream: {payload:?}"),
                    GOAWAY => {} // the server may answer in kind; the body must still arrive
                    _ => {}
                }
            }
        })
        .await;
        result.expect("h2 exchange timed out");
        assert!(got_headers, "no response headers");
        assert!(
            finished,
            "stream ended without END_STREAM after {} body bytes",
            received.len()
        );
        let v: Value = serde_json::from_slice(&received).expect("complete JSON body");
        let recs = v["Records"].as_array().unwrap();
        assert_eq!(recs.len(), expected.len());
        for (r, want) in recs.iter().zip(&expected) {
            assert_eq!(&unb64(r["Data"].as_str().unwrap()), want);
        }
        assert!(received.len() > 3_000_000);
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn odd_values(rng: &mut Rng) -> Value {
    let pool = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5),
        json!(1e300),
        json!(-0.0),
        json!(""),
        json!("x"),
        json!("AAAA"),
        json!("TRIM_HORIZON"),
        json!("shardId-000000000000"),
        json!("shardId-999999999999"),
        json!("0"),
        json!("340282366920938463463374607431768211456"),
        json!("49590338271490256608559692538361571095921575989136588898"),
        json!("ü∂ƒ©˙∆˚¬…æ"),
        json!("\u{0000}\u{001f}"),
        json!("a".repeat(300)),
        json!("a".repeat(5000)),
        json!([]),
        json!([1, 2]),
        json!([{}]),
        json!({}),
        json!({"a": 1}),
        json!("arn:aws:kinesis:us-east-1:000000000000:stream/fuzz"),
        json!("arn:aws:kinesis:us-east-1:00000000000:stream/"),
    ];
    rng.pick(&pool).clone()
}

fn mutate_value(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(map) if !map.is_empty() && depth < 4 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(5) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, odd_values(rng));
                }
                2 => {
                    let extra = *rng.pick(&["Unknown", "streamName", "", "__type", "Limit"]);
                    map.insert(extra.to_string(), odd_values(rng));
                }
                _ => mutate_value(rng, map.get_mut(&key).unwrap(), depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 4 => {
            let i = rng.below(items.len());
            match rng.below(4) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    for _ in 0..rng.below(600) {
                        items.push(copy.clone());
                    }
                }
                _ => mutate_value(rng, &mut items[i], depth + 1),
            }
        }
        _ => *v = odd_values(rng),
    }
}

fn mutate_bytes(rng: &mut Rng, body: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        if body.is_empty() {
            body.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(body.len());
        match rng.below(7) {
            0 => body[at] ^= 1 << rng.below(8),
            1 => body[at] = rng.next() as u8,
            2 => {
                let end = (at + 1 + rng.below(8)).min(body.len());
                body.drain(at..end);
            }
            3 => {
                let junk = *rng.pick(&[
                    &b"{"[..],
                    b"}",
                    b"[",
                    b"\"",
                    b"\\",
                    b"\\u00",
                    b"\xff\xfe",
                    b"1e99999",
                    b"-",
                    b",",
                    b":",
                    b"null",
                ]);
                body.splice(at..at, junk.iter().copied());
            }
            4 => body.truncate(at),
            5 => {
                let end = (at + 1 + rng.below(16)).min(body.len());
                let piece = body[at..end].to_vec();
                body.splice(at..at, piece);
            }
            _ => {
                let deep = 1 + rng.below(5000);
                let mut nested = vec![b'['; deep];
                nested.extend(vec![b']'; deep]);
                body.splice(at..at, nested);
            }
        }
    }
}

both_backends! {
    #[tokio::test]
    async fn fuzzed_bodies_get_json_4xx_and_never_break_the_server() {
        let s = start().await;
        create_stream(s.addr, "fuzz", 2).await;
        // Records written before the fuzz run; they must survive it untouched.
        let mut acked: Vec<(String, String, Vec<u8>)> = Vec::new();
        for i in 0..20u32 {
            let data = format!("before-{i}").into_bytes();
            let v = ok(
                s.addr,
                "PutRecord",
                json!({"StreamName": "fuzz", "PartitionKey": format!("pk{i}"), "Data": b64(&data)}),
            )
            .await;
            acked.push((
                v["ShardId"].as_str().unwrap().to_string(),
                v["SequenceNumber"].as_str().unwrap().to_string(),
                data,
            ));
        }
        let it = trim_horizon(s.addr, "fuzz", "shardId-000000000000").await;
        let shards_token = ok(
            s.addr,
            "ListShards",
            json!({"StreamName": "fuzz", "MaxResults": 1}),
        )
        .await["NextToken"]
            .clone();
        assert!(shards_token.is_string());
        let seeds: Vec<(&str, Value)> = vec![
            (
                "ListShards",
                json!({"NextToken": shards_token, "MaxResults": 1}),
            ),
            (
                "GetRecords",
                json!({"ShardIterator": format!("\"{it}\""), "Limit": 10000}),
            ),
            (
                "CreateStream",
                json!({"StreamName": "fz", "ShardCount": 1, "StreamModeDetails": {"StreamMode": "PROVISIONED"}, "Tags": {"a": "b"}}),
            ),
            (
                "PutRecord",
                json!({"StreamName": "fuzz", "PartitionKey": "p", "Data": "aGVsbG8=", "ExplicitHashKey": "1", "SequenceNumberForOrdering": acked[0].1}),
            ),
            (
                "PutRecords",
                json!({"StreamName": "fuzz", "Records": [{"PartitionKey": "p", "Data": "aGk="}, {"PartitionKey": "q", "Data": "", "ExplicitHashKey": "7"}]}),
            ),
            (
                "GetShardIterator",
                json!({"StreamName": "fuzz", "ShardId": "shardId-000000000001", "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": acked[1].1}),
            ),
            (
                "GetShardIterator",
                json!({"StreamName": "fuzz", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1.5e9}),
            ),
            ("GetRecords", json!({"ShardIterator": it, "Limit": 5})),
            (
                "ListShards",
                json!({"StreamName": "fuzz", "MaxResults": 1, "ShardFilter": {"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"}}),
            ),
            (
                "ListStreams",
                json!({"Limit": 2, "ExclusiveStartStreamName": "a"}),
            ),
            (
                "DescribeStream",
                json!({"StreamName": "fuzz", "Limit": 1, "ExclusiveStartShardId": "shardId-000000000000"}),
            ),
            ("DescribeStreamSummary", json!({"StreamName": "fuzz"})),
            (
                "AddTagsToStream",
                json!({"StreamName": "fuzz", "Tags": {"k": "v"}}),
            ),
            (
                "ListTagsForStream",
                json!({"StreamName": "fuzz", "Limit": 10}),
            ),
            (
                "IncreaseStreamRetentionPeriod",
                json!({"StreamName": "fuzz", "RetentionPeriodHours": 48}),
            ),
            ("DescribeLimits", json!({})),
        ];

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut conn = Conn::open(s.addr).await;
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        let mut successes = 0usize;
        const CASES: usize = 3000;
        for case in 0..CASES {
            let (op, seed) = rng.pick(&seeds).clone();
            let body: Vec<u8> = match rng.below(3) {
                0 => {
                    let mut v = seed.clone();
                    for _ in 0..1 + rng.below(3) {
                        mutate_value(&mut rng, &mut v, 0);
                    }
                    v.to_string().into_bytes()
                }
                1 => {
                    let mut b = seed.to_string().into_bytes();
                    mutate_bytes(&mut rng, &mut b);
                    b
                }
                _ => {
                    let mut v = seed.clone();
                    mutate_value(&mut rng, &mut v, 0);
                    let mut b = v.to_string().into_bytes();
                    mutate_bytes(&mut rng, &mut b);
                    b
                }
            };
            let target = format!("Kinesis_20131202.{op}");
            let r = conn
                .roundtrip(&request_bytes(
                    "POST",
                    Some(&target),
                    Some(AUTH),
                    &body,
                    true,
                ))
                .await;
            let shown = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            assert!(
                r.status == 200 || (400..500).contains(&r.status),
                "case {case} {op}: status {} for {} -> {}",
                r.status,
                shown(),
                r.text()
            );
            if r.status == 200 {
                successes += 1;
                // A mutation can still be a valid request; then it must answer like one.
                if !r.body.is_empty() {
                    r.json();
                }
            } else {
                let ty = r.error_type().unwrap_or_else(|| {
                    panic!(
                        "case {case} {op}: no JSON __type for {} -> {}",
                        shown(),
                        r.text()
                    )
                });
                *counts.entry(ty).or_default() += 1;
            }
            assert_eq!(r.header("content-type"), Some(JSON_CT));
            // Interleave a valid write now and then; it must be acknowledged and kept.
            if case % 100 == 0 {
                let data = format!("during-{case}").into_bytes();
                let req = json!({"StreamName": "fuzz", "PartitionKey": format!("d{case}"), "Data": b64(&data)})
                    .to_string();
                let r = conn
                    .roundtrip(&request_bytes(
                        "POST",
                        Some("Kinesis_20131202.PutRecord"),
                        Some(AUTH),
                        req.as_bytes(),
                        true,
                    ))
                    .await;
                assert_eq!(r.status, 200, "{}", r.text());
                let v = r.json();
                acked.push((
                    v["ShardId"].as_str().unwrap().to_string(),
                    v["SequenceNumber"].as_str().unwrap().to_string(),
                    data,
                ));
            }
        }
        eprintln!("fuzz: {CASES} cases, {successes} accepted, errors by type: {counts:?}");
        assert!(
            successes < CASES / 2,
            "most mutations should be rejected ({successes} accepted)"
        );

        // The server still answers, on a fresh connection too.
        let v = ok(s.addr, "DescribeLimits", json!({})).await;
        assert!(v["ShardLimit"].is_number());
        // Every acknowledged record reads back with its sequence number and data.
        for shard in ["shardId-000000000000", "shardId-000000000001"] {
            let records = read_all(s.addr, "fuzz", shard).await;
            let seen: std::collections::HashMap<String, Vec<u8>> = records
                .iter()
                .map(|r| {
                    (
                        r["SequenceNumber"].as_str().unwrap().to_string(),
                        unb64(r["Data"].as_str().unwrap()),
                    )
                })
                .collect();
            for (sid, seq, data) in acked.iter().filter(|a| a.0 == shard) {
                assert_eq!(seen.get(seq), Some(data), "record {seq} on {sid} lost");
            }
        }
    }
}
