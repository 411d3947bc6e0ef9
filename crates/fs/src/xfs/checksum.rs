//! The CRC-32C that v5 XFS stamps into every metadata block: computed over
//! the block with the 4-byte CRC field taken as zeros, stored
//! little-endian.

/// Checks the CRC at `crc_offset` of `block`; the error says what was
/// expected and found.
pub(super) fn verify_crc(block: &[u8], crc_offset: usize) -> Result<(), String> {
    let (Some(head), Some(stored), Some(tail)) = (
        block.get(..crc_offset),
        block.get(crc_offset..crc_offset + 4),
        block.get(crc_offset + 4..),
    ) else {
        return Err(format!(
            "a {}-byte block cannot hold a CRC at byte {crc_offset}",
            block.len()
        ));
    };
    let crc = crc32c::crc32c(head);
    let crc = crc32c::crc32c_append(crc, &[0; 4]);
    let crc = crc32c::crc32c_append(crc, tail);
    let stored = u32::from_le_bytes(<[u8; 4]>::try_from(stored).unwrap_or_default());
    if crc != stored {
        return Err(format!(
            "CRC-32C mismatch: stored {stored:#010x}, computed {crc:#010x}"
        ));
    }
    Ok(())
}
