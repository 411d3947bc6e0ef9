//! Which blocks of a disk image hold data, and the RAW bitmap file.
//!
//! The building blocks every other imsprep crate uses to avoid reading or
//! compressing zeros:
//!
//! - [`is_zero`], a zero test that runs at memory bandwidth, and
//!   [`data_extents`], the data extents of a sparse file found with
//!   `SEEK_DATA`/`SEEK_HOLE`;
//! - [`scan_file`] / [`scan_open`], which combine them into an
//!   [`AllocationMap`] (one bit per block of 4 KiB to 32 MiB, default 2 MiB)
//!   and the image's CRC-32 in one parallel pass that never reads holes;
//! - the RAW bitmap file (`.mf`) in imsprep's own layout ([`write_bitmap`],
//!   [`read_bitmap`], [`check_bitmap_against`]), described in
//!   `docs/bitmap.md`. Huawei's `CreateMF` layout is unpublished, so whether
//!   IMS accepts this one is unverified; ZVHD2 images need no bitmap at all.
//!
//! # Images that change while scanned
//!
//! The scan reads the image with positioned reads (`pread`), a window
//! (64 MiB by default) at a time, into one small buffer per thread; it never
//! maps the file, so a file shrunk by another process meanwhile makes a
//! read come up short instead of raising `SIGBUS`. To make sure the result
//! describes one version of the image, the scan:
//!
//! - holds a shared `flock` for its whole duration, taken without waiting, so
//!   a writer that takes an exclusive `flock` cannot start meanwhile, and a
//!   scan started while one is held fails at once with
//!   [`ScanError::Locked`];
//! - compares size and modification time (and, for [`scan_file`], that the
//!   path still names the same file) at the start and at the end, and fails
//!   with [`ScanError::Changed`] when they differ (or when a read came up
//!   short because the file shrank), so a write never yields a wrong map or
//!   CRC.
//!
//! `flock` is advisory: a process that writes without locking is not held
//! back, only noticed afterwards. Modification times are as fine as the file
//! system keeps them; a write of the same size in the same clock tick as the
//! start of the scan can go unnoticed. Do not change an image while it is
//! being scanned.

mod bitmap;
mod check;
pub mod crc;
mod error;
mod extents;
mod granularity;
mod guard;
mod map;
mod scan;
mod zero;

pub use bitmap::{
    bitmap_path_for, encode as encode_bitmap, read_bitmap, write_bitmap, Bitmap, BitmapError,
    FLAG_IMAGE_CRC32, HEADER_LEN, MAGIC, VERSION,
};
pub use check::{check_bitmap_against, BlockDifference, Mismatch, MAX_REPORTED_BLOCKS};
pub use error::{Change, ScanError};
pub use extents::{data_extents, Extent};
pub use granularity::{
    parse_granularity, validate_granularity, GranularityError, DEFAULT_GRANULARITY,
    MAX_GRANULARITY, MIN_GRANULARITY,
};
pub use map::{block_count, AllocationMap, Bits, BlockRange, MapError, Ranges};
pub use scan::{scan_disk, scan_file, scan_open, Scan, ScanOptions, ScanStats, DEFAULT_WINDOW};
pub use zero::is_zero;
