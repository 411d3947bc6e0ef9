//! The block allocation table (BAT): one 64-bit entry per payload block,
//! with the entry of a chunk's sector bitmap block after every
//! `chunk_ratio` payload entries. An entry holds the block's state in its
//! low 3 bits and its file offset in MiB in its upper 44 bits.
//!
//! The BAT of a 64 TiB disk is 512 MiB, so it is read in pages through a
//! bounded [`TableCache`]; every entry of a page is checked when the page
//! is read (a small BAT is read and checked whole when the disk opens).

use std::sync::Arc;

use super::header::HEADER_SECTION;
use super::metadata::Metadata;
use super::region::Region;
use super::{malformed, MIB};
use crate::cache::TableCache;
use crate::error::DiskError;
use crate::formats::bytes::le64;
use crate::io::ReadAt;

/// Entries in one cached page of the BAT (128 KiB of entries; with 1 MiB
/// blocks a page maps 16 GiB of the disk).
const PAGE_ENTRIES: u64 = 16 << 10;
/// A BAT up to this size is read and checked whole at open.
const READ_AT_OPEN: u64 = 8 << 20;
/// Bytes of BAT pages kept in memory.
const PAGE_CACHE_BYTES: usize = 24 << 20;
/// Bytes of sector bitmap blocks kept in memory (eight 1 MiB blocks, each
/// covering at least 4 GiB of the disk).
const BITMAP_CACHE_BYTES: usize = 8 << 20;
/// Logical sectors one sector bitmap block describes (one bit each).
const SECTORS_PER_BITMAP: u64 = 1 << 23;
/// Mask of the file offset bits of an entry.
const OFFSET_MASK: u64 = !(MIB - 1);

/// Payload block states.
const NOT_PRESENT: u64 = 0;
const UNDEFINED: u64 = 1;
const ZERO: u64 = 2;
const UNMAPPED: u64 = 3;
const FULLY_PRESENT: u64 = 6;
const PARTIALLY_PRESENT: u64 = 7;
/// The sector bitmap block state that means present.
const BITMAP_PRESENT: u64 = 6;

/// What the BAT says about one payload block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    /// Not stored in this file (not present, undefined or unmapped): zeros,
    /// or the parent's bytes in a differencing disk.
    Absent,
    /// Recorded as zeros.
    Zero,
    /// Stored whole at this file offset.
    Present(u64),
    /// Stored at this file offset for the sectors its sector bitmap marks;
    /// the others come from the parent (differencing disks only).
    Partial(u64),
}

/// The bits of one payload block in its chunk's sector bitmap block.
#[derive(Debug, Clone)]
pub(super) struct BlockBitmap {
    chunk_bits: Arc<Vec<u8>>,
    start: usize,
    len: usize,
}

impl BlockBitmap {
    /// One bit per sector of the block, bit 0 of byte 0 first (empty if the
    /// bitmap block were short, which reads as no sector present).
    pub fn bits(&self) -> &[u8] {
        self.chunk_bits
            .get(self.start..self.start + self.len)
            .unwrap_or_default()
    }
}

/// The sizes that place a block in the BAT and in the disk.
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    /// Bytes of one payload block.
    pub block_size: u64,
    /// Bytes of one logical sector.
    pub sector_size: u64,
    /// Payload blocks per sector bitmap block.
    pub chunk_ratio: u64,
    /// Payload blocks the virtual size needs.
    pub blocks: u64,
    /// BAT entries the disk needs.
    pub entries: u64,
    /// Size of the virtual disk.
    pub virtual_size: u64,
    /// Whether the disk has a parent.
    pub differencing: bool,
}

impl Geometry {
    /// The geometry of checked metadata (block size a power of two from
    /// 1 MiB to 256 MiB, sector 512 or 4096, size at most 64 TiB, so no
    /// arithmetic here can overflow or divide by zero).
    pub fn new(meta: &Metadata) -> Geometry {
        let block_size = u64::from(meta.block_size).max(1);
        let sector_size = u64::from(meta.logical_sector_size).max(1);
        let chunk_ratio = (SECTORS_PER_BITMAP * sector_size / block_size).max(1);
        let blocks = meta.virtual_size.div_ceil(block_size);
        let differencing = meta.parent.is_some();
        let entries = if differencing {
            blocks.div_ceil(chunk_ratio) * (chunk_ratio + 1)
        } else if blocks == 0 {
            0
        } else {
            blocks + (blocks - 1) / chunk_ratio
        };
        Geometry {
            block_size,
            sector_size,
            chunk_ratio,
            blocks,
            entries,
            virtual_size: meta.virtual_size,
            differencing,
        }
    }

