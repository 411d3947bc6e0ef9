//! Directory entries: 8.3 entries and the VFAT long-name entries before
//! them.

use std::collections::HashMap;

use crate::bytes::{le16, u8_at};
use crate::FsKind;

use super::name::{fold, lfn_checksum, short_name};

/// Bytes of one directory entry.
pub(super) const ENTRY_LEN: usize = 32;
/// A directory holds at most 65536 entries (Microsoft's FAT
/// specification), so at most 2 MiB.
pub(super) const MAX_DIR_BYTES: u32 = 65536 * ENTRY_LEN as u32;

/// Attribute bits.
pub(super) const ATTR_READ_ONLY: u8 = 0x01;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_DIRECTORY: u8 = 0x10;
/// The attribute value that marks a long-name entry.
const ATTR_LONG_NAME: u8 = 0x0F;
/// First byte of a deleted entry.
const DELETED: u8 = 0xE5;
/// A long name is at most 20 entries of 13 UTF-16 units (255 used).
const MAX_LFN_ENTRIES: usize = 20;
const LFN_UNITS: usize = 13;

/// One entry of a directory (not `.`, `..`, a label or a deleted entry).
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The name shown: the long name when a valid one precedes the entry,
    /// else the 8.3 name.
    pub name: String,
    /// The 8.3 name (`BASE.EXT`), which lookups match too.
    pub short: String,
    /// Attribute bits.
    pub attr: u8,
    /// First cluster (0 for an empty file).
    pub cluster: u32,
    /// Size in bytes (files).
    pub size: u32,
    /// Packed modification date.
    pub date: u16,
    /// Packed modification time.
    pub time: u16,
    /// Volume byte offset of the 8.3 entry: a stable number for the object.
    pub position: u64,
}

impl Entry {
    /// Whether the entry is a directory.
    pub(super) fn is_dir(&self) -> bool {
        self.attr & ATTR_DIRECTORY != 0
    }
}

/// A directory's entries and its volume label entry (the root's).
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The entries, in directory order.
    pub entries: Vec<Entry>,
    /// The volume label entry's text, raw.
    pub label: Option<[u8; 11]>,
    /// Bytes the directory occupies.
    pub bytes: u64,
    /// Index in `entries` by case-folded name: long names (or the 8.3 name
    /// where there is none) first, then 8.3 aliases, the first entry of a
    /// name winning, so a lookup does not scan a big directory.
    pub index: HashMap<String, usize>,
}

impl Listing {
    /// The entry `name` names, ignoring case.
    pub(super) fn find(&self, name: &str) -> Option<&Entry> {
        let at = self.index.get(&fold(name))?;
        self.entries.get(*at)
    }
}

/// A long name being gathered, from its last piece (stored first) down to
/// piece 1.
struct Pending {
    checksum: u8,
    /// The sequence number the next entry must carry; 0 once all are read.
    expect: u8,
    /// Entries the name spans (the last piece's sequence number).
    pieces: u8,
    units: [u16; MAX_LFN_ENTRIES * LFN_UNITS],
}

