//! Read-only readers of the file systems inside a virtual disk.
//!
//! Everything here reads through [`imsprep_disk::Disk`]: nothing is
//! mounted, nothing is written, and no byte of the disk is trusted: every
//! count, offset and length is checked before use, and every loop and
//! allocation is bounded.
//!
//! - [`Volume`]: the bytes of a partition, a whole disk or a logical
//!   volume, bounds-checked, named as the guest names it (`/dev/vda2`).
//! - [`FileSystem`]: one path-based, no-follow view of any file system:
//!   `lstat`, directory listing, link targets and file content.
//! - [`open_filesystem`]: picks the reader by superblock magic.
//! - [`volumes`]: finds the volumes of a disk (partitions, the whole disk,
//!   LVM2 logical volumes) and says what it does not read and why.

pub mod btrfs;
mod error;
mod filesystem;
mod open;
pub mod path;
mod volume;
pub mod volumes;
pub mod xfs;

pub use error::FsError;
pub use filesystem::{
    DirEntry, FileKind, FileSystem, FsInfo, FsKind, FsState, Metadata, Timestamp, MAX_DIR_ENTRIES,
    MAX_LINK_LEN,
};
pub use open::open_filesystem;
pub use volume::{Piece, Volume, MAX_PIECES};
