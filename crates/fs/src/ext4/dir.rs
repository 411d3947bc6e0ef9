//! Directories: linear scans of their entries (hash-tree index blocks
//! read as empty entries, so a linear scan sees every name), inline
//! directories, and path lookup that never follows a link.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::bytes::{le16, le32, slice, u8_at};
use crate::error::FsError;
use crate::filesystem::{FileKind, MAX_DIR_ENTRIES};
use crate::path::{components, prefix};

use super::inode::{Inode, FLAG_INLINE_DATA, ROOT};
use super::{Ext4, FS};

/// Directories larger than this are refused (far beyond what
/// [`MAX_DIR_ENTRIES`] entries need).
const MAX_DIR_BYTES: u64 = 1 << 30;

/// Lookups in directories up to this size go through a name table kept
/// in [`Ext4::dir_cache`]; larger ones are scanned for each lookup.
const CACHED_DIR_MAX_BYTES: u64 = 8 << 20;

/// One raw directory entry.
pub struct RawEntry<'a> {
    pub inode: u64,
    pub name: &'a [u8],
    /// The kind the entry records, when the file system records kinds.
    pub kind: Option<FileKind>,
}

impl Ext4 {
    /// Calls `visit` with each entry of directory `dir` (`.` and `..`
    /// included, empty slots skipped) until it breaks.
    pub(super) fn scan_dir(
        &self,
        dir: &Inode,
        visit: &mut dyn FnMut(RawEntry<'_>) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        if dir.flags & FLAG_INLINE_DATA != 0 {
            // The first 4 bytes of i_block name the parent; entries follow,
            // then go on in the system.data attribute.
            let parent = u64::from(le32(&dir.block, 0));
            if visit(RawEntry {
                inode: parent,
                name: b"..",
                kind: Some(FileKind::Dir),
            })
            .is_break()
            {
                return Ok(());
            }
            if self
                .parse_block(dir, slice(&dir.block, 4, 56), "inline data", visit)?
                .is_break()
            {
                return Ok(());
            }
            let rest = self.inline_xattr_data(dir)?;
            let _ = self.parse_block(dir, rest, "inline data attribute", visit)?;
            return Ok(());
        }
        if dir.size > MAX_DIR_BYTES {
            return Err(FsError::limit(
                self.volume.name(),
                FS,
                format!("size of directory inode {}", dir.number),
                dir.size,
                MAX_DIR_BYTES,
            ));
        }
        let bs = self.sb.block_size;
        let blocks = dir.size.div_ceil(bs);
        let mut buf = vec![0u8; bs as usize];
        let mut logical = 0u64;
        while logical < blocks {
            let run = self.map_block(dir, logical)?;
            let len = run.len.min(blocks - logical);
            for k in 0..len {
                let Some(physical) = run.physical else { break };
                self.volume.read_at((physical + k) * bs, &mut buf)?;
                let where_ = format!("block {}", physical + k);
                if self.parse_block(dir, &buf, &where_, visit)?.is_break() {
                    return Ok(());
                }
            }
            logical += len;
        }
        Ok(())
    }

