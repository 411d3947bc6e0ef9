//! ova images (being written).

use crate::backing::Chain;
use crate::disk::Disk;
use crate::error::DiskError;
use crate::io::ReadAt;

/// Opens a ova image.
pub(crate) fn open(src: ReadAt, _chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    Err(DiskError::unsupported(src.path(), "ova", "reading", None))
}
