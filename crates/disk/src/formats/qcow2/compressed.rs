//! Compressed clusters: the descriptor in an L2 entry, and decompression
//! bounded to exactly one cluster of output.

use std::cell::RefCell;

use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{DParameter, Decoder, InBuffer, Operation, OutBuffer};

use super::header::Compression;

/// Compressed data is addressed in 512-byte sectors.
const SECTOR: u64 = 512;

/// Largest zstd window accepted (4 MiB): a cluster is at most 2 MiB, and
/// the window is what a zstd decoder allocates, so a frame claiming a
/// larger one is refused rather than honoured.
const ZSTD_WINDOW_LOG_MAX: u32 = 22;

/// Where a compressed cluster's data lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Descriptor {
    /// First byte of the compressed data (any alignment).
    pub host: u64,
    /// Bytes from `host` to the end of the last sector the entry names;
    /// the compressed stream ends somewhere inside them.
    pub len: u64,
}

/// Decodes the compressed cluster descriptor of an L2 entry (bit 62 set):
/// with `x = 62 - (cluster_bits - 8)`, bits 0..x are the host offset and
/// bits x..62 the number of 512-byte sectors after the first one.
pub(super) fn descriptor(entry: u64, cluster_bits: u32) -> Descriptor {
    let x = 62 - (cluster_bits - 8);
    let host = entry & ((1u64 << x) - 1);
    let more_sectors = (entry >> x) & ((1u64 << (cluster_bits - 8)) - 1);
    Descriptor {
        host,
        len: (more_sectors + 1) * SECTOR - host % SECTOR,
    }
}

/// Fills `out` (exactly one cluster) from the compressed stream in `input`.
/// The stream must produce exactly `out.len()` bytes: fewer, or more, is an
/// error naming what was found. Bytes after the stream's end are ignored
/// (the descriptor rounds the length up to whole sectors).
pub(super) fn decompress(
    compression: Compression,
    input: &[u8],
    out: &mut [u8],
) -> Result<(), String> {
    match compression {
        Compression::Zlib => inflate(input, out),
        Compression::Zstd => unzstd(input, out),
    }
}

/// Raw deflate, as QEMU writes it (`deflateInit2` with negative window
/// bits: no zlib header).
fn inflate(input: &[u8], out: &mut [u8]) -> Result<(), String> {
    INFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stream = slot.get_or_insert_with(|| Decompress::new(false));
        stream.reset(false);
        inflate_with(stream, input, out)
    })
}

thread_local! {
    /// One deflate and one zstd decoder per thread, reset for each
    /// cluster: creating a zstd context costs more than decoding a 64 KiB
    /// cluster.
    static INFLATE: RefCell<Option<Decompress>> = const { RefCell::new(None) };
    static UNZSTD: RefCell<Option<Decoder<'static>>> = const { RefCell::new(None) };
}

fn inflate_with(stream: &mut Decompress, input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut status = Status::Ok;
    // Each round consumes input or produces output, both bounded, so the
    // loop ends; a round with neither means the stream stalled.
    while (stream.total_out() as usize) < out.len() && status != Status::StreamEnd {
        let (read, written) = (stream.total_in(), stream.total_out());
        let rest_in = input.get(read as usize..).unwrap_or_default();
        let rest_out = out.get_mut(written as usize..).unwrap_or_default();
        status = stream
            .decompress(rest_in, rest_out, FlushDecompress::None)
            .map_err(|e| format!("damaged deflate data: {e}"))?;
        if stream.total_in() == read && stream.total_out() == written {
            break;
        }
    }
    let produced = stream.total_out();
    if produced != out.len() as u64 {
        return Err(format!(
            "expected {} bytes of decompressed data; the deflate stream gave {produced}",
            out.len()
        ));
    }
    if status != Status::StreamEnd {
        let rest_in = input.get(stream.total_in() as usize..).unwrap_or_default();
        let mut extra = [0u8; 1];
        let more = stream.decompress(rest_in, &mut extra, FlushDecompress::None);
        if more.is_ok() && stream.total_out() > produced {
            return Err(format!(
                "the deflate stream expands past its {}-byte cluster",
                out.len()
            ));
        }
    }
    Ok(())
}

