//! Directories in every form: short form (entries inside the inode), and
//! block, leaf, node and B+tree forms, which all keep their entries in
//! data blocks in the first 32 GiB of the directory's address space
//! (the leaf and free-index blocks above it only index them, so they are
//! not read).

use std::sync::Arc;

use super::checksum::verify_crc;
use super::inode::{ForkFormat, Inode};
use super::Xfs;
use crate::bytes::{be16, be32, be64, u8_at};
use crate::FsError;

/// Data block magics: single-block directories (`XD2B` / `XDB3`) and
/// multi-block ones (`XD2D` / `XDD3`).
const BLOCK_V4: u32 = 0x5844_3242;
const BLOCK_V5: u32 = 0x5844_4233;
const DATA_V4: u32 = 0x5844_3244;
const DATA_V5: u32 = 0x5844_4433;
/// Data block header sizes and the v5 CRC offset.
const HEADER_V4: usize = 16;
const HEADER_V5: usize = 64;
const CRC_OFFSET: usize = 4;
/// `freetag` of an unused region.
const FREE_TAG: u16 = 0xffff;
/// Where the leaf blocks start in the directory's address space.
const LEAF_OFFSET: u64 = 32 << 30;

/// One directory entry as stored.
#[derive(Debug, Clone)]
pub(super) struct RawEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    /// The `XFS_DIR3_FT_*` byte when the file system records it.
    pub ftype: Option<u8>,
}

impl Xfs {
    /// The entries of directory `dir` other than `.` and `..`, cached.
    pub(super) fn dir_entries(&self, dir: &Inode) -> Result<Arc<Vec<RawEntry>>, FsError> {
        self.dirs.get_or_load(dir.ino, || {
            let entries = match dir.format {
                ForkFormat::Local => self.short_form(dir)?,
                _ => self.data_blocks(dir)?,
            };
            let bytes = entries.iter().map(|e| e.name.len() + 40).sum::<usize>() + 64;
            Ok((entries, bytes))
        })
    }

    /// A short-form directory: a header (count, count of 8-byte inode
    /// numbers, parent) then packed entries.
    fn short_form(&self, dir: &Inode) -> Result<Vec<RawEntry>, FsError> {
        let what = format!("inode {} short-form directory", dir.ino);
        let fork = &dir.fork;
        let size = usize::try_from(dir.size).unwrap_or(usize::MAX);
        let fork = fork.get(..size).ok_or_else(|| {
            super::corrupt(
                &what,
                0,
                format!("di_size {size} exceeds the {}-byte fork", fork.len()),
            )
        })?;
        let count = usize::from(u8_at(fork, 0));
        let i8count = usize::from(u8_at(fork, 1));
        let ino_len = if i8count > 0 { 8 } else { 4 };
        let mut pos = 2 + ino_len;
        let mut out = Vec::with_capacity(count);
        for index in 0..count.max(i8count) {
            let name_len = usize::from(u8_at(fork, pos));
            let name_at = pos + 3;
            let ftype_len = usize::from(self.sb.has_ftype);
            let ino_at = name_at + name_len + ftype_len;
            if name_len == 0 || ino_at + ino_len > fork.len() {
                return Err(super::corrupt(
                    &what,
                    pos as u64,
                    format!(
                        "entry {index} (name length {name_len}) runs past the {}-byte directory",
                        fork.len()
                    ),
                ));
            }
            let ino = if ino_len == 8 {
                be64(fork, ino_at)
            } else {
                u64::from(be32(fork, ino_at))
            };
            out.push(RawEntry {
                name: fork
                    .get(name_at..name_at + name_len)
                    .unwrap_or_default()
                    .to_vec(),
                ino,
                ftype: self.sb.has_ftype.then(|| u8_at(fork, name_at + name_len)),
            });
            pos = ino_at + ino_len;
        }
        Ok(out)
    }

