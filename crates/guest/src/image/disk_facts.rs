//! What the boot checks need from the disk itself: its partition table,
//! boot code and boot partitions.

use imsprep_disk::Disk;
use imsprep_probe::{read_layout, DiskView, PartitionKind, PartitionTable as ProbeTable};

use crate::files::{DiskFacts, PartitionTable};

/// Most bytes after the MBR looked at for an embedded boot loader (GRUB's
/// core.img lives in the gap before the first partition, up to 1 MiB).
const MAX_GAP: u64 = 1 << 20;

/// Reads the disk facts; what cannot be read stays at its default (no
/// boot code, no table), which the boot checks report as such.
pub(crate) fn disk_facts(disk: &dyn Disk, esp_device: Option<String>) -> DiskFacts {
    let mut facts = DiskFacts {
        esp_device,
        ..DiskFacts::default()
    };
    let mut sector0 = [0u8; 512];
    if disk.read_at(0, &mut sector0).is_ok() {
        let code = &sector0[..440];
        facts.mbr_boot_code = code.iter().any(|&b| b != 0);
        facts.mbr_loader = facts.mbr_boot_code.then(|| loader_name(code));
    }
    let Ok(layout) = read_layout(&DiskView(disk)) else {
        return facts;
    };
    facts.partition_table = match layout.table {
        ProbeTable::Gpt => PartitionTable::Gpt,
        ProbeTable::Mbr => PartitionTable::Mbr,
        ProbeTable::None => PartitionTable::None,
    };
    if let Some(gpt) = &layout.gpt {
        facts.bios_boot_partition = gpt
            .partitions
            .iter()
            .any(|p| p.kind == PartitionKind::BiosBoot);
    }
    if let Some(mbr) = &layout.mbr {
        facts.active_partition = mbr.partitions.iter().any(|p| p.bootable);
        if facts.partition_table == PartitionTable::Mbr {
            let first = mbr
                .partitions
                .iter()
                .map(|p| p.first_lba)
                .filter(|&lba| lba > 1)
                .min()
                .unwrap_or(1);
            facts.mbr_gap_used = gap_used(disk, first.saturating_mul(512));
        }
    }
    facts
}

/// Which boot loader wrote the MBR code, from the strings it carries.
fn loader_name(code: &[u8]) -> String {
    let has = |needle: &[u8]| code.windows(needle.len()).any(|w| w == needle);
    if has(b"GRUB") {
        "GRUB".to_string()
    } else if has(b"BOOTMGR") || has(b"Invalid partition table") {
        "Windows".to_string()
    } else if has(b"SYSLINUX") || has(b"Missing OS") {
        "SYSLINUX".to_string()
    } else {
        "unknown".to_string()
    }
}

/// Whether the sectors between the MBR and `end` hold anything (GRUB's
/// core.img embedded there on an MBR disk).
fn gap_used(disk: &dyn Disk, end: u64) -> bool {
    let end = end.min(MAX_GAP).min(disk.size());
    if end <= 512 {
        return false;
    }
    let mut buf = vec![0u8; (end - 512) as usize];
    disk.read_at(512, &mut buf).is_ok() && buf.iter().any(|&b| b != 0)
}
