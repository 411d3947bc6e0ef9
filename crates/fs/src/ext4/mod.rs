//! ext2, ext3 and ext4, read by hand.
//!
//! Read: block sizes 1 to 64 KiB, 32- and 64-bit block numbers and group
//! descriptors, flex_bg, sparse_super, extent trees (depth checked at
//! every level, unwritten extents read as zeros) and ext2/3 block maps
//! with single, double and triple indirect blocks, holes, hash-tree
//! (htree, largedir) directories by a linear scan of their blocks,
//! inline data (files and directories), fast and slow symbolic links,
//! 16- and 32-bit uids, nanosecond and post-2038 timestamps. With
//! metadata_csum the superblock, every inode and every extent tree block
//! are checked against their crc32c (directory block and group
//! descriptor checksums are not).
//!
//! Reported: a set needs_recovery flag ([`crate::FsState::NeedsRecovery`]: the
//! journal is never replayed, so what is read is the state before the
//! replay the guest's kernel will do), a not-clean or errors state.
//!
//! Refused ([`crate::FsError::Unsupported`]): compression, meta_bg, dirdata, an
//! external journal device, unknown incompatible features, and encrypted
//! (fscrypt) files and directories.
//!
//! The `ext4-view` crate was looked at first: it reads extents, htree and
//! metadata_csum well, but exposes neither inode numbers nor link counts
//! (so hard links cannot be told apart), refuses inline data, and shares
//! its state through `Rc`, so it cannot be read from several threads.

mod checksum;
mod dir;
mod inode;
mod map;
mod superblock;

use std::collections::HashMap;

use imsprep_disk::TableCache;

use crate::error::FsError;
use crate::filesystem::{DirEntry, FileKind, FileSystem, FsInfo, Metadata, MAX_LINK_LEN};
use crate::volume::Volume;

use inode::{Inode, FLAG_ENCRYPT, FLAG_EXTENTS, FLAG_INLINE_DATA};
use superblock::Superblock;

/// The file system's name in messages.
const FS: &str = "ext4";

/// An ext2/3/4 file system, read-only.
#[derive(Debug)]
pub struct Ext4 {
    volume: Volume,
    sb: Superblock,
    /// Name tables of recently searched directories, by inode number, so a
    /// walk of a big directory does not scan it once per entry.
    dir_cache: TableCache<HashMap<Vec<u8>, u64>>,
}

/// Bytes of directory name tables kept.
const DIR_CACHE_BYTES: usize = 16 << 20;

impl Ext4 {
    /// Opens the file system on `volume`, checking its superblock and
    /// root directory.
    pub fn open(volume: Volume) -> Result<Ext4, FsError> {
        let sb = Superblock::read(&volume)?;
        let fs = Ext4 {
            volume,
            sb,
            dir_cache: TableCache::new(DIR_CACHE_BYTES),
        };
        let root = fs.inode(inode::ROOT)?;
        if root.kind() != FileKind::Dir {
            return Err(FsError::malformed(
                fs.volume.name(),
                FS,
                "inode 2",
                format!("the root is a {:?}; expected a directory", root.kind()),
            ));
        }
        Ok(fs)
    }

    fn refuse_encrypted(&self, inode: &Inode) -> Result<(), FsError> {
        if inode.flags & FLAG_ENCRYPT != 0 {
            return Err(FsError::unsupported(
                self.volume.name(),
                FS,
                format!("encrypted (fscrypt) inode {}", inode.number),
            ));
        }
        Ok(())
    }

    /// Reads `inode`'s data from `offset` into `buf`, up to its size.
    fn read_data(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        self.refuse_encrypted(inode)?;
        if offset >= inode.size {
            return Ok(0);
        }
        let want = (inode.size - offset).min(buf.len() as u64) as usize;
        let buf = buf.get_mut(..want).unwrap_or_default();
        if inode.flags & FLAG_INLINE_DATA != 0 {
            let rest = self.inline_xattr_data(inode)?;
            let mut whole = inode.block.to_vec();
            whole.extend_from_slice(rest);
            if (whole.len() as u64) < inode.size {
                return Err(FsError::malformed(
                    self.volume.name(),
                    FS,
                    format!("inode {} inline data", inode.number),
                    format!(
                        "holds {} bytes; the inode's size is {}",
                        whole.len(),
                        inode.size
                    ),
                ));
            }
            let start = offset as usize;
            buf.copy_from_slice(whole.get(start..start + want).unwrap_or_default());
            return Ok(want);
        }
        let bs = self.sb.block_size;
        let mut done = 0usize;
        while done < want {
            let pos = offset + done as u64;
            let logical = pos / bs;
            let within = pos % bs;
            let run = self.map_block(inode, logical)?;
            let run_bytes = run.len.saturating_mul(bs) - within;
            let step = run_bytes.min((want - done) as u64) as usize;
            let chunk = buf.get_mut(done..done + step).unwrap_or_default();
            match run.physical {
                None => chunk.fill(0),
                Some(physical) => self.volume.read_at(physical * bs + within, chunk)?,
            }
            done += step;
        }
        Ok(done)
    }

    fn to_metadata(&self, inode: &Inode) -> Metadata {
        Metadata {
            kind: inode.kind(),
            mode: u32::from(inode.mode & 0o7777),
            uid: inode.uid,
            gid: inode.gid,
            size: inode.size,
            mtime: inode.mtime,
            nlink: u64::from(inode.links),
            inode: inode.number,
            note: None,
        }
    }
}

impl FileSystem for Ext4 {
    fn info(&self) -> &FsInfo {
        &self.sb.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let inode = self.lookup(path)?;
        Ok(self.to_metadata(&inode))
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let inode = self.lookup(path)?;
        if inode.kind() != FileKind::Dir {
            return Err(FsError::not_a_directory(self.volume.name(), FS, path));
        }
        self.refuse_encrypted(&inode)?;
        self.list_dir(&inode, path)
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let inode = self.lookup(path)?;
        if inode.kind() != FileKind::Symlink {
            return Err(FsError::wrong_kind(
                self.volume.name(),
                FS,
                path,
                "symbolic link",
                inode.kind(),
            ));
        }
        if inode.size > MAX_LINK_LEN as u64 {
            return Err(FsError::limit(
                self.volume.name(),
                FS,
                format!("target length of link inode {}", inode.number),
                inode.size,
                MAX_LINK_LEN as u64,
            ));
        }
        let fast = inode.size < 60 && inode.flags & (FLAG_EXTENTS | FLAG_INLINE_DATA) == 0;
        if fast {
            self.refuse_encrypted(&inode)?;
            return Ok(inode
                .block
                .get(..inode.size as usize)
                .unwrap_or_default()
                .to_vec());
        }
        let mut target = vec![0u8; inode.size as usize];
        let got = self.read_data(&inode, 0, &mut target)?;
        target.truncate(got);
        Ok(target)
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let inode = self.lookup(path)?;
        if inode.kind() != FileKind::File {
            return Err(FsError::wrong_kind(
                self.volume.name(),
                FS,
                path,
                "regular file",
                inode.kind(),
            ));
        }
        self.read_data(&inode, offset, buf)
    }
}
