//! Directory indexes ($I30): walked here rather than by the `ntfs`
//! crate's iterator and finder, whose loops follow subnode pointers
//! without bound (an index record pointing at itself, or an entry of
//! length 0, loops forever). Here every node is visited at most once, the
//! tree is at most [`MAX_DEPTH`] deep and a node holds at most as many
//! entries as fit in it.

use std::cmp::Ordering;
use std::collections::HashSet;

use ::ntfs::indexes::NtfsFileNameIndex;
use ::ntfs::structured_values::{
    NtfsFileAttributeFlags, NtfsFileNamespace, NtfsIndexAllocation, NtfsIndexRoot,
};
use ::ntfs::{
    NtfsAttributeItem, NtfsAttributeType, NtfsError, NtfsFile, NtfsIndexEntryFlags,
    NtfsIndexNodeEntries, UpcaseOrd,
};

use ::ntfs::types::Vcn;

use super::reader::VolumeReader;
use crate::error::FsError;
use crate::filesystem::MAX_DIR_ENTRIES;

/// B-trees of real directories are a few levels deep; 32 levels of
/// 4 KiB nodes would hold more names than any volume.
pub const MAX_DEPTH: usize = 32;

/// The smallest index entry (header only) is 16 bytes.
const MIN_ENTRY_LEN: usize = 16;

/// One name of a directory.
pub struct Listed {
    /// The name, UTF-8.
    pub name: String,
    /// The MFT record it names.
    pub record: u64,
    /// The name's copy of the directory flag.
    pub is_dir: bool,
    /// The name's copy of the reparse-point flag.
    pub reparse: bool,
}

/// What goes wrong walking an index: the crate's error, or a structure
/// this walk refuses.
pub enum IndexError {
    /// The `ntfs` crate's error.
    Ntfs(NtfsError),
    /// A structure refused here (loop, depth, size), in words.
    Bad(String),
    /// A limit reached.
    Limit(FsError),
}

impl From<NtfsError> for IndexError {
    fn from(e: NtfsError) -> Self {
        IndexError::Ntfs(e)
    }
}

type Result<T> = std::result::Result<T, IndexError>;

/// The `$I30` index of a directory, ready to walk.
struct Index<'n, 'a> {
    ntfs: &'n ::ntfs::Ntfs,
    allocation: Option<NtfsIndexAllocation<'n, 'a>>,
    record_size: u32,
    visited: HashSet<i64>,
}

impl Index<'_, '_> {
    /// The entries of the node at `vcn`, once per walk.
    fn node(&mut self, r: &mut VolumeReader<'_>, vcn: Vcn) -> Result<::ntfs::NtfsIndexRecord> {
        if !self.visited.insert(vcn.value()) {
            return Err(IndexError::Bad(format!(
                "index node at VCN {} is reached twice (a loop in the index)",
                vcn.value()
            )));
        }
        let allocation = self.allocation.as_ref().ok_or_else(|| {
            IndexError::Bad("an entry points to a subnode but there is no $INDEX_ALLOCATION".into())
        })?;
        Ok(allocation.record_from_vcn(r, self.record_size, vcn)?)
    }

    /// Most entries a node of the index's record size can hold.
    fn max_entries(&self) -> usize {
        (self.record_size as usize).max(4096) / MIN_ENTRY_LEN + 1
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
/// `walk` on the root's entries.
fn with_index<'n, T>(
    ntfs: &'n ::ntfs::Ntfs,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    walk: impl FnOnce(
        &mut Index<'n, '_>,
        NtfsIndexNodeEntries<'_, NtfsFileNameIndex>,
        &mut VolumeReader<'_>,
    ) -> Result<T>,
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
    let root_item =
        root_item.ok_or_else(|| IndexError::Bad("directory has no $INDEX_ROOT $I30".into()))?;
    let root_attr = root_item.to_attribute()?;
    let root = root_attr.resident_structured_value::<NtfsIndexRoot>()?;
    let record_size = root.index_record_size();
    if !(512..=65536).contains(&record_size) || !record_size.is_power_of_two() {
        return Err(IndexError::Bad(format!(
            "$INDEX_ROOT index record size {record_size}: expected a power of two from 512 to 65536"
        )));
    }
    let alloc_attr = match &alloc_item {
        Some(item) => Some(item.to_attribute()?),
        None => None,
    };
    let allocation = match &alloc_attr {
        Some(attr) => Some(attr.structured_value::<_, NtfsIndexAllocation>(r)?),
        None => None,
    };
    let mut index = Index {
        ntfs,
        allocation,
        record_size,
        visited: HashSet::new(),
    };
    let entries = root.entries::<NtfsFileNameIndex>()?;
    walk(&mut index, entries, r)
}

