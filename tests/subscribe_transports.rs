//! SubscribeToShard over the other transports: TLS with HTTP/2 through the Rust SDK (trusting
//! the generated CA), and h2c prior knowledge through a raw HTTP/2 client that drops its
//! request handle right after the response headers, as the JS SDK v3 does; and the framing of
//! the event stream on the wire: one event-stream message per HTTP/1.1 chunk and per HTTP/2
//! DATA frame (the lifion-kinesis consumer parses every chunk as the start of a message).

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::SubscribeToShardEventStream;
use aws_sdk_kinesis::Client;
use common::raw::AUTH;
use kinesd::Config;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A stream with one shard, one record, and an ACTIVE consumer; returns the consumer ARN.
async fn prepare(c: &Client) -> String {
    c.create_stream()
        .stream_name("s")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    c.put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new("first"))
        .send()
        .await
        .unwrap();
    let stream_arn = c
        .describe_stream_summary()
        .stream_name("s")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap()
        .stream_arn;
    c.register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name("c")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
        .consumer_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_over_tls_h2_with_the_sdk() {
    let server = common::serve(Config::default()).await;
    let ca = server.tls_ca_pem().expect("a generated CA");
    let endpoint = server.https_endpoint().expect("TLS is on");
    let c = common::tls_client(&endpoint, &ca);
    let consumer = prepare(&c).await;
    let mut events =
        common::subscribe_from_trim_horizon(&c, &consumer, "shardId-000000000000").await;
    let first = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let SubscribeToShardEventStream::SubscribeToShardEvent(e) = first else {
        panic!("unexpected {first:?}")
    };
    assert_eq!(e.records().len(), 1);
    assert_eq!(e.records()[0].data().as_ref(), b"first");
    c.put_record()
        .stream_name("s")
        .partition_key("k")
        .data(Blob::new("second"))
        .send()
        .await
        .unwrap();
    let pushed = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let SubscribeToShardEventStream::SubscribeToShardEvent(e) = next {
            if !e.records().is_empty() {
                break e;
            }
        }
    };
    assert_eq!(pushed.records()[0].data().as_ref(), b"second");
}

/// Splits event-stream messages out of a byte buffer: (headers text, payload) pairs.
fn messages(mut buf: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 12 {
        let total = u32::from_be_bytes(buf[0..4].try_into().unwrap()) as usize;
        let headers_len = u32::from_be_bytes(buf[4..8].try_into().unwrap()) as usize;
        if buf.len() < total {
            break;
        }
        let headers = String::from_utf8_lossy(&buf[12..12 + headers_len]).to_string();
        let payload = buf[12 + headers_len..total - 4].to_vec();
        out.push((headers, payload));
        buf = &buf[total..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_over_h2c_keeps_streaming_after_the_client_lets_go_of_the_request() {
    let server = common::serve(Config::default()).await;
    let consumer = prepare(&common::client(&server.endpoint())).await;
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let conn = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let body = format!(
        r#"{{"ConsumerARN":"{consumer}","ShardId":"shardId-000000000000","StartingPosition":{{"Type":"TRIM_HORIZON"}}}}"#
    );
    let req = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{}/", server.local_addr()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
        .header("authorization", AUTH)
        .header("x-amz-date", "20260101T000000Z")
        .body(())
        .unwrap();
    let (resp, mut send) = client.send_request(req, false).unwrap();
    send.send_data(bytes::Bytes::from(body), true).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), resp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    // The JS SDK lets go of its session handle once it has the headers; the body must go on.
    drop(client);
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            buf.extend_from_slice(&chunk);
            let msgs = messages(&buf);
            if msgs.len() >= 2 {
                return msgs;
            }
        }
        messages(&buf)
    })
    .await
    .expect("two messages in time");
    assert!(found[0].0.contains("initial-response"), "{:?}", found[0].0);
    assert_eq!(found[0].1, b"{}");
    assert!(found[1].0.contains("SubscribeToShardEvent"));
    let event: serde_json::Value = serde_json::from_slice(&found[1].1).unwrap();
    assert_eq!(event["Records"][0]["Data"], "Zmlyc3Q=");
    assert!(event["ContinuationSequenceNumber"].as_str().unwrap().len() == 56);
    conn.abort();
}

/// The subscription request body in JSON, from TRIM_HORIZON.
fn subscribe_body(consumer: &str) -> String {
    format!(
        r#"{{"ConsumerARN":"{consumer}","ShardId":"shardId-000000000000","StartingPosition":{{"Type":"TRIM_HORIZON"}}}}"#
    )
}

/// A config whose idle subscriptions send an (empty) event every 10 ms, so that events come
/// back to back even between the writer's records.
fn busy_config() -> Config {
    Config {
        subscribe_heartbeat_ms: 10,
        ..Config::default()
    }
}

