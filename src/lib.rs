//! kinesd: a Kinesis Data Streams compatible server whose records are durable in sled.
//!
//! Layers: `protocol` (pure wire format) → `api` (one handler per operation) → `streams`
//! (the domain) → the `shard-store` crate (storage, behind its `ShardLog` and `Catalog` traits).
//! `server` wires them to HTTP; `storage` opens the engine the configuration names.

#![forbid(unsafe_code)]

pub mod api;
pub mod clock;
pub mod cloudwatch;
pub mod config;
pub mod console;
pub mod control;
pub mod dynamodb;
pub mod error;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod storage;
pub mod streams;
pub mod tls;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Config, ConnectionLimits, Durability};
pub use protocol::host::HostPolicy;
pub use protocol::sigv4::Credentials;
pub use server::Server;
