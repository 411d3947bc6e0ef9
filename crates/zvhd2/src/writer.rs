//! Writing a ZVHD2 file from a block source, in the reference's layout.

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::buffers::BufferPool;
use crate::codec::{self, Compression};
use crate::control::Control;
use crate::error::Error;
use crate::footer::Footer;
use crate::layout::{
    max_payload_len, record_len, IndexEntry, RecordHeader, BITMAP_SEG_SIZE, BLOCKS_PER_BITMAP_SEG,
    DEFAULT_BLOCK_SIZE, ENTRIES_PER_INDEX_SEG, FOOTER_LEN, INDEX_SEG_SIZE, PAGE, RECORD_END,
    RECORD_HEADER_LEN, RECORD_MAGIC,
};
use crate::output::Output;
use crate::pipeline;
use crate::source::{BlockData, BlockSource, DiskSource};

/// How to write a ZVHD2 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Block size, a power of two from 1 MiB to 32 MiB. The reference and
    /// IMS use 2 MiB; other sizes are for tests.
    pub block_size: u32,
    /// Block compression (zstd level 3 by default, like the reference).
    pub compression: Compression,
    /// Replace an existing output file.
    pub overwrite: bool,
    /// Fixed footer uuid (random when `None`); for reproducible output.
    pub uuid: Option<[u8; 16]>,
    /// Fixed footer timestamp, seconds since 2000-01-01 UTC (now when `None`).
    pub timestamp: Option<u32>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            block_size: DEFAULT_BLOCK_SIZE,
            compression: Compression::default(),
            overwrite: false,
            uuid: None,
            timestamp: None,
        }
    }
}

/// What the writer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// The tail footer written.
    pub footer: Footer,
    /// Length of the output file.
    pub file_len: u64,
}

/// Seconds from the Unix epoch to 2000-01-01 00:00:00 UTC.
const Y2K: u64 = 946_684_800;

/// Now, in footer timestamp units (seconds since 2000-01-01 UTC).
pub fn vhd_timestamp_now() -> u32 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    u32::try_from(unix.saturating_sub(Y2K)).unwrap_or(u32::MAX)
}

/// Converts the RAW image at `raw` to a ZVHD2 file at `out`.
pub fn convert_raw(
    raw: &Path,
    out: &Path,
    opts: &WriteOptions,
    ctl: &Control<'_>,
) -> Result<WriteSummary, Error> {
    let disk = imsprep_disk::RawDisk::open(raw).map_err(|e| match e {
        imsprep_disk::DiskError::Io { action, source, .. } => {
            Error::io(format!("{action} {}", raw.display()), source)
        }
        other => Error::io(
            format!("opening {}", raw.display()),
            std::io::Error::other(other),
        ),
    })?;
    write(&DiskSource::new(&disk), out, opts, ctl)
}

/// Writes the disk `source` describes to a ZVHD2 file at `out`.
///
/// Non-zero blocks are compressed on the rayon pool and written in
/// ascending order by the calling thread with a bounded number of blocks in
/// flight. The file appears at `out` only when complete and synced; an
/// error or cancellation leaves nothing behind. Progress is in source bytes.
pub fn write(
    source: &dyn BlockSource,
    out: &Path,
    opts: &WriteOptions,
    ctl: &Control<'_>,
) -> Result<WriteSummary, Error> {
    let c = check_options(opts)?;
    write_with(source, out, opts, ctl, &|_, src, dst| {
        codec::compress(c, src, dst)
    })
}

/// The compression of `opts`, when its level is one zstd has.
fn check_options(opts: &WriteOptions) -> Result<Compression, Error> {
    let c = opts.compression;
    if let Compression::Zstd { level } = c {
        if !(0..=22).contains(&level) {
            return Err(Error::InvalidOption(format!(
                "zstd level {level} is not in 0..=22"
            )));
        }
    }
    Ok(c)
}

/// Compresses block `n` (first argument) into the vector.
pub(crate) type CompressFn<'a> = dyn Fn(u64, &[u8], &mut Vec<u8>) -> Result<(), String> + Sync + 'a;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// [`write`] with the compressor supplied, so tests can substitute the
/// reference's payloads and compare layouts byte for byte.
pub(crate) fn write_with(
    source: &dyn BlockSource,
    out: &Path,
    opts: &WriteOptions,
    ctl: &Control<'_>,
    compress: &CompressFn<'_>,
) -> Result<WriteSummary, Error> {
    let output = Output::create(out, opts.overwrite)?;
    let mut file = output.sequential();
    let summary = write_body(
        source,
        &mut file,
        &out.display().to_string(),
        opts,
        ctl,
        compress,
    )?;
    ctl.check()?;
    source.check_unchanged()?;
    output.finish()?;
    (ctl.progress)(source.size());
    Ok(summary)
}

