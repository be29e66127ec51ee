//! Runs `scripts/smoke.sh` (AWS CLI) against a freshly spawned kinesd binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Stops and reaps the server whatever happens: SIGINT first (kinesd's graceful shutdown, which
/// also removes the temporary TLS CA file of an in-memory server), SIGKILL if it lingers.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn aws_cli_available() -> bool {
    Command::new("aws")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn aws_cli_smoke_script() {
    if !aws_cli_available() {
        eprintln!("skipping: aws CLI not installed");
        return;
    }
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinesd"))
        .args(["--in-memory", "--port", "0", "--shard-limit", "2000"])
        .env("KINESD_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kinesd");
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("kinesd did not report its address");
    let endpoint = line
        .strip_prefix("kinesd listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim()
        .to_string();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smoke.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(&endpoint)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "smoke.sh failed ({}):\n--- stdout (tail) ---\n{}\n--- stderr ---\n{}",
        out.status,
        tail(&stdout, 4000),
        tail(&stderr, 4000)
    );
    let summary = stdout
        .lines()
        .rfind(|l| l.starts_with("smoke: OK"))
        .unwrap_or_else(|| panic!("no summary line in:\n{}", tail(&stdout, 4000)));
    eprintln!("{summary} [test took {:?}]", started.elapsed());
    drop(guard);
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
