//! The path-based [`FileSystem`] view of an [`Xfs`].

use super::inode::{Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use super::Xfs;
use crate::{
    DirEntry, FileKind, FileSystem, FsError, FsInfo, FsKind, FsState, Metadata, Timestamp,
    MAX_DIR_ENTRIES, MAX_LINK_LEN,
};

/// Fills in the volume's name on an error made below the view, where the
/// name is not at hand.
pub(crate) fn named(mut error: FsError, name: &str) -> FsError {
    if let FsError::Malformed { volume, .. } | FsError::Unsupported { volume, .. } = &mut error {
        if volume.is_empty() {
            *volume = name.to_owned();
        }
    }
    error
}

/// An [`FsInfo`] to hold the place while the real one is made.
pub(super) fn placeholder_info() -> FsInfo {
    FsInfo {
        kind: FsKind::Xfs,
        label: None,
        uuid: None,
        size: 0,
        block_size: 0,
        state: Vec::new(),
    }
}

/// The kind a mode's type bits name.
pub(super) fn kind_of_mode(mode: u16) -> FileKind {
    match mode & S_IFMT {
        S_IFREG => FileKind::File,
        S_IFDIR => FileKind::Dir,
        S_IFLNK => FileKind::Symlink,
        0o020000 => FileKind::CharDevice,
        0o060000 => FileKind::BlockDevice,
        0o010000 => FileKind::Fifo,
        0o140000 => FileKind::Socket,
        _ => FileKind::Other,
    }
}

/// The kind an `XFS_DIR3_FT_*` byte names, when it names one.
fn kind_of_ftype(ftype: u8) -> Option<FileKind> {
    Some(match ftype {
        1 => FileKind::File,
        2 => FileKind::Dir,
        3 => FileKind::CharDevice,
        4 => FileKind::BlockDevice,
        5 => FileKind::Fifo,
        6 => FileKind::Socket,
        7 => FileKind::Symlink,
        _ => return None,
    })
}

impl Xfs {
    /// The [`FsInfo`] of the opened file system, the log looked at.
    pub(super) fn make_info(&self) -> FsInfo {
        let mut state = Vec::new();
        match self.log_state() {
            Ok(true) => {}
            Ok(false) => {
                state.push(FsState::Dirty);
                state.push(FsState::NeedsRecovery);
            }
            Err(why) => state.push(FsState::Other(why)),
        }
        if self.sb.needs_repair {
            state.push(FsState::Other(
                "the NEEDSREPAIR feature is set: xfs_repair must run before a mount".to_string(),
            ));
        }
        FsInfo {
            kind: FsKind::Xfs,
            label: (!self.sb.label.is_empty()).then(|| self.sb.label.clone()),
            uuid: Some(crate::bytes::uuid_string(&self.sb.uuid)),
            size: self.sb.data_blocks << self.sb.block_log,
            block_size: self.sb.block_size,
            state,
        }
    }

    fn metadata_of(&self, inode: &Inode) -> Metadata {
        Metadata {
            kind: kind_of_mode(inode.mode),
            mode: u32::from(inode.mode & 0o7777),
            uid: inode.uid,
            gid: inode.gid,
            size: inode.size,
            mtime: Timestamp {
                secs: inode.mtime.0,
                nanos: inode.mtime.1.min(999_999_999),
            },
            nlink: u64::from(inode.nlink),
            inode: inode.ino,
            note: None,
        }
    }

    fn expect_kind(
        &self,
        path: &[u8],
        inode: &Inode,
        want: u16,
        expected: &'static str,
    ) -> Result<(), FsError> {
        if inode.kind() == want {
            return Ok(());
        }
        Err(FsError::wrong_kind(
            self.vol.name(),
            "xfs",
            path,
            expected,
            kind_of_mode(inode.mode),
        ))
    }
}

impl FileSystem for Xfs {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let inode = self.resolve(path).map_err(|e| named(e, self.vol.name()))?;
        Ok(self.metadata_of(&inode))
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let run = || {
            let dir = self.resolve(path)?;
            if dir.kind() != S_IFDIR {
                return Err(FsError::not_a_directory(self.vol.name(), "xfs", path));
            }
            let entries = self.dir_entries(&dir)?;
            if entries.len() > MAX_DIR_ENTRIES {
                return Err(FsError::limit(
                    self.vol.name(),
                    "xfs",
                    format!("entries of directory {}", String::from_utf8_lossy(path)),
                    entries.len() as u64,
                    MAX_DIR_ENTRIES as u64,
                ));
            }
            entries
                .iter()
                .map(|e| {
                    let kind = match e.ftype.and_then(kind_of_ftype) {
                        Some(kind) => kind,
                        None => kind_of_mode(self.inode(e.ino)?.mode),
                    };
                    Ok(DirEntry {
                        name: e.name.clone(),
                        kind,
                        inode: e.ino,
                    })
                })
                .collect()
        };
        run().map_err(|e| named(e, self.vol.name()))
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let run = || {
            let inode = self.resolve(path)?;
            self.expect_kind(path, &inode, S_IFLNK, "symbolic link")?;
            let target = self.symlink_target(&inode)?;
            if target.len() > MAX_LINK_LEN {
                return Err(FsError::limit(
                    self.vol.name(),
                    "xfs",
                    "symbolic link target",
                    target.len() as u64,
                    MAX_LINK_LEN as u64,
                ));
            }
            Ok(target)
        };
        run().map_err(|e| named(e, self.vol.name()))
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut run = || {
            let inode = self.resolve(path)?;
            self.expect_kind(path, &inode, S_IFREG, "regular file")?;
            self.read_file(&inode, offset, buf)
        };
        run().map_err(|e| named(e, self.vol.name()))
    }
}
