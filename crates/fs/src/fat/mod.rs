//! FAT12, FAT16 and FAT32, read-only.
//!
//! Read: the boot sector's BIOS parameter block (sectors of 512 to 4096
//! bytes, clusters of 1 to 128 sectors, up to the 512 KiB mkfs.fat makes
//! on 4 KiB-sector volumes; every count checked against the volume's
//! size), the FAT type decided by the cluster count as Microsoft's FAT
//! specification says (a BPB with the FAT32 layout is FAT32 whatever its
//! count, as Linux reads it), FAT entries of 12, 16 and 28 bits (the active
//! FAT when FAT32 mirroring is off), cluster chains (each walk bounded by
//! the volume's cluster count: a loop is reported with the cluster that
//! closes it; free, reserved, bad and out-of-range links are errors), the
//! FAT12/16 fixed root directory and cluster-chain directories (at most
//! 2 MiB, the 65536 entries FAT allows), 8.3 names (code page 437, the
//! Windows NT lower-case flags, 0x05 read as 0xE5), VFAT long names
//! (sequence numbers and the 8.3 checksum checked; a broken sequence falls
//! back to the 8.3 name), the volume label (the root's label entry, as
//! Windows and blkid prefer, else the boot sector's), the serial number
//! and the clean-shutdown bit of FAT\[1\].
//!
//! Shown: long names where present; lookups ignore case as Windows and
//! UEFI firmware do (simple Unicode case folding of the long name, and the
//! 8.3 name). FAT has no owners, permissions or links: directories are
//! `0o755`, files `0o644`, the read-only attribute drops the write bits;
//! the inode number is the first cluster (the root is 1; an empty file,
//! which has no cluster, gets `2^40` plus its entry's position / 32). Times
//! are local times with no zone, reported as if UTC.
//!
//! Reported: [`crate::FsState::Dirty`] when FAT\[1\]'s clean-shutdown bit is
//! clear (FAT16 bit 15, FAT32 bit 27; Windows clears it while mounted) or
//! the boot sector's state byte has its dirty bit set (Linux sets it while
//! mounted). FSInfo free-cluster hints are not read.
//!
//! Refused: FAT32 versions other than 0.0, and any structure that cannot
//! be right: a BPB value out of its range or past the volume, a chain that
//! loops or leaves the volume, a file whose chain is shorter than its size
//! needs (clusters past its size are ignored, as fsck.fat would trim them),
//! a directory past 2 MiB. exFAT is another file system, recognised
//! elsewhere.
//!
//! Files are read through their chain kept as runs of contiguous clusters
//! in a bounded cache: sequential reads of a large file walk its chain
//! once, and contiguous clusters are read in one request. FAT sectors and
//! directory listings are cached the same way.
//!
//! Written here rather than with the `fatfs` crate: it needs storage that
//! is also `Write`, and does not bound cluster-chain walks, so a FAT that
//! loops makes it read forever.

mod boot;
mod dir;
mod name;
mod table;
mod time;

use std::sync::Arc;

use imsprep_disk::TableCache;

use crate::filesystem::{DirEntry, FileKind, FileSystem, FsInfo, FsState, Metadata};
use crate::{FsError, FsKind, Volume};

use boot::{Geometry, BOOT_SECTOR_LEN};
use dir::{Entry, Listing, ATTR_READ_ONLY, ENTRY_LEN, MAX_DIR_BYTES};
use table::{Chain, Table};

/// Bytes of chains and directory listings kept.
const CACHE_BYTES: usize = 32 << 20;
/// The root directory's inode number (Linux's too).
const ROOT_INODE: u64 = 1;
/// Inode numbers of objects without a cluster start here.
const SYNTHETIC_INODE: u64 = 1 << 40;
/// The key of the FAT12/16 fixed root in the directory cache (clusters
/// are 28-bit).
const FIXED_ROOT_KEY: u64 = u64::MAX;

/// A FAT12/16/32 file system on a [`Volume`].
#[derive(Debug)]
pub struct Fat {
    vol: Volume,
    geo: Geometry,
    table: Table,
    /// Chains of files, by first cluster and clusters kept.
    chains: TableCache<Chain>,
    /// Listings of directories, by first cluster.
    dirs: TableCache<Listing>,
    info: FsInfo,
}

/// An object a path names.
enum Node {
    Root,
    Entry(Entry),
}

