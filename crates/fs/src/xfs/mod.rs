//! XFS, versions 4 and 5, read-only.
//!
//! Read: the primary superblock (geometry, features, v5 CRC), inodes
//! located from their numbers (AG, block, index), v1/v2/v3 inode cores
//! (v3 CRC and self-number checked), data forks as in-inode extent lists
//! or B+trees of `BMAP`/`BMA3` blocks (unwritten extents and holes read as
//! zeros), directories in every form (short form, block, leaf, node and
//! B+tree: entries are read from the data blocks, which all forms share),
//! symlinks inside the inode or in remote blocks (`XSLM` headers on v5),
//! and whether the internal log's head is an unmount record (a clean
//! unmount) or not. Every v5 metadata block read has its CRC, UUID,
//! location and owner checked; every block number is checked to lie in its
//! allocation group and in the volume, and every walk is bounded (B+tree
//! depth and blocks seen once).
//!
//! Refused: realtime files (their data is on another device), v4 file
//! systems without version-2 directories, and v5 incompatible features
//! this reader does not know. The log is never replayed: a dirty log is
//! reported, and the reader shows the state the metadata blocks hold.
//!
//! No crate on crates.io reads XFS read-only from an arbitrary byte source
//! with the checks above (the few that exist are unmaintained, incomplete
//! for B+tree directories, or panic on bad input), so this reader is
//! written here.

mod bmap;
mod checksum;
mod dir;
mod inode;
mod log;
mod superblock;
mod symlink;
mod view;

pub(crate) use view::named as named_error;

use std::sync::Arc;

use imsprep_disk::TableCache;

use crate::{FsError, Volume};
use bmap::Mapping;
use dir::RawEntry;
use inode::Inode;
use superblock::Superblock;

/// Bytes of extent maps and directory listings kept in memory.
const CACHE_BYTES: usize = 32 << 20;

/// An XFS file system on a [`Volume`].
#[derive(Debug)]
pub struct Xfs {
    vol: Volume,
    sb: Superblock,
    maps: TableCache<Vec<Mapping>>,
    dirs: TableCache<Vec<RawEntry>>,
    info: crate::FsInfo,
}

impl Xfs {
    /// Reads and checks the superblock and the log's state.
    pub fn open(vol: Volume) -> Result<Self, FsError> {
        let name = vol.name().to_owned();
        let head_len = usize::try_from(vol_size(&vol).min(32768)).unwrap_or(32768);
        if head_len < 512 {
            return Err(view::named(
                corrupt("superblock", 0, "the volume is smaller than one sector"),
                &name,
            ));
        }
        let mut head = vec![0u8; head_len];
        vol_read(&vol, 0, &mut head)?;
        let sb = Superblock::parse(&head, vol_size(&vol)).map_err(|e| view::named(e, &name))?;
        let mut xfs = Xfs {
            vol,
            sb,
            maps: TableCache::new(CACHE_BYTES),
            dirs: TableCache::new(CACHE_BYTES),
            info: view::placeholder_info(),
        };
        xfs.info = xfs.make_info();
        Ok(xfs)
    }

    /// `len` bytes at byte `offset` of the volume.
    fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>, FsError> {
        let mut buf = vec![0u8; len];
        vol_read(&self.vol, offset, &mut buf)?;
        Ok(buf)
    }

