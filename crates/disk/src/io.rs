//! Positioned reads of a byte range of a file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::DiskError;

/// A read-only byte range of a file: a whole image file, an extent file of
/// a VMDK, or a disk stored inside an OVA.
///
/// Reads are positioned, so one slice is shared between threads.
#[derive(Debug, Clone)]
pub struct ReadAt {
    file: Arc<File>,
    path: PathBuf,
    start: u64,
    len: u64,
}

impl ReadAt {
    /// Opens `path` read-only as a whole regular file.
    pub fn open(path: &Path) -> Result<Self, DiskError> {
        let file = File::open(path).map_err(|e| DiskError::io(path, "opening", e))?;
        let meta = file
            .metadata()
            .map_err(|e| DiskError::io(path, "reading metadata", e))?;
        if !meta.is_file() {
            return Err(DiskError::io(
                path,
                "opening",
                io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
            ));
        }
        Ok(ReadAt {
            file: Arc::new(file),
            path: path.to_owned(),
            start: 0,
            len: meta.len(),
        })
    }

    /// A range of an open file; `len` is trusted (the caller measured it).
    pub fn from_file(file: Arc<File>, path: &Path, start: u64, len: u64) -> Self {
        ReadAt {
            file,
            path: path.to_owned(),
            start,
            len,
        }
    }

    /// `len` bytes at `start` of this slice, clipped to it.
    pub fn sub(&self, start: u64, len: u64) -> ReadAt {
        let start = start.min(self.len);
        ReadAt {
            file: Arc::clone(&self.file),
            path: self.path.clone(),
            start: self.start + start,
            len: len.min(self.len - start),
        }
    }

    /// Bytes in the slice.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the slice holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file.
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }

    /// Where the slice starts in its file.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Fills `buf` from `offset` of the slice. Bytes past its end are an
    /// `UnexpectedEof` error naming the offset and the size.
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let len = buf.len();
        let action = || format!("reading {len} bytes at offset {offset}");
        match offset.checked_add(buf.len() as u64) {
            Some(end) if end <= self.len => {}
            _ => {
                let e = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("past the end of the {}-byte file", self.len),
                );
                return Err(DiskError::io(&self.path, action(), e));
            }
        }
        read_exact_at(&self.file, self.start + offset, buf)
            .map_err(|e| DiskError::io(&self.path, action(), e))
    }

    /// Reads `len` bytes at `offset` into a new vector, after checking that
    /// they lie in the slice (so a length read from a file never allocates
    /// more than the file holds).
    pub fn read_vec(&self, offset: u64, len: u64) -> Result<Vec<u8>, DiskError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => {}
            _ => {
                return Err(DiskError::io(
                    &self.path,
                    format!("reading {len} bytes at offset {offset}"),
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("past the end of the {}-byte file", self.len),
                    ),
                ))
            }
        }
        let mut buf = vec![0; len as usize];
        self.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }
}

/// `pread` until `buf` is full.
#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// `seek_read` until `buf` is full.
#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
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
