//! Inodes: finding one through its group descriptor, checking it, and
//! the fields the reader uses.

use crate::bytes::{le16, le32, slice};
use crate::error::FsError;
use crate::filesystem::{FileKind, Timestamp};

use super::checksum::crc32c;
use super::{Ext4, FS};

/// The inode flag: the file's blocks are mapped by an extent tree.
pub const FLAG_EXTENTS: u32 = 0x8_0000;
/// The inode flag: the file's data lives inside the inode.
pub const FLAG_INLINE_DATA: u32 = 0x1000_0000;
/// The inode flag: the file is encrypted (fscrypt).
pub const FLAG_ENCRYPT: u32 = 0x800;
/// The root directory's inode number.
pub const ROOT: u64 = 2;

/// One inode, its fields decoded and its raw bytes kept for in-inode
/// extended attributes.
#[derive(Debug, Clone)]
pub struct Inode {
    pub number: u64,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: Timestamp,
    pub links: u16,
    pub flags: u32,
    pub generation: u32,
    /// `i_block`: extent root, block map, fast symlink target or inline
    /// data.
    pub block: [u8; 60],
    pub raw: Vec<u8>,
}

impl Inode {
    /// The kind from the mode's type bits.
    pub fn kind(&self) -> FileKind {
        kind_of_mode(self.mode)
    }

    /// The extra inode size (bytes used past the first 128), when the
    /// inode has room for it.
    pub fn extra_isize(&self) -> usize {
        if self.raw.len() > 128 {
            usize::from(le16(&self.raw, 0x80))
        } else {
            0
        }
    }
}

/// The kind of an inode from its mode's type bits.
pub fn kind_of_mode(mode: u16) -> FileKind {
    match mode >> 12 {
        0x1 => FileKind::Fifo,
        0x2 => FileKind::CharDevice,
        0x4 => FileKind::Dir,
        0x6 => FileKind::BlockDevice,
        0x8 => FileKind::File,
        0xA => FileKind::Symlink,
        0xC => FileKind::Socket,
        _ => FileKind::Other,
    }
}

impl Ext4 {
    /// Reads inode `number`, checking it lies in the inode tables and, with
    /// metadata_csum, its checksum.
    pub(super) fn inode(&self, number: u64) -> Result<Inode, FsError> {
        let sb = &self.sb;
        let name = self.volume.name();
        let structure = || format!("inode {number}");
        if number == 0 || number > sb.inodes_count {
            return Err(FsError::malformed(
                name,
                FS,
                structure(),
                format!("expected an inode number from 1 to {}", sb.inodes_count),
            ));
        }
        let group = (number - 1) / sb.inodes_per_group;
        let index = (number - 1) % sb.inodes_per_group;
        if group >= sb.groups {
            return Err(FsError::malformed(
                name,
                FS,
                structure(),
                format!(
                    "lies in block group {group}; the file system has {}",
                    sb.groups
                ),
            ));
        }
        let table = self.inode_table(group)?;
        let table_blocks = (sb.inodes_per_group * sb.inode_size).div_ceil(sb.block_size);
        if table < sb.first_data_block
            || table
                .checked_add(table_blocks)
                .is_none_or(|end| end > sb.blocks_count)
        {
            return Err(FsError::malformed(
                name,
                FS,
                format!("block group descriptor {group}"),
                format!(
                    "inode table at block {table} ({table_blocks} blocks) lies outside the {} blocks of the file system",
                    sb.blocks_count
                ),
            ));
        }
        // In range: table + table_blocks <= blocks_count, so no overflow.
        let offset = table * sb.block_size + index * sb.inode_size;
        let mut raw = vec![0u8; sb.inode_size as usize];
        self.volume.read_at(offset, &mut raw)?;
        let generation = le32(&raw, 0x64);
        let extra = if raw.len() > 128 {
            usize::from(le16(&raw, 0x80))
        } else {
            0
        };
        if raw.len() > 128 && 128 + extra > raw.len() {
            return Err(FsError::malformed(
                name,
                FS,
                structure(),
                format!(
                    "i_extra_isize {extra} reaches past the {}-byte inode",
                    raw.len()
                ),
            ));
        }
        if let Some(seed) = sb.csum_seed {
            // Uninitialised (never used) inodes have no checksum; an
            // all-zero inode is one.
            if raw.iter().any(|&b| b != 0) {
                self.check_inode_csum(seed, number, generation, extra, &raw)?;
            }
        }
        let mut block = [0u8; 60];
        block.copy_from_slice(slice(&raw, 0x28, 60).get(..60).unwrap_or(&[0; 60]));
        let uid = u32::from(le16(&raw, 0x2)) | (u32::from(le16(&raw, 0x78)) << 16);
        let gid = u32::from(le16(&raw, 0x18)) | (u32::from(le16(&raw, 0x7A)) << 16);
        let size = u64::from(le32(&raw, 0x4)) | (u64::from(le32(&raw, 0x6C)) << 32);
        let mut mtime = Timestamp {
            secs: i64::from(le32(&raw, 0x10) as i32),
            nanos: 0,
        };
        if 128 + extra >= 0x8C {
            let extra_time = le32(&raw, 0x88);
            mtime.secs += i64::from(extra_time & 3) << 32;
            let nanos = extra_time >> 2;
            mtime.nanos = if nanos < 1_000_000_000 { nanos } else { 0 };
        }
        Ok(Inode {
            number,
            mode: le16(&raw, 0x0),
            uid,
            gid,
            size,
            mtime,
            links: le16(&raw, 0x1A),
            flags: le32(&raw, 0x20),
            generation,
            block,
            raw,
        })
    }

