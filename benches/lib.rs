//! Shared input generators for the imsprep benchmarks.
//!
//! Inputs are made from a fixed seed, so every run (and every machine)
//! measures the same bytes. Two kinds of content matter for speed: text-like
//! data that compresses well (most of a system disk) and random data that
//! does not (compressed archives, encrypted files).

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// One block of the default ZVHD2 and bitmap size, 2 MiB.
pub const BLOCK: usize = 2 << 20;

/// A small, fast pseudo-random generator (xorshift64*), good enough that zstd
/// finds nothing to compress in its output.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (0 is replaced by a fixed constant).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let last = self.next_u64().to_le_bytes();
        let rest = chunks.into_remainder();
        let n = rest.len();
        rest.copy_from_slice(&last[..n]);
    }
}

/// `len` bytes of incompressible data.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    Rng::new(seed).fill(&mut v);
    v
}

/// `len` bytes of text-like data: lines of words drawn from a small
/// vocabulary with numbers mixed in, which zstd level 3 shrinks about as
/// much as it shrinks the files of an operating system.
pub fn text_bytes(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "disk",
        "image",
        "block",
        "kernel",
        "module",
        "usr",
        "share",
        "lib",
        "config",
        "return",
        "value",
        "error",
        "file",
        "system",
        "boot",
        "partition",
        "import",
        "cloud",
        "static",
        "const",
        "struct",
        "include",
        "define",
        "int",
        "char",
        "void",
        "if",
        "else",
        "for",
        "while",
        "license",
        "copyright",
        "version",
        "package",
        "locale",
        "message",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let words = 4 + rng.next_u64() % 9;
        for _ in 0..words {
            let r = rng.next_u64();
            let w = WORDS[(r % WORDS.len() as u64) as usize];
            out.extend_from_slice(w.as_bytes());
            if r >> 60 == 0 {
                out.extend_from_slice(format!("{}", (r >> 20) % 100_000).as_bytes());
            }
            out.push(b' ');
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// What one 2 MiB block of a generated disk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Never written: a hole in a sparse file.
    Hole,
    /// Written, all zero bytes.
    Zero,
    /// Compressible text.
    Text,
    /// Incompressible data.
    Random,
}

/// The block pattern of a generated disk image, repeating every 16 blocks:
/// about half text, a quarter random, the rest written zeros and holes,
/// roughly the mix of a used system disk.
pub fn disk_pattern(blocks: usize) -> Vec<Kind> {
    const CYCLE: [Kind; 16] = [
        Kind::Text,
        Kind::Text,
        Kind::Random,
        Kind::Text,
        Kind::Zero,
        Kind::Text,
        Kind::Hole,
        Kind::Random,
        Kind::Text,
        Kind::Text,
        Kind::Hole,
        Kind::Random,
        Kind::Text,
        Kind::Zero,
        Kind::Random,
        Kind::Hole,
    ];
    (0..blocks).map(|i| CYCLE[i % CYCLE.len()]).collect()
}

/// Writes a sparse disk image of `blocks` 2 MiB blocks following
/// [`disk_pattern`] to `path`.
pub fn write_disk(path: &Path, blocks: usize) -> io::Result<()> {
    let file = File::create(path)?;
    file.set_len((blocks * BLOCK) as u64)?;
    let text = text_bytes(BLOCK, 1);
    let mut rng = Rng::new(2);
    let mut random = vec![0u8; BLOCK];
    let zero = vec![0u8; BLOCK];
    for (i, kind) in disk_pattern(blocks).into_iter().enumerate() {
        let at = (i * BLOCK) as u64;
        match kind {
            Kind::Hole => {}
            Kind::Zero => file.write_all_at(&zero, at)?,
            Kind::Text => {
                // Vary the text a little so blocks are not identical.
                let mut block = text.clone();
                block[..8].copy_from_slice(&(i as u64).to_le_bytes());
                file.write_all_at(&block, at)?;
            }
            Kind::Random => {
                rng.fill(&mut random);
                file.write_all_at(&random, at)?;
            }
        }
    }
    file.sync_all()
}

/// Writes `len` bytes of mostly data (text and random, no holes) to `path`.
pub fn write_dense(path: &Path, len: usize) -> io::Result<()> {
    let mut file = io::BufWriter::new(File::create(path)?);
    let text = text_bytes(BLOCK, 3);
    let mut rng = Rng::new(4);
    let mut random = vec![0u8; BLOCK];
    for i in 0..len.div_ceil(BLOCK) {
        let n = BLOCK.min(len - i * BLOCK);
        if i % 4 == 3 {
            rng.fill(&mut random);
            file.write_all(&random[..n])?;
        } else {
            file.write_all(&text[..n])?;
        }
    }
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_deterministic_and_sized() {
        assert_eq!(random_bytes(1000, 7), random_bytes(1000, 7));
        assert_ne!(random_bytes(1000, 7), random_bytes(1000, 8));
        assert_eq!(text_bytes(4097, 1).len(), 4097);
        let p = disk_pattern(32);
        assert_eq!(p.iter().filter(|k| **k == Kind::Hole).count(), 6);
    }
}