    /// Inode `ino`, read and checked.
    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        let offset = self.sb.inode_offset(ino)?;
        let buf = self.read_vec(offset, self.sb.inode_size as usize)?;
        Inode::parse(&self.sb, ino, offset, &buf)
    }

    /// The data fork's extents of `inode`, cached by inode number.
    fn inode_mappings(&self, inode: &Inode) -> Result<Arc<Vec<Mapping>>, FsError> {
        if inode.realtime {
            return Err(unsupported(format!(
                "realtime files (inode {}: its data is on the realtime device)",
                inode.ino
            )));
        }
        self.maps.get_or_load(inode.ino, || {
            let maps = self.mappings(inode)?;
            let bytes = maps.len() * std::mem::size_of::<Mapping>() + 64;
            Ok((maps, bytes))
        })
    }

    /// Fills `buf` with the bytes at `offset` of the address space `maps`
    /// describes (holes and unwritten extents read as zeros). Returns the
    /// volume offset of the first byte when it is stored.
    fn read_range(
        &self,
        maps: &[Mapping],
        offset: u64,
        buf: &mut [u8],
    ) -> Result<Option<u64>, FsError> {
        let block_log = self.sb.block_log;
        let mut first = None;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let block = pos >> block_log;
            let index = maps.partition_point(|m| m.file_block + m.count <= block);
            let rest = buf.len() - done;
            let (run, disk) = match maps.get(index) {
                Some(m) if m.file_block <= block => {
                    let end = (m.file_block + m.count) << block_log;
                    let run = rest.min(usize::try_from(end - pos).unwrap_or(usize::MAX));
                    let disk = if m.unwritten {
                        None
                    } else {
                        let start = self.sb.block_offset(m.disk_block, m.count, "extent")?;
                        Some(start + (pos - (m.file_block << block_log)))
                    };
                    (run, disk)
                }
                Some(m) => {
                    let gap = (m.file_block << block_log) - pos;
                    (rest.min(usize::try_from(gap).unwrap_or(usize::MAX)), None)
                }
                None => (rest, None),
            };
            let part = buf.get_mut(done..done + run).unwrap_or_default();
            match disk {
                Some(at) => vol_read(&self.vol, at, part)?,
                None => part.fill(0),
            }
            if done == 0 {
                first = disk;
            }
            done += run;
        }
        Ok(first)
    }

    /// Reads file `inode` at `offset` into `buf`, up to its size; returns
    /// the bytes read.
    fn read_file(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        if offset >= inode.size {
            return Ok(0);
        }
        let len = buf
            .len()
            .min(usize::try_from(inode.size - offset).unwrap_or(usize::MAX));
        let maps = self.inode_mappings(inode)?;
        self.read_range(&maps, offset, buf.get_mut(..len).unwrap_or_default())?;
        Ok(len)
    }

    /// The inode `path` names, following no symlink.
    fn resolve(&self, path: &[u8]) -> Result<Inode, FsError> {
        let parts = crate::path::components(self.vol.name(), path)?;
        let mut current = self.inode(self.sb.root_inode)?;
        for (depth, name) in parts.iter().enumerate() {
            match current.kind() {
                inode::S_IFDIR => {}
                inode::S_IFLNK => return Err(self.symlink_in_path(&parts, depth)),
                _ => {
                    return Err(FsError::not_a_directory(
                        self.vol.name(),
                        "xfs",
                        &crate::path::prefix(&parts, depth),
                    ))
                }
            }
            let entries = self.dir_entries(&current)?;
            let entry = entries
                .iter()
                .find(|e| e.name == *name)
                .ok_or_else(|| FsError::not_found(self.vol.name(), "xfs", path))?;
            current = self.inode(entry.ino)?;
        }
        Ok(current)
    }

    fn symlink_in_path(&self, parts: &[&[u8]], depth: usize) -> FsError {
        FsError::SymlinkInPath {
            volume: self.vol.name().to_owned(),
            fs: "xfs",
            path: crate::path::prefix(parts, depth),
        }
    }
}

/// A structure that cannot be right; the volume's name is filled in at
/// the [`crate::FileSystem`] boundary.
fn corrupt(structure: impl Into<String>, offset: u64, problem: impl Into<String>) -> FsError {
    let structure = structure.into();
    let structure = if offset == 0 {
        structure
    } else {
        format!("{structure} (at volume byte {offset})")
    };
    FsError::malformed("", "xfs", structure, problem)
}

/// A real feature this reader does not read.
fn unsupported(feature: String) -> FsError {
    FsError::unsupported("", "xfs", feature)
}

fn vol_size(vol: &Volume) -> u64 {
    vol.len()
}

fn vol_read(vol: &Volume, offset: u64, buf: &mut [u8]) -> Result<(), FsError> {
    vol.read_at(offset, buf)
}
