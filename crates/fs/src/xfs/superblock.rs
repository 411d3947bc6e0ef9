//! The primary superblock (sector 0 of allocation group 0): the geometry
//! every other structure is located by.

use super::checksum::verify_crc;
use crate::bytes::{be16, be32, be64, u8_at};
use crate::FsError;

/// `XFSB`.
const MAGIC: u32 = 0x5846_5342;
/// Byte offset of `sb_crc` (v5).
const CRC_OFFSET: usize = 224;

/// v4 `sb_versionnum` bits.
const VERSION_DIRV2: u16 = 0x2000;
const VERSION_MOREBITS: u16 = 0x8000;
/// v4 `sb_features2` bit: directory entries carry the file type.
const FEATURES2_FTYPE: u32 = 0x200;

/// v5 incompatible feature bits this reader understands.
const INCOMPAT_FTYPE: u32 = 1 << 0;
const INCOMPAT_SPINODES: u32 = 1 << 1;
const INCOMPAT_META_UUID: u32 = 1 << 2;
const INCOMPAT_BIGTIME: u32 = 1 << 3;
const INCOMPAT_NEEDSREPAIR: u32 = 1 << 4;
const INCOMPAT_NREXT64: u32 = 1 << 5;
const INCOMPAT_EXCHRANGE: u32 = 1 << 6;
const INCOMPAT_PARENT: u32 = 1 << 7;
const INCOMPAT_KNOWN: u32 = INCOMPAT_FTYPE
    | INCOMPAT_SPINODES
    | INCOMPAT_META_UUID
    | INCOMPAT_BIGTIME
    | INCOMPAT_NEEDSREPAIR
    | INCOMPAT_NREXT64
    | INCOMPAT_EXCHRANGE
    | INCOMPAT_PARENT;

/// The superblock fields the reader uses, each checked against the others
/// and against the device.
#[derive(Debug, Clone)]
pub(super) struct Superblock {
    /// 4 or 5.
    pub version: u8,
    pub block_size: u32,
    pub block_log: u8,
    pub data_blocks: u64,
    pub ag_blocks: u32,
    pub ag_count: u32,
    pub ag_block_log: u8,
    pub inode_size: u32,
    pub inode_log: u8,
    pub inodes_per_block_log: u8,
    pub root_inode: u64,
    /// Directory blocks are `block_size << dir_block_log` bytes.
    pub dir_block_log: u8,
    /// Directory entries carry a file-type byte.
    pub has_ftype: bool,
    /// The UUID stamped into v5 metadata blocks (`sb_meta_uuid` when the
    /// META_UUID feature is set, else `sb_uuid`).
    pub meta_uuid: [u8; 16],
    /// First block of an internal log (0: the log is on another device).
    pub log_start: u64,
    pub log_blocks: u32,
    pub label: String,
    pub uuid: [u8; 16],
    /// `sb_features_incompat` (v5), for the report.
    pub needs_repair: bool,
}

fn bad(field: &str, problem: String) -> FsError {
    super::corrupt(format!("superblock field {field}"), 0, problem)
}

fn log2_exact(value: u64, log: u8, field: &str) -> Result<(), FsError> {
    if log >= 64 || value != 1u64 << log {
        return Err(bad(
            field,
            format!("expected a power of two matching its log2 field {log}; found {value}"),
        ));
    }
    Ok(())
}

