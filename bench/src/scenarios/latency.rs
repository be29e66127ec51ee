//! Latency scenarios: put → visible through a GetRecords poller, and CreateStream → ACTIVE.

use super::*;

/// One producer puts a timestamped record every `interval`; one poller reads the shard with
/// GetRecords in a tight loop (or every `poll_interval`). Latency: put sent → record seen.
/// With a `reader` (another node of a cluster) the poller reads through it while the
/// producer puts through `t`, and the figures are `visible_cross_*`.
#[allow(clippy::too_many_arguments)]
pub async fn latency(
    t: &Target,
    reader: Option<&Target>,
    out: &Out,
    samples: usize,
    interval: Duration,
    size: usize,
    poll_interval: Duration,
    max: Duration,
) -> Res<()> {
    let name = kinesis::unique_name("latency");
    let mut conn = t.conn();
    kinesis::create_active(&mut conn, t, &name, 1).await?;
    let shard = kinesis::shard_ids(&mut conn, t, &name)
        .await?
        .into_iter()
        .next()
        .ok_or("no shard")?;
    warm_up(&mut conn, t, &name).await?;
    let r = reader.unwrap_or(t);
    let iterator = reader_iterator(r, &name, &shard).await?;
    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (t, stop) = (r.clone(), stop.clone());
        tokio::spawn(async move {
            let mut conn = t.conn();
            let mut it = iterator;
            let mut seen: Vec<f64> = Vec::with_capacity(samples);
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) && seen.len() < samples {
                let req = t.request("GetRecords", &kinesis::get_records_body(&it, 1000));
                let resp = match conn.request(&req).await {
                    Ok(r) => r,
                    Err(_) => {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let now = base.elapsed().as_nanos() as u64;
                if resp.status != 200 {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                let page: GetRecordsOut = match serde_json::from_slice(resp.body) {
                    Ok(p) => p,
                    Err(_) => {
                        errors += 1;
                        continue;
                    }
                };
                for r in &page.records {
                    if let Some(d) = kinesis::unb64(&r.data) {
                        if d.len() >= 8 {
                            let sent = u64::from_be_bytes(d[..8].try_into().unwrap());
                            seen.push(now.saturating_sub(sent) as f64 / 1e6);
                        }
                    }
                }
                if let Some(next) = page.next {
                    it = next;
                }
                if !poll_interval.is_zero() {
                    tokio::time::sleep(poll_interval).await;
                }
            }
            (seen, errors)
        })
    };
    let mut producer = t.conn();
    let mut acks = Vec::with_capacity(samples);
    let mut put_errors = 0u64;
    let pad = random_bytes(size.max(8) - 8);
    let started = Instant::now();
    for i in 0..samples {
        if started.elapsed() > max {
            break;
        }
        let sent = base.elapsed().as_nanos() as u64;
        let mut data = sent.to_be_bytes().to_vec();
        data.extend_from_slice(&pad);
        let req = t.request(
            "PutRecord",
            &kinesis::put_record_body(&name, &format!("k{i}"), &data),
        );
        match producer.request(&req).await {
            Ok(r) if r.status == 200 => {
                acks.push((base.elapsed().as_nanos() as u64 - sent) as f64 / 1e6)
            }
            _ => put_errors += 1,
        }
        let next = started + interval * (i as u32 + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while !poller.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (mut seen, poll_errors) = tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .map_err(|_| "poller did not stop")??;
    seen.sort_by(f64::total_cmp);
    acks.sort_by(f64::total_cmp);
    let extra = format!(
        "samples={} acked={} put_errors={put_errors} poll_errors={poll_errors} ack_p50_ms={:.3} ack_p99_ms={:.3}",
        seen.len(),
        acks.len(),
        percentile(&acks, 50.0),
        percentile(&acks, 99.0)
    );
    let figure = |stat| latency_figure("visible", reader.is_some(), stat);
    if seen.is_empty() {
        out.skip(&figure("p50"), "no record reached the poller");
    } else {
        out.result(&figure("p50"), percentile(&seen, 50.0), "ms", &extra);
        out.result(&figure("p99"), percentile(&seen, 99.0), "ms", &extra);
    }
    Ok(())
}

/// One untimed record before the poller starts. In cluster mode the first put to a shard
/// creates its JetStream stream, and NATS leaves a stream-info request that meets the
/// creation unanswered: a poller on another node then stalls for kinesd's whole call time-out
/// (3 s) and its first seconds of samples measure that one-off, not visibility. Shorter
/// than a timestamp, so the poller would not count it even if it saw it.
async fn warm_up(conn: &mut Conn, t: &Target, name: &str) -> Res<()> {
    let req = t.request(
        "PutRecord",
        &kinesis::put_record_body(name, "warm-up", b"warm"),
    );
    let resp = conn.request(&req).await?;
    if resp.status != 200 {
        return Err(format!("warm-up PutRecord: HTTP {}", resp.status).into());
    }
    Ok(())
}

/// A LATEST iterator from the node that will read. Another node of a cluster learns of a new
/// stream from the shared catalogue, a moment after the node that created it: it may answer
/// ResourceNotFound until then, so wait for ACTIVE there first (a no-op on the same node).
async fn reader_iterator(r: &Target, name: &str, shard: &str) -> Res<String> {
    let mut conn = r.conn();
    kinesis::wait_active(
        &mut conn,
        r,
        name,
        Duration::from_millis(5),
        Duration::from_secs(30),
    )
    .await?;
    kinesis::shard_iterator(&mut conn, r, name, shard, "LATEST").await
}

/// CreateStream, then DescribeStreamSummary every millisecond until ACTIVE; the p50.
pub async fn create_active(
    t: &Target,
    out: &Out,
    iterations: usize,
    shards: u32,
    max: Duration,
) -> Res<()> {
    let mut conn = t.conn();
    let mut times = Vec::new();
    let started = Instant::now();
    for _ in 0..iterations {
        if started.elapsed() > max {
            break;
        }
        let name = kinesis::unique_name("create");
        let t0 = Instant::now();
        kinesis::create_stream(&mut conn, t, &name, shards).await?;
        kinesis::wait_active(
            &mut conn,
            t,
            &name,
            Duration::from_millis(1),
            Duration::from_secs(60),
        )
        .await?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        kinesis::delete_stream(t, &name).await;
    }
    times.sort_by(f64::total_cmp);
    out.result(
        "create_active_ms",
        percentile(&times, 50.0),
        "ms",
        &format!(
            "n={} max_ms={:.1} shards={shards}",
            times.len(),
            times.last().copied().unwrap_or(f64::NAN)
        ),
    );
    Ok(())
}
