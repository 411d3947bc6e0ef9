//! The region table: where the BAT and the metadata region lie, and any
//! other region a newer writer added (refused when marked required, since
//! the file cannot be read correctly without understanding it).

use super::guid::Guid;
use super::header::HEADER_SECTION;
use super::{checksum, malformed, FORMAT, MIB};
use crate::error::DiskError;
use crate::formats::bytes::{le32, le64};
use crate::io::ReadAt;

/// The BAT region's type.
pub(super) const BAT: Guid = Guid::new(
    0x2DC2_7766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
/// The metadata region's type.
pub(super) const METADATA: Guid = Guid::new(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);

/// Offsets of the two copies of the region table.
const TABLE_OFFSETS: [u64; 2] = [192 << 10, 256 << 10];
/// Bytes a region table's checksum covers.
const TABLE_SIZE: u64 = 64 << 10;
/// Most entries a 64 KiB table holds after its 16-byte header.
const MAX_ENTRIES: u32 = 2047;
/// Bytes of one entry.
const ENTRY_SIZE: u64 = 32;

/// One region of the file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Region {
    /// Its type.
    pub guid: Guid,
    /// First byte in the file.
    pub offset: u64,
    /// Bytes.
    pub length: u64,
    /// Where its entry lies in the file, for messages.
    pub entry_at: u64,
}

impl Region {
    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// The regions the reader uses, and every region (to keep data blocks out
/// of them).
#[derive(Debug, Clone)]
pub(super) struct Regions {
    /// The block allocation table.
    pub bat: Region,
    /// The metadata region.
    pub metadata: Region,
    /// Every region in the table.
    pub all: Vec<Region>,
}

/// Reads the first valid copy of the region table (a copy is valid when
/// its signature and checksum are) and checks every entry. `log` is the
/// log's range, which no region may overlap.
pub(super) fn read(src: &ReadAt, log: Option<(u64, u64)>) -> Result<Regions, DiskError> {
    let (table, at) = match read_copy(src, TABLE_OFFSETS[0]) {
        Ok(buf) => (buf, TABLE_OFFSETS[0]),
        Err(first) => match read_copy(src, TABLE_OFFSETS[1]) {
            Ok(buf) => (buf, TABLE_OFFSETS[1]),
            Err(second) => {
                return Err(malformed(
                    src,
                    "region tables",
                    TABLE_OFFSETS[0],
                    format!("neither copy is valid: the first {first}; the second {second}"),
                ))
            }
        },
    };
    let count = le32(&table, 8);
    if count > MAX_ENTRIES {
        return Err(malformed(
            src,
            "region table field EntryCount",
            at + 8,
            format!("expected at most {MAX_ENTRIES}; found {count}"),
        ));
    }
    let mut all: Vec<Region> = Vec::new();
    let (mut bat, mut metadata) = (None, None);
    for i in 0..u64::from(count) {
        let pos = 16 + i * ENTRY_SIZE;
        let entry_at = at + pos;
        let p = pos as usize;
        let region = Region {
            guid: Guid::read(&table, p),
            offset: le64(&table, p + 16),
            length: u64::from(le32(&table, p + 24)),
            entry_at,
        };
        let required = le32(&table, p + 28) & 1 == 1;
        let known = region.guid == BAT || region.guid == METADATA;
        if required && !known {
            return Err(DiskError::unsupported(
                src.path(),
                FORMAT,
                format!(
                    "the required region {} (region table entry at offset {entry_at})",
                    region.guid
                ),
                None,
            ));
        }
        check_placement(src, &region, log, &all)?;
        let slot = if region.guid == BAT {
            &mut bat
        } else if region.guid == METADATA {
            &mut metadata
        } else {
            all.push(region);
            continue;
        };
        if slot.is_some() {
            return Err(malformed(
                src,
                "region table entry",
                entry_at,
                format!("a second {} region", name(region.guid)),
            ));
        }
        *slot = Some(region);
        all.push(region);
    }
    let missing = |what: &str| {
        malformed(
            src,
            "region table",
            at,
            format!("it has no {what} region entry"),
        )
    };
    Ok(Regions {
        bat: bat.ok_or_else(|| missing("BAT"))?,
        metadata: metadata.ok_or_else(|| missing("metadata"))?,
        all,
    })
}

/// The name of a known region, for messages.
pub(super) fn name(guid: Guid) -> String {
    if guid == BAT {
        "BAT".to_string()
    } else if guid == METADATA {
        "metadata".to_string()
    } else {
        guid.to_string()
    }
}

/// One copy of the table, or why it is not valid.
fn read_copy(src: &ReadAt, at: u64) -> Result<Vec<u8>, DiskError> {
    let buf = src.read_vec(at, TABLE_SIZE)?;
    let fail = |problem: String| malformed(src, "region table", at, problem);
    if buf.get(..4) != Some(b"regi".as_slice()) {
        return Err(fail(format!(
            "expected the signature \"regi\"; found {:02x?}",
            buf.get(..4).unwrap_or_default()
        )));
    }
    let (stored, computed) = checksum(&buf, 4);
    if stored != computed {
        return Err(fail(format!(
            "its CRC-32C is {computed:#010x} but the Checksum field holds {stored:#010x}"
        )));
    }
    Ok(buf)
}

/// A region lies in whole MiB past the header section, inside the file,
/// and overlaps neither the log nor another region.
fn check_placement(
    src: &ReadAt,
    region: &Region,
    log: Option<(u64, u64)>,
    earlier: &[Region],
) -> Result<(), DiskError> {
    let fail = |problem: String| {
        malformed(
            src,
            format!("region table entry ({} region)", name(region.guid)),
            region.entry_at,
            problem,
        )
    };
    let (start, len) = (region.offset, region.length);
    if start % MIB != 0 || len % MIB != 0 || len == 0 || start < HEADER_SECTION {
        return Err(fail(format!(
            "expected whole MiB past the {HEADER_SECTION}-byte header section; found {len} bytes \
             at offset {start}"
        )));
    }
    match start.checked_add(len) {
        Some(end) if end <= src.len() => {}
        _ => {
            return Err(fail(format!(
                "the region ({len} bytes at offset {start}) ends past the end of the {}-byte file",
                src.len()
            )))
        }
    }
    let end = start + len;
    if let Some((log_start, log_end)) = log {
        if start < log_end && log_start < end {
            return Err(fail(format!(
                "the region ({len} bytes at offset {start}) overlaps the log"
            )));
        }
    }
    if let Some(other) = earlier
        .iter()
        .find(|other| start < other.end() && other.offset < end)
    {
        return Err(fail(format!(
            "the region ({len} bytes at offset {start}) overlaps the {} region",
            name(other.guid)
        )));
    }
    Ok(())
}
