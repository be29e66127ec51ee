//! The HTTP front: start-up (storage, registry, listener, background work) and shutdown.
//! Connections are served by `connection.rs`, answers built by `response.rs`; the checks AWS
//! makes before an operation runs are pure functions in `protocol::request`.

mod budget;
mod connection;
mod dynamo;
mod front;
mod response;
mod scrape;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::streams::{retention, Registry};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub struct Server {
    addr: SocketAddr,
    registry: Arc<Registry>,
    tasks: JoinSet<()>,
    /// The accept loop: serves connections until told to stop, then lets accepted requests
    /// finish. A set of one, so dropping the server aborts it.
    accepting: JoinSet<()>,
    /// Tells the accept loop to stop (see [`Server::shutdown`]).
    stop: tokio::sync::watch::Sender<bool>,
    /// The generated TLS CA (PEM, and its file with a data directory); see `tls.rs`.
    tls_ca: Option<(String, Option<std::path::PathBuf>)>,
    tls_enabled: bool,
}

impl Server {
    /// Binds `addr` (port 0 picks a free one), opens the store and starts serving.
    pub async fn start(
        config: Config,
        clock: SharedClock,
        addr: SocketAddr,
    ) -> std::io::Result<Server> {
        // The port first: a port in use stops the start before anything is written. Nothing
        // is accepted until the loop below starts, so early clients wait in the backlog.
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        let mut config = config;
        // A name the certificate was made for is one clients are meant to use.
        let tls_names = config.tls.extra_names.clone();
        config.hosts.names.extend(tls_names);
        // The store first: opening it checks the data directory (no links inside, owner-only)
        // before the TLS material is read or written there.
        let storage = crate::storage::open(&config)
            .await
            .map_err(std::io::Error::other)?;
        let tls = crate::tls::setup(&config.tls, config.data_dir.as_deref())?;
        let registry = Registry::open(storage, config, clock)
            .await
            .map_err(std::io::Error::other)?;
        // Before the listener: declared streams are ACTIVE by the time anyone can ask.
        let declared = registry.config().streams.clone();
        crate::streams::declared::declare(&registry, &declared)
            .await
            .map_err(std::io::Error::other)?;
        let addr = listener.local_addr()?;
        let mut tasks = JoinSet::new();
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let tls_enabled = tls.is_some();
        let tls_ca = tls.and_then(|t| t.ca_pem.map(|pem| (pem, t.ca_path)));
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let mut accepting = JoinSet::new();
        accepting.spawn(connection::accept_loop(
            listener,
            registry.clone(),
            acceptor,
            stopping,
        ));
        tasks.spawn(retention::retention_worker(registry.clone()));
        Ok(Server {
            addr,
            registry,
            tasks,
            accepting,
            stop,
            tls_ca,
            tls_enabled,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same port over TLS (`None` when TLS is off); `localhost` for a wildcard address.
    pub fn https_endpoint(&self) -> Option<String> {
        self.tls_enabled.then(|| {
            if self.addr.ip().is_unspecified() {
                format!("https://localhost:{}", self.addr.port())
            } else {
                format!("https://{}", self.addr)
            }
        })
    }

    /// The PEM of the generated CA that signed the TLS certificate (`None` when TLS is off or
    /// the certificate was supplied by the user).
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.tls_ca.as_ref().map(|(pem, _)| pem.clone())
    }

    /// Where that CA certificate is stored (`<data-dir>/tls/ca.pem`); `None` in memory.
    pub fn tls_ca_path(&self) -> Option<&std::path::Path> {
        self.tls_ca.as_ref().and_then(|(_, path)| path.as_deref())
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stops accepting, lets the requests already accepted finish (HTTP/2 connections get a
    /// GOAWAY, HTTP/1.1 ones close after their current answer) for at most
    /// `Config::connections.shutdown_grace_ms`, ends what is left, and makes everything
    /// written durable.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        // A subscription would otherwise hold its connection open for the whole grace period.
        self.registry.subscriptions().end_all();
        let grace = self.registry.config().connections.shutdown_grace_ms;
        // The accept loop itself gives up on connections at the deadline; the extra second
        // only covers its own wind-down.
        let deadline = std::time::Duration::from_millis(grace) + std::time::Duration::from_secs(1);
        if tokio::time::timeout(deadline, self.accepting.join_next())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the shutdown deadline were cut");
        }
        self.accepting.shutdown().await;
        self.tasks.shutdown().await;
        let registry = self.registry;
        if let Err(e) = registry.sync().await {
            tracing::error!(error = %e, "making the last writes durable failed");
        }
        // Dropping the last registry joins the flusher and closes the store, releasing its lock
        // so the same data directory can be opened again at once.
        let _ = tokio::task::spawn_blocking(move || drop(registry)).await;
    }
}