/// One zstd frame, decoded in streaming mode (the frame is followed by
/// whatever fills its last sector).
fn unzstd(input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let damaged = |e: std::io::Error| format!("damaged zstd data: {e}");
    UNZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decoder = match slot.as_mut() {
            // A reset keeps the window limit; it drops a frame left half
            // decoded by the previous cluster.
            Some(decoder) => {
                decoder.reinit().map_err(damaged)?;
                decoder
            }
            None => {
                let mut decoder = Decoder::new().map_err(damaged)?;
                decoder
                    .set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))
                    .map_err(damaged)?;
                slot.insert(decoder)
            }
        };
        unzstd_with(decoder, input, out)
    })
}

fn unzstd_with(decoder: &mut Decoder<'static>, input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let damaged = |e: std::io::Error| format!("damaged zstd data: {e}");
    let want = out.len();
    let mut input = InBuffer::around(input);
    let mut output = OutBuffer::around(out);
    let mut frame_done = false;
    // Bounded like `inflate`: every round makes progress or the loop ends.
    while output.pos() < want {
        let (read, written) = (input.pos(), output.pos());
        let hint = decoder.run(&mut input, &mut output).map_err(damaged)?;
        if hint == 0 {
            frame_done = true;
            break;
        }
        if input.pos() == read && output.pos() == written {
            break;
        }
    }
    let produced = output.pos();
    if produced != want {
        return Err(format!(
            "expected {want} bytes of decompressed data; the zstd frame gave {produced}"
        ));
    }
    if !frame_done {
        let mut extra = [0u8; 1];
        let mut spill = OutBuffer::around(&mut extra[..]);
        if decoder.run(&mut input, &mut spill).is_ok() && spill.pos() > 0 {
            return Err(format!(
                "the zstd frame expands past its {want}-byte cluster"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn descriptor_splits_offset_and_sectors_by_cluster_bits() {
        // 64 KiB clusters: x = 54; 3 more sectors, offset 0x10_0123.
        let entry = (1u64 << 62) | (3u64 << 54) | 0x10_0123;
        let d = descriptor(entry, 16);
        assert_eq!(d.host, 0x10_0123);
        assert_eq!(d.len, 4 * 512 - 0x123);
        // 2 MiB clusters: x = 49, 13 bits of sector count.
        let entry = (0x1fffu64 << 49) | 4096;
        assert_eq!(descriptor(entry, 21).len, 0x2000 * 512);
    }

    #[test]
    fn deflate_must_give_exactly_one_cluster() {
        let cluster = vec![7u8; 4096];
        let mut out = vec![0u8; 4096];
        let mut packed = deflate(&cluster);
        packed.extend_from_slice(&[0xff; 100]);
        decompress(Compression::Zlib, &packed, &mut out).unwrap();
        assert_eq!(out, cluster);

        let short = deflate(&cluster[..100]);
        let err = decompress(Compression::Zlib, &short, &mut out).unwrap_err();
        assert!(err.contains("gave 100"), "{err}");

        let long = deflate(&vec![7u8; 8192]);
        let err = decompress(Compression::Zlib, &long, &mut out).unwrap_err();
        assert!(err.contains("expands past"), "{err}");

        assert!(decompress(Compression::Zlib, &[0xff; 64], &mut out).is_err());
    }

    #[test]
    fn zstd_must_give_exactly_one_cluster() {
        let cluster: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
        let mut out = vec![0u8; 4096];
        let mut packed = zstd::bulk::compress(&cluster, 3).unwrap();
        packed.extend_from_slice(&[0; 300]);
        decompress(Compression::Zstd, &packed, &mut out).unwrap();
        assert_eq!(out, cluster);

        let long = zstd::bulk::compress(&vec![1u8; 8192], 3).unwrap();
        let err = decompress(Compression::Zstd, &long, &mut out).unwrap_err();
        assert!(err.contains("expands past"), "{err}");

        let short = zstd::bulk::compress(&cluster[..10], 3).unwrap();
        assert!(decompress(Compression::Zstd, &short, &mut out).is_err());
        assert!(decompress(Compression::Zstd, &[0xff; 64], &mut out).is_err());
    }
}
