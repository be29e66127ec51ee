//! Put → delivered to a SubscribeToShard subscriber (p50/p99).
//!
//! Registers a consumer on a one-shard stream, opens SubscribeToShard over HTTP/1.1 (the
//! response is chunked `application/vnd.amazon.eventstream`), then puts records at a steady
//! pace whose data is the send time; the subscriber reads event-stream messages as they come
//! and times each record from the moment its put was sent. Across a cluster the subscription
//! is held on another node than the one the records are put through.

use crate::http::Conn;
use crate::kinesis::{self, b64, unb64, Res, Target};
use crate::scenarios::{latency_figure, percentile, Out};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Decodes chunked transfer encoding incrementally; returns the data so far.
struct Chunked {
    raw: Vec<u8>,
    data: Vec<u8>,
}

impl Chunked {
    fn feed(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        loop {
            let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&self.raw[..eol]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or(0);
            if self.raw.len() < eol + 2 + size + 2 {
                return;
            }
            self.data
                .extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 2 + size + 2);
        }
    }
}

/// Splits complete event-stream messages off the front of `buf`: (headers, payload).
fn take_messages(buf: &mut Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 12 {
            return out;
        }
        let total = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let headers = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
        if total < 16 || buf.len() < total {
            return out;
        }
        let h = String::from_utf8_lossy(&buf[12..12 + headers]).to_string();
        let payload = buf[12 + headers..total - 4].to_vec();
        buf.drain(..total);
        out.push((h, payload));
    }
}

/// The consumer's ARN once it is ACTIVE, or `None` when the server has no enhanced fan-out
/// (reported as a `SKIP` of `figure`).
async fn register_consumer(
    conn: &mut Conn,
    t: &Target,
    out: &Out,
    stream: &str,
    figure: &str,
) -> Res<Option<String>> {
    let summary = kinesis::call(
        conn,
        t,
        "DescribeStreamSummary",
        &json!({"StreamName": stream}),
    )
    .await?;
    let stream_arn = summary["StreamDescriptionSummary"]["StreamARN"]
        .as_str()
        .ok_or("no StreamARN")?
        .to_string();
    let registered = match kinesis::call(
        conn,
        t,
        "RegisterStreamConsumer",
        &json!({"StreamARN": stream_arn, "ConsumerName": "bench"}),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => {
            out.skip(figure, &format!("no enhanced fan-out consumers: {e}"));
            return Ok(None);
        }
    };
    let consumer_arn = registered["Consumer"]["ConsumerARN"]
        .as_str()
        .ok_or("no ConsumerARN")?
        .to_string();
    Ok(Some(consumer_arn))
}

