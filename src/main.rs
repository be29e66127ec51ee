use kinesd::{Config, Durability, Server, SystemClock};
use shard_store::jetstream::JetStreamOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

mod config_file;
mod healthcheck;
mod memory;
mod options;

use options::{Args, ClockArg, Command, DurabilityArg, LogFormat};

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

// The async runtime is built once the options are read (not by `#[tokio::main]` before them):
// `--version`, `--help`, `--print-config` and `healthcheck` start no threads, and a refused
// option is told before any are started.
fn main() {
    let loaded = match config_file::load(std::env::args_os().collect()) {
        Ok(loaded) => loaded,
        Err(config_file::Refusal::Clap(e)) => e.exit(),
        Err(config_file::Refusal::Message(why)) => {
            eprintln!("kinesd: {why}");
            std::process::exit(2);
        }
    };
    if loaded.args.print_config {
        print!("{}", loaded.render());
        return;
    }
    let streams = loaded.streams;
    let args = loaded.args;
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
    let unknown = config_file::unknown_variables();
    if !unknown.is_empty() {
        tracing::warn!(
            variables = ?unknown,
            "environment variables named like kinesd's options but naming none; ignored"
        );
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
    let manual_clock = match (args.clock, args.control_api) {
        (ClockArg::System, _) => None,
        (ClockArg::Manual, true) => Some(kinesd::clock::ManualClock::starting_now()),
        (ClockArg::Manual, false) => {
            eprintln!("kinesd: --clock manual needs --control-api (the clock moves through it)");
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
        control_api: args.control_api,
        enforce_limits: args.enforce_limits,
        control_api_remote: args.control_api_remote,
        console: !args.no_console,
        manual_clock: manual_clock.clone(),
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
    let clock: kinesd::clock::SharedClock = match &manual_clock {
        Some(manual) => Arc::new(manual.clone()),
        None => Arc::new(SystemClock),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kinesd: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(serve(config, clock, addr, shutdown_grace));
}

/// Serves until Ctrl-C or SIGTERM, then shuts down within the grace period.
async fn serve(
    config: Config,
    clock: kinesd::clock::SharedClock,
    addr: SocketAddr,
    shutdown_grace: std::time::Duration,
) {
    let server = match Server::start(config, clock, addr).await {
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
