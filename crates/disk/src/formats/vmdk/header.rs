//! The header of a hosted sparse extent (magic `KDMV`), and the footer that
//! replaces it in a stream-optimized extent written in one pass.
//!
//! Layout (little-endian, one 512-byte sector), from VMware's "Virtual Disk
//! Format 5.0", section "Hosted Sparse Extent Header":
//!
//! | offset | field              | size |
//! |--------|--------------------|------|
//! | 0      | magicNumber `KDMV` | 4    |
//! | 4      | version            | 4    |
//! | 8      | flags              | 4    |
//! | 12     | capacity (sectors) | 8    |
//! | 20     | grainSize (sectors)| 8    |
//! | 28     | descriptorOffset   | 8    |
//! | 36     | descriptorSize     | 8    |
//! | 44     | numGTEsPerGT       | 4    |
//! | 48     | rgdOffset          | 8    |
//! | 56     | gdOffset           | 8    |
//! | 64     | overHead           | 8    |
//! | 72     | uncleanShutdown    | 1    |
//! | 73     | newline test bytes | 4    |
//! | 77     | compressAlgorithm  | 2    |

use crate::error::DiskError;
use crate::formats::bytes::{le16, le32, le64};
use crate::io::ReadAt;

/// Bytes in a VMDK sector, the unit of every offset and size field.
pub(super) const SECTOR: u64 = 512;

/// The magic of a hosted sparse extent.
pub(super) const SPARSE_MAGIC: &[u8; 4] = b"KDMV";

/// The magic of an ESX delta extent (`vmfsSparse`), which is not read.
pub(super) const COWD_MAGIC: &[u8; 4] = b"COWD";

/// `gdOffset` of a stream-optimized extent whose grain directory is only
/// known at the end: the footer holds the real value.
const GD_AT_END: u64 = u64::MAX;

/// Flag: the newline test bytes are valid (a file moved through a text-mode
/// transfer has them changed).
const FLAG_NEWLINE_TEST: u32 = 1 << 0;
/// Flag: a grain table entry of 1 means a grain of zeros.
const FLAG_ZERO_GRAIN: u32 = 1 << 2;
/// Flag: grains (and metadata) are preceded by markers.
const FLAG_MARKERS: u32 = 1 << 17;

/// `compressAlgorithm`: none.
const COMPRESSION_NONE: u16 = 0;
/// `compressAlgorithm`: deflate, as zlib streams.
const COMPRESSION_DEFLATE: u16 = 1;

/// Largest grain read: 2^16 sectors (32 MiB). VMware writes 128 (64 KiB);
/// the bound keeps a decompressed grain's buffer small.
pub(super) const MAX_GRAIN_SECTORS: u64 = 1 << 16;

/// Most entries in one grain table: the format fixes 512, and QEMU refuses
/// more.
const MAX_GTES_PER_GT: u32 = 512;

/// Largest embedded descriptor read.
pub(super) const MAX_DESCRIPTOR_BYTES: u64 = 1 << 20;

/// Marker type of the footer, in the sector before it.
const MARKER_FOOTER: u32 = 3;
/// Marker type of the end of the stream.
const MARKER_END_OF_STREAM: u32 = 0;

/// The checked fields of a sparse extent header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// Format version, 1 to 3.
    pub version: u32,
    /// Virtual size of the extent in sectors.
    pub capacity: u64,
    /// Sectors per grain, a power of two.
    pub grain_sectors: u64,
    /// Embedded descriptor: offset and size in sectors (size 0: none).
    pub descriptor_offset: u64,
    /// Size of the embedded descriptor in sectors.
    pub descriptor_sectors: u64,
    /// Entries per grain table.
    pub gtes_per_gt: u32,
    /// Sector of the grain directory.
    pub gd_offset: u64,
    /// Sectors of metadata before the first grain.
    pub overhead: u64,
    /// Grains are zlib-compressed.
    pub compressed: bool,
    /// Grains start with a 12-byte marker (lba, size).
    pub markers: bool,
    /// A grain table entry of 1 is a grain of zeros (flag bit 2; without
    /// it, as in QEMU, 1 is a sector like any other, inside the header).
    pub zero_grain: bool,
}

