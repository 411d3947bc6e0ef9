//! Directory indexes ($I30), parsed here: the `ntfs` crate's index code
//! slices its buffers by header offsets it does not check (an entries
//! offset past the used size panics) and its walkers follow subnode
//! pointers without bound (a node pointing at itself loops forever).
//!
//! Here a node's header and every entry are checked against the node's
//! bytes, the update sequence of an index record is applied and checked,
//! every node is visited at most once per walk, the tree is at most
//! [`MAX_DEPTH`] deep, and a node holds at most as many entries as fit in
//! it. The crate still reads the attributes' bytes (resident values and
//! data runs).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::io::SeekFrom;

use ::ntfs::attribute_value::NtfsAttributeValue;
use ::ntfs::{NtfsAttributeItem, NtfsAttributeType, NtfsFile, NtfsReadSeek};

use super::reader::VolumeReader;
use super::upcase::Upcase;
use crate::bytes::{le16, le32, le64, u8_at};
use crate::error::FsError;
use crate::filesystem::MAX_DIR_ENTRIES;

/// B-trees of real directories are a few levels deep; 32 levels of
/// 4 KiB nodes would hold more names than any volume.
pub const MAX_DEPTH: usize = 32;

/// Bytes of the header of an index entry.
const ENTRY_HEADER: usize = 16;

/// Offset of the name in a `$FILE_NAME` key.
const KEY_NAME: usize = 0x42;

/// Entry flag: a subnode VCN ends the entry.
const HAS_SUBNODE: u8 = 1;
/// Entry flag: the end of the node (no key).
const LAST_ENTRY: u8 = 2;

/// `$FILE_NAME` namespace of DOS 8.3 names.
const NAMESPACE_DOS: u8 = 2;

/// The largest `$INDEX_ROOT` value read (it is resident, inside one MFT
/// record).
const MAX_ROOT_LEN: u64 = 64 * 1024;

/// One entry of an index node.
struct Entry {
    /// The MFT record the name points to.
    record: u64,
    /// The sequence number expected in that record.
    sequence: u16,
    /// The node holding the names that sort before this one.
    subnode: Option<u64>,
    /// The name as UTF-16 (none in the last entry).
    name: Option<Vec<u16>>,
    /// The `$FILE_NAME` namespace.
    namespace: u8,
}

/// One name of a directory.
pub struct Listed {
    /// The name, UTF-8.
    pub name: String,
    /// The MFT record it names.
    pub record: u64,
}

/// What goes wrong walking an index: the crate's error reading an
/// attribute, or a structure refused here.
pub enum IndexError {
    /// The `ntfs` crate's error.
    Ntfs(::ntfs::NtfsError),
    /// A structure refused here, in words.
    Bad(String),
    /// A limit reached.
    Limit(FsError),
}

impl From<::ntfs::NtfsError> for IndexError {
    fn from(e: ::ntfs::NtfsError) -> Self {
        IndexError::Ntfs(e)
    }
}

type Result<T> = std::result::Result<T, IndexError>;

fn bad<T>(problem: impl Into<String>) -> Result<T> {
    Err(IndexError::Bad(problem.into()))
}

/// The entries of one node: `data` holds the node header at `header`
/// (16 in `$INDEX_ROOT`, 0x18 in an index record).
fn parse_node(data: &[u8], header: usize, what: &str) -> Result<Vec<Entry>> {
    let first = le32(data, header) as usize;
    let used = le32(data, header + 4) as usize;
    let start = header.saturating_add(first);
    let end = header.saturating_add(used);
    if start > end || end > data.len() {
        return bad(format!(
            "{what}: entries at {start}..{end} do not lie inside its {} bytes",
            data.len()
        ));
    }
    let mut out = Vec::new();
    let mut pos = start;
    // Each entry is at least 16 bytes, so this ends; the bound says so.
    while pos < end && out.len() <= data.len() / ENTRY_HEADER {
        let here = |problem: String| IndexError::Bad(format!("{what}: entry at {pos}: {problem}"));
        let len = usize::from(le16(data, pos + 8));
        let key_len = usize::from(le16(data, pos + 10));
        let flags = u8_at(data, pos + 12);
        let vcn_len = if flags & HAS_SUBNODE != 0 { 8 } else { 0 };
        if len < ENTRY_HEADER + vcn_len || pos + len > end {
            return Err(here(format!(
                "length {len} does not fit between {} and the node's end at {end}",
                ENTRY_HEADER + vcn_len
            )));
        }
        let entry_bytes = crate::bytes::slice(data, pos, len);
        let subnode = (vcn_len != 0).then(|| le64(entry_bytes, len - 8));
        let last = flags & LAST_ENTRY != 0;
        let (name, namespace) = if last {
            (None, 0)
        } else {
            if ENTRY_HEADER + key_len + vcn_len > len || key_len < KEY_NAME {
                return Err(here(format!(
                    "key of {key_len} bytes does not fit in the {len}-byte entry"
                )));
            }
            let key = crate::bytes::slice(entry_bytes, ENTRY_HEADER, key_len);
            let units = usize::from(u8_at(key, 0x40));
            if KEY_NAME + 2 * units > key_len {
                return Err(here(format!(
                    "name of {units} characters does not fit in the {key_len}-byte key"
                )));
            }
            let name = crate::bytes::slice(key, KEY_NAME, 2 * units)
                .chunks_exact(2)
                .map(|c| le16(c, 0))
                .collect();
            (Some(name), u8_at(key, 0x41))
        };
        let reference = le64(entry_bytes, 0);
        out.push(Entry {
            record: reference & 0xffff_ffff_ffff,
            sequence: (reference >> 48) as u16,
            subnode,
            name,
            namespace,
        });
        if last {
            return Ok(out);
        }
        pos += len;
    }
    bad(format!("{what}: no last entry before the node's end"))
}

