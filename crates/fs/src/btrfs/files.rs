//! Inside one file tree: inodes, directory entries, file extents
//! (inline, regular, preallocated, compressed), and the subvolume paths
//! of the root tree.

use std::io::Read;

use super::tree::Key;
use super::{
    corrupt, lzo, Shared, TreeRoot, DIR_INDEX, DIR_ITEM, EXTENT_DATA, FIRST_FREE, FS_TREE,
    INODE_ITEM, INODE_REF, LAST_FREE, ROOT_BACKREF, ROOT_ITEM,
};
use crate::bytes::{le16, le32, le64, u8_at};
use crate::FsError;

/// The most bytes one compressed extent holds, stored or decompressed.
const MAX_COMPRESSED_EXTENT: u64 = 128 << 10;
/// The deepest subvolume nesting and directory depth followed when naming
/// subvolumes.
const MAX_DEPTH: usize = 4096;

/// One directory entry of a DIR_ITEM or DIR_INDEX item.
#[derive(Debug, Clone)]
pub(super) struct DirItem {
    pub location: Key,
    pub kind: u8,
    pub name: Vec<u8>,
}

/// The entries packed in one DIR_ITEM or DIR_INDEX item.
pub(super) fn dir_items(data: &[u8]) -> Result<Vec<DirItem>, FsError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let data_len = usize::from(le16(data, pos + 25));
        let name_len = usize::from(le16(data, pos + 27));
        let name_at = pos + 30;
        let end = name_at + name_len + data_len;
        if name_len == 0 || end > data.len() {
            return Err(corrupt(
                "directory item",
                0,
                format!("an entry with a {name_len}-byte name and {data_len} bytes of data runs past the {}-byte item", data.len()),
            ));
        }
        out.push(DirItem {
            location: Key::read(data, pos),
            kind: u8_at(data, pos + 29),
            name: data
                .get(name_at..name_at + name_len)
                .unwrap_or_default()
                .to_vec(),
        });
        pos = end;
    }
    Ok(out)
}

/// The INODE_ITEM fields the reader uses.
#[derive(Debug, Clone)]
pub(super) struct InodeItem {
    pub size: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime: (i64, u32),
}

/// One EXTENT_DATA item.
#[derive(Debug, Clone)]
struct FileExtent {
    file_offset: u64,
    compression: u8,
    /// Bytes the extent covers in the file.
    len: u64,
    body: ExtentBody,
}

#[derive(Debug, Clone)]
enum ExtentBody {
    /// The (possibly compressed) bytes inside the item; `ram` bytes
    /// decompressed.
    Inline { data: Vec<u8>, ram: u64 },
    /// Bytes at a logical address; `disk_bytenr` 0 is a hole.
    Regular {
        disk_bytenr: u64,
        disk_len: u64,
        offset: u64,
        ram: u64,
    },
    /// Allocated, never written: zeros.
    Prealloc,
}

/// The Btrfs name hash: CRC-32C seeded with `~1`, without the final
/// inversion.
fn name_hash(name: &[u8]) -> u64 {
    u64::from(!crc32c::crc32c_append(!0xffff_fffe, name))
}

impl Shared {
    /// The inode item of `ino` in `tree`.
    pub(super) fn inode(&self, tree: &TreeRoot, ino: u64) -> Result<InodeItem, FsError> {
        let mut found = None;
        self.walk(
            tree.bytenr,
            tree.level,
            Key::new(ino, INODE_ITEM, 0),
            Key::new(ino, INODE_ITEM, 0),
            &mut |_, data| {
                found = Some(data.to_vec());
                Ok(false)
            },
        )?;
        let data = found.ok_or_else(|| {
            corrupt(
                format!("inode {ino} of tree {}", tree.id),
                0,
                "a directory entry names it but it has no INODE_ITEM",
            )
        })?;
        if data.len() < 160 {
            return Err(corrupt(
                format!("INODE_ITEM {ino} of tree {}", tree.id),
                0,
                format!("expected 160 bytes; found {}", data.len()),
            ));
        }
        Ok(InodeItem {
            size: le64(&data, 16),
            nlink: le32(&data, 40),
            uid: le32(&data, 44),
            gid: le32(&data, 48),
            mode: le32(&data, 52),
            mtime: (le64(&data, 136) as i64, le32(&data, 144)),
        })
    }

