//! VHDX: file identifier, region table and the metadata items that give
//! the virtual size, block size and the parent flag.

use super::Described;
use crate::bytes::{field, guid_mixed, has, le16, le32, le64, read_in_bounds, utf16};
use crate::report::{ExternalReference, FormatDetail, ReferenceKind, VhdxInfo};
use crate::{DiskRead, ProbeError};

const REGION_TABLE: u64 = 192 * 1024;
const REGION_TABLE_LEN: usize = 64 * 1024;
const METADATA_REGION: &str = "8B7CA206-4790-4B9A-B8FE-575F050F886E";
const FILE_PARAMETERS: &str = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B";
const VIRTUAL_DISK_SIZE: &str = "2FA54224-CD1B-4876-B211-5DBED83BF4B8";
const LOGICAL_SECTOR_SIZE: &str = "8141BF1D-A96F-4709-BA47-F233A8FAAB5F";
/// The metadata table is 64 KiB at the start of the metadata region.
const METADATA_TABLE_LEN: usize = 64 * 1024;
const PARENT_LOCATOR: &str = "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C";
const HAS_PARENT: u32 = 1 << 1;
/// A parent locator is a few paths; read no more than this.
const MAX_LOCATOR: u32 = 64 * 1024;
/// Keys tried in order for the parent's name.
const PARENT_KEYS: [&str; 3] = ["relative_path", "absolute_win32_path", "volume_path"];

pub(super) fn describe(disk: &dyn DiskRead, head: &[u8]) -> Result<Described, ProbeError> {
    let mut anomalies = Vec::new();
    let creator = utf16(field(head, 8, 512).unwrap_or_default(), false);
    let mut info = VhdxInfo {
        creator,
        virtual_size: None,
        block_size: None,
        has_parent: false,
        logical_sector_size: None,
    };
    let mut parent = None;
    match metadata_table(disk)? {
        Ok((region_start, table)) => {
            parent = read_items(disk, region_start, &table, &mut info)?;
        }
        Err(why) => anomalies.push(why),
    }
    let mut references = Vec::new();
    if info.has_parent || parent.is_some() {
        references.push(ExternalReference {
            kind: ReferenceKind::VhdxParent,
            target: parent.unwrap_or_default(),
        });
    }
    Ok(Described {
        virtual_size: info.virtual_size,
        detail: FormatDetail::Vhdx(info),
        references,
        anomalies,
    })
}

/// Locate the metadata region through the region table; returns its file
/// offset and its table bytes, or why it could not.
fn metadata_table(disk: &dyn DiskRead) -> Result<Result<(u64, Vec<u8>), String>, ProbeError> {
    let Some(rt) = read_in_bounds(disk, REGION_TABLE, REGION_TABLE_LEN)? else {
        return Ok(Err(format!(
            "vhdx.region_table at {REGION_TABLE}: file too short"
        )));
    };
    if !has(&rt, 0, b"regi") {
        return Ok(Err(format!(
            "vhdx.region_table at {REGION_TABLE}: signature 'regi' missing"
        )));
    }
    let count = le32(&rt, 8).unwrap_or(0).min(2047) as usize;
    for i in 0..count {
        let at = 16 + i * 32;
        let Some(entry) = field(&rt, at, 32) else {
            break;
        };
        if guid_mixed(entry) != METADATA_REGION {
            continue;
        }
        let offset = le64(entry, 16).unwrap_or(0);
        return Ok(match read_in_bounds(disk, offset, METADATA_TABLE_LEN)? {
            Some(t) if has(&t, 0, b"metadata") => Ok((offset, t)),
            _ => Err(format!(
                "vhdx.metadata_region at {offset}: no 'metadata' table there"
            )),
        });
    }
    Ok(Err(
        "vhdx.region_table: no metadata region entry".to_string()
    ))
}

fn read_items(
    disk: &dyn DiskRead,
    region_start: u64,
    table: &[u8],
    info: &mut VhdxInfo,
) -> Result<Option<String>, ProbeError> {
    let mut parent = None;
    let count = usize::from(le16(table, 10).unwrap_or(0).min(2047));
    for i in 0..count {
        let Some(entry) = field(table, 32 + i * 32, 32) else {
            break;
        };
        let id = guid_mixed(entry);
        let item_off = u64::from(le32(entry, 16).unwrap_or(0));
        let Some(at) = region_start.checked_add(item_off) else {
            continue;
        };
        if id == PARENT_LOCATOR {
            let len = le32(entry, 20).unwrap_or(0).min(MAX_LOCATOR);
            if let Some(item) = read_in_bounds(disk, at, len as usize)? {
                parent = parent_path(&item);
            }
            continue;
        }
        let Some(value) = read_in_bounds(disk, at, 8)? else {
            continue;
        };
        match id.as_str() {
            VIRTUAL_DISK_SIZE => info.virtual_size = le64(&value, 0),
            FILE_PARAMETERS => {
                info.block_size = le32(&value, 0);
                info.has_parent = le32(&value, 4).unwrap_or(0) & HAS_PARENT != 0;
            }
            LOGICAL_SECTOR_SIZE => info.logical_sector_size = le32(&value, 0),
            _ => {}
        }
    }
    Ok(parent)
}

/// The parent's path from a parent locator item: a header (type GUID,
/// reserved, key/value count) and 12-byte entries pointing at UTF-16LE
/// keys and values inside the item.
fn parent_path(item: &[u8]) -> Option<String> {
    let count = usize::from(le16(item, 18)?);
    let mut pairs = Vec::new();
    for i in 0..count.min(256) {
        let e = field(item, 20 + i * 12, 12)?;
        let text = |off: usize, len: usize| -> Option<String> {
            let off = le32(e, off)? as usize;
            let len = usize::from(le16(e, len)?);
            Some(utf16(field(item, off, len)?, false))
        };
        if let (Some(k), Some(v)) = (text(0, 8), text(4, 10)) {
            pairs.push((k, v));
        }
    }
    PARENT_KEYS
        .iter()
        .find_map(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
}
