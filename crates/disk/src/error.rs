//! What can go wrong reading a disk image.

use std::io;
use std::path::{Path, PathBuf};

/// An error reading a disk image. Every variant names the file; structural
/// errors also name the structure, its offset in the file and what was
/// expected.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The operating system refused a read, or the file ended early.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. "reading 512 bytes at offset 4096".
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A header field or table entry that cannot be right.
    #[error("{}: {format} {structure} at offset {offset}: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format, e.g. "qcow2".
        format: &'static str,
        /// The structure or field, e.g. "header field l1_size".
        structure: String,
        /// Byte offset of the structure in the file.
        offset: u64,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A structural fault reported by a format's own reader, whose message
    /// already names the structure and offset (the ZVHD2 reader's).
    #[error("{}: {format}: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The format.
        format: &'static str,
        /// The reader's message.
        detail: String,
    },
    /// A valid image using a feature imsprep does not read.
    #[error("{}: {format} {feature} is not supported{}", path.display(), fix.as_ref().map(|f| format!("; {f}")).unwrap_or_default())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The format.
        format: &'static str,
        /// The feature, e.g. "encryption (AES)".
        feature: String,
        /// How to get an image imsprep can read, when there is a way.
        fix: Option<String>,
    },
    /// A backing (parent) file that cannot be followed.
    #[error("{}: backing file {name:?}: {problem}", path.display())]
    Backing {
        /// The image that names the backing file.
        path: PathBuf,
        /// The exact name it asked for.
        name: String,
        /// Why it is not followed.
        problem: String,
    },
    /// The image changed while it was read.
    #[error("{}: the image changed while it was read: {detail}", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// What changed.
        detail: String,
    },
    /// A read outside the virtual disk.
    #[error("{}: a read of {len} bytes at offset {offset} ends past the {size}-byte disk", path.display())]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Offset asked for.
        offset: u64,
        /// Bytes asked for.
        len: u64,
        /// Size of the virtual disk.
        size: u64,
    },
}

impl DiskError {
    /// A [`DiskError::Malformed`] for `format`'s `structure` at `offset`.
    pub fn malformed(
        path: &Path,
        format: &'static str,
        structure: impl Into<String>,
        offset: u64,
        problem: impl Into<String>,
    ) -> Self {
        DiskError::Malformed {
            path: path.to_owned(),
            format,
            structure: structure.into(),
            offset,
            problem: problem.into(),
        }
    }

    /// A [`DiskError::Unsupported`] feature of `format`.
    pub fn unsupported(
        path: &Path,
        format: &'static str,
        feature: impl Into<String>,
        fix: Option<String>,
    ) -> Self {
        DiskError::Unsupported {
            path: path.to_owned(),
            format,
            feature: feature.into(),
            fix,
        }
    }

    /// A [`DiskError::Io`] while doing `action` on `path`.
    pub fn io(path: &Path, action: impl Into<String>, source: io::Error) -> Self {
        DiskError::Io {
            path: path.to_owned(),
            action: action.into(),
            source,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DiskError::Io { path, .. }
            | DiskError::Malformed { path, .. }
            | DiskError::Invalid { path, .. }
            | DiskError::Unsupported { path, .. }
            | DiskError::Backing { path, .. }
            | DiskError::Changed { path, .. }
            | DiskError::OutOfRange { path, .. } => path,
        }
    }

    /// Whether the error is about the image's content (exit 1 in the CLI)
    /// rather than the system (an I/O failure, exit 3).
    pub fn is_bad_image(&self) -> bool {
        match self {
            DiskError::Io { source, .. } => source.kind() == io::ErrorKind::UnexpectedEof,
            DiskError::Changed { .. } | DiskError::OutOfRange { .. } => false,
            _ => true,
        }
    }
}
