//! VHD images (Virtual PC, Virtual Server, Hyper-V): fixed, dynamic and
//! differencing disks, per Microsoft's "Virtual Hard Disk Image Format
//! Specification".
//!
//! What is read:
//! - the 512-byte footer at the end of the file (cookie, checksum, version
//!   1.x, disk type 2, 3 or 4); when that copy is missing or damaged, the
//!   copy dynamic and differencing disks keep at the start, as QEMU does;
//! - a fixed disk: the data is the file before the footer, which must hold
//!   exactly the virtual size;
//! - a dynamic disk: the dynamic disk header, the block allocation table
//!   (big-endian sector numbers, `0xFFFFFFFF` for a block not stored) and
//!   each stored block's sector bitmap. Sectors whose bit is clear were
//!   never written and read as zeros, as the specification says (QEMU
//!   ignores the bitmap of a dynamic disk; the two agree on every image
//!   QEMU or Hyper-V writes, which set the whole bitmap of a block);
//! - a differencing disk: the same, with unstored blocks and clear bits
//!   read from the parent. The parent is named by the `W2ru` locator (a
//!   relative path) or else the header's Parent Unicode Name, and followed
//!   only under the backing-file rules (a plain name in the same folder, or
//!   the file the user gives); its footer's unique id must be the one the
//!   child records, since Hyper-V refuses such a chain too.
//!
//! The virtual size is the footer's Current Size, which Hyper-V, Disk2vhd,
//! XenServer and QEMU (creator `qem2`, `force_size`) use. QEMU instead
//! takes the CHS geometry for images of Virtual PC and older QEMU (creator
//! `vpc ` or `qemu`); those images record a Current Size that is at least
//! the geometry's, so imsprep may read a few more sectors at their end
//! than QEMU shows, never fewer.
//!
//! Limits: the current size is a whole number of sectors; dynamic and
//! differencing disks hold at most 2040 GiB (the specification's limit),
//! fixed disks as much as their file; blocks are a power of two from 512
//! bytes to 256 MiB; the BAT, every block and every locator lie inside the
//! file, blocks clear of the header and the BAT. Metadata is read on
//! demand through bounded caches, so memory does not grow with the disk.
//!
//! Not read: the 511-byte footer of some very old Virtual PC images (the
//! footer is then not found); locators other than `W2ru` (`W2ku` and the
//! Mac ones hold absolute paths of another machine: give the parent with
//! `--backing-file`). Blocks overlapping one another are not looked for:
//! they read what the table says.
//!
//! No crate on crates.io reads VHD with bounds checks on every field and
//! positioned, thread-shared reads, so the format is read here.

mod footer;
mod header;
mod table;

use std::time::SystemTime;

use rustix::fs::{seek, SeekFrom};
use rustix::io::Errno;

use crate::backing::{Backing, Chain};
use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::io::ReadAt;
use crate::kind::Kind;

use footer::{DiskType, FOOTER_LEN};
use table::BlockTable;

/// The format's name in messages.
const FORMAT: &str = "vhd";

/// Bytes per sector: always 512 in VHD.
const SECTOR: u64 = 512;

/// Opens a VHD image.
pub(crate) fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    let (footer, end_footer) = footer::locate(&src)?;
    let data_end = if end_footer {
        src.len() - FOOTER_LEN
    } else {
        src.len()
    };
    let path = src.path().to_owned();
    let mut info = DiskInfo {
        format: FORMAT,
        variant: footer.disk_type.name().to_string(),
        path: path.clone(),
        size: footer.current_size,
        backing: Vec::new(),
    };
    let stamp = FileStamp::of(&src)?;
    if footer.disk_type == DiskType::Fixed {
        if data_end != footer.current_size {
            return Err(DiskError::malformed(
                &path,
                FORMAT,
                "footer field current size",
                footer.at + 48,
                format!(
                    "a fixed disk stores its data before the footer: expected the {data_end} \
                     bytes there; found {}",
                    footer.current_size
                ),
            ));
        }
        return Ok(Box::new(VhdDisk {
            info,
            src,
            stamp,
            layout: Layout::Fixed,
        }));
    }
    let header = header::read(&src, &footer, data_end)?;
    let parent = if footer.disk_type == DiskType::Differencing {
        let name = header::parent_name(&src, &header)?;
        let parent = chain.open_backing(&path, &name, Some(Kind::Vhd))?;
        check_parent_id(&parent, &header.parent_unique_id, &path, &name)?;
        info.backing = parent.chain_paths();
        Some(parent)
    } else {
        None
    };
    let table = Box::new(BlockTable::new(&src, &header, data_end));
    Ok(Box::new(VhdDisk {
        info,
        src,
        stamp,
        layout: Layout::Sparse { table, parent },
    }))
}

