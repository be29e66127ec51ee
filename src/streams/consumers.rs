//! Enhanced fan-out consumers: registered per stream and kept in the stream's metadata
//! document, so they persist (and vanish) with it.
//!
//! Lifecycle, computed lazily from the clock like a stream's status: CREATING until
//! `active_at_ms`, then ACTIVE; DeregisterStreamConsumer marks the consumer DELETING until
//! `delete_at_ms`, after which it is gone (and pruned at the next change to the list).
//! Both delays are `Config::consumer_delay_ms`.
//!
//! A consumer ARN names its creation second
//! (`arn:aws:kinesis:<region>:<acct>:stream/<name>/consumer/<consumer>:<epoch seconds>`), so an
//! ARN of a deregistered consumer never addresses a later consumer of the same name registered
//! in another second.

use super::meta::{ConsumerMeta, ConsumerStatus};
use super::{Registry, Stream, StreamMeta, StreamStatus};
use crate::error::ApiError;
use crate::protocol::arn::parse_consumer_arn;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Consumers a stream may have (AWS's default quota).
pub const MAX_CONSUMERS: usize = 20;
/// The quota of "On-demand Advantage" streams: taken here to mean on-demand streams in an
/// account whose minimum throughput billing commitment is in effect (an unverified reading).
pub const MAX_CONSUMERS_ADVANTAGE: usize = 50;
/// Consumers that may be CREATING at once in the account.
pub const MAX_CREATING: usize = 5;

/// Serializes registrations so the account-wide CREATING count cannot be raced.
static REGISTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl StreamMeta {
    /// Registered consumers that are not gone, in registration order.
    pub fn live_consumers(&self, now: i64) -> impl Iterator<Item = &ConsumerMeta> {
        self.consumers.iter().filter(move |c| c.is_live(now))
    }

    pub fn live_consumer(&self, name: &str, now: i64) -> Option<&ConsumerMeta> {
        self.live_consumers(now).find(|c| c.name == name)
    }
}

impl Registry {
    pub fn consumer_not_found(&self, stream: &str, consumer: &str, secs: Option<&str>) -> ApiError {
        let account = &self.config.account_id;
        ApiError::ResourceNotFound(match secs {
            Some(t) => format!(
                "Consumer {consumer} with creation timestamp {t} under stream {stream} and account {account} not found."
            ),
            None => format!(
                "Consumer {consumer} under stream {stream} and account {account} not found."
            ),
        })
    }

    /// The stream and (live) consumer a consumer ARN names, whatever the consumer's status.
    pub fn resolve_consumer_arn(&self, arn: &str) -> Result<(Arc<Stream>, ConsumerMeta), ApiError> {
        let parsed = parse_consumer_arn(arn)
            .ok_or_else(|| ApiError::InvalidArgument(format!("Invalid ConsumerARN: {arn}")))?;
        let not_found =
            || self.consumer_not_found(parsed.stream, parsed.consumer, Some(parsed.created_secs));
        if parsed.region != self.config.region || parsed.account != self.config.account_id {
            return Err(not_found());
        }
        let stream = self.lookup(parsed.stream).map_err(|_| not_found())?;
        let now = self.now();
        let found = stream.with_meta(|m| {
            m.live_consumer(parsed.consumer, now)
                .filter(|c| c.created_secs().to_string() == parsed.created_secs)
                .cloned()
        });
        match found {
            Some(c) => Ok((stream, c)),
            None => Err(not_found()),
        }
    }

    /// A live consumer of `stream` by name.
    pub fn find_consumer(&self, stream: &Stream, name: &str) -> Result<ConsumerMeta, ApiError> {
        let now = self.now();
        stream
            .with_meta(|m| m.live_consumer(name, now).cloned())
            .ok_or_else(|| self.consumer_not_found(&stream.name, name, None))
    }

    /// For SubscribeToShard: the consumer must exist and be ACTIVE.
    pub fn active_consumer(
        &self,
        consumer_arn: &str,
    ) -> Result<(Arc<Stream>, ConsumerMeta), ApiError> {
        let (stream, consumer) = self.resolve_consumer_arn(consumer_arn)?;
        if consumer.status(self.now()) != ConsumerStatus::Active {
            return Err(self.consumer_not_active(&stream.name, &consumer));
        }
        Ok((stream, consumer))
    }

    /// AWS's text when a consumer operation needs an ACTIVE consumer.
    pub fn consumer_not_active(&self, stream: &str, consumer: &ConsumerMeta) -> ApiError {
        ApiError::ResourceInUse(format!(
            "Consumer {} with creation timestamp {} under stream {stream} and account {} is not in ACTIVE status.",
            consumer.name,
            consumer.created_secs(),
            self.config.account_id
        ))
    }

    /// Registers a consumer (CREATING for `consumer_delay_ms`, then ACTIVE).
    pub async fn register_consumer(
        &self,
        stream: &Arc<Stream>,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<ConsumerMeta, ApiError> {
        let _serial = REGISTER.lock().await;
        let now = self.now();
        let creating_elsewhere: usize = self
            .list()
            .iter()
            .filter(|s| s.id != stream.id)
            .map(|s| {
                s.with_meta(|m| {
                    m.live_consumers(now)
                        .filter(|c| c.status(now) == ConsumerStatus::Creating)
                        .count()
                })
            })
            .sum();
        let advantage = self.billing_commitment()?.in_effect();
        let account = self.config.account_id.clone();
        let delay = self.config.consumer_delay_ms.max(0);
        self.update_meta(stream, |m| {
            let status = m.status(now);
            if matches!(status, StreamStatus::Creating | StreamStatus::Deleting) {
                return Err(ApiError::ResourceInUse(format!(
                    "Stream {} under account {account} not ACTIVE, instead in state {status}",
                    m.name
                )));
            }
            m.consumers.retain(|c| c.is_live(now));
            if m.consumers.iter().any(|c| c.name == name) {
                return Err(ApiError::ResourceInUse(format!(
                    "Consumer {name} under stream {} and account {account} already exists.",
                    m.name
                )));
            }
            let limit = if advantage && m.mode == super::StreamMode::OnDemand {
                MAX_CONSUMERS_ADVANTAGE
            } else {
                MAX_CONSUMERS
            };
            if m.consumers.len() >= limit {
                return Err(ApiError::LimitExceeded(format!(
                    "This request would exceed the limit of {limit} consumers for stream {} under account {account}.",
                    m.name
                )));
            }
            let creating_here = m
                .consumers
                .iter()
                .filter(|c| c.status(now) == ConsumerStatus::Creating)
                .count();
            if creating_elsewhere + creating_here >= MAX_CREATING {
                return Err(ApiError::LimitExceeded(format!(
                    "This request would exceed the limit of {MAX_CREATING} consumers in CREATING state for the account {account}."
                )));
            }
            let consumer = ConsumerMeta {
                name: name.to_string(),
                created_ms: now,
                active_at_ms: now + delay,
                delete_at_ms: None,
                tags: tags.clone(),
                policy: None,
            };
            m.consumers.push(consumer.clone());
            Ok(consumer)
        })
        .await
    }

    /// Deregisters a consumer: DELETING for `consumer_delay_ms`, then gone. Deregistering a
    /// consumer that is already DELETING changes nothing.
    pub async fn deregister_consumer(
        &self,
        stream: &Arc<Stream>,
        consumer: &ConsumerMeta,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let delay = self.config.consumer_delay_ms.max(0);
        let stream_name = stream.name.clone();
        self.update_meta(stream, |m| {
            m.consumers.retain(|c| c.is_live(now));
            let Some(i) = m
                .consumers
                .iter()
                .position(|c| c.name == consumer.name && c.created_ms == consumer.created_ms)
            else {
                return Err(self.consumer_not_found(
                    &stream_name,
                    &consumer.name,
                    Some(&consumer.created_secs().to_string()),
                ));
            };
            if delay == 0 {
                m.consumers.remove(i);
            } else {
                m.consumers[i].delete_at_ms.get_or_insert(now + delay);
            }
            Ok(())
        })
        .await
    }

    /// Applies a change to one live consumer (tags, policy) and makes it durable.
    pub async fn update_consumer<R>(
        &self,
        stream: &Arc<Stream>,
        consumer: &ConsumerMeta,
        mut change: impl FnMut(&mut ConsumerMeta) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let now = self.now();
        let stream_name = stream.name.clone();
        self.update_meta(stream, |m| {
            let found = m.consumers.iter_mut().find(|c| {
                c.is_live(now) && c.name == consumer.name && c.created_ms == consumer.created_ms
            });
            match found {
                Some(c) => change(c),
                None => Err(self.consumer_not_found(
                    &stream_name,
                    &consumer.name,
                    Some(&consumer.created_secs().to_string()),
                )),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::arn::ConsumerArn;

    #[test]
    fn consumer_arns_parse() {
        let c = ConsumerMeta {
            name: "c1".into(),
            created_ms: 1_700_000_000_123,
            active_at_ms: 0,
            delete_at_ms: None,
            tags: BTreeMap::new(),
            policy: None,
        };
        let arn = c.arn("arn:aws:kinesis:us-east-1:000000000000:stream/s");
        assert_eq!(
            arn,
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c1:1700000000"
        );
        assert_eq!(
            parse_consumer_arn(&arn),
            Some(ConsumerArn {
                region: "us-east-1",
                account: "000000000000",
                stream: "s",
                consumer: "c1",
                created_secs: "1700000000",
            })
        );
        assert!(parse_consumer_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s").is_none());
        assert!(
            parse_consumer_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c1:")
                .is_none()
        );
        assert!(parse_consumer_arn("arn:aws:kinesis:us-east-1:0:stream/s/consumer/c:1").is_none());
    }
}
