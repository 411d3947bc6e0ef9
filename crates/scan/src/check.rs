//! Does a bitmap describe an image?

use std::fmt;

use thiserror::Error;

use crate::map::AllocationMap;

/// How many differing blocks a [`Mismatch::Blocks`] lists.
pub const MAX_REPORTED_BLOCKS: usize = 16;

/// Why a bitmap does not describe an image.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mismatch {
    /// The bitmap was made for an image of another size.
    #[error("image_size differs: the bitmap is for {bitmap} bytes, the image has {image}")]
    ImageSize {
        /// Size recorded in the bitmap.
        bitmap: u64,
        /// Size of the image.
        image: u64,
    },
    /// The bitmap uses another block size than the scan it is compared with.
    #[error("granularity differs: the bitmap uses blocks of {bitmap} bytes, the scan {image}")]
    Granularity {
        /// Block size of the bitmap.
        bitmap: u64,
        /// Block size of the scan.
        image: u64,
    },
    /// Some blocks are marked differently.
    #[error("{count} blocks differ, first: {}", BlockList(first))]
    Blocks {
        /// Number of differing blocks.
        count: u64,
        /// The first differing blocks, at most [`MAX_REPORTED_BLOCKS`].
        first: Vec<BlockDifference>,
    },
}

/// One block marked differently in a bitmap and in a scan of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockDifference {
    /// Block index.
    pub block: u64,
    /// Byte offset of the block in the image.
    pub offset: u64,
    /// What the bitmap says: true for data.
    pub in_bitmap: bool,
}

struct BlockList<'a>(&'a [BlockDifference]);

impl fmt::Display for BlockList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let (bitmap, image) = if d.in_bitmap {
                ("data", "zero")
            } else {
                ("zero", "data")
            };
            write!(
                f,
                "block {} at byte {} ({bitmap} in the bitmap, {image} in the image)",
                d.block, d.offset
            )?;
        }
        Ok(())
    }
}

/// Compares a bitmap read from a file with a fresh scan of the image.
///
/// Image size is compared first (a bitmap for another image usually differs
/// there), then block size, then every block.
pub fn check_bitmap_against(bitmap: &AllocationMap, image: &AllocationMap) -> Result<(), Mismatch> {
    if bitmap.image_size() != image.image_size() {
        return Err(Mismatch::ImageSize {
            bitmap: bitmap.image_size(),
            image: image.image_size(),
        });
    }
    if bitmap.granularity() != image.granularity() {
        return Err(Mismatch::Granularity {
            bitmap: bitmap.granularity(),
            image: image.granularity(),
        });
    }
    let mut count = 0u64;
    let mut first = Vec::new();
    // Bits past the last block are zero in every map, so whole bytes can
    // be compared and only differing ones looked into.
    for (byte_index, (a, b)) in bitmap.as_bytes().iter().zip(image.as_bytes()).enumerate() {
        let mut diff = a ^ b;
        count += u64::from(diff.count_ones());
        while diff != 0 && first.len() < MAX_REPORTED_BLOCKS {
            let bit = diff.trailing_zeros();
            diff &= diff - 1;
            let block = byte_index as u64 * 8 + u64::from(bit);
            first.push(BlockDifference {
                block,
                offset: bitmap.block_span(block).0,
                in_bitmap: a >> bit & 1 == 1,
            });
        }
    }
    if count == 0 {
        Ok(())
    } else {
        Err(Mismatch::Blocks { count, first })
    }
}
