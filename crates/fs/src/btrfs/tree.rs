//! Tree blocks (nodes and leaves), the chunk map from logical to physical
//! addresses, and bounded range walks over a tree.

use super::Shared;
use crate::bytes::{le16, le32, le64, u8_at};
use crate::FsError;

/// Node header size; leaf item and key-pointer sizes.
const HEADER: usize = 101;
const ITEM: usize = 25;
const KEY_PTR: usize = 33;
/// The deepest tree read (Btrfs uses at most 8 levels).
pub(super) const MAX_LEVEL: u8 = 7;
/// The most tree blocks one walk reads.
const MAX_NODES_PER_WALK: usize = 1 << 20;
/// Chunk type bits: profiles needing more than one device.
const PROFILE_MULTI: u64 = 0x8 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400;
/// `DUP`.
const PROFILE_DUP: u64 = 0x20;

/// A Btrfs key: ordered by object id, then type, then offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub objectid: u64,
    pub kind: u8,
    pub offset: u64,
}

impl Key {
    pub fn new(objectid: u64, kind: u8, offset: u64) -> Key {
        Key {
            objectid,
            kind,
            offset,
        }
    }

    pub fn read(buf: &[u8], at: usize) -> Key {
        Key::new(le64(buf, at), u8_at(buf, at + 8), le64(buf, at + 9))
    }
}

/// One chunk: `length` logical bytes from `logical` stored at `physical`
/// on the device.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunk {
    pub logical: u64,
    pub length: u64,
    pub physical: u64,
}

/// Parses the chunk item `data` for logical address `logical`, refusing
/// profiles that need another device.
pub(super) fn parse_chunk(
    data: &[u8],
    logical: u64,
    devid: u64,
    device_size: u64,
) -> Result<(Chunk, usize), FsError> {
    let what = format!("chunk item at logical {logical}");
    let length = le64(data, 0);
    let kind = le64(data, 24);
    let stripes = usize::from(le16(data, 44));
    let size = 48 + stripes * 32;
    if stripes == 0 || data.len() < size || length == 0 {
        return Err(super::corrupt(
            &what,
            0,
            format!(
                "{stripes} stripes of a {length}-byte chunk do not fit its {} bytes",
                data.len()
            ),
        ));
    }
    if kind & PROFILE_MULTI != 0 {
        return Err(super::unsupported(format!(
            "chunk profile {kind:#x} (RAID profiles need other devices; single and DUP are read)"
        )));
    }
    if kind & PROFILE_DUP == 0 && stripes != 1 {
        return Err(super::corrupt(
            &what,
            0,
            format!("a single-profile chunk with {stripes} stripes"),
        ));
    }
    let stripe_dev = le64(data, 48);
    let physical = le64(data, 56);
    if stripe_dev != devid {
        return Err(super::unsupported(format!(
            "a chunk on device {stripe_dev} (this device is {devid})"
        )));
    }
    if physical
        .checked_add(length)
        .is_none_or(|end| end > device_size)
        || logical.checked_add(length).is_none()
    {
        return Err(super::corrupt(
            &what,
            0,
            format!("stripe {physical}+{length} lies past the {device_size}-byte device"),
        ));
    }
    Ok((
        Chunk {
            logical,
            length,
            physical,
        },
        size,
    ))
}

/// Called with each item of a walk; returns false to stop the walk.
pub(super) type Visit<'a> = dyn FnMut(Key, &[u8]) -> Result<bool, FsError> + 'a;

/// A parsed tree block.
pub(super) struct Node {
    pub level: u8,
    pub data: Vec<u8>,
    pub count: usize,
}

impl Node {
    /// Key `i` of a leaf and its item's bytes.
    pub fn item(&self, i: usize) -> (Key, &[u8]) {
        let at = HEADER + i * ITEM;
        let off = HEADER + le32(&self.data, at + 17) as usize;
        let len = le32(&self.data, at + 21) as usize;
        (
            Key::read(&self.data, at),
            self.data.get(off..off + len).unwrap_or_default(),
        )
    }

    /// Key `i` of a node and its child's logical address.
    pub fn child(&self, i: usize) -> (Key, u64) {
        let at = HEADER + i * KEY_PTR;
        (Key::read(&self.data, at), le64(&self.data, at + 17))
    }

    fn key(&self, i: usize) -> Key {
        if self.level == 0 {
            self.item(i).0
        } else {
            self.child(i).0
        }
    }
}

impl Shared {
    /// The device offset of `len` bytes at `logical`.
    pub(super) fn physical(&self, logical: u64, len: u64) -> Result<u64, FsError> {
        let i = self
            .chunks
            .partition_point(|c| c.logical + c.length <= logical);
        match self.chunks.get(i) {
            Some(c) if c.logical <= logical && logical + len <= c.logical + c.length => {
                Ok(c.physical + (logical - c.logical))
            }
            _ => Err(super::corrupt(
                format!("logical address {logical}"),
                0,
                format!("{len} bytes there lie in no chunk"),
            )),
        }
    }