    /// The BAT entry of payload block `block`.
    fn payload_entry(&self, block: u64) -> u64 {
        block + block / self.chunk_ratio
    }

    /// The BAT entry of the sector bitmap block of chunk `chunk`.
    fn bitmap_entry(&self, chunk: u64) -> u64 {
        chunk * (self.chunk_ratio + 1) + self.chunk_ratio
    }

    /// Bytes of payload block `block` inside the virtual disk (the last
    /// one may be cut short by the virtual size, and some writers store
    /// only that much of it).
    fn block_len(&self, block: u64) -> u64 {
        self.virtual_size
            .saturating_sub(block.saturating_mul(self.block_size))
            .min(self.block_size)
    }
}

/// The BAT of one file, read a page at a time.
#[derive(Debug)]
pub(super) struct Bat {
    src: ReadAt,
    region: Region,
    geometry: Geometry,
    /// Ranges of the file no block may overlap, with their names.
    reserved: Vec<(u64, u64, String)>,
    pages: TableCache<Vec<u64>>,
    bitmaps: TableCache<Vec<u8>>,
}

impl Bat {
    /// The BAT in `region`, after checking that the region holds every
    /// entry the disk needs; `reserved` are the file's ranges that are not
    /// block storage (header section, log, regions).
    pub fn new(
        src: ReadAt,
        region: Region,
        geometry: Geometry,
        reserved: Vec<(u64, u64, String)>,
    ) -> Result<Bat, DiskError> {
        let needed = geometry.entries * 8;
        if needed > region.length {
            return Err(malformed(
                &src,
                "region table entry (BAT region) field Length",
                region.entry_at + 24,
                format!(
                    "the disk needs {} BAT entries ({needed} bytes) but the region holds {} bytes",
                    geometry.entries, region.length
                ),
            ));
        }
        let bat = Bat {
            src,
            region,
            geometry,
            reserved,
            pages: TableCache::new(PAGE_CACHE_BYTES),
            bitmaps: TableCache::new(BITMAP_CACHE_BYTES),
        };
        if needed <= READ_AT_OPEN {
            for page in 0..geometry.entries.div_ceil(PAGE_ENTRIES) {
                bat.page(page)?;
            }
        }
        Ok(bat)
    }

    /// The geometry the BAT was read with.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// What the BAT says about payload block `block` (`block` below the
    /// number of blocks).
    pub fn block(&self, block: u64) -> Result<Block, DiskError> {
        let entry = self.entry(self.geometry.payload_entry(block))?;
        let offset = entry & OFFSET_MASK;
        Ok(match entry & 7 {
            ZERO => Block::Zero,
            FULLY_PRESENT => Block::Present(offset),
            PARTIALLY_PRESENT => Block::Partial(offset),
            _ => Block::Absent,
        })
    }

    /// Whether blocks `a` and `b` have their entries in one page, so
    /// walking from one to the other costs no table read.
    pub fn same_page(&self, a: u64, b: u64) -> bool {
        let g = &self.geometry;
        g.payload_entry(a) / PAGE_ENTRIES == g.payload_entry(b) / PAGE_ENTRIES
    }

    /// The part of the sector bitmap describing payload block `block` (a
    /// partially present block): one bit per sector, bit 0 of byte 0 first,
    /// set where the sector is stored in this file. The chunk's whole
    /// 1 MiB sector bitmap block is read and cached, since the blocks
    /// around this one need it too.
    pub fn sector_bitmap(&self, block: u64) -> Result<BlockBitmap, DiskError> {
        let g = self.geometry;
        let chunk = block / g.chunk_ratio;
        let index = g.bitmap_entry(chunk);
        let entry = self.entry(index)?;
        if entry & 7 != BITMAP_PRESENT {
            return Err(malformed(
                &self.src,
                format!("BAT entry {index} (sector bitmap block of chunk {chunk})"),
                self.entry_at(index),
                format!(
                    "payload block {block} is partially present, so its sector bitmap block must \
                     be present (state 6); found state {}",
                    entry & 7
                ),
            ));
        }
        let chunk_bits = self.bitmaps.get_or_load(chunk, || {
            let bits = self.src.read_vec(entry & OFFSET_MASK, MIB)?;
            Ok::<_, DiskError>((bits, MIB as usize))
        })?;
        let len = (g.block_size / g.sector_size / 8) as usize;
        Ok(BlockBitmap {
            start: (block % g.chunk_ratio) as usize * len,
            len,
            chunk_bits,
        })
    }