/// Applies and checks the update sequence of a multi-sector record.
pub fn apply_fixups(data: &mut [u8], what: &str) -> Result<()> {
    let usa = usize::from(le16(data, 4));
    let count = usize::from(le16(data, 6));
    let sectors = data.len() / 512;
    if count != sectors + 1 || usa + 2 * count > data.len() {
        return bad(format!(
            "{what}: update sequence of {count} entries at {usa} does not fit its {} sectors",
            sectors
        ));
    }
    let usn = le16(data, usa);
    for i in 0..sectors {
        let end = i * 512 + 510;
        if le16(data, end) != usn {
            return bad(format!(
                "{what}: sector {i} does not end with the update sequence number (a torn write)"
            ));
        }
        let fix = [u8_at(data, usa + 2 + 2 * i), u8_at(data, usa + 3 + 2 * i)];
        if let Some(dst) = data.get_mut(end..end + 2) {
            dst.copy_from_slice(&fix);
        }
    }
    Ok(())
}

/// The `$I30` index of a directory, ready to walk.
struct Index<'n, 'a> {
    root: Vec<Entry>,
    allocation: Option<NtfsAttributeValue<'n, 'a>>,
    record_size: u32,
    /// Bytes per VCN of the allocation: a cluster, or 512 when index
    /// records are smaller than a cluster.
    vcn_size: u64,
    visited: HashSet<u64>,
}

impl Index<'_, '_> {
    /// The entries of the index record at `vcn`, once per walk.
    fn node(&mut self, r: &mut VolumeReader<'_>, vcn: u64) -> Result<Vec<Entry>> {
        let what = format!("index record at VCN {vcn}");
        if !self.visited.insert(vcn) {
            return bad(format!("{what} is reached twice (a loop in the index)"));
        }
        let Some(value) = self.allocation.as_mut() else {
            return bad("an entry points to a subnode but there is no $INDEX_ALLOCATION");
        };
        let size = u64::from(self.record_size);
        let offset = vcn
            .checked_mul(self.vcn_size)
            .filter(|o| o.checked_add(size).is_some_and(|end| end <= value.len()));
        let Some(offset) = offset else {
            return bad(format!(
                "{what} lies past the {}-byte $INDEX_ALLOCATION",
                value.len()
            ));
        };
        let mut data = vec![0u8; self.record_size as usize];
        value.seek(r, SeekFrom::Start(offset))?;
        value.read_exact(r, &mut data)?;
        if data.get(..4) != Some(b"INDX") {
            return bad(format!("{what}: no INDX signature"));
        }
        apply_fixups(&mut data, &what)?;
        if le64(&data, 0x10) != vcn {
            return bad(format!("{what} says it is at VCN {}", le64(&data, 0x10)));
        }
        parse_node(&data, 0x18, &what)
    }
}

/// Whether an attribute is the `$I30` one of type `ty`.
fn is_i30(item: &NtfsAttributeItem<'_, '_>, ty: NtfsAttributeType) -> Result<bool> {
    let attr = item.to_attribute()?;
    if attr.ty()? != ty {
        return Ok(false);
    }
    let name = attr.name()?;
    Ok(name.u16_iter().eq("$I30".encode_utf16()))
}

