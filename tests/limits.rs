//! Connection limits and timeouts (`Config::connections`): a client that sends nothing, sends
//! its headers too slowly, or sits idle on a keep-alive connection is cut off; connections past
//! the cap are closed as they arrive while the others keep working; an HTTP/2 connection may
//! open only so many streams at once.

mod common;

use common::raw::{request_bytes, Conn, AUTH};
use kinesd::{Config, ConnectionLimits};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(limits: ConnectionLimits) -> Config {
    Config {
        connections: limits,
        ..Config::default()
    }
}

fn short_timeouts() -> Config {
    limits(ConnectionLimits {
        header_timeout_ms: 300,
        ..ConnectionLimits::default()
    })
}

/// Reads until the server closes the connection; panics if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) {
    let read_to_end = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_to_end)
        .await
        .expect("the server should have closed the connection");
}

fn list_streams() -> Vec<u8> {
    request_bytes(
        "POST",
        Some("Kinesis_20131202.ListStreams"),
        Some(AUTH),
        b"{}",
        true,
    )
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let server = common::serve(short_timeouts()).await;
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    closed_within(&mut silent, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn headers_sent_too_slowly_are_cut_off() {
    let server = common::serve(short_timeouts()).await;
    let mut slow = TcpStream::connect(server.local_addr()).await.unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    closed_within(&mut slow, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = common::serve(short_timeouts()).await;
    let mut conn = Conn::open(server.local_addr()).await;
    let answer = conn.roundtrip(&list_streams()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    closed_within(&mut conn.stream, Duration::from_secs(10)).await;
}

/// A connection the server has accepted and answered on.
async fn serving(addr: SocketAddr) -> Conn {
    let mut conn = Conn::open(addr).await;
    assert_eq!(conn.roundtrip(&list_streams()).await.status, 200);
    conn
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_the_others_keep_working() {
    let server = common::serve(limits(ConnectionLimits {
        max_connections: 2,
        ..ConnectionLimits::default()
    }))
    .await;
    let addr = server.local_addr();
    let first = serving(addr).await;
    let mut second = serving(addr).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    closed_within(&mut third, Duration::from_secs(5)).await;
    assert_eq!(second.roundtrip(&list_streams()).await.status, 200);
    // Once one goes, there is room again (the server counts it gone once it notices).
    drop(first);
    let answered = async {
        loop {
            let mut conn = Conn::open(addr).await;
            conn.stream.write_all(&list_streams()).await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while let Ok(n) = conn.stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), answered)
        .await
        .expect("a new connection is served once another one closed");
}

#[tokio::test]
async fn an_http2_connection_may_open_only_so_many_streams() {
    let server = common::serve(limits(ConnectionLimits {
        h2_max_streams: 7,
        ..ConnectionLimits::default()
    }))
    .await;
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    // The server's SETTINGS arrive with its first answer at the latest.
    let mut client = client.ready().await.unwrap();
    let request = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{}/", server.local_addr()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Kinesis_20131202.ListStreams")
        .header("authorization", AUTH)
        .header("x-amz-date", "20260101T000000Z")
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(request, false).unwrap();
    body.send_data(bytes::Bytes::from_static(b"{}"), true)
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("an answer in time")
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(client.current_max_send_streams(), 7);
    driver.abort();
}

/// SIGTERM's path (`Server::shutdown`): a request already accepted finishes and is answered,
/// new connections are refused meanwhile, and the server then stops within its grace period.
#[tokio::test]
async fn shutdown_lets_an_accepted_request_finish_and_refuses_new_ones() {
    let server = common::serve(Config::default()).await;
    let addr = server.local_addr();
    let mut conn = Conn::open(addr).await;
    // `Expect: 100-continue` tells when the request has reached its handler: the server
    // answers "100 Continue" only once the handler asks for the body.
    let request = list_streams();
    let split = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    let (head, last) = request.split_at(split);
    conn.stream.write_all(head).await.unwrap();
    conn.stream
        .write_all(b"Expect: 100-continue\r\n")
        .await
        .unwrap();
    conn.stream.write_all(b"\r\n").await.unwrap();
    let last = &last[2..];
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tokio::time::timeout(Duration::from_secs(5), conn.stream.read_exact(&mut byte))
            .await
            .expect("100 Continue in time")
            .unwrap();
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100"), "{interim:?}");
    let stopping = tokio::spawn(server.shutdown());
    // The listener goes first: nobody new gets in.
    let refused = async {
        loop {
            match TcpStream::connect(addr).await {
                Err(_) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refused)
        .await
        .expect("new connections are refused once shutdown has begun");
    // The request that was under way is still served.
    conn.stream.write_all(last).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.stream.read_to_end(&mut answer))
        .await
        .expect("the accepted request is answered, then the connection closes")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    tokio::time::timeout(Duration::from_secs(15), stopping)
        .await
        .expect("shutdown ends within its grace period")
        .unwrap();
}
