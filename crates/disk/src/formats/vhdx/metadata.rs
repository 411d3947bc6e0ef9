//! The metadata region: a table of items naming the block size, the
//! virtual size, the sector sizes and, for a differencing disk, where the
//! parent is. An unknown item marked required is refused, since the disk
//! cannot be read correctly without understanding it.

use super::guid::Guid;
use super::region::Region;
use super::{malformed, FORMAT, MIB};
use crate::error::DiskError;
use crate::formats::bytes::{le16, le32, le64};
use crate::io::ReadAt;

const FILE_PARAMETERS: Guid = Guid::new(
    0xCAA1_6737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: Guid = Guid::new(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const PAGE_83_DATA: Guid = Guid::new(
    0xBECA_12AB,
    0xB2E6,
    0x4523,
    [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
);
const LOGICAL_SECTOR_SIZE: Guid = Guid::new(
    0x8141_BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);
const PHYSICAL_SECTOR_SIZE: Guid = Guid::new(
    0xCDA3_48C7,
    0x445D,
    0x4471,
    [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
);
const PARENT_LOCATOR: Guid = Guid::new(
    0xA8D3_5F2D,
    0xB30B,
    0x454D,
    [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
);
/// The only parent locator type defined: a VHDX parent.
pub(super) const VHDX_PARENT_LOCATOR: Guid = Guid::new(
    0xB04A_EFB7,
    0xD19E,
    0x4A81,
    [0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13],
);

/// Bytes of the table at the start of the region.
const TABLE_SIZE: u64 = 64 << 10;
/// Most entries the table holds after its 32-byte header.
const MAX_ENTRIES: u16 = 2047;
/// Largest item the format allows.
const MAX_ITEM: u64 = MIB;
/// Smallest and largest block size.
const BLOCK_SIZES: (u32, u32) = (1 << 20, 256 << 20);
/// Largest virtual disk the format allows: 64 TiB.
pub(super) const MAX_VIRTUAL_SIZE: u64 = 64 << 40;

/// What the metadata says about the disk.
#[derive(Debug, Clone)]
pub(super) struct Metadata {
    /// Bytes of one payload block.
    pub block_size: u32,
    /// Blocks stay allocated (a fixed disk).
    pub leave_blocks_allocated: bool,
    /// Bytes of one logical sector (512 or 4096).
    pub logical_sector_size: u32,
    /// Size of the virtual disk in bytes.
    pub virtual_size: u64,
    /// The parent locator of a differencing disk.
    pub parent: Option<ParentLocator>,
}

/// The key/value pairs of a VHDX parent locator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParentLocator {
    /// The pairs in the order stored.
    pub entries: Vec<(String, String)>,
}

impl ParentLocator {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The parent's path relative to the child, with Windows separators
    /// turned into `/` (so `.\parent.vhdx` becomes `./parent.vhdx`).
    pub fn relative_path(&self) -> Option<String> {
        self.get("relative_path").map(|p| p.replace('\\', "/"))
    }
}

/// One entry of the table: where its item lies in the file.
#[derive(Debug, Clone, Copy)]
struct Item {
    /// Offset of the item in the file.
    offset: u64,
    length: u64,
    /// Where the entry lies in the file, for messages.
    entry_at: u64,
}

/// Reads the metadata table and the items the reader needs.
pub(super) fn read(src: &ReadAt, region: &Region) -> Result<Metadata, DiskError> {
    let at = region.offset;
    let table = src.read_vec(at, TABLE_SIZE.min(region.length))?;
    if table.get(..8) != Some(b"metadata".as_slice()) {
        return Err(malformed(
            src,
            "metadata table",
            at,
            format!(
                "expected the signature \"metadata\"; found {:02x?}",
                table.get(..8).unwrap_or_default()
            ),
        ));
    }
    let count = le16(&table, 10);
    if count > MAX_ENTRIES {
        return Err(malformed(
            src,
            "metadata table field EntryCount",
            at + 10,
            format!("expected at most {MAX_ENTRIES}; found {count}"),
        ));
    }
    let known = [
        FILE_PARAMETERS,
        VIRTUAL_DISK_SIZE,
        PAGE_83_DATA,
        LOGICAL_SECTOR_SIZE,
        PHYSICAL_SECTOR_SIZE,
        PARENT_LOCATOR,
    ];
    let mut found: [Option<Item>; 6] = [None; 6];
    for i in 0..usize::from(count) {
        let pos = 32 + i * 32;
        let entry_at = at + pos as u64;
        let guid = Guid::read(&table, pos);
        let offset = u64::from(le32(&table, pos + 16));
        let length = u64::from(le32(&table, pos + 20));
        let required = le32(&table, pos + 24) & 4 != 0;
        let fail = |problem: String| {
            malformed(
                src,
                format!("metadata table entry ({})", item_name(guid)),
                entry_at,
                problem,
            )
        };
        if length > 0
            && (offset < TABLE_SIZE || length > MAX_ITEM || offset + length > region.length)
        {
            return Err(fail(format!(
                "expected an item of at most {MAX_ITEM} bytes past the table and inside the \
                 {}-byte region; found {length} bytes at offset {offset}",
                region.length
            )));
        }
        let Some(slot) = known.iter().position(|k| *k == guid) else {
            if required {
                return Err(DiskError::unsupported(
                    src.path(),
                    FORMAT,
                    format!(
                        "the required metadata item {guid} (metadata table entry at offset \
                         {entry_at})"
                    ),
                    None,
                ));
            }
            continue;
        };
        let item = Item {
            offset: at + offset,
            length,
            entry_at,
        };
        match found.get_mut(slot) {
            Some(Some(_)) => return Err(fail("a second entry for this item".to_string())),
            Some(place) => *place = Some(item),
            None => {}
        }
    }
    let [params, size, _page83, logical, physical, locator] = found;
    let params = read_item(src, at, params, FILE_PARAMETERS, 8)?;
    let size = read_item(src, at, size, VIRTUAL_DISK_SIZE, 8)?;
    let logical = read_item(src, at, logical, LOGICAL_SECTOR_SIZE, 4)?;
    let physical = read_item(src, at, physical, PHYSICAL_SECTOR_SIZE, 4)?;

    let block_size = le32(&params.1, 0);
    let flags = le32(&params.1, 4);
    if !block_size.is_power_of_two() || block_size < BLOCK_SIZES.0 || block_size > BLOCK_SIZES.1 {
        return Err(malformed(
            src,
            "metadata item File Parameters field BlockSize",
            params.0,
            format!(
                "expected a power of two from {} to {} bytes; found {block_size}",
                BLOCK_SIZES.0, BLOCK_SIZES.1
            ),
        ));
    }
    let logical_sector_size = le32(&logical.1, 0);
    if logical_sector_size != 512 && logical_sector_size != 4096 {
        return Err(malformed(
            src,
            "metadata item Logical Sector Size",
            logical.0,
            format!("expected 512 or 4096; found {logical_sector_size}"),
        ));
    }
    let physical_sector_size = le32(&physical.1, 0);
    if physical_sector_size != 512 && physical_sector_size != 4096 {
        return Err(malformed(
            src,
            "metadata item Physical Sector Size",
            physical.0,
            format!("expected 512 or 4096; found {physical_sector_size}"),
        ));
    }
    let virtual_size = le64(&size.1, 0);
    if virtual_size > MAX_VIRTUAL_SIZE || virtual_size % u64::from(logical_sector_size) != 0 {
        return Err(malformed(
            src,
            "metadata item Virtual Disk Size",
            size.0,
            format!(
                "expected a multiple of the {logical_sector_size}-byte sector of at most \
                 {MAX_VIRTUAL_SIZE} bytes (64 TiB); found {virtual_size}"
            ),
        ));
    }
    let has_parent = flags & 2 != 0;
    let parent = match (has_parent, locator) {
        (false, _) => None,
        (true, None) => {
            return Err(malformed(
                src,
                "metadata item File Parameters field HasParent",
                params.0 + 4,
                "the disk has a parent but the metadata has no parent locator",
            ))
        }
        (true, Some(item)) => {
            let bytes = src.read_vec(item.offset, item.length)?;
            Some(parse_parent_locator(src, &bytes, item.offset)?)
        }
    };
    Ok(Metadata {
        block_size,
        leave_blocks_allocated: flags & 1 != 0,
        logical_sector_size,
        virtual_size,
        parent,
    })
}

/// The first `need` bytes of a required item, with its offset (the table
/// at `table_at` must list it).
fn read_item(
    src: &ReadAt,
    table_at: u64,
    item: Option<Item>,
    guid: Guid,
    need: u64,
) -> Result<(u64, Vec<u8>), DiskError> {
    let Some(item) = item else {
        return Err(malformed(
            src,
            "metadata table",
            table_at,
            format!("the required item {} is missing", item_name(guid)),
        ));
    };
    if item.length < need {
        return Err(malformed(
            src,
            format!("metadata table entry ({})", item_name(guid)),
            item.entry_at,
            format!("expected at least {need} bytes; found {}", item.length),
        ));
    }
    Ok((item.offset, src.read_vec(item.offset, need)?))
}

/// The name of a known item, for messages.
fn item_name(guid: Guid) -> String {
    let name = match guid {
        g if g == FILE_PARAMETERS => "File Parameters",
        g if g == VIRTUAL_DISK_SIZE => "Virtual Disk Size",
        g if g == PAGE_83_DATA => "Page 83 Data",
        g if g == LOGICAL_SECTOR_SIZE => "Logical Sector Size",
        g if g == PHYSICAL_SECTOR_SIZE => "Physical Sector Size",
        g if g == PARENT_LOCATOR => "Parent Locator",
        other => return other.to_string(),
    };
    name.to_string()
}

/// Parses a parent locator item (`item`, read from offset `at` of the
/// file): a type GUID, a count, then key/value entries whose UTF-16LE
/// strings lie inside the item.
pub(crate) fn parse_parent_locator(
    src: &ReadAt,
    item: &[u8],
    at: u64,
) -> Result<ParentLocator, DiskError> {
    let fail = |field: &str, offset: usize, problem: String| {
        malformed(
            src,
            format!("parent locator {field}"),
            at + offset as u64,
            problem,
        )
    };
    if item.len() < 20 {
        return Err(fail(
            "header",
            0,
            format!("expected at least 20 bytes; found {}", item.len()),
        ));
    }
    let kind = Guid::read(item, 0);
    if kind != VHDX_PARENT_LOCATOR {
        return Err(DiskError::unsupported(
            src.path(),
            FORMAT,
            format!("a parent locator of type {kind} (at offset {at})"),
            None,
        ));
    }
    let count = le16(item, 18);
    let table_end = 20 + usize::from(count) * 12;
    if table_end > item.len() {
        return Err(fail(
            "field KeyValueCount",
            18,
            format!(
                "{count} entries of 12 bytes do not fit in the {}-byte item",
                item.len()
            ),
        ));
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for i in 0..usize::from(count) {
        let pos = 20 + i * 12;
        let key_offset = le32(item, pos) as usize;
        let value_offset = le32(item, pos + 4) as usize;
        let key_length = usize::from(le16(item, pos + 8));
        let value_length = usize::from(le16(item, pos + 10));
        let string = |offset: usize, length: usize, what: &str| {
            let bytes = offset
                .checked_add(length)
                .filter(|_| length > 0 && length % 2 == 0 && offset >= table_end)
                .and_then(|end| item.get(offset..end))
                .ok_or_else(|| {
                    fail(
                        &format!("entry {i}"),
                        pos,
                        format!(
                            "expected the {what} as a non-empty UTF-16 string past the entries \
                             and inside the {}-byte item; found {length} bytes at offset {offset}",
                            item.len()
                        ),
                    )
                })?;
            let units = bytes.chunks_exact(2).map(|pair| le16(pair, 0));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| {
                    fail(
                        &format!("entry {i}"),
                        pos,
                        format!("the {what} is not valid UTF-16"),
                    )
                })
        };
        let key = string(key_offset, key_length, "key")?;
        let value = string(value_offset, value_length, "value")?;
        if entries.iter().any(|(k, _)| *k == key) {
            return Err(fail(
                &format!("entry {i}"),
                pos,
                format!("the key {key:?} appears twice"),
            ));
        }
        entries.push((key, value));
    }
    Ok(ParentLocator { entries })
}
