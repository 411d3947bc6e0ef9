//! The ext2/3/4 superblock: geometry, features and the state to report.

use crate::bytes::{label, le16, le32, slice};
use crate::error::FsError;
use crate::filesystem::{FsInfo, FsKind, FsState};
use crate::volume::Volume;

use super::checksum::crc32c;
use super::FS;

/// Byte offset of the superblock in the volume.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the superblock.
pub const SUPERBLOCK_LEN: usize = 1024;

/// At most this many block groups (128 TiB at 4 KiB blocks): bounds the
/// descriptor table a lookup may index.
const MAX_GROUPS: u64 = 1 << 20;

// compat
const COMPAT_HAS_JOURNAL: u32 = 0x4;
// incompat
const INCOMPAT_COMPRESSION: u32 = 0x1;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_MMP: u32 = 0x100;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_EA_INODE: u32 = 0x400;
const INCOMPAT_DIRDATA: u32 = 0x1000;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const INCOMPAT_LARGEDIR: u32 = 0x4000;
const INCOMPAT_INLINE_DATA: u32 = 0x8000;
const INCOMPAT_ENCRYPT: u32 = 0x1_0000;
const INCOMPAT_CASEFOLD: u32 = 0x2_0000;
/// Incompatible features this reader reads (or that do not change how
/// files are found and read).
const INCOMPAT_READ: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;
// ro_compat
const RO_COMPAT_HUGE_FILE: u32 = 0x8;
const RO_COMPAT_DIR_NLINK: u32 = 0x20;
const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

/// What the reader needs from the superblock, every field checked.
#[derive(Debug, Clone)]
pub struct Superblock {
    pub block_size: u64,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub inodes_per_group: u64,
    pub inodes_count: u64,
    pub inode_size: u64,
    pub desc_size: u64,
    pub groups: u64,
    pub filetype: bool,
    /// Seed of every metadata checksum, when metadata_csum is on.
    pub csum_seed: Option<u32>,
    pub info: FsInfo,
}

