//! Btrfs (the reader follows).
use crate::{FileSystem, FsError, Volume};
/// A Btrfs file system.
#[derive(Debug)]
pub struct Btrfs;
impl Btrfs {
    /// Not read yet.
    pub fn open(vol: Volume) -> Result<Box<dyn FileSystem>, FsError> {
        Err(FsError::unsupported(
            vol.name(),
            "btrfs",
            "Btrfs (reader not built yet)",
        ))
    }
}
