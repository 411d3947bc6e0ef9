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
//! [`InitrdListing::incomplete`]; entries before it are kept. As in the
//! kernel, a compressed member must hold whole archives: one that ends
//! inside an entry is reported, not joined with the next member.
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
//! The file is read through positioned reads ([`list_from`]; [`list`] for
//! bytes already in memory) into a 1 MiB buffer, never whole. Every
//! decompressor reads through that buffer as a `BufRead` and consumes only
//! its own stream, which gives the next member's offset. lzma-rs reports
//! bytes after an xz footer or an LZMA end marker as an error although it
//! has consumed exactly its stream by then; that one error is taken as the
//! end of the member, so a member may follow any compression.
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
fn describe_unknown(data: &[u8], ext2: bool) -> String {
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
    } else if ext2 {
        "an ext2 ramdisk image, not a cpio initramfs".into()
    } else {
        let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("unknown member format (first bytes {})", head.join(" "))
    }
}

/// Positioned reads of the initramfs file: fill the buffer from the
/// offset, return the count (0 at the end).
pub type ReadAt<'a> = &'a dyn Fn(u64, &mut [u8]) -> io::Result<usize>;

/// Bytes read from the file per refill.
const CHUNK: usize = 1 << 20;

/// Bytes `fill_buf` offers whenever the file has them, so magics and the
/// lz4 legacy block sizes can be looked at without consuming.
const MIN_PEEK: usize = 16;

/// A buffered reader over positioned reads that knows its offset; the
/// decompressors consume exactly their own stream through it.
struct Stream<'a> {
    read_at: ReadAt<'a>,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    start: usize,
    end: usize,
    eof: bool,
}

impl<'a> Stream<'a> {
    fn new(read_at: ReadAt<'a>) -> Stream<'a> {
        Stream {
            read_at,
            buf: vec![0; CHUNK],
            base: 0,
            start: 0,
            end: 0,
            eof: false,
        }
    }

    fn position(&self) -> u64 {
        self.base + self.start as u64
    }
}

impl Read for Stream<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(avail.get(..n).unwrap_or_default());
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Stream<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.end - self.start < MIN_PEEK && !self.eof {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
            while self.end < MIN_PEEK {
                let at = self.base + self.end as u64;
                let n = (self.read_at)(at, self.buf.get_mut(self.end..).unwrap_or_default())?;
                if n == 0 {
                    self.eof = true;
                    break;
                }
                self.end = (self.end + n).min(self.buf.len());
            }
        }
        Ok(self.buf.get(self.start..self.end).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.end);
    }
}

/// Decompress one member into the sink; returns the compressed bytes used.
fn decompress(
    kind: Compression,
    input: &mut Stream<'_>,
    sink: &mut CpioSink<'_>,
) -> io::Result<()> {
    let input = &mut *input;
    match kind {
        // Uncompressed archives are written by the caller, not here.
        Compression::None => return Ok(()),
        Compression::Gzip => {
            let mut d = flate2::bufread::GzDecoder::new(&mut *input);
            io::copy(&mut d, sink)?;
        }
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(&mut *input)?.single_frame();
            // A window limit keeps a hostile frame from asking for gigabytes.
            d.window_log_max(27)?;
            io::copy(&mut d, sink)?;
        }
        Compression::Xz => {
            match lzma_rs::xz_decompress(input, sink) {
                Ok(()) => {}
                // lzma-rs refuses bytes after the stream footer, but has
                // consumed exactly the stream when it says so: the bytes
                // are the next member (or padding), read by the caller.
                Err(lzma_rs::error::Error::XzError(m))
                    if m == "Unexpected data after last XZ block" => {}
                Err(e) => return Err(lzma_error(e)),
            }
        }
        Compression::Lzma => {
            let options = lzma_rs::decompress::Options {
                memlimit: Some(64 << 20),
                ..Default::default()
            };
            match lzma_rs::lzma_decompress_with_options(input, sink, &options) {
                Ok(()) => {}
                // As for xz: the end marker was reached with the stream
                // consumed exactly; what follows is the next member.
                Err(lzma_rs::error::Error::LzmaError(m))
                    if m == "Found end-of-stream marker but more bytes are available" => {}
                Err(e) => return Err(lzma_error(e)),
            }
        }
        Compression::Bzip2 => {
            let mut d = bzip2::bufread::BzDecoder::new(&mut *input);
            io::copy(&mut d, sink)?;
        }
        Compression::Lz4Frame => {
            let mut d = lz4_flex::frame::FrameDecoder::new(&mut *input);
            io::copy(&mut d, sink)?;
        }
        Compression::Lz4Legacy => {
            lz4_legacy::decompress(input, sink)?;
        }
    }
    sink.flush()
}

