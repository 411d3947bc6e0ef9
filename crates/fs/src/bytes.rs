//! Fields of on-disk structures (little-endian, and big-endian for XFS),
//! read without panicking.
//!
//! Each helper reads a field at a fixed offset of a buffer the reader
//! sized itself; a field past the buffer's end reads as zero, which the
//! structure's own checks then refuse.

/// The `N` bytes at `off`, zeros where the buffer ends.
fn field<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = off.checked_add(N).and_then(|end| buf.get(off..end)) {
        out.copy_from_slice(src);
    }
    out
}

/// The byte at `off`.
pub fn u8_at(buf: &[u8], off: usize) -> u8 {
    buf.get(off).copied().unwrap_or(0)
}

/// The little-endian `u16` at `off`.
pub fn le16(buf: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(field(buf, off))
}

/// The little-endian `u32` at `off`.
pub fn le32(buf: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(field(buf, off))
}

/// The little-endian `u64` at `off`.
pub fn le64(buf: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(field(buf, off))
}

/// The big-endian `u16` at `off` (XFS).
pub fn be16(buf: &[u8], off: usize) -> u16 {
    u16::from_be_bytes(field(buf, off))
}

/// The big-endian `u32` at `off`.
pub fn be32(buf: &[u8], off: usize) -> u32 {
    u32::from_be_bytes(field(buf, off))
}

/// The big-endian `u64` at `off`.
pub fn be64(buf: &[u8], off: usize) -> u64 {
    u64::from_be_bytes(field(buf, off))
}

/// `len` bytes at `off`, clipped to the buffer.
pub fn slice(buf: &[u8], off: usize, len: usize) -> &[u8] {
    let start = off.min(buf.len());
    let end = off.saturating_add(len).min(buf.len());
    buf.get(start..end).unwrap_or(&[])
}

/// A lowercase `8-4-4-4-12` UUID from 16 bytes in on-disk (big-endian,
/// RFC 4122) order, as ext, XFS and Btrfs tools print it.
pub fn uuid_string(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A label stored as a NUL-padded byte field: `None` when empty.
pub fn label(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[]));
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_owned())
}