    /// The entry `name` of directory `dir`, found by its name hash.
    pub(super) fn lookup(
        &self,
        tree: &TreeRoot,
        dir: u64,
        name: &[u8],
    ) -> Result<Option<DirItem>, FsError> {
        let hash = name_hash(name);
        let mut found = None;
        self.walk(
            tree.bytenr,
            tree.level,
            Key::new(dir, DIR_ITEM, hash),
            Key::new(dir, DIR_ITEM, hash),
            &mut |_, data| {
                found = dir_items(data)?.into_iter().find(|e| e.name == name);
                Ok(found.is_none())
            },
        )?;
        Ok(found)
    }

    /// The entries of directory `dir`, in index order, at most `limit`.
    pub(super) fn list(
        &self,
        tree: &TreeRoot,
        dir: u64,
        limit: usize,
    ) -> Result<Vec<DirItem>, FsError> {
        let mut out = Vec::new();
        let mut over = false;
        self.walk(
            tree.bytenr,
            tree.level,
            Key::new(dir, DIR_INDEX, 0),
            Key::new(dir, DIR_INDEX, u64::MAX),
            &mut |_, data| {
                out.extend(dir_items(data)?);
                over = out.len() > limit;
                Ok(!over)
            },
        )?;
        if over {
            return Err(FsError::limit(
                "",
                "btrfs",
                format!("entries of directory {dir} in tree {}", tree.id),
                out.len() as u64,
                limit as u64,
            ));
        }
        Ok(out)
    }

    /// The tree and object a directory entry leads to: a subvolume's
    /// top directory for a ROOT_ITEM location.
    pub(super) fn follow(
        &self,
        tree: &TreeRoot,
        entry: &DirItem,
    ) -> Result<(TreeRoot, u64), FsError> {
        if entry.location.kind == ROOT_ITEM {
            let sub = self.tree_root(entry.location.objectid)?;
            Ok((sub, sub.dirid))
        } else {
            Ok((*tree, entry.location.objectid))
        }
    }

    fn extents(&self, tree: &TreeRoot, ino: u64, end: u64) -> Result<Vec<FileExtent>, FsError> {
        let mut out = Vec::new();
        self.walk(
            tree.bytenr,
            tree.level,
            Key::new(ino, EXTENT_DATA, 0),
            Key::new(ino, EXTENT_DATA, end),
            &mut |key, data| {
                out.push(parse_extent(key.offset, data)?);
                Ok(true)
            },
        )?;
        Ok(out)
    }

    /// Reads `buf.len()` bytes at `offset` of file `ino` (the caller clips
    /// to the file's size); what no extent covers reads as zeros.
    pub(super) fn read_file(
        &self,
        tree: &TreeRoot,
        ino: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), FsError> {
        buf.fill(0);
        let end = offset + buf.len() as u64;
        for ext in self.extents(tree, ino, end)? {
            let ext_end = ext.file_offset.saturating_add(ext.len);
            if ext_end <= offset || ext.file_offset >= end {
                continue;
            }
            let from = offset.max(ext.file_offset);
            let to = end.min(ext_end);
            let dst = buf
                .get_mut((from - offset) as usize..(to - offset) as usize)
                .unwrap_or_default();
            let within = from - ext.file_offset;
            self.read_extent(&ext, within, dst)?;
        }
        Ok(())
    }

    fn read_extent(&self, ext: &FileExtent, within: u64, dst: &mut [u8]) -> Result<(), FsError> {
        let what = format!("extent at file offset {}", ext.file_offset);
        match &ext.body {
            ExtentBody::Prealloc => Ok(()),
            ExtentBody::Regular { disk_bytenr: 0, .. } => Ok(()),
            ExtentBody::Inline { data, ram } => {
                let plain = if ext.compression == 0 {
                    data.clone()
                } else {
                    decompress(ext.compression, data, *ram).map_err(|p| corrupt(&what, 0, p))?
                };
                copy_out(&plain, within, dst);
                Ok(())
            }
            ExtentBody::Regular {
                disk_bytenr,
                disk_len,
                offset,
                ram,
            } => {
                if ext.compression == 0 {
                    let logical = disk_bytenr
                        .checked_add(offset + within)
                        .ok_or_else(|| corrupt(&what, 0, "address overflows"))?;
                    let at = self.physical(logical, dst.len() as u64)?;
                    return self.vol.read_at(at, dst);
                }
                if *disk_len > MAX_COMPRESSED_EXTENT || *ram > MAX_COMPRESSED_EXTENT {
                    return Err(corrupt(
                        &what,
                        0,
                        format!("a compressed extent of {disk_len} bytes claims {ram} bytes; at most {MAX_COMPRESSED_EXTENT} each"),
                    ));
                }
                let at = self.physical(*disk_bytenr, *disk_len)?;
                let mut stored = vec![0u8; *disk_len as usize];
                self.vol.read_at(at, &mut stored)?;
                let plain =
                    decompress(ext.compression, &stored, *ram).map_err(|p| corrupt(&what, 0, p))?;
                copy_out(&plain, offset + within, dst);
                Ok(())
            }
        }
    }

