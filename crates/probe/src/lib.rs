//! Tell what a disk-image file is from its bytes alone, in milliseconds.
//!
//! The probe reads a handful of known offsets (headers, footers, the GPT
//! entry array) and reports typed facts: the format and every other
//! signature that matched, per-format header facts, references to other
//! files, and the partition table and file systems of plain disks. It never
//! judges: imsprep-ims turns a [`Report`] into coded findings.

mod disk;
mod error;
pub mod report;

pub use disk::{DiskRead, FileRegion};
pub use error::ProbeError;
pub use report::*;
