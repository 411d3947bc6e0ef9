//! Scanning an image: which blocks hold data, and its CRC-32, in one pass.

use std::fs::File;
use std::path::Path;

use imsprep_disk::{extents, Disk, DiskError, RawDisk};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::crc::Crc;
use crate::error::ScanError;
use crate::extents::Extent;
use crate::granularity::{validate_granularity, DEFAULT_GRANULARITY};
use crate::guard::{io_error, state_of_path, FileState, SharedLock};
use crate::map::AllocationMap;
use crate::zero::is_zero;

/// Default size of the part of the image scanned between two progress
/// reports.
pub const DEFAULT_WINDOW: u64 = 64 << 20;

/// Largest window accepted; larger requests are reduced to it.
const MAX_WINDOW: u64 = 1 << 30;

/// Bytes one parallel task covers (or one block, if blocks are larger).
///
/// Large enough that handing out tasks and combining their CRCs cost
/// nothing next to reading them, small enough that a 64 MiB window still
/// splits into work for every core.
const TASK_BYTES: u64 = 4 << 20;

/// First read of a block when no CRC is wanted (doubling after each all-zero
/// read, up to the buffer size).
const FIRST_PROBE: usize = 4096;

/// Bytes read into a thread's buffer at a time.
///
/// The kernel copies them out of the page cache into a buffer that then
/// stays in the core's L2 cache while the zero test and the CRC go over it,
/// so memory is read once. Sizes from 64 KiB to 4 MiB cost the same on the
/// benchmark machine; 256 KiB fits the smallest L2 caches of current x86
/// and ARM server cores and makes few enough system calls.
const CHUNK_BYTES: usize = 256 << 10;

/// How to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Block size in bytes: a power of two from 4 KiB to 32 MiB.
    pub granularity: u64,
    /// Compute the CRC-32 of the whole image. Without it a data block is
    /// read only up to its first non-zero byte.
    pub crc: bool,
    /// Bytes of the image scanned between progress reports, split into
    /// parallel tasks; rounded up to a power of two of at least one block
    /// and capped at 1 GiB. It does not set the memory used: the scan reads
    /// through one 256 KiB buffer per thread whatever the window.
    pub window: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            granularity: DEFAULT_GRANULARITY,
            crc: true,
            window: DEFAULT_WINDOW,
        }
    }
}

/// Byte and block counts of a finished scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Blocks in the image, the last one possibly partial.
    pub blocks: u64,
    /// Blocks holding at least one non-zero byte.
    pub data_blocks: u64,
    /// Bytes in holes: never read, known to be zero.
    pub hole_bytes: u64,
    /// Bytes in data extents that were read and found to be zero.
    pub zero_bytes_read: u64,
    /// Bytes in data extents (image size minus `hole_bytes`). Without a CRC
    /// the zero test stops at a block's first non-zero byte, so fewer may
    /// actually have been touched.
    pub bytes_read: u64,
}

/// The result of scanning an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Which blocks hold data.
    pub map: AllocationMap,
    /// CRC-32 (IEEE, as zlib and `crc32fast`) of every byte of the image,
    /// when asked for.
    pub crc32: Option<u32>,
    /// Counts.
    pub stats: ScanStats,
}

impl Scan {
    /// Size of the scanned image in bytes.
    pub fn image_size(&self) -> u64 {
        self.map.image_size()
    }
}