    /// The target of symlink `ino`: its one inline extent.
    pub(super) fn link_target(&self, tree: &TreeRoot, ino: u64) -> Result<Vec<u8>, FsError> {
        let extents = self.extents(tree, ino, 0)?;
        match extents.first() {
            Some(FileExtent {
                body: ExtentBody::Inline { data, ram },
                compression,
                ..
            }) => {
                if *compression == 0 {
                    Ok(data.clone())
                } else {
                    decompress(*compression, data, *ram)
                        .map_err(|p| corrupt(format!("symlink {ino}"), 0, p))
                }
            }
            _ => Err(corrupt(
                format!("symlink {ino} of tree {}", tree.id),
                0,
                "expected one inline extent holding the target",
            )),
        }
    }

    /// The path of directory `dir` inside `tree`, from INODE_REF items.
    fn dir_path(&self, tree: &TreeRoot, dir: u64) -> Result<String, FsError> {
        let mut parts = Vec::new();
        let mut cur = dir;
        while cur != tree.dirid {
            if parts.len() >= MAX_DEPTH {
                return Err(corrupt(
                    format!("INODE_REF of {dir}"),
                    0,
                    "the parent chain does not end",
                ));
            }
            let mut found = None;
            self.walk(
                tree.bytenr,
                tree.level,
                Key::new(cur, INODE_REF, 0),
                Key::new(cur, INODE_REF, u64::MAX),
                &mut |key, data| {
                    let len = usize::from(le16(data, 8));
                    found = Some((
                        key.offset,
                        data.get(10..10 + len).unwrap_or_default().to_vec(),
                    ));
                    Ok(false)
                },
            )?;
            let (parent, name) = found.ok_or_else(|| {
                corrupt(
                    format!("inode {cur} of tree {}", tree.id),
                    0,
                    "no INODE_REF names its parent",
                )
            })?;
            parts.push(String::from_utf8_lossy(&name).into_owned());
            cur = parent;
        }
        parts.reverse();
        Ok(parts.join("/"))
    }

    /// Every subvolume with its path from the top level.
    pub(super) fn subvolumes(&self) -> Result<Vec<(u64, String)>, FsError> {
        // child -> (parent, directory in parent, name)
        let mut refs = std::collections::BTreeMap::new();
        self.walk(
            self.sb.root,
            self.sb.root_level,
            Key::new(FIRST_FREE, 0, 0),
            Key::new(LAST_FREE, u8::MAX, u64::MAX),
            &mut |key, data| {
                if key.kind == ROOT_BACKREF {
                    let len = usize::from(le16(data, 16));
                    let name = data.get(18..18 + len).unwrap_or_default().to_vec();
                    refs.insert(key.objectid, (key.offset, le64(data, 0), name));
                }
                Ok(true)
            },
        )?;
        let mut out = vec![(FS_TREE, "/".to_string())];
        for &id in refs.keys() {
            let mut parts = Vec::new();
            let mut cur = id;
            while cur != FS_TREE {
                let (parent, dir, name) = refs.get(&cur).ok_or_else(|| {
                    corrupt(
                        format!("ROOT_BACKREF of subvolume {cur}"),
                        0,
                        "missing; the subvolume is not reachable",
                    )
                })?;
                if parts.len() >= MAX_DEPTH {
                    return Err(corrupt(
                        format!("ROOT_BACKREF of subvolume {id}"),
                        0,
                        "the parent chain does not end",
                    ));
                }
                let parent_tree = self.tree_root(*parent)?;
                let mut part = self.dir_path(&parent_tree, *dir)?;
                if !part.is_empty() {
                    part.push('/');
                }
                part.push_str(&String::from_utf8_lossy(name));
                parts.push(part);
                cur = *parent;
            }
            parts.reverse();
            out.push((id, parts.join("/")));
        }
        Ok(out)
    }