    /// The entries of every data block the directory maps below the leaf
    /// offset.
    fn data_blocks(&self, dir: &Inode) -> Result<Vec<RawEntry>, FsError> {
        let maps = self.inode_mappings(dir)?;
        let block_log = self.sb.block_log;
        let dir_block = u64::from(self.sb.dir_block_size());
        let blocks_per_dir_block = 1u64 << self.sb.dir_block_log;
        let leaf_block = LEAF_OFFSET >> block_log;
        let mut out = Vec::new();
        let mut last_start = None;
        let mut buf = vec![0u8; dir_block as usize];
        for m in maps.iter() {
            let end = (m.file_block + m.count).min(leaf_block);
            let mut fb = m.file_block - m.file_block % blocks_per_dir_block;
            while fb < end {
                if last_start != Some(fb) {
                    last_start = Some(fb);
                    if let Some(disk) = self.read_range(&maps, fb << block_log, &mut buf)? {
                        self.data_block_entries(dir.ino, &buf, disk, &mut out)?;
                    }
                }
                fb += blocks_per_dir_block;
            }
        }
        Ok(out)
    }

    /// Parses one directory data block read from byte `disk` of the volume.
    fn data_block_entries(
        &self,
        ino: u64,
        block: &[u8],
        disk: u64,
        out: &mut Vec<RawEntry>,
    ) -> Result<(), FsError> {
        let what = format!("inode {ino} directory block");
        let v5 = self.sb.is_v5();
        let magic = be32(block, 0);
        let (is_block_form, header) = match (v5, magic) {
            (false, BLOCK_V4) => (true, HEADER_V4),
            (false, DATA_V4) => (false, HEADER_V4),
            (true, BLOCK_V5) => (true, HEADER_V5),
            (true, DATA_V5) => (false, HEADER_V5),
            _ => {
                return Err(super::corrupt(
                    &what,
                    disk,
                    format!("expected a data-block magic (XD2B/XD2D, or XDB3/XDD3 on v5); found {magic:#010x}"),
                ))
            }
        };
        if v5 {
            verify_crc(block, CRC_OFFSET).map_err(|p| super::corrupt(&what, disk, p))?;
            self.check_owner(block, 8, 24, 40, ino, disk, &what)?;
        }
        let end = if is_block_form {
            // The block's tail: a leaf array of `count` 8-byte entries,
            // then `count` and `stale`.
            let count = be32(block, block.len() - 8) as usize;
            block
                .len()
                .checked_sub(8)
                .and_then(|e| e.checked_sub(count.checked_mul(8)?))
                .filter(|&e| e >= header)
                .ok_or_else(|| {
                    super::corrupt(
                        &what,
                        disk,
                        format!("block tail count {count} leaves no room for entries"),
                    )
                })?
        } else {
            block.len()
        };
        let ftype_len = usize::from(self.sb.has_ftype);
        let mut pos = header;
        while pos < end {
            if be16(block, pos) == FREE_TAG {
                let len = usize::from(be16(block, pos + 2));
                if len < 8 || len % 8 != 0 || pos + len > end {
                    return Err(super::corrupt(
                        &what,
                        disk + pos as u64,
                        format!(
                            "free region of {len} bytes is not a multiple of 8 inside the block"
                        ),
                    ));
                }
                pos += len;
                continue;
            }
            let name_len = usize::from(u8_at(block, pos + 8));
            let len = (8 + 1 + name_len + ftype_len + 2 + 7) & !7;
            if name_len == 0 || pos + len > end {
                return Err(super::corrupt(
                    &what,
                    disk + pos as u64,
                    format!("entry with name length {name_len} runs past the block's entries"),
                ));
            }
            let name = block.get(pos + 9..pos + 9 + name_len).unwrap_or_default();
            if name != b"." && name != b".." {
                out.push(RawEntry {
                    name: name.to_vec(),
                    ino: be64(block, pos),
                    ftype: self.sb.has_ftype.then(|| u8_at(block, pos + 9 + name_len)),
                });
            }
            pos += len;
        }
        Ok(())
    }
}
