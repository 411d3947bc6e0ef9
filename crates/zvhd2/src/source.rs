//! Where the writer gets blocks from.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::SystemTime;

use imsprep_scan::Extent;

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

/// What tells one version of a file from another: its length and
/// modification time.
fn version_of(file: &File) -> io::Result<(u64, Option<SystemTime>)> {
    let meta = file.metadata()?;
    Ok((meta.len(), meta.modified().ok()))
}

/// A RAW disk image file. Blocks lying wholly in holes of a sparse file
/// are reported as zero without being read.
#[derive(Debug)]
pub struct RawFileSource {
    file: File,
    len: u64,
    extents: Vec<Extent>,
    /// Length and modification time when opened.
    version: (u64, Option<SystemTime>),
}

impl RawFileSource {
    /// Opens `path` read-only and lists its data extents.
    pub fn open(path: &Path) -> Result<RawFileSource, Error> {
        let file =
            File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        RawFileSource::from_file(file).map_err(|e| match e {
            Error::Io { context, source } => Error::Io {
                context: format!("{context} of {}", path.display()),
                source,
            },
            e => e,
        })
    }

    /// Wraps an open file.
    pub fn from_file(file: File) -> Result<RawFileSource, Error> {
        let version = version_of(&file).map_err(|e| Error::io("reading the size", e))?;
        let len = version.0;
        let extents = imsprep_scan::data_extents(&file, len)
            .map_err(|e| Error::io("listing data extents", e))?;
        Ok(RawFileSource {
            file,
            len,
            extents,
            version,
        })
    }

    /// Whether any data extent touches `start..end`.
    fn has_data(&self, start: u64, end: u64) -> bool {
        let i = self.extents.partition_point(|e| e.end <= start);
        self.extents.get(i).is_some_and(|e| e.start < end)
    }
}

impl BlockSource for RawFileSource {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_block(&self, index: u64, block_size: usize, buf: &mut [u8]) -> io::Result<BlockData> {
        let buf = buf.get_mut(..block_size).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "buffer shorter than a block")
        })?;
        let start = index.saturating_mul(block_size as u64);
        if start >= self.len {
            return Ok(BlockData::Zero);
        }
        let end = start.saturating_add(block_size as u64).min(self.len);
        if !self.has_data(start, end) {
            return Ok(BlockData::Zero);
        }
        let n = (end - start) as usize;
        let (head, tail) = buf.split_at_mut(n);
        self.file.read_exact_at(head, start).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(e.kind(), "the file became shorter while being read")
            } else {
                e
            }
        })?;
        tail.fill(0);
        Ok(if imsprep_scan::is_zero(head) {
            BlockData::Zero
        } else {
            BlockData::Data
        })
    }

    fn check_unchanged(&self) -> Result<(), Error> {
        let now = version_of(&self.file).map_err(|e| Error::io("reading the size", e))?;
        if now.0 != self.version.0 {
            return Err(Error::SourceChanged {
                detail: format!("its length went from {} to {} bytes", self.version.0, now.0),
            });
        }
        if now.1 != self.version.1 {
            return Err(Error::SourceChanged {
                detail: "its modification time moved".to_string(),
            });
        }
        Ok(())
    }
}
