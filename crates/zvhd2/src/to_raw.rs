//! Converting a ZVHD2 file back to a RAW image.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use imsprep_disk::{extents, Disk, DiskError};

use crate::buffers::BufferPool;
use crate::control::Control;
use crate::error::Error;
use crate::output::Output;
use crate::pipeline;
use crate::reader::Reader;

/// Writes the first orig_size bytes of the virtual disk to a RAW file at
/// `out`, leaving holes where blocks are absent. Blocks are decompressed in
/// parallel, a bounded number at a time, and each worker writes its own
/// block with a positioned write, so the kernel's copy into the page cache
/// runs on every core instead of one. Zero pages inside present blocks are
/// not written either: the output starts as one hole, so they already read
/// as zeros and cost neither a copy nor disk space. The file appears only
/// when complete and synced. Returns the bytes written (orig_size);
/// progress is in virtual-disk bytes, reported in block order.
pub fn to_raw(
    reader: &Reader,
    out: &Path,
    overwrite: bool,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let f = reader.footer();
    let (orig, bs) = (f.orig_size, u64::from(f.block_size));
    let output = Output::create(out, overwrite)?;
    let werr = |e| Error::io(format!("writing {}", out.display()), e);
    let file = output.file();
    // Absent blocks stay holes: nothing is written there.
    file.set_len(orig).map_err(werr)?;
    let records = reader.records();
    let pool = BufferPool::new(bs as usize);
    pipeline::ordered(
        records.len(),
        pipeline::default_in_flight(),
        ctl,
        |k| {
            let block = records.get(k).map_or(0, |r| r.0);
            let mut buf = pool.take();
            reader.read_block(block, &mut buf)?;
            let start = u64::from(block) * bs;
            let n = orig.saturating_sub(start).min(bs) as usize;
            write_sparse(file, buf.get(..n).unwrap_or(&buf), start).map_err(werr)?;
            output.start_writeback(start, n as u64);
            Ok((block, buf))
        },
        |_, (block, buf)| {
            pool.give(buf);
            let start = u64::from(block) * bs;
            (ctl.progress)((start + bs).min(orig));
            Ok(())
        },
    )?;
    ctl.check()?;
    output.finish()?;
    (ctl.progress)(orig);
    Ok(orig)
}

/// Bytes of a disk one task of [`disk_to_raw`] reads and writes.
const CHUNK: u64 = 2 << 20;

/// Writes the first `len` bytes of any disk of the disk model (a qcow2,
/// VMDK, VHD, VHDX, VDI, ZVHD2 image or a block device) to a sparse RAW file
/// at `out`: chunks the disk's metadata records as empty are not read, the
/// rest are read on every core and written without their zero pages. The
/// file appears only when complete and synced. Returns the bytes written.
pub fn disk_to_raw(
    disk: &dyn Disk,
    len: u64,
    out: &Path,
    overwrite: bool,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let output = Output::create(out, overwrite)?;
    let werr = |e| Error::io(format!("writing {}", out.display()), e);
    let file = output.file();
    file.set_len(len).map_err(werr)?;
    let len = len.min(disk.size());
    let chunks = len.div_ceil(CHUNK);
    let pool = BufferPool::new(CHUNK as usize);
    pipeline::ordered(
        usize::try_from(chunks).unwrap_or(usize::MAX),
        pipeline::default_in_flight(),
        ctl,
        |i| read_chunk(disk, i as u64 * CHUNK, len, &pool),
        // One writer: buffered writes to one file take its inode lock, so
        // writers on several threads only wait for each other, and spin
        // doing so, taking the cores the readers need.
        |i, chunk| {
            let start = i as u64 * CHUNK;
            if let Some(buf) = chunk {
                write_sparse(file, &buf, start).map_err(werr)?;
                output.start_writeback(start, buf.len() as u64);
                pool.give(buf);
            }
            (ctl.progress)(((i as u64 + 1) * CHUNK).min(len));
            Ok(())
        },
    )?;
    ctl.check()?;
    check_disk_unchanged(disk)?;
    output.finish()?;
    (ctl.progress)(len);
    Ok(len)
}

