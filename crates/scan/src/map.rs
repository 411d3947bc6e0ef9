//! The allocation map: one bit per block, set when the block holds data.

use bitvec::prelude::{BitSlice, BitVec, Lsb0};
use thiserror::Error;

use crate::granularity::{validate_granularity, GranularityError};

/// Bits in the order every imsprep bitmap uses: block `n` is bit `n % 8`,
/// counted from the least significant bit, of byte `n / 8`.
pub type Bits = BitVec<u8, Lsb0>;

/// Which blocks of an image hold data.
///
/// A block is data when any of its bytes is non-zero. Blocks are
/// `granularity` bytes long except the last, which ends at the image size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationMap {
    granularity: u64,
    image_size: u64,
    bits: Bits,
}

/// An allocation map that cannot be built from the parts given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MapError {
    /// The block size is unusable.
    #[error(transparent)]
    Granularity(#[from] GranularityError),
    /// The number of bits does not match the image size and block size.
    #[error("{found} block bits given, but an image of {image_size} bytes in blocks of {granularity} has {expected} blocks")]
    BlockCount {
        /// Image size in bytes.
        image_size: u64,
        /// Block size in bytes.
        granularity: u64,
        /// Blocks the image has.
        expected: u64,
        /// Bits given.
        found: u64,
    },
}

/// A run of adjacent blocks of the same kind, in bytes of the image.
///
/// The fields are plain so a caller can serialise the run as it likes (the
/// CLI prints them as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockRange {
    /// Byte offset of the first block of the run.
    pub start: u64,
    /// Length in bytes; the last run of an image ends at the image size.
    pub length: u64,
    /// True when the blocks hold data, false when they are all zero.
    pub data: bool,
}

/// Number of blocks of `granularity` bytes needed to cover `image_size` bytes.
///
/// `granularity` must be non-zero (any validated granularity is).
pub fn block_count(image_size: u64, granularity: u64) -> u64 {
    image_size.div_ceil(granularity.max(1))
}

impl AllocationMap {
    /// A map of `image_size` bytes with every block marked as zero.
    pub fn new(granularity: u64, image_size: u64) -> Result<Self, MapError> {
        let granularity = validate_granularity(granularity)?;
        let blocks = block_count(image_size, granularity);
        let len = usize::try_from(blocks).map_err(|_| MapError::BlockCount {
            image_size,
            granularity,
            expected: blocks,
            found: 0,
        })?;
        Ok(Self {
            granularity,
            image_size,
            bits: BitVec::repeat(false, len),
        })
    }

    /// A map built from one bit per block; the bit count must match exactly.
    pub fn from_bits(granularity: u64, image_size: u64, mut bits: Bits) -> Result<Self, MapError> {
        let granularity = validate_granularity(granularity)?;
        let expected = block_count(image_size, granularity);
        let found = bits.len() as u64;
        if found != expected {
            return Err(MapError::BlockCount {
                image_size,
                granularity,
                expected,
                found,
            });
        }
        // Storage bits past the end may hold anything after a truncate;
        // `as_bytes` promises zeros there.
        bits.set_uninitialized(false);
        Ok(Self {
            granularity,
            image_size,
            bits,
        })
    }

    /// Block size in bytes.
    pub fn granularity(&self) -> u64 {
        self.granularity
    }

    /// Size of the image the map describes, in bytes.
    pub fn image_size(&self) -> u64 {
        self.image_size
    }

    /// Number of blocks, the last one possibly partial.
    pub fn block_count(&self) -> u64 {
        self.bits.len() as u64
    }

    /// Number of blocks that hold data.
    pub fn data_block_count(&self) -> u64 {
        self.bits.count_ones() as u64
    }

    /// Whether block `index` holds data; false past the end.
    pub fn is_data(&self, index: u64) -> bool {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.bits.get(i).map(|bit| *bit))
            .unwrap_or(false)
    }

    /// Marks block `index` as data or zero; does nothing past the end.
    pub fn set(&mut self, index: u64, data: bool) {
        if let Some(mut bit) = usize::try_from(index)
            .ok()
            .and_then(|i| self.bits.get_mut(i))
        {
            *bit = data;
        }
    }

    /// The bits, block 0 first.
    pub fn bits(&self) -> &BitSlice<u8, Lsb0> {
        &self.bits
    }

    /// The bits packed into bytes: block `n` is bit `n % 8` (from the least
    /// significant bit) of byte `n / 8`; bits past the last block are zero.
    pub fn as_bytes(&self) -> &[u8] {
        self.bits.as_raw_slice()
    }

    /// Byte range `(start, length)` of block `index`, clipped to the image.
    pub fn block_span(&self, index: u64) -> (u64, u64) {
        let start = index.saturating_mul(self.granularity).min(self.image_size);
        let end = start.saturating_add(self.granularity).min(self.image_size);
        (start, end - start)
    }

    /// Runs of adjacent blocks of the same kind covering the whole image in
    /// order; an empty image has none.
    pub fn ranges(&self) -> Ranges<'_> {
        Ranges { map: self, next: 0 }
    }

    /// Runs of blocks that hold data, in order.
    pub fn data_ranges(&self) -> impl Iterator<Item = BlockRange> + '_ {
        self.ranges().filter(|r| r.data)
    }
}

/// Iterator over the runs of an [`AllocationMap`]; see [`AllocationMap::ranges`].
#[derive(Debug, Clone)]
pub struct Ranges<'a> {
    map: &'a AllocationMap,
    next: usize,
}

impl Iterator for Ranges<'_> {
    type Item = BlockRange;

    fn next(&mut self) -> Option<BlockRange> {
        let bits = self.map.bits.get(self.next..)?;
        let data = *bits.first()?;
        let run = if data {
            bits.first_zero()
        } else {
            bits.first_one()
        }
        .unwrap_or(bits.len());
        let first = self.next as u64;
        self.next += run;
        let (start, _) = self.map.block_span(first);
        let (last_start, last_len) = self.map.block_span(self.next as u64 - 1);
        Some(BlockRange {
            start,
            length: last_start + last_len - start,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_cover_a_partial_tail() {
        let g = 4096;
        let size = 5 * g + 100;
        let mut map = AllocationMap::new(g, size).unwrap();
        assert_eq!(map.block_count(), 6);
        map.set(1, true);
        map.set(2, true);
        map.set(5, true);
        let ranges: Vec<_> = map.ranges().collect();
        assert_eq!(
            ranges,
            vec![
                BlockRange {
                    start: 0,
                    length: g,
                    data: false
                },
                BlockRange {
                    start: g,
                    length: 2 * g,
                    data: true
                },
                BlockRange {
                    start: 3 * g,
                    length: 2 * g,
                    data: false
                },
                BlockRange {
                    start: 5 * g,
                    length: 100,
                    data: true
                },
            ]
        );
        assert_eq!(map.data_block_count(), 3);
        assert_eq!(map.as_bytes(), &[0b0010_0110]);
        assert!(!map.is_data(99));
    }

    #[test]
    fn empty_image_has_no_ranges() {
        let map = AllocationMap::new(1 << 20, 0).unwrap();
        assert_eq!(map.block_count(), 0);
        assert_eq!(map.ranges().count(), 0);
    }

    #[test]
    fn from_bits_checks_the_count() {
        let bits = Bits::repeat(false, 3);
        assert!(matches!(
            AllocationMap::from_bits(4096, 4096 * 2, bits),
            Err(MapError::BlockCount {
                expected: 2,
                found: 3,
                ..
            })
        ));
    }
}
