//! The 1024-byte dynamic disk header of dynamic and differencing disks: the
//! block allocation table's place and size, the block size, and for a
//! differencing disk where its parent is.

use std::path::Path;

use crate::error::DiskError;
use crate::formats::bytes::{be32, be64};
use crate::io::ReadAt;

use super::footer::{checksum, Footer, FOOTER_LEN};
use super::{FORMAT, SECTOR};

/// Bytes in the dynamic disk header.
pub(super) const HEADER_LEN: u64 = 1024;

/// Smallest and largest block sizes read. The specification's blocks are
/// 2 MiB (512 KiB in some differencing disks); any power of two from one
/// sector to 256 MiB is accepted, which keeps a block's sector bitmap
/// within 64 KiB.
const MIN_BLOCK: u32 = 512;
const MAX_BLOCK: u32 = 256 << 20;

/// Longest parent locator read: a Windows path of 32 K UTF-16 units.
const MAX_LOCATOR_BYTES: u32 = 64 << 10;

/// Parent locator entries in the header, and where the first one is.
const LOCATORS: usize = 8;
const LOCATORS_AT: usize = 576;
const LOCATOR_LEN: usize = 24;

/// The dynamic disk header fields this reader uses, checked.
#[derive(Debug, Clone)]
pub(super) struct DynamicHeader {
    /// Where the header is in the file.
    pub at: u64,
    /// Where the block allocation table starts (sector aligned).
    pub table_offset: u64,
    /// Entries in the table; it covers at least the virtual size.
    pub max_table_entries: u32,
    /// Bytes of virtual disk per block (a power of two).
    pub block_size: u32,
    /// The unique id of the parent's footer (differencing disks).
    pub parent_unique_id: [u8; 16],
    /// Where the parent is, as recorded (differencing disks).
    pub parent_locators: Vec<Locator>,
    /// The parent's file name from the header's Parent Unicode Name.
    pub parent_unicode_name: String,
}

/// One parent locator entry: a platform code and where its data lies.
#[derive(Debug, Clone)]
pub(super) struct Locator {
    /// Offset of the entry in the file, for messages.
    pub at: u64,
    /// `W2ru` (relative Windows path), `W2ku` (absolute), `Mac `, ...
    pub code: [u8; 4],
    /// Bytes of locator data.
    pub length: u32,
    /// Where the locator data is in the file.
    pub offset: u64,
}

/// Reads and checks the dynamic disk header that `footer` points to.
/// `data_end` is where the file's data area ends (before the end footer).
pub(super) fn read(
    src: &ReadAt,
    footer: &Footer,
    data_end: u64,
) -> Result<DynamicHeader, DiskError> {
    let path = src.path();
    let at = footer.data_offset;
    let fits = at
        .checked_add(HEADER_LEN)
        .is_some_and(|end| at >= FOOTER_LEN && end <= data_end);
    if !fits {
        return Err(DiskError::malformed(
            path,
            FORMAT,
            "footer field data offset",
            footer.at + 16,
            format!(
                "expected the offset of the {HEADER_LEN}-byte dynamic disk header, past the \
                 footer copy at the start and inside the {data_end}-byte data area; found {at}"
            ),
        ));
    }
    let buf = src.read_vec(at, HEADER_LEN)?;
    parse(&buf, path, at, footer, data_end)
}