/// Finds the `$INDEX_ROOT` and `$INDEX_ALLOCATION` of `dir` and runs
/// `walk` on the index.
fn with_index<'n, T>(
    ntfs: &'n ::ntfs::Ntfs,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    walk: impl FnOnce(&mut Index<'n, '_>, &mut VolumeReader<'_>) -> Result<T>,
) -> Result<T> {
    let mut root_item = None;
    let mut alloc_item = None;
    let mut attributes = dir.attributes();
    // A record holds at most a few hundred attributes; an attribute list
    // a few thousand.
    for _ in 0..65536 {
        let Some(item) = attributes.next(r) else {
            break;
        };
        let item = item?;
        if is_i30(&item, NtfsAttributeType::IndexRoot)? {
            root_item = Some(item);
        } else if is_i30(&item, NtfsAttributeType::IndexAllocation)? {
            alloc_item = Some(item);
        }
    }
    let Some(root_item) = root_item else {
        return bad("directory has no $INDEX_ROOT $I30");
    };
    let root_attr = root_item.to_attribute()?;
    let root_len = root_attr.value_length();
    if !(32..=MAX_ROOT_LEN).contains(&root_len) {
        return bad(format!(
            "$INDEX_ROOT of {root_len} bytes (expected 32 to {MAX_ROOT_LEN})"
        ));
    }
    let mut root = vec![0u8; root_len as usize];
    root_attr.value(r)?.read_exact(r, &mut root)?;
    let record_size = le32(&root, 8);
    if !(512..=65536).contains(&record_size) || !record_size.is_power_of_two() {
        return bad(format!(
            "$INDEX_ROOT index record size {record_size}: expected a power of two from 512 to 65536"
        ));
    }
    let cluster = u64::from(ntfs.cluster_size());
    let alloc_attr = match &alloc_item {
        Some(item) => Some(item.to_attribute()?),
        None => None,
    };
    let allocation = match &alloc_attr {
        Some(attr) => Some(attr.value(r)?),
        None => None,
    };
    let mut index = Index {
        root: parse_node(&root, 16, "$INDEX_ROOT")?,
        allocation,
        record_size,
        vcn_size: if u64::from(record_size) >= cluster {
            cluster
        } else {
            512
        },
        visited: HashSet::new(),
    };
    walk(&mut index, r)
}

/// All names of `dir` in index order, without DOS 8.3 names.
pub fn list<'n>(
    ntfs: &'n ::ntfs::Ntfs,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    what: &str,
    volume: &str,
) -> Result<Vec<Listed>> {
    with_index(ntfs, r, dir, |index, r| {
        let mut out = Vec::new();
        let root = std::mem::take(&mut index.root);
        walk_node(index, root, 0, r, &mut out, what, volume)?;
        Ok(out)
    })
}

/// Appends the names under one node, subnodes first (index order).
fn walk_node(
    index: &mut Index<'_, '_>,
    entries: Vec<Entry>,
    depth: usize,
    r: &mut VolumeReader<'_>,
    out: &mut Vec<Listed>,
    what: &str,
    volume: &str,
) -> Result<()> {
    for entry in entries {
        if let Some(vcn) = entry.subnode {
            if depth + 1 > MAX_DEPTH {
                return bad(format!("index is deeper than {MAX_DEPTH} levels"));
            }
            let node = index.node(r, vcn)?;
            walk_node(index, node, depth + 1, r, out, what, volume)?;
        }
        let Some(name) = entry.name else {
            continue;
        };
        if entry.namespace == NAMESPACE_DOS {
            continue;
        }
        if out.len() >= MAX_DIR_ENTRIES {
            return Err(IndexError::Limit(FsError::limit(
                volume,
                "ntfs",
                format!("entries of directory {what}"),
                out.len() as u64 + 1,
                MAX_DIR_ENTRIES as u64,
            )));
        }
        out.push(Listed {
            name: String::from_utf16_lossy(&name),
            record: entry.record,
        });
    }
    Ok(())
}

/// The record and sequence number `name` names in `dir`, compared
/// case-insensitively through the volume's $UpCase table, as Windows
/// does.
pub fn find<'n>(
    ntfs: &'n ::ntfs::Ntfs,
    upcase: &Upcase,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    name: &str,
) -> Result<Option<(u64, u16)>> {
    let name: Vec<u16> = name.encode_utf16().collect();
    with_index(ntfs, r, dir, |index, r| {
        let mut entries = std::mem::take(&mut index.root);
        for _ in 0..=MAX_DEPTH {
            let mut down = None;
            for entry in entries {
                if let Some(key) = &entry.name {
                    match upcase.cmp(&name, key) {
                        Ordering::Equal => return Ok(Some((entry.record, entry.sequence))),
                        // The name sorts after this key: keep going.
                        Ordering::Greater => continue,
                        Ordering::Less => {}
                    }
                }
                // The name sorts before this entry (or this is the end of
                // the node): it is in the entry's subnode, if anywhere.
                down = entry.subnode;
                break;
            }
            let Some(vcn) = down else {
                return Ok(None);
            };
            entries = index.node(r, vcn)?;
        }
        bad(format!("index is deeper than {MAX_DEPTH} levels"))
    })
}
