//! Problems the verifier reports, and the structural checks that find them.

use std::fmt;

use crate::error::Error;
use crate::geometry::Geometry;
use crate::layout::{max_record_len, IndexEntry, PAGE};
use crate::meta::Meta;

/// One thing wrong with a ZVHD2 file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset in the ZVHD2 file of the structure at fault (for a block
    /// that differs from the RAW, the offset of its record, or 0 if none).
    pub offset: u64,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The head footer's checksum does not match its bytes.
    HeadChecksum,
    /// A head footer field disagrees with the tail footer.
    HeadField {
        /// Field name.
        field: &'static str,
        /// Head value.
        head: u64,
        /// Tail value.
        tail: u64,
    },
    /// The geometry field is not the VHD geometry of orig_size.
    Geometry {
        /// Stored value.
        stored: u32,
        /// Value computed from orig_size.
        expected: u32,
    },
    /// The bitmap's set bits do not number non_zero_blk_num.
    BitmapCount {
        /// Set bits below max_blk_num.
        set: u64,
        /// non_zero_blk_num.
        expected: u32,
    },
    /// A bit past the last block is set.
    BitmapPastEnd {
        /// Its block number.
        block: u64,
    },
    /// Index entry k does not name the block of the k-th set bit.
    IndexBlock {
        /// Entry number.
        entry: u32,
        /// Block the entry names.
        found: u32,
        /// Block of the k-th set bit (None: the bitmap has fewer bits).
        expected: Option<u32>,
    },
    /// An index entry points outside the data area or has an impossible length.
    IndexPlace {
        /// Entry number.
        entry: u32,
        /// Record offset in the entry.
        record: u64,
        /// Record length in the entry.
        len: u32,
        /// Why it is wrong.
        detail: String,
    },
    /// A record does not start after the end of the previous one.
    IndexOrder {
        /// Entry number.
        entry: u32,
        /// Record offset in the entry.
        record: u64,
        /// End of the previous entry's record.
        prev_end: u64,
    },
    /// A record does not start with `hwstream bg`.
    RecordMagic {
        /// The block.
        block: u32,
        /// The bytes found, escaped.
        found: String,
    },
    /// A record names another block.
    RecordBlock {
        /// The block the bitmap says it holds.
        block: u32,
        /// The block the record names.
        found: u32,
    },
    /// A record's payload length does not fit its index length.
    RecordLength {
        /// The block.
        block: u32,
        /// Payload length in the header.
        payload_len: u32,
        /// Record length in the index.
        index_len: u32,
        /// round_up(48 + payload_len + 4, 4096).
        expected: u64,
    },
    /// A record does not end with `end`.
    RecordEnd {
        /// The block.
        block: u32,
        /// The 4 bytes found, escaped.
        found: String,
    },
    /// A record cannot be read.
    RecordUnreadable {
        /// The block.
        block: u32,
        /// The I/O error.
        detail: String,
    },
    /// A payload does not decompress to exactly block_size bytes.
    Payload {
        /// The block.
        block: u32,
        /// What the decompressor said.
        detail: String,
    },
    /// A set bit has no index entry (the index is shorter than the bitmap).
    NoEntry {
        /// The block.
        block: u32,
    },
    /// The block differs from the RAW file it was compared with.
    BlockDiffers {
        /// The block.
        block: u32,
    },
    /// The RAW file's size does not give this orig_size.
    SizeMismatch {
        /// RAW file size.
        raw_size: u64,
        /// Rounded up to 512.
        rounded: u64,
        /// orig_size of the ZVHD2.
        orig_size: u64,
    },
}

/// Most problems a [`Report`](crate::Report) lists; past this they are only
/// counted, so a file with millions of bad entries costs bounded memory.
pub const MAX_LISTED_PROBLEMS: usize = 10_000;

/// The problems found so far: the first [`MAX_LISTED_PROBLEMS`], and a count
/// of the rest.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) list: Vec<Problem>,
    pub(crate) omitted: u64,
}

impl Problems {
    /// Records one problem, or counts it once the list is full.
    pub(crate) fn push(&mut self, problem: Problem) {
        if self.list.len() < MAX_LISTED_PROBLEMS {
            self.list.push(problem);
        } else {
            self.omitted = self.omitted.saturating_add(1);
        }
    }

