//! The path-based [`FileSystem`] view of a [`Btrfs`] subvolume.

use super::files::InodeItem;
use super::{Btrfs, Shared, TreeRoot};
use crate::{
    DirEntry, FileKind, FileSystem, FsError, FsInfo, FsKind, FsState, Metadata, Timestamp,
    MAX_DIR_ENTRIES, MAX_LINK_LEN,
};

pub(super) use crate::xfs::named_error as named;

const S_IFMT: u32 = 0o170000;

fn kind_of_mode(mode: u32) -> FileKind {
    match mode & S_IFMT {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Dir,
        0o120000 => FileKind::Symlink,
        0o020000 => FileKind::CharDevice,
        0o060000 => FileKind::BlockDevice,
        0o010000 => FileKind::Fifo,
        0o140000 => FileKind::Socket,
        _ => FileKind::Other,
    }
}

fn kind_of_type(t: u8) -> FileKind {
    match t {
        1 => FileKind::File,
        2 => FileKind::Dir,
        3 => FileKind::CharDevice,
        4 => FileKind::BlockDevice,
        5 => FileKind::Fifo,
        6 => FileKind::Socket,
        7 => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

/// The [`FsInfo`] of the file system.
pub(super) fn make_info(shared: &Shared) -> FsInfo {
    let mut state = Vec::new();
    if shared.sb.has_log_tree {
        state.push(FsState::NeedsRecovery);
        state.push(FsState::Other(
            "a log tree holds fsync'd changes not yet in the file trees; they are not replayed"
                .to_string(),
        ));
    }
    FsInfo {
        kind: FsKind::Btrfs,
        label: (!shared.sb.label.is_empty()).then(|| shared.sb.label.clone()),
        uuid: Some(crate::bytes::uuid_string(&shared.sb.fsid)),
        size: shared.sb.total_bytes,
        block_size: shared.sb.sector_size,
        state,
    }
}

impl Btrfs {
    fn name(&self) -> &str {
        self.shared.vol.name()
    }

    /// The tree, object and inode `path` names, following no symlink.
    fn resolve(&self, path: &[u8]) -> Result<(TreeRoot, u64, InodeItem), FsError> {
        let parts = crate::path::components(self.name(), path)?;
        let mut tree = self.top;
        let mut ino = tree.dirid;
        let mut inode = self.shared.inode(&tree, ino)?;
        for (depth, part) in parts.iter().enumerate() {
            match kind_of_mode(inode.mode) {
                FileKind::Dir => {}
                FileKind::Symlink => {
                    return Err(FsError::SymlinkInPath {
                        volume: self.name().to_owned(),
                        fs: "btrfs",
                        path: crate::path::prefix(&parts, depth),
                    })
                }
                _ => {
                    return Err(FsError::not_a_directory(
                        self.name(),
                        "btrfs",
                        &crate::path::prefix(&parts, depth),
                    ))
                }
            }
            let entry = self
                .shared
                .lookup(&tree, ino, part)?
                .ok_or_else(|| FsError::not_found(self.name(), "btrfs", path))?;
            (tree, ino) = self.shared.follow(&tree, &entry)?;
            inode = self.shared.inode(&tree, ino)?;
        }
        Ok((tree, ino, inode))
    }

    fn expect(
        &self,
        path: &[u8],
        inode: &InodeItem,
        want: FileKind,
        expected: &'static str,
    ) -> Result<(), FsError> {
        let kind = kind_of_mode(inode.mode);
        if kind == want {
            Ok(())
        } else {
            Err(FsError::wrong_kind(
                self.name(),
                "btrfs",
                path,
                expected,
                kind,
            ))
        }
    }
}

impl FileSystem for Btrfs {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let (_, ino, inode) = self.resolve(path).map_err(|e| named(e, self.name()))?;
        Ok(Metadata {
            kind: kind_of_mode(inode.mode),
            mode: inode.mode & 0o7777,
            uid: inode.uid,
            gid: inode.gid,
            size: inode.size,
            mtime: Timestamp {
                secs: inode.mtime.0,
                nanos: inode.mtime.1.min(999_999_999),
            },
            nlink: u64::from(inode.nlink),
            inode: ino,
            note: None,
        })
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let run = || {
            let (tree, ino, inode) = self.resolve(path)?;
            if kind_of_mode(inode.mode) != FileKind::Dir {
                return Err(FsError::not_a_directory(self.name(), "btrfs", path));
            }
            let entries = self.shared.list(&tree, ino, MAX_DIR_ENTRIES)?;
            Ok(entries
                .into_iter()
                .map(|e| DirEntry {
                    kind: kind_of_type(e.kind),
                    inode: if e.location.kind == super::ROOT_ITEM {
                        super::FIRST_FREE
                    } else {
                        e.location.objectid
                    },
                    name: e.name,
                })
                .collect())
        };
        run().map_err(|e| named(e, self.name()))
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let run = || {
            let (tree, ino, inode) = self.resolve(path)?;
            self.expect(path, &inode, FileKind::Symlink, "symbolic link")?;
            let mut target = self.shared.link_target(&tree, ino)?;
            // The inode's size is the target's length; mkfs.btrfs
            // --rootdir stores a NUL after it in the extent.
            target.truncate(usize::try_from(inode.size).unwrap_or(usize::MAX));
            if target.len() > MAX_LINK_LEN {
                return Err(FsError::limit(
                    self.name(),
                    "btrfs",
                    "symbolic link target",
                    target.len() as u64,
                    MAX_LINK_LEN as u64,
                ));
            }
            Ok(target)
        };
        run().map_err(|e| named(e, self.name()))
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut run = || {
            let (tree, ino, inode) = self.resolve(path)?;
            self.expect(path, &inode, FileKind::File, "regular file")?;
            if offset >= inode.size {
                return Ok(0);
            }
            let len = buf
                .len()
                .min(usize::try_from(inode.size - offset).unwrap_or(usize::MAX));
            let part = buf.get_mut(..len).unwrap_or_default();
            self.shared.read_file(&tree, ino, offset, part)?;
            Ok(len)
        };
        run().map_err(|e| named(e, self.name()))
    }
}
