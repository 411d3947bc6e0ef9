//! Inspection of the operating system inside a disk image.
//!
//! This crate reports FACTS: what is in the image, each with the evidence
//! it was read from (the guest paths and the values found there). It knows
//! nothing of IMS rules or check codes; the `imsprep-ims` crate turns facts
//! into findings.
//!
//! The guest is reached through the [`GuestFiles`] trait: guest paths with
//! symbolic links resolved inside the guest, plus the volumes and the disk
//! facts the boot checks need. [`DirGuest`] implements it over a host
//! directory (for tests and for unpacked trees); [`ImageGuest`] over the
//! guest view of a disk image (`imsprep-fs`), and [`inspect_disk`] runs the
//! whole inspection of one.

pub mod dir;
pub mod evidence;
pub mod files;
pub mod image;
pub mod linux;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod text;
pub mod windows;

pub use dir::DirGuest;
pub use evidence::{Evidence, EvidenceKind, Fact};
pub use files::{
    DiskFacts, FileKind, FileMeta, GuestError, GuestFiles, PartitionTable, VolumeInfo, VolumeState,
};
pub use image::{inspect_disk, DiskInspection, ImageGuest};
pub use linux::{inspect_linux, LinuxFacts};
pub use windows::{inspect_windows, WindowsFacts};
