//! The 512-byte hard disk footer: at the end of every VHD, and copied to the
//! start of dynamic and differencing disks.

use std::path::Path;

use crate::error::DiskError;
use crate::formats::bytes::{be32, be64};
use crate::io::ReadAt;

use super::{FORMAT, SECTOR};

/// Bytes in the footer.
pub(super) const FOOTER_LEN: u64 = 512;

/// Largest virtual size of a dynamic or differencing disk: 2040 GiB, the
/// limit the specification gives for dynamic disks (and the one QEMU
/// applies). A fixed disk is bounded by its own file instead, since fixed
/// disks larger than that exist (cloud data disks).
pub(super) const MAX_SPARSE_SIZE: u64 = 2040 << 30;

/// The three kinds of VHD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DiskType {
    /// The data, then the footer.
    Fixed,
    /// Blocks allocated on first write, through a block allocation table.
    Dynamic,
    /// A dynamic disk whose unwritten sectors read from a parent.
    Differencing,
}

impl DiskType {
    /// The name shown as the disk's variant.
    pub fn name(self) -> &'static str {
        match self {
            DiskType::Fixed => "fixed",
            DiskType::Dynamic => "dynamic",
            DiskType::Differencing => "differencing",
        }
    }
}

/// The footer fields this reader uses.
#[derive(Debug, Clone)]
pub(super) struct Footer {
    /// Where this copy was read.
    pub at: u64,
    pub disk_type: DiskType,
    /// Offset of the dynamic disk header (dynamic and differencing disks).
    pub data_offset: u64,
    /// Virtual size in bytes.
    pub current_size: u64,
    /// Identifies the disk; a differencing child records its parent's.
    pub unique_id: [u8; 16],
}

/// The footer of `src`: the copy at its end, or, when that one is missing
/// or damaged, the copy at its start that dynamic and differencing disks
/// keep (as QEMU does). Returns the footer and whether the end copy is the
/// one used (then the data area ends before it).
pub(super) fn locate(src: &ReadAt) -> Result<(Footer, bool), DiskError> {
    let path = src.path();
    let len = src.len();
    if len < FOOTER_LEN {
        return Err(DiskError::malformed(
            path,
            FORMAT,
            "footer",
            0,
            format!("the file holds {len} bytes; a VHD ends with a {FOOTER_LEN}-byte footer"),
        ));
    }
    let end_at = len - FOOTER_LEN;
    let end = parse(&read(src, end_at)?, path, end_at);
    let end_err = match end {
        Ok(footer) => return Ok((footer, true)),
        Err(e) => e,
    };
    if end_at > 0 {
        if let Ok(head) = parse(&read(src, 0)?, path, 0) {
            if head.disk_type != DiskType::Fixed {
                return Ok((head, false));
            }
        }
    }
    Err(end_err)
}

fn read(src: &ReadAt, at: u64) -> Result<[u8; FOOTER_LEN as usize], DiskError> {
    let mut buf = [0u8; FOOTER_LEN as usize];
    src.read_exact_at(at, &mut buf)?;
    Ok(buf)
}

/// The one's complement of the byte sum of `buf`, skipping the 4-byte
/// checksum field at `field` (counted as zeros): the checksum of both the
/// footer and the dynamic disk header.
pub(super) fn checksum(buf: &[u8], field: usize) -> u32 {
    let sum = buf
        .iter()
        .enumerate()
        .filter(|(i, _)| !(field..field + 4).contains(i))
        .fold(0u32, |sum, (_, &b)| sum.wrapping_add(u32::from(b)));
    !sum
}

/// Parses and checks one copy of the footer read at `at`.
pub(super) fn parse(buf: &[u8], path: &Path, at: u64) -> Result<Footer, DiskError> {
    let bad = |field: &str, rel: u64, problem: String| {
        DiskError::malformed(
            path,
            FORMAT,
            format!("footer field {field}"),
            at + rel,
            problem,
        )
    };
    if buf.get(..8) != Some(b"conectix".as_slice()) {
        return Err(bad(
            "cookie",
            0,
            "expected \"conectix\"; this is not a VHD footer".to_string(),
        ));
    }
    let stored = be32(buf, 64);
    let computed = checksum(buf, 64);
    if stored != computed {
        return Err(bad(
            "checksum",
            64,
            format!("expected {computed:#010x} (the one's complement of the byte sum); found {stored:#010x}"),
        ));
    }
    let version = be32(buf, 12);
    if version >> 16 != 1 {
        return Err(bad(
            "file format version",
            12,
            format!("expected major version 1 (0x00010000); found {version:#010x}"),
        ));
    }
    let disk_type = match be32(buf, 60) {
        2 => DiskType::Fixed,
        3 => DiskType::Dynamic,
        4 => DiskType::Differencing,
        other => {
            return Err(bad(
                "disk type",
                60,
                format!("expected 2 (fixed), 3 (dynamic) or 4 (differencing); found {other}"),
            ))
        }
    };
    let current_size = be64(buf, 48);
    if current_size % SECTOR != 0 {
        return Err(bad(
            "current size",
            48,
            format!("expected a multiple of {SECTOR} bytes; found {current_size}"),
        ));
    }
    if disk_type != DiskType::Fixed && current_size > MAX_SPARSE_SIZE {
        return Err(bad(
            "current size",
            48,
            format!(
                "a {} disk holds at most {MAX_SPARSE_SIZE} bytes (2040 GiB); found {current_size}",
                disk_type.name()
            ),
        ));
    }
    let mut unique_id = [0u8; 16];
    if let Some(id) = buf.get(68..84) {
        unique_id.copy_from_slice(id);
    }
    Ok(Footer {
        at,
        disk_type,
        data_offset: be64(buf, 16),
        current_size,
        unique_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer(disk_type: u32, size: u64) -> Vec<u8> {
        let mut buf = vec![0u8; 512];
        buf[..8].copy_from_slice(b"conectix");
        buf[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        buf[16..24].copy_from_slice(&512u64.to_be_bytes());
        buf[48..56].copy_from_slice(&size.to_be_bytes());
        buf[60..64].copy_from_slice(&disk_type.to_be_bytes());
        let sum = checksum(&buf, 64);
        buf[64..68].copy_from_slice(&sum.to_be_bytes());
        buf
    }

    #[test]
    fn a_good_footer_parses_and_each_bad_field_is_named() {
        let p = Path::new("x.vhd");
        let f = parse(&footer(3, 1 << 20), p, 0).unwrap();
        assert_eq!(f.disk_type, DiskType::Dynamic);
        assert_eq!(f.current_size, 1 << 20);
        let err = parse(&footer(5, 1 << 20), p, 0).unwrap_err().to_string();
        assert!(err.contains("disk type"), "{err}");
        let err = parse(&footer(3, 1 << 62), p, 0).unwrap_err().to_string();
        assert!(err.contains("current size"), "{err}");
        let err = parse(&footer(2, 1000), p, 0).unwrap_err().to_string();
        assert!(err.contains("current size"), "{err}");
        let mut broken = footer(2, 1 << 20);
        broken[100] ^= 1;
        let err = parse(&broken, p, 0).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        assert!(parse(&broken[..10], p, 0).is_err());
    }
}
