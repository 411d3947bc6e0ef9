//! What can stop a preparation.

use std::io;

/// Why [`crate::prepare`] (or one of its passes) did not finish. The
/// variants tell a caller how to answer: a wrong invocation, an image that
/// is unfit, or a failing system.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The invocation cannot work as given: outputs that exist without
    /// `force`, an output that is the input, a malformed tag.
    #[error("{0}")]
    Usage(String),
    /// The image is unfit, with what is wrong.
    #[error("{0}")]
    BadImage(String),
    /// The image could not be read as a disk.
    #[error("{0}")]
    Disk(#[from] imsprep_disk::DiskError),
    /// The probe could not read the file.
    #[error("{0}")]
    Probe(#[from] imsprep_probe::ProbeError),
    /// A scan failed (the image changed, a read failed, cancelled).
    #[error("{0}")]
    Scan(#[from] imsprep_scan::ScanError),
    /// Reading, verifying or writing ZVHD2 failed.
    #[error("{0}")]
    Zvhd2(#[from] imsprep_zvhd2::Error),
    /// Writing the bitmap failed.
    #[error("{0}")]
    Bitmap(#[from] imsprep_scan::BitmapError),
    /// A file of the set could not be written or read.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

impl PrepareError {
    /// An [`PrepareError::Io`] while doing `context`.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        PrepareError::Io {
            context: context.into(),
            source,
        }
    }
}
