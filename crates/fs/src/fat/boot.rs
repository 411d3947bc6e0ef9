//! The boot sector's BIOS parameter block (BPB): the volume's geometry,
//! every field checked against the format's limits and the volume's size.

use crate::bytes::{le16, le32, u8_at};
use crate::{FsError, FsKind};

use super::name::oem_text;

/// The file system's name in messages before its type is known.
const FS: &str = "fat";

/// Bytes of the boot sector this module reads.
pub(super) const BOOT_SECTOR_LEN: usize = 512;

/// FAT12 volumes have fewer clusters than this (Microsoft's FAT
/// specification, "FAT Type Determination").
const FAT16_MIN_CLUSTERS: u64 = 4085;
/// FAT16 volumes have fewer clusters than this.
const FAT32_MIN_CLUSTERS: u64 = 65525;
/// FAT32 cluster numbers are 28 bits and 0x0FFFFFF7 marks a bad cluster,
/// so the last usable cluster is 0x0FFFFFF6: at most this many clusters.
const FAT32_MAX_CLUSTERS: u64 = 0x0FFF_FFF5;

/// The geometry of a FAT volume, as its BPB says and checked.
#[derive(Debug, Clone)]
pub(super) struct Geometry {
    /// FAT12, FAT16 or FAT32, by cluster count.
    pub kind: FsKind,
    /// Bytes per cluster.
    pub cluster_size: u32,
    /// Volume byte offset of the FAT this reader reads (the first, or the
    /// active one when FAT32 mirroring is off).
    pub fat_offset: u64,
    /// Bytes of one FAT.
    pub fat_bytes: u64,
    /// Volume byte offset of the FAT12/16 fixed root directory.
    pub root_offset: u64,
    /// Bytes of the FAT12/16 fixed root directory (0 on FAT32).
    pub root_bytes: u32,
    /// First cluster of the FAT32 root directory (0 on FAT12/16).
    pub root_cluster: u32,
    /// Volume byte offset of cluster 2.
    pub data_offset: u64,
    /// Number of data clusters; valid cluster numbers are `2..=clusters+1`.
    pub clusters: u32,
    /// Bytes of the file system (total sectors times sector size).
    pub total_bytes: u64,
    /// The volume serial number, when the extended boot signature is there.
    pub serial: Option<u32>,
    /// The boot sector's volume label (`NO NAME` is none).
    pub label: Option<String>,
    /// The boot sector's state byte has its "dirty" bit set (Linux sets it
    /// while the volume is mounted).
    pub boot_dirty: bool,
}

/// A boot sector field that cannot be right.
fn bad(field: &str, offset: usize, problem: impl Into<String>) -> FsError {
    FsError::malformed(
        "",
        FS,
        format!("boot sector field {field} (offset {offset})"),
        problem,
    )
}

