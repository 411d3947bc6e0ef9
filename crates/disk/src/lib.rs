//! One read-only model of a virtual disk.
//!
//! Every imsprep command reads a disk image through [`Disk`]: its virtual
//! size, positioned reads of the bytes the guest sees (unallocated ranges
//! read as zeros), and the allocation of each range as the format's own
//! metadata records it ([`Allocation`]), so that a scan never reads what the
//! metadata already says is empty.
//!
//! Backends:
//! - [`RawDisk`]: a RAW image file or a block device (holes found with
//!   `SEEK_DATA`/`SEEK_HOLE` where the file system has them);
//! - [`formats`]: qcow2, VMDK (and OVA), VHD, VHDX and VDI, each checking
//!   every header field and table entry against the file before trusting
//!   it.
//!
//! ZVHD2 is a backend too, in the `imsprep-zvhd2` crate, which implements
//! [`Disk`] for its reader.
//!
//! Nothing here opens a file for writing.

mod backing;
mod cache;
mod disk;
mod error;
mod extent;
pub mod formats;
mod io;
mod kind;
mod raw;

pub use backing::Backing;
pub use backing::{BackingPolicy, MAX_CHAIN_DEPTH};
pub use cache::TableCache;
pub use disk::{check_range, extents, Disk, DiskInfo};
pub use error::DiskError;
pub use extent::{Allocation, Extent};
pub use io::ReadAt;
pub use kind::{open_as, Kind, OpenOptions};
pub use raw::{device_in_use, device_size, RawDisk, SourceKind};
