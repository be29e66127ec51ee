//! Paging tokens (ListStreams, ListShards): sealed by the registry's signer so clients cannot
//! forge them, and stamped with their issue time so ListShards can expire them after 300 s.

use crate::streams::iterator::Signer;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub fn seal<T: Serialize>(signer: &Signer, value: &T) -> String {
    signer.seal(serde_json::to_vec(value).unwrap_or_default())
}

pub fn open<T: DeserializeOwned>(signer: &Signer, token: &str) -> Option<T> {
    serde_json::from_slice(&signer.open(token)?).ok()
}
