//! RAW images: a regular file or a block device, read as it is.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use rustix::fs::{seek, SeekFrom};
use rustix::io::Errno;

use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::io::read_exact_at;

/// What kind of file a RAW disk is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A regular file; its holes are found with `SEEK_DATA`/`SEEK_HOLE`.
    File,
    /// A block device (`/dev/sdb`, `/dev/loop0`, `/dev/vg/root`): sized by
    /// seeking to its end, every byte read.
    BlockDevice,
}

/// Bytes of a block device's start compared before and after a long read,
/// since a device has no modification time to tell a write by.
const HEAD_CHECK_BYTES: usize = 64 << 10;

/// A RAW image file or a block device.
#[derive(Debug)]
pub struct RawDisk {
    file: Arc<File>,
    info: DiskInfo,
    kind: SourceKind,
    /// Regular files: length and modification time when opened.
    modified: Option<SystemTime>,
    /// Block devices: the CRC-32 of the first bytes when opened.
    head_crc: Option<u32>,
}

impl RawDisk {
    /// Opens `path` read-only: a regular file or a block device. Anything
    /// else (a directory, a FIFO, a character device) is refused; streams
    /// are read by the caller, not through a [`Disk`].
    pub fn open(path: &Path) -> Result<RawDisk, DiskError> {
        let file = File::open(path).map_err(|e| DiskError::io(path, "opening", e))?;
        RawDisk::from_file(file, path)
    }

    /// Wraps a file opened read-only; `path` is for messages.
    pub fn from_file(file: File, path: &Path) -> Result<RawDisk, DiskError> {
        let meta = file
            .metadata()
            .map_err(|e| DiskError::io(path, "reading metadata", e))?;
        let kind = source_kind(&meta).ok_or_else(|| {
            DiskError::io(
                path,
                "opening",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "neither a regular file nor a block device",
                ),
            )
        })?;
        let size = match kind {
            SourceKind::File => meta.len(),
            SourceKind::BlockDevice => {
                device_size(&file).map_err(|e| DiskError::io(path, "finding the device size", e))?
            }
        };
        let mut disk = RawDisk {
            file: Arc::new(file),
            info: DiskInfo {
                format: "raw",
                variant: match kind {
                    SourceKind::File => String::new(),
                    SourceKind::BlockDevice => "block device".to_string(),
                },
                path: path.to_owned(),
                size,
                backing: Vec::new(),
            },
            kind,
            modified: meta.modified().ok(),
            head_crc: None,
        };
        if kind == SourceKind::BlockDevice {
            disk.head_crc = Some(disk.head_crc()?);
        }
        Ok(disk)
    }

    /// Whether this is a file or a device.
    pub fn source_kind(&self) -> SourceKind {
        self.kind
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }

    fn head_crc(&self) -> Result<u32, DiskError> {
        let len = (self.info.size.min(HEAD_CHECK_BYTES as u64)) as usize;
        let mut buf = vec![0u8; len];
        self.read_at(0, &mut buf)?;
        Ok(crc32fast::hash(&buf))
    }

    fn changed(&self, detail: String) -> DiskError {
        DiskError::Changed {
            path: self.info.path.clone(),
            detail,
        }
    }
}

/// The size of an open block device (or any seekable file), found by
/// seeking to its end: a block device's metadata says 0 bytes.
pub fn device_size(file: &File) -> io::Result<u64> {
    seek(file, SeekFrom::End(0)).map_err(io::Error::from)
}

#[cfg(unix)]
fn source_kind(meta: &std::fs::Metadata) -> Option<SourceKind> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        Some(SourceKind::File)
    } else if t.is_block_device() {
        Some(SourceKind::BlockDevice)
    } else {
        None
    }
}

#[cfg(not(unix))]
fn source_kind(meta: &std::fs::Metadata) -> Option<SourceKind> {
    meta.is_file().then_some(SourceKind::File)
}

