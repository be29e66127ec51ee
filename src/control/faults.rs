//! Fault injection: rules a test installs through the control API (`POST /_kinesd/faults`)
//! that make matching calls fail with an AWS error, wait, lose their connection, or end a
//! SubscribeToShard stream early.
//!
//! Invariants:
//! - a rule matches an operation and, optionally, a stream and a shard (taken from the
//!   request: StreamName, StreamARN, ShardId, or the shard iterator's stream and shard);
//! - which calls a rule hits is decided by its own seeded generator and the order of matching
//!   calls, so a test that makes the same calls gets the same faults every run;
//! - a rule with `count` is spent after that many faults and then removed;
//! - every fault injected is counted on its rule (`injected`) and logged at warn;
//! - with no rule installed, a request pays one relaxed atomic load.

use crate::error::ApiError;
use crate::protocol::Operation;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The AWS errors a rule may inject, with their HTTP status.
pub const ERRORS: &[(&str, u16)] = &[
    ("ProvisionedThroughputExceededException", 400),
    ("InternalFailure", 500),
    ("ServiceUnavailable", 503),
    ("ExpiredIteratorException", 400),
    ("ExpiredNextTokenException", 400),
    ("LimitExceededException", 400),
    ("ResourceNotFoundException", 400),
    ("ResourceInUseException", 400),
    ("InvalidArgumentException", 400),
    ("AccessDeniedException", 400),
    ("ValidationException", 400),
    ("KMSThrottlingException", 400),
    ("KMSAccessDeniedException", 400),
    ("KMSDisabledException", 400),
    ("KMSInvalidStateException", 400),
    ("KMSNotFoundException", 400),
    ("KMSOptInRequired", 400),
];

/// A rule as a test writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The operation, e.g. `PutRecord`.
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// `shardId-000000000001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Fail the call with this AWS error...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// ...or delay it by this many (real) milliseconds before it runs...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// ...or close its connection without an answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub close: bool,
    /// SubscribeToShard only: let the subscription send this many events, then end it with
    /// `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_events: Option<u64>,
    /// Hit this many matching calls, then the rule is removed (default: no end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Hit each matching call with this probability (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Seed of the rule's generator (default 0).
    #[serde(default)]
    pub seed: u64,
}

/// What a matching call gets.
#[derive(Debug, Clone)]
pub enum Fault {
    Error(ApiError),
    Latency(std::time::Duration),
    Close,
    /// End the subscription with the error after this many events.
    EndSubscription {
        after_events: u64,
        error: ApiError,
    },
}

struct Rule {
    id: u64,
    spec: RuleSpec,
    rng: StdRng,
    injected: u64,
}

/// A rule as listed by `GET /_kinesd/faults`.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: u64,
    #[serde(flatten)]
    pub spec: RuleSpec,
    pub injected: u64,
}

/// Where a call goes, as far as rules care.
#[derive(Debug, Default)]
pub struct Target {
    pub stream: Option<String>,
    pub shard: Option<String>,
}

#[derive(Default)]
pub struct Faults {
    /// Installed rules, so that a request with none pays one atomic load.
    installed: AtomicUsize,
    rules: Mutex<Vec<Rule>>,
    next_id: Mutex<u64>,
}

impl RuleSpec {
    /// Refuses a rule that could not work, saying why.
    fn check(&self) -> Result<(), String> {
        if Operation::from_name(&self.operation).is_none() {
            return Err(format!("unknown operation '{}'", self.operation));
        }
        let actions = [self.error.is_some(), self.latency_ms.is_some(), self.close]
            .iter()
            .filter(|a| **a)
            .count();
        if actions != 1 {
            return Err("give exactly one of error, latency_ms and close".into());
        }
        if let Some(error) = &self.error {
            if !ERRORS.iter().any(|(name, _)| name == error) {
                let names: Vec<&str> = ERRORS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown error '{error}'; one of {}",
                    names.join(", ")
                ));
            }
        }
        if self.after_events.is_some()
            && (self.operation != "SubscribeToShard" || self.error.is_none())
        {
            return Err("after_events is for SubscribeToShard rules with an error".into());
        }
        if self.close && self.operation == "SubscribeToShard" {
            return Err(
                "a SubscribeToShard rule ends the stream with after_events, not close".into(),
            );
        }
        if let Some(f) = self.fraction.filter(|f| !(0.0..=1.0).contains(f)) {
            return Err(format!("fraction {f} is outside 0..1"));
        }
        Ok(())
    }

    fn matches(&self, op: Operation, target: &Target) -> bool {
        let field = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(want) => have.as_ref() == Some(want),
        };
        self.operation == op.name()
            && field(&self.stream, &target.stream)
            && field(&self.shard, &target.shard)
    }

    fn fault(&self) -> Fault {
        if let Some(name) = &self.error {
            let (name, status) = ERRORS
                .iter()
                .find(|(n, _)| n == name)
                .copied()
                .unwrap_or(("InternalFailure", 500));
            let error = ApiError::Injected {
                name,
                status,
                message: self
                    .message
                    .clone()
                    .unwrap_or_else(|| "Injected by kinesd's control API.".into()),
            };
            return match self.after_events {
                Some(after_events) => Fault::EndSubscription {
                    after_events,
                    error,
                },
                None => Fault::Error(error),
            };
        }
        match self.latency_ms {
            Some(ms) => Fault::Latency(std::time::Duration::from_millis(ms)),
            None => Fault::Close,
        }
    }
}