impl Geometry {
    /// Reads the BPB of `boot` (the first [`BOOT_SECTOR_LEN`] bytes of the
    /// volume) for a volume of `volume_len` bytes.
    pub(super) fn parse(boot: &[u8], volume_len: u64) -> Result<Geometry, FsError> {
        let sector = u32::from(le16(boot, 11));
        if !matches!(sector, 512 | 1024 | 2048 | 4096) {
            return Err(bad(
                "BPB_BytsPerSec",
                11,
                format!("{sector} bytes per sector; expected 512, 1024, 2048 or 4096"),
            ));
        }
        let per_cluster = u32::from(u8_at(boot, 13));
        if !per_cluster.is_power_of_two() {
            return Err(bad(
                "BPB_SecPerClus",
                13,
                format!("{per_cluster} sectors per cluster; expected a power of two from 1 to 128"),
            ));
        }
        // At most 128 x 4096 = 512 KiB: mkfs.fat makes such clusters on
        // 4 KiB-sector volumes and Linux mounts them.
        let cluster_size = sector * per_cluster;
        let reserved = u64::from(le16(boot, 14));
        if reserved == 0 {
            return Err(bad(
                "BPB_RsvdSecCnt",
                14,
                "0 reserved sectors; the boot sector itself is one",
            ));
        }
        let fats = u64::from(u8_at(boot, 16));
        if fats == 0 {
            return Err(bad("BPB_NumFATs", 16, "0 FATs; expected at least 1"));
        }
        let root_entries = u32::from(le16(boot, 17));
        let media = u8_at(boot, 21);
        if media != 0xF0 && media < 0xF8 {
            return Err(bad(
                "BPB_Media",
                21,
                format!("media byte {media:#04x}; expected 0xF0 or 0xF8 to 0xFF"),
            ));
        }
        let total16 = u64::from(le16(boot, 19));
        let total = if total16 != 0 {
            total16
        } else {
            u64::from(le32(boot, 32))
        };
        if total == 0 {
            return Err(bad(
                "BPB_TotSec32",
                32,
                "0 sectors (and BPB_TotSec16 is 0 too)",
            ));
        }
        let total_bytes = total * u64::from(sector);
        if total_bytes > volume_len {
            return Err(bad(
                "BPB_TotSec16/BPB_TotSec32",
                19,
                format!(
                    "{total} sectors of {sector} bytes ({total_bytes} bytes) end past the \
                     {volume_len}-byte volume"
                ),
            ));
        }
        let fat16_size = u64::from(le16(boot, 22));
        let fat32_layout = fat16_size == 0;
        let (fat_size, root_sectors) = if fat32_layout {
            let size = u64::from(le32(boot, 36));
            if size == 0 {
                return Err(bad(
                    "BPB_FATSz32",
                    36,
                    "0 sectors per FAT (and BPB_FATSz16 is 0 too)",
                ));
            }
            if root_entries != 0 {
                return Err(bad(
                    "BPB_RootEntCnt",
                    17,
                    format!(
                        "{root_entries} root entries with a FAT32 BPB (BPB_FATSz16 = 0); \
                         FAT32 keeps its root in clusters, expected 0"
                    ),
                ));
            }
            (size, 0)
        } else {
            let per_sector = sector / 32;
            if root_entries == 0 || root_entries % per_sector != 0 {
                return Err(bad(
                    "BPB_RootEntCnt",
                    17,
                    format!(
                        "{root_entries} root entries; a FAT12/16 root directory holds a \
                         nonzero multiple of {per_sector} (whole {sector}-byte sectors)"
                    ),
                ));
            }
            (fat16_size, u64::from(root_entries / per_sector))
        };
        let first_data = reserved + fats * fat_size + root_sectors;
        if first_data >= total {
            return Err(bad(
                if fat32_layout {
                    "BPB_FATSz32"
                } else {
                    "BPB_FATSz16"
                },
                if fat32_layout { 36 } else { 22 },
                format!(
                    "{reserved} reserved, {fats} x {fat_size} FAT and {root_sectors} root \
                     sectors leave no data region in the {total}-sector volume"
                ),
            ));
        }
        let clusters = (total - first_data) / u64::from(per_cluster);
        // Microsoft's rule decides FAT12 from FAT16 by the cluster count.
        // A BPB with the FAT32 layout (no 16-bit FAT size, no fixed root)
        // is FAT32 whatever its count, as Linux and blkid read it: read as
        // FAT16 it would have no root directory at all.
        let kind = if fat32_layout {
            FsKind::Fat32
        } else if clusters < FAT16_MIN_CLUSTERS {
            FsKind::Fat12
        } else if clusters < FAT32_MIN_CLUSTERS {
            FsKind::Fat16
        } else {
            return Err(bad(
                "BPB_FATSz16",
                22,
                format!(
                    "a FAT12/16 BPB (BPB_FATSz16 = {fat16_size}) for {clusters} clusters; \
                     FAT16 holds fewer than {FAT32_MIN_CLUSTERS}"
                ),
            ));
        };
        if clusters == 0 || clusters > FAT32_MAX_CLUSTERS {
            return Err(bad(
                "BPB_SecPerClus",
                13,
                format!("{clusters} data clusters; expected 1 to {FAT32_MAX_CLUSTERS}"),
            ));
        }
        let bits: u64 = match kind {
            FsKind::Fat12 => 12,
            FsKind::Fat16 => 16,
            _ => 32,
        };
        let fat_bytes = fat_size * u64::from(sector);
        if fat_bytes * 8 / bits < clusters + 2 {
            return Err(bad(
                if fat32_layout {
                    "BPB_FATSz32"
                } else {
                    "BPB_FATSz16"
                },
                if fat32_layout { 36 } else { 22 },
                format!(
                    "{fat_size} sectors per FAT hold {} entries; {clusters} clusters need {}",
                    fat_bytes * 8 / bits,
                    clusters + 2
                ),
            ));
        }
        let mut active = 0u64;
        let mut root_cluster = 0u32;
        if kind == FsKind::Fat32 {
            let ext_flags = le16(boot, 40);
            // Bit 7: mirroring off, only the FAT numbered in bits 0-3 is
            // in use.
            if ext_flags & 0x80 != 0 {
                active = u64::from(ext_flags & 0x0F);
                if active >= fats {
                    return Err(bad(
                        "BPB_ExtFlags",
                        40,
                        format!("active FAT {active}, but the volume has {fats}"),
                    ));
                }
            }
            let version = le16(boot, 42);
            if version != 0 {
                return Err(FsError::unsupported(
                    "",
                    "fat32",
                    format!(
                        "FAT32 version {}.{} (BPB_FSVer; only 0.0 is defined)",
                        version >> 8,
                        version & 0xFF
                    ),
                ));
            }
            root_cluster = le32(boot, 44);
            if root_cluster < 2 || u64::from(root_cluster) > clusters + 1 {
                return Err(bad(
                    "BPB_RootClus",
                    44,
                    format!(
                        "root directory at cluster {root_cluster}; expected 2 to {}",
                        clusters + 1
                    ),
                ));
            }
        }
        // The extended boot record sits after the FAT32 fields on FAT32.
        let ext = if kind == FsKind::Fat32 { 64 } else { 36 };
        let signature = u8_at(boot, ext + 2);
        let has_serial = matches!(signature, 0x28 | 0x29);
        let serial = has_serial.then(|| le32(boot, ext + 3));
        let label = if signature == 0x29 {
            label_text(boot.get(ext + 7..ext + 18).unwrap_or(&[]))
        } else {
            None
        };
        let boot_dirty = has_serial && u8_at(boot, ext + 1) & 0x01 != 0;
        let sector = u64::from(sector);
        Ok(Geometry {
            kind,
            cluster_size,
            fat_offset: (reserved + active * fat_size) * sector,
            fat_bytes,
            root_offset: (reserved + fats * fat_size) * sector,
            root_bytes: root_entries * 32,
            root_cluster,
            data_offset: first_data * sector,
            // Checked above to be at most FAT32_MAX_CLUSTERS.
            clusters: u32::try_from(clusters).unwrap_or(0),
            total_bytes,
            serial,
            label,
            boot_dirty,
        })
    }

    /// The last valid cluster number.
    pub(super) fn last_cluster(&self) -> u32 {
        self.clusters + 1
    }

    /// The volume byte offset of `cluster` (checked by the caller to be
    /// in `2..=last_cluster`).
    pub(super) fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_offset + u64::from(cluster.saturating_sub(2)) * u64::from(self.cluster_size)
    }
}

/// An 11-byte label (boot sector or root entry): trailing spaces trimmed,
/// `NO NAME` and an empty label are none.
pub(super) fn label_text(raw: &[u8]) -> Option<String> {
    let text = oem_text(raw);
    let text = text.trim_end_matches([' ', '\0']);
    (!text.is_empty() && text != "NO NAME").then(|| text.to_owned())
}
