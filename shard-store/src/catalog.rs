//! The catalogue tree: stream metadata documents (opaque to the store), small named settings,
//! and stream id allocation.

use crate::encoding::{versioned, versioned_body};
use crate::error::{engine_err, with_context};
use crate::keys::{setting_key, stream_prefix, TAG_STREAM_META};
use crate::{Result, Store, StoreError};

impl Store {
    /// Returns a fresh stream id: > 0, larger than every id returned before, never
    /// returned again, even after a crash or restart (ids may skip values).
    pub fn allocate_stream_id(&self) -> Result<u64> {
        self.writable()?;
        // sled persists its id generator itself and jumps ahead on recovery, so ids stay
        // unique across crashes without an explicit flush here; +1 keeps 0 unused.
        let id = self.inner.db.generate_id().map_err(engine_err)?;
        id.checked_add(1)
            .ok_or_else(|| StoreError::Io("stream id space exhausted".into()))
    }

    /// Stores (replacing any previous one) the opaque metadata document of a stream, in
    /// a single atomic write.
    pub fn put_stream_meta(&self, stream: u64, doc: &[u8]) -> Result<()> {
        self.writable()?;
        self.inner
            .catalog
            .insert(stream_prefix(TAG_STREAM_META, stream), versioned(doc))
            .map(drop)
            .map_err(engine_err)
    }

    /// Removes a stream's metadata document (no-op if absent). Its records are removed
    /// separately with [`Store::delete_stream_records`].
    pub fn remove_stream_meta(&self, stream: u64) -> Result<()> {
        self.writable()?;
        self.inner
            .catalog
            .remove(stream_prefix(TAG_STREAM_META, stream))
            .map(drop)
            .map_err(engine_err)
    }

    /// One stream's metadata document, if stored.
    pub fn stream_meta(&self, stream: u64) -> Result<Option<Vec<u8>>> {
        let value = self
            .inner
            .catalog
            .get(stream_prefix(TAG_STREAM_META, stream))
            .map_err(engine_err)?;
        value
            .map(|v| {
                versioned_body(&v, "stream meta")
                    .map(<[u8]>::to_vec)
                    .map_err(|e| with_context(e, format_args!("stream {stream}")))
            })
            .transpose()
    }

    /// Whether any stream's metadata is stored.
    pub fn has_streams(&self) -> Result<bool> {
        let first = self.inner.catalog.scan_prefix([TAG_STREAM_META]).next();
        first.transpose().map(|f| f.is_some()).map_err(engine_err)
    }

    /// All stream metadata documents, sorted by stream id.
    pub fn load_stream_metas(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.inner.catalog.scan_prefix([TAG_STREAM_META]) {
            let (key, value) = item.map_err(engine_err)?;
            let raw: [u8; 8] = key
                .get(1..)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("stream meta key of {} bytes", key.len()))
                })?;
            let stream = u64::from_be_bytes(raw);
            let doc = versioned_body(&value, "stream meta")
                .map_err(|e| with_context(e, format_args!("stream {stream}")))?;
            out.push((stream, doc.to_vec()));
        }
        Ok(out)
    }

    /// Reads a small named setting (e.g. the server's iterator-signing key).
    pub fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let value = self
            .inner
            .catalog
            .get(setting_key(name))
            .map_err(engine_err)?;
        value
            .map(|v| versioned_body(&v, "setting").map(<[u8]>::to_vec))
            .transpose()
    }

    /// Stores (replacing) a small named setting.
    pub fn put_setting(&self, name: &str, value: &[u8]) -> Result<()> {
        self.writable()?;
        self.inner
            .catalog
            .insert(setting_key(name), versioned(value))
            .map(drop)
            .map_err(engine_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn malformed_catalog_and_mark_values_are_corrupt() {
        let store = Store::open_temporary().unwrap();
        store.put_stream_meta(1, b"ok").unwrap();
        store
            .inner
            .catalog
            .insert(stream_prefix(TAG_STREAM_META, 2), vec![0, b'x'])
            .unwrap();
        assert_corrupt(store.load_stream_metas());

        store
            .inner
            .catalog
            .insert(setting_key("k"), Vec::<u8>::new())
            .unwrap();
        assert_corrupt(store.get_setting("k"));
        store
            .inner
            .catalog
            .insert(setting_key("k2"), vec![3, 1])
            .unwrap();
        assert_corrupt(store.get_setting("k2"));

        store
            .inner
            .records
            .insert(&high_water_key(S)[..], vec![1, 0, 0])
            .unwrap();
        assert_corrupt(store.last_position(S));
        store
            .inner
            .records
            .insert(&high_water_key(S)[..], {
                let mut v = versioned(&5u64.to_be_bytes());
                v[0] = 0;
                v
            })
            .unwrap();
        assert_corrupt(store.last_position(S));
    }

    #[test]
    fn stream_ids_are_positive_and_increasing() {
        let store = Store::open_temporary().unwrap();
        let a = store.allocate_stream_id().unwrap();
        let b = store.allocate_stream_id().unwrap();
        assert!(a >= 1);
        assert!(b > a);
    }
}