/// Polls DescribeStreamConsumer on `t` until the consumer is ACTIVE. Another node of a
/// cluster than the one that registered it may not know it yet (ResourceNotFound) at first.
async fn wait_consumer_active(t: &Target, consumer_arn: &str) -> Res<()> {
    let mut conn = t.conn();
    let started = Instant::now();
    loop {
        match kinesis::call(
            &mut conn,
            t,
            "DescribeStreamConsumer",
            &json!({"ConsumerARN": consumer_arn}),
        )
        .await
        {
            Ok(d) if d["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE" => return Ok(()),
            Ok(_) => {}
            Err(e) if e.to_string().contains("ResourceNotFound") => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err("consumer not ACTIVE after 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends SubscribeToShard from LATEST and reads the response head: the connection, the head's
/// text and the bytes read past it.
async fn open_subscription(t: &Target, consumer_arn: &str) -> Res<(TcpStream, String, Vec<u8>)> {
    let body = json!({
        "ConsumerARN": consumer_arn,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "LATEST"}
    });
    let mut sub = TcpStream::connect(t.addr).await?;
    sub.set_nodelay(true)?;
    sub.write_all(&t.request("SubscribeToShard", &serde_json::to_vec(&body)?))
        .await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 4096];
    let rest = loop {
        let n = tokio::time::timeout(Duration::from_secs(10), sub.read(&mut byte)).await??;
        if n == 0 {
            return Err("SubscribeToShard: connection closed".into());
        }
        head.extend_from_slice(&byte[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break head.split_off(at + 4);
        }
    };
    Ok((sub, String::from_utf8_lossy(&head).to_string(), rest))
}

/// With a `reader` (another node of a cluster), the consumer is registered and the records
/// put through `t` while the subscription is held on the reader; the figures are then
/// `subscribe_cross_*`.
pub async fn subscribe_latency(
    t: &Target,
    reader: Option<&Target>,
    out: &Out,
    samples: usize,
) -> Res<()> {
    let figure = |stat| latency_figure("subscribe", reader.is_some(), stat);
    let r = reader.unwrap_or(t);
    let mut conn = t.conn();
    let name = kinesis::unique_name("subscribe");
    kinesis::create_active(&mut conn, t, &name, 1).await?;
    let Some(consumer_arn) = register_consumer(&mut conn, t, out, &name, &figure("p50")).await?
    else {
        kinesis::delete_stream(t, &name).await;
        return Ok(());
    };
    wait_consumer_active(t, &consumer_arn).await?;
    if reader.is_some() {
        wait_consumer_active(r, &consumer_arn).await?;
    }

    let (mut sub, head_text, rest) = open_subscription(r, &consumer_arn).await?;
    if !head_text.starts_with("HTTP/1.1 200") {
        out.skip(
            &figure("p50"),
            &format!(
                "SubscribeToShard refused: {}",
                head_text.lines().next().unwrap_or("")
            ),
        );
        kinesis::delete_stream(t, &name).await;
        return Ok(());
    }
    let chunked = head_text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");

    let origin = Instant::now();
    let reader = tokio::spawn(async move {
        let mut decoder = Chunked {
            raw: Vec::new(),
            data: Vec::new(),
        };
        let mut seen = Vec::new();
        let mut initial = false;
        let feed = |bytes: &[u8], decoder: &mut Chunked| {
            if chunked {
                decoder.feed(bytes);
            } else {
                decoder.data.extend_from_slice(bytes);
            }
        };
        feed(&rest, &mut decoder);
        let mut buf = vec![0u8; 64 * 1024];
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < samples && Instant::now() < deadline {
            for (headers, payload) in take_messages(&mut decoder.data) {
                if headers.contains("initial-response") {
                    initial = true;
                    continue;
                }
                let Ok(event) = serde_json::from_slice::<Value>(&payload) else {
                    continue;
                };
                let now = origin.elapsed().as_nanos() as f64;
                for r in event["Records"].as_array().into_iter().flatten() {
                    let sent = r["Data"]
                        .as_str()
                        .and_then(unb64)
                        .and_then(|d| String::from_utf8(d).ok())
                        .and_then(|s| s.parse::<f64>().ok());
                    if let Some(sent) = sent {
                        seen.push((now - sent) / 1e6);
                    }
                }
            }
            if seen.len() >= samples {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(10), sub.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => feed(&buf[..n], &mut decoder),
            }
        }
        (seen, initial)
    });

    // Give the subscription a moment to be live, then put at a steady pace.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut put_errors = 0;
    let interval = Duration::from_millis(2);
    let paced = Instant::now();
    for i in 0..samples {
        // Bounded in time too: a slow server gets fewer samples, not a longer run.
        if paced.elapsed() > Duration::from_secs(30) {
            break;
        }
        let sent = origin.elapsed().as_nanos().to_string();
        let req = t.request(
            "PutRecord",
            &serde_json::to_vec(&json!({
                "StreamName": name,
                "PartitionKey": "k",
                "Data": b64(sent.as_bytes()),
            }))?,
        );
        match conn.request(&req).await {
            Ok(r) if r.status == 200 => {}
            _ => put_errors += 1,
        }
        tokio::time::sleep_until((paced + interval * (i as u32 + 1)).into()).await;
    }
    let (mut seen, initial) = tokio::time::timeout(Duration::from_secs(70), reader)
        .await
        .map_err(|_| "subscriber did not finish")??;
    seen.sort_by(f64::total_cmp);
    let extra = format!(
        "samples={} sent={samples} put_errors={put_errors} initial_response={initial}",
        seen.len()
    );
    if seen.is_empty() {
        out.skip(&figure("p50"), "no record reached the subscriber");
    } else {
        out.result(&figure("p50"), percentile(&seen, 50.0), "ms", &extra);
        out.result(&figure("p99"), percentile(&seen, 99.0), "ms", &extra);
    }
    kinesis::delete_stream(t, &name).await;
    Ok(())
}