    /// Parses the entries of one directory block (or inline area).
    fn parse_block(
        &self,
        dir: &Inode,
        block: &[u8],
        where_: &str,
        visit: &mut dyn FnMut(RawEntry<'_>) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, FsError> {
        let mut pos = 0usize;
        while pos + 8 <= block.len() {
            let inode = u64::from(le32(block, pos));
            let rec_len = usize::from(le16(block, pos + 4));
            let (name_len, file_type) = if self.sb.filetype {
                (usize::from(u8_at(block, pos + 6)), u8_at(block, pos + 7))
            } else {
                (usize::from(le16(block, pos + 6)), 0)
            };
            if rec_len < 8
                || rec_len % 4 != 0
                || pos + rec_len > block.len()
                || 8 + name_len > rec_len
            {
                return Err(FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!("directory inode {} entry at offset {pos} of {where_}", dir.number),
                    format!(
                        "record length {rec_len} with a {name_len}-byte name; expected a multiple of 4, at least 8 + the name, within the {}-byte block",
                        block.len()
                    ),
                ));
            }
            if inode != 0 && name_len > 0 {
                let kind = self.sb.filetype.then_some(match file_type {
                    1 => FileKind::File,
                    2 => FileKind::Dir,
                    3 => FileKind::CharDevice,
                    4 => FileKind::BlockDevice,
                    5 => FileKind::Fifo,
                    6 => FileKind::Socket,
                    7 => FileKind::Symlink,
                    _ => FileKind::Other,
                });
                let name = slice(block, pos + 8, name_len);
                if visit(RawEntry { inode, name, kind }).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            pos += rec_len;
        }
        Ok(ControlFlow::Continue(()))
    }

    /// The inode number of `name` in directory `dir`.
    pub(super) fn find_in_dir(&self, dir: &Inode, name: &[u8]) -> Result<Option<u64>, FsError> {
        if dir.size <= CACHED_DIR_MAX_BYTES {
            let names = self.dir_cache.get_or_load(dir.number, || {
                let mut names = HashMap::new();
                let mut bytes = 0usize;
                self.scan_dir(dir, &mut |e| {
                    bytes += e.name.len() + 48;
                    names.entry(e.name.to_vec()).or_insert(e.inode);
                    ControlFlow::Continue(())
                })?;
                Ok::<_, FsError>((names, bytes))
            })?;
            return Ok(names.get(name).copied());
        }
        let mut found = None;
        self.scan_dir(dir, &mut |e| {
            if e.name == name {
                found = Some(e.inode);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(found)
    }

    /// The inode at `path`, never following a link.
    pub(super) fn lookup(&self, path: &[u8]) -> Result<Inode, FsError> {
        let name = self.volume.name();
        let parts = components(name, path)?;
        let mut current = self.inode(ROOT)?;
        for (i, part) in parts.iter().enumerate() {
            match current.kind() {
                FileKind::Dir => {}
                FileKind::Symlink => {
                    return Err(FsError::SymlinkInPath {
                        volume: name.to_owned(),
                        fs: FS,
                        path: prefix(&parts, i),
                    })
                }
                _ => return Err(FsError::not_a_directory(name, FS, &prefix(&parts, i))),
            }
            let Some(number) = self.find_in_dir(&current, part)? else {
                return Err(FsError::not_found(name, FS, &prefix(&parts, i + 1)));
            };
            current = self.inode(number)?;
        }
        Ok(current)
    }

    /// The entries of directory `dir` without `.` and `..`, bounded.
    pub(super) fn list_dir(
        &self,
        dir: &Inode,
        path: &[u8],
    ) -> Result<Vec<crate::DirEntry>, FsError> {
        let mut out = Vec::new();
        let mut too_many = false;
        let mut failed = None;
        self.scan_dir(dir, &mut |e| {
            if e.name == b"." || e.name == b".." {
                return ControlFlow::Continue(());
            }
            if out.len() >= MAX_DIR_ENTRIES {
                too_many = true;
                return ControlFlow::Break(());
            }
            let kind = match e.kind {
                Some(kind) => kind,
                None => match self.inode(e.inode) {
                    Ok(inode) => inode.kind(),
                    Err(err) => {
                        failed = Some(err);
                        return ControlFlow::Break(());
                    }
                },
            };
            out.push(crate::DirEntry {
                name: e.name.to_vec(),
                kind,
                inode: e.inode,
            });
            ControlFlow::Continue(())
        })?;
        if let Some(err) = failed {
            return Err(err);
        }
        if too_many {
            return Err(FsError::limit(
                self.volume.name(),
                FS,
                format!("entries of directory {}", crate::error::show(path)),
                MAX_DIR_ENTRIES as u64 + 1,
                MAX_DIR_ENTRIES as u64,
            ));
        }
        Ok(out)
    }
}
