//! VirtualBox VDI images, dynamic and static.
//!
//! What is read: the version 1 header after the 64-byte text pre-header
//! (signature `0xBEDA107F`, image type 1 dynamic or 2 static, the offsets
//! of the block map and of the data, the disk size, the block size, the
//! block counts) and the block map: one little-endian `u32` per block of
//! the virtual disk, the index of its block in the data area,
//! `0xFFFFFFFF` for a block never written (unallocated) and `0xFFFFFFFE`
//! for one discarded to zeros ([`Allocation::Zero`]). Static images store
//! every block, so the same map reads both.
//!
//! Checked against the file: the block map and the data area lie inside
//! it and in that order, the disk fits in the map's blocks, every stored
//! block's index is below the header's count of allocated blocks, which
//! all lie inside the file. The virtual size is the recorded disk size in
//! whole sectors, as QEMU reads it.
//!
//! Refused: differencing and undo images (and any image naming a parent):
//! their parent is found through VirtualBox's media registry, not the
//! file, so they are refused with the command that merges a chain into one
//! image. Also refused: headers older than version 1 and blocks with extra
//! data, which VirtualBox has not written for years.
//!
//! The format is small and no crate on crates.io reads it with bounds
//! checks and shared positioned reads, so it is read here.

mod header;

use std::sync::Arc;
use std::time::SystemTime;

use crate::backing::Chain;
use crate::cache::TableCache;
use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::formats::bytes::le32;
use crate::io::ReadAt;

use header::{Header, ImageType};

/// The format's name in messages.
const FORMAT: &str = "vdi";

/// Bytes per sector.
const SECTOR: u64 = 512;

/// Block map entry of a block never written.
const UNALLOCATED: u32 = 0xFFFF_FFFF;
/// Block map entry of a block discarded to zeros.
const ZERO: u32 = 0xFFFF_FFFE;

/// Map entries read at once (16 KiB, 4 GiB of disk with 1 MiB blocks).
const PAGE_ENTRIES: u64 = 4096;
/// Bytes of block map kept in memory.
const MAP_CACHE_BYTES: usize = 16 << 20;

/// Opens a VDI image. VDI has no backing files this reader follows.
pub(crate) fn open(src: ReadAt, _chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    let header = header::read(&src)?;
    let meta = src
        .file()
        .metadata()
        .map_err(|e| DiskError::io(src.path(), "reading metadata", e))?;
    let info = DiskInfo {
        format: FORMAT,
        variant: match header.image_type {
            ImageType::Dynamic => "dynamic",
            ImageType::Static => "static",
        }
        .to_string(),
        path: src.path().to_owned(),
        size: header.disk_size,
        backing: Vec::new(),
    };
    Ok(Box::new(VdiDisk {
        info,
        src,
        header,
        opened: (meta.len(), meta.modified().ok()),
        map: TableCache::new(MAP_CACHE_BYTES),
    }))
}

/// What the block map says of one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// Stored at this index of the data area.
    Stored(u64),
    Zero,
    Unallocated,
}

/// An open VDI image.
#[derive(Debug)]
struct VdiDisk {
    info: DiskInfo,
    src: ReadAt,
    header: Header,
    /// Length and modification time of the file when opened.
    opened: (u64, Option<SystemTime>),
    /// Pages of the block map, keyed by page number.
    map: TableCache<Vec<u32>>,
}

impl VdiDisk {
    /// The map entry of block `index` (below the header's block count).
    fn block(&self, index: u64) -> Result<Block, DiskError> {
        let page = self.map_page(index / PAGE_ENTRIES)?;
        self.entry(&page, index)
    }

    /// Page `page` of the block map: the entries of blocks
    /// `page * PAGE_ENTRIES ..`, fewer on the last page.
    fn map_page(&self, page: u64) -> Result<Arc<Vec<u32>>, DiskError> {
        let h = &self.header;
        self.map.get_or_load(page, || {
            let first = page * PAGE_ENTRIES;
            let count = PAGE_ENTRIES.min(h.blocks.saturating_sub(first));
            let bytes = self.src.read_vec(h.map_offset + first * 4, count * 4)?;
            let entries: Vec<u32> = (0..count as usize).map(|i| le32(&bytes, i * 4)).collect();
            Ok::<_, DiskError>((entries, bytes.len()))
        })
    }