/// Refuses a parent whose footer's unique id is not the one the child
/// recorded: reading through another disk would give wrong data.
fn check_parent_id(
    parent: &Backing,
    expected: &[u8; 16],
    child: &std::path::Path,
    name: &str,
) -> Result<(), DiskError> {
    let parent_path = parent.disk().info().path.clone();
    let src = ReadAt::open(&parent_path)?;
    let (footer, _) = footer::locate(&src)?;
    if &footer.unique_id == expected {
        return Ok(());
    }
    Err(DiskError::Backing {
        path: child.to_owned(),
        name: name.to_owned(),
        problem: format!(
            "{} has unique id {}, but the child was made from {}: the parent changed or is \
             another disk",
            parent_path.display(),
            hex(&footer.unique_id),
            hex(expected)
        ),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file's length and modification time, to tell a change.
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    fn of(src: &ReadAt) -> Result<Self, DiskError> {
        let meta = src
            .file()
            .metadata()
            .map_err(|e| DiskError::io(src.path(), "reading metadata", e))?;
        Ok(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// How the virtual disk is laid out in the file.
#[derive(Debug)]
enum Layout {
    /// The virtual disk is the file's first bytes.
    Fixed,
    /// Blocks through a table; unstored ones read from the parent, if any.
    Sparse {
        table: Box<BlockTable>,
        parent: Option<Backing>,
    },
}

/// An open VHD image.
#[derive(Debug)]
struct VhdDisk {
    info: DiskInfo,
    src: ReadAt,
    stamp: FileStamp,
    layout: Layout,
}

impl VhdDisk {
    /// Fills `buf` from what lies below this disk at `pos`: the parent of a
    /// differencing disk, zeros otherwise.
    fn read_below(
        &self,
        parent: Option<&Backing>,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        match parent {
            Some(parent) => parent.read_at(&self.info, pos, buf),
            None => {
                buf.fill(0);
                Ok(())
            }
        }
    }

    /// The allocation below this disk from `pos` to at most `end`.
    fn extent_below(
        &self,
        parent: Option<&Backing>,
        pos: u64,
        end: u64,
    ) -> Result<Extent, DiskError> {
        match parent {
            Some(parent) => parent.extent_at(pos, end),
            None => Ok(Extent {
                start: pos,
                end,
                allocation: Allocation::Unallocated,
            }),
        }
    }

    /// Reads `buf` at `offset` of a dynamic or differencing disk, block by
    /// block and, inside a partly written block, run by run of its bitmap.
    fn read_sparse(
        &self,
        table: &BlockTable,
        parent: Option<&Backing>,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        let block_size = table.block_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let index = pos / block_size;
            let within = pos % block_size;
            let take = (block_size - within).min((buf.len() - done) as u64) as usize;
            let chunk = &mut buf[done..done + take];
            match table.block_start(index)? {
                None => self.read_below(parent, pos, chunk)?,
                Some(start) => {
                    let bitmap = table.bitmap(index, start)?;
                    let data = start + table.bitmap_len;
                    let mut off = 0usize;
                    while off < take {
                        let at = within + off as u64;
                        let first = at / SECTOR;
                        let limit = (within + take as u64).div_ceil(SECTOR);
                        let run_end = (bitmap.run_end(first, limit) * SECTOR - within)
                            .min(take as u64) as usize;
                        let piece = &mut chunk[off..run_end];
                        if bitmap.is_set(first) || bitmap.full {
                            self.src.read_exact_at(data + at, piece)?;
                        } else {
                            self.read_below(parent, pos + off as u64, piece)?;
                        }
                        off = run_end;
                    }
                }
            }
            done += take;
        }
        Ok(())
    }

    fn extent_sparse(
        &self,
        table: &BlockTable,
        parent: Option<&Backing>,
        offset: u64,
    ) -> Result<Extent, DiskError> {
        let block_size = table.block_size;
        let index = offset / block_size;
        let block_end = ((index + 1) * block_size).min(self.info.size);
        let Some(start) = table.block_start(index)? else {
            if parent.is_some() {
                return self.extent_below(parent, offset, block_end);
            }
            // Extend over the following unstored blocks whose entries were
            // read with this one.
            let last = self
                .info
                .size
                .div_ceil(block_size)
                .min(table.page_end(index));
            let mut next = index + 1;
            while next < last && table.block_start(next)?.is_none() {
                next += 1;
            }
            let end = (next * block_size).min(self.info.size);
            return self.extent_below(None, offset, end);
        };
        let bitmap = table.bitmap(index, start)?;
        let block_first = index * block_size;
        let first = (offset - block_first) / SECTOR;
        let limit = (block_end - block_first).div_ceil(SECTOR);
        let run_end = (block_first + bitmap.run_end(first, limit) * SECTOR).min(block_end);
        if bitmap.full || bitmap.is_set(first) {
            Ok(Extent {
                start: offset,
                end: run_end,
                allocation: Allocation::Data,
            })
        } else {
            self.extent_below(parent, offset, run_end)
        }
    }

    /// The run of a fixed disk at `offset`: data, or a hole of the host
    /// file where its file system reports them.
    fn extent_fixed(&self, offset: u64) -> Extent {
        let size = self.info.size;
        let base = self.src.start();
        let run = |end: u64, allocation| Extent {
            start: offset,
            end: end.clamp(offset + 1, size),
            allocation,
        };
        let Ok(pos) = i64::try_from(base + offset) else {
            return run(size, Allocation::Data);
        };
        match seek(&**self.src.file(), SeekFrom::Data(pos)) {
            Ok(data) if data == base + offset => {
                match seek(&**self.src.file(), SeekFrom::Hole(pos)) {
                    Ok(hole) if hole > data => run(hole - base, Allocation::Data),
                    _ => run(size, Allocation::Data),
                }
            }
            Ok(data) if data > base + offset => run(data - base, Allocation::Unallocated),
            // No data at or after `offset`: the rest is a hole.
            Err(Errno::NXIO) => run(size, Allocation::Unallocated),
            // No SEEK_DATA here, or an answer that makes no sense.
            _ => run(size, Allocation::Data),
        }
    }
}

impl Disk for VhdDisk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        match &self.layout {
            Layout::Fixed => self.src.read_exact_at(offset, buf),
            Layout::Sparse { table, parent } => {
                self.read_sparse(table, parent.as_ref(), offset, buf)
            }
        }
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        if offset >= self.info.size {
            return Err(DiskError::OutOfRange {
                path: self.info.path.clone(),
                offset,
                len: 1,
                size: self.info.size,
            });
        }
        match &self.layout {
            Layout::Fixed => Ok(self.extent_fixed(offset)),
            Layout::Sparse { table, parent } => self.extent_sparse(table, parent.as_ref(), offset),
        }
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        let now = FileStamp::of(&self.src)?;
        if now != self.stamp {
            return Err(DiskError::Changed {
                path: self.info.path.clone(),
                detail: format!(
                    "its length or modification time moved (length {} then {})",
                    self.stamp.len, now.len
                ),
            });
        }
        if let Layout::Sparse {
            parent: Some(parent),
            ..
        } = &self.layout
        {
            parent.check_unchanged()?;
        }
        Ok(())
    }
}
