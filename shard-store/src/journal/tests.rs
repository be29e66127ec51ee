//! Unit tests of `journal.rs`: appends and replay, torn tails, checkpoints, and the damage
//! that refuses an open.
use super::*;

type Owned = Vec<(ShardKey, Vec<(u64, i64, String, Vec<u8>)>)>;

fn owned(groups: Vec<(ShardKey, Vec<NewRecord<'_>>)>) -> Owned {
    groups
        .into_iter()
        .map(|(k, rs)| {
            let rs = rs
                .iter()
                .map(|r| {
                    (
                        r.position,
                        r.arrival_ms,
                        r.partition_key.to_owned(),
                        r.data.to_vec(),
                    )
                })
                .collect();
            (k, rs)
        })
        .collect()
}

fn open(path: &Path, capacity: u64) -> (Journal, Owned) {
    let mut seen = Vec::new();
    let j = Journal::open(path, capacity, false, |g| {
        seen.extend(owned(g));
        Ok(())
    })
    .unwrap();
    (j, seen)
}

fn key(stream: u64, shard: u32) -> ShardKey {
    ShardKey { stream, shard }
}

fn rec(position: u64, pk: &str, data: &[u8]) -> StoredRecord {
    StoredRecord {
        position,
        arrival_ms: 1_700_000_000_000 + position as i64,
        partition_key: pk.to_owned(),
        data: data.to_vec(),
    }
}

#[test]
fn entries_replay_in_order_until_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, seen) = open(&path, 1 << 20);
    assert!(seen.is_empty());
    assert!(j
        .append(&[
            (key(1, 0), vec![rec(1, "a", b"x"), rec(2, "b", b"")]),
            (key(2, 3), vec![rec(7, "", &[0u8; 300])]),
        ])
        .unwrap());
    assert!(j.append(&[(key(1, 0), vec![rec(3, "é", b"yz")])]).unwrap());
    drop(j);
    let (mut j, seen) = open(&path, 1 << 20);
    let positions: Vec<(u64, u32, u64)> = seen
        .iter()
        .flat_map(|(k, rs)| rs.iter().map(move |r| (k.stream, k.shard, r.0)))
        .collect();
    assert_eq!(positions, vec![(1, 0, 1), (1, 0, 2), (2, 3, 7), (1, 0, 3)]);
    assert_eq!(seen[1].1[0].3.len(), 300);
    assert_eq!(seen[2].1[0].2, "é");
    // Reopening without a checkpoint appends after what is there.
    assert!(j.append(&[(key(1, 0), vec![rec(4, "c", b"w")])]).unwrap());
    drop(j);
    let (mut j, seen) = open(&path, 1 << 20);
    assert_eq!(seen.len(), 4);
    j.checkpoint().unwrap();
    drop(j);
    let (_, seen) = open(&path, 1 << 20);
    assert!(seen.is_empty(), "a checkpoint empties the journal");
}

#[test]
fn entries_of_an_earlier_epoch_are_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, _) = open(&path, 1 << 20);
    for i in 0..10 {
        assert!(j.append(&[(key(1, 0), vec![rec(i, "k", b"old")])]).unwrap());
    }
    j.checkpoint().unwrap();
    // One shorter entry in the new epoch; the old ones after it must stay dead.
    assert!(j.append(&[(key(1, 0), vec![rec(10, "k", b"n")])]).unwrap());
    drop(j);
    let (_, seen) = open(&path, 1 << 20);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1[0].0, 10);
}

