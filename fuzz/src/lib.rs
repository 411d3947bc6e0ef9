//! Helpers shared by the fuzz targets.
//!
//! The ZVHD2 reader, the verifier and the bitmap reader open paths, so the
//! targets write each input to a file in `/dev/shm` (memory, no disk I/O),
//! one per process, and reuse it.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// The largest file [`expand_patches`] builds: enough for a ZVHD2 with a
/// few records, its 512 KiB index segment and its bitmap.
pub const MAX_PATCHED_LEN: u64 = 4 << 20;

/// A per-process scratch path with the given extension.
pub fn scratch_path(ext: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("imsprep-fuzz-{}.{ext}", std::process::id()))
}

/// Writes `bytes` as the whole content of `path`.
pub fn write_file(path: &PathBuf, bytes: &[u8]) {
    let mut f = File::create(path).expect("create scratch file");
    f.write_all(bytes).expect("write scratch file");
}

/// Builds a sparse file from a compact description, so that small inputs
/// can describe the large, mostly-zero files ZVHD2 needs (one index
/// segment alone is 512 KiB):
///
/// ```text
/// u32 LE  file length (capped at MAX_PATCHED_LEN); when its top bit is
///         set, the footer checksums at offset 0 and in the last page are
///         recomputed after patching, so mutated footer fields get past
///         the checksum and reach the checks behind it
/// then, repeated until the input ends:
///   u32 LE  offset
///   u16 LE  n
///   n bytes written at offset (clipped to the file length)
/// ```
pub fn expand_patches(path: &PathBuf, data: &[u8]) {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("open scratch file");
    let Some((len, mut rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = u32::from_le_bytes(*len);
    let seal = len & SEAL != 0;
    let len = u64::from(len & !SEAL).min(MAX_PATCHED_LEN);
    f.set_len(len).expect("size scratch file");
    while let Some((off, r)) = rest.split_first_chunk::<4>() {
        let Some((n, r)) = r.split_first_chunk::<2>() else {
            break;
        };
        let off = u64::from(u32::from_le_bytes(*off));
        let n = usize::from(u16::from_le_bytes(*n)).min(r.len());
        let (bytes, r) = r.split_at(n);
        rest = r;
        let room = usize::try_from(len.saturating_sub(off)).unwrap_or(usize::MAX);
        let bytes = &bytes[..bytes.len().min(room)];
        if !bytes.is_empty() {
            f.write_all_at(bytes, off).expect("patch scratch file");
        }
    }
    if seal {
        seal_footer(&f, 0, len);
        if len >= 4096 {
            seal_footer(&f, len - 4096, len);
        }
    }
    f.seek(SeekFrom::Start(0)).ok();
}

/// Top bit of the length field of [`expand_patches`]: seal the footers.
pub const SEAL: u32 = 1 << 31;

/// Rewrites the checksum of the 512-byte footer at `at`, if it fits.
fn seal_footer(f: &File, at: u64, len: u64) {
    if at + 512 > len {
        return;
    }
    let mut b = [0u8; 512];
    if f.read_exact_at(&mut b, at).is_err() {
        return;
    }
    b[64..68].fill(0);
    let sum = b.iter().fold(0u32, |s, &x| s.wrapping_add(u32::from(x)));
    f.write_all_at(&(!sum).to_le_bytes(), at + 64).ok();
}
