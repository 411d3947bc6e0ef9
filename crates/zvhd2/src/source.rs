//! Where the writer gets blocks from.

use std::io;

use imsprep_disk::{extents, Disk, DiskError};

use crate::error::Error;

/// What [`BlockSource::read_block`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockData {
    /// Every byte of the block is zero; the buffer's content is unspecified.
    Zero,
    /// The buffer holds the block, zero-filled past the end of the source.
    Data,
}

/// A virtual disk the writer can read block by block, from many threads.
pub trait BlockSource: Sync {
    /// Size of the disk in bytes.
    fn size(&self) -> u64;

    /// Reads block `index` (bytes `index * block_size ..`) into `buf`, which
    /// is `block_size` bytes long, or says it is all zeros. The last block
    /// is zero-filled past [`BlockSource::size`].
    fn read_block(&self, index: u64, block_size: usize, buf: &mut [u8]) -> io::Result<BlockData>;

    /// Called once every block was read, before the output is kept: an
    /// error if the source changed meanwhile. Sources that cannot change
    /// keep the default.
    fn check_unchanged(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Any virtual disk of the disk model (a RAW file or block device, a
/// qcow2, VMDK, VHD, VHDX or VDI image, another ZVHD2): blocks its metadata
/// records as empty are reported as zero without being read, the rest are
/// read and zero-tested.
#[derive(Debug)]
pub struct DiskSource<'a> {
    disk: &'a dyn Disk,
}

impl<'a> DiskSource<'a> {
    /// Reads blocks of `disk`.
    pub fn new(disk: &'a dyn Disk) -> Self {
        DiskSource { disk }
    }
}

impl BlockSource for DiskSource<'_> {
    fn size(&self) -> u64 {
        self.disk.size()
    }

    fn read_block(&self, index: u64, block_size: usize, buf: &mut [u8]) -> io::Result<BlockData> {
        let buf = buf.get_mut(..block_size).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "buffer shorter than a block")
        })?;
        let size = self.disk.size();
        let start = index.saturating_mul(block_size as u64);
        if start >= size {
            return Ok(BlockData::Zero);
        }
        let end = start.saturating_add(block_size as u64).min(size);
        let runs = extents(self.disk, start, end).map_err(disk_to_io)?;
        if !runs.iter().any(|e| e.allocation.is_data()) {
            return Ok(BlockData::Zero);
        }
        let n = (end - start) as usize;
        let (head, tail) = buf.split_at_mut(n);
        self.disk.read_at(start, head).map_err(disk_to_io)?;
        tail.fill(0);
        Ok(if imsprep_scan::is_zero(head) {
            BlockData::Zero
        } else {
            BlockData::Data
        })
    }

    fn check_unchanged(&self) -> Result<(), Error> {
        self.disk.check_unchanged().map_err(|e| match e {
            DiskError::Changed { detail, .. } => Error::SourceChanged { detail },
            other => Error::io("checking the source", disk_to_io(other)),
        })
    }
}

/// A disk error as the I/O error a [`BlockSource`] returns; a file cut
/// short stays `UnexpectedEof`, so the writer asks whether it changed.
fn disk_to_io(e: DiskError) -> io::Error {
    match e {
        DiskError::Io { ref source, .. } if source.kind() == io::ErrorKind::UnexpectedEof => {
            io::Error::new(io::ErrorKind::UnexpectedEof, e)
        }
        other => io::Error::other(other),
    }
}