/// Puts `count` records of growing sizes (a few bytes to ~40 KB) one after another.
fn spawn_writer(c: Client, count: usize) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for i in 0..count {
            c.put_record()
                .stream_name("s")
                .partition_key("k")
                .data(Blob::new(vec![b'x'; 1 + i * 2_000]))
                .send()
                .await
                .unwrap();
        }
    })
}

/// Checks that `payload` (one chunk or DATA frame) is exactly one whole event-stream message:
/// its prelude's total length is the payload's length and the message decodes (both CRCs
/// right) with nothing left over. Returns the message's `:event-type` or `:message-type`.
fn one_whole_message(payload: &[u8], what: &str) -> String {
    assert!(payload.len() >= 16, "{what}: {} bytes", payload.len());
    let total = u32::from_be_bytes(payload[0..4].try_into().unwrap()) as usize;
    assert_eq!(
        total,
        payload.len(),
        "{what}: the prelude's total length against the payload's"
    );
    let mut rest = payload;
    let message = aws_smithy_eventstream::frame::read_message_from(&mut rest)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        rest.is_empty(),
        "{what}: {} bytes after the message",
        rest.len()
    );
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|v| v.as_str().to_string())
    };
    header(":event-type")
        .or_else(|| header(":exception-type"))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_http1_chunk_is_exactly_one_event_stream_message() {
    let server = common::serve(busy_config()).await;
    let c = common::client(&server.endpoint());
    let consumer = prepare(&c).await;
    let body = subscribe_body(&consumer);
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: Kinesis_20131202.SubscribeToShard\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: {AUTH}\r\nContent-Length: {}\r\n\r\n{body}",
        server.local_addr(),
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let writer = spawn_writer(c.clone(), 20);

    // Reads until 60 chunks are complete, cutting them by the chunked framing alone.
    let mut raw = Vec::new();
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut at = None;
    let mut records = 0;
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = vec![0u8; 64 * 1024];
        while chunks.len() < 60 || records < 21 {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended early");
            raw.extend_from_slice(&buf[..n]);
            if at.is_none() {
                let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
                assert!(head.starts_with("http/1.1 200"), "{head}");
                assert!(head.contains("transfer-encoding: chunked"), "{head}");
                at = Some(end + 4);
            }
            let mut pos = at.unwrap();
            while let Some(eol) = raw[pos..].windows(2).position(|w| w == b"\r\n") {
                let size_line = std::str::from_utf8(&raw[pos..pos + eol]).unwrap();
                let size = usize::from_str_radix(size_line, 16).unwrap();
                assert!(size > 0, "the stream ended early");
                let data_at = pos + eol + 2;
                if raw.len() < data_at + size + 2 {
                    break;
                }
                assert_eq!(&raw[data_at + size..data_at + size + 2], b"\r\n");
                let chunk = raw[data_at..data_at + size].to_vec();
                let kind = one_whole_message(&chunk, &format!("chunk {}", chunks.len()));
                if kind == "SubscribeToShardEvent" {
                    records += String::from_utf8_lossy(&chunk)
                        .matches("\"SequenceNumber\"")
                        .count();
                }
                chunks.push(chunk);
                pos = data_at + size + 2;
            }
            at = Some(pos);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("60 chunks and 21 records in time: {} chunks", chunks.len()));
    writer.await.unwrap();
    assert!(records >= 21, "{records} records");
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    assert!(
        sizes.iter().any(|&n| n > 16 * 1024),
        "some events were large: {sizes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_h2_data_frame_is_exactly_one_event_stream_message() {
    let server = common::serve(busy_config()).await;
    let c = common::client(&server.endpoint());
    let consumer = prepare(&c).await;
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    // Frames and windows large enough for every event of this test, so none has to be split.
    let (client, connection) = h2::client::Builder::new()
        .max_frame_size(1 << 20)
        .initial_window_size(1 << 24)
        .initial_connection_window_size(1 << 24)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    let conn = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let req = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{}/", server.local_addr()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
        .header("authorization", AUTH)
        .header("x-amz-date", "20260101T000000Z")
        .body(())
        .unwrap();
    let (resp, mut send) = client.send_request(req, false).unwrap();
    send.send_data(bytes::Bytes::from(subscribe_body(&consumer)), true)
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), resp)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let writer = spawn_writer(c.clone(), 20);
    let mut body = resp.into_body();
    let mut frames = 0;
    let mut records = 0;
    let mut largest = 0;
    tokio::time::timeout(Duration::from_secs(20), async {
        while frames < 60 || records < 21 {
            let frame = body.data().await.expect("the stream ended early").unwrap();
            let _ = body.flow_control().release_capacity(frame.len());
            let kind = one_whole_message(&frame, &format!("DATA frame {frames}"));
            if kind == "SubscribeToShardEvent" {
                records += String::from_utf8_lossy(&frame)
                    .matches("\"SequenceNumber\"")
                    .count();
            }
            largest = largest.max(frame.len());
            frames += 1;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("60 frames and 21 records in time: {frames} frames"));
    writer.await.unwrap();
    assert!(largest > 16 * 1024, "some events were large: {largest}");
    conn.abort();
}