impl Superblock {
    /// Parses and checks the superblock sector `buf` (at least 512 bytes;
    /// the whole sector for the v5 CRC) of a device of `device_size`
    /// bytes.
    pub fn parse(buf: &[u8], device_size: u64) -> Result<Self, FsError> {
        if be32(buf, 0) != MAGIC {
            return Err(bad(
                "sb_magicnum",
                format!("expected \"XFSB\"; found {:#010x}", be32(buf, 0)),
            ));
        }
        let versionnum = be16(buf, 100);
        let version = (versionnum & 0xf) as u8;
        if version != 4 && version != 5 {
            return Err(bad(
                "sb_versionnum",
                format!("expected version 4 or 5; found {version}"),
            ));
        }
        let block_size = be32(buf, 4);
        let block_log = u8_at(buf, 120);
        if !(9..=16).contains(&block_log) {
            return Err(bad(
                "sb_blocklog",
                format!("expected 9..=16 (512 B to 64 KiB blocks); found {block_log}"),
            ));
        }
        log2_exact(block_size.into(), block_log, "sb_blocksize")?;
        let sector_size = u32::from(be16(buf, 102));
        let sector_log = u8_at(buf, 121);
        if !(9..=15).contains(&sector_log) || sector_log > block_log {
            return Err(bad(
                "sb_sectlog",
                format!(
                    "expected 9..=15 and at most the block log {block_log}; found {sector_log}"
                ),
            ));
        }
        log2_exact(sector_size.into(), sector_log, "sb_sectsize")?;
        if version == 5 {
            let sector = buf
                .get(..sector_size as usize)
                .ok_or_else(|| bad("sb_sectsize", format!("{sector_size} bytes were not read")))?;
            verify_crc(sector, CRC_OFFSET).map_err(|p| bad("sb_crc", p))?;
        }
        let inode_size = u32::from(be16(buf, 104));
        let inode_log = u8_at(buf, 122);
        if !(8..=11).contains(&inode_log) || inode_log > block_log {
            return Err(bad(
                "sb_inodelog",
                format!("expected 8..=11 (256 B to 2 KiB inodes), at most the block log; found {inode_log}"),
            ));
        }
        log2_exact(inode_size.into(), inode_log, "sb_inodesize")?;
        let inodes_per_block_log = u8_at(buf, 123);
        if inodes_per_block_log != block_log - inode_log {
            return Err(bad(
                "sb_inopblog",
                format!(
                    "expected {} (block log - inode log); found {inodes_per_block_log}",
                    block_log - inode_log
                ),
            ));
        }
        let ag_blocks = be32(buf, 84);
        let ag_count = be32(buf, 88);
        let ag_block_log = u8_at(buf, 124);
        if ag_blocks < 16
            || ag_block_log > 31
            || u64::from(ag_blocks) > 1u64 << ag_block_log
            || u64::from(ag_blocks) <= 1u64 << ag_block_log.saturating_sub(1)
        {
            return Err(bad(
                "sb_agblocks",
                format!("expected at least 16 blocks, with sb_agblklog {ag_block_log} its rounded-up log2; found {ag_blocks}"),
            ));
        }
        let data_blocks = be64(buf, 8);
        let ag_span = u64::from(ag_count) * u64::from(ag_blocks);
        if ag_count == 0
            || data_blocks == 0
            || data_blocks > ag_span
            || data_blocks <= ag_span - u64::from(ag_blocks)
        {
            return Err(bad(
                "sb_agcount",
                format!(
                    "expected the {ag_count} groups of {ag_blocks} blocks to hold sb_dblocks {data_blocks}, the last group not empty"
                ),
            ));
        }
        match data_blocks.checked_mul(block_size.into()) {
            Some(bytes) if bytes <= device_size => {}
            _ => {
                return Err(bad(
                    "sb_dblocks",
                    format!(
                        "{data_blocks} blocks of {block_size} bytes do not fit the {device_size}-byte volume"
                    ),
                ))
            }
        }
        let dir_block_log = u8_at(buf, 192);
        if u32::from(dir_block_log) + u32::from(block_log) > 16 {
            return Err(bad(
                "sb_dirblklog",
                format!("expected directory blocks of at most 64 KiB; found log {dir_block_log} over blocks of {block_size}"),
            ));
        }
        let features2 = be32(buf, 200);
        let incompat = be32(buf, 216);
        let has_ftype = if version == 5 {
            if incompat & !INCOMPAT_KNOWN != 0 {
                return Err(super::unsupported(format!(
                    "v5 incompatible features {:#x}",
                    incompat & !INCOMPAT_KNOWN
                )));
            }
            incompat & INCOMPAT_FTYPE != 0
        } else {
            if versionnum & VERSION_DIRV2 == 0 {
                return Err(super::unsupported(
                    "version 1 directories (a v4 file system without DIRV2)".to_string(),
                ));
            }
            versionnum & VERSION_MOREBITS != 0 && features2 & FEATURES2_FTYPE != 0
        };
        let uuid = array16(buf, 32);
        let meta_uuid = if version == 5 && incompat & INCOMPAT_META_UUID != 0 {
            array16(buf, 248)
        } else {
            uuid
        };
        let label_bytes = buf.get(108..120).unwrap_or_default();
        let label_end = label_bytes
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(label_bytes.len());
        let label =
            String::from_utf8_lossy(label_bytes.get(..label_end).unwrap_or_default()).into_owned();
        Ok(Superblock {
            version,
            block_size,
            block_log,
            data_blocks,
            ag_blocks,
            ag_count,
            ag_block_log,
            inode_size,
            inode_log,
            inodes_per_block_log,
            root_inode: be64(buf, 56),
            dir_block_log,
            has_ftype,
            meta_uuid,
            log_start: be64(buf, 48),
            log_blocks: be32(buf, 96),
            label,
            uuid,
            needs_repair: version == 5 && incompat & INCOMPAT_NEEDSREPAIR != 0,
        })
    }

