//! Key layout of the `records` and `catalog` trees (see the crate doc): a tag byte, then
//! big-endian integers, so byte order is numeric order and a shard's blocks are one range.

use crate::{Result, ShardKey, StoreError};

pub(crate) const TAG_BLOCK: u8 = b'b';

pub(crate) const TAG_LEGACY_RECORD: u8 = b'r';

pub(crate) const TAG_HIGH_WATER: u8 = b'h';

pub(crate) const TAG_STREAM_META: u8 = b'm';

pub(crate) const TAG_SETTING: u8 = b's';

/// Keys of blocks and of legacy records: tag + stream + shard + position.
pub(crate) const POSITION_KEY_LEN: usize = 1 + 8 + 4 + 8;

pub(crate) fn stream_prefix(tag: u8, stream: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = tag;
    k[1..9].copy_from_slice(&stream.to_be_bytes());
    k
}

pub(crate) fn shard_prefix(tag: u8, shard: ShardKey) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..9].copy_from_slice(&stream_prefix(tag, shard.stream));
    k[9..13].copy_from_slice(&shard.shard.to_be_bytes());
    k
}

pub(crate) fn position_key(tag: u8, shard: ShardKey, position: u64) -> [u8; POSITION_KEY_LEN] {
    let mut k = [0u8; POSITION_KEY_LEN];
    k[..13].copy_from_slice(&shard_prefix(tag, shard));
    k[13..].copy_from_slice(&position.to_be_bytes());
    k
}

pub(crate) fn block_key(shard: ShardKey, first: u64) -> [u8; POSITION_KEY_LEN] {
    position_key(TAG_BLOCK, shard, first)
}

pub(crate) fn high_water_key(shard: ShardKey) -> [u8; 13] {
    shard_prefix(TAG_HIGH_WATER, shard)
}

/// Splits a block or legacy record key into its shard and position.
pub(crate) fn parse_position_key(key: &[u8]) -> Result<(ShardKey, u64)> {
    if key.len() != POSITION_KEY_LEN {
        return Err(StoreError::Corrupt(format!(
            "record key of {} bytes",
            key.len()
        )));
    }
    let be = |r: std::ops::Range<usize>| -> u64 {
        key[r].iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
    };
    let shard = ShardKey {
        stream: be(1..9),
        shard: be(9..13) as u32,
    };
    Ok((shard, be(13..21)))
}

pub(crate) fn setting_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(TAG_SETTING);
    k.extend_from_slice(name.as_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn key_layout_is_big_endian_and_tagged() {
        let shard = ShardKey {
            stream: 0x0102030405060708,
            shard: 0x090a0b0c,
        };
        let k = block_key(shard, 0x0d0e0f1011121314);
        assert_eq!(k[0], b'b');
        assert_eq!(&k[1..], &(1u8..=0x14).collect::<Vec<_>>()[..]);
        assert_eq!(parse_position_key(&k).unwrap(), (shard, 0x0d0e0f1011121314));
        assert!(block_key(S, u64::MAX) < block_key(ShardKey { shard: 3, ..S }, 0));
        assert_corrupt(parse_position_key(&k[..20]));
    }

    #[test]
    fn malformed_keys_are_corrupt() {
        let store = Store::open_temporary().unwrap();
        let mut long = block_key(S, 1).to_vec();
        long.push(0);
        let mut b = BlockBuilder::new();
        b.push(1, 1, b"pk", b"data").unwrap();
        store
            .inner
            .records
            .insert(long, b.take().unwrap().1)
            .unwrap();
        assert_corrupt(store.read(S, 0, 10, 100));
        store
            .inner
            .catalog
            .insert([TAG_STREAM_META, 1, 2], versioned(b"doc"))
            .unwrap();
        assert_corrupt(store.load_stream_metas());
    }
}
