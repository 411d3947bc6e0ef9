//! Btrfs on a single device, read-only.
//!
//! Read: the primary superblock (CRC-32C checked), the system chunk array
//! and the chunk tree (logical to physical addresses; SINGLE and DUP
//! profiles, stripe 0), tree blocks (checksum, address, fsid, level and
//! item bounds checked), the root tree (subvolume roots, their names from
//! ROOT_BACKREF, the default subvolume from the `default` entry of
//! directory 6), and each subvolume's file tree: INODE_ITEM, DIR_ITEM
//! (looked up by name hash), DIR_INDEX (listings), INODE_REF (subvolume
//! paths), EXTENT_DATA inline, regular and preallocated (zeros), holes
//! (zeros), compressed with zlib, LZO (Btrfs's segmented framing) or zstd,
//! each bounded to the extent's 128 KiB. A directory entry whose location
//! is a ROOT_ITEM crosses into that subvolume. Every walk is bounded:
//! each step down a tree must reach the level below (so a pointer cycle
//! cannot recur), at most 8 levels and a fixed number of blocks per walk.
//!
//! Refused: file systems on more than one device and chunks whose profile
//! needs another device (RAID0/1/10/5/6, RAID1C3/4); checksums other than
//! CRC-32C; encrypted extents; unknown incompatible features. A log tree
//! (fsync'd data not yet in the trees) is reported, not replayed.
//!
//! No crate on crates.io reads Btrfs from an arbitrary byte source with
//! bounded, checked walks, so the reader is written here; zlib and zstd go
//! through `flate2` and `zstd`, and LZO through a small bounded decoder
//! (`lzo.rs`) because the pure-Rust LZO crates panic on hostile input.

mod files;
mod lzo;
mod superblock;
mod tree;
mod view;

use std::sync::Arc;

use imsprep_disk::TableCache;

use crate::{FsError, FsInfo, Volume};
use superblock::Superblock;
use tree::{Chunk, Key};

/// Bytes of tree blocks kept in memory.
const CACHE_BYTES: usize = 32 << 20;
/// Well-known tree and object ids.
const ROOT_TREE_DIR: u64 = 6;
const FS_TREE: u64 = 5;
const FIRST_FREE: u64 = 256;
const LAST_FREE: u64 = u64::MAX - 256;
const CHUNK_OBJECTID: u64 = 256;
/// Item types.
const INODE_ITEM: u8 = 1;
const INODE_REF: u8 = 12;
const DIR_ITEM: u8 = 84;
const DIR_INDEX: u8 = 96;
const EXTENT_DATA: u8 = 108;
const ROOT_ITEM: u8 = 132;
const ROOT_BACKREF: u8 = 144;
const CHUNK_ITEM: u8 = 228;

/// What every view of one file system shares.
#[derive(Debug)]
struct Shared {
    vol: Volume,
    sb: Superblock,
    chunks: Vec<Chunk>,
    nodes: TableCache<tree::Node>,
}

impl std::fmt::Debug for tree::Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node(level {}, {} items)", self.level, self.count)
    }
}

/// A tree's root block and level.
#[derive(Debug, Clone, Copy)]
struct TreeRoot {
    id: u64,
    bytenr: u64,
    level: u8,
    /// The subvolume's top directory (256).
    dirid: u64,
}

/// A Btrfs file system on a [`Volume`], seen from one subvolume.
#[derive(Debug, Clone)]
pub struct Btrfs {
    shared: Arc<Shared>,
    top: TreeRoot,
    info: FsInfo,
}

impl Btrfs {
    /// Reads the superblock and the chunk tree, and roots the view at the
    /// default subvolume.
    pub fn open(vol: Volume) -> Result<Btrfs, FsError> {
        let name = vol.name().to_owned();
        Self::open_inner(vol).map_err(|e| view::named(e, &name))
    }

    fn open_inner(vol: Volume) -> Result<Btrfs, FsError> {
        let mut buf = vec![0u8; superblock::SIZE];
        vol.read_at(superblock::OFFSET, &mut buf)?;
        let sb = Superblock::parse(&buf)?;
        let device_size = vol.len();
        let mut chunks = Vec::new();
        let mut pos = 0usize;
        while pos < sb.sys_chunks.len() {
            let key = Key::read(&sb.sys_chunks, pos);
            let data = sb.sys_chunks.get(pos + 17..).unwrap_or_default();
            if key.kind != CHUNK_ITEM {
                return Err(corrupt(
                    "superblock sys_chunk_array",
                    superblock::OFFSET,
                    format!(
                        "expected a CHUNK_ITEM key at byte {pos}; found type {}",
                        key.kind
                    ),
                ));
            }
            let (chunk, used) = tree::parse_chunk(data, key.offset, sb.devid, device_size)?;
            chunks.push(chunk);
            pos += 17 + used;
        }
        let mut shared = Shared {
            vol,
            sb,
            chunks,
            nodes: TableCache::new(CACHE_BYTES),
        };
        shared.sort_chunks()?;
        let mut all = Vec::new();
        let (root, level, devid) = (
            shared.sb.chunk_root,
            shared.sb.chunk_root_level,
            shared.sb.devid,
        );
        shared.walk(
            root,
            level,
            Key::new(CHUNK_OBJECTID, CHUNK_ITEM, 0),
            Key::new(CHUNK_OBJECTID, CHUNK_ITEM, u64::MAX),
            &mut |key, data| {
                all.push(tree::parse_chunk(data, key.offset, devid, device_size)?.0);
                Ok(true)
            },
        )?;
        shared.chunks = all;
        shared.sort_chunks()?;
        shared.nodes = TableCache::new(CACHE_BYTES);
        let shared = Arc::new(shared);
        let default = shared.default_subvolume()?;
        let top = shared.tree_root(default)?;
        let info = view::make_info(&shared);
        Ok(Btrfs { shared, top, info })
    }

