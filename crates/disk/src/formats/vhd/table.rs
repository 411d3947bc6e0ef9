//! The block allocation table and the sector bitmaps of dynamic and
//! differencing disks, read on demand through bounded caches.

use std::ops::Range;

use crate::cache::TableCache;
use crate::error::DiskError;
use crate::formats::bytes::be32;
use crate::io::ReadAt;

use super::header::DynamicHeader;
use super::{FORMAT, SECTOR};

/// A BAT entry for a block that is not stored.
const UNALLOCATED: u32 = 0xFFFF_FFFF;

/// BAT entries read at once (16 KiB, 8 GiB of disk with 2 MiB blocks).
const PAGE_ENTRIES: u64 = 4096;

/// Bytes of BAT pages and of sector bitmaps kept in memory.
const BAT_CACHE_BYTES: usize = 16 << 20;
const BITMAP_CACHE_BYTES: usize = 16 << 20;

/// The sectors of a block this disk stores: bit 7 of byte 0 is the block's
/// first sector.
#[derive(Debug)]
pub(super) struct Bitmap {
    bits: Vec<u8>,
    /// Every sector of the block is stored (the common case: QEMU and
    /// Hyper-V set the whole bitmap of a dynamic disk's block).
    pub full: bool,
}

impl Bitmap {
    /// Whether sector `i` of the block is stored.
    pub fn is_set(&self, i: u64) -> bool {
        let byte = usize::try_from(i / 8).ok().and_then(|b| self.bits.get(b));
        byte.is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
    }

    /// The end of the run of sectors from `first` (before `limit`) that are
    /// all set or all clear.
    pub fn run_end(&self, first: u64, limit: u64) -> u64 {
        if self.full {
            return limit;
        }
        let set = self.is_set(first);
        (first + 1..limit)
            .find(|&i| self.is_set(i) != set)
            .unwrap_or(limit)
    }
}

/// The block allocation table and block bitmaps of one image.
#[derive(Debug)]
pub(super) struct BlockTable {
    src: ReadAt,
    table_offset: u64,
    entries: u64,
    /// Bytes of virtual disk per block.
    pub block_size: u64,
    /// Bytes of the sector bitmap before each block's data (sector padded).
    pub bitmap_len: u64,
    /// Where blocks may not be: the footer copy and the header, the BAT.
    metadata: [Range<u64>; 2],
    /// Where the data area ends (before the end footer).
    data_end: u64,
    pages: TableCache<Vec<u32>>,
    bitmaps: TableCache<Bitmap>,
}

impl BlockTable {
    /// The table that `header` describes in `src`.
    pub fn new(src: &ReadAt, header: &DynamicHeader, data_end: u64) -> Self {
        let block_size = u64::from(header.block_size);
        let entries = u64::from(header.max_table_entries);
        let bitmap_len = (block_size / SECTOR).div_ceil(8).next_multiple_of(SECTOR);
        let table_end = header.table_offset + entries * 4;
        BlockTable {
            src: src.clone(),
            table_offset: header.table_offset,
            entries,
            block_size,
            bitmap_len,
            metadata: [
                0..header.at + super::header::HEADER_LEN,
                header.table_offset..table_end.next_multiple_of(SECTOR),
            ],
            data_end,
            pages: TableCache::new(BAT_CACHE_BYTES),
            bitmaps: TableCache::new(BITMAP_CACHE_BYTES),
        }
    }

    /// Where block `index` starts in the file (its bitmap), or `None` when
    /// the block is not stored.
    pub fn block_start(&self, index: u64) -> Result<Option<u64>, DiskError> {
        if index >= self.entries {
            // The header check makes the table cover the disk.
            return Err(self.bad_entry(
                index,
                self.table_offset,
                format!("the table holds {} entries", self.entries),
            ));
        }
        let entry_at = self.table_offset + index * 4;
        let page = index / PAGE_ENTRIES;
        let table = self.pages.get_or_load(page, || {
            let first = page * PAGE_ENTRIES;
            let count = PAGE_ENTRIES.min(self.entries - first);
            let bytes = self
                .src
                .read_vec(self.table_offset + first * 4, count * 4)?;
            let entries: Vec<u32> = (0..count as usize).map(|i| be32(&bytes, i * 4)).collect();
            Ok::<_, DiskError>((entries, bytes.len()))
        })?;
        let entry = usize::try_from(index % PAGE_ENTRIES)
            .ok()
            .and_then(|i| table.get(i))
            .copied()
            .unwrap_or(UNALLOCATED);
        if entry == UNALLOCATED {
            return Ok(None);
        }
        let start = u64::from(entry) * SECTOR;
        let end = start + self.bitmap_len + self.block_size;
        let overlaps = self.metadata.iter().any(|m| start < m.end && m.start < end);
        if end > self.data_end || overlaps {
            return Err(self.bad_entry(
                index,
                entry_at,
                format!(
                    "expected the sector of a {}-byte block (bitmap and data) inside the \
                     {}-byte data area, clear of the header ({:?}) and the table ({:?}); found \
                     sector {entry} (bytes {start}..{end})",
                    self.bitmap_len + self.block_size,
                    self.data_end,
                    self.metadata[0],
                    self.metadata[1]
                ),
            ));
        }
        Ok(Some(start))
    }

    /// The first block whose entry is in the next page of the table after
    /// block `index`'s.
    pub fn page_end(&self, index: u64) -> u64 {
        (index / PAGE_ENTRIES + 1) * PAGE_ENTRIES
    }

    /// The sector bitmap of block `index`, stored at `start`.
    pub fn bitmap(&self, index: u64, start: u64) -> Result<std::sync::Arc<Bitmap>, DiskError> {
        self.bitmaps.get_or_load(index, || {
            let sectors = self.block_size / SECTOR;
            let bits = self.src.read_vec(start, sectors.div_ceil(8))?;
            let full_bytes = (sectors / 8) as usize;
            let tail = sectors % 8;
            let full = bits.iter().take(full_bytes).all(|&b| b == 0xFF)
                && (tail == 0
                    || bits
                        .get(full_bytes)
                        .is_some_and(|&b| b & !(0xFF >> tail) == !(0xFFu8 >> tail)));
            let len = bits.len();
            Ok::<_, DiskError>((Bitmap { bits, full }, len))
        })
    }

    fn bad_entry(&self, index: u64, at: u64, problem: String) -> DiskError {
        DiskError::malformed(
            self.src.path(),
            FORMAT,
            format!("block allocation table entry {index}"),
            at,
            problem,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Bitmap;

    #[test]
    fn bitmap_runs_follow_the_most_significant_bit_first() {
        let map = Bitmap {
            bits: vec![0b1110_0000, 0b0000_0001],
            full: false,
        };
        assert!(map.is_set(0) && map.is_set(2) && !map.is_set(3));
        assert_eq!(map.run_end(0, 16), 3);
        assert_eq!(map.run_end(3, 16), 15);
        assert_eq!(map.run_end(15, 16), 16);
        assert!(!map.is_set(1000));
    }
}
