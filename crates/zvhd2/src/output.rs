//! Output files that appear whole or not at all.

use std::fs::File;
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
