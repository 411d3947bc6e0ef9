//! Transaction log replay, in memory only.
//!
//! A dirty hive (sequence numbers differ, or wrong checksum) may have its
//! latest changes only in `.LOG1`/`.LOG2`. Two formats exist:
//! - new (Windows 8.1 and later, log file type 6): `HvLE` log entries from
//!   offset 512, each with a sequence number, the hive bins size, a list of
//!   dirty page references and the pages, guarded by two Marvin32 hashes.
//!   Entries from the hive's secondary sequence number on are applied in
//!   sequence order across both logs, stopping at the first gap or bad
//!   entry (as the kernel does).
//! - old (log file type 1 or 2): a `DIRT` bitmap of dirty 512-byte pages
//!   of the hive bins, then the pages; applies only when its base block's
//!   last-written stamp equals the hive's.
//!
//! Every size and offset is checked against the log and against
//! [`MAX_HIVE_SIZE`]; a log that does not check out is ignored (the hive
//! then stays stale), never half-trusted past its first bad entry.

use crate::base_block::{set_sequences_and_checksum, BaseBlock, BASE_BLOCK_SIZE};
use crate::bytes::{le32, le64, slice};
use crate::hive::MAX_HIVE_SIZE;
use crate::marvin::{marvin32, LOG_SEED};

/// Logs keep the first sector of the base block, then their records.
const LOG_SECTOR: usize = 512;

/// Size of a new-format log entry header.
const HVLE_HEADER: usize = 40;

/// One checked new-format log entry.
struct Entry<'l> {
    sequence: u32,
    bins_size: u32,
    /// (offset relative to the hive bins, page bytes)
    pages: Vec<(u32, &'l [u8])>,
}

/// Replays `logs` into `hive` (whose parsed base block is `base`).
/// Returns how many log entries (new format) or logs (old format) were
/// applied; 0 leaves `hive` untouched.
pub(crate) fn replay(hive: &mut Vec<u8>, base: &BaseBlock, logs: &[&[u8]]) -> u32 {
    let headers: Vec<(BaseBlock, &[u8])> = logs
        .iter()
        .filter_map(|log| {
            let bb = BaseBlock::parse(log).ok()?;
            (bb.checksum_ok() && log.len() >= LOG_SECTOR).then_some((bb, *log))
        })
        .collect();
    if headers.iter().any(|(bb, _)| bb.file_type == 6) {
        replay_new(hive, base, &headers)
    } else {
        replay_old(hive, base, &headers)
    }
}

fn replay_new(hive: &mut Vec<u8>, base: &BaseBlock, logs: &[(BaseBlock, &[u8])]) -> u32 {
    let mut entries: Vec<Entry> = logs
        .iter()
        .filter(|(bb, _)| bb.file_type == 6)
        .flat_map(|(_, log)| parse_entries(log))
        .collect();
    // A wrong checksum means the base block itself is not to be trusted:
    // the log keeps a copy of it.
    let recovered_base = if base.checksum_ok() {
        None
    } else {
        logs.iter().find(|(bb, _)| bb.file_type == 6)
    };
    let start = recovered_base.map_or(base.secondary_sequence, |(bb, _)| bb.secondary_sequence);
    entries.retain(|e| e.sequence >= start);
    // Stable: for equal sequence numbers the entry from LOG1 comes first.
    entries.sort_by_key(|e| e.sequence);
    entries.dedup_by_key(|e| e.sequence);
    let mut applied = 0u32;
    let mut last: Option<(u32, u32)> = None;
    for e in &entries {
        if let Some((seq, _)) = last {
            if Some(e.sequence) != seq.checked_add(1) {
                break;
            }
        }
        if !apply_entry(hive, e) {
            break;
        }
        last = Some((e.sequence, e.bins_size));
        applied += 1;
    }
    if let Some((seq, bins_size)) = last {
        if let Some((_, log)) = recovered_base {
            copy_base_block(hive, log);
        }
        set_sequences_and_checksum(hive, seq, Some(bins_size));
    }
    applied
}

/// Parses the log entries of a new-format log, stopping at the first one
/// that does not check out.
fn parse_entries(log: &[u8]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut at = LOG_SECTOR;
    // Each entry is at least one sector, so this ends.
    while let Some(e) = parse_entry(log, at) {
        at += e.1;
        out.push(e.0);
    }
    out
}

