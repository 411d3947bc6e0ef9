//! File system signatures at the start of a partition (or of the whole
//! disk). Only superblock magics and a few feature bits are read.

use crate::bytes::{has, le16, le32, read_upto};
use crate::report::Filesystem;
use crate::{DiskRead, ProbeError};

const EXT_SB: usize = 1024;
const EXT_COMPAT_HAS_JOURNAL: u32 = 0x4;
/// extents, 64bit, flex_bg, mmp, inline_data... anything ext4-only.
const EXT4_INCOMPAT: u32 = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x8000;
/// huge_file, gdt_csum, dir_nlink, extra_isize, quota, bigalloc, metadata_csum.
const EXT4_RO_COMPAT: u32 = 0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200 | 0x400;
const BTRFS_MAGIC_AT: u64 = 65536 + 64;
/// Swap's signature sits at the end of the first page; page sizes vary.
const SWAP_PAGE_SIZES: [u64; 4] = [4096, 8192, 16384, 65536];

/// Identify the file system (or volume signature) starting at byte `base`
/// of `disk`, from its superblock magic.
pub fn probe_fs(disk: &dyn DiskRead, base: u64) -> Result<Option<Filesystem>, ProbeError> {
    let b = read_upto(disk, base, 4096)?;
    if b.is_empty() {
        return Ok(None);
    }
    if has(&b, 0, b"LUKS\xba\xbe") {
        return Ok(Some(Filesystem::Luks));
    }
    if has(&b, 0, b"XFSB") {
        return Ok(Some(Filesystem::Xfs));
    }
    if has(&b, 3, b"NTFS    ") {
        return Ok(Some(Filesystem::Ntfs));
    }
    if has(&b, 3, b"EXFAT   ") {
        return Ok(Some(Filesystem::Exfat));
    }
    if le16(&b, EXT_SB + 56) == Some(0xEF53) {
        return Ok(Some(ext_version(&b)));
    }
    for sector in 0..4usize {
        let at = sector * 512;
        if has(&b, at, b"LABELONE") && has(&b, at + 24, b"LVM2 001") {
            return Ok(Some(Filesystem::LvmPv));
        }
    }
    for page in SWAP_PAGE_SIZES {
        let Some(at) = base.checked_add(page - 10) else {
            continue;
        };
        let sig = read_upto(disk, at, 10)?;
        if sig == b"SWAPSPACE2" || sig == b"SWAP-SPACE" {
            return Ok(Some(Filesystem::Swap));
        }
    }
    if let Some(at) = base.checked_add(BTRFS_MAGIC_AT) {
        if read_upto(disk, at, 8)? == b"_BHRfS_M" {
            return Ok(Some(Filesystem::Btrfs));
        }
    }
    if let Some(fat) = fat_type(&b) {
        return Ok(Some(fat));
    }
    if let Some(at) = base.checked_add(0x8001) {
        if read_upto(disk, at, 5)? == b"CD001" {
            return Ok(Some(Filesystem::Iso9660));
        }
    }
    Ok(None)
}

fn ext_version(b: &[u8]) -> Filesystem {
    let compat = le32(b, EXT_SB + 0x5C).unwrap_or(0);
    let incompat = le32(b, EXT_SB + 0x60).unwrap_or(0);
    let ro_compat = le32(b, EXT_SB + 0x64).unwrap_or(0);
    if incompat & EXT4_INCOMPAT != 0 || ro_compat & EXT4_RO_COMPAT != 0 {
        Filesystem::Ext4
    } else if compat & EXT_COMPAT_HAS_JOURNAL != 0 {
        Filesystem::Ext3
    } else {
        Filesystem::Ext2
    }
}

/// FAT by its BIOS parameter block. A BPB without a 16-bit FAT size and
/// without root entries has the FAT32 layout (that is how Linux and blkid
/// read it, even below the specification's 65525 clusters); otherwise
/// the cluster count tells FAT12 from FAT16.
fn fat_type(b: &[u8]) -> Option<Filesystem> {
    if !matches!(b.first(), Some(0xEB) | Some(0xE9)) || !has(b, 510, b"\x55\xAA") {
        return None;
    }
    let bytes_per_sector = u32::from(le16(b, 11)?);
    let per_cluster = u32::from(*b.get(13)?);
    let reserved = u32::from(le16(b, 14)?);
    let fats = u32::from(*b.get(16)?);
    let root_entries = u32::from(le16(b, 17)?);
    let total16 = u32::from(le16(b, 19)?);
    let fat16_size = u32::from(le16(b, 22)?);
    let total32 = le32(b, 32)?;
    let fat32_size = le32(b, 36)?;
    if !matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
        || !per_cluster.is_power_of_two()
        || reserved == 0
        || !(1..=4).contains(&fats)
    {
        return None;
    }
    if fat16_size == 0 && root_entries == 0 {
        return (fat32_size != 0).then_some(Filesystem::Fat32);
    }
    let fat_size = if fat16_size != 0 {
        fat16_size
    } else {
        fat32_size
    };
    let total = if total16 != 0 { total16 } else { total32 };
    if fat_size == 0 || total == 0 {
        return None;
    }
    let root_sectors = (root_entries * 32).div_ceil(bytes_per_sector);
    let meta = reserved
        .checked_add(fats.checked_mul(fat_size)?)?
        .checked_add(root_sectors)?;
    let clusters = total.checked_sub(meta)? / per_cluster;
    Some(if clusters < 4085 {
        Filesystem::Fat12
    } else {
        Filesystem::Fat16
    })
}
