//! Choosing the reader for a volume by its superblock magic.

use std::io;

use imsprep_probe::{probe_filesystem, DiskRead, Filesystem};

use crate::error::FsError;
use crate::filesystem::FileSystem;
use crate::volume::Volume;

/// Opens the file system on `volume` with the reader its superblock magic
/// names. `Ok(None)` when no file system is there (or swap, or an LVM
/// physical volume: see [`crate::volumes`]); [`FsError::Unsupported`] for
/// one that is recognised but not read (exFAT, ISO 9660, LUKS).
pub fn open_filesystem(volume: Volume) -> Result<Option<Box<dyn FileSystem>>, FsError> {
    let found = probe_filesystem(&volume, 0).map_err(|e| {
        FsError::malformed(
            volume.name(),
            "volume",
            "file-system signature",
            e.to_string(),
        )
    })?;
    let Some(found) = found else {
        return Ok(None);
    };
    let unsupported = |what: &str| Err(FsError::unsupported(volume.name(), "volume", what));
    match found {
        Filesystem::Ext2 | Filesystem::Ext3 | Filesystem::Ext4 => {
            Ok(Some(Box::new(crate::ext4::Ext4::open(volume)?)))
        }
        Filesystem::Fat12 | Filesystem::Fat16 | Filesystem::Fat32 => {
            Ok(Some(Box::new(crate::fat::Fat::open(volume)?)))
        }
        Filesystem::Ntfs => Ok(Some(Box::new(crate::ntfs::Ntfs::open(volume)?))),
        Filesystem::Xfs => Ok(Some(Box::new(crate::xfs::Xfs::open(volume)?))),
        Filesystem::Btrfs => Ok(Some(Box::new(crate::btrfs::Btrfs::open(volume)?))),
        Filesystem::Exfat => unsupported("exFAT file system"),
        Filesystem::Iso9660 => unsupported("ISO 9660 file system"),
        Filesystem::Luks => unsupported("LUKS encrypted volume (no key is ever asked for)"),
        Filesystem::Swap | Filesystem::LvmPv => Ok(None),
    }
}

/// The probe reads a volume like any disk.
impl DiskRead for Volume {
    fn size(&self) -> u64 {
        self.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        Volume::read_at(self, offset, buf).map_err(|e| match e {
            FsError::OutOfRange { .. } => io::ErrorKind::UnexpectedEof.into(),
            FsError::Io {
                source: imsprep_disk::DiskError::Io { source, .. },
                ..
            } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        })
    }
}