impl Fat {
    /// Reads and checks the boot sector, the FAT\[1\] flags and the root
    /// directory's label entry.
    pub fn open(vol: Volume) -> Result<Fat, FsError> {
        let mut boot = vec![0u8; BOOT_SECTOR_LEN];
        if vol.len() < BOOT_SECTOR_LEN as u64 {
            return Err(FsError::malformed(
                vol.name(),
                "fat",
                "boot sector",
                format!("the volume holds {} bytes, less than one sector", vol.len()),
            ));
        }
        vol.read_at(0, &mut boot)?;
        let geo = Geometry::parse(&boot, vol.len()).map_err(|e| named(e, vol.name()))?;
        let table = Table::new(vol.clone(), &geo);
        let mut fat = Fat {
            info: FsInfo {
                kind: geo.kind,
                label: geo.label.clone(),
                uuid: geo
                    .serial
                    .map(|s| format!("{:04X}-{:04X}", s >> 16, s & 0xFFFF)),
                size: geo.total_bytes,
                block_size: geo.cluster_size,
                state: Vec::new(),
            },
            vol,
            geo,
            table,
            chains: TableCache::new(CACHE_BYTES),
            dirs: TableCache::new(CACHE_BYTES),
        };
        if !fat.table.clean_shutdown()? || fat.geo.boot_dirty {
            fat.info.state.push(FsState::Dirty);
        }
        // Windows and blkid show the root's label entry over the boot
        // sector's copy. A root that cannot be read leaves the boot
        // sector's label and says why; reads of it fail the same way.
        match fat.root_listing() {
            Ok(root) => {
                if let Some(label) = root.label.as_ref().and_then(|raw| boot::label_text(raw)) {
                    fat.info.label = Some(label);
                }
            }
            Err(e) => fat.info.state.push(FsState::Other(format!(
                "the root directory is unreadable: {e}"
            ))),
        }
        Ok(fat)
    }

    fn fs(&self) -> &'static str {
        self.geo.kind.name()
    }

    fn malformed(&self, structure: String, problem: String) -> FsError {
        FsError::malformed(self.vol.name(), self.fs(), structure, problem)
    }

    /// The root directory's listing.
    fn root_listing(&self) -> Result<Arc<Listing>, FsError> {
        if self.geo.kind == FsKind::Fat32 {
            return self.cluster_listing(self.geo.root_cluster, "the root directory");
        }
        self.dirs.get_or_load(FIXED_ROOT_KEY, || {
            let len = self.geo.root_bytes as usize;
            let mut data = vec![0u8; len];
            self.vol.read_at(self.geo.root_offset, &mut data)?;
            let start = self.geo.root_offset;
            let listing = dir::parse(self.geo.kind, &data, |at| start + at as u64);
            let bytes = listing_bytes(&listing);
            Ok((listing, bytes))
        })
    }

    /// The listing of the directory whose chain starts at `cluster`.
    fn cluster_listing(&self, cluster: u32, owner: &str) -> Result<Arc<Listing>, FsError> {
        self.dirs.get_or_load(u64::from(cluster), || {
            let size = self.geo.cluster_size;
            let max = (MAX_DIR_BYTES / size).max(1);
            let chain = self.table.chain(cluster, max, max, owner)?;
            let mut data = vec![0u8; chain.len as usize * size as usize];
            for run in &chain.runs {
                let from = run.index as usize * size as usize;
                let to = from + run.count as usize * size as usize;
                let part = data.get_mut(from..to).unwrap_or_default();
                self.vol
                    .read_at(self.geo.cluster_offset(run.cluster), part)?;
            }
            let at = |offset: usize| {
                let index = u32::try_from(offset / size as usize).unwrap_or(u32::MAX);
                let inside = (offset % size as usize) as u64;
                chain
                    .locate(index)
                    .map_or(0, |(c, _)| self.geo.cluster_offset(c) + inside)
            };
            let listing = dir::parse(self.geo.kind, &data, at);
            let bytes = listing_bytes(&listing);
            Ok((listing, bytes))
        })
    }

    /// The listing of directory `node`, `path` naming it in errors.
    fn listing(&self, node: &Node, path: &[u8]) -> Result<Arc<Listing>, FsError> {
        match node {
            Node::Root => self.root_listing(),
            Node::Entry(e) => {
                if e.cluster == 0 {
                    return Err(self.malformed(
                        format!("directory entry of {}", show(path)),
                        "a directory with no first cluster".to_owned(),
                    ));
                }
                self.cluster_listing(e.cluster, &format!("directory {}", show(path)))
            }
        }
    }

    /// The object `path` names.
    fn resolve(&self, path: &[u8]) -> Result<Node, FsError> {
        let parts = crate::path::components(self.vol.name(), path)?;
        let mut node = Node::Root;
        for (depth, part) in parts.iter().enumerate() {
            let here = crate::path::prefix(&parts, depth);
            if let Node::Entry(e) = &node {
                if !e.is_dir() {
                    return Err(FsError::not_a_directory(self.vol.name(), self.fs(), &here));
                }
            }
            let listing = self.listing(&node, &here)?;
            let not_found = || FsError::not_found(self.vol.name(), self.fs(), path);
            let want = std::str::from_utf8(part).map_err(|_| not_found())?;
            let entry = listing.find(want).ok_or_else(not_found)?;
            node = Node::Entry(entry.clone());
        }
        Ok(node)
    }

    /// The chain of the file `entry`, holding the clusters its size needs.
    fn file_chain(&self, entry: &Entry, path: &[u8]) -> Result<Arc<Chain>, FsError> {
        let size = u64::from(self.geo.cluster_size);
        let need = u32::try_from(u64::from(entry.size).div_ceil(size)).unwrap_or(u32::MAX);
        let key = u64::from(entry.cluster) | u64::from(need) << 32;
        let owner = format!("file {}", show(path));
        let chain = self.chains.get_or_load(key, || {
            let chain = self.table.chain(entry.cluster, need, u32::MAX, &owner)?;
            let bytes = chain.runs.len() * std::mem::size_of::<table::Run>() + 64;
            Ok::<_, FsError>((chain, bytes))
        })?;
        if chain.len < need {
            return Err(self.malformed(
                format!("cluster chain of {owner}"),
                format!(
                    "the size {} needs {need} clusters; the chain from cluster {} ends \
                     after {}",
                    entry.size, entry.cluster, chain.len
                ),
            ));
        }
        Ok(chain)
    }

    fn metadata_of(&self, node: &Node, path: &[u8]) -> Result<Metadata, FsError> {
        let mut meta = Metadata {
            kind: FileKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: crate::Timestamp::default(),
            nlink: 1,
            inode: ROOT_INODE,
            note: None,
        };
        let entry = match node {
            Node::Root => {
                meta.size = self.root_listing()?.bytes;
                return Ok(meta);
            }
            Node::Entry(e) => e,
        };
        meta.mtime = time::timestamp(entry.date, entry.time);
        meta.inode = inode_of(entry);
        if entry.is_dir() {
            meta.size = self.listing(node, path)?.bytes;
        } else {
            meta.kind = FileKind::File;
            meta.mode = 0o644;
            meta.size = u64::from(entry.size);
        }
        if entry.attr & ATTR_READ_ONLY != 0 {
            meta.mode &= !0o222;
        }
        Ok(meta)
    }
}

