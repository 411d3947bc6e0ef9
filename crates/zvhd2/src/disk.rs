//! A ZVHD2 file as a [`Disk`] of the disk model: the virtual disk of
//! `curr_size` bytes that the service creates from it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use imsprep_disk::{check_range, Allocation, Disk, DiskError, DiskInfo, Extent};

use crate::error::Error;
use crate::reader::Reader;

/// Decoded blocks kept for reads smaller than a block (partition tables,
/// file-system metadata), which cluster in a few blocks; each decode costs
/// a whole block's decompression.
const CACHED_BLOCKS: usize = 4;

/// Most blocks one [`Disk::extent_at`] answer covers, so an answer costs a
/// bounded walk of the bitmap.
const MAX_RUN_BLOCKS: u64 = 1 << 16;

/// A ZVHD2 image read as its virtual disk.
#[derive(Debug)]
pub struct Zvhd2Disk {
    reader: Reader,
    info: DiskInfo,
    cache: Mutex<Vec<(u32, Arc<Vec<u8>>)>>,
}

impl Zvhd2Disk {
    /// Opens the ZVHD2 file at `path` (see [`Reader::open`]).
    pub fn open(path: &Path) -> Result<Self, DiskError> {
        let reader = Reader::open(path).map_err(|e| to_disk_error(path, e))?;
        Ok(Zvhd2Disk::new(reader, path))
    }

    /// Wraps an opened reader; `path` is for messages.
    pub fn new(reader: Reader, path: &Path) -> Self {
        let info = DiskInfo {
            format: "zvhd2",
            variant: String::new(),
            path: path.to_owned(),
            size: reader.footer().curr_size,
            backing: Vec::new(),
        };
        Zvhd2Disk {
            reader,
            info,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// The reader inside.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    fn block_size(&self) -> u64 {
        u64::from(self.reader.footer().block_size)
    }

    /// Block `n`, decoded, from the cache or the file.
    fn cached_block(&self, n: u32) -> Result<Arc<Vec<u8>>, DiskError> {
        let lock = || self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, b)) = lock().iter().find(|(k, _)| *k == n) {
            return Ok(Arc::clone(b));
        }
        let mut block = vec![0u8; self.block_size() as usize];
        self.reader
            .read_block(n, &mut block)
            .map_err(|e| to_disk_error(&self.info.path, e))?;
        let block = Arc::new(block);
        let mut cache = lock();
        if cache.len() >= CACHED_BLOCKS {
            cache.remove(0);
        }
        cache.push((n, Arc::clone(&block)));
        Ok(block)
    }
}

/// A reader error as a disk error: structural faults are the image's,
/// the rest the system's.
pub(crate) fn to_disk_error(path: &Path, e: Error) -> DiskError {
    match e {
        Error::Io { context, source } => DiskError::io(path, context, source),
        other => DiskError::Invalid {
            path: PathBuf::from(path),
            format: "zvhd2",
            detail: other.to_string(),
        },
    }
}

impl Disk for Zvhd2Disk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        let bs = self.block_size();
        let orig = self.reader.footer().orig_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let within = (pos % bs) as usize;
            let take = (bs as usize - within).min(buf.len() - done);
            let out = &mut buf[done..done + take];
            let block = pos / bs;
            if pos >= orig || !self.reader.is_block_present(block as u32) {
                out.fill(0);
            } else if take as u64 == bs {
                self.reader
                    .read_block(block as u32, out)
                    .map_err(|e| to_disk_error(&self.info.path, e))?;
            } else {
                let data = self.cached_block(block as u32)?;
                out.copy_from_slice(&data[within..within + take]);
            }
            // Bytes past orig_size read as zeros, as the service's disk.
            let valid = orig.saturating_sub(pos);
            if (take as u64) > valid {
                out[valid as usize..].fill(0);
            }
            done += take;
        }
        Ok(())
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        let size = self.info.size;
        if offset >= size {
            return Err(DiskError::OutOfRange {
                path: self.info.path.clone(),
                offset,
                len: 1,
                size,
            });
        }
        let orig = self.reader.footer().orig_size.min(size);
        if offset >= orig {
            return Ok(Extent {
                start: offset,
                end: size,
                allocation: Allocation::Unallocated,
            });
        }
        let bs = self.block_size();
        let first = offset / bs;
        let present = self.reader.is_block_present(first as u32);
        let last_block = orig.div_ceil(bs);
        let mut next = first + 1;
        while next < last_block
            && next - first < MAX_RUN_BLOCKS
            && self.reader.is_block_present(next as u32) == present
        {
            next += 1;
        }
        Ok(Extent {
            start: offset,
            end: next.saturating_mul(bs).min(orig),
            allocation: if present {
                Allocation::Data
            } else {
                Allocation::Unallocated
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_maps_a_reference_vector_like_the_reader() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/zvhd2");
        let path = dir.join("mixed.zvhd2");
        let disk = Zvhd2Disk::open(&path).unwrap();
        let raw = std::fs::read(dir.join("mixed.raw")).unwrap();
        let mut all = vec![0u8; disk.size() as usize];
        // Odd-sized reads so partial blocks go through the cache.
        for (i, chunk) in all.chunks_mut(100_003).enumerate() {
            disk.read_at(i as u64 * 100_003, chunk).unwrap();
        }
        assert_eq!(&all[..raw.len()], &raw[..]);
        assert!(all[raw.len()..].iter().all(|&b| b == 0));
        for e in imsprep_disk::extents(&disk, 0, disk.size()).unwrap() {
            if !e.allocation.is_data() {
                assert!(all[e.start as usize..e.end as usize]
                    .iter()
                    .all(|&b| b == 0));
            }
        }
    }
}
