//! Append throughput of the store under a group-commit pattern: `--per-append` records
//! per `append` call, each call followed by `flush()`, until `--megabytes` of record
//! data have been written. Reports records/s, flushes/s, CPU time and bytes on disk per
//! stored byte (data + partition key).
//!
//! ```text
//! cargo run --release -p shard-store --example append_throughput -- \
//!     --record-bytes 100 --megabytes 200 --per-append 40 [--shards 1] [--dir /path]
//! ```
//!
//! Use a directory on a real disk (`df` it: tmpfs makes fsync free). Without `--dir` a
//! fresh directory is created under the system temp dir and removed afterwards.

use std::path::Path;
use std::time::Instant;

use shard_store::{NewRecord, ShardKey, Store};

struct Args {
    record_bytes: usize,
    megabytes: u64,
    per_append: usize,
    shards: u32,
    dir: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        record_bytes: 100,
        megabytes: 200,
        per_append: 40,
        shards: 1,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let num = || -> u64 {
            value
                .parse()
                .unwrap_or_else(|e| panic!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--record-bytes" => args.record_bytes = num() as usize,
            "--megabytes" => args.megabytes = num(),
            "--per-append" => args.per_append = num() as usize,
            "--shards" => args.shards = num() as u32,
            "--dir" => args.dir = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(args.record_bytes > 0 && args.per_append > 0 && args.shards > 0);
    args
}

/// Bytes allocated under `dir`. Files that vanish during the walk (sled removes blob
/// files in the background) count as zero.
fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        total += if meta.is_dir() {
            disk_usage(&entry.path())
        } else {
            // Allocated blocks, not apparent length: sled preallocates and punches holes.
            std::os::unix::fs::MetadataExt::blocks(&meta) * 512
        };
    }
    total
}

/// User + system CPU seconds of this process (Linux only; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // Clock ticks are 100 Hz on every Linux configuration we run on.
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => 0.0,
    }
}

fn main() {
    let args = parse_args();
    let temp;
    let dir = match &args.dir {
        Some(d) => Path::new(d).to_path_buf(),
        None => {
            temp = tempfile::tempdir().expect("tempdir");
            temp.path().to_path_buf()
        }
    };
    let store = Store::open(&dir).expect("open");
    let pk = "partition-key-0001";
    let data_len = args.record_bytes.saturating_sub(pk.len()).max(1);
    let data: Vec<u8> = (0..data_len).map(|i| (i * 31 % 251) as u8).collect();
    let billed = (pk.len() + data.len()) as u64;
    let total_records = (args.megabytes * 1_000_000).div_ceil(billed);

    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut next = vec![0u64; args.shards as usize];
    let (mut written, mut flushes) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(args.per_append);
    while written < total_records {
        let shard = (flushes % u64::from(args.shards)) as u32;
        let n = (total_records - written).min(args.per_append as u64);
        let arrival_ms = start.elapsed().as_millis() as i64;
        batch.clear();
        for _ in 0..n {
            batch.push(NewRecord {
                position: next[shard as usize],
                arrival_ms,
                partition_key: pk,
                data: &data,
            });
            next[shard as usize] += 1;
        }
        store
            .append(ShardKey { stream: 1, shard }, &batch)
            .expect("append");
        store.flush().expect("flush");
        written += n;
        flushes += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    // sled writes any log item larger than a quarter segment to a file of its own under
    // `blobs/` (slower to recover, and not fsynced by sled 0.34): there should be none.
    let blob_files = std::fs::read_dir(dir.join("blobs")).map_or(0, |d| d.count());
    drop(store);
    let on_disk = disk_usage(&dir);
    let stored = written * billed;
    println!(
        "record_bytes={} per_append={} shards={} records={written} flushes={flushes} \
         secs={secs:.1} cpu_secs={cpu:.1} records/s={:.0} flushes/s={:.0} MB/s={:.1} \
         disk/stored={:.2} blob_files={blob_files}",
        billed,
        args.per_append,
        args.shards,
        written as f64 / secs,
        flushes as f64 / secs,
        stored as f64 / secs / 1e6,
        on_disk as f64 / stored as f64,
    );
}
