//! The record journal: the short path to durability for small group commits.
//!
//! sled makes a write durable by handing its log buffer to its I/O thread pool, whose
//! `notify_all` wakes every idle pool thread, and by `sync_file_range`. For a group commit
//! of a few small records that round trip costs more than the write. The journal is a
//! fixed-size file the committing thread writes and `fdatasync`s itself; the same records
//! go to sled without a flush, and sled catches up in the background.
//!
//! Invariants:
//! * every entry after the header carries the journal's current epoch; an entry with
//!   another epoch, a bad checksum or a length running past the file ends the journal
//!   (a torn tail or a leftover of an earlier epoch, never data to replay);
//! * the epoch changes (a *checkpoint*) only after sled has flushed everything the
//!   journal holds, so a checkpoint never drops a record that is durable nowhere else;
//! * replaying an entry is idempotent: the store skips records at or below a shard's
//!   last stored position, and records of streams that no longer exist.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! header, at 0:      [magic "KDJ1"][epoch u64][crc32 of the previous 12 bytes]
//! entries, from 4096: [payload_len u32][epoch u64][crc32 of len+epoch+payload][payload]
//! payload:           [version 1][groups u32], then per group
//!                    [stream u64][shard u32][count u32], then per record
//!                    [position u64][arrival_ms i64][pk_len u16][data_len u32][pk][data]
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::{NewRecord, Result, ShardKey, StoreError, StoredRecord};

const MAGIC: &[u8; 4] = b"KDJ1";
const HEADER_LEN: usize = 4 + 8 + 4;
/// Entries start one page in, so rewriting the header never shares a page with them.
const FIRST_ENTRY: u64 = 4096;
const ENTRY_HEADER_LEN: usize = 4 + 8 + 4;
const PAYLOAD_VERSION: u8 = 1;
const GROUP_HEADER_LEN: usize = 8 + 4 + 4;
const RECORD_HEADER_LEN: usize = 8 + 8 + 2 + 4;

/// Size of the journal file. At the rates the journal serves (small commits, well under
/// 10 MB/s) it fills every few seconds; sled's own background flush has long caught up by
/// then, so the checkpoint's flush finds little left to write.
pub(crate) const JOURNAL_BYTES: u64 = 16 << 20;

/// Group commits whose encoded entry is larger than this skip the journal and flush sled
/// instead: for them sled's per-flush overhead is small next to the bytes, and journaling
/// would write every byte one more time.
pub(crate) const JOURNAL_ENTRY_MAX: usize = 256 << 10;

pub(crate) struct Journal {
    file: File,
    capacity: u64,
    epoch: u64,
    /// Where the next entry goes; also the file cursor's position.
    tail: u64,
    buf: Vec<u8>,
}

fn io_err(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("journal: {what}: {e}"))
}

/// Damage to the journal: refuses the open, or with `accept_loss` logs it and goes on.
fn damage(accept_loss: bool, what: String) -> Result<()> {
    let what = format!("{}: {what}", crate::store::JOURNAL_FILE);
    if accept_loss {
        tracing::error!(
            "data directory corrupt: {what}; starting anyway (--accept-data-loss): the records \
             of the damaged entries are lost"
        );
        return Ok(());
    }
    Err(StoreError::Corrupt(what))
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().expect("8 bytes"))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("4 bytes"))
}

fn entry_crc(len: u32, epoch: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_be_bytes());
    h.update(&epoch.to_be_bytes());
    h.update(payload);
    h.finalize()
}

/// Encoded size of one group commit's entry, header included.
pub(crate) fn entry_len(groups: &[(ShardKey, Vec<StoredRecord>)]) -> usize {
    ENTRY_HEADER_LEN
        + 1
        + 4
        + groups
            .iter()
            .map(|(_, records)| {
                GROUP_HEADER_LEN
                    + records
                        .iter()
                        .map(|r| RECORD_HEADER_LEN + r.partition_key.len() + r.data.len())
                        .sum::<usize>()
            })
            .sum::<usize>()
}