    /// The first block of the inode table of `group`, from its
    /// descriptor.
    fn inode_table(&self, group: u64) -> Result<u64, FsError> {
        let sb = &self.sb;
        let gdt_start = (sb.first_data_block + 1) * sb.block_size;
        let offset = group
            .checked_mul(sb.desc_size)
            .and_then(|o| o.checked_add(gdt_start))
            .ok_or_else(|| {
                FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!("block group descriptor {group}"),
                    "offset overflows",
                )
            })?;
        let mut desc = vec![0u8; sb.desc_size as usize];
        self.volume.read_at(offset, &mut desc)?;
        let lo = u64::from(le32(&desc, 0x8));
        let hi = if sb.desc_size >= 64 {
            u64::from(le32(&desc, 0x28))
        } else {
            0
        };
        Ok((hi << 32) | lo)
    }

    fn check_inode_csum(
        &self,
        seed: u32,
        number: u64,
        generation: u32,
        extra: usize,
        raw: &[u8],
    ) -> Result<(), FsError> {
        let mut copy = raw.to_vec();
        let stored_lo = le16(raw, 0x7C);
        let has_hi = raw.len() > 128 && extra >= 4;
        let stored_hi = if has_hi { le16(raw, 0x82) } else { 0 };
        for off in [0x7Cusize, 0x7D] {
            if let Some(b) = copy.get_mut(off) {
                *b = 0;
            }
        }
        if has_hi {
            for off in [0x82usize, 0x83] {
                if let Some(b) = copy.get_mut(off) {
                    *b = 0;
                }
            }
        }
        let mut crc = crc32c(seed, &(number as u32).to_le_bytes());
        crc = crc32c(crc, &generation.to_le_bytes());
        crc = crc32c(crc, &copy);
        let (computed, stored) = if has_hi {
            (crc, u32::from(stored_lo) | (u32::from(stored_hi) << 16))
        } else {
            (crc & 0xFFFF, u32::from(stored_lo))
        };
        if computed != stored {
            return Err(FsError::malformed(
                self.volume.name(),
                FS,
                format!("inode {number}"),
                format!("checksum is {stored:#x}; the inode's crc32c is {computed:#x}"),
            ));
        }
        Ok(())
    }

    /// The seed of checksums of blocks owned by `inode` (extent tree
    /// blocks).
    pub(super) fn inode_seed(&self, inode: &Inode) -> Option<u32> {
        self.sb.csum_seed.map(|seed| {
            let crc = crc32c(seed, &(inode.number as u32).to_le_bytes());
            crc32c(crc, &inode.generation.to_le_bytes())
        })
    }

    /// The value of the in-inode extended attribute `system.data` (the
    /// rest of an inline file or directory), empty when absent.
    pub(super) fn inline_xattr_data<'a>(&self, inode: &'a Inode) -> Result<&'a [u8], FsError> {
        let start = 128 + inode.extra_isize();
        let area = slice(&inode.raw, start, inode.raw.len().saturating_sub(start));
        if le32(area, 0) != 0xEA02_0000 {
            return Ok(&[]);
        }
        let entries = slice(area, 4, area.len().saturating_sub(4));
        let mut pos = 0usize;
        // Each entry takes at least 16 bytes, so this loop ends.
        while pos + 16 <= entries.len() {
            if le32(entries, pos) == 0 {
                break;
            }
            let name_len = usize::from(entries.get(pos).copied().unwrap_or(0));
            let name_index = entries.get(pos + 1).copied().unwrap_or(0);
            let value_offs = usize::from(le16(entries, pos + 2));
            let value_size = le32(entries, pos + 8) as usize;
            let name = slice(entries, pos + 16, name_len);
            if name_index == 7 && name == b"data" {
                return match value_offs.checked_add(value_size) {
                    Some(end) if end <= entries.len() => Ok(slice(entries, value_offs, value_size)),
                    _ => Err(FsError::malformed(
                        self.volume.name(),
                        FS,
                        format!("inode {} extended attribute system.data", inode.number),
                        format!(
                            "value {value_offs}+{value_size} reaches past the {}-byte attribute area",
                            entries.len()
                        ),
                    )),
                };
            }
            pos += (16 + name_len + 3) & !3;
        }
        Ok(&[])
    }
}