/// Reads the entries of a directory's bytes `data`; `position` gives the
/// volume offset of the entry at a byte offset of `data`. Stops at the
/// end marker (a first byte of 0). A broken long-name sequence (missing
/// piece, wrong order, checksum not matching the 8.3 name) is dropped and
/// the 8.3 name is shown, as Windows and Linux do.
pub(super) fn parse(kind: FsKind, data: &[u8], position: impl Fn(usize) -> u64) -> Listing {
    let mut listing = Listing {
        bytes: data.len() as u64,
        ..Listing::default()
    };
    let mut pending: Option<Pending> = None;
    for (index, raw) in data.chunks_exact(ENTRY_LEN).enumerate() {
        let first = u8_at(raw, 0);
        if first == 0 {
            break;
        }
        let attr = u8_at(raw, 11);
        if first == DELETED {
            pending = None;
            continue;
        }
        if attr & 0x3F == ATTR_LONG_NAME {
            pending = long_name_piece(pending.take(), raw);
            continue;
        }
        let mut short = [0u8; 11];
        short.copy_from_slice(raw.get(..11).unwrap_or(&[0; 11]));
        let long = pending.take().and_then(|p| finish(p, &short));
        if attr & ATTR_VOLUME_ID != 0 {
            if listing.label.is_none() && attr & ATTR_DIRECTORY == 0 {
                listing.label = Some(short);
            }
            continue;
        }
        if &short == b".          " || &short == b"..         " {
            continue;
        }
        let high = if kind == FsKind::Fat32 {
            u32::from(le16(raw, 20)) << 16
        } else {
            // FAT12/16 use these bytes for other things (OS/2 extended
            // attributes); clusters fit in 16 bits.
            0
        };
        let short_text = short_name(&short, u8_at(raw, 12));
        let name = long.unwrap_or_else(|| short_text.clone());
        listing.entries.push(Entry {
            name,
            short: short_text,
            attr,
            cluster: high | u32::from(le16(raw, 26)),
            size: crate::bytes::le32(raw, 28),
            date: le16(raw, 24),
            time: le16(raw, 22),
            position: position(index * ENTRY_LEN),
        });
    }
    for pass in [false, true] {
        for (at, entry) in listing.entries.iter().enumerate() {
            let name = if pass { &entry.short } else { &entry.name };
            listing.index.entry(fold(name)).or_insert(at);
        }
    }
    listing
}

/// Adds the long-name entry `raw` to the name being gathered; `None` when
/// the sequence is broken.
fn long_name_piece(pending: Option<Pending>, raw: &[u8]) -> Option<Pending> {
    let order = u8_at(raw, 0);
    let seq = order & 0x1F;
    let checksum = u8_at(raw, 13);
    // Type 0 and first cluster 0 are what a long-name entry holds.
    if seq == 0 || usize::from(seq) > MAX_LFN_ENTRIES || u8_at(raw, 12) != 0 || le16(raw, 26) != 0 {
        return None;
    }
    let mut pending = if order & 0x40 != 0 {
        // The last piece starts a new name, whatever came before.
        Pending {
            checksum,
            expect: seq,
            pieces: seq,
            units: [0xFFFF; MAX_LFN_ENTRIES * LFN_UNITS],
        }
    } else {
        let p = pending?;
        if p.expect != seq || p.checksum != checksum {
            return None;
        }
        p
    };
    let base = usize::from(seq - 1) * LFN_UNITS;
    // The 13 units sit at bytes 1-10, 14-25 and 28-31.
    let offsets = (1..11)
        .step_by(2)
        .chain((14..26).step_by(2))
        .chain((28..32).step_by(2));
    for (i, off) in offsets.enumerate() {
        if let Some(slot) = pending.units.get_mut(base + i) {
            *slot = le16(raw, off);
        }
    }
    pending.expect = seq - 1;
    Some(pending)
}

/// The long name `pending` holds, if it is complete and belongs to the
/// 8.3 name `short`.
fn finish(pending: Pending, short: &[u8; 11]) -> Option<String> {
    if pending.expect != 0 || pending.checksum != lfn_checksum(short) {
        return None;
    }
    let all = pending
        .units
        .get(..usize::from(pending.pieces) * LFN_UNITS)?;
    // A NUL ends a name shorter than its pieces; one that fills them has
    // none.
    let end = all.iter().position(|&u| u == 0).unwrap_or(all.len());
    let units = all.get(..end)?;
    // A name is at most 255 units; padding is 0xFFFF after the NUL.
    if units.is_empty() || units.len() > 255 || units.contains(&0xFFFF) {
        return None;
    }
    let name = String::from_utf16_lossy(units);
    // A name no path can reach is shown by its 8.3 name instead.
    (name != "." && name != ".." && !name.contains('/')).then_some(name)
}
