//! The memory clients can make the server hold, bounded: request bodies and large answers
//! draw on one budget of bytes in flight (`ConnectionLimits::inflight_bytes`), and neither a
//! body that never finishes nor an answer that is never read can hold its share for long.
//!
//! Invariants:
//! - A request body over [`SMALL_BODY_BYTES`] is read only once its size is reserved (the
//!   declared Content-Length, or the largest allowed body when none is declared, the excess
//!   handed back once read). A
//!   reservation is all or nothing, so requests never hold part of the budget while they wait
//!   for the rest, and waiting never deadlocks.
//! - Reserving and reading a body both happen before the body deadline; past it the request
//!   is answered (503 when the budget was the reason) or its connection is closed.
//! - An operation whose answer may be large (GetRecords) reserves the largest answer before
//!   it runs, so answers being built are bounded too; the reservation shrinks to the answer's
//!   size once built.
//! - An answer over [`HELD_ANSWER_BYTES`] keeps its reservation until the connection has
//!   sent it: a watchdog holds one reference to its bytes and sees when hyper and h2 have
//!   dropped theirs. (The answer goes to hyper whole: a body in several frames is cut off by
//!   h2 when the client sends GOAWAY mid-answer — `tests/raw_http/h2c.rs` pins that it is not.)
//!   One not sent within the answer deadline closes its connection, which frees everything
//!   the connection holds.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Answers at least this large are reserved and watched; smaller ones are bounded by the
/// streams a connection may open and the connection cap.
pub(super) const HELD_ANSWER_BYTES: usize = 256 * 1024;

/// Bodies declared at most this long are read without a reservation: they are what normal
/// traffic sends (PutRecord, GetRecords, control calls), so a flood of large uploads waiting
/// for the budget never holds them up; streams per connection and the connection cap bound
/// them.
pub(super) const SMALL_BODY_BYTES: usize = 64 * 1024;

/// What [`Budget::reserve_answer`] sets aside: a full GetRecords answer (10 MiB of data as
/// base64 is 14 MiB) and the 10 MiB of records it is built from.
const LARGEST_ANSWER_BYTES: usize = 24 * 1024 * 1024;

/// How often a held answer is looked at: soon after it is handed over, then less often.
const FIRST_CHECK: Duration = Duration::from_millis(10);
const LAST_CHECK: Duration = Duration::from_secs(1);

/// Bytes in flight across all connections.
pub(super) struct Budget {
    permits: Arc<Semaphore>,
    total: usize,
}

/// Why a request's body could not be had.
pub(super) enum BodyError {
    /// Larger than the largest allowed body.
    TooLarge,
    /// The budget stayed exhausted until the deadline.
    Busy,
    /// The client did not send the whole body before the deadline.
    TimedOut,
    /// The connection failed while the body was read.
    Broken,
}

impl Budget {
    pub(super) fn new(total: usize) -> Budget {
        let total = total.clamp(1, u32::MAX as usize);
        Budget {
            permits: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free, or `deadline`.
    async fn reserve(&self, bytes: usize, deadline: Instant) -> Option<OwnedSemaphorePermit> {
        let wanted = bytes.clamp(1, self.total) as u32;
        let acquire = self.permits.clone().acquire_many_owned(wanted);
        match tokio::time::timeout_at(deadline, acquire).await {
            Ok(Ok(permit)) => Some(permit),
            // The semaphore is never closed; a timeout is the only way to get here.
            _ => None,
        }
    }

    /// Reads a whole body of at most `max` bytes, declared `declared` long, before `deadline`.
    /// A body over [`SMALL_BODY_BYTES`] (or of undeclared length) comes back with its
    /// reservation, which must live as long as the bytes.
    pub(super) async fn read_body(
        &self,
        body: Incoming,
        declared: Option<u64>,
        max: usize,
        deadline: Instant,
    ) -> Result<(Bytes, Option<OwnedSemaphorePermit>), BodyError> {
        let small = declared.is_some_and(|n| n <= SMALL_BODY_BYTES as u64);
        let mut permit = if small {
            None
        } else {
            let reserved = declared.map_or(max, |n| (n as usize).min(max));
            Some(
                self.reserve(reserved, deadline)
                    .await
                    .ok_or(BodyError::Busy)?,
            )
        };
        let limited = http_body_util::Limited::new(body, max);
        let bytes = match tokio::time::timeout_at(deadline, limited.collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(BodyError::TooLarge)
            }
            Ok(Err(_)) => return Err(BodyError::Broken),
            Err(_) => return Err(BodyError::TimedOut),
        };
        // An undeclared length reserved the maximum: keep only what arrived.
        if let Some(permit) = permit.as_mut() {
            let kept = permit.num_permits().min(bytes.len().max(1));
            drop(permit.split(permit.num_permits() - kept));
        }
        Ok((bytes, permit))
    }

    /// Reserves room for an answer that may be large (GetRecords: up to 10 MiB of data, in
    /// base64, plus the records it is built from) before it is built, so that answers being
    /// built at once are bounded too. Waits until `deadline`.
    pub(super) async fn reserve_answer(&self, deadline: Instant) -> Option<OwnedSemaphorePermit> {
        self.reserve(LARGEST_ANSWER_BYTES, deadline).await
    }

    /// Makes a large answer hold its share of the budget until the connection has sent it
    /// (hyper and h2 drop their references to its bytes), and closes its connection (`kill`)
    /// if that takes longer than `timeout`. The share comes from `reserved` when the answer
    /// was reserved for, else from the budget at once: the answer is already in memory, so
    /// waiting for room would hold it all the same. False if there is no room.
    pub(super) fn hold_answer(
        &self,
        answer: &Bytes,
        reserved: Option<OwnedSemaphorePermit>,
        timeout: Duration,
        kill: Arc<Notify>,
    ) -> bool {
        let wanted = answer.len().clamp(1, self.total);
        let permit = match reserved {
            Some(mut permit) if permit.num_permits() >= wanted => {
                drop(permit.split(permit.num_permits() - wanted));
                permit
            }
            _ => match self.permits.clone().try_acquire_many_owned(wanted as u32) {
                Ok(permit) => permit,
                Err(_) => return false,
            },
        };
        let watched = answer.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut every = FIRST_CHECK;
            loop {
                tokio::time::sleep(every).await;
                // Ours is the last reference: the connection has sent the answer, or dropped it.
                if watched.is_unique() {
                    break;
                }
                if started.elapsed() >= timeout {
                    tracing::debug!("an answer was not read in time: closing its connection");
                    kill.notify_one();
                    break;
                }
                every = (every * 2).min(LAST_CHECK);
            }
            drop(permit);
        });
        true
    }
}