impl Faults {
    pub fn add(&self, spec: RuleSpec) -> Result<u64, String> {
        spec.check()?;
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.push(Rule {
            id,
            rng: StdRng::seed_from_u64(spec.seed),
            spec,
            injected: 0,
        });
        self.installed.store(rules.len(), Ordering::Relaxed);
        Ok(id)
    }

    /// Removes rule `id` (all rules with `None`); false if there was no such rule.
    pub fn remove(&self, id: Option<u64>) -> bool {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let before = rules.len();
        rules.retain(|r| id.is_some_and(|id| r.id != id));
        self.installed.store(rules.len(), Ordering::Relaxed);
        rules.len() < before || id.is_none()
    }

    pub fn list(&self) -> Vec<Listed> {
        let rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules
            .iter()
            .map(|r| Listed {
                id: r.id,
                spec: r.spec.clone(),
                injected: r.injected,
            })
            .collect()
    }

    /// True when some rule is installed (the only cost of faults on a request without any).
    pub fn any(&self) -> bool {
        self.installed.load(Ordering::Relaxed) > 0
    }

    /// The fault for a call, if a rule hits it. The first matching rule decides.
    pub fn pick(&self, op: Operation, target: &Target) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let at = rules.iter().position(|r| r.spec.matches(op, target))?;
        let rule = &mut rules[at];
        let fraction = rule.spec.fraction.unwrap_or(1.0);
        if fraction < 1.0 && rule.rng.gen::<f64>() >= fraction {
            return None;
        }
        rule.injected += 1;
        let fault = rule.spec.fault();
        tracing::warn!(
            rule = rule.id,
            operation = op.name(),
            stream = ?target.stream,
            shard = ?target.shard,
            ?fault,
            injected = rule.injected,
            "fault injected"
        );
        if rule.spec.count.is_some_and(|c| rule.injected >= c) {
            rules.remove(at);
            self.installed.store(rules.len(), Ordering::Relaxed);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> RuleSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_seeded_fraction_hits_the_same_calls_every_time() {
        let hits = || {
            let faults = Faults::default();
            faults
                .add(rule(r#"{"operation":"PutRecord","error":"InternalFailure","fraction":0.3,"seed":7}"#))
                .unwrap();
            (0..50)
                .map(|_| {
                    faults
                        .pick(Operation::PutRecord, &Target::default())
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        let first = hits();
        assert_eq!(first, hits());
        let n = first.iter().filter(|h| **h).count();
        assert!((5..=25).contains(&n), "{n} of 50");
    }

    #[test]
    fn count_spends_the_rule_and_targets_narrow_it() {
        let faults = Faults::default();
        faults
            .add(rule(r#"{"operation":"GetRecords","stream":"a","shard":"shardId-000000000001","close":true,"count":2}"#))
            .unwrap();
        let on = |stream: &str, shard: &str| Target {
            stream: Some(stream.into()),
            shard: Some(shard.into()),
        };
        assert!(faults
            .pick(Operation::GetRecords, &on("b", "shardId-000000000001"))
            .is_none());
        assert!(faults
            .pick(Operation::GetRecords, &on("a", "shardId-000000000000"))
            .is_none());
        assert!(faults
            .pick(Operation::PutRecord, &on("a", "shardId-000000000001"))
            .is_none());
        for _ in 0..2 {
            let hit = faults.pick(Operation::GetRecords, &on("a", "shardId-000000000001"));
            assert!(matches!(hit, Some(Fault::Close)));
        }
        assert!(faults
            .pick(Operation::GetRecords, &on("a", "shardId-000000000001"))
            .is_none());
        assert!(!faults.any());
    }

    #[test]
    fn impossible_rules_are_refused() {
        let faults = Faults::default();
        for (json, says) in [
            (r#"{"operation":"Nope","close":true}"#, "unknown operation"),
            (r#"{"operation":"PutRecord"}"#, "exactly one"),
            (
                r#"{"operation":"PutRecord","close":true,"latency_ms":5}"#,
                "exactly one",
            ),
            (
                r#"{"operation":"PutRecord","error":"Oops"}"#,
                "unknown error 'Oops'",
            ),
            (
                r#"{"operation":"PutRecord","error":"InternalFailure","after_events":1}"#,
                "after_events",
            ),
            (
                r#"{"operation":"PutRecord","close":true,"fraction":2}"#,
                "outside 0..1",
            ),
        ] {
            let err = faults.add(rule(json)).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
        }
    }
}