impl Journal {
    /// Opens the journal's file at `path`, creating it empty if missing (an empty file is a
    /// new journal to [`Journal::open`]). The store creates it before anything else runs,
    /// so the directory sync of its start-up covers it (see `data_dir.rs`).
    pub(crate) fn create(path: &Path) -> Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // Never through a link (see `data_dir.rs`), and the owner's alone.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
        }
        options.open(path).map_err(|e| io_err("open", e))
    }

    /// Opens (creating if missing) the journal at `path` and hands every entry of the
    /// current epoch, in order, to `replay`. Returns the journal positioned after the
    /// last valid entry.
    pub(crate) fn open(
        path: &Path,
        capacity: u64,
        accept_loss: bool,
        mut replay: impl FnMut(Vec<(ShardKey, Vec<NewRecord<'_>>)>) -> Result<()>,
    ) -> Result<Journal> {
        let file = Self::create(path)?;
        let len = file.metadata().map_err(|e| io_err("stat", e))?.len();
        let mut journal = Journal {
            file,
            capacity,
            epoch: 0,
            tail: FIRST_ENTRY,
            buf: Vec::new(),
        };
        let header = match journal.read_header()? {
            Some(epoch) => Some(epoch),
            // A header that does not read: torn by a crash during a checkpoint (everything
            // was in sled by then), or damaged. Its first entry, if valid, names the epoch;
            // replaying that epoch is harmless in the first case (replay is idempotent) and
            // saves the records in the second.
            None => {
                let first = journal.entry_epoch(FIRST_ENTRY)?;
                if let Some(epoch) = first {
                    tracing::warn!(
                        epoch,
                        "journal header unreadable: reading its entries with the epoch of the first"
                    );
                }
                first
            }
        };
        let Some(epoch) = header else {
            // New file, or a torn header with no entry after it: nothing to replay. Clear
            // stale entries so no old epoch can be mistaken for the new one.
            journal.file.set_len(0).map_err(|e| io_err("truncate", e))?;
            journal
                .file
                .set_len(capacity)
                .map_err(|e| io_err("size", e))?;
            journal.epoch = 1;
            // Not synced: until the first entry's sync (which covers the header, on the same
            // file) or a checkpoint, a crash leaves a header that does not read, which is a
            // new journal again. The directory entry is the store's start-up sync's.
            journal.write_header(false)?;
            return Ok(journal);
        };
        journal.epoch = epoch;
        if len < capacity {
            // The file is made full size before its header is written: a short one was cut.
            damage(
                accept_loss,
                format!("{len} bytes where {capacity} were written (cut short)"),
            )?;
            journal
                .file
                .set_len(capacity)
                .map_err(|e| io_err("size", e))?;
        }
        let mut pos = FIRST_ENTRY;
        let mut payload = Vec::new();
        loop {
            while let Some(next) = journal.read_entry(pos, &mut payload)? {
                replay(decode_payload(&payload)?)?;
                pos = next;
            }
            if !journal.looks_like_entry(pos)? {
                break;
            }
            // An entry of this epoch that does not check out: a torn last write (a crash in
            // the middle of an append that was never acknowledged), unless valid entries
            // follow it.
            match journal.next_valid_entry(pos + 1)? {
                None => {
                    tracing::warn!(
                        at = pos,
                        "journal: discarded a torn last entry (a write a crash interrupted, \
                         never acknowledged)"
                    );
                    break;
                }
                Some(later) => {
                    damage(
                        accept_loss,
                        format!(
                            "the entry at byte {pos} is damaged and valid entries follow it \
                             (from byte {later})"
                        ),
                    )?;
                    pos = later;
                }
            }
        }
        journal.tail = pos;
        journal
            .file
            .seek(SeekFrom::Start(pos))
            .map_err(|e| io_err("seek", e))?;
        Ok(journal)
    }

    /// The epoch of a valid entry at `pos`, whatever epoch it is.
    fn entry_epoch(&mut self, pos: u64) -> Result<Option<u64>> {
        let Some(epoch) = self.header_at(pos)?.map(|(_, epoch, _)| epoch) else {
            return Ok(None);
        };
        let current = std::mem::replace(&mut self.epoch, epoch);
        let valid = self.read_entry(pos, &mut Vec::new())?.is_some();
        self.epoch = current;
        Ok(valid.then_some(epoch))
    }

    /// Whether `pos` holds the start of an entry of the current epoch that failed to read:
    /// its epoch field is the current one, or its checksum holds with the current epoch put
    /// in (a damaged epoch field). Zeros and older epochs' leftovers are not.
    fn looks_like_entry(&mut self, pos: u64) -> Result<bool> {
        let Some((len, epoch, crc)) = self.header_at(pos)? else {
            return Ok(false);
        };
        if epoch == self.epoch {
            return Ok(len != 0 || crc != 0);
        }
        let next = pos + (ENTRY_HEADER_LEN as u64) + u64::from(len);
        if len == 0 || next > self.capacity {
            return Ok(false);
        }
        let mut payload = vec![0u8; len as usize];
        match self.file.read_exact(&mut payload) {
            Ok(()) => Ok(crc == entry_crc(len, self.epoch, &payload)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(io_err("read entry", e)),
        }
    }

    /// The first position after `from` where a valid entry of the current epoch starts.
    /// Reads the rest of the file once; only run when an entry failed to read.
    fn next_valid_entry(&mut self, from: u64) -> Result<Option<u64>> {
        let mut rest = Vec::new();
        self.file
            .seek(SeekFrom::Start(from))
            .and_then(|_| {
                (&self.file)
                    .take(self.capacity.saturating_sub(from))
                    .read_to_end(&mut rest)
            })
            .map_err(|e| io_err("read", e))?;
        let epoch = self.epoch.to_be_bytes();
        let mut at = 0;
        while at + ENTRY_HEADER_LEN <= rest.len() {
            let Some(found) = rest[at + 4..].windows(8).position(|w| w == epoch) else {
                return Ok(None);
            };
            let start = at + found;
            let len = be_u32(&rest[start..]) as usize;
            let end = start + ENTRY_HEADER_LEN + len;
            if len != 0
                && end <= rest.len()
                && be_u32(&rest[start + 12..])
                    == entry_crc(len as u32, self.epoch, &rest[start + ENTRY_HEADER_LEN..end])
            {
                return Ok(Some(from + start as u64));
            }
            at = start + 1;
        }
        Ok(None)
    }

    /// The (length, epoch, checksum) fields at `pos`, if the file reaches that far.
    fn header_at(&mut self, pos: u64) -> Result<Option<(u32, u64, u32)>> {
        let mut h = [0u8; ENTRY_HEADER_LEN];
        if pos + ENTRY_HEADER_LEN as u64 > self.capacity {
            return Ok(None);
        }
        self.file
            .seek(SeekFrom::Start(pos))
            .map_err(|e| io_err("seek", e))?;
        match self.file.read_exact(&mut h) {
            Ok(()) => Ok(Some((be_u32(&h), be_u64(&h[4..]), be_u32(&h[12..])))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(io_err("read entry", e)),
        }
    }

    fn read_header(&mut self) -> Result<Option<u64>> {
        let mut h = [0u8; HEADER_LEN];
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|e| io_err("seek", e))?;
        match self.file.read_exact(&mut h) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io_err("read header", e)),
        }
        if &h[..4] != MAGIC || be_u32(&h[12..]) != crc32fast::hash(&h[..12]) {
            return Ok(None);
        }
        Ok(Some(be_u64(&h[4..])))
    }

    /// Writes the header; with `sync`, durably.
    fn write_header(&mut self, sync: bool) -> Result<()> {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(MAGIC);
        h[4..12].copy_from_slice(&self.epoch.to_be_bytes());
        let crc = crc32fast::hash(&h[..12]);
        h[12..].copy_from_slice(&crc.to_be_bytes());
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&h))
            .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) })
            .map_err(|e| io_err("write header", e))?;
        self.tail = FIRST_ENTRY;
        self.file
            .seek(SeekFrom::Start(FIRST_ENTRY))
            .map_err(|e| io_err("seek", e))?;
        Ok(())
    }

    /// Reads the entry at `pos` into `payload` if it is a valid entry of the current
    /// epoch; returns the position after it.
    fn read_entry(&mut self, pos: u64, payload: &mut Vec<u8>) -> Result<Option<u64>> {
        let Some((len, epoch, crc)) = self.header_at(pos)? else {
            return Ok(None);
        };
        let next = pos + (ENTRY_HEADER_LEN as u64) + u64::from(len);
        if epoch != self.epoch || len == 0 || next > self.capacity {
            return Ok(None);
        }
        payload.resize(len as usize, 0);
        match self.file.read_exact(payload) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io_err("read entry", e)),
        }
        Ok((crc == entry_crc(len, epoch, payload)).then_some(next))
    }

    /// Writes one entry and makes it durable. Returns false, writing nothing, when the
    /// entry does not fit before the end of the file: the caller must make the records
    /// durable another way and then [`Journal::checkpoint`].
    pub(crate) fn append(&mut self, groups: &[(ShardKey, Vec<StoredRecord>)]) -> Result<bool> {
        let len = entry_len(groups);
        if self.tail + len as u64 > self.capacity {
            return Ok(false);
        }
        let buf = &mut self.buf;
        buf.clear();
        buf.reserve(len);
        buf.extend_from_slice(&[0u8; ENTRY_HEADER_LEN]);
        buf.push(PAYLOAD_VERSION);
        buf.extend_from_slice(&(groups.len() as u32).to_be_bytes());
        for (shard, records) in groups {
            buf.extend_from_slice(&shard.stream.to_be_bytes());
            buf.extend_from_slice(&shard.shard.to_be_bytes());
            buf.extend_from_slice(&(records.len() as u32).to_be_bytes());
            for r in records {
                let pk_len = u16::try_from(r.partition_key.len()).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "partition key of {} bytes exceeds 65535",
                        r.partition_key.len()
                    ))
                })?;
                buf.extend_from_slice(&r.position.to_be_bytes());
                buf.extend_from_slice(&r.arrival_ms.to_be_bytes());
                buf.extend_from_slice(&pk_len.to_be_bytes());
                buf.extend_from_slice(&(r.data.len() as u32).to_be_bytes());
                buf.extend_from_slice(r.partition_key.as_bytes());
                buf.extend_from_slice(&r.data);
            }
        }
        debug_assert_eq!(buf.len(), len);
        let payload_len = (len - ENTRY_HEADER_LEN) as u32;
        let crc = entry_crc(payload_len, self.epoch, &buf[ENTRY_HEADER_LEN..]);
        buf[..4].copy_from_slice(&payload_len.to_be_bytes());
        buf[4..12].copy_from_slice(&self.epoch.to_be_bytes());
        buf[12..16].copy_from_slice(&crc.to_be_bytes());
        if let Err(e) = self
            .file
            .write_all(buf)
            .and_then(|()| self.file.sync_data())
        {
            // The cursor may have moved by a partial write; put it back so the next entry
            // overwrites this one instead of leaving a hole.
            let _ = self.file.seek(SeekFrom::Start(self.tail));
            return Err(io_err("append", e));
        }
        self.tail += len as u64;
        Ok(true)
    }

    /// Starts a new epoch, emptying the journal. Only after sled has flushed every record
    /// the journal holds.
    pub(crate) fn checkpoint(&mut self) -> Result<()> {
        if self.tail == FIRST_ENTRY {
            return Ok(());
        }
        self.epoch += 1;
        self.write_header(true)
    }

    #[cfg(test)]
    fn tail(&self) -> u64 {
        self.tail
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("journal entry: {what}"))
}

