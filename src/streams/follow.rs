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
use shard_store::{CatalogChange, StreamDoc};
use std::sync::{Arc, Weak};
use tokio::sync::mpsc::UnboundedReceiver;

/// Applies catalogue changes until the registry is dropped or the engine stops reporting.
pub(super) async fn follow(
    registry: Weak<Registry>,
    mut changes: UnboundedReceiver<CatalogChange>,
) {
    while let Some(change) = changes.recv().await {
        let Some(registry) = registry.upgrade() else {
            return;
        };
        registry.apply(change).await;
    }
}

impl Registry {
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
