//! The account settings document: the minimum throughput billing commitment and its window,
//! kept in the catalogue under [`ACCOUNT_SETTINGS_KEY`] and in the registry's memory.
//!
//! The commitment window (AWS documents that "certain account configurations have minimum
//! commitment windows" without giving the rule; this is kinesd's decision): enabling starts a
//! commitment with `EarliestAllowedEndAt = StartedAt + 365 days`. Disabling before that time
//! leaves it `ENABLED_UNTIL_EARLIEST_ALLOWED_END` with `EndedAt = EarliestAllowedEndAt`, and it
//! reads as `DISABLED` once that time has passed; disabling afterwards ends it at once
//! (`EndedAt = now`). Enabling again while it is winding down resumes the same commitment.

use serde::{Deserialize, Serialize};
use shard_store::{Catalog, StoreError};

pub const ACCOUNT_SETTINGS_KEY: &str = "account-settings";

pub const COMMITMENT_MIN_MS: i64 = 365 * 86_400_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitmentStatus {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[default]
    #[serde(rename = "DISABLED")]
    Disabled,
    #[serde(rename = "ENABLED_UNTIL_EARLIEST_ALLOWED_END")]
    EnabledUntilEarliestAllowedEnd,
}

impl CommitmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Enabled => "ENABLED",
            CommitmentStatus::Disabled => "DISABLED",
            CommitmentStatus::EnabledUntilEarliestAllowedEnd => {
                "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
            }
        }
    }
}

/// MinimumThroughputBillingCommitment as stored (timestamps in epoch milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingCommitment {
    pub status: CommitmentStatus,
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    #[serde(default)]
    pub ended_at_ms: Option<i64>,
    #[serde(default)]
    pub earliest_allowed_end_at_ms: Option<i64>,
}

impl BillingCommitment {
    /// The commitment as of `now` (a wind-down whose end has passed reads as DISABLED).
    pub(super) fn at(mut self, now: i64) -> Self {
        if self.status == CommitmentStatus::EnabledUntilEarliestAllowedEnd
            && self.earliest_allowed_end_at_ms.is_some_and(|t| now >= t)
        {
            self.status = CommitmentStatus::Disabled;
        }
        self
    }

    /// Billing is still committed (ENABLED, or winding down).
    pub fn in_effect(&self) -> bool {
        self.status != CommitmentStatus::Disabled
    }

    pub(super) fn enable(self, now: i64) -> Self {
        match self.status {
            CommitmentStatus::Enabled => self,
            CommitmentStatus::EnabledUntilEarliestAllowedEnd => BillingCommitment {
                status: CommitmentStatus::Enabled,
                ended_at_ms: None,
                ..self
            },
            CommitmentStatus::Disabled => BillingCommitment {
                status: CommitmentStatus::Enabled,
                started_at_ms: Some(now),
                ended_at_ms: None,
                earliest_allowed_end_at_ms: Some(now + COMMITMENT_MIN_MS),
            },
        }
    }

    pub(super) fn disable(self, now: i64) -> Self {
        match self.status {
            CommitmentStatus::Enabled => match self.earliest_allowed_end_at_ms {
                Some(end) if now < end => BillingCommitment {
                    status: CommitmentStatus::EnabledUntilEarliestAllowedEnd,
                    ended_at_ms: Some(end),
                    ..self
                },
                _ => BillingCommitment {
                    status: CommitmentStatus::Disabled,
                    ended_at_ms: Some(now),
                    ..self
                },
            },
            CommitmentStatus::EnabledUntilEarliestAllowedEnd | CommitmentStatus::Disabled => self,
        }
    }
}

/// The account settings document, kept in the catalogue under [`ACCOUNT_SETTINGS_KEY`] and in
/// the registry's memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountSettings {
    #[serde(default)]
    pub(super) commitment: BillingCommitment,
}

impl AccountSettings {
    pub(super) async fn load(catalog: &dyn Catalog) -> Result<AccountSettings, StoreError> {
        match catalog.setting(ACCOUNT_SETTINGS_KEY).await? {
            Some(doc) => serde_json::from_slice(&doc)
                .map_err(|e| StoreError::Corrupt(format!("account settings: {e}"))),
            None => Ok(AccountSettings::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_window() {
        let day = 86_400_000;
        let c = BillingCommitment::default().enable(1_000);
        assert_eq!(c.status, CommitmentStatus::Enabled);
        assert_eq!(c.started_at_ms, Some(1_000));
        assert_eq!(c.earliest_allowed_end_at_ms, Some(1_000 + 365 * day));
        // Disabling inside the window winds down until its end.
        let d = c.clone().disable(1_000 + day);
        assert_eq!(d.status, CommitmentStatus::EnabledUntilEarliestAllowedEnd);
        assert_eq!(d.ended_at_ms, Some(1_000 + 365 * day));
        assert!(d.in_effect());
        assert_eq!(
            d.clone().at(1_000 + 365 * day).status,
            CommitmentStatus::Disabled
        );
        // Re-enabling while winding down resumes the same commitment.
        let e = d.enable(1_000 + 2 * day);
        assert_eq!(e, c);
        // After the window, disabling ends it at once.
        let late = c.disable(1_000 + 400 * day);
        assert_eq!(late.status, CommitmentStatus::Disabled);
        assert_eq!(late.ended_at_ms, Some(1_000 + 400 * day));
    }
}
