//! A shard's run-time state in the embedded store: its writer and its visible position.
//!
//! Invariants:
//! - One writer per shard (a mutex) assigns strictly increasing positions and a non-decreasing
//!   arrival time, and queues the records for the group commit while still holding the lock,
//!   so the queue holds each shard's records in position order.
//! - `visible` is the highest position readers may see: durable (or, with relaxed durability,
//!   acknowledged). It only grows, and is advanced by whoever made the records durable.
//! - Once `closed`, the writer assigns nothing more: the last position is final.

use crate::log::Position;
use crate::ShardKey;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

pub(crate) struct Writer {
    pub(crate) next_position: Position,
    pub(crate) last_arrival_ms: i64,
    /// When resharding closed the shard (the closer's clock): no record is appended after that.
    pub(crate) closed: Option<i64>,
}

pub(crate) struct ShardState {
    key: ShardKey,
    /// Held while positions are assigned and the records queued (see the module doc); never
    /// across an await or a disk sync.
    writer: Mutex<Writer>,
    /// Highest visible position (0 = none); subscribers wait on it.
    visible: watch::Sender<Position>,
}

impl ShardState {
    /// A shard whose last position is `last`; writing resumes at `next`.
    pub(crate) fn new(key: ShardKey, last: Position, next: Position) -> ShardState {
        ShardState {
            key,
            writer: Mutex::new(Writer {
                next_position: next,
                last_arrival_ms: i64::MIN,
                closed: None,
            }),
            visible: watch::channel(last).0,
        }
    }

    pub(crate) fn key(&self) -> ShardKey {
        self.key
    }

    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        // Every change to the writer is a few assignments that cannot panic halfway.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn visible(&self) -> Position {
        *self.visible.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<Position> {
        self.visible.subscribe()
    }

    /// Makes everything up to `position` visible (never lowers it).
    pub(crate) fn publish(&self, position: Position) {
        self.visible.send_if_modified(|v| {
            if position > *v {
                *v = position;
                true
            } else {
                false
            }
        });
    }
}
