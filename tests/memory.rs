//! Memory a hostile client can make kinesd hold stays bounded (`server/budget.rs`): bodies
//! that never finish, over HTTP/1.1 and on one HTTP/2 connection, and large answers nobody
//! reads. Each attack runs against the real binary, whose peak resident memory (`VmHWM`) must
//! stay under 200 MB, and afterwards a normal request still gets through.
//!
//! `KINESD_ATTACK_INFLIGHT_MIB` sets the server's budget, to see what an attack costs without
//! one (e.g. 4095); the figures are printed.

mod common;

use aws_sdk_kinesis::primitives::Blob;
use common::process::Kinesd;
use common::raw::{AMZ_DATE, AUTH, JSON_CT};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const LIMIT: u64 = 200 * 1024 * 1024;

fn spawn() -> Kinesd {
    spawn_with_answer_timeout("4000")
}

fn spawn_with_answer_timeout(answer_timeout_ms: &str) -> Kinesd {
    let budget = std::env::var("KINESD_ATTACK_INFLIGHT_MIB").unwrap_or_else(|_| "64".into());
    Kinesd::spawn(
        &[
            "--in-memory",
            "--no-tls",
            "--inflight-limit-mib",
            &budget,
            "--body-timeout-ms",
            "4000",
            "--answer-timeout-ms",
            answer_timeout_ms,
        ],
        None,
    )
}

fn addr(server: &Kinesd) -> SocketAddr {
    server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

fn head(op: &str, length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: {JSON_CT}\r\nX-Amz-Target: Kinesis_20131202.{op}\r\nAuthorization: {AUTH}\r\nX-Amz-Date: {AMZ_DATE}\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Still serving: a stream can be listed within a few seconds.
async fn still_serves(server: &Kinesd) {
    let client = common::client(&server.endpoint);
    tokio::time::timeout(Duration::from_secs(10), client.list_streams().send())
        .await
        .expect("a normal request is answered during the attack")
        .expect("and succeeds");
}

fn report(attack: &str, server: &Kinesd) {
    let peak = server.peak_rss();
    eprintln!("{attack}: peak RSS {:.1} MB", peak as f64 / 1e6);
    assert!(peak < LIMIT, "{attack}: peak RSS {peak} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_bodies_over_http1() {
    let server = spawn();
    let addr = addr(&server);
    let chunk = vec![b' '; 1 << 20];
    let mut attackers = Vec::new();
    for _ in 0..40 {
        let chunk = chunk.clone();
        attackers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(head("PutRecords", 16_000_000).as_bytes())
                .await
                .unwrap();
            // 15 of the 16 MB announced, then nothing.
            for _ in 0..15 {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    still_serves(&server).await;
    report("40 unfinished 16 MB bodies (HTTP/1.1)", &server);
    for a in attackers {
        a.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_bodies_on_one_h2_connection() {
    let server = spawn();
    let addr = addr(&server);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(1 << 30)
        .initial_connection_window_size(1 << 30)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
    let mut streams = Vec::new();
    for _ in 0..200 {
        let Ok(mut ready) = client.clone().ready().await else {
            break;
        };
        let request = hyper::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/"))
            .header("content-type", JSON_CT)
            .header("x-amz-target", "Kinesis_20131202.PutRecords")
            .header("authorization", AUTH)
            .header("x-amz-date", AMZ_DATE)
            .header("content-length", "16000000")
            .body(())
            .unwrap();
        let Ok((_response, mut body)) = ready.send_request(request, false) else {
            break;
        };
        for _ in 0..15 {
            body.reserve_capacity(chunk.len());
            let _ = body.send_data(chunk.clone(), false);
        }
        streams.push(body);
        if streams.len() % 8 == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    still_serves(&server).await;
    report("unfinished 16 MB bodies on one h2c connection", &server);
    drop(streams);
    driver.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_nobody_reads() {
    // Long enough that the budget, not the answer deadline, is what bounds the attack.
    let server = spawn_with_answer_timeout("30000");
    let client = common::client(&server.endpoint);
    common::create_stream(&client, "big", 1).await;
    // 10 MB of records: each GetRecords answer below carries all of it (base64: ~13 MB).
    for _ in 0..10 {
        let entries = (0..10)
            .map(|_| {
                aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                    .partition_key("k")
                    .data(Blob::new(vec![b'x'; 100_000]))
                    .build()
                    .unwrap()
            })
            .collect::<Vec<_>>();
        client
            .put_records()
            .stream_name("big")
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
    }
    let iterator = client
        .get_shard_iterator()
        .stream_name("big")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    eprintln!(
        "after the fill: peak RSS {:.1} MB",
        server.peak_rss() as f64 / 1e6
    );
    let addr = addr(&server);
    let body = format!("{{\"ShardIterator\":\"{iterator}\",\"Limit\":10000}}");
    let request = [
        head("GetRecords", body.len()).into_bytes(),
        body.into_bytes(),
    ]
    .concat();
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&request).await.unwrap();
        idle.push(s);
    }
    // Every answer has been built (and either held or refused) by now; none is read.
    tokio::time::sleep(Duration::from_secs(5)).await;
    still_serves(&server).await;
    report("20 unread 13 MB GetRecords answers", &server);
    drop(idle);
}
