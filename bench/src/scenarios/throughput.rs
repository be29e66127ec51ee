//! Throughput scenarios: PutRecord, PutRecords and the GetRecords drain, each driven by
//! [`drive`](super::drive) over many connections.

use super::*;

pub struct Load {
    pub connections: usize,
    pub shards: u32,
    pub duration: Duration,
    pub warmup: Duration,
}

/// PutRecord of `size` random bytes under random partition keys; ops/s.
pub async fn put_record(
    t: &Target,
    out: &Out,
    canned: bool,
    load: &Load,
    size: usize,
    max_ops: u64,
    figure: &str,
) -> Res<()> {
    let name = kinesis::unique_name("put-record");
    if !canned {
        kinesis::create_active(&mut t.conn(), t, &name, load.shards).await?;
    }
    let mut rng = rand::thread_rng();
    let requests: Vec<Vec<u8>> = (0..1024)
        .map(|i| {
            let key = format!("pk-{i}-{}", rng.gen::<u32>());
            t.request(
                "PutRecord",
                &kinesis::put_record_body(&name, &key, &random_bytes(size)),
            )
        })
        .collect();
    let d = drive(
        t,
        Arc::new(requests),
        load.connections,
        load.warmup,
        load.duration,
        max_ops,
        Arc::new(|status, _| (status == 200).then_some(1)),
    )
    .await;
    report_errors(&d);
    out.result(
        figure,
        d.units as f64 / d.secs,
        "ops/s",
        &format!("{} connections={}", driven_extra(&d), load.connections),
    );
    Ok(())
}

/// PutRecords requests for a stream: `variants` bodies of `batch` records of `size` random
/// bytes, partition keys of a fixed width.
pub(super) fn put_records_requests(
    t: &Target,
    name: &str,
    variants: usize,
    batch: usize,
    size: usize,
) -> Vec<Vec<u8>> {
    let mut rng = rand::thread_rng();
    (0..variants)
        .map(|_| {
            let data: Vec<Vec<u8>> = (0..batch).map(|_| random_bytes(size)).collect();
            let entries: Vec<(String, &[u8])> = data
                .iter()
                .map(|d| (format!("{:08x}", rng.gen::<u32>()), d.as_slice()))
                .collect();
            t.request("PutRecords", &kinesis::put_records_body(name, &entries))
        })
        .collect()
}

/// Counts the accepted records of a PutRecords answer.
pub(super) fn put_records_units(batch: u64) -> UnitsOf {
    Arc::new(move |status, body| {
        (status == 200).then(|| batch.saturating_sub(failed_record_count(body).unwrap_or(0)))
    })
}

/// PutRecords of `batch` × `size` bytes; accepted records/s.
#[allow(clippy::too_many_arguments)]
pub async fn put_records(
    t: &Target,
    out: &Out,
    canned: bool,
    load: &Load,
    batch: usize,
    size: usize,
    max_records: u64,
    figure: &str,
) -> Res<()> {
    let name = kinesis::unique_name("put-records");
    if !canned {
        kinesis::create_active(&mut t.conn(), t, &name, load.shards).await?;
    }
    let requests = put_records_requests(t, &name, 64, batch, size);
    let d = drive(
        t,
        Arc::new(requests),
        load.connections,
        load.warmup,
        load.duration,
        max_records,
        put_records_units(batch as u64),
    )
    .await;
    report_errors(&d);
    out.result(
        figure,
        d.units as f64 / d.secs,
        "records/s",
        &format!(
            "{} connections={} batch={batch} size={size}",
            driven_extra(&d),
            load.connections
        ),
    );
    Ok(())
}

/// Fills a stream with `records` records, then reads every shard from TRIM_HORIZON with
/// GetRecords (one connection per shard, Limit 10000); records/s of the read.
#[allow(clippy::too_many_arguments)]
pub async fn get_records(
    t: &Target,
    out: &Out,
    records: u64,
    size: usize,
    shards: u32,
    connections: usize,
    max_fill: Duration,
    max_drain: Duration,
) -> Res<()> {
    let name = kinesis::unique_name("get-records");
    let mut conn = t.conn();
    kinesis::create_active(&mut conn, t, &name, shards).await?;
    let batch = 500;
    let requests = put_records_requests(t, &name, 32, batch, size);
    let fill = drive(
        t,
        Arc::new(requests),
        connections,
        Duration::ZERO,
        max_fill,
        records,
        put_records_units(batch as u64),
    )
    .await;
    report_errors(&fill);
    let expected = fill.total_units;
    eprintln!(
        "  filled {expected} records in {:.1} s ({} errors)",
        fill.secs, fill.errors
    );
    let ids = kinesis::shard_ids(&mut conn, t, &name).await?;
    let found = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in ids {
        let (t, name, found, errors) = (t.clone(), name.clone(), found.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = t.conn();
            let mut it = kinesis::shard_iterator(&mut conn, &t, &name, &id, "TRIM_HORIZON").await?;
            let mut empties = 0;
            while start.elapsed() < max_drain && found.load(Ordering::Relaxed) < expected {
                let req = t.request("GetRecords", &kinesis::get_records_body(&it, 10_000));
                let resp = conn.request(&req).await?;
                if resp.status != 200 {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if errors.load(Ordering::Relaxed) == 1 {
                        eprintln!(
                            "  GetRecords: HTTP {}: {}",
                            resp.status,
                            String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let page: GetRecordsOut = serde_json::from_slice(resp.body)?;
                let n = page.records.len() as u64;
                found.fetch_add(n, Ordering::Relaxed);
                if n == 0 && page.behind.unwrap_or(0) == 0 {
                    empties += 1;
                    if empties >= 2 {
                        break;
                    }
                } else {
                    empties = 0;
                }
                match page.next {
                    Some(next) => it = next,
                    None => break,
                }
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let found = found.load(Ordering::Relaxed);
    out.result(
        "get_records_rps",
        found as f64 / secs,
        "records/s",
        &format!(
            "found={found} acknowledged={expected} lost={} errors={} secs={secs:.2} size={size}",
            expected.saturating_sub(found),
            errors.load(Ordering::Relaxed)
        ),
    );
    Ok(())
}
