//! Block compression and bounded decompression, with per-thread contexts.
//!
//! Contexts are reused per thread because creating a zstd context costs
//! more than compressing a small block; every payload is still one
//! independent frame (or zlib stream), as the format requires.
//!
//! zlib payloads are written by miniz_oxide at level 1, which stores a
//! block it cannot shrink, so no payload outgrows the format's bound
//! ([`crate::layout::max_payload_len`]). Reading goes through flate2,
//! whose zlib-rs backend inflates faster; zlib-rs's own level 1 (zlib-ng's
//! quick strategy) has static Huffman trees only and turned a 2 MiB block
//! of random bytes into a 2,215,936-byte record, longer than readers accept.

use std::cell::RefCell;

use flate2::{Decompress, FlushDecompress, Status};
use miniz_oxide::deflate::{self, core::CompressorOxide};
use miniz_oxide::{DataFormat, MZFlush};

use crate::footer::{METHOD_ZLIB, METHOD_ZSTD};

/// How the writer compresses blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// zstd, one frame per block (compress_method 1). The reference uses
    /// level 3, zstd's default.
    Zstd {
        /// zstd level, 1..=22 (0 means zstd's default, 3).
        level: i32,
    },
    /// zlib at deflate level 1, sync-flushed (compress_method 0), as the
    /// reference's zlib build writes it.
    Zlib,
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd { level: 3 }
    }
}

impl Compression {
    /// The footer's compress_method value.
    pub fn method(self) -> u8 {
        match self {
            Compression::Zstd { .. } => METHOD_ZSTD,
            Compression::Zlib => METHOD_ZLIB,
        }
    }
}

thread_local! {
    static ZSTD_C: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static ZSTD_D: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    static ZLIB_C: RefCell<Option<Box<CompressorOxide>>> = const { RefCell::new(None) };
    static ZLIB_D: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// Compresses one whole block into `out` (cleared first).
pub(crate) fn compress(c: Compression, src: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    match c {
        Compression::Zstd { level } => ZSTD_C.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().map_or(true, |(l, _)| *l != level) {
                let comp = zstd::bulk::Compressor::new(level).map_err(|e| e.to_string())?;
                *slot = Some((level, comp));
            }
            let (_, comp) = slot.as_mut().ok_or("no zstd context")?;
            out.reserve(zstd::zstd_safe::compress_bound(src.len()));
            comp.compress_to_buffer(src, out)
                .map_err(|e| e.to_string())?;
            Ok(())
        }),
        Compression::Zlib => ZLIB_C.with(|cell| {
            let mut slot = cell.borrow_mut();
            let comp = slot.get_or_insert_with(|| {
                let mut c = Box::<CompressorOxide>::default();
                c.set_format_and_level(DataFormat::Zlib, 1);
                c
            });
            comp.reset();
            out.reserve(src.len() + src.len() / 64 + 64);
            let mut consumed = 0usize;
            loop {
                let rest = src.get(consumed..).unwrap_or(&[]);
                let filled = out.len();
                out.resize(out.capacity(), 0);
                let r = deflate::stream::deflate(
                    comp,
                    rest,
                    out.get_mut(filled..).unwrap_or_default(),
                    MZFlush::Sync,
                );
                out.truncate(filled + r.bytes_written);
                consumed += r.bytes_consumed;
                r.status.map_err(|e| format!("deflate failed: {e:?}"))?;
                // Done when all input is in and the flush left spare room,
                // i.e. the compressor had nothing more to emit.
                if consumed == src.len() && out.len() < out.capacity() {
                    return Ok(());
                }
                out.reserve(out.len().max(4096));
            }
        }),
    }
}

/// Decompresses a payload into `dst`, which is one block long; succeeds
/// only if the payload yields exactly `dst.len()` bytes. Never writes past
/// `dst` nor allocates from sizes found in the payload.
pub(crate) fn decompress(method: u8, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    match method {
        METHOD_ZSTD => ZSTD_D.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?);
            }
            let d = slot.as_mut().ok_or("no zstd context")?;
            match d.decompress_to_buffer(src, dst) {
                Ok(n) if n == dst.len() => Ok(()),
                Ok(n) => Err(format!("inflates to {n} bytes, expected {}", dst.len())),
                Err(e) => Err(format!("does not inflate to {} bytes: {e}", dst.len())),
            }
        }),
        METHOD_ZLIB => ZLIB_D.with(|cell| {
            let mut slot = cell.borrow_mut();
            let d = slot.get_or_insert_with(|| Decompress::new(true));
            d.reset(true);
            inflate(d, src, dst)
        }),
        m => Err(format!("uses unknown compress_method {m}")),
    }
}

