//! SubscribeToShard over the other transports: TLS with HTTP/2 through the Rust SDK (trusting
//! the generated CA), and h2c prior knowledge through a raw HTTP/2 client that drops its
//! request handle right after the response headers, as the JS SDK v3 does.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition, SubscribeToShardEventStream};
use aws_sdk_kinesis::Client;
use common::raw::AUTH;
use kinesd::Config;
use std::time::Duration;

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
    let mut events = c
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(
            StartingPosition::builder()
                .r#type(ShardIteratorType::TrimHorizon)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .event_stream;
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