/// Writes the disk `source` describes as a ZVHD2 stream to `sink` (standard
/// output, a pipe): the format is written front to back, records first and
/// the index, bitmap and tail footer last, so it needs no seeking. Nothing
/// can be taken back from a stream: an error after the first bytes leaves
/// a truncated stream, which `verify` refuses. `name` is for messages.
pub fn write_stream(
    source: &dyn BlockSource,
    sink: &mut dyn Write,
    name: &str,
    opts: &WriteOptions,
    ctl: &Control<'_>,
) -> Result<WriteSummary, Error> {
    let c = check_options(opts)?;
    let summary = write_body(source, sink, name, opts, ctl, &|_, src, dst| {
        codec::compress(c, src, dst)
    })?;
    ctl.check()?;
    source.check_unchanged()?;
    (ctl.progress)(source.size());
    Ok(summary)
}

/// The ZVHD2 bytes of `source`, in order, to `sink`.
fn write_body(
    source: &dyn BlockSource,
    sink: &mut dyn Write,
    name: &str,
    opts: &WriteOptions,
    ctl: &Control<'_>,
    compress: &CompressFn<'_>,
) -> Result<WriteSummary, Error> {
    let size = source.size();
    let uuid = opts
        .uuid
        .unwrap_or_else(|| *uuid::Uuid::new_v4().as_bytes());
    let timestamp = opts.timestamp.unwrap_or_else(vhd_timestamp_now);
    let head = Footer::new_head(
        size,
        opts.block_size,
        opts.compression.method(),
        timestamp,
        uuid,
    )?;
    let bs = opts.block_size as usize;
    let blocks = head.max_blk_num;
    let werr = |e| Error::io(format!("writing {name}"), e);
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let mut pos = 0u64;
    write_page(&mut w, &head, &mut pos).map_err(werr)?;

    // The head footer leaves the segment counts zero; the tail's are these.
    let bitmap_seg_num = blocks.div_ceil(BLOCKS_PER_BITMAP_SEG);
    let mut bitmap = vec![0u8; bitmap_seg_num as usize * BITMAP_SEG_SIZE as usize];
    let mut entries: Vec<IndexEntry> = Vec::new();
    // Payload buffers: emptied by the compressor, their capacity reused.
    let pool = BufferPool::new(0);
    let pad = [0u8; PAGE as usize];
    pipeline::ordered(
        blocks as usize,
        pipeline::default_in_flight(),
        ctl,
        |i| -> Result<Option<Vec<u8>>, Error> {
            INPUT.with(|cell| {
                let mut input = cell.borrow_mut();
                input.resize(bs, 0);
                let found = source.read_block(i as u64, bs, &mut input).map_err(|e| {
                    // A source that ends early has most likely been cut short
                    // meanwhile; say so when it can tell.
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        if let Err(changed) = source.check_unchanged() {
                            return changed;
                        }
                    }
                    Error::io(format!("reading block {i} of the source"), e)
                })?;
                if found == BlockData::Zero {
                    return Ok(None);
                }
                let mut buf = pool.take();
                compress(i as u64, &input, &mut buf).map_err(|detail| Error::Compress {
                    block: i as u64,
                    detail,
                })?;
                // A reader refuses a longer record as damage; never write one.
                let limit = max_payload_len(opts.block_size);
                if buf.len() as u64 > limit {
                    return Err(Error::Compress {
                        block: i as u64,
                        detail: format!(
                            "the payload is {} bytes, more than the {limit} the format allows \
                             for a {bs}-byte block",
                            buf.len()
                        ),
                    });
                }
                Ok(Some(buf))
            })
        },
        |i, payload| {
            if let Some(payload) = payload {
                let len = u32::try_from(payload.len()).map_err(|_| Error::Compress {
                    block: i as u64,
                    detail: "payload longer than 4 GiB".into(),
                })?;
                let rec = record_len(payload.len() as u64).unwrap_or(u64::MAX);
                let header = RecordHeader {
                    magic: RECORD_MAGIC,
                    payload_len: len,
                    block: i as u32,
                };
                w.write_all(&header.to_bytes()).map_err(werr)?;
                w.write_all(&payload).map_err(werr)?;
                let gap = rec as usize - RECORD_HEADER_LEN - payload.len() - RECORD_END.len();
                w.write_all(&pad[..gap]).map_err(werr)?;
                w.write_all(&RECORD_END).map_err(werr)?;
                entries.push(IndexEntry {
                    offset: pos,
                    block: i as u32,
                    len: rec as u32,
                });
                pos += rec;
                if let Some(b) = bitmap.get_mut(i / 8) {
                    *b |= 1 << (i % 8);
                }
                pool.give(payload);
            }
            (ctl.progress)(((i as u64 + 1) * bs as u64).min(size));
            Ok(())
        },
    )?;
    ctl.check()?;

    let nz = entries.len() as u32;
    let mut copy = head.clone();
    copy.non_zero_blk_num = nz;
    copy.seal();
    write_page(&mut w, &copy, &mut pos).map_err(werr)?;

    let mut tail = copy.clone();
    tail.index_seg_num = nz.div_ceil(ENTRIES_PER_INDEX_SEG);
    tail.index_size = tail.index_seg_num * INDEX_SEG_SIZE;
    tail.index_seg_size = INDEX_SEG_SIZE;
    tail.bitmap_seg_num = bitmap_seg_num;
    tail.bitmap_size = tail.bitmap_seg_num * BITMAP_SEG_SIZE;
    tail.bitmap_seg_size = BITMAP_SEG_SIZE;
    tail.index_lba = pos;
    tail.bitmap_lba = pos + u64::from(tail.index_size);
    tail.seal();

    for e in &entries {
        w.write_all(&e.to_bytes()).map_err(werr)?;
    }
    let mut unused = u64::from(tail.index_size) - entries.len() as u64 * 16;
    while unused > 0 {
        let n = unused.min(PAGE) as usize;
        w.write_all(&pad[..n]).map_err(werr)?;
        unused -= n as u64;
    }
    w.write_all(&bitmap).map_err(werr)?;
    pos = tail.bitmap_lba + bitmap.len() as u64;
    write_page(&mut w, &tail, &mut pos).map_err(werr)?;
    w.flush().map_err(werr)?;
    Ok(WriteSummary {
        footer: tail,
        file_len: pos,
    })
}

