//! Following the catalogue: with a shared engine (cluster mode), other nodes create, change
//! and delete streams; this node's registry applies what the catalogue reports, so every node
//! routes, lists and describes from the same documents.
//!
//! Invariants:
//! - A change is applied under the control lock, so it never interleaves with this node's own
//!   compare-and-set and the in-memory document it installs.
//! - A document replaces the one held only if its revision is newer: the catalogue may report
//!   a change this node already installed itself.
//! - Of two documents naming one stream name, the one with the larger stream id wins (ids are
//!   never reused, and a name is re-created only after its previous stream was deleted).

use super::account::{AccountSettings, ACCOUNT_SETTINGS_KEY};
use super::registry::parse_meta;
use super::Registry;
use crate::error::ApiError;
use shard_store::{CatalogChange, Followed, StreamDoc};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a request waits for this node to apply the catalogue's changes before it is
/// served from what the node has (logged).
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

/// Applies catalogue changes until the registry is dropped or the engine stops reporting.
pub(super) async fn follow(registry: Weak<Registry>, mut changes: Followed) {
    while let Some((revision, change)) = changes.recv().await {
        let Some(registry) = registry.upgrade() else {
            return;
        };
        if let Some(change) = change {
            registry.apply(change).await;
        }
        registry
            .applied
            .send_if_modified(|a| std::mem::replace(a, (*a).max(revision)) < revision);
    }
}

impl Registry {
    /// Waits until this node has applied every catalogue change made before the call, so a
    /// request sees what any node acknowledged before it (read-your-writes across nodes).
    /// Immediate with an engine only this process writes.
    pub async fn catch_up(&self) -> Result<(), ApiError> {
        let point = self.catalog.sync_point().await?;
        if point == 0 {
            return Ok(());
        }
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(CATCH_UP_WAIT, applied.wait_for(|a| *a >= point)).await;
        if !matches!(reached, Ok(Ok(_))) {
            tracing::warn!(
                point,
                "serving before the catalogue's latest changes were applied"
            );
        }
        Ok(())
    }

    async fn apply(self: &Arc<Self>, change: CatalogChange) {
        let _guard = self.control.lock().await;
        match change {
            CatalogChange::Stream(doc) => self.apply_doc(doc),
            CatalogChange::Removed(id) => {
                self.streams_mut().retain(|_, s| s.id != id);
            }
            CatalogChange::Setting(name) if name == ACCOUNT_SETTINGS_KEY => {
                match AccountSettings::load(self.catalog.as_ref()).await {
                    Ok(settings) => {
                        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot reload the account settings"),
                }
            }
            CatalogChange::Setting(_) => {}
            CatalogChange::Lease {
                key,
                holder: Some(holder),
            } => self.subscriptions.taken_elsewhere(&key, holder),
            CatalogChange::Lease { holder: None, .. } => {}
        }
    }

    fn apply_doc(&self, doc: StreamDoc) {
        let meta = match parse_meta(&doc) {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(stream = doc.stream, error = %e, "ignoring an unreadable stream document");
                return;
            }
        };
        let held = self.streams().get(&meta.name).cloned();
        match held {
            Some(s) if s.id == meta.id => {
                if doc.revision > s.revision() {
                    s.replace(meta, doc.revision);
                }
            }
            Some(s) if s.id > meta.id => {}
            _ => {
                if meta.delete_at_ms.is_some_and(|t| t <= self.now()) {
                    return;
                }
                let name = meta.name.clone();
                let stream = self.build_stream(meta, doc.revision);
                if let Some(old) = self.streams_mut().insert(name, stream) {
                    self.purging().push(old.id);
                }
            }
        }
    }
}
