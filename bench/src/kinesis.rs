//! Kinesis operations over `http::Conn`: request bodies, and the control-plane calls the
//! scenarios need for setting up (JSON through serde_json; hot paths pre-build their bytes).

use crate::http::{build_request, Conn};
use base64::Engine;
use serde_json::{json, Value};
use std::error::Error;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Where the server is and what the `Host` header says.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
}

impl Target {
    pub fn request(&self, operation: &str, body: &[u8]) -> Vec<u8> {
        build_request(&self.host, operation, body)
    }

    pub fn conn(&self) -> Conn {
        Conn::new(self.addr)
    }
}

/// The error type of an AWS JSON error body (`__type`), without any namespace prefix.
#[allow(dead_code)] // kept for scenarios that classify error bodies; exercised by a unit test
pub fn error_type(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let t = v
        .get("__type")
        .and_then(Value::as_str)
        .unwrap_or("unknown error");
    t.rsplit('#').next().unwrap_or(t).to_string()
}

/// One operation with a JSON body; a non-200 answer is an error naming its `__type`.
pub async fn call(conn: &mut Conn, t: &Target, operation: &str, body: &Value) -> Res<Value> {
    let req = t.request(operation, &serde_json::to_vec(body)?);
    let resp = conn.request(&req).await?;
    if resp.status != 200 {
        let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)]).to_string();
        return Err(format!("{operation}: HTTP {}: {text}", resp.status).into());
    }
    if resp.body.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(resp.body)?)
}

/// A stream name unique to this run.
// The load generator is a client, outside the server's injected time: the wall clock only
// makes names unique across runs.
#[allow(clippy::disallowed_methods)]
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("bench-{prefix}-{}-{nanos}", std::process::id())
}

pub async fn create_stream(conn: &mut Conn, t: &Target, name: &str, shards: u32) -> Res<()> {
    call(
        conn,
        t,
        "CreateStream",
        &json!({"StreamName": name, "ShardCount": shards}),
    )
    .await
    .map(drop)
}

/// The stream's status via DescribeStreamSummary, or DescribeStream where that is missing.
pub async fn stream_status(conn: &mut Conn, t: &Target, name: &str) -> Res<String> {
    let body = json!({ "StreamName": name });
    match call(conn, t, "DescribeStreamSummary", &body).await {
        Ok(v) => Ok(v["StreamDescriptionSummary"]["StreamStatus"]
            .as_str()
            .unwrap_or("")
            .to_string()),
        Err(e) if e.to_string().contains("UnknownOperation") => {
            let v = call(conn, t, "DescribeStream", &body).await?;
            Ok(v["StreamDescription"]["StreamStatus"]
                .as_str()
                .unwrap_or("")
                .to_string())
        }
        Err(e) => Err(e),
    }
}

/// Polls until the stream is ACTIVE; returns how long that took.
pub async fn wait_active(
    conn: &mut Conn,
    t: &Target,
    name: &str,
    poll: Duration,
    timeout: Duration,
) -> Res<Duration> {
    let start = Instant::now();
    loop {
        match stream_status(conn, t, name).await {
            Ok(s) if s == "ACTIVE" => return Ok(start.elapsed()),
            Ok(_) => {}
            // Some servers answer ResourceNotFound while the stream is being created.
            Err(e) if e.to_string().contains("ResourceNotFound") => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() > timeout {
            return Err(format!("stream {name} not ACTIVE after {timeout:?}").into());
        }
        tokio::time::sleep(poll).await;
    }
}

pub async fn create_active(conn: &mut Conn, t: &Target, name: &str, shards: u32) -> Res<()> {
    create_stream(conn, t, name, shards).await?;
    wait_active(
        conn,
        t,
        name,
        Duration::from_millis(10),
        Duration::from_secs(60),
    )
    .await
    .map(drop)
}

/// Best effort: a benchmark stream is removed once its scenario is done.
pub async fn delete_stream(t: &Target, name: &str) {
    let mut conn = t.conn();
    let _ = call(
        &mut conn,
        t,
        "DeleteStream",
        &json!({"StreamName": name, "EnforceConsumerDeletion": true}),
    )
    .await;
}

pub async fn shard_ids(conn: &mut Conn, t: &Target, name: &str) -> Res<Vec<String>> {
    let v = call(conn, t, "DescribeStream", &json!({ "StreamName": name })).await?;
    Ok(v["StreamDescription"]["Shards"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["ShardId"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

pub async fn shard_iterator(
    conn: &mut Conn,
    t: &Target,
    name: &str,
    shard: &str,
    kind: &str,
) -> Res<String> {
    let v = call(
        conn,
        t,
        "GetShardIterator",
        &json!({"StreamName": name, "ShardId": shard, "ShardIteratorType": kind}),
    )
    .await?;
    v["ShardIterator"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "GetShardIterator: no ShardIterator".into())
}

/// The parts of a GetRecords answer the scenarios look at. `Data` stays borrowed.
#[derive(serde::Deserialize)]
pub struct GetRecordsOut<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub records: Vec<RecordOut<'a>>,
    #[serde(rename = "NextShardIterator", default)]
    pub next: Option<String>,
    #[serde(rename = "MillisBehindLatest", default)]
    pub behind: Option<u64>,
}

#[derive(serde::Deserialize)]
pub struct RecordOut<'a> {
    #[serde(rename = "Data", borrow)]
    pub data: std::borrow::Cow<'a, str>,
}

pub fn get_records_body(iterator: &str, limit: u32) -> Vec<u8> {
    serde_json::to_vec(&json!({"ShardIterator": iterator, "Limit": limit})).expect("json")
}

/// `FailedRecordCount` of a PutRecords answer, found without parsing the whole body.
pub fn failed_record_count(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"FailedRecordCount\"";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &body[at..];
    let start = rest.iter().position(u8::is_ascii_digit)?;
    let digits = rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&rest[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// One PutRecord body.
pub fn put_record_body(stream: &str, key: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4 / 3 + 100);
    out.extend_from_slice(b"{\"StreamName\":\"");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b"\",\"PartitionKey\":\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\",\"Data\":\"");
    out.extend_from_slice(b64(data).as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

/// One PutRecords body of `(partition key, data)` entries.
pub fn put_records_body(stream: &str, entries: &[(String, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"StreamName\":\"");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b"\",\"Records\":[");
    for (i, (key, data)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"PartitionKey\":\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\",\"Data\":\"");
        out.extend_from_slice(b64(data).as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_json_and_failed_count_is_found() {
        let v: Value = serde_json::from_slice(&put_record_body("s", "k", b"hi")).unwrap();
        assert_eq!(v["Data"], "aGk=");
        let data = b"x".as_slice();
        let v: Value = serde_json::from_slice(&put_records_body(
            "s",
            &[("a".into(), data), ("b".into(), data)],
        ))
        .unwrap();
        assert_eq!(v["Records"].as_array().unwrap().len(), 2);
        assert_eq!(
            failed_record_count(br#"{"FailedRecordCount": 12,"Records":[]}"#),
            Some(12)
        );
        assert_eq!(failed_record_count(b"{}"), None);
        assert_eq!(
            error_type(br#"{"__type":"ns#ResourceNotFoundException"}"#),
            "ResourceNotFoundException"
        );
    }
}