    /// Records each of `problems`.
    pub(crate) fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for problem in problems {
            self.push(problem);
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: ", self.offset)?;
        match &self.kind {
            ProblemKind::HeadChecksum => write!(f, "head footer checksum does not match its bytes"),
            ProblemKind::HeadField { field, head, tail } => {
                write!(f, "head footer {field} is {head} but the tail footer says {tail}")
            }
            ProblemKind::Geometry { stored, expected } => write!(
                f,
                "footer geometry is {stored:#010x}, the VHD geometry of orig_size is {expected:#010x}"
            ),
            ProblemKind::BitmapCount { set, expected } => {
                write!(f, "bitmap marks {set} blocks present but non_zero_blk_num is {expected}")
            }
            ProblemKind::BitmapPastEnd { block } => {
                write!(f, "bitmap bit {block} is set but the disk has no such block")
            }
            ProblemKind::IndexBlock { entry, found, expected: Some(e) } => write!(
                f,
                "index entry {entry} names block {found} but the bitmap's set bit number {entry} is block {e}"
            ),
            ProblemKind::IndexBlock { entry, found, expected: None } => write!(
                f,
                "index entry {entry} names block {found} but the bitmap has no set bit number {entry}"
            ),
            ProblemKind::IndexPlace { entry, record, len, detail } => {
                write!(f, "index entry {entry} (record at {record}, {len} bytes) {detail}")
            }
            ProblemKind::IndexOrder { entry, record, prev_end } => write!(
                f,
                "index entry {entry} puts its record at {record}, before the previous record ends at {prev_end}"
            ),
            ProblemKind::RecordMagic { block, found } => {
                write!(f, "record of block {block} starts with {found}, expected \"hwstream bg\\x00\"")
            }
            ProblemKind::RecordBlock { block, found } => {
                write!(f, "record of block {block} names block {found}")
            }
            ProblemKind::RecordLength { block, payload_len, index_len, expected } => write!(
                f,
                "record of block {block} has a {payload_len}-byte payload, needing a {expected}-byte \
                 record, but the index says {index_len}"
            ),
            ProblemKind::RecordEnd { block, found } => {
                write!(f, "record of block {block} ends with {found}, expected \"end\\x00\"")
            }
            ProblemKind::RecordUnreadable { block, detail } => {
                write!(f, "record of block {block} cannot be read: {detail}")
            }
            ProblemKind::Payload { block, detail } => {
                write!(f, "payload of block {block} {detail}")
            }
            ProblemKind::NoEntry { block } => {
                write!(f, "block {block} is marked present but has no index entry")
            }
            ProblemKind::BlockDiffers { block } => {
                write!(f, "block {block} differs from the RAW file")
            }
            ProblemKind::SizeMismatch { raw_size, rounded, orig_size } => write!(
                f,
                "the disk compared with is {raw_size} bytes ({rounded} rounded up to 512) but orig_size is {orig_size}"
            ),
        }
    }
}

impl Problem {
    /// The problem as a reader error, for readers that stop at the first.
    pub(crate) fn into_error(self) -> Error {
        match self.kind {
            ProblemKind::BitmapCount { set, expected } => Error::BitmapCount { set, expected },
            ProblemKind::IndexBlock { entry, .. }
            | ProblemKind::IndexPlace { entry, .. }
            | ProblemKind::IndexOrder { entry, .. } => {
                let detail = self.to_string();
                Error::BadIndex {
                    entry,
                    offset: self.offset,
                    detail,
                }
            }
            ProblemKind::NoEntry { block } => Error::BadRecord {
                block,
                offset: self.offset,
                detail: "has no index entry".into(),
            },
            _ => Error::BadRecord {
                block: 0,
                offset: self.offset,
                detail: self.to_string(),
            },
        }
    }
}

/// A present block and the index entry the format pairs it with (the k-th
/// set bit with entry k), if that entry points somewhere sane.
pub(crate) type Pairing = (u32, Option<IndexEntry>);

