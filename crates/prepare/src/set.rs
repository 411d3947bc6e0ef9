//! Writing the files of a set: whole or not at all, and removed again when
//! the run does not complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use imsprep_ims::manifest::{crc32_hex, FileRole, ManifestFile};

use crate::error::PrepareError;

/// Writes `bytes` to `path` through a temporary file in the same folder:
/// fsync, then rename. Refuses to replace an existing file unless `force`.
pub fn write_atomically(path: &Path, bytes: &[u8], force: bool) -> Result<(), PrepareError> {
    if !force && path.exists() {
        return Err(PrepareError::Usage(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".imsprep-")
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| {
            PrepareError::io(format!("creating a temporary file in {}", dir.display()), e)
        })?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| PrepareError::io(format!("writing {}", path.display()), e))?;
    let persisted = if force {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| PrepareError::io(format!("writing {}", path.display()), e.error))
}

/// The files (and the output folder) one run created; removed again unless
/// the run completes.
pub(crate) struct Written {
    dir: Option<PathBuf>,
    files: Vec<PathBuf>,
    keep: bool,
}

impl Written {
    /// Creates the output folder if needed.
    pub fn new(out: &Path) -> Result<Written, PrepareError> {
        let created = !out.exists();
        fs::create_dir_all(out)
            .map_err(|e| PrepareError::io(format!("creating {}", out.display()), e))?;
        Ok(Written {
            dir: created.then(|| out.to_path_buf()),
            files: Vec::new(),
            keep: false,
        })
    }

    /// Runs `make`, which creates `path`, and remembers the file if it did.
    pub fn file<T>(
        &mut self,
        path: &Path,
        make: impl FnOnce() -> Result<T, PrepareError>,
    ) -> Result<T, PrepareError> {
        let made = make()?;
        self.files.push(path.to_path_buf());
        Ok(made)
    }

    /// The run completed: keep everything.
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for file in &self.files {
            let _ = fs::remove_file(file);
        }
        if let Some(dir) = &self.dir {
            // Only when empty: never remove what someone else put there.
            let _ = fs::remove_dir(dir);
        }
    }
}

/// The manifest entry of a file of `size` bytes and CRC-32 `crc`. Files
/// inside the set are written as bare names, so the set can move; an image
/// referred to in place, by its absolute path.
pub(crate) fn entry(
    out: &Path,
    role: FileRole,
    path: &Path,
    object: &str,
    size: u64,
    crc: u32,
) -> ManifestFile {
    let shown = match path.strip_prefix(out) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    ManifestFile {
        role,
        path: shown,
        object: object.to_string(),
        size,
        crc32: crc32_hex(crc),
    }
}

/// The entry of a small file the set holds (the bitmap), read back whole.
pub(crate) fn file_entry(
    out: &Path,
    role: FileRole,
    path: &Path,
    object: &str,
) -> Result<ManifestFile, PrepareError> {
    let bytes =
        fs::read(path).map_err(|e| PrepareError::io(format!("reading {}", path.display()), e))?;
    Ok(entry(
        out,
        role,
        path,
        object,
        bytes.len() as u64,
        crc32fast::hash(&bytes),
    ))
}
