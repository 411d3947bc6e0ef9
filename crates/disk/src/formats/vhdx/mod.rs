//! Hyper-V VHDX images ([MS-VHDX]), fixed, dynamic and differencing.
//!
//! Read: the file type identifier; the two headers (the valid one with the
//! higher sequence number is current, each checked by its CRC-32C); the
//! first valid copy of the region table; the metadata items (block size,
//! virtual size, sector sizes, parent locator); the BAT, a page at a time
//! through a bounded cache; and, in a differencing disk, the sector
//! bitmaps of partially present blocks and the parent named by the
//! locator's `relative_path` (a plain name in the image's folder).
//!
//! Every field and entry is checked against the file and the format's
//! limits before use: regions and blocks lie in whole MiB inside the file
//! and outside the header section, the log and each other; the BAT region
//! holds every entry the virtual size needs; a BAT entry's state is one the
//! format defines.
//!
//! Refused:
//! - a log with entries to replay (a non-zero LogGuid: the file was not
//!   closed cleanly, and its blocks may be stale until the log is
//!   replayed, which needs a writer);
//! - an unknown region or metadata item marked required (the format says
//!   a reader that does not understand one must not open the file);
//! - a parent locator of a type other than VHDX;
//! - a parent whose DataWriteGuid is not the child's `parent_linkage`:
//!   it was written to after the child was made, so its blocks are no
//!   longer the ones the child's sector bitmaps assume.
//!
//! Blocks that are not present, undefined or unmapped read as zeros
//! (unallocated) in a disk without a parent and from the parent in a
//! differencing disk; zero blocks read as zeros.
//!
//! CRC-32C comes from the `crc32c` crate: small, MIT/Apache-2.0, widely
//! used, with a hardware path, and exactly the Castagnoli checksum the
//! format uses.
//!
//! [MS-VHDX]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-vhdx

mod bat;
mod guid;
mod header;
mod metadata;
mod region;

use std::time::SystemTime;

use self::bat::{Bat, Block, Geometry};
use self::header::HEADER_SECTION;
use self::metadata::ParentLocator;
use crate::backing::{Backing, Chain};
use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::io::ReadAt;
use crate::kind::Kind;

/// The format's name in messages.
const FORMAT: &str = "vhdx";
/// The format's unit of placement.
const MIB: u64 = 1 << 20;

/// Opens a VHDX image.
pub(crate) fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    let header = header::read_current(&src)?;
    let regions = region::read(&src, header.log_range())?;
    let meta = metadata::read(&src, &regions.metadata)?;
    let geometry = Geometry::new(&meta);

    let mut reserved = vec![(0, HEADER_SECTION, "header section".to_string())];
    if let Some((start, end)) = header.log_range() {
        reserved.push((start, end, "log".to_string()));
    }
    for r in &regions.all {
        reserved.push((
            r.offset,
            r.end(),
            format!("{} region", region::name(r.guid)),
        ));
    }
    let bat = Bat::new(src.clone(), regions.bat, geometry, reserved)?;

    let parent = match &meta.parent {
        Some(locator) => Some(open_parent(&src, locator, chain)?),
        None => None,
    };
    let variant = if parent.is_some() {
        "differencing"
    } else if meta.leave_blocks_allocated {
        "fixed"
    } else {
        "dynamic"
    };
    let info = DiskInfo {
        format: FORMAT,
        variant: variant.to_string(),
        path: src.path().to_owned(),
        size: meta.virtual_size,
        backing: parent
            .as_ref()
            .map(Backing::chain_paths)
            .unwrap_or_default(),
    };
    let stamp = Stamp::take(&src)?;
    Ok(Box::new(VhdxDisk {
        info,
        src,
        bat,
        parent,
        stamp,
    }))
}

/// Opens the parent a differencing disk's locator names.
fn open_parent(
    src: &ReadAt,
    locator: &ParentLocator,
    chain: &Chain<'_>,
) -> Result<Backing, DiskError> {
    let name = match locator.relative_path() {
        Some(name) => name,
        // A parent given by the user does not need the image to name it.
        None if chain.options.backing.explicit.is_some() && chain.depth == 0 => String::new(),
        None => {
            return Err(DiskError::Backing {
                path: src.path().to_owned(),
                name: locator
                    .get("absolute_win32_path")
                    .unwrap_or_default()
                    .to_string(),
                problem: "the parent locator has no relative_path entry; give the parent with \
                          --backing-file"
                    .to_string(),
            })
        }
    };
    let parent = chain.open_backing(src.path(), &name, Some(Kind::Vhdx))?;
    check_linkage(src, locator, &name, &parent)?;
    Ok(parent)
}

