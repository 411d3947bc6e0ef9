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
//!
//! Readers:
//! - ext2/3/4 ([`ext4`]): written here, because the `ext4-view` crate
//!   exposes no inode numbers or link counts, refuses inline data and is
//!   not `Send`; the module doc lists what is read and refused. The
//!   journal is never replayed; a pending one is reported.
//! - XFS v4/v5 ([`xfs`]) and Btrfs ([`btrfs`], with subvolumes and zlib,
//!   lzo and zstd extents): written here, as no crate reads them; their
//!   module docs list what is read and refused.
//! - FAT12/16/32 with long names ([`fat`]): written here, bounded, because
//!   `fatfs` needs storage it can write and does not bound cluster-chain
//!   walks on hostile input.
//! - NTFS ([`ntfs`]): through the `ntfs` crate for MFT records,
//!   attributes and data runs; the boot sector, directory indexes, the
//!   $UpCase table and reparse points are checked or parsed here, where
//!   the crate panics or loops on hostile input.
//! - exFAT, ISO 9660 and LUKS are recognised and refused; swap and LVM2
//!   physical volumes are not file systems (`Ok(None)`).
//!
//! Volumes ([`volumes`]): MBR (primary and logical) and GPT partitions,
//! LVM2 linear and striped logical volumes whose physical volumes are all
//! on the disk. Thin, cache, RAID, mirror, snapshot and VDO volumes, LUKS
//! and BitLocker volumes and MD RAID members are listed with the reason
//! they are not read. The LVM metadata area's own checksum is not
//! checked; every value taken from the text is (extent ranges against the
//! PV, sizes against the disk).

pub mod btrfs;
mod bytes;
mod error;
pub mod ext4;
pub mod fat;
mod filesystem;
pub mod ntfs;
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
