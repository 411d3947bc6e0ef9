//! The boot sector, checked here before the `ntfs` crate sees it: the
//! crate accepts file records of up to 254 MiB and an MFT anywhere, so
//! the sizes and offsets it would allocate or seek by are bounded first.

use crate::bytes::{le16, le64, u8_at};
use crate::error::FsError;

/// The sizes and places the rest of the reader relies on.
#[derive(Debug, Clone, Copy)]
pub struct BootSector {
    /// Bytes per cluster (a sector to 2 MiB).
    pub cluster_size: u32,
    /// Bytes of the file system, as its boot sector says.
    pub size: u64,
    /// Volume serial number.
    pub serial: u64,
}

/// Checks the first sector of an NTFS volume of `volume_len` bytes.
pub fn check(name: &str, sector: &[u8], volume_len: u64) -> Result<BootSector, FsError> {
    let bad = |field: &str, problem: String| {
        FsError::malformed(name, "ntfs", format!("boot sector field {field}"), problem)
    };
    if sector.get(3..11) != Some(b"NTFS    ") {
        return Err(bad("OEM ID at offset 3", "expected \"NTFS    \"".into()));
    }
    let sector_size = u32::from(le16(sector, 0x0b));
    if !(512..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
        return Err(bad(
            "bytes per sector at offset 11",
            format!("expected a power of two from 512 to 4096; found {sector_size}"),
        ));
    }
    // Values above 0x80 are a negative power of two (large clusters).
    let raw = u8_at(sector, 0x0d);
    let sectors_per_cluster: u64 = match raw {
        1..=0x80 if raw.is_power_of_two() => u64::from(raw),
        0xf4..=0xff => 1u64 << (256 - u32::from(raw)),
        _ => {
            return Err(bad(
                "sectors per cluster at offset 13",
                format!("expected a power of two; found {raw:#x}"),
            ))
        }
    };
    let cluster_size = u64::from(sector_size) * sectors_per_cluster;
    if cluster_size > 2 << 20 {
        return Err(bad(
            "sectors per cluster at offset 13",
            format!("cluster of {cluster_size} bytes; at most 2 MiB is valid"),
        ));
    }
    let total_sectors = le64(sector, 0x28);
    let size = total_sectors
        .checked_mul(u64::from(sector_size))
        .filter(|&s| s <= volume_len && s >= cluster_size)
        .ok_or_else(|| {
            bad(
                "total sectors at offset 40",
                format!(
                    "{total_sectors} sectors of {sector_size} bytes; the volume holds {volume_len} bytes"
                ),
            )
        })?;
    let record = record_size(u8_at(sector, 0x40), cluster_size);
    if !matches!(record, Some(1024..=4096)) {
        return Err(bad(
            "clusters per file record at offset 64",
            format!(
                "expected records of 1024 to 4096 bytes; found {:#x}",
                u8_at(sector, 0x40)
            ),
        ));
    }
    let record = record.unwrap_or(1024);
    let index = record_size(u8_at(sector, 0x44), cluster_size);
    if !matches!(index, Some(512..=65536)) {
        return Err(bad(
            "clusters per index record at offset 68",
            format!(
                "expected records of 512 bytes to 64 KiB; found {:#x}",
                u8_at(sector, 0x44)
            ),
        ));
    }
    // The mirror is never read, so only the MFT's own place is checked.
    let lcn = le64(sector, 0x30);
    let end = lcn
        .checked_mul(cluster_size)
        .and_then(|start| start.checked_add(4 * record));
    if lcn == 0 || end.is_none_or(|end| end > size) {
        return Err(bad(
            "MFT cluster at offset 48",
            format!("cluster {lcn} is not inside the {size}-byte file system"),
        ));
    }
    Ok(BootSector {
        cluster_size: cluster_size as u32,
        size,
        serial: le64(sector, 0x48),
    })
}

/// A record size field: clusters when positive, `2^-n` bytes when
/// negative. `None` when it cannot be a size.
fn record_size(raw: u8, cluster_size: u64) -> Option<u64> {
    let signed = raw as i8;
    if signed > 0 {
        u64::from(raw).checked_mul(cluster_size)
    } else {
        let shift = u32::from(signed.unsigned_abs());
        (shift < 32).then(|| 1u64 << shift)
    }
}
