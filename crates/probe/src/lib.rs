//! Tell what a disk-image file is from its bytes alone, in milliseconds.
//!
//! The probe reads a handful of known offsets (headers, footers, the GPT
//! entry array) and reports typed facts: the format and every other
//! signature that matched, per-format header facts, references to other
//! files, and the partition table and file systems of plain disks. It never
//! judges: imsprep-ims turns a [`Report`] into coded findings.
//!
//! Entry points: [`inspect`] for a file, [`inspect_disk`] for any
//! [`DiskRead`] source, and the lower-level [`detect`] and [`read_layout`].

mod bytes;
mod detect;
mod disk;
mod error;
mod formats;
mod inspect;
mod layout;
mod open;
pub mod report;
mod zvhd2_layout;

pub use detect::{detect, Detection, HEAD_LEN, TAIL_LEN};
pub use disk::{DiskRead, DiskView, FileRegion, SubDisk};
pub use error::ProbeError;
pub use inspect::{inspect, inspect_disk};
pub use layout::{probe_filesystem, read_layout};
pub use open::{disk_kind, open_disk};
pub use report::*;