impl Disk for RawDisk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        read_exact_at(&self.file, offset, buf).map_err(|e| {
            let e = if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(e.kind(), "the image became shorter while being read")
            } else {
                e
            };
            DiskError::io(
                &self.info.path,
                format!("reading {} bytes at offset {offset}", buf.len()),
                e,
            )
        })
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        let size = self.info.size;
        if offset >= size {
            return Err(DiskError::OutOfRange {
                path: self.info.path.clone(),
                offset,
                len: 1,
                size,
            });
        }
        let data = |end: u64| Extent {
            start: offset,
            end,
            allocation: Allocation::Data,
        };
        if self.kind == SourceKind::BlockDevice {
            return Ok(data(size));
        }
        let Ok(pos) = i64::try_from(offset) else {
            return Ok(data(size));
        };
        match seek(&*self.file, SeekFrom::Data(pos)) {
            Ok(start) if start == offset => {
                let end = match seek(&*self.file, SeekFrom::Hole(pos)) {
                    Ok(end) if end > offset => end.min(size),
                    // A file system answering nonsense, or none at all:
                    // read the rest.
                    _ => size,
                };
                Ok(data(end))
            }
            Ok(start) => Ok(Extent {
                start: offset,
                end: start.min(size).max(offset + 1),
                allocation: if start > offset {
                    Allocation::Unallocated
                } else {
                    Allocation::Data
                },
            }),
            // ENXIO: no data at or after `offset`; the rest is a hole.
            Err(Errno::NXIO) => Ok(Extent {
                start: offset,
                end: size,
                allocation: Allocation::Unallocated,
            }),
            // No SEEK_DATA on this file system: everything may hold data.
            Err(_) => Ok(data(size)),
        }
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        let now = match self.kind {
            SourceKind::File => self
                .file
                .metadata()
                .map_err(|e| DiskError::io(&self.info.path, "reading metadata", e))?
                .len(),
            SourceKind::BlockDevice => device_size(&self.file)
                .map_err(|e| DiskError::io(&self.info.path, "finding the device size", e))?,
        };
        if now != self.info.size {
            return Err(self.changed(format!(
                "its length went from {} to {now} bytes",
                self.info.size
            )));
        }
        match self.kind {
            SourceKind::File => {
                let modified = self.file.metadata().ok().and_then(|m| m.modified().ok());
                if modified != self.modified {
                    return Err(self.changed("its modification time moved".to_string()));
                }
            }
            SourceKind::BlockDevice => {
                if Some(self.head_crc()?) != self.head_crc {
                    return Err(self.changed(format!(
                        "its first {} KiB were rewritten",
                        HEAD_CHECK_BYTES >> 10
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Where a block device is in use: a mount point of it, or a device mapped
/// on top of it (LVM, dm-crypt, a partition's holder). `None` for a file
/// or an idle device, and on systems where this cannot be told.
pub fn device_in_use(path: &Path) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        linux::in_use(path)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::Path;

    /// `major:minor` of a block device.
    fn dev_numbers(path: &Path) -> Option<(u64, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.file_type().is_block_device() {
            return None;
        }
        let rdev = meta.rdev();
        Some((
            rustix::fs::major(rdev).into(),
            rustix::fs::minor(rdev).into(),
        ))
    }

    pub fn in_use(path: &Path) -> Option<String> {
        let (major, minor) = dev_numbers(path)?;
        let wanted = format!("{major}:{minor}");
        // Field 3 of /proc/self/mountinfo is the mounted device's
        // major:minor, field 5 the mount point.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") {
            for line in mounts.lines() {
                let fields: Vec<&str> = line.split(' ').collect();
                if fields.get(2) == Some(&wanted.as_str()) {
                    let at = fields.get(4).copied().unwrap_or("?");
                    return Some(format!("it is mounted at {at}"));
                }
            }
        }
        let holders = format!("/sys/dev/block/{wanted}/holders");
        if let Ok(entries) = std::fs::read_dir(holders) {
            let names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !names.is_empty() {
                return Some(format!("it is held by {}", names.join(", ")));
            }
        }
        // A partition of this device that is mounted or held.
        let sys = format!("/sys/dev/block/{wanted}");
        if let Ok(entries) = std::fs::read_dir(sys) {
            for entry in entries.filter_map(|e| e.ok()) {
                let dev = entry.path().join("dev");
                let Ok(numbers) = std::fs::read_to_string(&dev) else {
                    continue;
                };
                let part = numbers.trim();
                if let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") {
                    for line in mounts.lines() {
                        let fields: Vec<&str> = line.split(' ').collect();
                        if fields.get(2) == Some(&part) {
                            let at = fields.get(4).copied().unwrap_or("?");
                            return Some(format!(
                                "its partition {} is mounted at {at}",
                                entry.file_name().to_string_lossy()
                            ));
                        }
                    }
                }
            }
        }
        None
    }
}