impl Superblock {
    /// Reads and checks the superblock of `volume`.
    pub fn read(volume: &Volume) -> Result<Superblock, FsError> {
        let name = volume.name();
        let mut sb = [0u8; SUPERBLOCK_LEN];
        volume.read_at(SUPERBLOCK_OFFSET, &mut sb)?;
        let bad = |field: &str, problem: String| {
            FsError::malformed(name, FS, format!("superblock field {field}"), problem)
        };
        let magic = le16(&sb, 0x38);
        if magic != 0xEF53 {
            return Err(bad("s_magic", format!("expected 0xef53; found {magic:#x}")));
        }
        let incompat = le32(&sb, 0x60);
        let ro_compat = le32(&sb, 0x64);
        let compat = le32(&sb, 0x5C);
        let csum = ro_compat & RO_COMPAT_METADATA_CSUM != 0;
        if csum {
            let stored = le32(&sb, 0x3FC);
            let computed = crc32c(!0, slice(&sb, 0, 0x3FC));
            if stored != computed {
                return Err(bad(
                    "s_checksum",
                    format!("crc32c of the superblock is {computed:#010x}; found {stored:#010x}"),
                ));
            }
        }
        for (bit, what) in [
            (INCOMPAT_COMPRESSION, "compression"),
            (
                INCOMPAT_JOURNAL_DEV,
                "external journal device (this is a journal, not a file system)",
            ),
            (INCOMPAT_META_BG, "meta_bg block group layout"),
            (INCOMPAT_DIRDATA, "dirdata directory entries"),
        ] {
            if incompat & bit != 0 {
                return Err(FsError::unsupported(name, FS, what));
            }
        }
        let unknown = incompat
            & !INCOMPAT_READ
            & !(INCOMPAT_COMPRESSION | INCOMPAT_JOURNAL_DEV | INCOMPAT_META_BG | INCOMPAT_DIRDATA);
        if unknown != 0 {
            return Err(FsError::unsupported(
                name,
                FS,
                format!("incompatible feature bits {unknown:#x}"),
            ));
        }
        let log_block = le32(&sb, 0x18);
        if log_block > 6 {
            return Err(bad(
                "s_log_block_size",
                format!("expected 0..=6 (1 KiB to 64 KiB blocks); found {log_block}"),
            ));
        }
        let block_size = 1024u64 << log_block;
        let is_64bit = incompat & INCOMPAT_64BIT != 0;
        let blocks_hi = if is_64bit {
            u64::from(le32(&sb, 0x150))
        } else {
            0
        };
        let blocks_count = (blocks_hi << 32) | u64::from(le32(&sb, 0x4));
        let fs_size = blocks_count
            .checked_mul(block_size)
            .filter(|&size| size <= volume.len())
            .ok_or_else(|| {
                bad(
                    "s_blocks_count",
                    format!(
                        "{blocks_count} blocks of {block_size} bytes; expected at most the {}-byte volume",
                        volume.len()
                    ),
                )
            })?;
        let first_data_block = u64::from(le32(&sb, 0x14));
        let expected_first = u64::from(block_size == 1024);
        if first_data_block != expected_first {
            return Err(bad(
                "s_first_data_block",
                format!("expected {expected_first} for {block_size}-byte blocks; found {first_data_block}"),
            ));
        }
        let blocks_per_group = u64::from(le32(&sb, 0x20));
        if blocks_per_group == 0 || blocks_per_group > block_size * 8 {
            return Err(bad(
                "s_blocks_per_group",
                format!("expected 1..={}; found {blocks_per_group}", block_size * 8),
            ));
        }
        let inodes_per_group = u64::from(le32(&sb, 0x28));
        if inodes_per_group == 0 || inodes_per_group > block_size * 8 {
            return Err(bad(
                "s_inodes_per_group",
                format!("expected 1..={}; found {inodes_per_group}", block_size * 8),
            ));
        }
        let groups = blocks_count
            .saturating_sub(first_data_block)
            .div_ceil(blocks_per_group);
        if groups == 0 || groups > MAX_GROUPS {
            return Err(bad(
                "s_blocks_count",
                format!("gives {groups} block groups; expected 1..={MAX_GROUPS}"),
            ));
        }
        let inodes_count = u64::from(le32(&sb, 0x0));
        let rev = le32(&sb, 0x4C);
        let inode_size = if rev == 0 {
            128
        } else {
            u64::from(le16(&sb, 0x58))
        };
        if inode_size < 128 || inode_size > block_size || !inode_size.is_power_of_two() {
            return Err(bad(
                "s_inode_size",
                format!("expected a power of two from 128 to the block size {block_size}; found {inode_size}"),
            ));
        }
        let desc_size = if is_64bit {
            u64::from(le16(&sb, 0xFE))
        } else {
            32
        };
        if !(32..=1024).contains(&desc_size)
            || !desc_size.is_power_of_two()
            || (is_64bit && desc_size < 64)
        {
            return Err(bad(
                "s_desc_size",
                format!(
                    "expected a power of two from {} to 1024; found {desc_size}",
                    if is_64bit { 64 } else { 32 }
                ),
            ));
        }
        let csum_seed = csum.then(|| {
            if incompat & INCOMPAT_CSUM_SEED != 0 {
                le32(&sb, 0x270)
            } else {
                crc32c(!0, slice(&sb, 0x68, 16))
            }
        });

        let ext4_bits = incompat
            & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG | INCOMPAT_INLINE_DATA)
            != 0
            || ro_compat
                & (RO_COMPAT_HUGE_FILE
                    | RO_COMPAT_DIR_NLINK
                    | RO_COMPAT_EXTRA_ISIZE
                    | RO_COMPAT_METADATA_CSUM)
                != 0;
        let kind = if ext4_bits {
            FsKind::Ext4
        } else if compat & COMPAT_HAS_JOURNAL != 0 {
            FsKind::Ext3
        } else {
            FsKind::Ext2
        };
        let mut state = Vec::new();
        let s_state = le16(&sb, 0x3A);
        if s_state & 1 == 0 {
            state.push(FsState::Dirty);
        }
        if s_state & 2 != 0 {
            state.push(FsState::Errors);
        }
        if incompat & INCOMPAT_RECOVER != 0 {
            state.push(FsState::NeedsRecovery);
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(slice(&sb, 0x68, 16).get(..16).unwrap_or(&[0; 16]));
        let info = FsInfo {
            kind,
            label: label(slice(&sb, 0x78, 16)),
            uuid: (uuid != [0; 16]).then(|| crate::bytes::uuid_string(&uuid)),
            size: fs_size,
            block_size: block_size as u32,
            state,
        };
        Ok(Superblock {
            block_size,
            blocks_count,
            first_data_block,
            inodes_per_group,
            inodes_count,
            inode_size,
            desc_size,
            groups,
            filetype: incompat & INCOMPAT_FILETYPE != 0,
            csum_seed,
            info,
        })
    }
}