/// zlib inflate that accepts both finished and sync-flushed streams.
fn inflate(d: &mut Decompress, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let want = dst.len();
    let pos = |d: &Decompress| (d.total_in() as usize, d.total_out() as usize);
    let mut ended = false;
    loop {
        let (i, o) = pos(d);
        let (Some(input), Some(output)) = (src.get(i..), dst.get_mut(o..)) else {
            return Err("inflate went out of bounds".into());
        };
        let st = d
            .decompress(input, output, FlushDecompress::Sync)
            .map_err(|e| format!("is not a valid zlib stream: {e}"))?;
        let (i2, o2) = pos(d);
        if st == Status::StreamEnd {
            ended = true;
            break;
        }
        if o2 == want || (i2 == i && o2 == o) || i2 == src.len() {
            break;
        }
    }
    // Output is full: anything the rest of the input still produces is excess.
    let mut probe = [0u8; 1];
    while !ended {
        // Called even with no input left: the inflater may hold output back.
        let (i, o) = pos(d);
        let st = d
            .decompress(
                src.get(i..).unwrap_or(&[]),
                &mut probe,
                FlushDecompress::Sync,
            )
            .map_err(|e| format!("is not a valid zlib stream: {e}"))?;
        let (i2, o2) = pos(d);
        if o2 > want {
            return Err(format!("inflates to more than {want} bytes"));
        }
        if st == Status::StreamEnd {
            ended = true;
        }
        if i2 == i && o2 == o {
            break;
        }
    }
    let (i, o) = pos(d);
    if o != want {
        return Err(format!("inflates to {o} bytes, expected {want}"));
    }
    if i != src.len() {
        return Err(format!(
            "has {} bytes after the end of the zlib stream",
            src.len() - i
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i / 7 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_both_methods() {
        let src = block(1 << 20);
        for c in [
            Compression::Zstd { level: 3 },
            Compression::Zstd { level: 1 },
            Compression::Zlib,
        ] {
            let mut out = Vec::new();
            compress(c, &src, &mut out).unwrap();
            let mut back = vec![0u8; src.len()];
            decompress(c.method(), &out, &mut back).unwrap();
            assert_eq!(back, src, "{c:?}");
        }
    }

    #[test]
    fn zlib_output_is_sync_flushed_like_the_reference() {
        let mut out = Vec::new();
        compress(Compression::Zlib, &block(1 << 20), &mut out).unwrap();
        assert_eq!(&out[..2], &[0x78, 0x01]);
        assert_eq!(&out[out.len() - 4..], &[0, 0, 0xff, 0xff]);
    }

    #[test]
    fn rejects_wrong_sizes() {
        let src = block(1 << 20);
        for c in [Compression::Zstd { level: 3 }, Compression::Zlib] {
            let mut out = Vec::new();
            compress(c, &src, &mut out).unwrap();
            let mut small = vec![0u8; src.len() - 1];
            assert!(
                decompress(c.method(), &out, &mut small).is_err(),
                "{c:?} too small"
            );
            let mut big = vec![0u8; src.len() + 1];
            assert!(
                decompress(c.method(), &out, &mut big).is_err(),
                "{c:?} too big"
            );
            let mut exact = vec![0u8; src.len()];
            assert!(decompress(c.method(), &out[..out.len() / 2], &mut exact).is_err());
            let mut trailing = out.clone();
            trailing.extend_from_slice(b"junk");
            assert!(
                decompress(c.method(), &trailing, &mut exact).is_err(),
                "{c:?} trailing"
            );
            assert!(decompress(c.method(), b"", &mut exact).is_err());
        }
        let mut exact = vec![0u8; 16];
        assert!(decompress(7, b"", &mut exact).is_err());
    }

    #[test]
    fn finished_zlib_streams_are_accepted() {
        use std::io::Write;
        let src = block(1 << 20);
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&src).unwrap();
        let z = e.finish().unwrap();
        let mut back = vec![0u8; src.len()];
        decompress(METHOD_ZLIB, &z, &mut back).unwrap();
        assert_eq!(back, src);
    }
}