    /// The same file system seen from another subvolume: by id
    /// (`subvolid=`) when `spec` is a number, else by path from the top
    /// level (`subvol=`, e.g. `@/.snapshots/1/snapshot`).
    pub fn with_subvolume(&self, spec: &str) -> Result<Btrfs, FsError> {
        let run = || {
            let id = match spec.parse::<u64>() {
                Ok(id) => id,
                Err(_) => self.shared.subvolume_by_path(spec)?,
            };
            let top = self.shared.tree_root(id)?;
            Ok(Btrfs {
                shared: Arc::clone(&self.shared),
                top,
                info: self.info.clone(),
            })
        };
        run().map_err(|e| view::named(e, self.shared.vol.name()))
    }

    /// Every subvolume: its id and its path from the top level (the top
    /// level itself, id 5, is `/`).
    pub fn subvolumes(&self) -> Result<Vec<(u64, String)>, FsError> {
        self.shared
            .subvolumes()
            .map_err(|e| view::named(e, self.shared.vol.name()))
    }

    /// The id of the subvolume this view is rooted at.
    pub fn subvolume_id(&self) -> u64 {
        self.top.id
    }
}

impl Shared {
    fn sort_chunks(&mut self) -> Result<(), FsError> {
        self.chunks.sort_by_key(|c| c.logical);
        for pair in self.chunks.windows(2) {
            if let [a, b] = pair {
                if a.logical + a.length > b.logical {
                    return Err(corrupt(
                        format!("chunk at logical {}", b.logical),
                        0,
                        "overlaps the chunk before it",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The root of tree `id`, from its ROOT_ITEM in the root tree (the
    /// newest when a snapshot left several).
    fn tree_root(&self, id: u64) -> Result<TreeRoot, FsError> {
        let mut found = None;
        self.walk(
            self.sb.root,
            self.sb.root_level,
            Key::new(id, ROOT_ITEM, 0),
            Key::new(id, ROOT_ITEM, u64::MAX),
            &mut |_, data| {
                found = Some(data.to_vec());
                Ok(true)
            },
        )?;
        let data = found.ok_or_else(|| {
            FsError::unsupported("", "btrfs", format!("subvolume {id}: no such subvolume"))
        })?;
        if data.len() < 239 {
            return Err(corrupt(
                format!("ROOT_ITEM of tree {id}"),
                0,
                format!("expected at least 239 bytes; found {}", data.len()),
            ));
        }
        Ok(TreeRoot {
            id,
            bytenr: crate::bytes::le64(&data, 176),
            level: crate::bytes::u8_at(&data, 238),
            dirid: crate::bytes::le64(&data, 168),
        })
    }

    /// The default subvolume: the `default` entry of root-tree directory
    /// 6, else the top level.
    fn default_subvolume(&self) -> Result<u64, FsError> {
        let mut id = None;
        self.walk(
            self.sb.root,
            self.sb.root_level,
            Key::new(ROOT_TREE_DIR, DIR_ITEM, 0),
            Key::new(ROOT_TREE_DIR, DIR_ITEM, u64::MAX),
            &mut |_, data| {
                for entry in files::dir_items(data)? {
                    if entry.name == b"default" {
                        id = Some(entry.location.objectid);
                    }
                }
                Ok(true)
            },
        )?;
        Ok(id.unwrap_or(FS_TREE))
    }
}

/// A structure that cannot be right; the volume's name is filled in at the
/// public boundary.
fn corrupt(structure: impl Into<String>, offset: u64, problem: impl Into<String>) -> FsError {
    let structure = structure.into();
    let structure = if offset == 0 {
        structure
    } else {
        format!("{structure} (at volume byte {offset})")
    };
    FsError::malformed("", "btrfs", structure, problem)
}

/// A real feature this reader does not read.
fn unsupported(feature: String) -> FsError {
    FsError::unsupported("", "btrfs", feature)
}