/// Decodes a payload whose checksum matched. A mismatch here is not a torn write (the
/// checksum rules those out) but a bug or a foreign file, so it fails the open.
fn decode_payload(p: &[u8]) -> Result<Vec<(ShardKey, Vec<NewRecord<'_>>)>> {
    let (&version, mut rest) = p.split_first().ok_or_else(|| corrupt("empty"))?;
    if version != PAYLOAD_VERSION {
        return Err(corrupt(&format!("unknown format version {version}")));
    }
    let mut take = |n: usize| -> Result<&[u8]> {
        if rest.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let groups = be_u32(take(4)?) as usize;
    let mut out = Vec::with_capacity(groups.min(1024));
    for _ in 0..groups {
        let g = take(GROUP_HEADER_LEN)?;
        let shard = ShardKey {
            stream: be_u64(g),
            shard: be_u32(&g[8..]),
        };
        let count = be_u32(&g[12..]) as usize;
        let mut records = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            let h = take(RECORD_HEADER_LEN)?;
            let position = be_u64(h);
            let arrival_ms = be_u64(&h[8..]) as i64;
            let pk_len = u16::from_be_bytes([h[16], h[17]]) as usize;
            let data_len = be_u32(&h[18..]) as usize;
            let pk = std::str::from_utf8(take(pk_len)?)
                .map_err(|_| corrupt("partition key is not UTF-8"))?;
            let data = take(data_len)?;
            records.push(NewRecord {
                position,
                arrival_ms,
                partition_key: pk,
                data,
            });
        }
        out.push((shard, records));
    }
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