/// Checks bitmap and index against each other and the data area; returns
/// the block/entry pairing and appends every problem found.
pub(crate) fn check_structure(meta: &Meta, problems: &mut Problems) -> Vec<Pairing> {
    let f = &meta.footer;
    // Only the first non_zero_blk_num set bits can pair with an index
    // entry, and the index they pair with fits in the file; the rest are
    // only counted. A bitmap of all ones claiming 2^32 blocks would
    // otherwise cost 32 bytes of pairing per bit.
    let mut present: Vec<u32> = Vec::with_capacity(meta.entries.len());
    let mut set = 0u64;
    for block in meta.present_blocks() {
        if present.len() < meta.entries.len() {
            present.push(block);
        }
        set += 1;
    }
    if set != u64::from(f.non_zero_blk_num) {
        problems.push(Problem {
            offset: f.bitmap_lba,
            kind: ProblemKind::BitmapCount {
                set,
                expected: f.non_zero_blk_num,
            },
        });
    }
    for block in meta.bits_past_end() {
        problems.push(Problem {
            offset: f.bitmap_lba + block / 8,
            kind: ProblemKind::BitmapPastEnd { block },
        });
    }
    let max_len = max_record_len(f.block_size);
    let r = meta.regions;
    let mut prev_end = r.data_start;
    let mut pairs: Vec<Pairing> = present.iter().map(|&b| (b, None)).collect();
    for (k, e) in meta.entries.iter().enumerate() {
        let entry = k as u32;
        let at = meta.entry_offset(k);
        let expected = present.get(k).copied();
        if expected != Some(e.block) {
            problems.push(Problem {
                offset: at,
                kind: ProblemKind::IndexBlock {
                    entry,
                    found: e.block,
                    expected,
                },
            });
        }
        let place = |detail: String| Problem {
            offset: at,
            kind: ProblemKind::IndexPlace {
                entry,
                record: e.offset,
                len: e.len,
                detail,
            },
        };
        let end = e.offset.saturating_add(u64::from(e.len));
        let misplaced = if e.offset % PAGE != 0 || u64::from(e.len) % PAGE != 0 || e.len == 0 {
            Some("is not whole pages".to_string())
        } else if u64::from(e.len) > max_len {
            Some(format!(
                "is longer than any record of a {}-byte block can be",
                f.block_size
            ))
        } else if e.offset < r.data_start || end > r.data_end {
            Some(format!(
                "lies outside the data area {}..{}",
                r.data_start, r.data_end
            ))
        } else {
            None
        };
        if let Some(d) = misplaced {
            problems.push(place(d));
            continue;
        }
        if e.offset < prev_end {
            problems.push(Problem {
                offset: at,
                kind: ProblemKind::IndexOrder {
                    entry,
                    record: e.offset,
                    prev_end,
                },
            });
        }
        prev_end = prev_end.max(end);
        if let Some(p) = pairs.get_mut(k) {
            p.1 = Some(*e);
        }
    }
    pairs
}

/// Footer-level deviations that do not stop a reader.
pub(crate) fn check_footers(meta: &Meta, problems: &mut Problems) {
    let (h, t) = (&meta.head, &meta.footer);
    if !meta.head_checksum_ok {
        problems.push(Problem {
            offset: 0,
            kind: ProblemKind::HeadChecksum,
        });
    }
    if meta.footer_offset != 0 {
        for (field, head, tail) in [
            ("orig_size", h.orig_size, t.orig_size),
            ("curr_size", h.curr_size, t.curr_size),
            ("block_size", h.block_size.into(), t.block_size.into()),
            ("max_blk_num", h.max_blk_num.into(), t.max_blk_num.into()),
            (
                "compress_method",
                h.compress_method.into(),
                t.compress_method.into(),
            ),
        ] {
            if head != tail {
                problems.push(Problem {
                    offset: 0,
                    kind: ProblemKind::HeadField { field, head, tail },
                });
            }
        }
    }
    let expected = Geometry::for_size(t.orig_size).to_u32();
    if t.geometry != expected {
        problems.push(Problem {
            offset: meta.footer_offset + 56,
            kind: ProblemKind::Geometry {
                stored: t.geometry,
                expected,
            },
        });
    }
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    #[test]
    fn problems_past_the_limit_are_counted_not_kept() {
        let mut problems = Problems::default();
        let one = |n: u64| Problem {
            offset: n,
            kind: ProblemKind::BitmapPastEnd { block: n },
        };
        problems.extend((0..MAX_LISTED_PROBLEMS as u64 + 5).map(one));
        assert_eq!(problems.list.len(), MAX_LISTED_PROBLEMS);
        assert_eq!(problems.omitted, 5);
        assert_eq!(
            problems.list.last().map(|p| p.offset),
            Some(MAX_LISTED_PROBLEMS as u64 - 1)
        );
    }
}
