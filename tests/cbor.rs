//! CBOR (`application/x-amz-cbor-1.1`, what the Java SDK sends) over raw HTTP/1.1.
//!
//! The same scenario runs twice, once in JSON against one server and once in CBOR against a
//! twin (same clock, same names), and every answer is compared field by field after mapping
//! both onto one form: blobs as base64, timestamps as integer epoch milliseconds, and opaque
//! tokens (shard iterators, next tokens), which are sealed with a per-server key, blanked.
//!
//! The tests live in `tests/cbor/`, a file per concern; this file holds what they share.

mod common;

use aws_smithy_types::base64;
use ciborium::Value as Cbor;
use common::raw::{post, Resp, AUTH, CBOR_CT};
use kinesd::{Config, ManualClock, Server};
use serde_json::{json, Value as Json};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JSON_TYPE: &str = "application/x-amz-json-1.1";

fn is_timestamp_member(key: &str) -> bool {
    key.ends_with("Timestamp") || matches!(key, "StartedAt" | "EndedAt" | "EarliestAllowedEndAt")
}

fn is_opaque_member(key: &str) -> bool {
    matches!(key, "ShardIterator" | "NextShardIterator" | "NextToken")
}

/// A JSON request as the Java SDK would write it in CBOR: blobs as byte strings, timestamps
/// as epoch milliseconds in tag 1, and indefinite-length maps as Jackson writes them.
fn json_to_cbor(value: &Json, key: &str) -> Cbor {
    match value {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) if is_timestamp_member(key) => {
            let ms = (n.as_f64().unwrap() * 1000.0).round() as i64;
            Cbor::Tag(1, Box::new(Cbor::Integer(ms.into())))
        }
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap()),
        },
        Json::String(s) if key == "Data" => Cbor::Bytes(base64::decode(s).unwrap()),
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(items) => Cbor::Array(items.iter().map(|v| json_to_cbor(v, "")).collect()),
        Json::Object(members) => Cbor::Map(
            members
                .iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), json_to_cbor(v, k)))
                .collect(),
        ),
    }
}

/// Writes CBOR with indefinite-length maps (0xbf … 0xff), as Jackson's CBOR generator does.
fn write_cbor_indefinite(value: &Cbor, out: &mut Vec<u8>) {
    match value {
        Cbor::Map(members) => {
            out.push(0xbf);
            for (k, v) in members {
                write_cbor_indefinite(k, out);
                write_cbor_indefinite(v, out);
            }
            out.push(0xff);
        }
        Cbor::Array(items) => {
            out.push(0x9f);
            for v in items {
                write_cbor_indefinite(v, out);
            }
            out.push(0xff);
        }
        other => ciborium::ser::into_writer(other, &mut *out).unwrap(),
    }
}

/// An answer in JSON's shape with timestamps as integer milliseconds; checks CBOR's types
/// (timestamps must be tag 1 around integer milliseconds, as the Java SDK reads them).
fn cbor_to_json(value: &Cbor, key: &str) -> Json {
    match value {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => json!(b),
        Cbor::Tag(1, ms) if is_timestamp_member(key) => match **ms {
            Cbor::Integer(i) => {
                let i: i128 = i.into();
                json!(i64::try_from(i).unwrap())
            }
            ref other => panic!("{key} must be tag 1 around integer milliseconds, got {other:?}"),
        },
        Cbor::Integer(i) => {
            assert!(
                !is_timestamp_member(key),
                "{key} must be in tag 1 in CBOR, got the bare integer {i:?}"
            );
            let i: i128 = (*i).into();
            json!(i64::try_from(i).unwrap())
        }
        Cbor::Float(f) => {
            assert!(
                !is_timestamp_member(key),
                "{key} must be tag 1 around integer milliseconds in CBOR, got {f}"
            );
            json!(f)
        }
        Cbor::Bytes(b) => {
            assert_eq!(key, "Data", "only Data is a blob");
            json!(base64::encode(b))
        }
        Cbor::Text(s) => {
            assert_ne!(key, "Data", "Data must be a byte string in CBOR");
            json!(s)
        }
        Cbor::Array(items) => Json::Array(items.iter().map(|v| cbor_to_json(v, "")).collect()),
        Cbor::Map(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| {
                    let k = k.as_text().expect("text keys").to_string();
                    let v = cbor_to_json(v, &k);
                    (k, v)
                })
                .collect(),
        ),
        Cbor::Tag(tag, _) => panic!("unexpected tag {tag} at {key}"),
        other => panic!("unexpected CBOR item {other:?} at {key}"),
    }
}

