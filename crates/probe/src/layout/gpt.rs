//! GPT: primary header at LBA 1, backup at the last LBA, both checked by
//! CRC32, and the partition entry array (bounded before it is read).

use crate::bytes::{field, guid_mixed, has, le32, le64, read_in_bounds, utf16};
use crate::layout::kinds::gpt_kind;
use crate::report::{GptHeader, GptInfo, GptPartition};
use crate::{DiskRead, ProbeError};

/// Largest entry array we read (the usual one is 16 KiB).
const MAX_ENTRY_ARRAY: u64 = 1024 * 1024;
/// The header proper is 92 bytes; a larger header_size must fit a sector.
const MIN_HEADER: u32 = 92;

/// A header with the entry array it points at (when that could be read).
struct Parsed {
    header: GptHeader,
    disk_guid: String,
    entries: Option<Vec<u8>>,
}

/// Look for a GPT with logical sector size `ss`. `None` when neither the
/// primary nor the backup header has the `EFI PART` signature.
pub(crate) fn parse(
    disk: &dyn DiskRead,
    ss: u64,
    anomalies: &mut Vec<String>,
) -> Result<Option<GptInfo>, ProbeError> {
    let sectors = disk.size() / ss;
    if sectors < 2 {
        return Ok(None);
    }
    let last = sectors - 1;
    let primary = header_at(disk, ss, 1)?;
    let backup_lba = match &primary {
        Some(p)
            if p.header.header_crc_ok
                && p.header.alternate_lba > 1
                && p.header.alternate_lba <= last =>
        {
            p.header.alternate_lba
        }
        _ => last,
    };
    // On a disk too short for a separate backup, LBA 1 is the last LBA:
    // do not read the primary twice.
    let mut backup = None;
    if backup_lba > 1 {
        backup = header_at(disk, ss, backup_lba)?;
    }
    if backup.is_none() && backup_lba != last && last > 1 {
        backup = header_at(disk, ss, last)?;
    }
    let (primary, backup) = match (primary, backup) {
        (None, None) => return Ok(None),
        (Some(p), b) => (p, b),
        (None, Some(b)) => {
            anomalies.push(format!(
                "gpt.primary_header at LBA 1 ({ss}-byte sectors): signature missing, backup present"
            ));
            (absent(), Some(b))
        }
    };
    note(&primary.header, "primary", anomalies);
    match &backup {
        Some(b) => note(&b.header, "backup", anomalies),
        None => anomalies.push(format!(
            "gpt.backup_header at LBA {backup_lba}: signature missing"
        )),
    }
    let good = |p: &Parsed| p.header.header_crc_ok && p.header.entries_crc_ok;
    let source = if good(&primary) {
        Some(&primary)
    } else if let Some(b) = backup.as_ref().filter(|b| good(b)) {
        Some(b)
    } else {
        // Neither copy is clean: still list what the primary says, as facts.
        Some(&primary).filter(|p| p.entries.is_some())
    };
    let partitions = source.map(|p| partitions(p, last)).unwrap_or_default();
    let disk_guid = source.map(|p| p.disk_guid.clone()).unwrap_or_default();
    Ok(Some(GptInfo {
        sector_size: u32::try_from(ss).unwrap_or(u32::MAX),
        disk_guid,
        primary: primary.header,
        backup: backup.map(|b| b.header),
        partitions,
    }))
}

fn absent() -> Parsed {
    Parsed {
        header: GptHeader {
            lba: 1,
            signature_ok: false,
            header_crc_ok: false,
            entries_crc_ok: false,
            my_lba: 0,
            alternate_lba: 0,
            entries_lba: 0,
            entry_count: 0,
            entry_size: 0,
            first_usable_lba: 0,
            last_usable_lba: 0,
            entries_bounded: false,
        },
        disk_guid: String::new(),
        entries: None,
    }
}

fn note(h: &GptHeader, which: &str, anomalies: &mut Vec<String>) {
    if !h.signature_ok {
        return;
    }
    if !h.header_crc_ok {
        anomalies.push(format!(
            "gpt.{which}_header at LBA {}: header CRC32 mismatch",
            h.lba
        ));
    }
    if !h.entries_bounded {
        anomalies.push(format!(
            "gpt.{which}_header at LBA {}: entry array of {} x {} bytes at LBA {} is out of bounds (entry size 128..=4096 in steps of 128, at most {MAX_ENTRY_ARRAY} bytes, inside the disk)",
            h.lba, h.entry_count, h.entry_size, h.entries_lba
        ));
    } else if !h.entries_crc_ok {
        anomalies.push(format!(
            "gpt.{which}_header at LBA {}: partition entry array CRC32 mismatch",
            h.lba
        ));
    }
    if h.my_lba != h.lba {
        anomalies.push(format!(
            "gpt.{which}_header at LBA {}: my_lba field says {}",
            h.lba, h.my_lba
        ));
    }
}

