use clap::{Parser, Subcommand, ValueEnum};
use kinesd::{Config, Durability, Server, SystemClock};
use shard_store::jetstream::JetStreamOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

mod healthcheck;
mod memory;

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    /// Acknowledge writes only once flushed to disk (group commit).
    Flush,
    /// Acknowledge writes once in memory; flushed every 500 ms.
    Relaxed,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Ask a running kinesd for GET /health: exit 0 when it answers 200, 1 otherwise (for a
    /// Docker HEALTHCHECK without curl).
    Healthcheck {
        #[arg(long, default_value = "127.0.0.1", env = "KINESD_HOST")]
        host: String,
        #[arg(long, default_value_t = 4567, env = "KINESD_PORT")]
        port: u16,
    },
}

/// A Kinesis Data Streams compatible server, durable on disk.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "KINESD_HOST")]
    host: String,
    /// Log lines as text, or as one JSON object per line (logs go to stderr).
    #[arg(long, value_enum, default_value = "text", env = "KINESD_LOG_FORMAT")]
    log_format: LogFormat,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 4567, env = "KINESD_PORT")]
    port: u16,
    /// Directory for the data (created if missing).
    #[arg(long, default_value = "./kinesd-data", env = "KINESD_DATA_DIR")]
    data_dir: PathBuf,
    /// Keep everything in a temporary store that is removed on exit.
    #[arg(long)]
    in_memory: bool,
    /// Where records live: `embedded` (sled in --data-dir, the default) or, for cluster mode,
    /// the NATS JetStream cluster at `nats://host:port[,nats://host:port…]`.
    #[arg(long, default_value = "embedded", env = "KINESD_STORE")]
    store: String,
    /// Copies of each shard in JetStream (default: 3 when the cluster has three or more
    /// servers, else 1).
    #[arg(long, env = "KINESD_NATS_REPLICAS", value_parser = clap::value_parser!(u64).range(1..=5))]
    nats_replicas: Option<u64>,
    /// Prefix of kinesd's JetStream streams and bucket, so that several kinesd clusters can
    /// share one NATS cluster.
    #[arg(long, default_value = "kinesd", env = "KINESD_NATS_NAMESPACE")]
    nats_namespace: String,
    #[arg(long, default_value = "us-east-1", env = "KINESD_REGION")]
    region: String,
    #[arg(long, default_value = "000000000000", env = "KINESD_ACCOUNT_ID")]
    account_id: String,
    /// Open shards allowed across all streams.
    #[arg(long, default_value_t = 500)]
    shard_limit: i64,
    /// Milliseconds a new stream stays CREATING.
    #[arg(long, default_value_t = 0)]
    create_stream_ms: i64,
    /// Milliseconds a deleted stream stays DELETING.
    #[arg(long, default_value_t = 0)]
    delete_stream_ms: i64,
    /// Milliseconds a stream stays UPDATING after resharding and other updates.
    #[arg(long, default_value_t = 0)]
    update_stream_ms: i64,
    /// Milliseconds a registered consumer stays CREATING (and a deregistered one DELETING).
    #[arg(long, default_value_t = 0)]
    consumer_ms: i64,
    #[arg(long, value_enum, default_value = "flush")]
    durability: DurabilityArg,
    /// MiB that must stay free on the data directory's disk: below it writes are refused with
    /// 503 until space is freed, so the store never meets a full disk.
    #[arg(long, default_value_t = 256, env = "KINESD_MIN_FREE_DISK_MB")]
    min_free_disk_mb: u64,
    /// Start even if the data directory is damaged, keeping what is readable and logging
    /// what was lost (without it, damage refuses the start).
    #[arg(long)]
    accept_data_loss: bool,
    /// Milliseconds between retention passes.
    #[arg(long, default_value_t = 60_000)]
    retention_check_ms: u64,
    /// Serve plain HTTP only (no TLS on the port).
    #[arg(long, env = "KINESD_NO_TLS")]
    no_tls: bool,
    /// PEM certificate chain to serve over TLS instead of the generated one.
    #[arg(long, requires = "tls_key", env = "KINESD_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", env = "KINESD_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Extra DNS name or IP address for the generated certificate (repeatable); requests may
    /// name it in their Host header.
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// A Host name requests may carry besides localhost and IP addresses (repeatable, or
    /// comma-separated in the variable; `*.example.com` allows a domain). Other names get 403:
    /// a defence against DNS rebinding.
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "KINESD_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// Streams to create at start if absent: `name[:shards|:on-demand][:<hours>h]`,
    /// comma-separated, e.g. `orders:4,clicks:2:48h` (existing ones are left as they are).
    #[arg(long, env = "KINESD_STREAMS", default_value = "")]
    streams: String,
    /// Check every request's SigV4 signature against the keys of --credentials-file or
    /// KINESD_CREDENTIALS (`AKID:SECRET,…`); without it any well-formed signature is taken.
    #[arg(long)]
    verify_signatures: bool,
    /// A file of `ACCESS_KEY_ID:SECRET_ACCESS_KEY` lines for --verify-signatures.
    #[arg(long, value_name = "PATH")]
    credentials_file: Option<PathBuf>,
    /// Serve requests whatever Host they name (turns the DNS-rebinding defence off).
    #[arg(long, env = "KINESD_ALLOW_ANY_HOST")]
    allow_any_host: bool,
    /// Connections served at once; more are closed as they arrive (also kept below the
    /// file-descriptor limit).
    #[arg(long, default_value_t = 10_000, env = "KINESD_MAX_CONNECTIONS")]
    max_connections: usize,
    /// Milliseconds a connection may take to send its first byte or its request headers, and
    /// an HTTP/1.1 keep-alive connection may stay idle.
    #[arg(long, default_value_t = 60_000)]
    header_timeout_ms: u64,
    /// Streams one HTTP/2 connection may have open at once.
    #[arg(long, default_value_t = 32)]
    h2_max_streams: u32,
    /// Milliseconds without frames before an HTTP/2 connection is pinged (and closed if the
    /// ping is not answered as long).
    #[arg(long, default_value_t = 60_000)]
    h2_keepalive_ms: u64,
    /// On SIGTERM or Ctrl-C, milliseconds requests already accepted may take to finish.
    #[arg(long, default_value_t = 5_000)]
    shutdown_grace_ms: u64,
    /// MiB of request bodies and large answers held at once across all connections; beyond
    /// it requests wait, and get 503 after --body-timeout-ms.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4095))]
    inflight_limit_mib: u64,
    /// Milliseconds a request may take to send its body.
    #[arg(long, default_value_t = 60_000)]
    body_timeout_ms: u64,
    /// Milliseconds a large answer may wait for its client to read it before the connection
    /// is closed.
    #[arg(long, default_value_t = 60_000)]
    answer_timeout_ms: u64,
}

