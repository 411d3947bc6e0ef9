//! Free space and shutdown state of a volume, from its superblock
//! (IMG-FREE-SPACE, IMG-FS-CLEAN).
//!
//! Input: the first [`SUPERBLOCK_AREA`] bytes of the volume (the caller
//! reads them through the volume it already has; this module does no
//! I/O, so it works the same for a partition, an LV or a test buffer).
//!
//! - ext2/3/4 (superblock at 1024): `s_blocks_count`,
//!   `s_free_blocks_count`, `s_r_blocks_count` (hi words when `64bit`),
//!   block size `1024 << s_log_block_size`; `s_state` bit 0 clear = not
//!   cleanly unmounted, bit 1 = errors; `s_feature_incompat` `RECOVER`
//!   (0x4) = journal needs recovery.
//! - XFS (superblock at 0, big-endian): `sb_blocksize`, `sb_dblocks`,
//!   `sb_fdblocks` (with lazy counters, as of the last unmount);
//!   `sb_inprogress` set = not clean. Whether the log is clean needs a log
//!   head read, which is not done: the state is unknown.
//! - Btrfs (superblock at 64 KiB): `total_bytes − bytes_used` (the
//!   spec's approximation: it ignores chunk allocation); `log_root ≠ 0`
//!   = an unreplayed tree log.
//!
//! Every field is range-checked: a block-size exponent past 64 KiB, a
//! block count whose byte size overflows, or free > total is refused as
//! not a superblock this module understands (`None`).

/// Bytes of the volume needed: enough for the Btrfs superblock at 64 KiB.
pub const SUPERBLOCK_AREA: usize = 65536 + 4096;

/// Whether the file system was shut down cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanState {
    /// Cleanly unmounted.
    Clean,
    /// Not clean, with the flags that say so (`not cleanly unmounted`,
    /// `errors recorded`, `journal needs recovery`, `tree log present`).
    NotClean(Vec<String>),
    /// Cannot be told from the superblock, and why.
    Unknown(String),
}

/// What a superblock says about space and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsUsage {
    /// `ext4` (for ext2/3/4), `xfs`, `btrfs`.
    pub fs_type: &'static str,
    /// File-system size in bytes.
    pub size: u64,
    /// Free bytes (including blocks reserved for root on ext).
    pub free: u64,
    /// Bytes reserved for root (ext only; 0 elsewhere).
    pub reserved: u64,
    /// Clean state.
    pub clean: CleanState,
    /// The fields read, as `name=value`, for the report.
    pub fields: Vec<String>,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Reads free space and state from the start of a volume; `None` when no
/// ext, XFS or Btrfs superblock is recognised or its fields are out of
/// range.
pub fn fs_usage(area: &[u8]) -> Option<FsUsage> {
    if le16(area, 1024 + 0x38) == Some(0xEF53) {
        return ext(area.get(1024..)?);
    }
    if area.get(..4) == Some(b"XFSB") {
        return xfs(area);
    }
    if area.get(65536 + 0x40..65536 + 0x48) == Some(b"_BHRfS_M") {
        return btrfs(area.get(65536..)?);
    }
    None
}

fn ext(sb: &[u8]) -> Option<FsUsage> {
    let log = le32(sb, 0x18)?;
    if log > 6 {
        return None; // block size past 64 KiB
    }
    let block = 1024u64 << log;
    let incompat = le32(sb, 0x60)?;
    let wide = incompat & 0x80 != 0;
    let count = |lo: usize, hi: usize| -> Option<u64> {
        let hi = if wide { u64::from(le32(sb, hi)?) } else { 0 };
        Some(hi << 32 | u64::from(le32(sb, lo)?))
    };
    let blocks = count(0x04, 0x150)?;
    let reserved = count(0x08, 0x154)?;
    let free = count(0x0C, 0x158)?;
    if free > blocks || reserved > blocks {
        return None;
    }
    let state = le16(sb, 0x3A)?;
    let mut flags = Vec::new();
    if state & 0x1 == 0 {
        flags.push("not cleanly unmounted".to_string());
    }
    if state & 0x2 != 0 {
        flags.push("errors recorded".to_string());
    }
    if incompat & 0x4 != 0 {
        flags.push("journal needs recovery".to_string());
    }
    Some(FsUsage {
        fs_type: "ext4",
        size: blocks.checked_mul(block)?,
        free: free.checked_mul(block)?,
        reserved: reserved.checked_mul(block)?,
        clean: if flags.is_empty() {
            CleanState::Clean
        } else {
            CleanState::NotClean(flags)
        },
        fields: vec![
            format!("s_blocks_count={blocks}"),
            format!("s_free_blocks_count={free}"),
            format!("s_r_blocks_count={reserved}"),
            format!("block_size={block}"),
            format!("s_state={state:#06x}"),
            format!("s_feature_incompat={incompat:#x}"),
        ],
    })
}

fn xfs(sb: &[u8]) -> Option<FsUsage> {
    let block = u64::from(be32(sb, 4)?);
    if !(512..=65536).contains(&block) || !block.is_power_of_two() {
        return None;
    }
    let dblocks = be64(sb, 8)?;
    let fdblocks = be64(sb, 144)?;
    if fdblocks > dblocks {
        return None;
    }
    let inprogress = *sb.get(126)?;
    Some(FsUsage {
        fs_type: "xfs",
        size: dblocks.checked_mul(block)?,
        free: fdblocks.checked_mul(block)?,
        reserved: 0,
        clean: if inprogress != 0 {
            CleanState::NotClean(vec!["sb_inprogress set".to_string()])
        } else {
            CleanState::Unknown("XFS log head not read".to_string())
        },
        fields: vec![
            format!("sb_blocksize={block}"),
            format!("sb_dblocks={dblocks}"),
            format!("sb_fdblocks={fdblocks}"),
        ],
    })
}

fn btrfs(sb: &[u8]) -> Option<FsUsage> {
    let log_root = le64(sb, 0x60)?;
    let total = le64(sb, 0x70)?;
    let used = le64(sb, 0x78)?;
    let free = total.checked_sub(used)?;
    Some(FsUsage {
        fs_type: "btrfs",
        size: total,
        free,
        reserved: 0,
        clean: if log_root != 0 {
            CleanState::NotClean(vec!["tree log present".to_string()])
        } else {
            CleanState::Clean
        },
        fields: vec![
            format!("total_bytes={total}"),
            format!("bytes_used={used}"),
            format!("log_root={log_root}"),
        ],
    })
}
