//! [`GuestFiles`] over a directory of the host: a guest tree unpacked or
//! built in a temporary directory. Volumes and disk facts are supplied by
//! the caller, since a directory has none.
//!
//! Links are read with `symlink_metadata`/`read_link` and resolved by
//! [`resolve_path`], never by the host, so an absolute link target stays
//! inside the directory.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::files::{
    resolve_path, DiskFacts, FileKind, FileMeta, GuestError, GuestFiles, VolumeInfo, VolumeState,
};

/// A guest rooted at a host directory.
#[derive(Debug, Clone)]
pub struct DirGuest {
    root: PathBuf,
    volumes: Vec<VolumeInfo>,
    disk: DiskFacts,
    volume_roots: Vec<(String, PathBuf)>,
    volume_states: Vec<(String, Vec<VolumeState>)>,
}

impl DirGuest {
    /// A guest whose root is `root`, with no volumes and an empty disk.
    pub fn new(root: impl Into<PathBuf>) -> DirGuest {
        DirGuest {
            root: root.into(),
            volumes: Vec::new(),
            disk: DiskFacts::default(),
            volume_roots: Vec::new(),
            volume_states: Vec::new(),
        }
    }

    /// Set the volumes the guest reports.
    pub fn with_volumes(mut self, volumes: Vec<VolumeInfo>) -> DirGuest {
        self.volumes = volumes;
        self
    }

    /// Set the disk facts the guest reports.
    pub fn with_disk(mut self, disk: DiskFacts) -> DirGuest {
        self.disk = disk;
        self
    }

    /// Make the files of volume `device` readable from host directory `dir`
    /// (for [`GuestFiles::volume_files`]).
    pub fn with_volume_root(mut self, device: &str, dir: impl Into<PathBuf>) -> DirGuest {
        self.volume_roots.push((device.to_string(), dir.into()));
        self
    }

    /// Report `states` for volume `device` (for
    /// [`GuestFiles::volume_state`]).
    pub fn with_volume_state(mut self, device: &str, states: Vec<VolumeState>) -> DirGuest {
        self.volume_states.push((device.to_string(), states));
        self
    }

    fn host(&self, guest_path: &str) -> PathBuf {
        self.root.join(guest_path.trim_start_matches('/'))
    }

    fn io_error(path: &str, e: std::io::Error) -> GuestError {
        GuestError::Read {
            path: path.to_string(),
            message: e.to_string(),
        }
    }

    fn lstat_kind(&self, path: &str) -> Result<Option<FileKind>, GuestError> {
        match fs::symlink_metadata(self.host(path)) {
            Ok(m) => Ok(Some(kind_of(&m))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(20) => Ok(None), // ENOTDIR
            Err(e) => Err(Self::io_error(path, e)),
        }
    }

    fn raw_link(&self, path: &str) -> Result<Option<String>, GuestError> {
        match fs::read_link(self.host(path)) {
            Ok(t) => Ok(Some(t.to_string_lossy().into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(None),
            Err(e) => Err(Self::io_error(path, e)),
        }
    }

    fn resolve(&self, path: &str, follow_last: bool) -> Result<Option<String>, GuestError> {
        resolve_path(
            path,
            follow_last,
            |p| self.lstat_kind(p),
            |p| self.raw_link(p),
        )
    }
}

fn kind_of(m: &fs::Metadata) -> FileKind {
    let t = m.file_type();
    if t.is_symlink() {
        FileKind::Symlink
    } else if t.is_dir() {
        FileKind::Dir
    } else if t.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    }
}

fn meta_of(m: &fs::Metadata) -> FileMeta {
    FileMeta {
        kind: kind_of(m),
        size: m.len(),
        mode: m.permissions().mode() & 0o7777,
    }
}

impl GuestFiles for DirGuest {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, GuestError> {
        let Some(real) = self.resolve(path, true)? else {
            return Ok(None);
        };
        let host = self.host(&real);
        let meta = fs::metadata(&host).map_err(|e| Self::io_error(path, e))?;
        if !meta.is_file() {
            return Err(GuestError::Read {
                path: path.to_string(),
                message: "not a regular file".into(),
            });
        }
        if meta.len() > limit {
            return Err(GuestError::TooLarge {
                path: path.to_string(),
                limit,
                size: meta.len(),
            });
        }
        let mut data = Vec::new();
        fs::File::open(&host)
            .and_then(|f| f.take(limit).read_to_end(&mut data))
            .map_err(|e| Self::io_error(path, e))?;
        Ok(Some(data))
    }

    fn read_at(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, GuestError> {
        use std::os::unix::fs::FileExt;
        let Some(real) = self.resolve(path, true)? else {
            return Err(GuestError::Read {
                path: path.to_string(),
                message: "no such file".into(),
            });
        };
        let file = fs::File::open(self.host(&real)).map_err(|e| Self::io_error(path, e))?;
        file.read_at(buf, offset)
            .map_err(|e| Self::io_error(path, e))
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<(String, FileKind)>>, GuestError> {
        let Some(real) = self.resolve(path, true)? else {
            return Ok(None);
        };
        let host = self.host(&real);
        if !host.is_dir() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for entry in fs::read_dir(&host).map_err(|e| Self::io_error(path, e))? {
            let entry = entry.map_err(|e| Self::io_error(path, e))?;
            let meta = entry.metadata().map_err(|e| Self::io_error(path, e))?;
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                kind_of(&meta),
            ));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Some(out))
    }

    fn metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        let Some(real) = self.resolve(path, true)? else {
            return Ok(None);
        };
        match fs::symlink_metadata(self.host(&real)) {
            Ok(m) => Ok(Some(meta_of(&m))),
            Err(e) => Err(Self::io_error(path, e)),
        }
    }

    fn symlink_metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        let Some(real) = self.resolve(path, false)? else {
            return Ok(None);
        };
        match fs::symlink_metadata(self.host(&real)) {
            Ok(m) => Ok(Some(meta_of(&m))),
            Err(e) => Err(Self::io_error(path, e)),
        }
    }

    fn read_link(&self, path: &str) -> Result<Option<String>, GuestError> {
        let Some(real) = self.resolve(path, false)? else {
            return Ok(None);
        };
        self.raw_link(&real)
    }

    fn canonical(&self, path: &str) -> Result<Option<String>, GuestError> {
        self.resolve(path, true)
    }

    fn volumes(&self) -> Vec<VolumeInfo> {
        self.volumes.clone()
    }

    fn disk(&self) -> DiskFacts {
        self.disk.clone()
    }

    fn volume_files(&self, device: &str) -> Option<Box<dyn GuestFiles + '_>> {
        let (_, dir) = self.volume_roots.iter().find(|(d, _)| d == device)?;
        Some(Box::new(DirGuest::new(Path::new(dir))))
    }

    fn volume_state(&self, device: &str) -> Option<Vec<VolumeState>> {
        self.volume_states
            .iter()
            .find(|(d, _)| d == device)
            .map(|(_, s)| s.clone())
    }
}