fn lzma_error(e: lzma_rs::error::Error) -> io::Error {
    match e {
        lzma_rs::error::Error::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// List an initramfs held in `data` (see [`list_from`]).
pub fn list(data: &[u8], limits: Limits, wanted: &dyn Fn(&str) -> bool) -> InitrdListing {
    let read_at = |offset: u64, buf: &mut [u8]| -> io::Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let rest = data.get(start..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        Ok(n)
    };
    list_from(&read_at, limits, wanted)
}

/// List an initramfs read through `read_at`, keeping the small files for
/// which `wanted` returns true (called with normalised names).
///
/// Never fails: what could not be read is said in
/// [`InitrdListing::incomplete`], and everything listed before it is kept.
pub fn list_from(
    read_at: ReadAt<'_>,
    limits: Limits,
    wanted: &dyn Fn(&str) -> bool,
) -> InitrdListing {
    let mut sink = CpioSink::new(limits, wanted);
    let mut listing = InitrdListing::default();
    let mut stream = Stream::new(read_at);
    let mut members = 0usize;
    loop {
        // NUL padding between members.
        let head = loop {
            let buf = match stream.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    listing.incomplete =
                        Some(format!("read error at offset {}: {e}", stream.position()));
                    break None;
                }
            };
            let zeros = buf.iter().take_while(|b| **b == 0).count();
            if zeros == 0 || buf.is_empty() {
                break Some(
                    buf.get(..MIN_PEEK.min(buf.len()))
                        .unwrap_or_default()
                        .to_vec(),
                );
            }
            stream.consume(zeros);
        };
        let Some(head) = head else {
            break;
        };
        if head.is_empty() {
            break;
        }
        let off = stream.position();
        members += 1;
        if members > 1024 {
            listing.incomplete = Some("more than 1024 archive members".into());
            break;
        }
        let Some(kind) = identify(&head) else {
            let mut ext2 = [0u8; 2];
            let is_ext2 = matches!(read_at(off + 1080, &mut ext2), Ok(2)) && ext2 == [0x53, 0xEF];
            listing.incomplete = Some(format!(
                "at offset {off}: {}",
                describe_unknown(&head, is_ext2)
            ));
            break;
        };
        let before = sink.entries.len();
        sink.reset_position();
        let result = if kind == Compression::None {
            sink.stop_at_trailer = true;
            let mut result = Ok(());
            loop {
                let buf = match stream.fill_buf() {
                    Ok(b) => b,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                if buf.is_empty() {
                    result = Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "cpio archive ends without its TRAILER!!! entry",
                    ));
                    break;
                }
                match sink.write(buf) {
                    Ok(n) => stream.consume(n),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
                if sink.archive_end.is_some() {
                    break;
                }
            }
            sink.stop_at_trailer = false;
            result
        } else {
            decompress(kind, &mut stream, &mut sink).and_then(|()| {
                if sink.mid_entry() {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "decompressed cpio stream ends in the middle of an entry",
                    ))
                } else {
                    Ok(())
                }
            })
        };
        listing.members.push(InitrdMember {
            offset: off,
            compression: kind,
            entries: sink.entries.len() - before,
        });
        match result {
            Ok(()) if stream.position() > off => {}
            Ok(()) => {
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
