//! Partition table and file systems of a plain disk. Nothing is mounted
//! and no file system is walked: only tables and superblock magics.

mod fs;
mod gpt;
mod kinds;
mod mbr;

use crate::bytes::read_upto;
use crate::report::{DiskLayout, Filesystem, FoundFilesystem, PartitionKind, PartitionTable};
use crate::{DiskRead, ProbeError};

pub use fs::probe_fs as probe_filesystem;

/// File systems are probed in at most this many partitions.
const MAX_FS_PROBES: usize = 256;

/// Read the partition table(s) and file-system signatures of `disk`.
/// Damaged tables are reported as facts (anomalies, CRC flags); only a
/// failing read is an error.
pub fn read_layout(disk: &dyn DiskRead) -> Result<DiskLayout, ProbeError> {
    let mut anomalies = Vec::new();
    let sector0 = read_upto(disk, 0, 512)?;
    let whole = fs::probe_fs(disk, 0)?;
    // A FAT/NTFS/exFAT boot sector carries 55 AA too; its bytes at 446 are
    // boot code, not a partition table.
    let volume_boot_record = matches!(
        whole,
        Some(
            Filesystem::Fat12
                | Filesystem::Fat16
                | Filesystem::Fat32
                | Filesystem::Ntfs
                | Filesystem::Exfat
        )
    );
    let mut gpt = None;
    for ss in [512u64, 4096] {
        gpt = gpt::parse(disk, ss, &mut anomalies)?;
        if gpt.is_some() {
            break;
        }
    }
    let mut mbr = if volume_boot_record {
        None
    } else {
        mbr::parse(disk, &sector0, &mut anomalies)?
    };
    let table = if gpt.is_some() {
        if !mbr.as_ref().is_some_and(|m| m.protective) {
            anomalies.push("mbr: GPT present without a protective MBR (0xEE) entry".to_string());
        }
        PartitionTable::Gpt
    } else if mbr
        .as_ref()
        .is_some_and(|m| m.boot_signature && !m.partitions.is_empty())
    {
        if mbr.as_ref().is_some_and(|m| m.protective) {
            anomalies.push("mbr: protective 0xEE entry but no GPT header found".to_string());
        }
        PartitionTable::Mbr
    } else {
        PartitionTable::None
    };

    let mut filesystems = Vec::new();
    let mut probes = 0usize;
    if let Some(g) = gpt.as_mut() {
        let ss = u64::from(g.sector_size);
        for p in g.partitions.iter_mut() {
            if p.beyond_disk || probes >= MAX_FS_PROBES {
                continue;
            }
            probes += 1;
            if let Some(off) = p.first_lba.checked_mul(ss) {
                p.filesystem = fs::probe_fs(disk, off)?;
            }
            if let Some(f) = p.filesystem {
                filesystems.push(FoundFilesystem {
                    partition: Some(p.index),
                    filesystem: f,
                });
            }
        }
    } else if table == PartitionTable::Mbr {
        if let Some(m) = mbr.as_mut() {
            for p in m.partitions.iter_mut() {
                if p.kind == PartitionKind::Extended || p.beyond_disk || probes >= MAX_FS_PROBES {
                    continue;
                }
                probes += 1;
                if let Some(off) = p.first_lba.checked_mul(512) {
                    p.filesystem = fs::probe_fs(disk, off)?;
                }
                if let Some(f) = p.filesystem {
                    filesystems.push(FoundFilesystem {
                        partition: Some(p.index),
                        filesystem: f,
                    });
                }
            }
        }
    }
    if let Some(f) = whole {
        filesystems.insert(
            0,
            FoundFilesystem {
                partition: None,
                filesystem: f,
            },
        );
    }
    let (esp, bios_boot) = match (&gpt, &mbr) {
        (Some(g), _) => (
            g.partitions
                .iter()
                .find(|p| p.kind == PartitionKind::Esp)
                .map(|p| p.index),
            g.partitions
                .iter()
                .any(|p| p.kind == PartitionKind::BiosBoot),
        ),
        (None, Some(m)) if table == PartitionTable::Mbr => (
            m.partitions
                .iter()
                .find(|p| p.kind == PartitionKind::Esp)
                .map(|p| p.index),
            false,
        ),
        _ => (None, false),
    };
    Ok(DiskLayout {
        disk_size: disk.size(),
        table,
        mbr,
        gpt,
        esp,
        bios_boot,
        whole_disk_filesystem: whole,
        filesystems,
        anomalies,
    })
}