    /// BAT entry `index` (checked when its page was read).
    fn entry(&self, index: u64) -> Result<u64, DiskError> {
        let page = self.page(index / PAGE_ENTRIES)?;
        let within = (index % PAGE_ENTRIES) as usize;
        page.get(within).copied().ok_or_else(|| {
            malformed(
                &self.src,
                format!("BAT entry {index}"),
                self.entry_at(index),
                format!("the BAT holds {} entries", self.geometry.entries),
            )
        })
    }

    /// Where entry `index` lies in the file.
    fn entry_at(&self, index: u64) -> u64 {
        self.region.offset + index * 8
    }

    /// Page `page` of the BAT, read and checked on first use.
    fn page(&self, page: u64) -> Result<Arc<Vec<u64>>, DiskError> {
        self.pages.get_or_load(page, || {
            let first = page * PAGE_ENTRIES;
            let count = self
                .geometry
                .entries
                .saturating_sub(first)
                .min(PAGE_ENTRIES);
            let raw = self.src.read_vec(self.entry_at(first), count * 8)?;
            let mut entries = Vec::with_capacity(count as usize);
            for (i, bytes) in (first..).zip(raw.chunks_exact(8)) {
                let entry = le64(bytes, 0);
                self.check_entry(i, entry)?;
                entries.push(entry);
            }
            Ok((entries, raw.len()))
        })
    }

    /// Checks entry `index`: a state the format defines for its kind of
    /// entry, and, where it stores data, a block inside the file and
    /// outside the header section, the log and the regions.
    fn check_entry(&self, index: u64, entry: u64) -> Result<(), DiskError> {
        let g = &self.geometry;
        let state = entry & 7;
        let offset = entry & OFFSET_MASK;
        let group = g.chunk_ratio + 1;
        if (index + 1) % group == 0 {
            // Sector bitmap entries matter only with a parent; fixed and
            // dynamic disks leave them unused.
            let chunk = index / group;
            let what = format!("BAT entry {index} (sector bitmap block of chunk {chunk})");
            return match state {
                _ if !g.differencing => Ok(()),
                NOT_PRESENT => Ok(()),
                BITMAP_PRESENT => self.check_place(&what, index, offset, MIB),
                _ => Err(malformed(
                    &self.src,
                    what,
                    self.entry_at(index),
                    format!("expected the state 0 (not present) or 6 (present); found {state}"),
                )),
            };
        }
        let block = index - index / group;
        if block >= g.blocks {
            // Padding of a differencing disk's last chunk: never read.
            return Ok(());
        }
        let what = format!("BAT entry {index} (payload block {block})");
        match state {
            NOT_PRESENT | UNDEFINED | ZERO | UNMAPPED => Ok(()),
            FULLY_PRESENT => self.check_place(&what, index, offset, g.block_len(block)),
            PARTIALLY_PRESENT if g.differencing => {
                self.check_place(&what, index, offset, g.block_len(block))
            }
            PARTIALLY_PRESENT => Err(malformed(
                &self.src,
                what,
                self.entry_at(index),
                "the state 7 (partially present) is only valid in a differencing disk, and this \
                 one has no parent",
            )),
            _ => Err(malformed(
                &self.src,
                what,
                self.entry_at(index),
                format!("expected a payload block state (0, 1, 2, 3, 6 or 7); found {state}"),
            )),
        }
    }

    /// `len` bytes at `offset` lie inside the file and in no reserved range.
    fn check_place(&self, what: &str, index: u64, offset: u64, len: u64) -> Result<(), DiskError> {
        let fail = |problem: String| malformed(&self.src, what, self.entry_at(index), problem);
        if offset < HEADER_SECTION {
            return Err(fail(format!(
                "its file offset {offset} lies inside the {HEADER_SECTION}-byte header section"
            )));
        }
        let end = offset.saturating_add(len);
        if end > self.src.len() {
            return Err(fail(format!(
                "its {len} bytes at file offset {offset} end past the end of the {}-byte file",
                self.src.len()
            )));
        }
        if let Some((_, _, name)) = self
            .reserved
            .iter()
            .find(|(start, stop, _)| offset < *stop && *start < end)
        {
            return Err(fail(format!(
                "its {len} bytes at file offset {offset} overlap the {name}"
            )));
        }
        Ok(())
    }
}
