//! Server settings, filled from the command line (see `main.rs`) or by tests.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledge a write only after the store has flushed it (group commit). The default.
    Flush,
    /// Acknowledge once written to the store's memory; the store flushes every 500 ms.
    Relaxed,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `None` keeps everything in a temporary store that vanishes on exit (tests).
    pub data_dir: Option<PathBuf>,
    /// Cluster mode: records and the catalogue in NATS JetStream instead of the embedded
    /// store (`--store nats://…`); `data_dir` then holds only the TLS material.
    pub nats: Option<shard_store::jetstream::JetStreamOptions>,
    pub region: String,
    pub account_id: String,
    /// Open shards allowed across all streams (DescribeLimits.ShardLimit).
    pub shard_limit: i64,
    pub on_demand_stream_limit: i64,
    /// How long a new stream stays CREATING.
    pub create_delay_ms: i64,
    /// How long a deleted stream stays DELETING.
    pub delete_delay_ms: i64,
    /// How long resharding and other updates keep a stream UPDATING.
    pub update_delay_ms: i64,
    /// A shard closed in the shard log for longer than this while the catalogue still shows
    /// it open is taken for the leftover of a node that died mid-reshard and reopened by the
    /// next put that meets it (cluster mode; see `streams/reshard.rs`). Far longer than a
    /// reshard's close-to-store window, which is a few catalogue round trips.
    pub reshard_heal_grace_ms: i64,
    /// How long a registered consumer stays CREATING, and a deregistered one DELETING.
    pub consumer_delay_ms: i64,
    /// A SubscribeToShard stream sends an event at least this often when idle (AWS: 5 s).
    pub subscribe_heartbeat_ms: u64,
    pub durability: Durability,
    /// Writes are refused (503) while the data directory's disk has less free space than
    /// this, so the store never meets a full disk (see shard-store's `disk.rs`).
    pub min_free_disk_bytes: u64,
    /// Start on a damaged data directory with what is readable, logging what was lost,
    /// instead of refusing to start.
    pub accept_data_loss: bool,
    /// How often the retention worker looks for expired records (real time).
    pub retention_check_ms: u64,
    /// Records trimmed per shard per batch, so trimming never stalls writers.
    pub trim_batch: usize,
    /// TLS on the listening port (next to plain HTTP/1.1 and h2c); see `tls.rs`.
    pub tls: crate::tls::TlsConfig,
    /// Connection limits and timeouts (see `server/connection.rs`).
    pub connections: ConnectionLimits,
    /// Streams created at start if absent (`--streams`; see `streams/declared.rs`).
    pub streams: Vec<crate::streams::declared::DeclaredStream>,
    /// Check every request's SigV4 signature against these keys (`--verify-signatures`);
    /// `None` accepts any well-formed signature, as emulators usually do.
    pub credentials: Option<crate::protocol::sigv4::Credentials>,
    /// The `Host` names requests may carry besides loopback ones (see `protocol/host.rs`);
    /// the TLS certificate's extra names are added at start.
    pub hosts: crate::protocol::host::HostPolicy,
    /// The control API under `/_kinesd/` (`--control-api`; see `control/mod.rs`).
    pub control_api: bool,
    /// Let non-loopback clients use the control API (`--control-api-remote`).
    pub control_api_remote: bool,
    /// The web console at `/console` (on unless `--no-console`; see `console/mod.rs`).
    pub console: bool,
    /// The clock, when kinesd runs on a manual one (`--clock manual`) that the control API
    /// moves; `None` on the system clock.
    pub manual_clock: Option<crate::clock::ManualClock>,
    /// Enforce AWS's throughput limits (`--enforce-limits`; see `streams/throughput.rs`):
    /// ProvisionedThroughputExceeded and LimitExceeded on the injected clock.
    pub enforce_limits: bool,
    /// Run by the store when it falls idle after writes: the binary hands freed memory back to
    /// the OS there (the library itself holds no `unsafe`).
    pub on_idle: Option<fn()>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            nats: None,
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            shard_limit: 500,
            on_demand_stream_limit: 50,
            create_delay_ms: 0,
            delete_delay_ms: 0,
            update_delay_ms: 0,
            reshard_heal_grace_ms: 30_000,
            consumer_delay_ms: 0,
            subscribe_heartbeat_ms: 5_000,
            durability: Durability::Flush,
            min_free_disk_bytes: 256 << 20,
            accept_data_loss: false,
            retention_check_ms: 60_000,
            trim_batch: 1_000,
            tls: crate::tls::TlsConfig::default(),
            on_idle: None,
            enforce_limits: false,
            control_api: false,
            control_api_remote: false,
            console: true,
            manual_clock: None,
            connections: ConnectionLimits::default(),
            hosts: Default::default(),
            credentials: None,
            streams: Vec::new(),
        }
    }
}

/// What one client may hold of the server: the defaults are far above what a laptop's producers
/// and consumers use, and far below what exhausts the process (file descriptors, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; more are closed as they arrive, with a (rate-limited) log
    /// line. Also capped below the process's file-descriptor limit at start.
    pub max_connections: usize,
    /// How long a connection may take to send its first byte (TLS or plain is told apart by
    /// it), and an HTTP/1.1 connection its request headers, before it is closed. In HTTP/1.1
    /// the same timer runs while a keep-alive connection sits idle between requests.
    pub header_timeout_ms: u64,
    /// Streams one HTTP/2 connection may have open at once (each can hold a request body).
    pub h2_max_streams: u32,
    /// An HTTP/2 connection is pinged after this long without frames, and closed if the ping
    /// is not answered within the same time.
    pub h2_keepalive_ms: u64,
    /// On shutdown, how long requests already accepted may take to finish before their
    /// connections are cut.
    pub shutdown_grace_ms: u64,
    /// Request bodies and large answers held at once across all connections, in bytes;
    /// a request that cannot get its share within `body_timeout_ms` is answered 503.
    pub inflight_bytes: usize,
    /// How long a request may take to send its body (and wait for its share of the budget).
    pub body_timeout_ms: u64,
    /// How long a large answer may wait for its client to read it before the connection is
    /// closed.
    pub answer_timeout_ms: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 10_000,
            header_timeout_ms: 60_000,
            h2_max_streams: 32,
            h2_keepalive_ms: 60_000,
            shutdown_grace_ms: 5_000,
            inflight_bytes: 64 * 1024 * 1024,
            body_timeout_ms: 60_000,
            answer_timeout_ms: 60_000,
        }
    }
}