    /// The subvolume at `path` from the top level.
    pub(super) fn subvolume_by_path(&self, path: &str) -> Result<u64, FsError> {
        let mut tree = self.tree_root(FS_TREE)?;
        let mut ino = tree.dirid;
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            let entry = self.lookup(&tree, ino, part.as_bytes())?.ok_or_else(|| {
                FsError::unsupported("", "btrfs", format!("subvolume {path}: no such path"))
            })?;
            (tree, ino) = self.follow(&tree, &entry)?;
        }
        if ino != tree.dirid {
            return Err(FsError::unsupported(
                "",
                "btrfs",
                format!("subvolume {path}: the path is a directory, not a subvolume"),
            ));
        }
        Ok(tree.id)
    }
}

fn parse_extent(file_offset: u64, data: &[u8]) -> Result<FileExtent, FsError> {
    let what = format!("EXTENT_DATA at file offset {file_offset}");
    if data.len() < 21 {
        return Err(corrupt(
            &what,
            0,
            format!("expected at least 21 bytes; found {}", data.len()),
        ));
    }
    let ram = le64(data, 8);
    let compression = u8_at(data, 16);
    if u8_at(data, 17) != 0 || le16(data, 18) != 0 {
        return Err(super::unsupported(format!(
            "encrypted or encoded extents ({what})"
        )));
    }
    if compression > 3 {
        return Err(corrupt(
            &what,
            0,
            format!("unknown compression {compression}"),
        ));
    }
    let kind = u8_at(data, 20);
    let (len, body) = match kind {
        0 => (
            ram,
            ExtentBody::Inline {
                data: data.get(21..).unwrap_or_default().to_vec(),
                ram,
            },
        ),
        1 | 2 => {
            if data.len() < 53 {
                return Err(corrupt(
                    &what,
                    0,
                    format!("expected 53 bytes; found {}", data.len()),
                ));
            }
            let body = if kind == 2 {
                ExtentBody::Prealloc
            } else {
                ExtentBody::Regular {
                    disk_bytenr: le64(data, 21),
                    disk_len: le64(data, 29),
                    offset: le64(data, 37),
                    ram,
                }
            };
            (le64(data, 45), body)
        }
        other => return Err(corrupt(&what, 0, format!("unknown extent type {other}"))),
    };
    if let ExtentBody::Inline { data, ram } = &body {
        if compression == 0 && data.len() as u64 != *ram || *ram > MAX_COMPRESSED_EXTENT {
            return Err(corrupt(
                &what,
                0,
                format!("inline extent of {} bytes claims {ram}", data.len()),
            ));
        }
    }
    Ok(FileExtent {
        file_offset,
        compression,
        len,
        body,
    })
}

/// Copies `src[from..]` into `dst`, zeros where `src` ends early.
fn copy_out(src: &[u8], from: u64, dst: &mut [u8]) {
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(src.len());
    let n = dst.len().min(src.len() - start);
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(start..start + n)) {
        d.copy_from_slice(s);
    }
}

/// Decompresses `data` (zlib 1, LZO 2, zstd 3) to at most `ram` bytes.
fn decompress(kind: u8, data: &[u8], ram: u64) -> Result<Vec<u8>, String> {
    let cap = usize::try_from(ram.min(MAX_COMPRESSED_EXTENT)).unwrap_or(0);
    let mut out = Vec::with_capacity(cap);
    match kind {
        1 => flate2::read::ZlibDecoder::new(data)
            .take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| ())
            .map_err(|e| format!("zlib: {e}"))?,
        2 => out = lzo::btrfs_lzo(data, cap)?,
        3 => zstd::stream::read::Decoder::with_buffer(data)
            .map_err(|e| format!("zstd: {e}"))?
            .single_frame()
            .take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| ())
            .map_err(|e| format!("zstd: {e}"))?,
        other => return Err(format!("unknown compression {other}")),
    }
    if out.len() > cap {
        return Err(format!("decompresses past its {cap}-byte size"));
    }
    Ok(out)
}