/// Scans the image at `path`; see [`scan_open`].
pub fn scan_file(
    path: &Path,
    options: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Scan, ScanError> {
    validate_granularity(options.granularity)?;
    let file = File::open(path).map_err(|e| io_error(path, "open", e))?;
    let scan = scan_open(&file, path, options, progress, cancel)?;
    // The open file was checked; make sure the path still names it, so the
    // result is not attached to a file that replaced it meanwhile.
    let opened = FileState::of(&file, path)?;
    let now = state_of_path(path, opened.len)?;
    if let Some(change) = opened.change_to(&now) {
        return Err(ScanError::Changed {
            path: path.to_owned(),
            change,
        });
    }
    Ok(scan)
}

/// Scans an open image; `path` is used in messages only.
///
/// Finds the data extents with `SEEK_DATA`/`SEEK_HOLE` (holes are never
/// read) and reads the extents with positioned reads, a window at a time
/// split into tasks on the global rayon pool (run it inside
/// `ThreadPool::install` to choose the threads). Each thread reads 256 KiB
/// at a time into its own buffer and runs [`is_zero`] and the CRC over it
/// while it is in cache. `progress` receives the number of image bytes done
/// after each window, from the calling thread. When `cancel` is set the scan
/// stops within one block and returns [`ScanError::Cancelled`].
///
/// The image must hold still: a shared `flock` is held on `file` for the
/// scan (and released at the end, so do not hold another `flock` on the same
/// open file), taken without waiting ([`ScanError::Locked`] if a writer holds
/// an exclusive one). The size and modification time are compared at the
/// start and end, and [`ScanError::Changed`] reports any difference, as it
/// does a read that comes up short because the file shrank meanwhile.
pub fn scan_open(
    file: &File,
    path: &Path,
    options: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Scan, ScanError> {
    validate_granularity(options.granularity)?;
    let _lock = SharedLock::try_new(file, path)?;
    let before = FileState::of(file, path)?;
    let clone = file
        .try_clone()
        .map_err(|e| io_error(path, "duplicate the file handle", e))?;
    let disk = RawDisk::from_file(clone, path)?;
    let scan = scan_disk(&disk, options, progress, cancel).map_err(|e| match e {
        ScanError::Disk(DiskError::Io { .. } | DiskError::Changed { .. })
        | ScanError::Io { .. } => changed_or(e, file, path, &before),
        e => e,
    })?;
    let after = FileState::of(file, path)?;
    if let Some(change) = before.change_to(&after) {
        return Err(ScanError::Changed {
            path: path.to_owned(),
            change,
        });
    }
    Ok(scan)
}

/// Scans any disk of the disk model: a RAW file or block device, or the
/// guest view of a qcow2, VMDK, VHD, VHDX, VDI or ZVHD2 image.
///
/// Ranges the disk's metadata records as zero or unallocated (holes of a
/// sparse file, unallocated clusters) are never read; the rest is read with
/// positioned reads, a window at a time split into tasks on the global
/// rayon pool, each thread reading 256 KiB at a time into its own buffer
/// and running [`is_zero`] and the CRC over it while it is in cache.
/// `progress` receives the number of disk bytes done after each window;
/// when `cancel` is set the scan stops within one block and returns
/// [`ScanError::Cancelled`]. At the end the disk is asked whether it
/// changed ([`imsprep_disk::Disk::check_unchanged`]).
pub fn scan_disk(
    disk: &dyn Disk,
    options: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Scan, ScanError> {
    let granularity = validate_granularity(options.granularity)?;
    let path = disk.info().path.as_path();
    let size = disk.size();
    let mut map = AllocationMap::new(granularity, size).map_err(|e| {
        io_error(
            path,
            "size the allocation map",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
        )
    })?;
    let window = options
        .window
        .clamp(granularity, MAX_WINDOW)
        .next_power_of_two();
    let job = Job {
        disk,
        granularity,
        task_len: TASK_BYTES.max(granularity).min(window),
        crc: options.crc,
        cancel,
    };
    let buffers = Buffers::new();
    let mut crc = Crc::new();
    let mut stats = ScanStats::default();

    let mut start = 0u64;
    while start < size {
        if cancel.load(Ordering::Relaxed) {
            return Err(ScanError::Cancelled);
        }
        let end = start.saturating_add(window).min(size);
        let inside: Vec<Extent> = extents(disk, start, end)?
            .into_iter()
            .filter(|e| e.allocation.is_data())
            .map(|e| e.start..e.end)
            .collect();
        if inside.is_empty() {
            crc.zeros(end - start);
            stats.hole_bytes += end - start;
        } else {
            let starts: Vec<u64> = task_starts(start, end, job.task_len).collect();
            // An indexed parallel iterator collects in task order, which is
            // the order the CRC pieces must be combined in.
            let results: Vec<TaskResult> = starts
                .into_par_iter()
                .map(|task_start| {
                    let task_end = task_start.saturating_add(job.task_len).min(end);
                    buffers.with(|buf| job.run(task_start..task_end, &inside, buf))
                })
                .collect::<Result<_, _>>()?;
            for result in results {
                for (i, &data) in result.data.iter().enumerate() {
                    if data {
                        map.set(result.first_block + i as u64, true);
                    }
                }
                crc.append(result.crc);
                stats.hole_bytes += result.hole_bytes;
                stats.zero_bytes_read += result.zero_bytes_read;
                stats.bytes_read += result.bytes_read;
            }
        }
        progress(end);
        start = end;
    }
    disk.check_unchanged()?;
    stats.blocks = map.block_count();
    stats.data_blocks = map.data_block_count();
    Ok(Scan {
        map,
        crc32: options.crc.then(|| crc.finish()),
        stats,
    })
}

/// Start offsets of the tasks covering `start..end`.
fn task_starts(start: u64, end: u64, task_len: u64) -> impl Iterator<Item = u64> {
    let count = (end - start).div_ceil(task_len);
    (0..count).map(move |i| start + i * task_len)
}

/// A read that failed because the file shrank is reported as the change it
/// is; anything else is passed on.
fn changed_or(err: ScanError, file: &File, path: &Path, before: &FileState) -> ScanError {
    if let ScanError::Io { .. } | ScanError::Disk(_) = err {
        if let Ok(now) = FileState::of(file, path) {
            if let Some(change) = before.change_to(&now) {
                return ScanError::Changed {
                    path: path.to_owned(),
                    change,
                };
            }
        }
    }
    err
}

/// What every task of a scan shares.
struct Job<'a> {
    disk: &'a dyn Disk,
    granularity: u64,
    task_len: u64,
    crc: bool,
    cancel: &'a AtomicBool,
}

/// What one task found, for blocks `first_block..first_block + data.len()`.
struct TaskResult {
    first_block: u64,
    data: Vec<bool>,
    crc: Crc,
    hole_bytes: u64,
    zero_bytes_read: u64,
    bytes_read: u64,
}

impl Job<'_> {
    /// Scans the blocks of `task` (block-aligned), reading through `buf`.
    /// `extents` are the data extents overlapping the window holding it.
    fn run(
        &self,
        task: std::ops::Range<u64>,
        extents: &[Extent],
        buf: &mut [u8],
    ) -> Result<TaskResult, ScanError> {
        let g = self.granularity;
        let mut result = TaskResult {
            first_block: task.start / g,
            data: Vec::with_capacity(
                usize::try_from((task.end - task.start).div_ceil(g)).unwrap_or(0),
            ),
            crc: Crc::new(),
            hole_bytes: 0,
            zero_bytes_read: 0,
            bytes_read: 0,
        };
        let mut reader = Reader::new(buf);
        let mut next = extents.partition_point(|e| e.end <= task.start);
        let mut block_start = task.start;
        while block_start < task.end {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(ScanError::Cancelled);
            }
            let block_end = block_start.saturating_add(g).min(task.end);
            let mut data = false;
            let mut pos = block_start;
            while let Some(extent) = extents.get(next).filter(|e| e.start < block_end) {
                let piece_start = extent.start.max(block_start);
                let piece_end = extent.end.min(block_end);
                if piece_start > pos {
                    result.crc.zeros(piece_start - pos);
                    result.hole_bytes += piece_start - pos;
                }
                result.bytes_read += piece_end - piece_start;
                let limit = extent.end.min(task.end);
                self.read_piece(
                    piece_start..piece_end,
                    limit,
                    &mut reader,
                    &mut data,
                    &mut result,
                )?;
                pos = piece_end;
                if extent.end > block_end {
                    break;
                }
                next += 1;
            }
            if block_end > pos {
                result.crc.zeros(block_end - pos);
                result.hole_bytes += block_end - pos;
            }
            result.data.push(data);
            block_start = block_end;
        }
        Ok(result)
    }

    /// Reads the bytes `piece` of one block a buffer at a time; each buffer
    /// is zero-tested and hashed while it is still in cache. `data` is set
    /// once a non-zero byte is seen; without a CRC nothing after that point
    /// is read. `limit` is where the extent holding the piece, or the task,
    /// ends.
    fn read_piece(
        &self,
        piece: std::ops::Range<u64>,
        limit: u64,
        reader: &mut Reader<'_>,
        data: &mut bool,
        result: &mut TaskResult,
    ) -> Result<(), ScanError> {
        // Without a CRC most data blocks show a non-zero byte in their first
        // page, so reads start small and grow only while all is zero.
        let mut want = if self.crc { CHUNK_BYTES } else { FIRST_PROBE };
        let mut pos = piece.start;
        while pos < piece.end {
            if *data && !self.crc {
                return Ok(());
            }
            let len = (piece.end - pos).min(want as u64) as usize;
            // With a CRC, or blocks no larger than the first probe, every
            // byte of the extent is read anyway, so each read fills the
            // buffer as far as the extent and the task go and serves the
            // blocks that follow too: blocks of 4 KiB then cost one system
            // call per 256 KiB, not one each.
            let ahead = if self.crc || self.granularity <= FIRST_PROBE as u64 {
                limit
            } else {
                pos + len as u64
            };
            let chunk = reader.get(self, pos, len, ahead)?;
            let got = chunk.len() as u64;
            if is_zero(chunk) {
                result.zero_bytes_read += got;
                result.crc.zeros(got);
            } else {
                *data = true;
                if self.crc {
                    result.crc.update(chunk);
                }
            }
            pos += got;
            want = want.saturating_mul(2);
        }
        Ok(())
    }
}