fn header_at(disk: &dyn DiskRead, ss: u64, lba: u64) -> Result<Option<Parsed>, ProbeError> {
    let Some(off) = lba.checked_mul(ss) else {
        return Ok(None);
    };
    let Some(sector) = read_in_bounds(disk, off, ss as usize)? else {
        return Ok(None);
    };
    if !has(&sector, 0, b"EFI PART") {
        return Ok(None);
    }
    let header_size = le32(&sector, 12).unwrap_or(0);
    let stored_crc = le32(&sector, 16).unwrap_or(0);
    let header_crc_ok = (MIN_HEADER..=ss as u32).contains(&header_size)
        && field(&sector, 0, header_size as usize).is_some_and(|h| {
            let mut copy = h.to_vec();
            if let Some(crc) = copy.get_mut(16..20) {
                crc.fill(0);
            }
            crc32fast::hash(&copy) == stored_crc
        });
    let entries_lba = le64(&sector, 72).unwrap_or(0);
    let entry_count = le32(&sector, 80).unwrap_or(0);
    let entry_size = le32(&sector, 84).unwrap_or(0);
    let entries_crc = le32(&sector, 88).unwrap_or(0);
    let array_len = u64::from(entry_count).checked_mul(u64::from(entry_size));
    let array_off = entries_lba.checked_mul(ss);
    let entries_bounded = (128..=4096).contains(&entry_size)
        && entry_size % 128 == 0
        && array_len.is_some_and(|l| l <= MAX_ENTRY_ARRAY)
        && matches!((array_off, array_len), (Some(o), Some(l)) if o.checked_add(l).is_some_and(|e| e <= disk.size()));
    let entries = match (entries_bounded, array_off, array_len) {
        (true, Some(o), Some(l)) => read_in_bounds(disk, o, l as usize)?,
        _ => None,
    };
    let entries_crc_ok = entries
        .as_ref()
        .is_some_and(|e| crc32fast::hash(e) == entries_crc);
    Ok(Some(Parsed {
        header: GptHeader {
            lba,
            signature_ok: true,
            header_crc_ok,
            entries_crc_ok,
            my_lba: le64(&sector, 24).unwrap_or(0),
            alternate_lba: le64(&sector, 32).unwrap_or(0),
            entries_lba,
            entry_count,
            entry_size,
            first_usable_lba: le64(&sector, 40).unwrap_or(0),
            last_usable_lba: le64(&sector, 48).unwrap_or(0),
            entries_bounded,
        },
        disk_guid: guid_mixed(field(&sector, 56, 16).unwrap_or_default()),
        entries,
    }))
}

fn partitions(p: &Parsed, last_lba: u64) -> Vec<GptPartition> {
    let Some(array) = &p.entries else {
        return Vec::new();
    };
    let size = p.header.entry_size as usize;
    let last_usable = p.header.last_usable_lba.min(last_lba);
    let mut out = Vec::new();
    for (slot, e) in array.chunks_exact(size.max(128)).enumerate() {
        let type_bytes = field(e, 0, 16).unwrap_or_default();
        if type_bytes.iter().all(|&b| b == 0) {
            continue;
        }
        let type_guid = guid_mixed(type_bytes);
        let first_lba = le64(e, 32).unwrap_or(0);
        let last = le64(e, 40).unwrap_or(0);
        out.push(GptPartition {
            index: u32::try_from(slot + 1).unwrap_or(u32::MAX),
            kind: gpt_kind(&type_guid),
            type_guid,
            unique_guid: guid_mixed(field(e, 16, 16).unwrap_or_default()),
            name: utf16(field(e, 56, 72).unwrap_or_default(), false),
            first_lba,
            last_lba: last,
            attributes: le64(e, 48).unwrap_or(0),
            beyond_disk: last > last_usable
                || first_lba < p.header.first_usable_lba
                || first_lba > last,
            filesystem: None,
        });
    }
    out
}
