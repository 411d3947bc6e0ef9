//! Bounds-checked field access on byte slices. Every accessor returns
//! `None` (or a default) instead of panicking on short input.

use crate::{DiskRead, ProbeError};

/// `len` bytes at `off`, if they are all inside `b`.
pub(crate) fn field(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

/// True when `magic` sits at `off`.
pub(crate) fn has(b: &[u8], off: usize, magic: &[u8]) -> bool {
    field(b, off, magic.len()) == Some(magic)
}

fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    field(b, off, N)?.try_into().ok()
}

/// Little-endian u16 at `off`.
pub(crate) fn le16(b: &[u8], off: usize) -> Option<u16> {
    array(b, off).map(u16::from_le_bytes)
}

/// Little-endian u32 at `off`.
pub(crate) fn le32(b: &[u8], off: usize) -> Option<u32> {
    array(b, off).map(u32::from_le_bytes)
}

/// Little-endian u64 at `off`.
pub(crate) fn le64(b: &[u8], off: usize) -> Option<u64> {
    array(b, off).map(u64::from_le_bytes)
}

/// Big-endian u16 at `off`.
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    array(b, off).map(u16::from_be_bytes)
}

/// Big-endian u32 at `off`.
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    array(b, off).map(u32::from_be_bytes)
}

/// Big-endian u64 at `off`.
pub(crate) fn be64(b: &[u8], off: usize) -> Option<u64> {
    array(b, off).map(u64::from_be_bytes)
}

/// Text up to the first NUL, lossily decoded, without trailing blanks.
pub(crate) fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(b.get(..end).unwrap_or_default())
        .trim_end()
        .to_string()
}

/// UTF-16 text (little- or big-endian) up to the first NUL unit.
pub(crate) fn utf16(b: &[u8], big_endian: bool) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| {
            let pair = [c[0], c[1]];
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        })
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// GUID stored in the mixed-endian layout of GPT and VHDX, formatted in
/// the canonical uppercase form.
pub(crate) fn guid_mixed(b: &[u8]) -> String {
    let Some(g) = array::<16>(b, 0) else {
        return String::new();
    };
    format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

/// Read up to `max` bytes at `off`, fewer when the disk ends first; an
/// offset at or past the end gives an empty buffer.
pub(crate) fn read_upto(disk: &dyn DiskRead, off: u64, max: usize) -> Result<Vec<u8>, ProbeError> {
    let avail = disk.size().saturating_sub(off);
    let len = usize::try_from(avail).unwrap_or(usize::MAX).min(max);
    let mut buf = vec![0u8; len];
    if len > 0 {
        read_exact(disk, off, &mut buf)?;
    }
    Ok(buf)
}

/// Read exactly `buf.len()` bytes at `off`, mapping the error to a typed one.
pub(crate) fn read_exact(disk: &dyn DiskRead, off: u64, buf: &mut [u8]) -> Result<(), ProbeError> {
    disk.read_at(off, buf).map_err(|source| ProbeError::Read {
        offset: off,
        len: buf.len(),
        source,
    })
}

/// Read exactly `len` bytes at `off` when they lie inside the disk;
/// `Ok(None)` when they do not. `len` must already be bounded by the caller.
pub(crate) fn read_in_bounds(
    disk: &dyn DiskRead,
    off: u64,
    len: usize,
) -> Result<Option<Vec<u8>>, ProbeError> {
    match off.checked_add(len as u64) {
        Some(end) if end <= disk.size() => {
            let mut buf = vec![0u8; len];
            read_exact(disk, off, &mut buf)?;
            Ok(Some(buf))
        }
        _ => Ok(None),
    }
}
