//! The 128-bit hash-key space: partition keys are hashed with MD5 and read as a big-endian
//! `u128`; shards own inclusive ranges of it.

/// MD5 of the partition key's UTF-8 bytes as an unsigned big-endian 128-bit integer.
pub fn hash_partition_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(md5::compute(partition_key.as_bytes()).0)
}

/// Parses an ExplicitHashKey already shaped as `0|[1-9]\d{0,38}`; `None` when it exceeds 2^128−1.
pub fn parse_hash_key(text: &str) -> Option<u128> {
    text.parse::<u128>().ok()
}

/// The even split CreateStream makes: shard i starts at floor(2^128 / n) · i, the last one ends
/// at 2^128 − 1, both bounds inclusive.
pub fn even_ranges(n: u32) -> Vec<(u128, u128)> {
    if n <= 1 {
        return vec![(0, u128::MAX)];
    }
    let n = n as u128;
    // floor(2^128 / n) without overflowing: 2^128 = u128::MAX + 1.
    let step = u128::MAX / n + u128::from(u128::MAX % n == n - 1);
    (0..n)
        .map(|i| {
            let start = step.wrapping_mul(i);
            let end = if i + 1 == n {
                u128::MAX
            } else {
                step * (i + 1) - 1
            };
            (start, end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_split_matches_aws() {
        assert_eq!(even_ranges(1), vec![(0, u128::MAX)]);
        let two = even_ranges(2);
        assert_eq!(two[0], (0, (1u128 << 127) - 1));
        assert_eq!(two[1], (1u128 << 127, u128::MAX));
        let three = even_ranges(3);
        assert_eq!(three[1].0, 113427455640312821154458202477256070485);
        assert_eq!(three[2].0, 226854911280625642308916404954512140970);
        assert_eq!(three[2].1, u128::MAX);
        for n in 1..50 {
            let r = even_ranges(n);
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
    }

    #[test]
    fn md5_hashing() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(
            hash_partition_key("a"),
            0x0cc175b9c0f1b6a831c399e269772661u128
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
    }
}
