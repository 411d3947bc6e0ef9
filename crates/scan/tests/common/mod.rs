//! Helpers shared by the integration tests: building sparse files and a
//! naive reference scan.

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use imsprep_scan::{scan_file, Scan, ScanOptions};

/// One change applied to a file that starts as a single hole.
#[derive(Debug, Clone)]
pub enum Op {
    /// `len` copies of the non-zero `byte` at `start`.
    Data { start: u64, len: u64, byte: u8 },
    /// `len` explicitly written zeros at `start` (allocated, not a hole).
    Zeros { start: u64, len: u64 },
    /// One non-zero byte at the first (or last) byte of block `block`.
    Edge { block: u64, last: bool, byte: u8 },
}

/// Creates `path` as a hole of `size` bytes and applies `ops`, clipped to
/// `size` so the size never changes.
pub fn build(path: &Path, size: u64, granularity: u64, ops: &[Op]) {
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .read(true)
        .open(path)
        .unwrap();
    file.set_len(size).unwrap();
    for op in ops {
        let (start, bytes) = match *op {
            Op::Data { start, len, byte } => (start, vec![byte; len as usize]),
            Op::Zeros { start, len } => (start, vec![0; len as usize]),
            Op::Edge { block, last, byte } => {
                // The last byte of a partial final block is the file's last.
                let offset = if last {
                    ((block + 1) * granularity - 1).min(size.saturating_sub(1))
                } else {
                    block * granularity
                };
                (offset, vec![byte])
            }
        };
        if start >= size {
            continue;
        }
        let end = (start + bytes.len() as u64).min(size);
        file.write_all_at(&bytes[..(end - start) as usize], start)
            .unwrap();
    }
    file.sync_all().unwrap();
}

/// Data flags per block, found by looking at every byte.
pub fn reference_blocks(bytes: &[u8], granularity: u64) -> Vec<bool> {
    bytes
        .chunks(granularity as usize)
        .map(|block| block.iter().any(|&b| b != 0))
        .collect()
}

/// Scans `path` with the given block size and window, CRC on.
pub fn scan(path: &Path, granularity: u64, window: u64) -> Scan {
    let options = ScanOptions {
        granularity,
        window,
        ..ScanOptions::default()
    };
    scan_file(path, &options, &|_| {}, &AtomicBool::new(false)).unwrap()
}

/// Reads the whole file.
pub fn read_all(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Opens a file for appending, for tests that change an image.
pub fn open_append(path: &Path) -> File {
    OpenOptions::new().append(true).open(path).unwrap()
}
