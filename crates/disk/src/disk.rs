//! The trait every backend implements.

use std::fmt;
use std::path::PathBuf;

use crate::error::DiskError;
use crate::extent::Extent;

/// What a backend says about the image it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskInfo {
    /// The format's short name: `raw`, `qcow2`, `vmdk`, `vhd`, `vhdx`,
    /// `vdi`, `zvhd2`.
    pub format: &'static str,
    /// The variant inside the format, e.g. `v3`, `monolithicSparse`,
    /// `dynamic`, `block device`; empty where there is only one.
    pub variant: String,
    /// The image file (for an OVA member, the OVA).
    pub path: PathBuf,
    /// Size of the virtual disk in bytes.
    pub size: u64,
    /// The backing (parent) files the image reads through, nearest first.
    pub backing: Vec<PathBuf>,
}

/// A read-only virtual disk: its size, the guest-visible bytes, and how
/// each range is stored.
///
/// Implementations are shared between threads: reads are positioned and
/// take `&self`.
pub trait Disk: Send + Sync + fmt::Debug {
    /// What was opened.
    fn info(&self) -> &DiskInfo;

    /// Size of the virtual disk in bytes.
    fn size(&self) -> u64 {
        self.info().size
    }

    /// Fills `buf` with the guest-visible bytes at `offset`. Ranges no layer
    /// stores read as zeros. A read past [`Disk::size`] is
    /// [`DiskError::OutOfRange`].
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError>;

    /// The run of one [`crate::Allocation`] that starts at `offset`
    /// (`offset < size`). The run may end before the next change of
    /// allocation (a backend reports at most what one table covers), but
    /// never past [`Disk::size`], and never holds zero bytes.
    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError>;

    /// Called after a long read of the whole disk (a scan, a conversion):
    /// an error if the image changed since it was opened. Images that
    /// cannot change keep the default.
    fn check_unchanged(&self) -> Result<(), DiskError> {
        Ok(())
    }
}

/// The extents covering `start..end` of `disk` (clipped to that range and to
/// the disk), in order, adjacent runs of the same allocation merged.
pub fn extents(disk: &dyn Disk, start: u64, end: u64) -> Result<Vec<Extent>, DiskError> {
    let end = end.min(disk.size());
    let mut out: Vec<Extent> = Vec::new();
    let mut pos = start;
    while pos < end {
        let extent = disk.extent_at(pos)?;
        if extent.start > pos || extent.end <= pos {
            return Err(DiskError::malformed(
                &disk.info().path,
                disk.info().format,
                "allocation map",
                pos,
                format!(
                    "the backend answered {}..{} for offset {pos}",
                    extent.start, extent.end
                ),
            ));
        }
        let piece = Extent {
            start: pos,
            end: extent.end.min(end),
            allocation: extent.allocation,
        };
        match out.last_mut() {
            Some(last) if last.allocation == piece.allocation && last.end == piece.start => {
                last.end = piece.end;
            }
            _ => out.push(piece),
        }
        pos = piece.end;
    }
    Ok(out)
}

/// Checks that `len` bytes at `offset` lie inside `disk`, the common first
/// step of every [`Disk::read_at`].
pub fn check_range(info: &DiskInfo, offset: u64, len: usize) -> Result<(), DiskError> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= info.size => Ok(()),
        _ => Err(DiskError::OutOfRange {
            path: info.path.clone(),
            offset,
            len: len as u64,
            size: info.size,
        }),
    }
}
