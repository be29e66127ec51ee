//! The built `kinesd` binary as a child process, and the external clients the tests drive.
//!
//! A [`Kinesd`] is stopped whatever happens: SIGINT first (kinesd's clean shutdown, which also
//! removes the temporary TLS CA file of an in-memory server), SIGKILL if it lingers; the crash
//! test kills it with [`Kinesd::kill9`] instead.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set by `.ci/run`: a test whose client cannot be found fails instead of skipping.
pub const REQUIRE_CLIENTS: &str = "KINESD_REQUIRE_CLIENTS";

/// Whether a test may go on with its external client. With [`REQUIRE_CLIENTS`]` = 1` (CI) a
/// missing client is a failure, so CI can never be green without having driven it; elsewhere
/// the test is skipped with the reason printed.
pub fn require_client(available: bool, missing: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var(REQUIRE_CLIENTS).is_ok_and(|v| v == "1") {
        panic!("{missing}, and {REQUIRE_CLIENTS}=1 requires every client test to run");
    }
    eprintln!("skipping: {missing}");
    false
}

/// True when `program args…` runs and exits 0.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running `kinesd` process: its `http://` endpoint and, when it serves TLS, its `https://`
/// endpoint with the CA file to trust.
pub struct Kinesd {
    child: Option<Child>,
    pub endpoint: String,
    pub https: Option<(String, PathBuf)>,
}

impl Kinesd {
    /// Spawns `kinesd --port 0 <args>`; reads the endpoint from its first stdout line and the
    /// TLS note (`kinesd: TLS on the same port (https://…); trust the CA in <path> (…)`) from
    /// stderr, which goes on to this process's stderr, or to `log` when given.
    pub fn spawn<S: AsRef<OsStr>>(args: &[S], log: Option<&Path>) -> Kinesd {
        Self::spawn_full(args, &[], log)
    }

    /// [`Kinesd::spawn`] with extra environment variables.
    pub fn spawn_with_env<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Kinesd {
        Self::spawn_full(args, env, None)
    }

    /// [`Kinesd::spawn`] with extra environment variables and stderr to `log`.
    pub fn spawn_full<S: AsRef<OsStr>>(
        args: &[S],
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Kinesd {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kinesd"))
            .args(["--port", "0"])
            .args(args)
            .env("KINESD_LOG", "warn")
            // The harness's own switch is no option of the server's (it would warn of it).
            .env_remove(REQUIRE_CLIENTS)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kinesd");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut server = Kinesd {
            child: Some(child),
            endpoint: String::new(),
            https: None,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let mut log = log.map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open the server log")
        });
        let (tls_tx, tls_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(tls) = parse_tls_note(&line) {
                    let _ = tls_tx.send(tls);
                }
                match &mut log {
                    Some(file) => {
                        let _ = writeln!(file, "{line}");
                    }
                    None => eprintln!("{line}"),
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("kinesd did not report its address within 30 s");
        server.endpoint = line
            .strip_prefix("kinesd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim()
            .to_string();
        let tls_off = args.iter().any(|a| a.as_ref() == "--no-tls");
        if !tls_off {
            server.https = tls_rx.recv_timeout(Duration::from_secs(10)).ok();
        }
        server
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("procfs");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kib * 1024
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill9(mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap kinesd");
        }
    }
}

impl Kinesd {
    /// SIGTERM (what `docker stop` and systemd send); true if the process exited cleanly
    /// within `within`. Killed otherwise.
    pub fn terminate(mut self, within: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        stop(&mut child, "-TERM", within)
    }
}

impl Drop for Kinesd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, "-INT", Duration::from_secs(5));
        }
    }
}

/// Sends `signal`, waits up to `within` for a clean exit, and kills the process if it has not
/// exited by then. True on a clean exit in time.
pub fn stop(child: &mut Child, signal: &str, within: Duration) -> bool {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if sent {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// `kinesd: TLS on the same port (https://…); trust the CA in <path> (e.g. …)` →
/// (`https://…`, `<path>`).
fn parse_tls_note(line: &str) -> Option<(String, PathBuf)> {
    let rest = line.strip_prefix("kinesd: TLS on the same port (")?;
    let (endpoint, rest) = rest.split_once(')')?;
    let rest = rest.strip_prefix("; trust the CA in ")?;
    let (path, _) = rest.split_once(" (")?;
    Some((endpoint.to_string(), PathBuf::from(path)))
}

/// Runs `command` to completion (killed after `timeout`) and returns
/// (success, stdout, stderr).
pub fn run_bounded(mut command: Command, timeout: Duration) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn client script");
    let collect = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = collect(Box::new(child.stdout.take().unwrap()));
    let err = collect(Box::new(child.stderr.take().unwrap()));
    let mut guard = KillOnDrop(child);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait for client script") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(guard); // kills it if it timed out, so the pipes close
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    match status {
        Some(s) => {
            if !s.success() {
                stderr.push_str(&format!("\n[exit status: {s}]"));
            }
            (s.success(), stdout, stderr)
        }
        None => {
            stderr.push_str(&format!("\n[killed after {timeout:?}]"));
            (false, stdout, stderr)
        }
    }
}

/// Kills and reaps a child process whatever happens.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}