/// Writes the first `len` bytes of `disk` as RAW to a stream (standard
/// output), in order; chunks are read on every core. `name` is for
/// messages.
pub fn disk_to_raw_stream(
    disk: &dyn Disk,
    len: u64,
    sink: &mut dyn Write,
    name: &str,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let werr = |e| Error::io(format!("writing {name}"), e);
    let len = len.min(disk.size());
    let chunks = len.div_ceil(CHUNK);
    let zeros = vec![0u8; CHUNK as usize];
    let pool = BufferPool::new(CHUNK as usize);
    pipeline::ordered(
        usize::try_from(chunks).unwrap_or(usize::MAX),
        pipeline::default_in_flight(),
        ctl,
        |i| read_chunk(disk, i as u64 * CHUNK, len, &pool),
        |i, chunk| {
            let start = i as u64 * CHUNK;
            let n = (len - start).min(CHUNK) as usize;
            match chunk {
                Some(buf) => {
                    sink.write_all(&buf).map_err(werr)?;
                    pool.give(buf);
                }
                None => sink.write_all(&zeros[..n]).map_err(werr)?,
            }
            (ctl.progress)(start + n as u64);
            Ok(())
        },
    )?;
    sink.flush().map_err(werr)?;
    ctl.check()?;
    check_disk_unchanged(disk)?;
    Ok(len)
}

/// The bytes `start..start + CHUNK` of `disk` (clipped to `len`) in a
/// buffer of `pool`, or `None` when its metadata says they are all zero.
fn read_chunk(
    disk: &dyn Disk,
    start: u64,
    len: u64,
    pool: &BufferPool,
) -> Result<Option<Vec<u8>>, Error> {
    let end = (start + CHUNK).min(len);
    let derr = |e: DiskError| {
        Error::io(
            format!("reading {}", disk.info().path.display()),
            std::io::Error::other(e),
        )
    };
    let runs = extents(disk, start, end).map_err(derr)?;
    if !runs.iter().any(|e| e.allocation.is_data()) {
        return Ok(None);
    }
    let mut buf = pool.take();
    // Only the last chunk is shorter; the pool restores the length.
    buf.truncate((end - start) as usize);
    if let Err(e) = disk.read_at(start, &mut buf) {
        pool.give(buf);
        return Err(derr(e));
    }
    Ok(Some(buf))
}

fn check_disk_unchanged(disk: &dyn Disk) -> Result<(), Error> {
    disk.check_unchanged().map_err(|e| match e {
        DiskError::Changed { detail, .. } => Error::SourceChanged { detail },
        other => Error::io("checking the source", std::io::Error::other(other)),
    })
}

/// Granularity of the zero-page skipping: the page size, which is also the
/// smallest hole most file systems keep.
const SPARSE_PAGE: usize = 4096;

/// Writes the non-zero pages of `data` at `offset` of a file that reads as
/// zeros there, one positioned write per run of non-zero pages.
fn write_sparse(file: &File, data: &[u8], offset: u64) -> std::io::Result<()> {
    let mut run: Option<usize> = None;
    let mut pos = 0usize;
    for page in data.chunks(SPARSE_PAGE) {
        let zero = imsprep_scan::is_zero(page);
        match (run, zero) {
            (None, false) => run = Some(pos),
            (Some(from), true) => {
                file.write_all_at(data.get(from..pos).unwrap_or(&[]), offset + from as u64)?;
                run = None;
            }
            _ => {}
        }
        pos += page.len();
    }
    if let Some(from) = run {
        file.write_all_at(data.get(from..).unwrap_or(&[]), offset + from as u64)?;
    }
    Ok(())
}

/// [`to_raw`] for a path: opens the ZVHD2 file first.
pub fn convert_to_raw(
    input: &Path,
    out: &Path,
    overwrite: bool,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let reader = Reader::open(input)?;
    to_raw(&reader, out, overwrite, ctl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_writes_skip_zero_pages_and_keep_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let len = 5 * SPARSE_PAGE + 100;
        file.set_len(len as u64 + 8192).unwrap();
        let mut data = vec![0u8; len];
        data[1] = 1; // page 0
        data[2 * SPARSE_PAGE + 7] = 2; // page 2
        data[3 * SPARSE_PAGE] = 3; // page 3, run continues
        data[len - 1] = 4; // the short last page
        write_sparse(&file, &data, 8192).unwrap();
        let back = std::fs::read(&path).unwrap();
        assert!(back[..8192].iter().all(|&b| b == 0));
        assert_eq!(&back[8192..], &data[..]);
    }
}
