//! The ZVHD2 disk image format of Huawei Cloud IMS fast import.
//!
//! Reads, verifies and writes ZVHD2 files byte-compatibly with Huawei's
//! reference driver: [`Footer`] decodes and checks the 512-byte footer,
//! [`Reader`] gives random access to the virtual disk, [`to_raw`] turns a
//! ZVHD2 back into a RAW image, [`verify`] checks every structure and
//! payload and reports all problems, and [`write()`] / [`convert_raw`] build
//! a ZVHD2 from any [`BlockSource`] (any disk of the disk model: [`DiskSource`]).
//!
//! The layout is described in `docs/zvhd2.md` of the repository.

mod buffers;
mod codec;
mod control;
mod disk;
mod error;
mod footer;
mod geometry;
mod layout;
mod meta;
mod output;
mod pipeline;
mod problem;
mod reader;
mod record;
mod source;
mod stream;
mod to_raw;
mod verify;
mod writer;

pub use codec::Compression;
pub use control::Control;
pub use disk::Zvhd2Disk;
pub use error::Error;
pub use footer::{
    sniff, Footer, Regions, Sniff, COOKIE, METHOD_ZLIB, METHOD_ZSTD, VHD_COOKIE, ZVHD_COOKIE,
};
pub use geometry::Geometry;
pub use layout::{
    block_size_ok, max_payload_len, record_len, IndexEntry, RecordHeader, BITMAP_SEG_SIZE,
    BLOCKS_PER_BITMAP_SEG, CURR_SIZE_ALIGN, DEFAULT_BLOCK_SIZE, ENTRIES_PER_INDEX_SEG, FOOTER_LEN,
    INDEX_ENTRY_LEN, INDEX_SEG_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, PAGE, RECORD_END,
    RECORD_HEADER_LEN, RECORD_MAGIC,
};
pub use problem::{Problem, ProblemKind, MAX_LISTED_PROBLEMS};
pub use reader::Reader;
pub use source::{BlockData, BlockSource, DiskSource};
pub use stream::StreamSource;
pub use to_raw::{convert_to_raw, disk_to_raw, disk_to_raw_stream, to_raw};
pub use verify::{verify, Report, VerifyOptions};
pub use writer::{convert_raw, vhd_timestamp_now, write, write_stream, WriteOptions, WriteSummary};