#[test]
fn a_torn_or_damaged_tail_ends_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, _) = open(&path, 1 << 20);
    assert!(j.append(&[(key(1, 0), vec![rec(1, "k", b"one")])]).unwrap());
    let second = j.tail();
    assert!(j.append(&[(key(1, 0), vec![rec(2, "k", b"two")])]).unwrap());
    let end = j.tail();
    drop(j);
    let bytes = std::fs::read(&path).unwrap();
    // Every single-byte flip inside the second entry, and every truncation of it,
    // must leave exactly the first entry.
    for at in second..end {
        for damage in 0..2 {
            let mut b = bytes.clone();
            if damage == 0 {
                b[at as usize] ^= 0x41;
            } else {
                b[at as usize..end as usize].fill(0);
            }
            std::fs::write(&path, &b).unwrap();
            let (_, seen) = open(&path, 1 << 20);
            assert_eq!(seen.len(), 1, "damage {damage} at byte {at}");
            assert_eq!(seen[0].1[0].3, b"one");
        }
    }
}

#[test]
fn a_damaged_header_still_replays_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, _) = open(&path, 1 << 20);
    assert!(j.append(&[(key(1, 0), vec![rec(1, "k", b"one")])]).unwrap());
    drop(j);
    let mut b = std::fs::read(&path).unwrap();
    b[5] ^= 1;
    std::fs::write(&path, &b).unwrap();
    // The first entry names the epoch: the record is not lost with the header.
    let (mut j, seen) = open(&path, 1 << 20);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1[0].3, b"one");
    j.checkpoint().unwrap();
    drop(j);
    let (_, seen) = open(&path, 1 << 20);
    assert!(seen.is_empty(), "a checkpoint still empties it");
}

#[test]
fn damage_before_valid_entries_and_a_cut_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, _) = open(&path, 1 << 20);
    for text in ["one", "two", "three"] {
        assert!(j
            .append(&[(key(1, 0), vec![rec(1, "k", text.as_bytes())])])
            .unwrap());
    }
    drop(j);
    let good = std::fs::read(&path).unwrap();
    let reopen = || Journal::open(&path, 1 << 20, false, |_| Ok(())).map(drop);
    // A flipped byte in the first entry's payload, its length or its epoch field.
    for at in [
        FIRST_ENTRY as usize + 20,
        FIRST_ENTRY as usize + 1,
        FIRST_ENTRY as usize + 9,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x40;
        std::fs::write(&path, &b).unwrap();
        let err = reopen().err().unwrap().to_string();
        assert!(
            err.contains("kinesd-journal: the entry at byte 4096 is damaged"),
            "{at}: {err}"
        );
    }
    // Accepted: the later entries are still replayed.
    let mut b = good.clone();
    b[FIRST_ENTRY as usize + 20] ^= 0x40;
    std::fs::write(&path, &b).unwrap();
    let mut seen = 0;
    Journal::open(&path, 1 << 20, true, |g| {
        seen += g.len();
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 2);
    // Cut short.
    std::fs::write(&path, &good[..FIRST_ENTRY as usize + 40]).unwrap();
    let err = reopen().err().unwrap().to_string();
    assert!(err.contains("cut short"), "{err}");
}

#[test]
fn an_entry_that_does_not_fit_is_refused_until_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let capacity = FIRST_ENTRY + 1000;
    let (mut j, _) = open(&path, capacity);
    let data = [7u8; 400];
    assert!(j.append(&[(key(1, 0), vec![rec(1, "k", &data)])]).unwrap());
    assert!(j.append(&[(key(1, 0), vec![rec(2, "k", &data)])]).unwrap());
    assert!(!j.append(&[(key(1, 0), vec![rec(3, "k", &data)])]).unwrap());
    j.checkpoint().unwrap();
    assert!(j.append(&[(key(1, 0), vec![rec(3, "k", &data)])]).unwrap());
    drop(j);
    let (_, seen) = open(&path, capacity);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1[0].0, 3);
}

#[test]
fn entry_len_matches_the_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (mut j, _) = open(&path, 1 << 20);
    let groups = vec![
        (key(1, 0), vec![rec(1, "ab", b"xyz"), rec(2, "", b"")]),
        (key(9, 9), vec![]),
    ];
    let before = j.tail();
    assert!(j.append(&groups).unwrap());
    assert_eq!(j.tail() - before, entry_len(&groups) as u64);
}
