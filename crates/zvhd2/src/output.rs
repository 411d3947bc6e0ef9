//! Output files that appear whole or not at all.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;

/// A temporary file next to the final path, renamed over it on success and
/// deleted if dropped before.
pub(crate) struct Output {
    tmp: NamedTempFile,
    path: PathBuf,
    overwrite: bool,
}

impl Output {
    /// Creates the temporary file in the folder of `path`.
    pub fn create(path: &Path, overwrite: bool) -> Result<Output, Error> {
        if !overwrite && path.exists() {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            // The usual umask-based mode, not tempfile's private 0600.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        Ok(Output {
            tmp,
            path: path.to_path_buf(),
            overwrite,
        })
    }

    /// The open temporary file.
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// Asks the kernel to start writing `len` bytes at `offset` back to
    /// disk now, without waiting for it. The closing sync then finds most
    /// of the file already written instead of flushing all of it at the
    /// end, so the flush overlaps the conversion. Only a hint: where the
    /// system has no such call, or it fails, nothing changes.
    pub fn start_writeback(&self, offset: u64, len: u64) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
                return;
            };
            // SAFETY: a plain system call on a descriptor this value owns;
            // it reads no memory of the process.
            unsafe {
                libc::sync_file_range(
                    self.file().as_raw_fd(),
                    offset,
                    len,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }

    /// A writer appending to the file from its start, which starts the
    /// writeback of every few megabytes it has written.
    pub fn sequential(&self) -> SequentialWriter<'_> {
        SequentialWriter {
            output: self,
            written: 0,
            hinted: 0,
        }
    }

    /// Syncs the data to disk and moves the file into place.
    pub fn finish(self) -> Result<(), Error> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(format!("syncing the output for {}", self.path.display()), e))?;
        let path = self.path;
        let persisted = if self.overwrite {
            self.tmp.persist(&path)
        } else {
            self.tmp.persist_noclobber(&path)
        };
        match persisted {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::OutputExists { path })
            }
            Err(e) => Err(Error::io(
                format!("moving the output into place at {}", path.display()),
                e.error,
            )),
        }
    }
}

/// Bytes written between two writeback hints of a [`SequentialWriter`].
const WRITEBACK_STEP: u64 = 8 << 20;

/// Writes an [`Output`] front to back, starting the writeback of each
/// [`WRITEBACK_STEP`] written (see [`Output::start_writeback`]).
pub(crate) struct SequentialWriter<'a> {
    output: &'a Output,
    written: u64,
    hinted: u64,
}

impl Write for SequentialWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.output.file().write(buf)?;
        self.written += n as u64;
        if self.written - self.hinted >= WRITEBACK_STEP {
            self.output
                .start_writeback(self.hinted, self.written - self.hinted);
            self.hinted = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.output.file().flush()
    }
}