    /// What the entry of block `index` in its map page `page` says.
    fn entry(&self, page: &[u32], index: u64) -> Result<Block, DiskError> {
        let h = &self.header;
        let entry = usize::try_from(index % PAGE_ENTRIES)
            .ok()
            .and_then(|i| page.get(i))
            .copied();
        match entry {
            Some(UNALLOCATED) => Ok(Block::Unallocated),
            Some(ZERO) => Ok(Block::Zero),
            Some(stored) if u64::from(stored) < h.blocks_allocated => {
                Ok(Block::Stored(u64::from(stored)))
            }
            Some(stored) => Err(DiskError::malformed(
                self.src.path(),
                FORMAT,
                format!("block map entry {index}"),
                h.map_offset + index * 4,
                format!(
                    "expected the index of one of the {} allocated blocks, or 0xFFFFFFFF or \
                     0xFFFFFFFE; found {stored}",
                    h.blocks_allocated
                ),
            )),
            None => Err(DiskError::malformed(
                self.src.path(),
                FORMAT,
                "block map",
                h.map_offset,
                format!("block {index} is past its {} entries", h.blocks),
            )),
        }
    }

    /// Where stored block `stored` starts in the file.
    fn block_at(&self, stored: u64) -> u64 {
        self.header.data_offset + stored * self.header.block_size
    }
}

impl Disk for VdiDisk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        let block_size = self.header.block_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let index = pos / block_size;
            let within = pos % block_size;
            let left = (buf.len() - done) as u64;
            let take = (block_size - within).min(left);
            match self.block(index)? {
                Block::Stored(stored) => {
                    // Blocks stored one after another read in one go.
                    let mut run = take;
                    let mut next = index + 1;
                    while run < left && self.block(next)? == Block::Stored(stored + next - index) {
                        run += block_size.min(left - run);
                        next += 1;
                    }
                    let piece = &mut buf[done..done + run as usize];
                    self.src
                        .read_exact_at(self.block_at(stored) + within, piece)?;
                    done += run as usize;
                }
                Block::Zero | Block::Unallocated => {
                    buf[done..done + take as usize].fill(0);
                    done += take as usize;
                }
            }
        }
        Ok(())
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        let size = self.info.size;
        if offset >= size {
            return Err(DiskError::OutOfRange {
                path: self.info.path.clone(),
                offset,
                len: 1,
                size,
            });
        }
        let block_size = self.header.block_size;
        let index = offset / block_size;
        let allocation = |b: Block| match b {
            Block::Stored(_) => Allocation::Data,
            Block::Zero => Allocation::Zero,
            Block::Unallocated => Allocation::Unallocated,
        };
        // Extend over the following blocks of the same kind in the same
        // page of the map (one table read).
        let page = self.map_page(index / PAGE_ENTRIES)?;
        let kind = allocation(self.entry(&page, index)?);
        let page_end = (index / PAGE_ENTRIES + 1) * PAGE_ENTRIES;
        let last = size.div_ceil(block_size).min(page_end);
        let mut next = index + 1;
        while next < last && allocation(self.entry(&page, next)?) == kind {
            next += 1;
        }
        Ok(Extent {
            start: offset,
            end: (next * block_size).min(size),
            allocation: kind,
        })
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        let meta = self
            .src
            .file()
            .metadata()
            .map_err(|e| DiskError::io(&self.info.path, "reading metadata", e))?;
        if (meta.len(), meta.modified().ok()) != self.opened {
            return Err(DiskError::Changed {
                path: self.info.path.clone(),
                detail: format!(
                    "its length or modification time moved (length {} then {})",
                    self.opened.0,
                    meta.len()
                ),
            });
        }
        Ok(())
    }
}
