//! The one read-only, path-based view every file-system reader gives.

use std::fmt;

use crate::error::FsError;

/// `read_dir` refuses directories with more entries than this.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;

/// `read_link` refuses link targets longer than this (NTFS reparse data
/// is at most 16 KiB; Linux targets at most 4 KiB).
pub const MAX_LINK_LEN: usize = 16 * 1024;

/// Which file system a reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FsKind {
    /// ext2 (no journal).
    Ext2,
    /// ext3 (journal, no ext4 features).
    Ext3,
    /// ext4.
    Ext4,
    /// XFS.
    Xfs,
    /// Btrfs.
    Btrfs,
    /// FAT12.
    Fat12,
    /// FAT16.
    Fat16,
    /// FAT32.
    Fat32,
    /// NTFS.
    Ntfs,
}

impl FsKind {
    /// The name the guest's fstab uses for the type (`ext4`, `vfat`,
    /// `ntfs`, ...).
    pub fn fstab_type(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Fat12 | FsKind::Fat16 | FsKind::Fat32 => "vfat",
            FsKind::Ntfs => "ntfs",
        }
    }

    /// A short name for messages (`ext4`, `fat32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Fat12 => "fat12",
            FsKind::Fat16 => "fat16",
            FsKind::Fat32 => "fat32",
            FsKind::Ntfs => "ntfs",
        }
    }
}

impl fmt::Display for FsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A state of the file system that a guest or a converter must know of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsState {
    /// Not cleanly unmounted (ext state "not clean", FAT dirty bit, NTFS
    /// dirty flag, XFS/Btrfs log not clean).
    Dirty,
    /// The journal holds transactions not yet applied (ext4
    /// needs_recovery, XFS dirty log): what is read may be older than
    /// what the guest will see after replay. Never replayed here.
    NeedsRecovery,
    /// The file system recorded errors (ext state "errors").
    Errors,
    /// Windows hibernated (or fast-started) with this volume mounted:
    /// writing it loses the hibernated session's data.
    Hibernated,
    /// Anything else worth telling, in words.
    Other(String),
}

/// What a reader says about the file system it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsInfo {
    /// Which file system.
    pub kind: FsKind,
    /// The volume label, if set.
    pub label: Option<String>,
    /// The UUID (or serial) as the guest writes it in fstab: ext/XFS/Btrfs
    /// lowercase `8-4-4-4-12`; FAT `XXXX-XXXX`; NTFS 16 uppercase hex
    /// digits.
    pub uuid: Option<String>,
    /// Size of the file system in bytes, as its superblock says.
    pub size: u64,
    /// Block (or cluster) size in bytes.
    pub block_size: u32,
    /// States to know of; empty when clean.
    pub state: Vec<FsState>,
}

/// The kind of a file-system object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (an NTFS symbolic link or mount point too).
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// Anything else (an NTFS reparse point of another kind).
    Other,
}

/// A point in time: seconds since 1970-01-01 UTC and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch (negative before it).
    pub secs: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nanos: u32,
}

/// What `lstat` says about one object: the object itself, never what a
/// link points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The kind.
    pub kind: FileKind,
    /// Permission bits (`0o7777`: setuid, setgid, sticky, rwx); file
    /// systems without them give what Linux shows by default.
    pub mode: u32,
    /// Owner (0 where the file system has none).
    pub uid: u32,
    /// Group (0 where the file system has none).
    pub gid: u32,
    /// Size in bytes (of a link: the target's length).
    pub size: u64,
    /// Last modification.
    pub mtime: Timestamp,
    /// Number of hard links (1 where the file system does not count).
    pub nlink: u64,
    /// The inode number (or MFT record, or FAT directory entry position):
    /// equal for hard links of one file.
    pub inode: u64,
    /// What a reader wants said of the object, e.g. the kind of an NTFS
    /// reparse point it does not follow.
    pub note: Option<String>,
}

/// One entry of a directory (never `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The name, as stored (UTF-8 for FAT long names and NTFS).
    pub name: Vec<u8>,
    /// The kind, as the entry or its inode says.
    pub kind: FileKind,
    /// The inode number the entry names.
    pub inode: u64,
}

/// A read-only file system inside a volume.
///
/// Paths are absolute byte strings (`/etc/fstab`), split on `/`; empty and
/// `.` components are skipped, `..` is refused. Lookups never follow a
/// symbolic link: a link before the last component is
/// [`FsError::SymlinkInPath`], and the last component is the link itself
/// (`lstat`). Resolving links across mounts inside the guest's root is the
/// guest view's work, above this trait.
///
/// Readers are shared between threads; every call takes `&self`.
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// What the superblock says.
    fn info(&self) -> &FsInfo;

    /// The object at `path` itself (`lstat`).
    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError>;

    /// The entries of the directory at `path`, without `.` and `..`, in the
    /// file system's order. More than [`MAX_DIR_ENTRIES`] is
    /// [`FsError::LimitExceeded`].
    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError>;

    /// The target of the symbolic link at `path`, at most
    /// [`MAX_LINK_LEN`] bytes.
    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError>;

    /// Reads the regular file at `path` from `offset` into `buf`; returns
    /// the bytes read, fewer than `buf.len()` only at the end of the file
    /// (0 at or past it). Sparse regions read as zeros.
    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError>;

    /// The first `limit` bytes of the regular file at `path` (all of it
    /// when it is shorter). Compare with [`Metadata::size`] to tell whether
    /// it was cut.
    fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, FsError> {
        let size = self.metadata(path)?.size;
        let want = usize::try_from(size.min(limit)).unwrap_or(usize::MAX);
        // Grow as bytes arrive, so a lying size allocates no more than is
        // really read (plus one chunk).
        const CHUNK: usize = 1 << 20;
        let mut out = Vec::new();
        while out.len() < want {
            let start = out.len();
            let step = (want - start).min(CHUNK);
            out.resize(start + step, 0);
            let got = self.read_at(path, start as u64, &mut out[start..])?;
            out.truncate(start + got);
            if got == 0 {
                break;
            }
        }
        Ok(out)
    }
}
