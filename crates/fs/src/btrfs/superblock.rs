//! The primary superblock at 64 KiB: geometry, tree roots and the system
//! chunk array that bootstraps the logical address space.

use crate::bytes::{le16, le32, le64, u8_at};
use crate::FsError;

/// Where the primary superblock lies, and its size.
pub(super) const OFFSET: u64 = 64 << 10;
pub(super) const SIZE: usize = 4096;
/// `_BHRfS_M`.
const MAGIC: u64 = 0x4d5f_5366_5248_425f;
/// `BTRFS_SUPER_FLAG_METADUMP_V2`-style flags that make metadata foreign;
/// `METADATA_UUID` in incompat means tree blocks carry another fsid.
const INCOMPAT_METADATA_UUID: u64 = 1 << 10;
/// Incompatible features this reader understands: mixed backref, default
/// subvol, mixed groups, compress lzo, compress zstd, big metadata,
/// extended iref, raid56 (refused per chunk), skinny metadata, no holes,
/// metadata uuid.
const INCOMPAT_KNOWN: u64 =
    0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400;

/// The superblock fields the reader uses.
#[derive(Debug, Clone)]
pub(super) struct Superblock {
    pub fsid: [u8; 16],
    /// The fsid tree blocks carry.
    pub metadata_fsid: [u8; 16],
    pub root: u64,
    pub root_level: u8,
    pub chunk_root: u64,
    pub chunk_root_level: u8,
    pub total_bytes: u64,
    pub sector_size: u32,
    pub node_size: u32,
    pub devid: u64,
    pub label: String,
    /// The raw system chunk array.
    pub sys_chunks: Vec<u8>,
    pub has_log_tree: bool,
}

fn bad(field: &str, problem: String) -> FsError {
    super::corrupt(format!("superblock field {field}"), OFFSET, problem)
}

impl Superblock {
    /// Parses and checks the 4 KiB superblock `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self, FsError> {
        if le64(buf, 0x40) != MAGIC {
            return Err(bad(
                "magic",
                format!("expected \"_BHRfS_M\"; found {:#018x}", le64(buf, 0x40)),
            ));
        }
        let csum_type = le16(buf, 0xc4);
        if csum_type != 0 {
            return Err(super::unsupported(format!(
                "checksum type {csum_type} (only crc32c, type 0, is read)"
            )));
        }
        let stored = le32(buf, 0);
        let computed = crc32c::crc32c(buf.get(0x20..SIZE).unwrap_or_default());
        if stored != computed {
            return Err(bad(
                "csum",
                format!("CRC-32C mismatch: stored {stored:#010x}, computed {computed:#010x}"),
            ));
        }
        let sector_size = le32(buf, 0x90);
        let node_size = le32(buf, 0x94);
        if !sector_size.is_power_of_two() || !(4096..=65536).contains(&sector_size) {
            return Err(bad(
                "sectorsize",
                format!("expected a power of two in 4096..=65536; found {sector_size}"),
            ));
        }
        if !node_size.is_power_of_two() || !(sector_size..=65536).contains(&node_size) {
            return Err(bad(
                "nodesize",
                format!("expected a power of two from the sector size to 65536; found {node_size}"),
            ));
        }
        let incompat = le64(buf, 0xbc);
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(super::unsupported(format!(
                "incompatible features {:#x}",
                incompat & !INCOMPAT_KNOWN
            )));
        }
        let num_devices = le64(buf, 0x88);
        if num_devices != 1 {
            return Err(super::unsupported(format!(
                "file systems on {num_devices} devices (only single-device file systems are read)"
            )));
        }
        let sys_len = le32(buf, 0xa0) as usize;
        let sys_chunks = buf
            .get(0x32b..0x32b + sys_len)
            .filter(|_| sys_len <= 2048)
            .ok_or_else(|| {
                bad(
                    "sys_chunk_array_size",
                    format!("expected at most 2048; found {sys_len}"),
                )
            })?
            .to_vec();
        let fsid = array16(buf, 0x20);
        let metadata_fsid = if incompat & INCOMPAT_METADATA_UUID != 0 {
            array16(buf, 0x23b)
        } else {
            fsid
        };
        let label_bytes = buf.get(0x12b..0x22b).unwrap_or_default();
        let end = label_bytes
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(label_bytes.len());
        Ok(Superblock {
            fsid,
            metadata_fsid,
            root: le64(buf, 0x50),
            root_level: u8_at(buf, 0xc6),
            chunk_root: le64(buf, 0x58),
            chunk_root_level: u8_at(buf, 0xc7),
            total_bytes: le64(buf, 0x70),
            sector_size,
            node_size,
            devid: le64(buf, 0xc9),
            label: String::from_utf8_lossy(label_bytes.get(..end).unwrap_or_default()).into_owned(),
            sys_chunks,
            has_log_tree: le64(buf, 0x60) != 0,
        })
    }
}

fn array16(buf: &[u8], at: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Some(src) = buf.get(at..at + 16) {
        out.copy_from_slice(src);
    }
    out
}
