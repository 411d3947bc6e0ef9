//! The data fork's block map: packed 128-bit extent records, held in the
//! inode or in a B+tree (`BMAP` / `BMA3` blocks) whose root is in the
//! inode.

use std::collections::HashSet;

use super::checksum::verify_crc;
use super::inode::{ForkFormat, Inode};
use super::Xfs;
use crate::bytes::{be16, be32, be64};
use crate::FsError;

/// `BMAP` (v4) and `BMA3` (v5) long-form B+tree block magics.
const BMAP_MAGIC: u32 = 0x424d_4150;
const BMA3_MAGIC: u32 = 0x424d_4133;
/// Long-form block header sizes, and the v5 CRC offset.
const HEADER_V4: usize = 24;
const HEADER_V5: usize = 72;
const CRC_OFFSET: usize = 64;
/// The deepest B+tree the format allows for a data fork.
const MAX_LEVELS: u16 = 9;
/// The most extents one file may map here: 4 Mi records (96 MiB in
/// memory) is far beyond any real file and keeps hostile counts bounded.
pub(super) const MAX_EXTENTS: usize = 4 << 20;

/// The state of one B+tree walk: blocks seen, and the most records the
/// inode's extent count allows.
struct Walk {
    visited: HashSet<u64>,
    limit: usize,
}

/// One extent: `count` file blocks from `file_block` stored at
/// file-system block `disk_block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mapping {
    pub file_block: u64,
    pub disk_block: u64,
    pub count: u64,
    /// Preallocated but never written: reads as zeros.
    pub unwritten: bool,
}

/// Unpacks one 16-byte extent record.
pub(super) fn decode(rec: &[u8]) -> Mapping {
    let l0 = be64(rec, 0);
    let l1 = be64(rec, 8);
    Mapping {
        unwritten: l0 >> 63 != 0,
        file_block: (l0 & ((1u64 << 63) - 1)) >> 9,
        disk_block: ((l0 & 0x1ff) << 43) | (l1 >> 21),
        count: l1 & ((1u64 << 21) - 1),
    }
}

impl Xfs {
    /// The data fork's extents in file order, each checked to lie in the
    /// data section, none overlapping.
    pub(super) fn mappings(&self, inode: &Inode) -> Result<Vec<Mapping>, FsError> {
        let what = format!("inode {} data fork", inode.ino);
        let mut out = Vec::new();
        match inode.format {
            ForkFormat::Extents => {
                let count = usize::try_from(inode.extent_count).unwrap_or(usize::MAX);
                if count > inode.fork.len() / 16 {
                    return Err(super::corrupt(
                        &what,
                        0,
                        format!(
                            "{count} extents do not fit the {}-byte fork",
                            inode.fork.len()
                        ),
                    ));
                }
                for rec in inode.fork.chunks_exact(16).take(count) {
                    out.push(decode(rec));
                }
            }
            ForkFormat::Btree => self.walk_root(inode, &mut out)?,
            ForkFormat::Local | ForkFormat::Device => {}
        }
        out.sort_by_key(|m| m.file_block);
        let mut next_free = 0u64;
        for m in &out {
            if m.count == 0 || m.file_block < next_free {
                return Err(super::corrupt(
                    &what,
                    0,
                    format!(
                        "extent at file block {} ({} blocks) is empty or overlaps the one before",
                        m.file_block, m.count
                    ),
                ));
            }
            next_free = m.file_block + m.count;
            self.sb
                .block_offset(m.disk_block, m.count, &format!("{what} extent"))?;
        }
        Ok(out)
    }

    /// The in-inode root (`xfs_bmdr_block`): level, record count, keys
    /// and child pointers sized by the fork.
    fn walk_root(&self, inode: &Inode, out: &mut Vec<Mapping>) -> Result<(), FsError> {
        let fork = &inode.fork;
        let what = format!("inode {} B+tree root", inode.ino);
        let level = be16(fork, 0);
        let count = usize::from(be16(fork, 2));
        let max_records = fork.len().saturating_sub(4) / 16;
        if level == 0 || level > MAX_LEVELS || count == 0 || count > max_records {
            return Err(super::corrupt(
                what,
                0,
                format!("expected level 1..={MAX_LEVELS} and 1..={max_records} records; found level {level}, {count} records"),
            ));
        }
        let limit = usize::try_from(inode.extent_count)
            .unwrap_or(usize::MAX)
            .min(MAX_EXTENTS);
        let mut walk = Walk {
            visited: HashSet::new(),
            limit,
        };
        let pointers = 4 + max_records * 8;
        for i in 0..count {
            let child = be64(fork, pointers + i * 8);
            self.walk_block(inode.ino, child, level - 1, out, &mut walk)?;
        }
        Ok(())
    }