fn parse_entry(log: &[u8], at: usize) -> Option<(Entry<'_>, usize)> {
    if slice(log, at, 4)? != b"HvLE" {
        return None;
    }
    let size = le32(log, at + 4)? as usize;
    if size < HVLE_HEADER || size % LOG_SECTOR != 0 {
        return None;
    }
    let entry = slice(log, at, size)?;
    let sequence = le32(entry, 12)?;
    let bins_size = le32(entry, 16)?;
    let count = le32(entry, 20)? as usize;
    let hash1 = le64(entry, 24)?;
    let hash2 = le64(entry, 32)?;
    if marvin32(LOG_SEED, entry.get(HVLE_HEADER..)?) != hash1
        || marvin32(LOG_SEED, entry.get(..32)?) != hash2
    {
        return None;
    }
    if bins_size == 0
        || bins_size % 4096 != 0
        || u64::from(bins_size) + BASE_BLOCK_SIZE as u64 > MAX_HIVE_SIZE
    {
        return None;
    }
    let refs_len = count.checked_mul(8)?;
    let refs = slice(entry, HVLE_HEADER, refs_len)?;
    let mut data_at = HVLE_HEADER + refs_len;
    let mut pages = Vec::with_capacity(count);
    for r in refs.chunks_exact(8) {
        let offset = le32(r, 0)?;
        let len = le32(r, 4)?;
        if u64::from(offset) + u64::from(len) > u64::from(bins_size) {
            return None;
        }
        pages.push((offset, slice(entry, data_at, len as usize)?));
        data_at += len as usize;
    }
    Some((
        Entry {
            sequence,
            bins_size,
            pages,
        },
        size,
    ))
}

/// Writes an entry's pages into the hive, growing it to the entry's hive
/// bins size. False (nothing written) if the hive cannot hold them.
fn apply_entry(hive: &mut Vec<u8>, e: &Entry) -> bool {
    let needed = BASE_BLOCK_SIZE + e.bins_size as usize;
    let carried: usize = e.pages.iter().map(|(_, p)| p.len()).sum();
    if !grow(hive, needed, carried) {
        return false;
    }
    for (offset, page) in &e.pages {
        let at = BASE_BLOCK_SIZE + *offset as usize;
        match hive.get_mut(at..at + page.len()) {
            Some(dst) => dst.copy_from_slice(page),
            None => return false,
        }
    }
    true
}

fn replay_old(hive: &mut Vec<u8>, base: &BaseBlock, logs: &[(BaseBlock, &[u8])]) -> u32 {
    for (bb, log) in logs {
        if !matches!(bb.file_type, 1 | 2) || bb.primary_sequence != bb.secondary_sequence {
            continue;
        }
        if base.checksum_ok() && bb.last_written != base.last_written {
            continue;
        }
        if let Some(pages) = old_pages(bb, log) {
            let needed = BASE_BLOCK_SIZE + bb.hive_bins_size as usize;
            if !grow(hive, needed, pages.len() * 512) {
                continue;
            }
            for (offset, page) in pages {
                let at = BASE_BLOCK_SIZE + offset as usize;
                if let Some(dst) = hive.get_mut(at..at + page.len()) {
                    dst.copy_from_slice(page);
                }
            }
            copy_base_block(hive, log);
            set_sequences_and_checksum(hive, bb.secondary_sequence, Some(bb.hive_bins_size));
            return 1;
        }
    }
    0
}

/// Grows the hive to `needed` bytes when a log says it grew. New hive bins
/// are always dirty, so the log must carry at least as many page bytes as
/// the hive grows: growth is bounded by the log's own size, never by a
/// size field alone.
fn grow(hive: &mut Vec<u8>, needed: usize, carried: usize) -> bool {
    if hive.len() >= needed {
        return true;
    }
    if needed - hive.len() > carried {
        return false;
    }
    hive.resize(needed, 0);
    true
}

/// The dirty pages of an old-format log, all checked to be present.
fn old_pages<'l>(bb: &BaseBlock, log: &'l [u8]) -> Option<Vec<(u32, &'l [u8])>> {
    let bins_size = bb.hive_bins_size;
    if bins_size == 0
        || bins_size % 4096 != 0
        || u64::from(bins_size) + BASE_BLOCK_SIZE as u64 > MAX_HIVE_SIZE
    {
        return None;
    }
    if slice(log, LOG_SECTOR, 4)? != b"DIRT" {
        return None;
    }
    let bits = (bins_size / 512) as usize;
    let bitmap = slice(log, LOG_SECTOR + 4, bits / 8)?;
    let pages_start = (LOG_SECTOR + 4 + bitmap.len()).div_ceil(LOG_SECTOR) * LOG_SECTOR;
    let mut pages = Vec::new();
    for bit in 0..bits {
        let set = bitmap
            .get(bit / 8)
            .is_some_and(|b| b & (1 << (bit % 8)) != 0);
        if set {
            let page = slice(log, pages_start + pages.len() * 512, 512)?;
            pages.push(((bit * 512) as u32, page));
        }
    }
    Some(pages)
}

/// Takes the log's copy of the base block's first sector as the hive's,
/// marked as a primary file again.
fn copy_base_block(hive: &mut [u8], log: &[u8]) {
    if let (Some(dst), Some(src)) = (hive.get_mut(..LOG_SECTOR), log.get(..LOG_SECTOR)) {
        dst.copy_from_slice(src);
    }
    if let Some(ft) = hive.get_mut(28..32) {
        ft.copy_from_slice(&0u32.to_le_bytes());
    }
}
