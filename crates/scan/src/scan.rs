//! Scanning an image: which blocks hold data, and its CRC-32, in one pass.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::{Advice, Mmap, MmapOptions};
use rayon::prelude::*;

use crate::crc::Crc;
use crate::error::ScanError;
use crate::extents::{data_extents, Extent};
use crate::granularity::{validate_granularity, DEFAULT_GRANULARITY};
use crate::guard::{io_error, state_of_path, FileState, SharedLock};
use crate::map::AllocationMap;
use crate::zero::is_zero;

/// Default size of the part of the image mapped at any one time.
pub const DEFAULT_WINDOW: u64 = 64 << 20;

/// Largest mapping window accepted; larger requests are reduced to it.
const MAX_WINDOW: u64 = 1 << 30;

/// Bytes one parallel task covers (or one block, if blocks are larger).
///
/// Large enough that handing out tasks and combining their CRCs cost
/// nothing next to reading them, small enough that a 64 MiB window still
/// splits into work for every core.
const TASK_BYTES: u64 = 4 << 20;

/// How to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Block size in bytes: a power of two from 4 KiB to 32 MiB.
    pub granularity: u64,
    /// Compute the CRC-32 of the whole image. Without it a data block is
    /// read only up to its first non-zero byte.
    pub crc: bool,
    /// Bytes mapped at a time; rounded up to a power of two of at least one
    /// block and capped at 1 GiB. Resident memory stays near this size
    /// whatever the image size.
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
/// read), maps the extents a window at a time with sequential read-ahead
/// advice, and tests every block with [`is_zero`] on the global rayon pool
/// (run it inside `ThreadPool::install` to choose the threads). `progress`
/// receives the number of image bytes done after each window, from the
/// calling thread. When `cancel` is set the scan stops within one window and
/// returns [`ScanError::Cancelled`].
///
/// The image must hold still: a shared `flock` is held on `file` for the
/// scan (and released at the end, so do not hold another `flock` on the same
/// open file), taken without waiting ([`ScanError::Locked`] if a writer holds
/// an exclusive one). The size and modification time are compared at the
/// start and end, and [`ScanError::Changed`] reports any difference. A file
/// truncated by a process that ignores the lock can still kill this one with
/// `SIGBUS` while a window is mapped; see the crate documentation.
pub fn scan_open(
    file: &File,
    path: &Path,
    options: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Scan, ScanError> {
    let granularity = validate_granularity(options.granularity)?;
    let _lock = SharedLock::try_new(file, path)?;
    let before = FileState::of(file, path)?;
    let size = before.len;
    let extents = data_extents(file, size).map_err(|e| io_error(path, "find data extents", e))?;
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
        granularity,
        task_len: TASK_BYTES.max(granularity).min(window),
        crc: options.crc,
        cancel,
    };
    let mut crc = Crc::new();
    let mut stats = ScanStats::default();

    let mut start = 0u64;
    while start < size {
        if cancel.load(Ordering::Relaxed) {
            return Err(ScanError::Cancelled);
        }
        let end = start.saturating_add(window).min(size);
        let first = extents.partition_point(|e| e.end <= start);
        let last = extents.partition_point(|e| e.start < end);
        let inside = extents.get(first..last).unwrap_or_default();
        if inside.is_empty() {
            crc.zeros(end - start);
            stats.hole_bytes += end - start;
        } else {
            let mapping = map_window(file, path, start, end)?;
            let starts: Vec<u64> = task_starts(start, end, job.task_len).collect();
            // An indexed parallel iterator collects in task order, which is
            // the order the CRC pieces must be combined in.
            let results: Vec<TaskResult> = starts
                .into_par_iter()
                .map(|task_start| {
                    let task_end = task_start.saturating_add(job.task_len).min(end);
                    job.run(&mapping, start, task_start..task_end, inside)
                })
                .collect::<Option<_>>()
                .ok_or(ScanError::Cancelled)?;
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
            // Unmapping now keeps resident memory to about one window.
            drop(mapping);
        }
        progress(end);
        start = end;
    }

    let after = FileState::of(file, path)?;
    if let Some(change) = before.change_to(&after) {
        return Err(ScanError::Changed {
            path: path.to_owned(),
            change,
        });
    }
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

/// Maps bytes `start..end` of the image read-only.
fn map_window(file: &File, path: &Path, start: u64, end: u64) -> Result<Mmap, ScanError> {
    let action = || format!("map bytes {start}..{end}");
    let len = usize::try_from(end - start).map_err(|_| {
        io_error(
            path,
            &action(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "window too large"),
        )
    })?;
    // SAFETY: the mapping is read-only and lives only for this window. Its
    // contents can change under it if another process writes the file; the
    // shared lock keeps out writers that lock, and the size and time check at
    // the end turns any other write into `ScanError::Changed`. The one hazard
    // left, a truncation by a process ignoring the lock, raises SIGBUS; that
    // is documented for callers, as no safe Rust API can guard against it.
    let mapping = unsafe { MmapOptions::new().offset(start).len(len).map(file) }
        .map_err(|e| io_error(path, &action(), e))?;
    // Advice is a hint: a kernel that refuses it changes nothing but speed.
    let _ = mapping.advise(Advice::Sequential);
    Ok(mapping)
}

/// What every task of a scan shares.
struct Job<'a> {
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
    /// Scans the blocks of `task` (block-aligned, inside the window mapped at
    /// `mapping`, which starts at image offset `base`). `extents` are the
    /// data extents overlapping the window. `None` means cancelled.
    fn run(
        &self,
        mapping: &[u8],
        base: u64,
        task: std::ops::Range<u64>,
        extents: &[Extent],
    ) -> Option<TaskResult> {
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
        let mut next = extents.partition_point(|e| e.end <= task.start);
        let mut block_start = task.start;
        while block_start < task.end {
            if self.cancel.load(Ordering::Relaxed) {
                return None;
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
                // Extents are clipped to the image size and overlap this
                // window, so the piece lies inside the mapping.
                let piece = &mapping[(piece_start - base) as usize..(piece_end - base) as usize];
                let len = piece_end - piece_start;
                result.bytes_read += len;
                if self.crc {
                    if is_zero(piece) {
                        result.zero_bytes_read += len;
                        result.crc.zeros(len);
                    } else {
                        data = true;
                        result.crc.update(piece);
                    }
                } else if !data {
                    if is_zero(piece) {
                        result.zero_bytes_read += len;
                    } else {
                        data = true;
                    }
                }
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
        Some(result)
    }
}
