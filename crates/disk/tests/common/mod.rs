//! What the format tests share: making images with qemu-img, and checking
//! that a [`Disk`] reads exactly what `qemu-img convert -O raw` writes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use imsprep_disk::{extents, Allocation, Disk};

/// Runs a tool and panics with its output when it fails.
pub fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `qemu-img` with `args`.
pub fn qemu_img(args: &[&str]) {
    run("qemu-img", args);
}

/// Writes `len` bytes of `pattern`-derived, poorly compressible data at
/// `offset` of `path` (created if missing), without truncating it.
pub fn write_pattern(path: &Path, offset: u64, len: usize, seed: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut buf = vec![0u8; len];
    for (i, b) in buf.iter_mut().enumerate() {
        // Half text-like (compressible), half noise, so compressed formats
        // store both kinds of cluster.
        if (i / 4096) % 2 == 0 {
            *b = b"imsprep test data "[i % 18];
        } else {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
    }
    f.write_all(&buf).unwrap();
}

/// A RAW test disk of `size` bytes with data at a few places (start, an
/// odd offset, the last bytes), holes elsewhere.
pub fn sample_raw(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join("source.raw");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    write_pattern(&path, 0, 300_000, 1);
    write_pattern(&path, size / 3 + 12_345, 1_000_000, 2);
    write_pattern(&path, size - 70_000, 70_000, 3);
    path
}

/// The bytes `qemu-img convert -O raw` reads out of `image`.
pub fn qemu_raw(image: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!(
        "{}.qemu.raw",
        image.file_name().unwrap().to_string_lossy()
    ));
    qemu_img(&[
        "convert",
        "-O",
        "raw",
        image.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

/// Asserts that `disk` reads `expected` byte for byte (in reads of odd
/// sizes crossing cluster boundaries, and whole), and that every range its
/// metadata calls zero or unallocated reads as zeros.
pub fn assert_reads(disk: &dyn Disk, expected: &[u8]) {
    assert_eq!(disk.size(), expected.len() as u64, "virtual size");
    let mut whole = vec![0u8; expected.len()];
    // In pieces of 1 MiB + 7 bytes, so reads straddle clusters and blocks.
    let step = (1 << 20) + 7;
    let mut pos = 0usize;
    while pos < whole.len() {
        let end = (pos + step).min(whole.len());
        disk.read_at(pos as u64, &mut whole[pos..end]).unwrap();
        pos = end;
    }
    if let Some(at) = whole.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("first difference at byte {at}");
    }
    for extent in extents(disk, 0, disk.size()).unwrap() {
        if extent.allocation != Allocation::Data {
            let range = extent.start as usize..extent.end as usize;
            assert!(
                expected[range.clone()].iter().all(|&b| b == 0),
                "{:?} {range:?} holds data",
                extent.allocation
            );
        }
    }
    assert!(disk
        .read_at(disk.size(), &mut [0u8; 1])
        .is_err(), "a read past the end must fail");
}
