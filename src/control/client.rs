//! A small typed client of the control API, for Rust tests:
//!
//! ```no_run
//! # async fn f() -> Result<(), String> {
//! let control = kinesd::control::client::Control::new("127.0.0.1:4567".parse().unwrap());
//! control.advance_clock(301_000).await?;          // every iterator issued before is expired
//! let rule = control
//!     .add_fault(&serde_json::json!({"operation": "PutRecord", "error": "InternalFailure", "count": 1}))
//!     .await?;
//! control.remove_fault(rule).await?;
//! control.reset().await?;
//! # Ok(()) }
//! ```
//!
//! Plain HTTP/1.1, one connection per call: nothing here needs to be fast.

use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Control {
    addr: SocketAddr,
}

impl Control {
    pub fn new(addr: SocketAddr) -> Control {
        Control { addr }
    }

    /// The clock's time in epoch milliseconds.
    pub async fn now_ms(&self) -> Result<i64, String> {
        let answer = self.call("GET", "clock", None).await?;
        answer["now_ms"].as_i64().ok_or("no now_ms".into())
    }

    /// Moves the manual clock forward (or back, with a negative `ms`); returns the new time.
    pub async fn advance_clock(&self, ms: i64) -> Result<i64, String> {
        let body = serde_json::json!({ "advance_ms": ms });
        let answer = self.call("POST", "clock", Some(&body)).await?;
        answer["now_ms"].as_i64().ok_or("no now_ms".into())
    }

    /// Sets the manual clock to `ms` since the epoch.
    pub async fn set_clock(&self, ms: i64) -> Result<i64, String> {
        let body = serde_json::json!({ "set_ms": ms });
        let answer = self.call("POST", "clock", Some(&body)).await?;
        answer["now_ms"].as_i64().ok_or("no now_ms".into())
    }

    /// Installs a fault rule (see `faults::RuleSpec`); returns its id.
    pub async fn add_fault(&self, rule: &Value) -> Result<u64, String> {
        let answer = self.call("POST", "faults", Some(rule)).await?;
        answer["id"].as_u64().ok_or("no id".into())
    }

    /// The installed rules, each with its `injected` count.
    pub async fn faults(&self) -> Result<Vec<Value>, String> {
        let answer = self.call("GET", "faults", None).await?;
        Ok(answer["faults"].as_array().cloned().unwrap_or_default())
    }

    pub async fn remove_fault(&self, id: u64) -> Result<(), String> {
        self.call("DELETE", &format!("faults/{id}"), None)
            .await
            .map(drop)
    }

    /// Deletes every stream, consumer and fault rule.
    pub async fn reset(&self) -> Result<(), String> {
        self.call("POST", "reset", None).await.map(drop)
    }

    /// One request; a status other than 2xx comes back as `Err` with the server's reason.
    pub async fn call(
        &self,
        method: &str,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {}{route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            super::PREFIX,
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no status")?;
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err(format!(
                "{status}: {}",
                value["error"].as_str().unwrap_or(body)
            ))
        }
    }
}
