//! Sizes and small on-disk structures: data record header and index entry.

use byteorder::{ByteOrder, LittleEndian as LE};

/// Every structure of a ZVHD2 file starts on a page of this size.
pub const PAGE: u64 = 4096;
/// Length of the footer structure.
pub const FOOTER_LEN: usize = 512;
/// Bytes in one index segment.
pub const INDEX_SEG_SIZE: u32 = 524_288;
/// Bytes in one index entry.
pub const INDEX_ENTRY_LEN: usize = 16;
/// Index entries in one segment.
pub const ENTRIES_PER_INDEX_SEG: u32 = INDEX_SEG_SIZE / INDEX_ENTRY_LEN as u32;
/// Bytes in one bitmap segment.
pub const BITMAP_SEG_SIZE: u32 = 4096;
/// Blocks described by one bitmap segment.
pub const BLOCKS_PER_BITMAP_SEG: u32 = BITMAP_SEG_SIZE * 8;
/// Length of a data record header; the payload follows it.
pub const RECORD_HEADER_LEN: usize = 48;
/// Length of the end marker closing every data record.
pub const RECORD_END_LEN: usize = 4;
/// First 12 bytes of every data record.
pub const RECORD_MAGIC: [u8; 12] = *b"hwstream bg\0";
/// Last 4 bytes of every data record.
pub const RECORD_END: [u8; 4] = *b"end\0";
/// The block size every known writer uses.
pub const DEFAULT_BLOCK_SIZE: u32 = 2 << 20;
/// Smallest block size a reader accepts.
pub const MIN_BLOCK_SIZE: u32 = 1 << 20;
/// Largest block size a reader accepts.
pub const MAX_BLOCK_SIZE: u32 = 32 << 20;
/// curr_size is orig_size rounded up to this.
pub const CURR_SIZE_ALIGN: u64 = 1 << 30;
/// orig_size is the source size rounded up to this.
pub const SECTOR: u64 = 512;

/// Rounds `v` up to a multiple of `align` (a power of two), or `None` on overflow.
pub fn round_up(v: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(v.checked_add(align - 1)? & !(align - 1))
}

/// Length of the record that carries a payload of `payload_len` bytes.
pub fn record_len(payload_len: u64) -> Option<u64> {
    round_up(
        payload_len.checked_add((RECORD_HEADER_LEN + RECORD_END_LEN) as u64)?,
        PAGE,
    )
}

/// The largest payload a sane writer can produce for one block.
///
/// Both zstd and deflate expand incompressible input by well under 1/64;
/// anything larger is damage, and the bound keeps a reader from allocating
/// whatever a corrupt index entry claims.
pub fn max_payload_len(block_size: u32) -> u64 {
    u64::from(block_size) + u64::from(block_size) / 64 + PAGE
}

/// The largest record length a reader accepts for `block_size`.
pub fn max_record_len(block_size: u32) -> u64 {
    // Cannot overflow: block_size is a u32.
    record_len(max_payload_len(block_size)).unwrap_or(u64::MAX)
}

/// Whether `block_size` is a power of two from 1 MiB to 32 MiB.
pub fn block_size_ok(block_size: u32) -> bool {
    block_size.is_power_of_two() && (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&block_size)
}

/// The fixed 48-byte header of a data record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// The first 12 bytes; [`RECORD_MAGIC`] in a valid record.
    pub magic: [u8; 12],
    /// Length of the compressed payload.
    pub payload_len: u32,
    /// Block number the record holds.
    pub block: u32,
}

impl RecordHeader {
    /// Decodes a header; `None` if `buf` is shorter than 48 bytes.
    pub fn parse(buf: &[u8]) -> Option<RecordHeader> {
        let h = buf.get(..RECORD_HEADER_LEN)?;
        let mut magic = [0u8; 12];
        magic.copy_from_slice(h.get(..12)?);
        Some(RecordHeader {
            magic,
            payload_len: LE::read_u32(h.get(12..16)?),
            block: LE::read_u32(h.get(16..20)?),
        })
    }

    /// Encodes the header; the flag, size and reserved fields are zero, as
    /// the reference writes them.
    pub fn to_bytes(&self) -> [u8; RECORD_HEADER_LEN] {
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[..12].copy_from_slice(&self.magic);
        LE::write_u32(&mut h[12..16], self.payload_len);
        LE::write_u32(&mut h[16..20], self.block);
        h
    }
}

/// One 16-byte index entry: where the record of a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexEntry {
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// The block number the entry names.
    pub block: u32,
    /// Record length in bytes, a multiple of 4096.
    pub len: u32,
}

impl IndexEntry {
    /// Decodes an entry from the first 16 bytes of `buf`.
    pub fn parse(buf: &[u8]) -> Option<IndexEntry> {
        let e = buf.get(..INDEX_ENTRY_LEN)?;
        Some(IndexEntry {
            offset: LE::read_u64(e.get(..8)?),
            block: LE::read_u32(e.get(8..12)?),
            len: LE::read_u32(e.get(12..16)?),
        })
    }

    /// Encodes the entry.
    pub fn to_bytes(&self) -> [u8; INDEX_ENTRY_LEN] {
        let mut e = [0u8; INDEX_ENTRY_LEN];
        LE::write_u64(&mut e[..8], self.offset);
        LE::write_u32(&mut e[8..12], self.block);
        LE::write_u32(&mut e[12..16], self.len);
        e
    }
}

/// Whether block `n`'s bit is set in `bitmap` (missing bytes read as 0).
pub fn bit(bitmap: &[u8], n: u64) -> bool {
    usize::try_from(n / 8)
        .ok()
        .and_then(|i| bitmap.get(i))
        .is_some_and(|b| b & (1 << (n % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths() {
        assert_eq!(record_len(0), Some(4096));
        assert_eq!(record_len(4096 - 52), Some(4096));
        assert_eq!(record_len(4096 - 51), Some(8192));
        assert_eq!(record_len(35818), Some(36864));
        assert_eq!(record_len(2_097_209), Some(2_101_248));
        assert_eq!(record_len(u64::MAX - 10), None);
    }

    #[test]
    fn block_sizes() {
        assert!(block_size_ok(1 << 20));
        assert!(block_size_ok(2 << 20));
        assert!(block_size_ok(32 << 20));
        assert!(!block_size_ok(64 << 20));
        assert!(!block_size_ok(512 << 10));
        assert!(!block_size_ok(3 << 20));
        assert!(!block_size_ok(0));
    }

    #[test]
    fn header_and_entry_round_trip() {
        let h = RecordHeader {
            magic: RECORD_MAGIC,
            payload_len: 1234,
            block: 77,
        };
        assert_eq!(RecordHeader::parse(&h.to_bytes()), Some(h));
        assert_eq!(RecordHeader::parse(&[0u8; 47]), None);
        let e = IndexEntry {
            offset: 4096,
            block: 3,
            len: 8192,
        };
        assert_eq!(IndexEntry::parse(&e.to_bytes()), Some(e));
    }

    #[test]
    fn bits() {
        let bm = [0b0000_0101u8, 0x80];
        assert!(bit(&bm, 0));
        assert!(!bit(&bm, 1));
        assert!(bit(&bm, 2));
        assert!(bit(&bm, 15));
        assert!(!bit(&bm, 16));
        assert!(!bit(&bm, u64::MAX));
    }
}
