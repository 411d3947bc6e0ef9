//! What can go wrong while scanning an image.

use std::fmt;
use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::granularity::GranularityError;

/// A scan that did not finish.
#[derive(Debug, Error)]
pub enum ScanError {
    /// The block size is unusable.
    #[error(transparent)]
    Granularity(#[from] GranularityError),
    /// An operation on the image failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The image.
        path: PathBuf,
        /// What was being done, e.g. "open" or "map bytes 0..67108864".
        action: String,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// The image is neither a regular file nor a block device.
    #[error("{path}: not a regular file or block device, cannot scan it")]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// Another process holds an exclusive `flock` on the image, which means
    /// it is being written; the scan does not wait for it.
    #[error("{path}: another process holds an exclusive lock on the file (it is being written); try again when it is done")]
    Locked {
        /// The image.
        path: PathBuf,
    },
    /// The image was modified, resized or replaced while it was scanned, so
    /// the map and CRC describe no version of it.
    #[error("{path} changed during the scan ({change}); scan it again once nothing writes to it")]
    Changed {
        /// The image.
        path: PathBuf,
        /// What differed between the start and the end of the scan.
        change: Change,
    },
    /// The disk could not be read: a system error, a damaged image, or an
    /// image that changed while it was read.
    #[error(transparent)]
    Disk(#[from] imsprep_disk::DiskError),
    /// The cancellation flag was set.
    #[error("scan cancelled")]
    Cancelled,
}

/// How an image differed at the end of a scan from its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The size changed.
    Size {
        /// Size in bytes when the scan started.
        before: u64,
        /// Size in bytes when it ended.
        after: u64,
    },
    /// The modification time changed (the contents were written).
    Modified {
        /// Modification time when the scan started, as (seconds, nanoseconds).
        before: (i64, i64),
        /// Modification time when it ended.
        after: (i64, i64),
    },
    /// The path now names a different file (renamed over or recreated).
    Replaced,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Size { before, after } => {
                write!(f, "size was {before} bytes, now {after}")
            }
            Change::Modified { before, after } => write!(
                f,
                "modification time was {}.{:09}, now {}.{:09}",
                before.0, before.1, after.0, after.1
            ),
            Change::Replaced => f.write_str("the path now names a different file"),
        }
    }
}
