//! Little-endian field readers that never panic: a field that does not fit
//! in the slice reads as `None`.

/// u16 at `at`.
pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    Some(u16::from_le_bytes(b.get(at..end)?.try_into().ok()?))
}

/// u32 at `at`.
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    Some(u32::from_le_bytes(b.get(at..end)?.try_into().ok()?))
}

/// u64 at `at`.
pub(crate) fn le64(b: &[u8], at: usize) -> Option<u64> {
    let end = at.checked_add(8)?;
    Some(u64::from_le_bytes(b.get(at..end)?.try_into().ok()?))
}

/// `len` bytes at `at`.
pub(crate) fn slice(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

/// Decodes UTF-16LE up to the first NUL; an odd trailing byte is dropped
/// and unpaired surrogates become U+FFFD.
pub(crate) fn utf16_until_nul(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| <[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Decodes a name stored as UTF-16LE (whole length, NULs kept).
pub(crate) fn utf16_name(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| <[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Decodes a "compressed" name: one byte per character, Latin-1.
pub(crate) fn latin1_name(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}
