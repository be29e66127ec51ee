//! One `nats-server -js` per test process, on a free port, started on first use and stopped
//! when the process ends: its wrapper shell waits on a pipe this process holds, then stops the
//! server and removes its directory. Shared by kinesd's tests (`common::cluster`) and
//! shard-store's contract tests (included there with `#[path]`), so it needs only std and
//! tempfile.

use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Nats {
    url: String,
    /// Held for the life of the process: when it closes, the wrapper stops the server.
    _lifeline: Mutex<ChildStdin>,
    /// The wrapper shell, reaped by nobody: it outlives every test, and the process exits.
    _wrapper: Mutex<std::process::Child>,
}

static NATS: OnceLock<Option<Nats>> = OnceLock::new();

/// The server's `nats://` URL, or `None` when `nats-server` is not installed.
pub fn url() -> Option<String> {
    NATS.get_or_init(start_nats).as_ref().map(|n| n.url.clone())
}

fn start_nats() -> Option<Nats> {
    let installed = Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
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