/// The parent must be the disk the child was made against: its current
/// DataWriteGuid is the child's `parent_linkage` (or `parent_linkage2`).
/// A parent written to since has other data under the child's blocks, and
/// reading through it would mix two different disks.
fn check_linkage(
    src: &ReadAt,
    locator: &ParentLocator,
    name: &str,
    parent: &Backing,
) -> Result<(), DiskError> {
    let refuse = |problem: String| DiskError::Backing {
        path: src.path().to_owned(),
        name: name.to_string(),
        problem,
    };
    let linked: Vec<&str> = ["parent_linkage", "parent_linkage2"]
        .iter()
        .filter_map(|key| locator.get(key))
        .collect();
    let Some(first) = linked.first() else {
        return Err(refuse(
            "the parent locator has no parent_linkage entry, so the parent cannot be checked to \
             be the disk this one was made against"
                .to_string(),
        ));
    };
    let parent_src = ReadAt::open(&parent.disk().info().path)?;
    let actual = header::read_current(&parent_src)?
        .data_write_guid
        .to_string();
    if linked.iter().any(|guid| guid.eq_ignore_ascii_case(&actual)) {
        return Ok(());
    }
    Err(refuse(format!(
        "its DataWriteGuid is {actual} but this disk was made against {first}: the parent was \
         written to after this disk was made"
    )))
}

/// A [`crate::DiskError::Malformed`] about `structure` of this file.
fn malformed(
    src: &ReadAt,
    structure: impl Into<String>,
    offset: u64,
    problem: impl Into<String>,
) -> DiskError {
    DiskError::malformed(src.path(), FORMAT, structure, offset, problem)
}

/// The checksum stored in the 4 bytes at `at` of `buf`, and the CRC-32C of
/// `buf` with that field taken as zero (how VHDX checksums its headers and
/// tables).
fn checksum(buf: &[u8], at: usize) -> (u32, u32) {
    let stored = crate::formats::bytes::le32(buf, at);
    let (head, rest) = buf.split_at(at.min(buf.len()));
    let tail = rest.get(4..).unwrap_or_default();
    let crc = crc32c::crc32c(head);
    let crc = crc32c::crc32c_append(crc, &[0; 4]);
    (stored, crc32c::crc32c_append(crc, tail))
}

/// What tells that the file changed since it was opened.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    headers: [u32; 2],
}

impl Stamp {
    fn take(src: &ReadAt) -> Result<Stamp, DiskError> {
        let meta = src
            .file()
            .metadata()
            .map_err(|e| DiskError::io(src.path(), "reading metadata", e))?;
        Ok(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            headers: header::stamps(src)?,
        })
    }
}

/// An open VHDX image.
#[derive(Debug)]
struct VhdxDisk {
    info: DiskInfo,
    src: ReadAt,
    bat: Bat,
    parent: Option<Backing>,
    stamp: Stamp,
}

impl VhdxDisk {
    fn geometry(&self) -> &Geometry {
        self.bat.geometry()
    }

    /// Fills `buf` with bytes the parent holds at `offset`, or zeros when
    /// there is no parent.
    fn read_below(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        match &self.parent {
            Some(parent) => parent.read_at(&self.info, offset, buf),
            None => {
                buf.fill(0);
                Ok(())
            }
        }
    }

    /// Reads `buf` from the fully present block `block` stored at
    /// `file_offset`, starting `within` bytes into it, and on through the
    /// next blocks while they are fully present and stored right after it
    /// (one read for the run). Returns the bytes read.
    fn read_present(
        &self,
        block: u64,
        file_offset: u64,
        within: u64,
        buf: &mut [u8],
    ) -> Result<usize, DiskError> {
        let g = self.geometry();
        let want = buf.len() as u64;
        let mut len = (g.block_size - within).min(want);
        let mut next = block + 1;
        while len < want && next < g.blocks {
            match self.bat.block(next)? {
                Block::Present(at) if at == file_offset + (next - block) * g.block_size => {
                    len += g.block_size.min(want - len);
                    next += 1;
                }
                _ => break,
            }
        }
        let len = len as usize;
        let piece = buf.get_mut(..len).unwrap_or_default();
        self.src.read_exact_at(file_offset + within, piece)?;
        Ok(len)
    }

    /// The bytes of a `want`-byte read starting `within` bytes into block
    /// `block` that lie in it and in the blocks after it in the same
    /// `state`.
    fn span(&self, block: u64, within: u64, want: usize, state: Block) -> Result<usize, DiskError> {
        let g = self.geometry();
        let want = want as u64;
        let mut len = (g.block_size - within).min(want);
        let mut next = block + 1;
        while len < want && next < g.blocks && self.bat.block(next)? == state {
            len += g.block_size.min(want - len);
            next += 1;
        }
        Ok(len as usize)
    }

