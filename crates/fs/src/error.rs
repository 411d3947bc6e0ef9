//! What can go wrong reading a file system.

use imsprep_disk::DiskError;

use crate::filesystem::FileKind;

/// An error reading a volume or a file system on it. Every variant names
/// the volume (as the guest calls it, e.g. `/dev/vda2`); structural errors
/// also name the file system, the structure (inode N, block N, directory
/// entry ...) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// A structure that cannot be right.
    #[error("{volume}: {fs} {structure}: {problem}")]
    Malformed {
        /// The volume.
        volume: String,
        /// The file system or volume format, e.g. "ext4", "lvm2".
        fs: &'static str,
        /// The structure, e.g. "inode 12", "block 3301", "superblock field
        /// s_log_block_size", "directory entry at offset 24 of inode 2".
        structure: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A valid structure using a feature that is not read.
    #[error("{volume}: {fs} {feature} is not supported")]
    Unsupported {
        /// The volume.
        volume: String,
        /// The file system or volume format.
        fs: &'static str,
        /// The feature, e.g. "encrypted directory", "thin LV".
        feature: String,
    },
    /// No such file or directory.
    #[error("{volume}: {fs}: {} not found", show(path))]
    NotFound {
        /// The volume.
        volume: String,
        /// The file system.
        fs: &'static str,
        /// The path asked for.
        path: Vec<u8>,
    },
    /// A component of the path (or the path itself, for `read_dir`) is not
    /// a directory.
    #[error("{volume}: {fs}: {} is not a directory", show(path))]
    NotADirectory {
        /// The volume.
        volume: String,
        /// The file system.
        fs: &'static str,
        /// The path up to the component that is not a directory.
        path: Vec<u8>,
    },
    /// A component before the last one is a symbolic link; file systems
    /// never follow links themselves (the guest view resolves them).
    #[error("{volume}: {fs}: {} is a symbolic link inside the path", show(path))]
    SymlinkInPath {
        /// The volume.
        volume: String,
        /// The file system.
        fs: &'static str,
        /// The path up to and including the link.
        path: Vec<u8>,
    },
    /// The object is not of the kind the call needs (`read_link` of a file,
    /// `read_at` of a directory).
    #[error("{volume}: {fs}: {} is a {found:?}, not a {expected}", show(path))]
    WrongKind {
        /// The volume.
        volume: String,
        /// The file system.
        fs: &'static str,
        /// The path asked for.
        path: Vec<u8>,
        /// What the call needs, e.g. "symbolic link".
        expected: &'static str,
        /// What the object is.
        found: FileKind,
    },
    /// A path that is not absolute, holds a NUL or `..`, or is too long.
    #[error("{volume}: path {}: {problem}", show(path))]
    InvalidPath {
        /// The volume.
        volume: String,
        /// The path given.
        path: Vec<u8>,
        /// What is wrong with it.
        problem: String,
    },
    /// A count or size past what is read (directory entries, link length,
    /// metadata size, pieces of a volume).
    #[error("{volume}: {fs} {what}: {found} is past the limit of {limit}")]
    LimitExceeded {
        /// The volume.
        volume: String,
        /// The file system or volume format.
        fs: &'static str,
        /// What was counted, e.g. "entries of directory /usr/lib".
        what: String,
        /// The count or size found (or reached).
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// A read outside the volume.
    #[error("{volume}: a read of {len} bytes at offset {offset} ends past the {size}-byte volume")]
    OutOfRange {
        /// The volume.
        volume: String,
        /// Offset asked for, from the start of the volume.
        offset: u64,
        /// Bytes asked for.
        len: u64,
        /// Size of the volume.
        size: u64,
    },
    /// The disk under the volume could not be read.
    #[error("{volume}: {source}")]
    Io {
        /// The volume.
        volume: String,
        /// The disk's error.
        #[source]
        source: DiskError,
    },
}

impl FsError {
    /// A [`FsError::Malformed`] `structure` of `fs` on `volume`.
    pub fn malformed(
        volume: &str,
        fs: &'static str,
        structure: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        FsError::Malformed {
            volume: volume.to_owned(),
            fs,
            structure: structure.into(),
            problem: problem.into(),
        }
    }

    /// A [`FsError::Unsupported`] `feature` of `fs` on `volume`.
    pub fn unsupported(volume: &str, fs: &'static str, feature: impl Into<String>) -> Self {
        FsError::Unsupported {
            volume: volume.to_owned(),
            fs,
            feature: feature.into(),
        }
    }

    /// A [`FsError::LimitExceeded`] for `what`.
    pub fn limit(
        volume: &str,
        fs: &'static str,
        what: impl Into<String>,
        found: u64,
        limit: u64,
    ) -> Self {
        FsError::LimitExceeded {
            volume: volume.to_owned(),
            fs,
            what: what.into(),
            found,
            limit,
        }
    }

    /// A [`FsError::NotFound`] for `path`.
    pub fn not_found(volume: &str, fs: &'static str, path: &[u8]) -> Self {
        FsError::NotFound {
            volume: volume.to_owned(),
            fs,
            path: path.to_vec(),
        }
    }

    /// A [`FsError::NotADirectory`] for `path`.
    pub fn not_a_directory(volume: &str, fs: &'static str, path: &[u8]) -> Self {
        FsError::NotADirectory {
            volume: volume.to_owned(),
            fs,
            path: path.to_vec(),
        }
    }

    /// A [`FsError::WrongKind`]: `path` is a `found`, the call needs an
    /// `expected`.
    pub fn wrong_kind(
        volume: &str,
        fs: &'static str,
        path: &[u8],
        expected: &'static str,
        found: FileKind,
    ) -> Self {
        FsError::WrongKind {
            volume: volume.to_owned(),
            fs,
            path: path.to_vec(),
            expected,
            found,
        }
    }

    /// Whether the error is about the image's content (a damaged or
    /// unreadable structure, a missing path) rather than the system.
    pub fn is_bad_image(&self) -> bool {
        match self {
            FsError::Io { source, .. } => source.is_bad_image(),
            _ => true,
        }
    }
}

/// A path for a message: UTF-8 where it is, escaped bytes elsewhere.
pub(crate) fn show(path: &[u8]) -> String {
    path.utf8_chunks()
        .map(|chunk| {
            let mut s = chunk.valid().to_owned();
            for b in chunk.invalid() {
                s.push_str(&format!("\\x{b:02x}"));
            }
            s
        })
        .collect()
}
