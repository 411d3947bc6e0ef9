//! Keeping the image still while it is scanned, and noticing when it was not.
//!
//! A map and CRC made from bytes read before and after another process
//! wrote the file describe no version of it. Nothing a library can do
//! prevents another process from writing a file, so the scan does the two
//! things that are possible: it takes a shared `flock`, which keeps out every
//! writer that locks (an exclusive lock cannot be granted while it is held),
//! and it compares size and modification time at the start and end so that
//! a write is reported instead of producing a wrong map.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use rustix::fs::{flock, seek, FlockOperation, SeekFrom};
use rustix::io::Errno;

use crate::error::{Change, ScanError};

/// What is compared before and after a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileState {
    pub len: u64,
    mtime: (i64, i64),
    dev: u64,
    ino: u64,
}

impl FileState {
    /// The state of an open file; block devices report their size through
    /// `lseek`, since their metadata says 0.
    pub fn of(file: &File, path: &Path) -> Result<Self, ScanError> {
        let meta = file
            .metadata()
            .map_err(|e| io_error(path, "read metadata", e))?;
        let file_type = meta.file_type();
        let len = if file_type.is_file() {
            meta.len()
        } else if file_type.is_block_device() {
            seek(file, SeekFrom::End(0))
                .map_err(|e| io_error(path, "find the device size", e.into()))?
        } else {
            return Err(ScanError::NotAFile {
                path: path.to_owned(),
            });
        };
        Ok(Self::from_meta(&meta, len))
    }

    fn from_meta(meta: &Metadata, len: u64) -> Self {
        Self {
            len,
            mtime: (meta.mtime(), meta.mtime_nsec()),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// The first difference that makes a scan started at `self` invalid.
    pub fn change_to(&self, after: &FileState) -> Option<Change> {
        if (self.dev, self.ino) != (after.dev, after.ino) {
            Some(Change::Replaced)
        } else if self.len != after.len {
            Some(Change::Size {
                before: self.len,
                after: after.len,
            })
        } else if self.mtime != after.mtime {
            Some(Change::Modified {
                before: self.mtime,
                after: after.mtime,
            })
        } else {
            None
        }
    }
}

/// The state of whatever `path` names now (it may no longer be the file that
/// was opened).
pub(crate) fn state_of_path(path: &Path, len: u64) -> Result<FileState, ScanError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, "read metadata", e))?;
    let len = if meta.file_type().is_block_device() {
        len
    } else {
        meta.len()
    };
    Ok(FileState::from_meta(&meta, len))
}

/// A shared `flock` held on an open file until dropped.
pub(crate) struct SharedLock<'a> {
    file: &'a File,
}

impl<'a> SharedLock<'a> {
    /// Takes a shared lock without waiting.
    ///
    /// Not waiting is deliberate: a writer holding an exclusive lock may hold
    /// it for as long as an image build takes, and a scan that hangs silently
    /// is worse than one that says why it cannot start.
    pub fn try_new(file: &'a File, path: &Path) -> Result<Self, ScanError> {
        match flock(file, FlockOperation::NonBlockingLockShared) {
            Ok(()) => Ok(Self { file }),
            Err(Errno::WOULDBLOCK) => Err(ScanError::Locked {
                path: path.to_owned(),
            }),
            // File systems without flock support (some network mounts):
            // scan unlocked, the size and time check still applies.
            Err(Errno::NOLCK | Errno::OPNOTSUPP | Errno::INVAL) => Ok(Self { file }),
            Err(e) => Err(io_error(path, "lock (shared flock)", e.into())),
        }
    }
}

impl Drop for SharedLock<'_> {
    fn drop(&mut self) {
        // Nothing useful can be done if unlocking fails; closing the file
        // releases the lock anyway.
        let _ = flock(self.file, FlockOperation::Unlock);
    }
}

/// Wraps an I/O error with the image path and what was being done.
pub(crate) fn io_error(path: &Path, action: &str, source: io::Error) -> ScanError {
    ScanError::Io {
        path: path.to_owned(),
        action: action.to_owned(),
        source,
    }
}