/// Writes a footer followed by zero padding to a whole page.
fn write_page(w: &mut impl Write, f: &Footer, pos: &mut u64) -> std::io::Result<()> {
    w.write_all(&f.to_bytes())?;
    w.write_all(&[0u8; PAGE as usize - FOOTER_LEN])?;
    *pos += PAGE;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The writer's layout against the reference vectors, byte for byte.
    //!
    //! The bundled libzstd (1.5.7) compresses some blocks differently from
    //! the reference's 1.5.4, and miniz differs from zlib, so these tests
    //! feed the writer the reference's own payloads; everything else it
    //! writes must then equal the reference file, except the footer-copy
    //! checksum (stale in the reference) and the leftover bytes the
    //! reference leaves between a payload and its `end` marker.

    use super::*;
    use crate::layout::RecordHeader;
    use std::collections::HashMap;
    use std::os::unix::fs::FileExt;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/zvhd2")
    }

    /// Payload of each block of a reference file, from its records.
    fn reference_payloads(bytes: &[u8]) -> HashMap<u64, Vec<u8>> {
        let mut map = HashMap::new();
        let mut off = PAGE as usize;
        while let Some(h) = RecordHeader::parse(&bytes[off..]) {
            if h.magic != RECORD_MAGIC {
                break;
            }
            let len = h.payload_len as usize;
            map.insert(u64::from(h.block), bytes[off + 48..off + 48 + len].to_vec());
            off += record_len(len as u64).unwrap() as usize;
        }
        map
    }

    /// Byte ranges where the reference may hold leftovers or a stale checksum.
    fn masked_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        let mut off = PAGE as usize;
        while let Some(h) = RecordHeader::parse(&bytes[off..]) {
            if h.magic != RECORD_MAGIC {
                break;
            }
            let len = h.payload_len as usize;
            let rec = record_len(len as u64).unwrap() as usize;
            ranges.push(off + 48 + len..off + rec - 4);
            off += rec;
        }
        // `off` is now the footer copy page.
        ranges.push(off + 64..off + 68);
        ranges
    }

    fn sparse_gib_plus_one(dir: &Path) -> PathBuf {
        let path = dir.join("gib.raw");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len((1 << 30) + 1).unwrap();
        let mut text = Vec::new();
        let mut i = 0;
        while text.len() < 4096 {
            text.extend_from_slice(format!("imsprep vector g line {i}\n").as_bytes());
            i += 1;
        }
        f.write_all_at(&text[..4096], 0).unwrap();
        f.write_all_at(&[1], 1 << 30).unwrap();
        path
    }

    #[test]
    fn layout_equals_the_reference_with_its_payloads() {
        let tmp = tempfile::tempdir().unwrap();
        let gib = sparse_gib_plus_one(tmp.path());
        let cases = [
            ("mixed.zvhd2", fixtures().join("mixed.raw")),
            ("mixed-zlib.zvhd2", fixtures().join("mixed.raw")),
            ("zeros.zvhd2", fixtures().join("zeros.raw")),
            (
                "exact-two-blocks.zvhd2",
                fixtures().join("exact-two-blocks.raw"),
            ),
            (
                "unaligned-size.zvhd2",
                fixtures().join("unaligned-size.raw"),
            ),
            ("gib-plus-one.zvhd2", gib),
        ];
        for (name, raw) in cases {
            let reference = std::fs::read(fixtures().join(name)).unwrap();
            let head = Footer::decode(&reference).unwrap();
            let payloads = reference_payloads(&reference);
            let opts = WriteOptions {
                compression: if head.compress_method == 0 {
                    Compression::Zlib
                } else {
                    Compression::Zstd { level: 3 }
                },
                uuid: Some(head.uuid),
                timestamp: Some(head.timestamp),
                ..WriteOptions::default()
            };
            let out = tmp.path().join(format!("{name}.ours"));
            let disk = imsprep_disk::RawDisk::open(&raw).unwrap();
            let source = DiskSource::new(&disk);
            let summary = write_with(&source, &out, &opts, &Control::default(), &|n, src, dst| {
                // The block the writer compresses is the one the reference did.
                let mut back = vec![0u8; src.len()];
                codec::decompress(head.compress_method, &payloads[&n], &mut back).unwrap();
                assert!(back == src, "{name}: block {n} content");
                dst.clear();
                dst.extend_from_slice(&payloads[&n]);
                Ok(())
            })
            .unwrap();
            let mut ours = std::fs::read(&out).unwrap();
            assert_eq!(ours.len(), reference.len(), "{name}: length");
            assert_eq!(summary.file_len, ours.len() as u64);
            let mut theirs = reference.clone();
            for r in masked_ranges(&reference) {
                ours[r.clone()].fill(0);
                theirs[r].fill(0);
            }
            if let Some(i) = (0..ours.len()).find(|&i| ours[i] != theirs[i]) {
                panic!("{name}: first difference at byte {i}");
            }
        }
    }

    #[test]
    fn a_payload_past_the_format_bound_fails_and_leaves_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x.zvhd2");
        let disk = imsprep_disk::RawDisk::open(&fixtures().join("mixed.raw")).unwrap();
        let opts = WriteOptions::default();
        let limit = max_payload_len(opts.block_size) as usize;
        let r = write_with(
            &DiskSource::new(&disk),
            &out,
            &opts,
            &Control::default(),
            &|_, _, dst| {
                dst.clear();
                dst.resize(limit + 1, 7);
                Ok(())
            },
        );
        match r {
            Err(Error::Compress { detail, .. }) => {
                assert!(detail.contains("more than"), "{detail}")
            }
            other => panic!("expected a compression error, got {other:?}"),
        }
        assert!(!out.exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn writes_a_valid_footer_copy_checksum() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x.zvhd2");
        let disk = imsprep_disk::RawDisk::open(&fixtures().join("exact-two-blocks.raw")).unwrap();
        write(
            &DiskSource::new(&disk),
            &out,
            &WriteOptions::default(),
            &Control::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let tail = Footer::parse_at(&bytes[bytes.len() - 4096..], 0).unwrap();
        let copy_at = tail.index_lba as usize - 4096;
        let copy = Footer::parse_at(&bytes[copy_at..], 0).unwrap();
        assert_eq!(copy.non_zero_blk_num, 2);
        assert_eq!(copy.index_lba, 0);
        assert!(bytes[copy_at + 512..copy_at + 4096].iter().all(|&b| b == 0));
    }
}