impl Header {
    /// Bytes per grain.
    pub fn grain_bytes(&self) -> u64 {
        self.grain_sectors * SECTOR
    }

    /// Entries in the grain directory: one per grain table the capacity
    /// needs.
    pub fn gd_entries(&self) -> u64 {
        let sectors_per_gt = self.grain_sectors * u64::from(self.gtes_per_gt);
        self.capacity.div_ceil(sectors_per_gt)
    }
}

/// Reads and checks the header at the start of `src`, following the footer
/// when the grain directory is at the end.
pub(super) fn read(src: &ReadAt) -> Result<Header, DiskError> {
    let mut sector = [0u8; SECTOR as usize];
    src.read_exact_at(0, &mut sector)?;
    let header = parse(src, &sector, 0)?;
    if header.gd_offset != GD_AT_END {
        return Ok(header);
    }
    let footer = read_footer(src)?;
    // The footer is a full header; only its grain directory differs.
    if footer.gd_offset == GD_AT_END {
        return Err(malformed(
            src,
            "footer field gdOffset",
            footer_offset(src),
            "the footer's gdOffset must say where the grain directory is; found 0xffffffffffffffff again",
        ));
    }
    Ok(footer)
}

/// Parses a header (or footer) held in `sector`, read at `at` in `src`.
fn parse(src: &ReadAt, sector: &[u8], at: u64) -> Result<Header, DiskError> {
    let what = if at == 0 { "header" } else { "footer" };
    let field = |name: &str| format!("{what} field {name}");
    if sector.get(0..4) != Some(&SPARSE_MAGIC[..]) {
        return Err(malformed(
            src,
            &field("magicNumber"),
            at,
            format!("expected \"KDMV\"; found {:02x?}", sector.get(0..4)),
        ));
    }
    let version = le32(sector, 4);
    if !(1..=3).contains(&version) {
        return Err(DiskError::unsupported(
            src.path(),
            "vmdk",
            format!("sparse extent version {version} (versions 1 to 3 are read)"),
            None,
        ));
    }
    let flags = le32(sector, 8);
    if flags & FLAG_NEWLINE_TEST != 0 && sector.get(73..77) != Some(b"\n \r\n") {
        return Err(malformed(
            src,
            &field("newline test bytes"),
            at + 73,
            "expected \"\\n \\r\\n\": the file was altered by a text-mode transfer",
        ));
    }

    let grain_sectors = le64(sector, 20);
    if !grain_sectors.is_power_of_two() || grain_sectors > MAX_GRAIN_SECTORS {
        return Err(malformed(
            src,
            &field("grainSize"),
            at + 20,
            format!(
                "expected a power of two from 1 to {MAX_GRAIN_SECTORS} sectors; found {grain_sectors}"
            ),
        ));
    }
    let gtes_per_gt = le32(sector, 44);
    if !(1..=MAX_GTES_PER_GT).contains(&gtes_per_gt) {
        return Err(malformed(
            src,
            &field("numGTEsPerGT"),
            at + 44,
            format!("expected 1 to {MAX_GTES_PER_GT} (the format uses 512); found {gtes_per_gt}"),
        ));
    }
    let capacity = le64(sector, 12);
    if capacity.checked_mul(SECTOR).is_none() {
        return Err(malformed(
            src,
            &field("capacity"),
            at + 12,
            format!("{capacity} sectors is more bytes than a 64-bit size holds"),
        ));
    }

    let file_sectors = src.len() / SECTOR;
    let descriptor_offset = le64(sector, 28);
    let descriptor_sectors = le64(sector, 36);
    if descriptor_sectors > 0 {
        if descriptor_sectors > MAX_DESCRIPTOR_BYTES / SECTOR {
            return Err(malformed(
                src,
                &field("descriptorSize"),
                at + 36,
                format!(
                    "expected at most {} sectors; found {descriptor_sectors}",
                    MAX_DESCRIPTOR_BYTES / SECTOR
                ),
            ));
        }
        let inside = descriptor_offset
            .checked_add(descriptor_sectors)
            .is_some_and(|end| descriptor_offset >= 1 && end <= file_sectors);
        if !inside {
            return Err(malformed(
                src,
                &field("descriptorOffset"),
                at + 28,
                format!(
                    "the {descriptor_sectors}-sector descriptor at sector {descriptor_offset} must \
                     lie after the header inside the {file_sectors}-sector file"
                ),
            ));
        }
    }

    let gd_offset = le64(sector, 56);
    let overhead = le64(sector, 64);
    if overhead > file_sectors && gd_offset != GD_AT_END {
        return Err(malformed(
            src,
            &field("overHead"),
            at + 64,
            format!("{overhead} sectors of metadata in a {file_sectors}-sector file"),
        ));
    }

    let compressed = match le16(sector, 77) {
        COMPRESSION_NONE => false,
        COMPRESSION_DEFLATE => true,
        other => {
            return Err(DiskError::unsupported(
                src.path(),
                "vmdk",
                format!("grain compression algorithm {other} (only deflate, 1, is read)"),
                None,
            ))
        }
    };

    Ok(Header {
        version,
        capacity,
        grain_sectors,
        descriptor_offset,
        descriptor_sectors,
        gtes_per_gt,
        gd_offset,
        overhead,
        compressed,
        markers: flags & FLAG_MARKERS != 0,
        zero_grain: flags & FLAG_ZERO_GRAIN != 0,
    })
}

