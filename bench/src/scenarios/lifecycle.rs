//! Start-up, memory and disk scenarios: readiness, start-up time with and without data on
//! disk, filling the retained volume, and the RSS of the server.

use super::*;

pub(super) fn list_streams_request(t: &Target) -> Vec<u8> {
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
    /// Starts timed; the figure is their median. One start moves by 2× and more on a busy
    /// virtual machine.
    pub runs: usize,
    /// Removed before each start, so that every start finds an empty data directory.
    pub empty_dir: Option<PathBuf>,
    pub command: Vec<String>,
}

pub(super) fn stop_child(child: &mut std::process::Child) {
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

/// Starts the server command `runs` times, each timed to its first 200 answer to ListStreams
/// and stopped; reads the RSS of the last start after `idle`. The figure is the median start.
pub async fn startup(t: &Target, out: &Out, a: &StartupArgs) -> Res<()> {
    let program = a.command.first().ok_or("no server command given")?;
    let runs = a.runs.max(1);
    let mut times = Vec::with_capacity(runs);
    let mut rss = None;
    for run in 1..=runs {
        if let Some(dir) = &a.empty_dir {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        let (ready, kb) = start_once(t, a, run == runs).await?;
        times.push(ready.as_secs_f64() * 1e3);
        rss = kb;
    }
    times.sort_by(f64::total_cmp);
    out.result(
        &a.startup_figure,
        times[times.len() / 2],
        "ms",
        &format!(
            "command={program} runs={runs} min_ms={:.2} max_ms={:.2}",
            times[0],
            times[times.len() - 1]
        ),
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

/// One start: the time to the first answer and, with `read_rss`, the RSS in KB after `idle`.
async fn start_once(t: &Target, a: &StartupArgs, read_rss: bool) -> Res<(Duration, Option<u64>)> {
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
    let mut rss = None;
    if read_rss {
        tokio::time::sleep(a.idle).await;
        rss = procfs::rss_kb(child.id());
    }
    stop_child(&mut child);
    Ok((ready, rss))
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
