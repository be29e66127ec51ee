//! The one test harness (`mod common;` in every integration test file):
//! - `server`: an in-process kinesd with a manual clock, and the official SDK client;
//! - `raw`: hand-written HTTP/1.1, h2c and any-content-type requests, with the one
//!   `Authorization` header constant;
//! - `cluster`: the shared suites on both engines ([`both_backends!`]);
//! - `process`: the built `kinesd` binary as a child process (crash, CLI and client tests),
//!   and [`process::require_client`], which decides whether a missing client skips or fails.

#![allow(dead_code, unused_imports)]

pub mod cluster;
pub mod nats;
pub mod process;
pub mod raw;
mod server;

pub use server::*;