/// Where the footer of a stream-optimized extent is: two sectors before
/// the end (the last sector is the end-of-stream marker).
fn footer_offset(src: &ReadAt) -> u64 {
    src.len().saturating_sub(2 * SECTOR)
}

/// Reads the footer: a footer marker, a copy of the header with the real
/// `gdOffset`, and the end-of-stream marker, in the last three sectors.
fn read_footer(src: &ReadAt) -> Result<Header, DiskError> {
    if src.len() < 4 * SECTOR {
        return Err(malformed(
            src,
            "header field gdOffset",
            56,
            format!(
                "0xffffffffffffffff says a footer ends the file, but the {}-byte file is too short \
                 for one",
                src.len()
            ),
        ));
    }
    let start = src.len() - 3 * SECTOR;
    let tail = src.read_vec(start, 3 * SECTOR)?;
    let marker = tail.get(..SECTOR as usize).unwrap_or_default();
    let footer = tail
        .get(SECTOR as usize..2 * SECTOR as usize)
        .unwrap_or_default();
    let end = tail.get(2 * SECTOR as usize..).unwrap_or_default();
    if le32(marker, 8) != 0 || le32(marker, 12) != MARKER_FOOTER {
        return Err(malformed(
            src,
            "footer marker",
            start,
            format!(
                "expected a metadata marker of type {MARKER_FOOTER} (footer); found size {} type {}",
                le32(marker, 8),
                le32(marker, 12)
            ),
        ));
    }
    if le64(end, 0) != 0 || le32(end, 8) != 0 || le32(end, 12) != MARKER_END_OF_STREAM {
        return Err(malformed(
            src,
            "end-of-stream marker",
            start + 2 * SECTOR,
            "expected the last sector to be an end-of-stream marker (all zero)",
        ));
    }
    parse(src, footer, start + SECTOR)
}

/// A [`DiskError::Malformed`] of a VMDK file.
pub(super) fn malformed(
    src: &ReadAt,
    structure: &str,
    offset: u64,
    problem: impl Into<String>,
) -> DiskError {
    DiskError::malformed(src.path(), "vmdk", structure, src.start() + offset, problem)
}
