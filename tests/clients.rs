//! Real AWS clients against a freshly spawned kinesd binary:
//! - `scripts/boto3_smoke.py` (boto3: HTTP/1.1, SubscribeToShard over a chunked body);
//! - `scripts/js_smoke.mjs` (AWS SDK for JavaScript v3: h2c prior knowledge for every call,
//!   GOAWAY right after the response headers, SubscribeToShard over h2c).
//!
//! Each script runs twice against the same server: on `http://` and on `https://` (the same
//! port; the client trusts the CA the in-memory server writes to the temp dir). Each test
//! skips, with a printed reason, when its client is not installed. CI (`.ci/run`)
//! installs them: boto3 with pip, the JS SDK with
//! `npm install --prefix target/js-client @aws-sdk/client-kinesis @smithy/node-http-handler`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a client script may run before it is killed and the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Kills and reaps a child process whatever happens.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The spawned server: stopped with SIGINT (its clean shutdown, which also removes the
/// temporary TLS CA file an in-memory server writes to the temp dir), killed if that fails.
struct Server(Guard);

impl Drop for Server {
    fn drop(&mut self) {
        let child = &mut self.0 .0;
        let interrupted = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if interrupted {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Guard's drop kills and reaps it.
    }
}

/// A running kinesd: its `http://` endpoint and, when it serves TLS, its `https://` endpoint
/// with the CA file to trust.
struct Kinesd {
    _server: Server,
    http: String,
    https: Option<(String, PathBuf)>,
}

/// Spawns `kinesd --in-memory --port 0`; reads the endpoint from stdout and the TLS note
/// (`kinesd: TLS on the same port (https://…); trust the CA in <path> (…)`) from stderr,
/// which is otherwise passed through.
fn spawn_kinesd() -> Kinesd {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinesd"))
        .args(["--in-memory", "--port", "0"])
        .env("KINESD_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kinesd");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(Guard(child));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    let (tls_tx, tls_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(tls) = parse_tls_note(&line) {
                let _ = tls_tx.send(tls);
            }
            eprintln!("{line}");
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("kinesd did not report its address");
    let http = line
        .strip_prefix("kinesd listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim()
        .to_string();
    let https = tls_rx.recv_timeout(Duration::from_secs(10)).ok();
    Kinesd {
        _server: server,
        http,
        https,
    }
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

/// True when `program args…` runs and exits 0.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command` to completion (killed after [`SCRIPT_TIMEOUT`]) and returns
/// (success, stdout, stderr).
fn run_bounded(mut command: Command) -> (bool, String, String) {
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
    let mut guard = Guard(child);
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
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
            stderr.push_str(&format!("\n[killed after {SCRIPT_TIMEOUT:?}]"));
            (false, stdout, stderr)
        }
    }
}

/// Runs a client script against a fresh server, on `http://` and then on `https://`; asserts
/// success and a summary line each time. `command(ca)` builds the command (the endpoint is
/// appended); `ca` is the CA file to trust for the `https://` run.
fn run_client(name: &str, command: impl Fn(Option<&Path>) -> Command, summary_prefix: &str) {
    let started = Instant::now();
    let server = spawn_kinesd();
    let mut runs = vec![(server.http.clone(), None)];
    match &server.https {
        Some((endpoint, ca)) => runs.push((endpoint.clone(), Some(ca.clone()))),
        None => eprintln!("note: kinesd announced no TLS endpoint; {name} runs on http:// only"),
    }
    for (endpoint, ca) in runs {
        let mut cmd = command(ca.as_deref());
        cmd.arg(&endpoint);
        let (ok, stdout, stderr) = run_bounded(cmd);
        eprintln!("--- {name} {endpoint} output ---\n{}", tail(&stdout, 6000));
        if !stderr.trim().is_empty() {
            eprintln!("--- {name} {endpoint} stderr ---\n{}", tail(&stderr, 6000));
        }
        assert!(ok, "{name} {endpoint} failed:\n{}", tail(&stderr, 4000));
        let summary = stdout
            .lines()
            .rfind(|l| l.starts_with(summary_prefix))
            .unwrap_or_else(|| panic!("no {summary_prefix:?} line in:\n{}", tail(&stdout, 4000)));
        eprintln!("{summary} [{endpoint}]");
    }
    drop(server);
    eprintln!("{name}: test took {:?}", started.elapsed());
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

#[test]
fn boto3_smoke_script() {
    if !runs("python3", &["-c", "import boto3"]) {
        eprintln!("skipping: python3 with boto3 not available (python3 -m pip install boto3)");
        return;
    }
    let command = |ca: Option<&Path>| {
        let mut command = Command::new("python3");
        command.arg(script("boto3_smoke.py"));
        if let Some(ca) = ca {
            command.env("AWS_CA_BUNDLE", ca);
        }
        command
    };
    run_client("boto3_smoke.py", command, "boto3 smoke: OK");
}

/// Where `.ci/run` installs the JS SDK (override with `KINESD_JS_CLIENT_DIR`).
fn js_client_dir() -> PathBuf {
    match std::env::var_os("KINESD_JS_CLIENT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/js-client"),
    }
}

#[test]
fn js_sdk_v3_smoke_script() {
    if !runs("node", &["--version"]) {
        eprintln!("skipping: node not installed");
        return;
    }
    let dir = js_client_dir();
    for package in ["@aws-sdk/client-kinesis", "@smithy/node-http-handler"] {
        let manifest = dir.join("node_modules").join(package).join("package.json");
        if !manifest.is_file() {
            eprintln!(
                "skipping: {package} not installed in {} \
                 (npm install --prefix target/js-client @aws-sdk/client-kinesis \
                 @smithy/node-http-handler)",
                dir.display()
            );
            return;
        }
    }
    let command = |ca: Option<&Path>| {
        let mut command = Command::new("node");
        command
            .arg(script("js_smoke.mjs"))
            .env("KINESD_JS_CLIENT_DIR", &dir);
        if let Some(ca) = ca {
            command.env("NODE_EXTRA_CA_CERTS", ca);
        }
        command
    };
    run_client("js_smoke.mjs", command, "js smoke: OK");
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