/// A task's read buffer and which bytes of the image it holds.
struct Reader<'b> {
    buf: &'b mut [u8],
    /// Image offset of `buf[0]`.
    start: u64,
    /// Bytes of `buf` that hold image data.
    filled: usize,
}

impl<'b> Reader<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            start: 0,
            filled: 0,
        }
    }

    /// Up to `len` bytes of the image from `pos` (never empty when `len` is
    /// not): from the buffer if it holds `pos`, else read anew, as far as
    /// `ahead` when the buffer has room.
    fn get(&mut self, job: &Job<'_>, pos: u64, len: usize, ahead: u64) -> Result<&[u8], ScanError> {
        let end = self.start + self.filled as u64;
        if pos < self.start || pos >= end {
            let n = (ahead.max(pos + len as u64) - pos).min(self.buf.len() as u64) as usize;
            let dst = self.buf.get_mut(..n).unwrap_or_default();
            job.disk.read_at(pos, dst)?;
            self.start = pos;
            self.filled = n;
        }
        let offset = (pos - self.start) as usize;
        let n = len.min(self.filled - offset);
        Ok(self.buf.get(offset..offset + n).unwrap_or_default())
    }
}

/// One read buffer per thread of the pool running the scan, allocated on
/// first use and reused by every task that thread runs.
struct Buffers {
    slots: Vec<Mutex<Vec<u8>>>,
}

