//! Errors of the probe. Corrupt content is reported as facts; errors are
//! only for what stops the probe from reading at all.

use std::io;
use std::path::PathBuf;

/// Why a probe could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The file could not be opened or its size read.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A read failed.
    #[error("read of {len} bytes at offset {offset} failed: {source}")]
    Read {
        /// Byte offset of the read.
        offset: u64,
        /// Length of the read.
        len: usize,
        /// The underlying error.
        source: io::Error,
    },
}