/// JSON timestamps (epoch seconds with a fraction) as integer milliseconds.
fn json_timestamps_to_ms(value: &mut Json, key: &str) {
    match value {
        Json::Number(n) if is_timestamp_member(key) => {
            let ms = (n.as_f64().unwrap() * 1000.0).round() as i64;
            *value = json!(ms);
        }
        Json::Array(items) => items.iter_mut().for_each(|v| json_timestamps_to_ms(v, "")),
        Json::Object(members) => members
            .iter_mut()
            .for_each(|(k, v)| json_timestamps_to_ms(v, k)),
        _ => {}
    }
}

fn blank_opaque(value: &Json, key: &str) -> Json {
    match value {
        Json::String(s) if is_opaque_member(key) => {
            assert!(!s.is_empty());
            json!("<opaque>")
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| blank_opaque(v, "")).collect()),
        Json::Object(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), blank_opaque(v, k)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Enc {
    Json,
    Cbor,
}

/// One side of the matrix: a server, its clock, the encoding, and the log of answers.
struct Side {
    server: Server,
    clock: ManualClock,
    enc: Enc,
    log: Vec<(String, u16, Json)>,
}

impl Side {
    async fn start(enc: Enc, start_ms: i64) -> Side {
        let clock = ManualClock::new(start_ms);
        let server = common::start_with_clock(Config::default(), &clock).await;
        Side {
            server,
            clock,
            enc,
            log: Vec::new(),
        }
    }

    /// Sends `input` (written as JSON) in this side's encoding; answers in JSON's shape with
    /// timestamps as integer milliseconds, and logs the answer with opaque tokens blanked.
    async fn call_as(&mut self, label: &str, op: &str, input: Json, signed: bool) -> (u16, Json) {
        let (content_type, body) = match self.enc {
            Enc::Json => (JSON_TYPE, serde_json::to_vec(&input).unwrap()),
            Enc::Cbor => {
                let mut body = Vec::new();
                write_cbor_indefinite(&json_to_cbor(&input, ""), &mut body);
                (CBOR_CT, body)
            }
        };
        if matches!(op, "PutRecord" | "PutRecords" | "GetRecords") {
            // A data-plane request is served from its node's view of the catalogue, which
            // follows a change made through the other node a moment later.
            common::cluster::settle(self.server.local_addr()).await;
        }
        let target = format!("Kinesis_20131202.{op}");
        let reply = post(
            self.server.local_addr(),
            &target,
            content_type,
            &body,
            signed,
        )
        .await;
        assert_eq!(
            reply.header("content-type"),
            Some(content_type),
            "{label}: answered in the request's encoding"
        );
        assert!(reply.header("x-amzn-RequestId").is_some(), "{label}");
        let answer = if reply.body.is_empty() {
            Json::Null
        } else {
            match self.enc {
                Enc::Json => {
                    let mut v: Json = serde_json::from_slice(&reply.body).unwrap();
                    json_timestamps_to_ms(&mut v, "");
                    v
                }
                Enc::Cbor => {
                    let v: Cbor = ciborium::de::from_reader(&reply.body[..])
                        .unwrap_or_else(|e| panic!("{label}: bad CBOR answer: {e:?}"));
                    cbor_to_json(&v, "")
                }
            }
        };
        self.log
            .push((label.to_string(), reply.status, blank_opaque(&answer, "")));
        (reply.status, answer)
    }

    async fn call(&mut self, label: &str, op: &str, input: Json) -> (u16, Json) {
        self.call_as(label, op, input, true).await
    }

    async fn ok(&mut self, label: &str, op: &str, input: Json) -> Json {
        let (status, answer) = self.call(label, op, input).await;
        assert_eq!(status, 200, "{label}: {answer}");
        answer
    }

    async fn iterator(&mut self, label: &str, input: Json) -> String {
        let answer = self.ok(label, "GetShardIterator", input).await;
        answer["ShardIterator"].as_str().unwrap().to_string()
    }
}

impl Side {
    fn clock_now(&self) -> i64 {
        use kinesd::Clock;
        self.clock.now_ms()
    }
}

async fn cbor_call(addr: SocketAddr, op: &str, body: &[u8]) -> (u16, Option<Cbor>, Resp) {
    let reply = post(addr, &format!("Kinesis_20131202.{op}"), CBOR_CT, body, true).await;
    let value = (!reply.body.is_empty())
        .then(|| ciborium::de::from_reader::<Cbor, _>(&reply.body[..]).unwrap());
    (reply.status, value, reply)
}

fn member<'a>(value: &'a Cbor, key: &str) -> &'a Cbor {
    value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {value:?}"))
}

fn encode(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

fn map(members: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(
        members
            .into_iter()
            .map(|(k, v)| (Cbor::Text(k.into()), v))
            .collect(),
    )
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

/// A timestamp as the Java SDK writes and reads it: tag 1 around integer epoch milliseconds.
fn ms_timestamp(ms: i64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(ms.into())))
}

#[path = "cbor/events.rs"]
mod events;
#[path = "cbor/java_sdk.rs"]
mod java_sdk;
#[path = "cbor/scenario.rs"]
mod scenario;
