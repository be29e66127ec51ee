//! kinesd's options. Every long option can also be given as a `KINESD_<NAME>` variable or a
//! `name` key of the configuration file (see `config_file.rs`, which adds the variables that
//! are not declared here).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum DurabilityArg {
    /// Acknowledge writes only once flushed to disk (group commit).
    Flush,
    /// Acknowledge writes once in memory; flushed every 500 ms.
    Relaxed,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ClockArg {
    /// The machine's clock.
    System,
    /// A clock that starts at the machine's time and moves only through the control API
    /// (`POST /_kinesd/clock`); needs --control-api.
    Manual,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
pub enum Command {
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
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A TOML file of options (keys are the flags' names with `_`; `[[streams]]` tables
    /// declare streams). Variables override it, flags override both.
    #[arg(long, value_name = "PATH", env = "KINESD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration, with where each value came from, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "KINESD_HOST")]
    pub host: String,
    /// Log lines as text, or as one JSON object per line (logs go to stderr).
    #[arg(long, value_enum, default_value = "text", env = "KINESD_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 4567, env = "KINESD_PORT")]
    pub port: u16,
    /// Directory for the data (created if missing).
    #[arg(long, default_value = "./kinesd-data", env = "KINESD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Keep everything in a temporary store that is removed on exit.
    #[arg(long)]
    pub in_memory: bool,
    /// Where records live: `embedded` (sled in --data-dir, the default) or, for cluster mode,
    /// the NATS JetStream cluster at `nats://host:port[,nats://host:port…]`.
    #[arg(long, default_value = "embedded", env = "KINESD_STORE")]
    pub store: String,
    /// Copies of each shard in JetStream (default: 3 when the cluster has three or more
    /// servers, else 1).
    #[arg(long, env = "KINESD_NATS_REPLICAS", value_parser = clap::value_parser!(u64).range(1..=5))]
    pub nats_replicas: Option<u64>,
    /// Prefix of kinesd's JetStream streams and bucket, so that several kinesd clusters can
    /// share one NATS cluster.
    #[arg(long, default_value = "kinesd", env = "KINESD_NATS_NAMESPACE")]
    pub nats_namespace: String,
    #[arg(long, default_value = "us-east-1", env = "KINESD_REGION")]
    pub region: String,
    #[arg(long, default_value = "000000000000", env = "KINESD_ACCOUNT_ID")]
    pub account_id: String,
    /// Open shards allowed across all streams.
    #[arg(long, default_value_t = 500)]
    pub shard_limit: i64,
    /// Milliseconds a new stream stays CREATING.
    #[arg(long, default_value_t = 0)]
    pub create_stream_ms: i64,
    /// Milliseconds a deleted stream stays DELETING.
    #[arg(long, default_value_t = 0)]
    pub delete_stream_ms: i64,
    /// Milliseconds a stream stays UPDATING after resharding and other updates.
    #[arg(long, default_value_t = 0)]
    pub update_stream_ms: i64,
    /// Milliseconds a registered consumer stays CREATING (and a deregistered one DELETING).
    #[arg(long, default_value_t = 0)]
    pub consumer_ms: i64,
    #[arg(long, value_enum, default_value = "flush")]
    pub durability: DurabilityArg,
    /// MiB that must stay free on the data directory's disk: below it writes are refused with
    /// 503 until space is freed, so the store never meets a full disk.
    #[arg(long, default_value_t = 256, env = "KINESD_MIN_FREE_DISK_MB")]
    pub min_free_disk_mb: u64,
    /// Start even if the data directory is damaged, keeping what is readable and logging
    /// what was lost (without it, damage refuses the start).
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Milliseconds between retention passes.
    #[arg(long, default_value_t = 60_000)]
    pub retention_check_ms: u64,
    /// Serve plain HTTP only (no TLS on the port).
    #[arg(long, env = "KINESD_NO_TLS")]
    pub no_tls: bool,
    /// PEM certificate chain to serve over TLS instead of the generated one.
    #[arg(long, requires = "tls_key", env = "KINESD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", env = "KINESD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Extra DNS name or IP address for the generated certificate (repeatable); requests may
    /// name it in their Host header.
    #[arg(long = "tls-name", value_name = "NAME", value_delimiter = ',')]
    pub tls_names: Vec<String>,
    /// A Host name requests may carry besides localhost and IP addresses (repeatable, or
    /// comma-separated in the variable; `*.example.com` allows a domain). Other names get 403:
    /// a defence against DNS rebinding.
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "KINESD_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// Streams to create at start if absent: `name[:shards|:on-demand][:<hours>h]`,
    /// comma-separated, e.g. `orders:4,clicks:2:48h` (existing ones are left as they are).
    #[arg(long, env = "KINESD_STREAMS", default_value = "")]
    pub streams: String,
    /// Check every request's SigV4 signature against the keys of --credentials-file or
    /// KINESD_CREDENTIALS (`AKID:SECRET,…`); without it any well-formed signature is taken.
    #[arg(long)]
    pub verify_signatures: bool,
    /// A file of `ACCESS_KEY_ID:SECRET_ACCESS_KEY` lines for --verify-signatures.
    #[arg(long, value_name = "PATH")]
    pub credentials_file: Option<PathBuf>,
    /// Serve requests whatever Host they name (turns the DNS-rebinding defence off).
    #[arg(long, env = "KINESD_ALLOW_ANY_HOST")]
    pub allow_any_host: bool,
    /// Connections served at once; more are closed as they arrive (also kept below the
    /// file-descriptor limit).
    #[arg(long, default_value_t = 10_000, env = "KINESD_MAX_CONNECTIONS")]
    pub max_connections: usize,
    /// Milliseconds a connection may take to send its first byte or its request headers, and
    /// an HTTP/1.1 keep-alive connection may stay idle.
    #[arg(long, default_value_t = 60_000)]
    pub header_timeout_ms: u64,
    /// Streams one HTTP/2 connection may have open at once.
    #[arg(long, default_value_t = 32)]
    pub h2_max_streams: u32,
    /// Milliseconds without frames before an HTTP/2 connection is pinged (and closed if the
    /// ping is not answered as long).
    #[arg(long, default_value_t = 60_000)]
    pub h2_keepalive_ms: u64,
    /// On SIGTERM or Ctrl-C, milliseconds requests already accepted may take to finish.
    #[arg(long, default_value_t = 5_000)]
    pub shutdown_grace_ms: u64,
    /// MiB of request bodies and large answers held at once across all connections; beyond
    /// it requests wait, and get 503 after --body-timeout-ms.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4095))]
    pub inflight_limit_mib: u64,
    /// Milliseconds a request may take to send its body.
    #[arg(long, default_value_t = 60_000)]
    pub body_timeout_ms: u64,
    /// Serve the control API under /_kinesd/ (clock, fault injection, reset) to loopback
    /// clients.
    #[arg(long)]
    pub control_api: bool,
    /// Let clients on other addresses use the control API too (it can delete everything).
    #[arg(long, requires = "control_api")]
    pub control_api_remote: bool,
    /// Do not serve the web console at /console (streams, shards, a live tail of records).
    #[arg(long)]
    pub no_console: bool,
    /// `manual`: a clock that moves only through the control API.
    #[arg(long, value_enum, default_value = "system")]
    pub clock: ClockArg,
    /// Enforce AWS's throughput limits: per shard 1 MiB/s and 1,000 records/s of writes, 5
    /// GetRecords calls/s and 2 MiB/s of reads (ProvisionedThroughputExceededException), and
    /// the control-plane rates (LimitExceededException), on kinesd's clock.
    #[arg(long)]
    pub enforce_limits: bool,
    /// Milliseconds a large answer may wait for its client to read it before the connection
    /// is closed.
    #[arg(long, default_value_t = 60_000)]
    pub answer_timeout_ms: u64,
}
