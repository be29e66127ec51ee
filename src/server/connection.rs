//! Serving connections: the accept loop, TLS or plain told apart by the first byte, HTTP/1.1
//! or h2 on each; every request goes to `front.rs`.
//!
//! Limits (`Config::connections`): a cap on connections served at once, a deadline for the
//! first byte and for HTTP/1.1 request headers (also the idle keep-alive timeout), and, for
//! HTTP/2, a cap on concurrent streams and keep-alive pings, so idle or slow clients cannot
//! hold the server's file descriptors or memory for ever.

use super::front::{handle, Front};
use crate::streams::Registry;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

pub(super) async fn accept_loop(
    listener: TcpListener,
    registry: Arc<Registry>,
    tls: Option<crate::tls::PendingTls>,
    mut stopping: watch::Receiver<bool>,
) {
    let limits = registry.config().connections;
    let header_timeout = Duration::from_millis(limits.header_timeout_ms.max(1));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // With a timer, hyper closes a connection whose request headers take longer than this,
        // and a keep-alive connection idle for as long.
        .header_read_timeout(header_timeout);
    let keepalive = Duration::from_millis(limits.h2_keepalive_ms.max(1));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_streams.max(1))
        .keep_alive_interval(keepalive)
        .keep_alive_timeout(keepalive);
    let builder = Arc::new(builder);
    let front = Arc::new(Front::new(registry));
    let mut connections = JoinSet::new();
    let graceful = GracefulShutdown::new();
    let mut refused = RateLimitedWarning::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let (socket, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Reap finished connections so the set counts only live ones.
        while connections.try_join_next().is_some() {}
        if connections.len() >= limits.max_connections {
            refused.note(peer, limits.max_connections);
            drop(socket);
            continue;
        }
        let _ = socket.set_nodelay(true);
        let front = front.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let mut stop_waiting = stopping.clone();
        connections.spawn(async move {
            // TLS or plain, told apart by the first byte; both then speak HTTP/1.1 or h2.
            // A connection that has sent nothing yet has no request to finish: clients open
            // spare connections for their pools, so shutdown must not wait for those.
            let first = crate::tls::accept(socket, tls.as_ref());
            let first = tokio::select! {
                biased;
                first = tokio::time::timeout(header_timeout, first) => first,
                _ = stop_waiting.wait_for(|stop| *stop) => return,
            };
            let socket = match first {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!("connection sent nothing in time");
                    return;
                }
            };
            // Pulled when an answer is left unread too long (`budget.rs`).
            let kill = Arc::new(Notify::new());
            let killer = kill.clone();
            let service = hyper::service::service_fn(move |req| {
                let front = front.clone();
                let kill = killer.clone();
                async move { Ok::<_, Infallible>(handle(front, kill, peer, req).await) }
            });
            let connection = builder.serve_connection(TokioIo::new(socket), service);
            tokio::select! {
                served = watcher.watch(connection) => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = kill.notified() => {}
            }
        });
    }
    // Stopping: no new connections (the listener closes here); the accepted ones finish their
    // current requests, within the grace period.
    drop(listener);
    let grace = Duration::from_millis(limits.shutdown_grace_ms);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace period over: cutting the connections still open"
        );
    }
    connections.shutdown().await;
}

/// Logs refused connections at most once per [`REFUSED_LOG_EVERY`], with how many since.
#[derive(Default)]
struct RateLimitedWarning {
    last: Option<Instant>,
    since: u64,
}

const REFUSED_LOG_EVERY: Duration = Duration::from_secs(10);

impl RateLimitedWarning {
    fn note(&mut self, peer: SocketAddr, cap: usize) {
        self.since += 1;
        if self.last.is_some_and(|t| t.elapsed() < REFUSED_LOG_EVERY) {
            return;
        }
        tracing::warn!(
            %peer,
            refused = self.since,
            max_connections = cap,
            "connection limit reached: closing new connections (raise --max-connections)"
        );
        self.last = Some(Instant::now());
        self.since = 0;
    }
}
