//! Random-access byte sources the probe reads from: a file, a region of a
//! file, bytes in memory, or a decoded ZVHD2 image.

use std::fs::File;
use std::io;

/// A random-access, read-only disk (or file) of known size.
pub trait DiskRead {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Fill `buf` with the bytes at `offset`; reading past `size()` is an
    /// `UnexpectedEof` error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl DiskRead for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| Some((start, start.checked_add(buf.len())?)))
            .and_then(|(start, end)| self.get(start..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl DiskRead for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_at(offset, buf)
    }
}

/// A byte range `[start, start + len)` of a file, seen as a disk.
#[derive(Debug)]
pub struct FileRegion {
    file: File,
    start: u64,
    len: u64,
}

impl FileRegion {
    /// A region of `file`; the caller makes sure it lies inside the file.
    pub fn new(file: File, start: u64, len: u64) -> Self {
        FileRegion { file, start, len }
    }

    /// The whole file.
    pub fn whole(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileRegion::new(file, 0, len))
    }
}

impl DiskRead for FileRegion {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let abs = region_offset(self.start, self.len, offset, buf.len())?;
        read_exact_at(&self.file, abs, buf)
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A window `[start, start + len)` of another source, e.g. the data part of
/// a fixed VHD (everything before its footer).
pub struct SubDisk<'a> {
    inner: &'a dyn DiskRead,
    start: u64,
    len: u64,
}

impl<'a> SubDisk<'a> {
    /// A window of `inner`; its length is clipped to what `inner` holds.
    pub fn new(inner: &'a dyn DiskRead, start: u64, len: u64) -> Self {
        let len = len.min(inner.size().saturating_sub(start));
        SubDisk { inner, start, len }
    }
}

impl DiskRead for SubDisk<'_> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let abs = region_offset(self.start, self.len, offset, buf.len())?;
        self.inner.read_at(abs, buf)
    }
}
/// The absolute offset of `len` bytes at `offset` in a region of
/// `region_len` bytes starting at `start`; `UnexpectedEof` when they do not
/// all lie inside it.
fn region_offset(start: u64, region_len: u64, offset: u64, len: usize) -> io::Result<u64> {
    let eof = || io::Error::from(io::ErrorKind::UnexpectedEof);
    let end = offset.checked_add(len as u64).ok_or_else(eof)?;
    if end > region_len {
        return Err(eof());
    }
    start.checked_add(offset).ok_or_else(eof)
}

/// Every virtual disk of the disk model (a RAW file, a block device, the
/// guest view of a qcow2, VMDK, VHD, VHDX, VDI or ZVHD2 image) is probed
/// through the same reads.
impl DiskRead for dyn imsprep_disk::Disk + '_ {
    fn size(&self) -> u64 {
        imsprep_disk::Disk::size(self)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        imsprep_disk::Disk::read_at(self, offset, buf).map_err(|e| match e {
            imsprep_disk::DiskError::Io { source, .. } => source,
            imsprep_disk::DiskError::OutOfRange { .. } => io::ErrorKind::UnexpectedEof.into(),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        })
    }
}

/// A disk of the disk model seen as a [`DiskRead`] (a `&dyn Disk` cannot be
/// turned into a `&dyn DiskRead` directly).
#[derive(Debug, Clone, Copy)]
pub struct DiskView<'a>(pub &'a dyn imsprep_disk::Disk);

impl DiskRead for DiskView<'_> {
    fn size(&self) -> u64 {
        self.0.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        DiskRead::read_at(self.0, offset, buf)
    }
}
