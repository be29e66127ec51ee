//! kinesd-bench: a load generator for Kinesis Data Streams emulators. It speaks the Kinesis
//! JSON protocol directly over keep-alive HTTP/1.1 (pre-built requests, an in-place response
//! parser), so that the server, not the client, is what gets measured. `--canned` points it
//! at a built-in server that answers every request with a fixed PutRecord response: the
//! generator's own ceiling on this machine.
//!
//! Every scenario is bounded in count and time and prints one line per figure:
//! `RESULT <label> <figure> <value> <unit> key=value...` or `SKIP <label> <figure> <reason>`.
//! `scripts/bench.sh` runs them against kinesd and its peers and prints the table.

mod canned;
mod http;
mod kinesis;
mod procfs;
mod scenarios;
mod subscribe;

use clap::{Parser, Subcommand};
use scenarios::{latency_figure, FillArgs, Load, Out, StartupArgs};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about = "Load generator for Kinesis Data Streams emulators")]
struct Cli {
    /// Server address, `host:port` (an `http://` prefix is accepted).
    #[arg(long, default_value = "127.0.0.1:4567", global = true)]
    endpoint: String,
    /// Server name printed in every result line.
    #[arg(long, default_value = "server", global = true)]
    label: String,
    /// Run against the built-in canned-answer server instead (PutRecord/PutRecords only).
    #[arg(long, global = true)]
    canned: bool,
    /// Threads of the canned server.
    #[arg(long, default_value_t = 1, global = true)]
    canned_threads: usize,
    /// Threads of the load generator (1 = a single-threaded runtime).
    #[arg(long, default_value_t = 1, global = true)]
    client_threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct LoadArgs {
    /// Keep-alive connections, each a closed loop.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Shards of the stream written to.
    #[arg(long, default_value_t = 4)]
    shards: u32,
    /// Measured seconds.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

impl LoadArgs {
    fn load(&self) -> Load {
        Load {
            connections: self.connections,
            shards: self.shards,
            duration: Duration::from_secs_f64(self.duration),
            warmup: Duration::from_secs_f64(self.warmup),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// PutRecord throughput (ops/s).
    PutRecord {
        #[command(flatten)]
        load: LoadArgs,
        /// Data bytes per record.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Stop the measured window after this many operations.
        #[arg(long, default_value_t = 10_000_000)]
        max_ops: u64,
        #[arg(long, default_value = "put_record_ops")]
        figure: String,
    },
    /// PutRecords throughput (accepted records/s).
    PutRecords {
        #[command(flatten)]
        load: LoadArgs,
        /// Records per request.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Data bytes per record.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Stop the measured window after this many records.
        #[arg(long, default_value_t = 100_000_000)]
        max_records: u64,
        /// Figure name (default: put_records_<size>b_rps).
        #[arg(long)]
        figure: Option<String>,
    },
    /// Fill a stream, then drain it with GetRecords (records/s of the drain).
    GetRecords {
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        #[arg(long, default_value_t = 100)]
        size: usize,
        #[arg(long, default_value_t = 4)]
        shards: u32,
        /// Connections used to fill (PutRecords of 500).
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 90.0)]
        max_fill: f64,
        #[arg(long, default_value_t = 90.0)]
        max_drain: f64,
    },
    /// Put → visible to a GetRecords poller (p50/p99).
    Latency {
        #[arg(long, default_value_t = 2000)]
        samples: usize,
        /// Milliseconds between puts.
        #[arg(long, default_value_t = 2.0)]
        interval_ms: f64,
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Microseconds the poller sleeps between GetRecords (0 = a tight loop).
        #[arg(long, default_value_t = 0)]
        poll_interval_us: u64,
        #[arg(long, default_value_t = 30.0)]
        max: f64,
        /// Poll through this endpoint (another node of a cluster) instead of --endpoint;
        /// the figures become visible_cross_*.
        #[arg(long)]
        reader_endpoint: Option<String>,
    },
    /// Put → delivered to a SubscribeToShard subscriber (p50/p99).
    SubscribeLatency {
        /// Subscribe through this endpoint (another node of a cluster) instead of
        /// --endpoint; the figures become subscribe_cross_*.
        #[arg(long)]
        reader_endpoint: Option<String>,
    },
    /// CreateStream → ACTIVE (p50 over the iterations).
    CreateActive {
        #[arg(long, default_value_t = 10)]
        iterations: usize,
        #[arg(long, default_value_t = 4)]
        shards: u32,
        #[arg(long, default_value_t = 60.0)]
        max: f64,
    },
    /// Start a server command, time it to its first answer, read its idle RSS, stop it.
    Startup {
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
        /// Milliseconds idle before RSS is read.
        #[arg(long, default_value_t = 1000)]
        idle_ms: u64,
        #[arg(long, default_value = "startup_ms")]
        startup_figure: String,
        /// `none` to skip the RSS figure.
        #[arg(long, default_value = "idle_rss_mb")]
        rss_figure: String,
        /// File for the server's stdout and stderr (of the last start).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Starts to time; the figure is their median.
        #[arg(long, default_value_t = 1)]
        runs: usize,
        /// A directory removed before each start, so that each finds it empty.
        #[arg(long)]
        empty_dir: Option<PathBuf>,
        /// The server command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Create streams (e.g. 100 × 4 shards) with a few records each, for the start-up figure.
    Prepare {
        #[arg(long, default_value_t = 100)]
        streams: usize,
        #[arg(long, default_value_t = 4)]
        shards: u32,
        #[arg(long, default_value_t = 10)]
        records: usize,
        #[arg(long, default_value_t = 4)]
        connections: usize,
    },
    /// Write a volume of records (e.g. 1G), then report RSS and disk bytes per stored byte.
    Fill {
        /// Bytes of records to store (data + partition key): 500M, 1G, 5G...
        #[arg(long, default_value = "1G", value_parser = parse_bytes)]
        bytes: u64,
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[arg(long, default_value_t = 500)]
        batch: usize,
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Seconds at most spent writing.
        #[arg(long, default_value_t = 120.0)]
        max: f64,
        /// Server process whose RSS is read afterwards.
        #[arg(long)]
        pid: Option<u32>,
        /// Server data directory whose size is compared with the bytes stored.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
    },
    /// Print the RSS of a process tree as a figure.
    Rss {
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value = "rss_mb")]
        figure: String,
    },
    /// Wait until the server answers ListStreams (exit status 1 on time-out).
    WaitReady {
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// Serve canned PutRecord answers on --endpoint until killed.
    CannedServer,
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    num.trim()
        .parse::<f64>()
        .map(|n| (n * mult as f64) as u64)
        .map_err(|e| format!("bad byte count {text:?}: {e}"))
}

fn resolve(endpoint: &str) -> Result<(SocketAddr, String), String> {
    let host = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("bad endpoint {endpoint:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("endpoint {endpoint:?} resolves to nothing"))?;
    Ok((addr, host))
}

/// The node a cross-node scenario reads through, if one was named.
fn reader_target(endpoint: Option<&str>) -> kinesis::Res<Option<kinesis::Target>> {
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let (addr, host) = resolve(endpoint)?;
    Ok(Some(kinesis::Target { addr, host }))
}

/// The figure a failed command would have printed, for its `SKIP` line.
fn main_figure(c: &Command) -> String {
    match c {
        Command::PutRecord { figure, .. } => figure.clone(),
        Command::PutRecords { figure, size, .. } => figure
            .clone()
            .unwrap_or_else(|| format!("put_records_{size}b_rps")),
        Command::GetRecords { .. } => "get_records_rps".into(),
        Command::Latency {
            reader_endpoint, ..
        } => latency_figure("visible", reader_endpoint.is_some(), "p50"),
        Command::SubscribeLatency { reader_endpoint } => {
            latency_figure("subscribe", reader_endpoint.is_some(), "p50")
        }
        Command::CreateActive { .. } => "create_active_ms".into(),
        Command::Startup { startup_figure, .. } => startup_figure.clone(),
        Command::Prepare { .. } => "prepare_s".into(),
        Command::Fill { .. } => "retained_rss_mb".into(),
        Command::Rss { figure, .. } => figure.clone(),
        Command::WaitReady { .. } => "ready".into(),
        Command::CannedServer => "canned".into(),
    }
}

async fn run(cli: Cli, target: kinesis::Target) -> kinesis::Res<()> {
    let out = Out {
        label: cli.label.clone(),
    };
    let t = &target;
    let canned = cli.canned;
    let secs = Duration::from_secs_f64;
    match cli.command {
        Command::PutRecord {
            load,
            size,
            max_ops,
            figure,
        } => scenarios::put_record(t, &out, canned, &load.load(), size, max_ops, &figure).await,
        Command::PutRecords {
            load,
            batch,
            size,
            max_records,
            figure,
        } => {
            let figure = figure.unwrap_or_else(|| format!("put_records_{size}b_rps"));
            scenarios::put_records(
                t,
                &out,
                canned,
                &load.load(),
                batch,
                size,
                max_records,
                &figure,
            )
            .await
        }
        Command::GetRecords {
            records,
            size,
            shards,
            connections,
            max_fill,
            max_drain,
        } => {
            scenarios::get_records(
                t,
                &out,
                records,
                size,
                shards,
                connections,
                secs(max_fill),
                secs(max_drain),
            )
            .await
        }
        Command::Latency {
            samples,
            interval_ms,
            size,
            poll_interval_us,
            max,
            reader_endpoint,
        } => {
            let reader = reader_target(reader_endpoint.as_deref())?;
            scenarios::latency(
                t,
                reader.as_ref(),
                &out,
                samples,
                secs(interval_ms / 1e3),
                size,
                Duration::from_micros(poll_interval_us),
                secs(max),
            )
            .await
        }
        Command::SubscribeLatency { reader_endpoint } => {
            let reader = reader_target(reader_endpoint.as_deref())?;
            subscribe::subscribe_latency(t, reader.as_ref(), &out, 1000).await
        }
        Command::CreateActive {
            iterations,
            shards,
            max,
        } => scenarios::create_active(t, &out, iterations, shards, secs(max)).await,
        Command::Startup {
            timeout,
            idle_ms,
            startup_figure,
            rss_figure,
            log,
            runs,
            empty_dir,
            command,
        } => {
            let a = StartupArgs {
                timeout: secs(timeout),
                idle: Duration::from_millis(idle_ms),
                startup_figure,
                rss_figure,
                log,
                runs,
                empty_dir,
                command,
            };
            scenarios::startup(t, &out, &a).await
        }
        Command::Prepare {
            streams,
            shards,
            records,
            connections,
        } => scenarios::prepare(t, &out, streams, shards, records, connections).await,
        Command::Fill {
            bytes,
            size,
            batch,
            connections,
            max,
            pid,
            data_dir,
            settle_ms,
        } => {
            let a = FillArgs {
                bytes,
                size,
                batch,
                connections,
                max: secs(max),
                pid,
                data_dir,
                settle: Duration::from_millis(settle_ms),
            };
            scenarios::fill(t, &out, &a).await
        }
        Command::Rss { pid, figure } => {
            scenarios::rss(&out, pid, &figure);
            Ok(())
        }
        Command::WaitReady { timeout } => scenarios::wait_ready(t, secs(timeout)).await.map(drop),
        Command::CannedServer => {
            let listener = tokio::net::TcpListener::bind(t.addr).await?;
            eprintln!("canned server on {}", listener.local_addr()?);
            canned::serve(listener).await;
            Ok(())
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let figure = main_figure(&cli.command);
    let label = cli.label.clone();
    let fail = |msg: String| -> ! {
        println!("SKIP {label} {figure} error: {}", msg.replace('\n', " "));
        std::process::exit(1);
    };
    let target = if cli.canned {
        if !matches!(
            cli.command,
            Command::PutRecord { .. } | Command::PutRecords { .. }
        ) {
            fail("--canned serves PutRecord/PutRecords only".into());
        }
        let addr = canned::spawn("127.0.0.1:0".parse().unwrap(), cli.canned_threads)
            .unwrap_or_else(|e| fail(format!("canned server: {e}")));
        kinesis::Target {
            addr,
            host: addr.to_string(),
        }
    } else {
        let (addr, host) = resolve(&cli.endpoint).unwrap_or_else(|e| fail(e));
        kinesis::Target { addr, host }
    };
    let rt = if matches!(cli.command, Command::CannedServer) {
        canned::runtime(cli.canned_threads)
    } else {
        canned::runtime(cli.client_threads)
    }
    .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    if let Err(e) = rt.block_on(run(cli, target)) {
        fail(e.to_string());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_counts() {
        assert_eq!(super::parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(super::parse_bytes("1.5k"), Ok(1536));
        assert_eq!(super::parse_bytes("42"), Ok(42));
        assert!(super::parse_bytes("x").is_err());
    }
}
