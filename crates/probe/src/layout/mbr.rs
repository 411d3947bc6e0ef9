//! MBR: boot signature, four primary entries and the chain of logical
//! partitions inside an extended one (bounded, loop-safe).

use crate::bytes::{has, le32, read_in_bounds};
use crate::layout::kinds::mbr_kind;
use crate::report::{MbrInfo, MbrPartition, PartitionKind};
use crate::{DiskRead, ProbeError};

const SECTOR: u64 = 512;
/// Linux stops at far fewer logical partitions in practice.
const MAX_LOGICAL: u32 = 128;

/// One raw 16-byte entry.
struct Entry {
    status: u8,
    code: u8,
    first: u64,
    sectors: u64,
}

fn entry(sector: &[u8], i: usize) -> Option<Entry> {
    let at = 446 + i * 16;
    Some(Entry {
        status: *sector.get(at)?,
        code: *sector.get(at + 4)?,
        first: u64::from(le32(sector, at + 8)?),
        sectors: u64::from(le32(sector, at + 12)?),
    })
}

/// Parse the MBR in `sector0`. `None` when the sector holds neither a boot
/// signature nor a plausible entry.
pub(crate) fn parse(
    disk: &dyn DiskRead,
    sector0: &[u8],
    anomalies: &mut Vec<String>,
) -> Result<Option<MbrInfo>, ProbeError> {
    let boot_signature = has(sector0, 510, b"\x55\xAA");
    let entries: Vec<Entry> = (0..4).filter_map(|i| entry(sector0, i)).collect();
    let statuses_ok = entries.iter().all(|e| e.status == 0 || e.status == 0x80);
    let used: Vec<(u32, &Entry)> = entries
        .iter()
        .zip(1u32..)
        .filter(|(e, _)| e.code != 0 && e.sectors != 0)
        .map(|(e, i)| (i, e))
        .collect();
    if !boot_signature && (used.is_empty() || !statuses_ok) {
        return Ok(None);
    }
    if !statuses_ok {
        anomalies.push("mbr.status: a boot indicator is neither 0x00 nor 0x80".to_string());
        return Ok(Some(MbrInfo {
            boot_signature,
            has_boot_code: boot_code(sector0),
            protective: false,
            disk_signature: le32(sector0, 440).unwrap_or(0),
            partitions: Vec::new(),
        }));
    }
    if !boot_signature {
        anomalies.push("mbr.boot_signature: bytes 510..512 are not 55 AA".to_string());
    }
    let disk_sectors = disk.size() / SECTOR;
    let mut partitions = Vec::new();
    for (index, e) in &used {
        partitions.push(make(*index, e, 0, disk_sectors));
    }
    let protective = used.len() == 1 && used.first().is_some_and(|(_, e)| e.code == 0xEE);
    if let Some((_, ext)) = used
        .iter()
        .find(|(_, e)| mbr_kind(e.code) == PartitionKind::Extended)
    {
        logical(disk, ext.first, disk_sectors, &mut partitions, anomalies)?;
    }
    Ok(Some(MbrInfo {
        boot_signature,
        has_boot_code: boot_code(sector0),
        protective,
        disk_signature: le32(sector0, 440).unwrap_or(0),
        partitions,
    }))
}

fn boot_code(sector0: &[u8]) -> bool {
    sector0.iter().take(440).any(|&b| b != 0)
}

fn make(index: u32, e: &Entry, base: u64, disk_sectors: u64) -> MbrPartition {
    let first_lba = base.saturating_add(e.first);
    MbrPartition {
        index,
        bootable: e.status == 0x80,
        type_code: e.code,
        kind: mbr_kind(e.code),
        first_lba,
        sectors: e.sectors,
        beyond_disk: first_lba.saturating_add(e.sectors) > disk_sectors,
        filesystem: None,
    }
}

/// Follow the extended boot records. Each EBR holds a logical partition
/// (relative to the EBR) and a link to the next EBR (relative to the
/// extended partition start).
fn logical(
    disk: &dyn DiskRead,
    ext_start: u64,
    disk_sectors: u64,
    out: &mut Vec<MbrPartition>,
    anomalies: &mut Vec<String>,
) -> Result<(), ProbeError> {
    let mut ebr = ext_start;
    let mut seen = Vec::new();
    for index in 5..5 + MAX_LOGICAL {
        if seen.contains(&ebr) {
            anomalies.push(format!("mbr.ebr at sector {ebr}: link loops back"));
            return Ok(());
        }
        seen.push(ebr);
        let Some(sector) = ebr
            .checked_mul(SECTOR)
            .map(|off| read_in_bounds(disk, off, SECTOR as usize))
            .transpose()?
            .flatten()
        else {
            anomalies.push(format!("mbr.ebr at sector {ebr}: past the end of the disk"));
            return Ok(());
        };
        if !has(&sector, 510, b"\x55\xAA") {
            anomalies.push(format!("mbr.ebr at sector {ebr}: no 55 AA signature"));
            return Ok(());
        }
        if let Some(e) = entry(&sector, 0) {
            if e.code != 0 && e.sectors != 0 {
                out.push(make(index, &e, ebr, disk_sectors));
            }
        }
        match entry(&sector, 1) {
            Some(next) if next.code != 0 && next.first != 0 => {
                ebr = ext_start.saturating_add(next.first);
            }
            _ => return Ok(()),
        }
    }
    anomalies.push(format!(
        "mbr.ebr: more than {MAX_LOGICAL} logical partitions, rest ignored"
    ));
    Ok(())
}