    /// One `BMAP`/`BMA3` block at `fsb`, which must be at `level` (so each
    /// step goes one level down and a pointer cycle cannot recur).
    fn walk_block(
        &self,
        ino: u64,
        fsb: u64,
        level: u16,
        out: &mut Vec<Mapping>,
        walk: &mut Walk,
    ) -> Result<(), FsError> {
        let what = format!("inode {ino} B+tree block {fsb}");
        if !walk.visited.insert(fsb) {
            return Err(super::corrupt(
                &what,
                0,
                "the block is reached twice (a pointer cycle or shared subtree)",
            ));
        }
        let offset = self.sb.block_offset(fsb, 1, &what)?;
        let block = self.read_vec(offset, self.sb.block_size as usize)?;
        let v5 = self.sb.is_v5();
        let (magic, header) = if v5 {
            (BMA3_MAGIC, HEADER_V5)
        } else {
            (BMAP_MAGIC, HEADER_V4)
        };
        if be32(&block, 0) != magic {
            return Err(super::corrupt(
                &what,
                offset,
                format!(
                    "expected magic {magic:#010x}; found {:#010x}",
                    be32(&block, 0)
                ),
            ));
        }
        if v5 {
            verify_crc(&block, CRC_OFFSET).map_err(|p| super::corrupt(&what, offset, p))?;
            self.check_owner(&block, 24, 40, 56, ino, offset, &what)?;
        }
        let found_level = be16(&block, 4);
        let count = usize::from(be16(&block, 6));
        let max_records = (block.len() - header) / 16;
        if found_level != level || count == 0 || count > max_records {
            return Err(super::corrupt(
                &what,
                offset,
                format!("expected level {level} with 1..={max_records} records; found level {found_level}, {count} records"),
            ));
        }
        if level == 0 {
            if out.len() + count > walk.limit {
                return Err(super::corrupt(
                    &what,
                    offset,
                    format!(
                        "the tree holds more than the inode's {} extents (or more than {MAX_EXTENTS})",
                        walk.limit
                    ),
                ));
            }
            for i in 0..count {
                let at = header + i * 16;
                out.push(decode(block.get(at..at + 16).unwrap_or_default()));
            }
            return Ok(());
        }
        let max_keys = (block.len() - header) / 16;
        let pointers = header + max_keys * 8;
        for i in 0..count {
            let child = be64(&block, pointers + i * 8);
            self.walk_block(ino, child, level - 1, out, walk)?;
        }
        Ok(())
    }

    /// Checks a v5 block's self-description: `blkno` (in 512-byte units)
    /// is where it was read, the UUID is the file system's, the owner is
    /// `ino`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_owner(
        &self,
        block: &[u8],
        blkno_at: usize,
        uuid_at: usize,
        owner_at: usize,
        ino: u64,
        offset: u64,
        what: &str,
    ) -> Result<(), FsError> {
        let blkno = be64(block, blkno_at);
        if blkno != offset / 512 {
            return Err(super::corrupt(
                what,
                offset,
                format!(
                    "header blkno {blkno} does not name where it was read (sector {})",
                    offset / 512
                ),
            ));
        }
        if block.get(uuid_at..uuid_at + 16) != Some(&self.sb.meta_uuid[..]) {
            return Err(super::corrupt(
                what,
                offset,
                "header UUID is not the file system's",
            ));
        }
        let owner = be64(block, owner_at);
        if owner != ino {
            return Err(super::corrupt(
                what,
                offset,
                format!("header owner {owner} is not inode {ino}"),
            ));
        }
        Ok(())
    }
}
