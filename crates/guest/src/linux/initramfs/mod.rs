//! LX-INITRD-PARSE: list the files of an initramfs.
//!
//! An initramfs is what the kernel's buffer grammar allows: NUL padding,
//! uncompressed newc cpio archives (typically the early microcode archive)
//! and compressed cpio streams, concatenated. [`list`] walks the members in
//! order, identifies each by its magic, streams it through the decompressor
//! into a push-based cpio reader ([`cpio::CpioSink`]) and continues after
//! the bytes the decompressor consumed, so several members of any kind are
//! read. The decompressed stream is never held: only entry names, sizes and
//! the few small files asked for are kept, and the whole listing is bounded
//! by [`Limits`] (entries, name length, total decompressed bytes). What
//! cannot be read (lzop, squashfs, an ext2 ramdisk, a PE image, damage, a
//! limit reached) ends the listing with a reason in
//! [`InitrdListing::incomplete`]; entries before it are kept.
//!
//! Decompressors, all pure Rust or already in the workspace, Apache-2.0/MIT
//! compatible:
//! - gzip: `flate2` (miniz_oxide backend), already used by the workspace.
//! - zstd: `zstd` (libzstd bindings), already used by the workspace; one
//!   frame at a time, window limited to 128 MiB.
//! - xz and LZMA-alone: `lzma-rs`, pure Rust, one crate for both formats
//!   the kernel accepts (xz with CRC32 as `xz --check=crc32` writes, and the
//!   legacy `.lzma` header); a 64 MiB memory limit for LZMA dictionaries.
//! - bzip2: `bzip2` 0.6, whose default backend is the pure-Rust
//!   `libbz2-rs-sys`.
//! - lz4: `lz4_flex` (safe decoding) for frames and for the blocks of the
//!   kernel's legacy format, whose framing is read in `lz4_legacy`.
//!
//! Every decompressor reads through a `BufRead` over the member's bytes and
//! consumes only its own stream, which gives the next member's offset.
use std::collections::BTreeMap;

/// Compression of one initramfs member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// An uncompressed cpio archive.
    None,
    /// gzip.
    Gzip,
    /// xz.
    Xz,
    /// LZMA alone (`.lzma`).
    Lzma,
    /// bzip2.
    Bzip2,
    /// LZ4 legacy format (what the kernel's `lz4 -l` reads).
    Lz4Legacy,
    /// LZ4 frame format.
    Lz4Frame,
    /// zstd.
    Zstd,
}

/// One file in the initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdEntry {
    /// Normalised name (no leading `./` or `/`).
    pub name: String,
    /// cpio mode (file type and permissions).
    pub mode: u32,
    /// Data size.
    pub size: u64,
}

/// One archive member of the initramfs (a cpio, possibly compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdMember {
    /// Byte offset in the initramfs file.
    pub offset: u64,
    /// Its compression.
    pub compression: Compression,
    /// Entries in it (including directories).
    pub entries: usize,
}

/// What an initramfs contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitrdListing {
    /// Archive members in file order.
    pub members: Vec<InitrdMember>,
    /// Every entry, in archive order.
    pub entries: Vec<InitrdEntry>,
    /// Small files read on request: normalised name → contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Why the listing stopped early (limit hit, damaged member, unknown
    /// format); the entries before it are still listed.
    pub incomplete: Option<String>,
}

pub mod cpio;
mod lz4_legacy;

use std::io::{self, BufRead, Read, Write};

use cpio::CpioSink;
pub use cpio::{normalise_name, Limits};

/// lz4 legacy magic `0x184C2102`, little-endian as stored.
const LZ4_LEGACY_MAGIC: [u8; 4] = [0x02, 0x21, 0x4C, 0x18];

/// Identify the member starting at `data` by its magic.
fn identify(data: &[u8]) -> Option<Compression> {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"070701") || starts(b"070702") {
        Some(Compression::None)
    } else if starts(&[0x1F, 0x8B]) {
        Some(Compression::Gzip)
    } else if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Compression::Xz)
    } else if starts(&[0x28, 0xB5, 0x2F, 0xFD]) {
        Some(Compression::Zstd)
    } else if starts(&LZ4_LEGACY_MAGIC) {
        Some(Compression::Lz4Legacy)
    } else if starts(&[0x04, 0x22, 0x4D, 0x18]) {
        Some(Compression::Lz4Frame)
    } else if starts(b"BZh") {
        Some(Compression::Bzip2)
    } else if starts(&[0x5D, 0x00, 0x00]) {
        Some(Compression::Lzma)
    } else {
        None
    }
}