    /// The tree block at `logical`, which must be at `level`, checked and
    /// cached.
    pub(super) fn node(&self, logical: u64, level: u8) -> Result<std::sync::Arc<Node>, FsError> {
        let node = self.nodes.get_or_load(logical, || {
            let size = self.sb.node_size as usize;
            let at = self.physical(logical, size as u64)?;
            let mut data = vec![0u8; size];
            self.vol.read_at(at, &mut data)?;
            let node = check_node(&self.sb, logical, data)?;
            Ok::<_, FsError>((node, size))
        })?;
        if node.level != level {
            return Err(super::corrupt(
                format!("tree block at logical {logical}"),
                0,
                format!(
                    "expected level {level} (one below its parent); found {}",
                    node.level
                ),
            ));
        }
        Ok(node)
    }

    /// Calls `visit` with every item of the tree rooted at `root` (at
    /// `level`) whose key lies in `min..=max`, in key order; `visit`
    /// returns false to stop.
    pub(super) fn walk(
        &self,
        root: u64,
        level: u8,
        min: Key,
        max: Key,
        visit: &mut Visit<'_>,
    ) -> Result<(), FsError> {
        if level > MAX_LEVEL {
            return Err(super::corrupt(
                format!("tree root at logical {root}"),
                0,
                format!("level {level} is deeper than {MAX_LEVEL}"),
            ));
        }
        let mut budget = MAX_NODES_PER_WALK;
        self.walk_node(root, level, min, max, visit, &mut budget)
            .map(|_| ())
    }

    fn walk_node(
        &self,
        logical: u64,
        level: u8,
        min: Key,
        max: Key,
        visit: &mut Visit<'_>,
        budget: &mut usize,
    ) -> Result<bool, FsError> {
        *budget = budget.checked_sub(1).ok_or_else(|| {
            super::corrupt(
                format!("tree block at logical {logical}"),
                0,
                format!("a walk read more than {MAX_NODES_PER_WALK} blocks"),
            )
        })?;
        let node = self.node(logical, level)?;
        if level == 0 {
            for i in 0..node.count {
                let (key, data) = node.item(i);
                if key > max {
                    return Ok(false);
                }
                if key >= min && !visit(key, data)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        for i in 0..node.count {
            let (_, child) = node.child(i);
            if i + 1 < node.count && node.child(i + 1).0 <= min {
                continue;
            }
            if node.child(i).0 > max {
                return Ok(false);
            }
            if !self.walk_node(child, level - 1, min, max, visit, budget)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Checks a tree block read from `logical`: checksum, address, fsid,
/// level, item count and item bounds, keys in order.
fn check_node(
    sb: &super::superblock::Superblock,
    logical: u64,
    data: Vec<u8>,
) -> Result<Node, FsError> {
    let what = format!("tree block at logical {logical}");
    let bad = |problem: String| super::corrupt(&what, 0, problem);
    let stored = le32(&data, 0);
    let computed = crc32c::crc32c(data.get(32..).unwrap_or_default());
    if stored != computed {
        return Err(bad(format!(
            "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
        )));
    }
    if le64(&data, 0x30) != logical {
        return Err(bad(format!(
            "header bytenr {} is not where it was read",
            le64(&data, 0x30)
        )));
    }
    if data.get(0x20..0x30) != Some(&sb.metadata_fsid[..]) {
        return Err(bad("header fsid is not the file system's".to_string()));
    }
    let level = u8_at(&data, 0x64);
    let count = le32(&data, 0x60) as usize;
    let per = if level == 0 { ITEM } else { KEY_PTR };
    if level > MAX_LEVEL
        || count.saturating_mul(per) > data.len() - HEADER
        || (level > 0 && count == 0)
    {
        return Err(bad(format!(
            "level {level} with {count} items does not fit the block"
        )));
    }
    let node = Node { level, data, count };
    let data_area = node.data.len() - HEADER;
    for i in 0..count {
        if level == 0 {
            let at = HEADER + i * ITEM;
            let off = le32(&node.data, at + 17) as usize;
            let len = le32(&node.data, at + 21) as usize;
            if off.checked_add(len).is_none_or(|end| end > data_area) || off < count * ITEM {
                return Err(bad(format!(
                    "item {i} data {off}+{len} lies outside the leaf"
                )));
            }
        }
        if i > 0 && node.key(i - 1) >= node.key(i) {
            return Err(bad(format!("key {i} is not above key {}", i - 1)));
        }
    }
    Ok(node)
}
