//! Protocol corners pinned with hand-written HTTP/1.1 and HTTP/2 (h2c) requests: status codes,
//! exact error bodies, headers, number formats, body limits, and a seeded fuzz run.
//!
//! The tests live in `tests/raw_http/`, a file per concern; this file holds what they share.

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

#[path = "raw_http/body_limit.rs"]
mod body_limit;
#[path = "raw_http/errors.rs"]
mod errors;
#[path = "raw_http/fuzz.rs"]
mod fuzz;
#[path = "raw_http/h2c.rs"]
mod h2c;
#[path = "raw_http/responses.rs"]
mod responses;
