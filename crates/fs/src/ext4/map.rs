//! Where a file's logical blocks lie: extent trees (ext4) and block maps
//! with indirect blocks (ext2/3).

use crate::bytes::{le16, le32, slice};
use crate::error::FsError;

use super::checksum::crc32c;
use super::inode::{Inode, FLAG_EXTENTS};
use super::{Ext4, FS};

/// Extent trees are at most this deep (the kernel's limit is 5).
const MAX_EXTENT_DEPTH: u16 = 5;
/// Logical block numbers are 32-bit.
const LOGICAL_BLOCKS: u64 = 1 << 32;

/// A run of logical blocks starting at the one asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The physical block of the first logical block; `None` for a hole
    /// (or an unwritten extent), which reads as zeros.
    pub physical: Option<u64>,
    /// Blocks in the run, at least 1.
    pub len: u64,
}

impl Ext4 {
    /// The run of `inode`'s blocks from logical block `logical`.
    pub(super) fn map_block(&self, inode: &Inode, logical: u64) -> Result<Run, FsError> {
        if logical >= LOGICAL_BLOCKS {
            return Ok(Run {
                physical: None,
                len: 1,
            });
        }
        let run = if inode.flags & FLAG_EXTENTS != 0 {
            self.map_extent(inode, logical)?
        } else {
            self.map_indirect(inode, logical)?
        };
        if let Some(physical) = run.physical {
            if physical < self.sb.first_data_block
                || physical
                    .checked_add(run.len)
                    .is_none_or(|end| end > self.sb.blocks_count)
            {
                return Err(FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!("inode {} logical block {logical}", inode.number),
                    format!(
                        "maps to blocks {physical}+{}; the file system has {} blocks",
                        run.len, self.sb.blocks_count
                    ),
                ));
            }
        }
        Ok(run)
    }

    fn map_extent(&self, inode: &Inode, logical: u64) -> Result<Run, FsError> {
        let mut node: Vec<u8> = inode.block.to_vec();
        let mut expected_depth: Option<u16> = None;
        let mut where_ = "i_block".to_owned();
        // Each step goes one level down and the depth must fall by one, so
        // at most MAX_EXTENT_DEPTH + 1 steps.
        for _ in 0..=MAX_EXTENT_DEPTH {
            let bad = |problem: String| {
                FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!("inode {} extent node in {where_}", inode.number),
                    problem,
                )
            };
            let magic = le16(&node, 0);
            if magic != 0xF30A {
                return Err(bad(format!("magic is {magic:#x}; expected 0xf30a")));
            }
            let entries = usize::from(le16(&node, 2));
            let max = usize::from(le16(&node, 4));
            let depth = le16(&node, 6);
            let room = (node.len() - 12) / 12;
            if entries > max || max > room {
                return Err(bad(format!(
                    "{entries} entries of at most {max}; the node has room for {room}"
                )));
            }
            if depth > MAX_EXTENT_DEPTH || expected_depth.is_some_and(|d| d != depth) {
                return Err(bad(format!(
                    "depth {depth}; expected {}",
                    expected_depth.map_or("at most 5".to_owned(), |d| d.to_string())
                )));
            }
            // The last entry starting at or before `logical`.
            let start_of = |i: usize| u64::from(le32(&node, 12 + i * 12));
            let found = (0..entries).take_while(|&i| start_of(i) <= logical).last();
            if depth == 0 {
                let next_start = (0..entries)
                    .map(start_of)
                    .find(|&s| s > logical)
                    .unwrap_or(LOGICAL_BLOCKS);
                let hole = Run {
                    physical: None,
                    len: next_start - logical,
                };
                let Some(i) = found else { return Ok(hole) };
                let e = 12 + i * 12;
                let first = start_of(i);
                let raw_len = u64::from(le16(&node, e + 4));
                let (len, unwritten) = if raw_len > 32768 {
                    (raw_len - 32768, true)
                } else {
                    (raw_len, false)
                };
                let start = (u64::from(le16(&node, e + 6)) << 32) | u64::from(le32(&node, e + 8));
                if logical >= first + len {
                    return Ok(hole);
                }
                let skip = logical - first;
                return Ok(Run {
                    physical: (!unwritten).then_some(start + skip),
                    len: len - skip,
                });
            }
            let Some(i) = found else {
                return Ok(Run {
                    physical: None,
                    len: (0..entries)
                        .map(start_of)
                        .next()
                        .unwrap_or(LOGICAL_BLOCKS)
                        .saturating_sub(logical)
                        .max(1),
                });
            };
            let e = 12 + i * 12;
            let child = (u64::from(le16(&node, e + 8)) << 32) | u64::from(le32(&node, e + 4));
            if child < self.sb.first_data_block || child >= self.sb.blocks_count {
                return Err(bad(format!(
                    "index entry {i} points at block {child}; the file system has {} blocks",
                    self.sb.blocks_count
                )));
            }
            let mut block = vec![0u8; self.sb.block_size as usize];
            self.volume
                .read_at(child * self.sb.block_size, &mut block)?;
            where_ = format!("block {child}");
            if let Some(seed) = self.inode_seed(inode) {
                let child_max = usize::from(le16(&block, 4));
                let tail = 12 + child_max * 12;
                if tail + 4 <= block.len() {
                    let stored = le32(&block, tail);
                    let computed = crc32c(seed, slice(&block, 0, tail));
                    if stored != computed {
                        return Err(FsError::malformed(
                            self.volume.name(),
                            FS,
                            format!("inode {} extent block {child}", inode.number),
                            format!("checksum is {stored:#x}; the block's crc32c is {computed:#x}"),
                        ));
                    }
                }
            }
            node = block;
            expected_depth = Some(depth - 1);
        }
        Err(FsError::malformed(
            self.volume.name(),
            FS,
            format!("inode {} extent tree", inode.number),
            "deeper than 5 levels",
        ))
    }

    fn map_indirect(&self, inode: &Inode, logical: u64) -> Result<Run, FsError> {
        let per_block = self.sb.block_size / 4;
        // Logical blocks each level covers: 12 direct, then one, two and
        // three levels of indirect blocks.
        let mut rest = logical;
        if rest < 12 {
            return Ok(run_in(&inode.block, rest as usize, 12));
        }
        rest -= 12;
        let mut span = per_block;
        for level in 1..=3u32 {
            if rest < span {
                let top = u64::from(le32(&inode.block, (11 + level as usize) * 4));
                return self.walk_indirect(inode, top, level, rest, logical);
            }
            rest -= span;
            span = span.saturating_mul(per_block);
        }
        Ok(Run {
            physical: None,
            len: 1,
        })
    }

    /// Walks `levels` indirect blocks from `block` to entry `index` of the
    /// subtree.
    fn walk_indirect(
        &self,
        inode: &Inode,
        mut block: u64,
        levels: u32,
        index: u64,
        logical: u64,
    ) -> Result<Run, FsError> {
        let per_block = self.sb.block_size / 4;
        let mut index = index;
        for level in (0..levels).rev() {
            let span = per_block.pow(level);
            if block == 0 {
                // A hole covering the rest of this subtree.
                let subtree = span.saturating_mul(per_block);
                return Ok(Run {
                    physical: None,
                    len: subtree.saturating_sub(index).max(1),
                });
            }
            if block < self.sb.first_data_block || block >= self.sb.blocks_count {
                return Err(FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!(
                        "inode {} indirect block for logical block {logical}",
                        inode.number
                    ),
                    format!(
                        "block {block} lies outside the {} blocks of the file system",
                        self.sb.blocks_count
                    ),
                ));
            }
            let mut data = vec![0u8; self.sb.block_size as usize];
            self.volume.read_at(block * self.sb.block_size, &mut data)?;
            let slot = (index / span) as usize;
            if level == 0 {
                return Ok(run_in(&data, slot, per_block as usize));
            }
            block = u64::from(le32(&data, slot * 4));
            index %= span;
        }
        Ok(Run {
            physical: None,
            len: 1,
        })
    }
}

/// The run starting at slot `i` of an array of `count` 32-bit block
/// numbers: contiguous blocks, or consecutive holes.
fn run_in(array: &[u8], i: usize, count: usize) -> Run {
    let first = u64::from(le32(array, i * 4));
    let mut len = 1u64;
    for j in i + 1..count {
        let next = u64::from(le32(array, j * 4));
        let continues = if first == 0 {
            next == 0
        } else {
            next == first + len
        };
        if !continues {
            break;
        }
        len += 1;
    }
    Run {
        physical: (first != 0).then_some(first),
        len,
    }
}