/// The inode number shown for `entry`.
fn inode_of(entry: &Entry) -> u64 {
    if entry.cluster != 0 {
        u64::from(entry.cluster)
    } else {
        SYNTHETIC_INODE + entry.position / ENTRY_LEN as u64
    }
}

/// Bytes a listing holds in memory, for the cache.
fn listing_bytes(listing: &Listing) -> usize {
    listing
        .entries
        .iter()
        .map(|e| {
            // The entry, and its two keys in the index.
            std::mem::size_of::<Entry>() + 2 * (e.name.len() + e.short.len()) + 64
        })
        .sum::<usize>()
        + 64
}

/// A path for messages.
fn show(path: &[u8]) -> String {
    crate::error::show(path)
}

/// Fills in the volume's name on an error made where it was not at hand.
fn named(mut error: FsError, name: &str) -> FsError {
    if let FsError::Malformed { volume, .. } | FsError::Unsupported { volume, .. } = &mut error {
        if volume.is_empty() {
            *volume = name.to_owned();
        }
    }
    error
}

impl FileSystem for Fat {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let node = self.resolve(path)?;
        self.metadata_of(&node, path)
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let node = self.resolve(path)?;
        if let Node::Entry(e) = &node {
            if !e.is_dir() {
                return Err(FsError::not_a_directory(self.vol.name(), self.fs(), path));
            }
        }
        let listing = self.listing(&node, path)?;
        Ok(listing
            .entries
            .iter()
            .map(|e| DirEntry {
                name: e.name.as_bytes().to_vec(),
                kind: if e.is_dir() {
                    FileKind::Dir
                } else {
                    FileKind::File
                },
                inode: inode_of(e),
            })
            .collect())
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let meta = self.metadata(path)?;
        Err(FsError::wrong_kind(
            self.vol.name(),
            self.fs(),
            path,
            "symbolic link",
            meta.kind,
        ))
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let entry = match self.resolve(path)? {
            Node::Entry(e) if !e.is_dir() => e,
            _ => {
                return Err(FsError::wrong_kind(
                    self.vol.name(),
                    self.fs(),
                    path,
                    "regular file",
                    FileKind::Dir,
                ))
            }
        };
        let size = u64::from(entry.size);
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let len = buf
            .len()
            .min(usize::try_from(size - offset).unwrap_or(usize::MAX));
        let chain = self.file_chain(&entry, path)?;
        let cluster_size = u64::from(self.geo.cluster_size);
        let mut done = 0usize;
        while done < len {
            let pos = offset + done as u64;
            let index = u32::try_from(pos / cluster_size).unwrap_or(u32::MAX);
            let (cluster, run) = chain.locate(index).ok_or_else(|| {
                self.malformed(
                    format!("cluster chain of file {}", show(path)),
                    format!("holds no cluster {index}"),
                )
            })?;
            // Contiguous clusters are read at once.
            let inside = pos % cluster_size;
            let here = (u64::from(run) * cluster_size - inside).min((len - done) as u64) as usize;
            let part = buf.get_mut(done..done + here).unwrap_or_default();
            self.vol
                .read_at(self.geo.cluster_offset(cluster) + inside, part)?;
            done += here;
        }
        Ok(len)
    }
}