/// Alignment of the read buffers. The kernel copies into a buffer whose
/// start is not a multiple of the cache line markedly slower (on the AMD
/// EPYC benchmark machine, `bitmap` of a fully allocated image took 15%
/// more CPU with the allocator's 16-byte alignment); a page is what `cat`
/// uses too.
const BUFFER_ALIGN: usize = 4096;

impl Buffers {
    fn new() -> Self {
        Self {
            slots: (0..rayon::current_num_threads())
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
        }
    }

    /// Runs `f` with the calling thread's buffer (a fresh one if the thread
    /// is not one of the pool's, which rayon does not do).
    fn with<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let slot = rayon::current_thread_index()
            .and_then(|i| self.slots.get(i))
            .and_then(|slot| slot.try_lock().ok());
        match slot {
            Some(mut buf) => {
                if buf.is_empty() {
                    buf.resize(CHUNK_BYTES + BUFFER_ALIGN, 0);
                }
                f(aligned(&mut buf))
            }
            None => f(aligned(&mut vec![0; CHUNK_BYTES + BUFFER_ALIGN])),
        }
    }
}

/// The `CHUNK_BYTES` of `buf` (which holds `BUFFER_ALIGN` more) that start on
/// a `BUFFER_ALIGN` boundary.
fn aligned(buf: &mut [u8]) -> &mut [u8] {
    let start = buf.as_ptr().align_offset(BUFFER_ALIGN).min(BUFFER_ALIGN);
    let end = (start + CHUNK_BYTES).min(buf.len());
    buf.get_mut(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    const MIB: u64 = 1 << 20;

    fn image(len: u64, byte: u8) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&vec![byte; len as usize]).unwrap();
        file.flush().unwrap();
        file
    }

    fn options() -> ScanOptions {
        ScanOptions {
            granularity: 64 << 10,
            crc: true,
            window: MIB,
        }
    }

    #[test]
    fn a_file_shrunk_during_the_scan_is_reported_not_fatal() {
        let file = image(8 * MIB, 5);
        let shrink = |done: u64| {
            if done == 2 * MIB {
                file.as_file().set_len(3 * MIB).unwrap();
            }
        };
        let err = scan_file(file.path(), &options(), &shrink, &AtomicBool::new(false)).unwrap_err();
        let ScanError::Changed { change, .. } = err else {
            panic!("expected Changed, got {err}");
        };
        assert_eq!(
            change,
            crate::Change::Size {
                before: 8 * MIB,
                after: 3 * MIB
            }
        );
    }

    #[test]
    fn read_buffers_are_aligned_and_full_size() {
        let buffers = Buffers::new();
        for _ in 0..2 {
            buffers.with(|buf| {
                assert_eq!(buf.len(), CHUNK_BYTES);
                assert_eq!(buf.as_ptr() as usize % BUFFER_ALIGN, 0);
            });
        }
    }

    #[test]
    fn small_blocks_served_from_one_read_match_the_bytes() {
        // 4 KiB blocks, so one read covers many; holes end extents at odd
        // places and data sits on both sides of a buffer's end.
        let file = tempfile::NamedTempFile::new().unwrap();
        let len = CHUNK_BYTES as u64 * 3 + 5 * 4096;
        file.as_file().set_len(len).unwrap();
        let pages = [0u64, 3, 60, 63, 64, 65, 100, 130, 200, 201, 250];
        for &page in &pages {
            let at = page * 4096 + if page % 2 == 0 { 0 } else { 4095 };
            file.as_file().write_all_at(&[page as u8 | 1], at).unwrap();
        }
        // A run of written zeros in the middle of the data.
        file.as_file()
            .write_all_at(&vec![0; 20 * 4096], 140 * 4096)
            .unwrap();
        let bytes = std::fs::read(file.path()).unwrap();
        for crc in [true, false] {
            let options = ScanOptions {
                granularity: 4096,
                crc,
                window: 1 << 20,
            };
            let scan = scan_file(file.path(), &options, &|_| {}, &AtomicBool::new(false)).unwrap();
            for block in 0..len.div_ceil(4096) {
                assert_eq!(
                    scan.map.is_data(block),
                    pages.contains(&block),
                    "block {block}, crc {crc}"
                );
            }
            assert_eq!(scan.crc32, crc.then(|| crc32fast::hash(&bytes)));
        }
    }

    #[test]
    fn blocks_larger_than_the_read_buffer_are_read_whole() {
        let mut file = image(3 * MIB, 0);
        // One non-zero byte in the last buffer of the second 2 MiB block.
        file.as_file_mut()
            .write_all_at(&[9], 2 * MIB + MIB - 1)
            .unwrap();
        let bytes = std::fs::read(file.path()).unwrap();
        for crc in [true, false] {
            let options = ScanOptions {
                granularity: 2 * MIB,
                crc,
                window: 4 * MIB,
            };
            let scan = scan_file(file.path(), &options, &|_| {}, &AtomicBool::new(false)).unwrap();
            let data: Vec<bool> = (0..2).map(|b| scan.map.is_data(b)).collect();
            assert_eq!(data, [false, true], "crc {crc}");
            assert_eq!(scan.crc32, crc.then(|| crc32fast::hash(&bytes)));
        }
    }
}
