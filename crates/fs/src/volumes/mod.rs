//! The volumes of a disk: partitions (MBR with logical partitions, GPT),
//! a file system on the whole disk, and LVM2 logical volumes.
//!
//! Partitions come from `imsprep-probe`'s [`imsprep_probe::read_layout`].
//! Each partition (or the whole disk, when it has no partition table) is
//! then looked at: an LVM2 physical volume joins its volume group; LUKS,
//! BitLocker and MD RAID members are listed in
//! [`DiskVolumes::unread`] with what they are and why they are not read;
//! anything else is a volume that may hold a file system
//! ([`crate::open_filesystem`] tells).
//!
//! Names are those the guest would see with virtio disks: the whole disk
//! as given (`/dev/vda`), partitions `/dev/vda1`... (`/dev/nvme0n1p1` when
//! the disk's name ends in a digit), logical volumes `/dev/VG/LV` with the
//! alias `/dev/mapper/VG-LV` (dashes inside names doubled).

pub mod lvm;
mod signatures;

use std::sync::Arc;

use imsprep_disk::Disk;
use imsprep_probe::{read_layout, PartitionKind, PartitionTable};

use crate::error::FsError;
use crate::volume::Volume;

/// Where a volume comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The whole disk (no partition table).
    WholeDisk,
    /// A partition, numbered as Linux numbers it.
    Partition {
        /// 1-4 primary, 5+ logical on MBR; the slot on GPT.
        index: u32,
    },
    /// An LVM2 logical volume.
    LogicalVolume {
        /// The volume group.
        vg: String,
        /// The logical volume.
        lv: String,
    },
}

/// A volume that may hold a file system.
#[derive(Debug, Clone)]
pub struct FoundVolume {
    /// The bytes, named as the guest names them.
    pub volume: Volume,
    /// Where it comes from.
    pub origin: Origin,
    /// Other names of the same volume (`/dev/mapper/VG-LV`).
    pub aliases: Vec<String>,
}

/// A volume that is there but not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadVolume {
    /// The guest's name for it.
    pub name: String,
    /// What it is, e.g. "LUKS2 encrypted volume", "LVM2 thin volume".
    pub what: String,
    /// Why it is not read.
    pub reason: String,
}

/// The volumes of one disk.
#[derive(Debug, Clone)]
pub struct DiskVolumes {
    /// Volumes that may hold a file system, partitions first, then
    /// logical volumes.
    pub volumes: Vec<FoundVolume>,
    /// Volumes listed but not read, with the reason.
    pub unread: Vec<UnreadVolume>,
}

/// The name of partition `index` of the disk called `disk_name`.
pub fn partition_name(disk_name: &str, index: u32) -> String {
    if disk_name.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk_name}p{index}")
    } else {
        format!("{disk_name}{index}")
    }
}

/// Finds the volumes of `disk`, which the guest calls `disk_name`
/// (e.g. `/dev/vda`).
pub fn find_volumes(disk: Arc<dyn Disk>, disk_name: &str) -> Result<DiskVolumes, FsError> {
    let whole = Volume::whole(Arc::clone(&disk), disk_name);
    let layout = read_layout(&whole)
        .map_err(|e| FsError::malformed(disk_name, "partition table", "layout", e.to_string()))?;
    let mut candidates: Vec<(Volume, Origin)> = Vec::new();
    let mut unread = Vec::new();
    let mut add = |index: u32,
                   start: Option<u64>,
                   len: Option<u64>,
                   kind: PartitionKind,
                   candidates: &mut Vec<(Volume, Origin)>| {
        let name = partition_name(disk_name, index);
        if kind == PartitionKind::Extended {
            return;
        }
        match start
            .zip(len)
            .map(|(s, l)| Volume::new(Arc::clone(&disk), name.clone(), s, l))
        {
            Some(Ok(volume)) => candidates.push((volume, Origin::Partition { index })),
            _ => unread.push(UnreadVolume {
                name,
                what: "partition".to_owned(),
                reason: "it lies (partly) past the end of the disk".to_owned(),
            }),
        }
    };
    match layout.table {
        PartitionTable::Gpt => {
            if let Some(gpt) = &layout.gpt {
                let ss = u64::from(gpt.sector_size);
                for p in &gpt.partitions {
                    let start = p.first_lba.checked_mul(ss);
                    let len = p
                        .last_lba
                        .checked_sub(p.first_lba)
                        .and_then(|n| n.checked_add(1))
                        .and_then(|n| n.checked_mul(ss));
                    add(p.index, start, len, p.kind, &mut candidates);
                }
            }
        }
        PartitionTable::Mbr => {
            if let Some(mbr) = &layout.mbr {
                for p in &mbr.partitions {
                    add(
                        p.index,
                        p.first_lba.checked_mul(512),
                        p.sectors.checked_mul(512),
                        p.kind,
                        &mut candidates,
                    );
                }
            }
        }
        PartitionTable::None => {
            candidates.push((whole, Origin::WholeDisk));
        }
    }

    let mut volumes = Vec::new();
    let mut pvs = Vec::new();
    for (volume, origin) in candidates {
        // A damaged label or signature is listed, not fatal: the other
        // volumes of the disk are still read.
        match lvm::read_label(&volume) {
            Ok(Some(label)) => {
                pvs.push(lvm::PhysicalVolume { volume, label });
                continue;
            }
            Ok(None) => {}
            Err(e) if e.is_bad_image() => {
                unread.push(UnreadVolume {
                    name: volume.name().to_owned(),
                    what: "LVM2 physical volume".to_owned(),
                    reason: e.to_string(),
                });
                continue;
            }
            Err(e) => return Err(e),
        }
        if let Some((what, reason)) = signatures::unreadable(&volume)? {
            unread.push(UnreadVolume {
                name: volume.name().to_owned(),
                what,
                reason,
            });
            continue;
        }
        volumes.push(FoundVolume {
            volume,
            origin,
            aliases: Vec::new(),
        });
    }
    lvm::logical_volumes(&disk, &pvs, &mut volumes, &mut unread);
    Ok(DiskVolumes { volumes, unread })
}
