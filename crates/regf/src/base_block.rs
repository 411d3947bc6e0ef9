//! The base block: the first 4096 bytes of a hive file.

use crate::bytes::{le32, le64};
use crate::error::{RegfError, Result};
use crate::time::FileTime;

/// Size of the base block; the hive bins follow it, and every cell offset
/// in the hive is relative to this position.
pub const BASE_BLOCK_SIZE: usize = 4096;

/// The checksum covers the first 508 bytes and is stored right after them.
const CHECKSUM_OFFSET: usize = 508;

/// The fields of a base block that this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseBlock {
    /// Incremented when a write to the hive starts.
    pub primary_sequence: u32,
    /// Incremented when a write to the hive ends; differs from
    /// `primary_sequence` when the hive was not flushed cleanly.
    pub secondary_sequence: u32,
    /// Last time the hive was written.
    pub last_written: FileTime,
    /// Format major version (always 1).
    pub major_version: u32,
    /// Format minor version (3 for NT 4 to XP, 5 for Windows XP and later,
    /// 6 seen on Windows 10); 4 and later store large values in big-data
    /// cells.
    pub minor_version: u32,
    /// 0 for a primary file, 1 or 2 for an old-format transaction log, 6
    /// for a new-format transaction log.
    pub file_type: u32,
    /// Offset of the root key node, relative to the hive bins.
    pub root_cell: u32,
    /// Size of the hive bins data in bytes.
    pub hive_bins_size: u32,
    /// Checksum stored at offset 508.
    pub stored_checksum: u32,
    /// Checksum computed over the first 508 bytes.
    pub computed_checksum: u32,
}

impl BaseBlock {
    /// Parses a base block from the start of `b` (only the first 512 bytes
    /// are read, as transaction logs keep only those). Checks the
    /// signature; the caller checks what its file type requires.
    pub fn parse(b: &[u8]) -> Result<BaseBlock> {
        let field = |at: usize, name: &'static str| {
            le32(b, at).ok_or_else(|| {
                RegfError::malformed(name, at as u64, "the file ends inside the base block")
            })
        };
        if b.get(0..4) != Some(b"regf".as_slice()) {
            return Err(RegfError::malformed(
                "base block signature",
                0,
                format!(
                    "expected \"regf\"; found {:?}",
                    b.get(0..4).unwrap_or_default()
                ),
            ));
        }
        let last_written = le64(b, 12).ok_or_else(|| {
            RegfError::malformed("base block", 12, "the file ends inside the base block")
        })?;
        Ok(BaseBlock {
            primary_sequence: field(4, "base block field primary sequence number")?,
            secondary_sequence: field(8, "base block field secondary sequence number")?,
            last_written: FileTime(last_written),
            major_version: field(20, "base block field major version")?,
            minor_version: field(24, "base block field minor version")?,
            file_type: field(28, "base block field file type")?,
            root_cell: field(36, "base block field root cell offset")?,
            hive_bins_size: field(40, "base block field hive bins data size")?,
            stored_checksum: field(CHECKSUM_OFFSET, "base block field checksum")?,
            computed_checksum: checksum(b).unwrap_or(!0),
        })
    }

    /// True when the stored checksum matches the first 508 bytes.
    pub fn checksum_ok(&self) -> bool {
        self.stored_checksum == self.computed_checksum
    }

    /// True when the hive was not written out completely: the sequence
    /// numbers differ or the checksum is wrong (the kernel treats both the
    /// same way and recovers from the transaction logs).
    pub fn is_dirty(&self) -> bool {
        self.primary_sequence != self.secondary_sequence || !self.checksum_ok()
    }
}

/// XOR-32 of the first 508 bytes, with the kernel's two special cases (a
/// result of 0 is stored as 1 and 0xFFFFFFFF as 0xFFFFFFFE).
pub fn checksum(b: &[u8]) -> Option<u32> {
    let head = b.get(..CHECKSUM_OFFSET)?;
    let x = head
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .fold(0u32, |acc, c| acc ^ u32::from_le_bytes(c));
    Some(match x {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        x => x,
    })
}

/// Writes `primary`/`secondary` and a fresh checksum into a base block held
/// in memory (used after replaying a transaction log).
pub(crate) fn set_sequences_and_checksum(b: &mut [u8], sequence: u32, bins_size: Option<u32>) {
    if let Some(f) = b.get_mut(4..8) {
        f.copy_from_slice(&sequence.to_le_bytes());
    }
    if let Some(f) = b.get_mut(8..12) {
        f.copy_from_slice(&sequence.to_le_bytes());
    }
    if let (Some(size), Some(f)) = (bins_size, b.get_mut(40..44)) {
        f.copy_from_slice(&size.to_le_bytes());
    }
    if let Some(sum) = checksum(b) {
        if let Some(f) = b.get_mut(CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4) {
            f.copy_from_slice(&sum.to_le_bytes());
        }
    }
}
