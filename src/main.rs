use clap::{Parser, ValueEnum};
use kinesd::{Config, Durability, Server, SystemClock};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    /// Acknowledge writes only once flushed to disk (group commit).
    Flush,
    /// Acknowledge writes once in memory; flushed every 500 ms.
    Relaxed,
}

/// A Kinesis Data Streams compatible server, durable on disk.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "KINESD_HOST")]
    host: String,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 4567, env = "KINESD_PORT")]
    port: u16,
    /// Directory for the data (created if missing).
    #[arg(long, default_value = "./kinesd-data", env = "KINESD_DATA_DIR")]
    data_dir: PathBuf,
    /// Keep everything in a temporary store that is removed on exit.
    #[arg(long)]
    in_memory: bool,
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
    #[arg(long, value_enum, default_value = "flush")]
    durability: DurabilityArg,
    /// Milliseconds between retention passes.
    #[arg(long, default_value_t = 60_000)]
    retention_check_ms: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KINESD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = Config {
        data_dir: (!args.in_memory).then_some(args.data_dir.clone()),
        region: args.region,
        account_id: args.account_id,
        shard_limit: args.shard_limit,
        create_delay_ms: args.create_stream_ms,
        delete_delay_ms: args.delete_stream_ms,
        update_delay_ms: args.update_stream_ms,
        durability: match args.durability {
            DurabilityArg::Flush => Durability::Flush,
            DurabilityArg::Relaxed => Durability::Relaxed,
        },
        retention_check_ms: args.retention_check_ms,
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
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
}
