//! The flush witness: proof, outside sled, of how far sled's files had been made durable, so
//! that a damaged, shortened, replaced or deleted `db` cannot pass for a healthy older one.
//!
//! sled 0.34 opens a damaged log by keeping what precedes the first bad message and
//! dropping the rest without a word; a deleted `db` opens as an empty store. Either way
//! acknowledged records would be gone with nothing in the log. So every flush of the store
//! (the only thing, besides the journal, that acknowledges records) numbers itself:
//!
//! 1. write flush number `n` into sled (catalogue setting [`COUNTER`]),
//! 2. flush sled and sync its files,
//! 3. write `n` to the witness file and `fdatasync` it.
//!
//! Invariant: sled's durable counter is never below the witness's (step 3 follows step 2;
//! a crash between them leaves sled one ahead, which is fine). On open, sled's counter below
//! the witness's means sled lost flushed data: the open is refused ([`check`]).
//!
//! File layout: `[magic "KWT1"][flush number u64 BE][crc32 of the first 12 bytes]`, 16
//! bytes written in place (one sector: a write of it is atomic on every real disk).

use crate::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The witness file, in the store's directory.
pub(crate) const FILE: &str = "kinesd-witness";
/// The catalogue setting that holds sled's own copy of the flush number.
pub(crate) const COUNTER: &str = "flush-witness";

const MAGIC: &[u8; 4] = b"KWT1";
const LEN: usize = 16;

pub(crate) struct Witness {
    file: File,
    /// The last flush number written to the file.
    flushed: u64,
}

impl Witness {
    /// Opens (creating if missing) the witness of `dir`. Returns it with what the file said:
    /// `None` for a new (or empty) file.
    pub(crate) fn open(dir: &Path) -> Result<(Witness, Option<u64>)> {
        let path = dir.join(FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| io_err("open", e))?;
        let mut bytes = Vec::with_capacity(LEN);
        file.read_to_end(&mut bytes)
            .map_err(|e| io_err("read", e))?;
        let recorded = match bytes.len() {
            0 => None,
            LEN if &bytes[..4] == MAGIC
                && u32::from_be_bytes(bytes[12..16].try_into().expect("4 bytes"))
                    == crc32fast::hash(&bytes[..12]) =>
            {
                Some(u64::from_be_bytes(
                    bytes[4..12].try_into().expect("8 bytes"),
                ))
            }
            n => {
                return Err(StoreError::Corrupt(format!(
                    "{FILE}: damaged ({n} bytes, not a valid witness)"
                )))
            }
        };
        let witness = Witness {
            file,
            flushed: recorded.unwrap_or(0),
        };
        Ok((witness, recorded))
    }

    /// The number the next flush takes.
    pub(crate) fn next(&self) -> u64 {
        self.flushed + 1
    }

    /// Records that flush `n` is durable in sled.
    pub(crate) fn record(&mut self, n: u64) -> Result<()> {
        let mut bytes = [0u8; LEN];
        bytes[..4].copy_from_slice(MAGIC);
        bytes[4..12].copy_from_slice(&n.to_be_bytes());
        let crc = crc32fast::hash(&bytes[..12]);
        bytes[12..].copy_from_slice(&crc.to_be_bytes());
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&bytes))
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io_err("write", e))?;
        self.flushed = n;
        Ok(())
    }
}

/// Compares sled's flush number with the witness's on open: `Err` when sled holds less than
/// was made durable, unless `accept_loss`, which logs the loss and goes on.
pub(crate) fn check(
    in_engine: Option<u64>,
    witnessed: Option<u64>,
    accept_loss: bool,
) -> Result<()> {
    let (Some(witnessed), engine) = (witnessed, in_engine.unwrap_or(0)) else {
        return Ok(());
    };
    if engine >= witnessed {
        return Ok(());
    }
    let what = if in_engine.is_none() {
        "db: the storage engine's files are missing or empty, but they had been made durable \
         before (a deleted or replaced db file)"
            .to_string()
    } else {
        format!(
            "db: the storage engine's files end at flush {engine}, but flush {witnessed} had \
             been made durable (the db file is damaged, cut short or an older copy)"
        )
    };
    if accept_loss {
        tracing::error!(
            "data directory corrupt: {what}; starting anyway (--accept-data-loss): whatever was \
             acknowledged after flush {engine} is lost"
        );
        return Ok(());
    }
    Err(StoreError::Corrupt(what))
}

fn io_err(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{FILE}: {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, recorded) = Witness::open(dir.path()).unwrap();
        assert_eq!(recorded, None);
        assert_eq!(w.next(), 1);
        w.record(1).unwrap();
        w.record(2).unwrap();
        drop(w);
        let (w, recorded) = Witness::open(dir.path()).unwrap();
        assert_eq!(recorded, Some(2));
        assert_eq!(w.next(), 3);
    }

    #[test]
    fn a_damaged_witness_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _) = Witness::open(dir.path()).unwrap();
        w.record(7).unwrap();
        drop(w);
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[6] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        let err = Witness::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("kinesd-witness: damaged"), "{err}");
    }

    #[test]
    fn an_engine_behind_its_witness_is_refused_unless_accepted() {
        assert!(check(None, None, false).is_ok());
        assert!(check(Some(5), None, false).is_ok());
        assert!(check(Some(5), Some(5), false).is_ok());
        assert!(check(Some(6), Some(5), false).is_ok());
        let behind = check(Some(4), Some(5), false).unwrap_err().to_string();
        assert!(
            behind.contains("db: the storage engine's files end at flush 4"),
            "{behind}"
        );
        let missing = check(None, Some(5), false).unwrap_err().to_string();
        assert!(missing.contains("missing or empty"), "{missing}");
        assert!(check(None, Some(5), true).is_ok());
    }
}