/// All names of `dir` in index order, without DOS 8.3 names.
pub fn list<'n>(
    ntfs: &'n ::ntfs::Ntfs,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    what: &str,
    volume: &str,
) -> Result<Vec<Listed>> {
    with_index(ntfs, r, dir, |index, entries, r| {
        let mut out = Vec::new();
        walk_node(index, entries, 0, r, &mut out, what, volume)?;
        Ok(out)
    })
}

/// Appends the names under one node, subnodes first (index order).
fn walk_node(
    index: &mut Index<'_, '_>,
    entries: NtfsIndexNodeEntries<'_, NtfsFileNameIndex>,
    depth: usize,
    r: &mut VolumeReader<'_>,
    out: &mut Vec<Listed>,
    what: &str,
    volume: &str,
) -> Result<()> {
    let max = index.max_entries();
    for (i, entry) in entries.enumerate() {
        if i >= max {
            return Err(IndexError::Bad(format!(
                "index node holds more than {max} entries (an entry of length 0?)"
            )));
        }
        let entry = entry?;
        if let Some(vcn) = entry.subnode_vcn() {
            let vcn = vcn?;
            if depth + 1 > MAX_DEPTH {
                return Err(IndexError::Bad(format!(
                    "index is deeper than {MAX_DEPTH} levels"
                )));
            }
            let node = index.node(r, vcn)?;
            walk_node(index, node.entries()?, depth + 1, r, out, what, volume)?;
        }
        if entry.flags().contains(NtfsIndexEntryFlags::LAST_ENTRY) {
            break;
        }
        let Some(key) = entry.key() else {
            continue;
        };
        let key = key?;
        if key.namespace() == NtfsFileNamespace::Dos {
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
        let attrs = key.file_attributes();
        out.push(Listed {
            name: String::from_utf16_lossy(&key.name().u16_iter().collect::<Vec<u16>>()),
            record: entry.file_reference().file_record_number(),
            is_dir: attrs.contains(NtfsFileAttributeFlags::IS_DIRECTORY),
            reparse: attrs.contains(NtfsFileAttributeFlags::REPARSE_POINT),
        });
    }
    Ok(())
}

/// The record and sequence number `name` names in `dir`, compared
/// case-insensitively through the volume's $UpCase table, as Windows
/// does.
pub fn find<'n>(
    ntfs: &'n ::ntfs::Ntfs,
    r: &mut VolumeReader<'_>,
    dir: &NtfsFile<'n>,
    name: &str,
) -> Result<Option<(u64, u16)>> {
    with_index(ntfs, r, dir, |index, root_entries, r| {
        let mut node: Option<::ntfs::NtfsIndexRecord> = None;
        let max = index.max_entries();
        let mut root_entries = Some(root_entries);
        for _ in 0..=MAX_DEPTH {
            let entries = match (&node, root_entries.take()) {
                (_, Some(root)) => root,
                (Some(record), None) => record.entries()?,
                (None, None) => return Ok(None),
            };
            let mut down = None;
            for (i, entry) in entries.enumerate() {
                if i >= max {
                    return Err(IndexError::Bad(format!(
                        "index node holds more than {max} entries (an entry of length 0?)"
                    )));
                }
                let entry = entry?;
                let last = entry.flags().contains(NtfsIndexEntryFlags::LAST_ENTRY);
                if !last {
                    if let Some(key) = entry.key() {
                        let key = key?;
                        match key.name().upcase_cmp(index.ntfs, &name) {
                            Ordering::Equal => {
                                let reference = entry.file_reference();
                                return Ok(Some((
                                    reference.file_record_number(),
                                    reference.sequence_number(),
                                )));
                            }
                            // The key sorts before the name: keep going.
                            Ordering::Less => continue,
                            Ordering::Greater => {}
                        }
                    }
                }
                // The name sorts before this entry (or this is the end of
                // the node): it is in the entry's subnode, if anywhere.
                match entry.subnode_vcn() {
                    Some(vcn) => down = Some(vcn?),
                    None => return Ok(None),
                }
                break;
            }
            let Some(vcn) = down else {
                return Ok(None);
            };
            node = Some(index.node(r, vcn)?);
        }
        Err(IndexError::Bad(format!(
            "index is deeper than {MAX_DEPTH} levels"
        )))
    })
}