fn parse(
    buf: &[u8],
    path: &Path,
    at: u64,
    footer: &Footer,
    data_end: u64,
) -> Result<DynamicHeader, DiskError> {
    let bad = |field: &str, rel: u64, problem: String| {
        DiskError::malformed(
            path,
            FORMAT,
            format!("dynamic disk header field {field}"),
            at + rel,
            problem,
        )
    };
    if buf.get(..8) != Some(b"cxsparse".as_slice()) {
        return Err(bad("cookie", 0, "expected \"cxsparse\"".to_string()));
    }
    let stored = be32(buf, 36);
    let computed = checksum(buf, 36);
    if stored != computed {
        return Err(bad(
            "checksum",
            36,
            format!("expected {computed:#010x} (the one's complement of the byte sum); found {stored:#010x}"),
        ));
    }
    let version = be32(buf, 24);
    if version >> 16 != 1 {
        return Err(bad(
            "header version",
            24,
            format!("expected major version 1 (0x00010000); found {version:#010x}"),
        ));
    }
    let block_size = be32(buf, 32);
    if !block_size.is_power_of_two() || !(MIN_BLOCK..=MAX_BLOCK).contains(&block_size) {
        return Err(bad(
            "block size",
            32,
            format!(
                "expected a power of two from {MIN_BLOCK} to {MAX_BLOCK} bytes; found {block_size}"
            ),
        ));
    }
    let max_table_entries = be32(buf, 28);
    let needed = footer.current_size.div_ceil(u64::from(block_size));
    if u64::from(max_table_entries) < needed {
        return Err(bad(
            "max table entries",
            28,
            format!(
                "the {}-byte disk needs {needed} blocks of {block_size} bytes; found {max_table_entries}",
                footer.current_size
            ),
        ));
    }
    let table_offset = be64(buf, 16);
    let clear_of_header = table_offset >= at + HEADER_LEN || table_offset < at;
    if table_offset % SECTOR != 0
        || table_offset < FOOTER_LEN
        || table_offset >= data_end
        || !clear_of_header
    {
        return Err(bad(
            "table offset",
            16,
            format!(
                "expected a sector-aligned offset of the block allocation table, clear of the \
                 footer copy and this header, inside the {data_end}-byte data area; found \
                 {table_offset}"
            ),
        ));
    }
    let table_end = table_offset + u64::from(max_table_entries) * 4;
    if table_end > data_end || (table_offset < at && table_end > at) {
        return Err(bad(
            "max table entries",
            28,
            format!(
                "a table of {max_table_entries} 4-byte entries at {table_offset} ends at \
                 {table_end}, past the {data_end}-byte data area or into this header"
            ),
        ));
    }
    let mut parent_unique_id = [0u8; 16];
    if let Some(id) = buf.get(40..56) {
        parent_unique_id.copy_from_slice(id);
    }
    let parent_unicode_name = utf16(buf.get(64..576).unwrap_or_default(), u16::from_be_bytes)
        .map_err(|problem| bad("parent unicode name", 64, problem))?;
    let mut parent_locators = Vec::new();
    for i in 0..LOCATORS {
        let rel = LOCATORS_AT + i * LOCATOR_LEN;
        let entry = buf.get(rel..rel + LOCATOR_LEN).unwrap_or_default();
        let code = be32(entry, 0).to_be_bytes();
        if code == [0; 4] {
            continue;
        }
        parent_locators.push(Locator {
            at: at + rel as u64,
            code,
            length: be32(entry, 8),
            offset: be64(entry, 16),
        });
    }
    Ok(DynamicHeader {
        at,
        table_offset,
        max_table_entries,
        block_size,
        parent_unique_id,
        parent_locators,
        parent_unicode_name,
    })
}

/// The text of a NUL-terminated (or full) UTF-16 field.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| unit([p[0], p[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16(&units)
        .map_err(|_| "expected UTF-16 text; found an unpaired surrogate".into())
}

/// The parent's name as a path relative to the child's folder: the `W2ru`
/// locator (a relative Windows path, UTF-16LE) when there is one, else the
/// header's Parent Unicode Name. Backslashes become slashes so that
/// `.\base.vhd` reads as `./base.vhd`; whether the name is a plain name in
/// the same folder is for the backing-file rules to decide.
pub(super) fn parent_name(src: &ReadAt, header: &DynamicHeader) -> Result<String, DiskError> {
    let path = src.path();
    let relative = header.parent_locators.iter().find(|l| &l.code == b"W2ru");
    let name = match relative {
        Some(locator) => {
            let bad = |field: &str, rel: u64, problem: String| {
                DiskError::malformed(
                    path,
                    FORMAT,
                    format!("parent locator W2ru field {field}"),
                    locator.at + rel,
                    problem,
                )
            };
            if locator.length == 0 || locator.length > MAX_LOCATOR_BYTES || locator.length % 2 != 0
            {
                return Err(bad(
                    "platform data length",
                    8,
                    format!(
                        "expected an even number of bytes from 2 to {MAX_LOCATOR_BYTES}; found {}",
                        locator.length
                    ),
                ));
            }
            let inside = locator
                .offset
                .checked_add(u64::from(locator.length))
                .is_some_and(|end| end <= src.len());
            if !inside {
                return Err(bad(
                    "platform data offset",
                    16,
                    format!(
                        "expected {} bytes of locator data inside the {}-byte file; found offset {}",
                        locator.length,
                        src.len(),
                        locator.offset
                    ),
                ));
            }
            let data = src.read_vec(locator.offset, u64::from(locator.length))?;
            utf16(&data, u16::from_le_bytes).map_err(|problem| bad("platform data", 16, problem))?
        }
        None => header.parent_unicode_name.clone(),
    };
    Ok(name.replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_names_stop_at_the_first_nul_and_refuse_broken_text() {
        let le: Vec<u8> = ".\\base.vhd\0junk"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16(&le, u16::from_le_bytes).unwrap(), ".\\base.vhd");
        let be: Vec<u8> = "base.vhd"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16(&be, u16::from_be_bytes).unwrap(), "base.vhd");
        assert!(utf16(&[0x00, 0xd8, 0x41, 0x00], u16::from_le_bytes).is_err());
    }
}