    /// Whether metadata blocks carry CRCs and self-describing headers.
    pub fn is_v5(&self) -> bool {
        self.version == 5
    }

    /// Bytes in one directory block.
    pub fn dir_block_size(&self) -> u32 {
        self.block_size << self.dir_block_log
    }

    /// The byte offset of file-system block `fsb` (AG number in the high
    /// bits, block in the AG in the low `ag_block_log` bits), after
    /// checking that `count` blocks from it lie inside one AG.
    pub fn block_offset(&self, fsb: u64, count: u64, what: &str) -> Result<u64, FsError> {
        let ag = fsb >> self.ag_block_log;
        let ag_block = fsb & ((1u64 << self.ag_block_log) - 1);
        let end = ag_block.checked_add(count);
        if ag >= u64::from(self.ag_count) || end.is_none_or(|e| e > u64::from(self.ag_blocks)) {
            return Err(super::corrupt(
                what.to_string(),
                0,
                format!(
                    "block {fsb} (AG {ag}, block {ag_block}) + {count} blocks lies outside the {} groups of {} blocks",
                    self.ag_count, self.ag_blocks
                ),
            ));
        }
        let block = ag * u64::from(self.ag_blocks) + ag_block;
        if block + count > self.data_blocks {
            return Err(super::corrupt(
                what.to_string(),
                0,
                format!(
                    "blocks {block}..{} end past the {} data blocks",
                    block + count,
                    self.data_blocks
                ),
            ));
        }
        Ok(block << self.block_log)
    }

    /// The byte offset of inode `ino`, checked to lie in the data section.
    pub fn inode_offset(&self, ino: u64) -> Result<u64, FsError> {
        let per_block_log = self.inodes_per_block_log;
        let index = ino & ((1u64 << per_block_log) - 1);
        let fsb = ino >> per_block_log;
        if fsb >> self.ag_block_log >= u64::from(self.ag_count) {
            return Err(super::corrupt(
                format!("inode number {ino}"),
                0,
                format!(
                    "its AG {} is not below sb_agcount {}",
                    fsb >> self.ag_block_log,
                    self.ag_count
                ),
            ));
        }
        let block = self.block_offset(fsb, 1, &format!("inode number {ino}"))?;
        Ok(block + (index << self.inode_log))
    }
}

fn array16(buf: &[u8], at: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Some(src) = buf.get(at..at + 16) {
        out.copy_from_slice(src);
    }
    out
}
