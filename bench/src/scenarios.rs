//! The scenarios. Each is bounded in count and in time, and prints one `RESULT` line per
//! figure: `RESULT <label> <figure> <value> <unit> key=value...` (or `SKIP <label> <figure>
//! <reason>`), which `scripts/bench.sh` collects into its table.
//!
//! Streams written by a scenario are left in place: deleting them would have the server
//! remove their records in the background while the next scenario runs, skewing that next
//! figure. `scripts/bench.sh` restarts each server on a fresh directory between phases.

use crate::http::Conn;
use crate::kinesis::{self, failed_record_count, GetRecordsOut, Res, Target};
use crate::procfs;
use rand::{Rng, RngCore};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Out {
    pub label: String,
}

impl Out {
    pub fn result(&self, figure: &str, value: f64, unit: &str, extra: &str) {
        println!("RESULT {} {figure} {value:.3} {unit} {extra}", self.label);
    }

    pub fn skip(&self, figure: &str, reason: &str) {
        println!("SKIP {} {figure} {reason}", self.label);
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// Index of the p-th percentile in a sorted slice of `n` samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

type UnitsOf = Arc<dyn Fn(u16, &[u8]) -> Option<u64> + Send + Sync>;

pub struct Driven {
    /// Units counted during the measured window.
    pub units: u64,
    /// Units counted from the first request to the last answer.
    pub total_units: u64,
    pub errors: u64,
    pub secs: f64,
    pub reconnects: u64,
    pub first_error: Option<String>,
}

/// Runs `connections` closed loops (send, wait for the answer, send the next) over the
/// pre-built `requests`, for `warmup` and then a measured window that ends after `duration`
/// or once `max_units` were counted in it.
pub async fn drive(
    t: &Target,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    max_units: u64,
    units_of: UnitsOf,
) -> Driven {
    let stop = Arc::new(AtomicBool::new(false));
    let units = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (stop, units, errors, first_error) = (
            stop.clone(),
            units.clone(),
            errors.clone(),
            first_error.clone(),
        );
        let (requests, units_of) = (requests.clone(), units_of.clone());
        let mut conn = t.conn();
        tasks.push(tokio::spawn(async move {
            let mut i = c * 7919;
            let note = |e: String| {
                let mut f = first_error.lock().unwrap();
                if f.is_none() {
                    *f = Some(e);
                }
            };
            while !stop.load(Ordering::Relaxed) {
                let req = &requests[i % requests.len()];
                i += 1;
                match conn.request(req).await {
                    Ok(r) => match units_of(r.status, r.body) {
                        Some(n) => {
                            units.fetch_add(n, Ordering::Relaxed);
                        }
                        None => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            note(format!(
                                "HTTP {}: {}",
                                r.status,
                                String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
                            ));
                        }
                    },
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        note(e.to_string());
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            conn.reconnects
        }));
    }
    tokio::time::sleep(warmup).await;
    let u0 = units.load(Ordering::Relaxed);
    let t0 = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if t0.elapsed() >= duration || units.load(Ordering::Relaxed) - u0 >= max_units {
            break;
        }
    }
    let u1 = units.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut reconnects = 0;
    for task in tasks {
        // A request stuck on a dead server must not hold the run.
        match tokio::time::timeout(Duration::from_secs(15), task).await {
            Ok(Ok(r)) => reconnects += r,
            _ => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let first_error = first_error.lock().unwrap().clone();
    Driven {
        units: u1 - u0,
        total_units: units.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        secs,
        reconnects,
        first_error,
    }
}

fn report_errors(d: &Driven) {
    if let Some(e) = &d.first_error {
        eprintln!("  ({} errors; first: {e})", d.errors);
    }
}

fn driven_extra(d: &Driven) -> String {
    format!(
        "units={} errors={} secs={:.2} reconnects={}",
        d.units, d.errors, d.secs, d.reconnects
    )
}

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
fn put_records_requests(
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
fn put_records_units(batch: u64) -> UnitsOf {
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

/// One producer puts a timestamped record every `interval`; one poller reads the shard with
/// GetRecords in a tight loop (or every `poll_interval`). Latency: put sent → record seen.
pub async fn latency(
    t: &Target,
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
    let iterator = kinesis::shard_iterator(&mut conn, t, &name, &shard, "LATEST").await?;
    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (t, stop) = (t.clone(), stop.clone());
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
    if seen.is_empty() {
        out.skip("visible_p50_ms", "no record reached the poller");
    } else {
        out.result("visible_p50_ms", percentile(&seen, 50.0), "ms", &extra);
        out.result("visible_p99_ms", percentile(&seen, 99.0), "ms", &extra);
    }
    Ok(())
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

fn list_streams_request(t: &Target) -> Vec<u8> {
    t.request("ListStreams", b"{}")
}

/// Polls ListStreams until it answers 200.
pub async fn wait_ready(t: &Target, timeout: Duration) -> Res<Duration> {
    let req = list_streams_request(t);
    let start = Instant::now();
    loop {
        if let Ok(mut c) = Conn::connect(t.addr).await {
            if let Ok(r) = c.request(&req).await {
                if r.status == 200 {
                    return Ok(start.elapsed());
                }
            }
        }
        if start.elapsed() > timeout {
            return Err(format!("no answer from {} within {timeout:?}", t.addr).into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

pub struct StartupArgs {
    pub timeout: Duration,
    pub idle: Duration,
    pub startup_figure: String,
    pub rss_figure: String,
    pub log: Option<PathBuf>,
    pub command: Vec<String>,
}

fn stop_child(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts the server command, times it to its first 200 answer to ListStreams, reads its
/// RSS after `idle`, and stops it.
pub async fn startup(t: &Target, out: &Out, a: &StartupArgs) -> Res<()> {
    let (program, args) = a.command.split_first().ok_or("no server command given")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).stdin(std::process::Stdio::null());
    match &a.log {
        Some(path) => {
            let f = std::fs::File::create(path)?;
            cmd.stdout(f.try_clone()?).stderr(f);
        }
        None => {
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
        }
    }
    let req = list_streams_request(t);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let ready = loop {
        if let Some(status) = child.try_wait()? {
            return Err(format!("server exited before answering: {status}").into());
        }
        if start.elapsed() > a.timeout {
            stop_child(&mut child);
            return Err(format!("no answer within {:?}", a.timeout).into());
        }
        if let Ok(mut c) = Conn::connect(t.addr).await {
            if let Ok(r) = c.request(&req).await {
                if r.status == 200 {
                    break start.elapsed();
                }
            }
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    };
    tokio::time::sleep(a.idle).await;
    let rss = procfs::rss_kb(child.id());
    stop_child(&mut child);
    out.result(
        &a.startup_figure,
        ready.as_secs_f64() * 1e3,
        "ms",
        &format!("command={program}"),
    );
    if a.rss_figure != "none" {
        match rss {
            Some(kb) => out.result(
                &a.rss_figure,
                kb as f64 / 1024.0,
                "MB",
                &format!("after_idle_ms={}", a.idle.as_millis()),
            ),
            None => out.skip(&a.rss_figure, "process gone before RSS was read"),
        }
    }
    Ok(())
}

/// Creates `streams` streams of `shards` shards with `records` records each (for the
/// start-up figure on a populated data directory).
pub async fn prepare(
    t: &Target,
    out: &Out,
    streams: usize,
    shards: u32,
    records: usize,
    connections: usize,
) -> Res<()> {
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (t, next) = (t.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = t.conn();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= streams {
                    return Ok::<(), Box<dyn std::error::Error + Send + Sync>>(());
                }
                let name = format!("prepared-{i:04}");
                kinesis::create_active(&mut conn, &t, &name, shards).await?;
                if records > 0 {
                    let data: Vec<Vec<u8>> = (0..records).map(|_| random_bytes(100)).collect();
                    let entries: Vec<(String, &[u8])> = data
                        .iter()
                        .enumerate()
                        .map(|(k, d)| (format!("key-{k}"), d.as_slice()))
                        .collect();
                    let body = kinesis::put_records_body(&name, &entries);
                    let resp = conn.request(&t.request("PutRecords", &body)).await?;
                    if resp.status != 200 {
                        return Err(format!("PutRecords: HTTP {}", resp.status).into());
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    out.result(
        "prepare_s",
        start.elapsed().as_secs_f64(),
        "s",
        &format!("streams={streams} shards={shards} records_each={records}"),
    );
    Ok(())
}

pub struct FillArgs {
    pub bytes: u64,
    pub size: usize,
    pub batch: usize,
    pub connections: usize,
    pub max: Duration,
    pub pid: Option<u32>,
    pub data_dir: Option<PathBuf>,
    pub settle: Duration,
}

/// Writes about `bytes` of records (data + partition key) into one 4-shard stream, then
/// reports the server's RSS while it retains them and the bytes its data directory takes
/// per stored byte.
pub async fn fill(t: &Target, out: &Out, a: &FillArgs) -> Res<()> {
    let name = kinesis::unique_name("fill");
    kinesis::create_active(&mut t.conn(), t, &name, 4).await?;
    let before_disk = a.data_dir.as_deref().map(procfs::disk_bytes);
    // Partition keys are 8 characters: a stored record is size + 8 bytes.
    let per_record = (a.size + 8) as u64;
    let requests = put_records_requests(t, &name, 24, a.batch, a.size);
    let d = drive(
        t,
        Arc::new(requests),
        a.connections,
        Duration::ZERO,
        a.max,
        a.bytes.div_ceil(per_record),
        put_records_units(a.batch as u64),
    )
    .await;
    report_errors(&d);
    let stored = d.total_units * per_record;
    let stored_mb = stored as f64 / 1048576.0;
    out.result(
        "fill_mb",
        stored_mb,
        "MB",
        &format!(
            "records={} target_mb={:.0} secs={:.1} errors={} mb_per_s={:.1}",
            d.total_units,
            a.bytes as f64 / 1048576.0,
            d.secs,
            d.errors,
            stored_mb / d.secs
        ),
    );
    tokio::time::sleep(a.settle).await;
    if let Some(pid) = a.pid {
        match procfs::rss_kb(pid) {
            Some(kb) => out.result(
                "retained_rss_mb",
                kb as f64 / 1024.0,
                "MB",
                &format!(
                    "retained_mb={stored_mb:.0} peak_rss_mb={:.0}",
                    procfs::hwm_kb(pid).unwrap_or(0) as f64 / 1024.0
                ),
            ),
            None => out.skip("retained_rss_mb", "server process gone"),
        }
    }
    if let Some(dir) = &a.data_dir {
        let disk = procfs::disk_bytes(dir);
        if stored > 0 {
            out.result(
                "disk_per_byte",
                disk as f64 / stored as f64,
                "x",
                &format!(
                    "disk_mb={:.0} before_mb={:.1} stored_mb={stored_mb:.0}",
                    disk as f64 / 1048576.0,
                    before_disk.unwrap_or(0) as f64 / 1048576.0
                ),
            );
        }
    }
    Ok(())
}

pub fn rss(out: &Out, pid: u32, figure: &str) {
    match procfs::rss_kb(pid) {
        Some(kb) => out.result(figure, kb as f64 / 1024.0, "MB", &format!("pid={pid}")),
        None => out.skip(figure, "process not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