/// Name a member that is not read, for the "incomplete" reason.
fn describe_unknown(data: &[u8]) -> String {
    if data.starts_with(b"070707") {
        "an odc (070707) cpio archive, which the kernel does not unpack".into()
    } else if data.starts_with(&[0xC7, 0x71]) || data.starts_with(&[0x71, 0xC7]) {
        "an old binary cpio archive, which the kernel does not unpack".into()
    } else if data.starts_with(&[0x89, b'L', b'Z', b'O']) {
        "an lzop-compressed member (lzop is not read)".into()
    } else if data.starts_with(b"hsqs") {
        "a squashfs image, not a cpio initramfs".into()
    } else if data.starts_with(b"MZ") {
        "a PE image (a unified kernel image?), not a cpio initramfs".into()
    } else if data.len() > 1081 && data.get(1080..1082) == Some(&[0x53, 0xEF]) {
        "an ext2 ramdisk image, not a cpio initramfs".into()
    } else {
        let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("unknown member format (first bytes {})", head.join(" "))
    }
}

/// A reader over a slice that counts the bytes its users consume.
struct Counting<'d> {
    data: &'d [u8],
    pos: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        self.pos += n;
        Ok(n)
    }
}

impl BufRead for Counting<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.data.get(self.pos..).unwrap_or_default())
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.data.len());
    }
}

/// Decompress one member into the sink; returns the compressed bytes used.
fn decompress(kind: Compression, data: &[u8], sink: &mut CpioSink<'_>) -> io::Result<usize> {
    let mut input = Counting { data, pos: 0 };
    match kind {
        // Uncompressed archives are written by the caller, not here.
        Compression::None => return Ok(0),
        Compression::Gzip => {
            let mut d = flate2::bufread::GzDecoder::new(&mut input);
            io::copy(&mut d, sink)?;
        }
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(&mut input)?.single_frame();
            // A window limit keeps a hostile frame from asking for gigabytes.
            d.window_log_max(27)?;
            io::copy(&mut d, sink)?;
        }
        Compression::Xz => {
            lzma_rs::xz_decompress(&mut input, sink).map_err(lzma_error)?;
        }
        Compression::Lzma => {
            let options = lzma_rs::decompress::Options {
                memlimit: Some(64 << 20),
                ..Default::default()
            };
            lzma_rs::lzma_decompress_with_options(&mut input, sink, &options)
                .map_err(lzma_error)?;
        }
        Compression::Bzip2 => {
            let mut d = bzip2::bufread::BzDecoder::new(&mut input);
            io::copy(&mut d, sink)?;
        }
        Compression::Lz4Frame => {
            let mut d = lz4_flex::frame::FrameDecoder::new(&mut input);
            io::copy(&mut d, sink)?;
        }
        Compression::Lz4Legacy => {
            lz4_legacy::decompress(&mut input, sink)?;
        }
    }
    sink.flush()?;
    Ok(input.pos)
}

fn lzma_error(e: lzma_rs::error::Error) -> io::Error {
    match e {
        lzma_rs::error::Error::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// List an initramfs held in `data`, keeping the small files for which
/// `wanted` returns true (called with normalised names).
///
/// Never fails: what could not be read is said in
/// [`InitrdListing::incomplete`], and everything listed before it is kept.
pub fn list(data: &[u8], limits: Limits, wanted: &dyn Fn(&str) -> bool) -> InitrdListing {
    let mut sink = CpioSink::new(limits, wanted);
    let mut listing = InitrdListing::default();
    let mut off = 0usize;
    let mut members = 0usize;
    loop {
        let rest = data.get(off..).unwrap_or_default();
        let zeros = rest.iter().take_while(|b| **b == 0).count();
        off += zeros;
        let rest = data.get(off..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        members += 1;
        if members > 1024 {
            listing.incomplete = Some("more than 1024 archive members".into());
            break;
        }
        let Some(kind) = identify(rest) else {
            listing.incomplete = Some(format!("at offset {off}: {}", describe_unknown(rest)));
            break;
        };
        let before = sink.entries.len();
        sink.reset_position();
        let used = if kind == Compression::None {
            sink.stop_at_trailer = true;
            let start = sink.total;
            let result = sink.write(rest);
            sink.stop_at_trailer = false;
            match (result, sink.archive_end) {
                (Ok(_), Some(end)) => Ok((end - start) as usize),
                (Ok(_), None) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "cpio archive ends without its TRAILER!!! entry",
                )),
                (Err(e), _) => Err(e),
            }
        } else {
            decompress(kind, rest, &mut sink).and_then(|used| {
                if sink.mid_entry() {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "decompressed cpio stream ends in the middle of an entry",
                    ))
                } else {
                    Ok(used)
                }
            })
        };
        listing.members.push(InitrdMember {
            offset: off as u64,
            compression: kind,
            entries: sink.entries.len() - before,
        });
        match used {
            Ok(used) if used > 0 => off += used,
            Ok(_) => {
                listing.incomplete = Some(format!("at offset {off}: member made no progress"));
                break;
            }
            Err(e) => {
                let reason = sink.error.clone().unwrap_or_else(|| e.to_string());
                listing.incomplete = Some(format!("member at offset {off} ({kind:?}): {reason}"));
                break;
            }
        }
    }
    listing.entries = std::mem::take(&mut sink.entries);
    listing.files = std::mem::take(&mut sink.files);
    listing
}