/// The keys for --verify-signatures: the file's, else KINESD_CREDENTIALS's.
fn credentials(args: &Args) -> Result<Option<kinesd::Credentials>, String> {
    if !args.verify_signatures {
        if args.credentials_file.is_some() {
            return Err("--credentials-file needs --verify-signatures".into());
        }
        return Ok(None);
    }
    let text = match (&args.credentials_file, std::env::var("KINESD_CREDENTIALS")) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        (None, Ok(text)) => text,
        (None, Err(_)) => {
            return Err(
                "--verify-signatures needs keys: --credentials-file PATH or \
                 KINESD_CREDENTIALS=AKID:SECRET,…"
                    .into(),
            )
        }
    };
    kinesd::Credentials::parse(&text).map(Some)
}

/// How long the final sync may take after the grace period before the process exits anyway.
const SYNC_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// File descriptors kept for the store, the journal, TLS files and logs beside connections.
const RESERVED_FDS: u64 = 256;

/// Raises the soft limit on open files to the hard one and returns how many connections it
/// leaves room for.
fn connection_room() -> Option<usize> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            Some(usize::try_from(limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX))
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-file limit");
            None
        }
    }
}

/// `--store`: the embedded engine, or the JetStream cluster at a list of `nats://` URLs.
fn store_choice(args: &Args) -> Result<Option<JetStreamOptions>, String> {
    let store = args.store.trim();
    if store.is_empty() || store == "embedded" {
        return Ok(None);
    }
    let urls: Vec<String> = store.split(',').map(|u| u.trim().to_string()).collect();
    for url in &urls {
        let known = ["nats://", "tls://"].iter().any(|s| url.starts_with(s));
        if !known || url.len() <= "nats://".len() {
            return Err(format!(
                "{url:?}: expected `embedded` or nats://host:port (comma-separated for several servers)"
            ));
        }
    }
    Ok(Some(JetStreamOptions {
        urls,
        replicas: args.nats_replicas.map(|r| r as usize),
        namespace: args.nats_namespace.clone(),
        ..JetStreamOptions::default()
    }))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KINESD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    if let Some(Command::Healthcheck { host, port }) = &args.command {
        std::process::exit(healthcheck::run(host, *port));
    }
    // Everything kinesd creates is its owner's alone (the data directory is 0700 and its
    // files 0600; see shard-store's `data_dir.rs`).
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let shutdown_grace = std::time::Duration::from_millis(args.shutdown_grace_ms);
    let credentials = match credentials(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kinesd: {e}");
            std::process::exit(2);
        }
    };
    let streams = match kinesd::streams::declared::parse_list(&args.streams) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kinesd: --streams / KINESD_STREAMS: {e}");
            std::process::exit(2);
        }
    };
    let nats = match store_choice(&args) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("kinesd: --store / KINESD_STORE: {e}");
            std::process::exit(2);
        }
    };
    let config = Config {
        data_dir: (!args.in_memory).then_some(args.data_dir.clone()),
        nats,
        region: args.region,
        account_id: args.account_id,
        shard_limit: args.shard_limit,
        create_delay_ms: args.create_stream_ms,
        delete_delay_ms: args.delete_stream_ms,
        update_delay_ms: args.update_stream_ms,
        consumer_delay_ms: args.consumer_ms,
        min_free_disk_bytes: args.min_free_disk_mb << 20,
        accept_data_loss: args.accept_data_loss,
        durability: match args.durability {
            DurabilityArg::Flush => Durability::Flush,
            DurabilityArg::Relaxed => Durability::Relaxed,
        },
        retention_check_ms: args.retention_check_ms,
        tls: kinesd::tls::TlsConfig {
            enabled: !args.no_tls,
            cert_path: args.tls_cert,
            key_path: args.tls_key,
            extra_names: args.tls_names,
        },
        on_idle: Some(memory::release_freed_memory),
        connections: kinesd::ConnectionLimits {
            max_connections: match connection_room() {
                Some(room) if room < args.max_connections => {
                    tracing::warn!(
                        requested = args.max_connections,
                        allowed = room,
                        "--max-connections lowered to what the open-file limit allows"
                    );
                    room.max(1)
                }
                _ => args.max_connections,
            },
            header_timeout_ms: args.header_timeout_ms,
            h2_max_streams: args.h2_max_streams,
            h2_keepalive_ms: args.h2_keepalive_ms,
            shutdown_grace_ms: args.shutdown_grace_ms,
            inflight_bytes: (args.inflight_limit_mib as usize) << 20,
            body_timeout_ms: args.body_timeout_ms,
            answer_timeout_ms: args.answer_timeout_ms,
        },
        credentials,
        streams,
        hosts: kinesd::HostPolicy {
            any: args.allow_any_host,
            names: args.allowed_hosts,
        },
        ..Config::default()
    };
    let addr: SocketAddr = match format!("{}:{}", args.host, args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kinesd: bad listen address: {e}");
            std::process::exit(2);
        }
    };
    let server = match Server::start(config, Arc::new(SystemClock), addr).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kinesd: cannot start: {e}");
            std::process::exit(1);
        }
    };
    // Tests and scripts read this line to find the port.
    println!("kinesd listening on {}", server.endpoint());
    let _ = std::io::stdout().flush();
    let temporary_ca = announce_tls(&server);
    let config = server.registry().config();
    tracing::info!(
        listen = %server.endpoint(),
        data = %config
            .data_dir
            .as_ref()
            .map_or("memory (removed on exit)".to_string(), |d| d.display().to_string()),
        streams = ?config.streams.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "serving"
    );
    // Ctrl-C or SIGTERM (docker stop, systemd): stop accepting and flush before exiting.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    // Shutdown is bounded whatever the disk does: past the grace period and the final sync's
    // own deadline, the process exits anyway (the journal keeps what was acknowledged).
    std::thread::spawn(move || {
        std::thread::sleep(shutdown_grace + SYNC_DEADLINE);
        eprintln!("kinesd: shutdown did not finish in time; exiting");
        std::process::exit(1);
    });
    server.shutdown().await;
    if let Some(path) = temporary_ca {
        let _ = std::fs::remove_file(path);
    }
}

/// Tells on stderr where TLS is and which CA to trust. An in-memory server's CA is written to a
/// temporary file so that clients have a path to pass to `--ca-bundle` / `AWS_CA_BUNDLE`;
/// that file is returned, to be removed on exit.
fn announce_tls(server: &Server) -> Option<PathBuf> {
    let https = server.https_endpoint()?;
    let mut temporary = None;
    let ca = match (server.tls_ca_path(), server.tls_ca_pem()) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(pem)) => {
            let path = std::env::temp_dir().join(format!(
                "kinesd-ca-{}-{}.pem",
                server.local_addr().port(),
                std::process::id()
            ));
            match std::fs::write(&path, pem) {
                Ok(()) => {
                    temporary = Some(path.clone());
                    Some(path)
                }
                Err(e) => {
                    eprintln!("kinesd: cannot write the TLS CA to {}: {e}", path.display());
                    None
                }
            }
        }
        (None, None) => None,
    };
    match ca {
        Some(path) => eprintln!(
            "kinesd: TLS on the same port ({https}); trust the CA in {} (e.g. AWS_CA_BUNDLE={})",
            path.display(),
            path.display()
        ),
        None => eprintln!("kinesd: TLS on the same port ({https}) with the given certificate"),
    }
    temporary
}