    /// Reads `buf` from the partially present block `block` stored at
    /// `file_offset`, starting `within` bytes into it (`buf` ends inside
    /// the block): sectors its bitmap marks come from this file, the
    /// others from the parent.
    fn read_partial(
        &self,
        block: u64,
        file_offset: u64,
        within: u64,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        let g = *self.geometry();
        let bitmap = self.bat.sector_bitmap(block)?;
        let block_start = block * g.block_size;
        let end = within + buf.len() as u64;
        let mut pos = within;
        while pos < end {
            let (present, run_end) = sector_run(bitmap.bits(), pos, end, g.sector_size);
            let piece = buf
                .get_mut((pos - within) as usize..(run_end - within) as usize)
                .unwrap_or_default();
            if present {
                self.src.read_exact_at(file_offset + pos, piece)?;
            } else {
                self.read_below(block_start + pos, piece)?;
            }
            pos = run_end;
        }
        Ok(())
    }

    /// The end of the run of blocks from `block` on that `same` accepts,
    /// within one BAT page, as a disk offset.
    fn run_end(&self, block: u64, same: impl Fn(Block) -> bool) -> Result<u64, DiskError> {
        let g = self.geometry();
        let mut next = block + 1;
        while next < g.blocks && self.bat.same_page(block, next) && same(self.bat.block(next)?) {
            next += 1;
        }
        Ok((next * g.block_size).min(self.info.size))
    }
}

/// Whether the sector holding byte `pos` of a block is marked in `bitmap`,
/// and where the run of sectors marked alike ends (at most `end`).
fn sector_run(bitmap: &[u8], pos: u64, end: u64, sector_size: u64) -> (bool, u64) {
    let bit = |sector: u64| {
        bitmap
            .get((sector / 8) as usize)
            .is_some_and(|byte| byte >> (sector % 8) & 1 == 1)
    };
    let first = pos / sector_size;
    let present = bit(first);
    let mut sector = first + 1;
    while sector * sector_size < end && bit(sector) == present {
        sector += 1;
    }
    (present, (sector * sector_size).min(end))
}

impl Disk for VhdxDisk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        let block_size = self.geometry().block_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let block = pos / block_size;
            let within = pos % block_size;
            let rest = buf.get_mut(done..).unwrap_or_default();
            let in_block = (block_size - within).min(rest.len() as u64) as usize;
            match self.bat.block(block)? {
                Block::Present(at) => {
                    done += self.read_present(block, at, within, rest)?;
                    continue;
                }
                state @ (Block::Zero | Block::Absent) => {
                    // One fill, or one read of the parent, for the run.
                    let len = self.span(block, within, rest.len(), state)?;
                    let piece = rest.get_mut(..len).unwrap_or_default();
                    if state == Block::Zero {
                        piece.fill(0);
                    } else {
                        self.read_below(pos, piece)?;
                    }
                    done += len;
                    continue;
                }
                Block::Partial(at) => self.read_partial(
                    block,
                    at,
                    within,
                    rest.get_mut(..in_block).unwrap_or_default(),
                )?,
            }
            done += in_block;
        }
        Ok(())
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        check_range(&self.info, offset, 1)?;
        let g = *self.geometry();
        let block = offset / g.block_size;
        let block_start = block * g.block_size;
        let block_end = (block_start + g.block_size).min(self.info.size);
        let here = |allocation, end| {
            Ok(Extent {
                start: offset,
                end,
                allocation,
            })
        };
        match (self.bat.block(block)?, &self.parent) {
            (Block::Present(_), _) => here(
                Allocation::Data,
                self.run_end(block, |b| matches!(b, Block::Present(_)))?,
            ),
            (Block::Zero, _) => here(Allocation::Zero, self.run_end(block, |b| b == Block::Zero)?),
            (Block::Absent, None) => here(
                Allocation::Unallocated,
                self.run_end(block, |b| b == Block::Absent)?,
            ),
            (Block::Absent, Some(parent)) => parent.extent_at(offset, block_end),
            (Block::Partial(_), parent) => {
                let bitmap = self.bat.sector_bitmap(block)?;
                let (present, end) = sector_run(
                    bitmap.bits(),
                    offset - block_start,
                    block_end - block_start,
                    g.sector_size,
                );
                let end = block_start + end;
                match (present, parent) {
                    (true, _) => here(Allocation::Data, end),
                    (false, Some(parent)) => parent.extent_at(offset, end),
                    (false, None) => here(Allocation::Unallocated, end),
                }
            }
        }
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        if Stamp::take(&self.src)? != self.stamp {
            return Err(DiskError::Changed {
                path: self.info.path.clone(),
                detail: "its size, modification time or headers changed".to_string(),
            });
        }
        match &self.parent {
            Some(parent) => parent.check_unchanged(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
